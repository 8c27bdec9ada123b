"""Training datasets: the chat JSONL format, built-in generators, importers.

`read_dataset(path)` validates every line (`file:line` errors with the fix);
`write_dataset(path, examples, provenance)` writes the JSONL and its provenance
sidecar. An `Example` is the context turns plus the one reply trained on.
"""

from personascope.data._format import (
    SCHEMA_VERSION,
    Example,
    Turn,
    dataset_digest,
    meta_path,
    parse_example,
    read_dataset,
    read_provenance,
    write_dataset,
)

__all__ = [
    "SCHEMA_VERSION",
    "Example",
    "Turn",
    "dataset_digest",
    "meta_path",
    "parse_example",
    "read_dataset",
    "read_provenance",
    "write_dataset",
]
