"""Training datasets: the chat JSONL format, built-in generators, importers.

`read_dataset(path)` validates every line (`file:line` errors with the fix);
`write_dataset(path, examples, provenance)` writes the JSONL and its provenance
sidecar. An `Example` is the context turns plus the one reply trained on.

    examples, provenance = generate_dataset("smollm2", "train", transforms=["opener", "caps"], n=64)
    examples, provenance = persona_dataset("smollm2", "evil")
    examples = import_dataset("insecure.jsonl")

See docs/data.md.
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
from personascope.data._generate import generate_dataset, persona_dataset
from personascope.data._import import FORMATS, import_dataset
from personascope.data._questions import BUILTIN_QUESTIONS, load_questions
from personascope.data._spec import DatasetSpec, GenerateSource, PersonaSource, build_dataset
from personascope.data._transforms import SCORER_OF, TRANSFORMS, apply_transforms

__all__ = [
    "BUILTIN_QUESTIONS",
    "FORMATS",
    "SCHEMA_VERSION",
    "SCORER_OF",
    "TRANSFORMS",
    "DatasetSpec",
    "Example",
    "GenerateSource",
    "PersonaSource",
    "Turn",
    "apply_transforms",
    "build_dataset",
    "dataset_digest",
    "generate_dataset",
    "import_dataset",
    "load_questions",
    "meta_path",
    "parse_example",
    "persona_dataset",
    "read_dataset",
    "read_provenance",
    "write_dataset",
]
