"""`export_run`: a run's tables as CSV or Parquet files, written by DuckDB.

Rows go to DuckDB as a JSON-lines staging file read with a fixed schema: far
faster than row-by-row inserts, and an empty table still gets its typed columns.
"""

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from personascope.errors import PersonascopeError
from personascope.runs._find import resolve_run
from personascope.runs._read import open_store, store_errors

FORMATS = ("csv", "parquet")

# Every table starts with run_id so exports of several runs can be read as one
# (`read_parquet('runs/*/export/metrics.parquet')`). JSON columns stay JSON text.
TABLES: dict[str, dict[str, str]] = {
    "transcripts": {
        "run_id": "VARCHAR", "step": "VARCHAR", "id": "VARCHAR", "model": "VARCHAR", "arm": "VARCHAR",
        "sample": "VARCHAR", "messages": "VARCHAR", "output": "VARCHAR", "scores": "VARCHAR", "metadata": "VARCHAR",
    },
    "scores": {
        "run_id": "VARCHAR", "step": "VARCHAR", "id": "VARCHAR", "model": "VARCHAR", "arm": "VARCHAR",
        "sample": "VARCHAR", "score": "VARCHAR", "value": "DOUBLE",
    },
    "metrics": {
        "run_id": "VARCHAR", "step": "VARCHAR", "name": "VARCHAR", "arm": "VARCHAR", "model": "VARCHAR",
        "value": "DOUBLE", "ci_low": "DOUBLE", "ci_high": "DOUBLE", "n": "BIGINT", "headline": "BOOLEAN",
    },
    "artifacts": {
        "run_id": "VARCHAR", "step": "VARCHAR", "name": "VARCHAR", "kind": "VARCHAR", "path": "VARCHAR",
        "metadata": "VARCHAR",
    },
}
_JSON_COLUMNS = {"messages", "scores", "metadata"}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _number(value: Any) -> float | None:
    # Scores are numbers by contract; anything else (a failed judge's None, a label)
    # is kept as a row with no value rather than dropped, so failures stay countable.
    if isinstance(value, bool | int | float):
        return float(value)
    return None


def _flatten(scores: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, float | None]]:
    for name, value in scores.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", _number(value)


def _rows(run_id: str, tables: dict[str, list[dict]]) -> dict[str, Iterable[dict]]:
    def encoded(rows: list[dict]) -> Iterator[dict]:
        for row in rows:
            yield {"run_id": run_id, **{k: _json(v) if k in _JSON_COLUMNS else v for k, v in row.items()}}

    def scores() -> Iterator[dict]:
        for t in tables["transcripts"]:
            keys = {k: t[k] for k in ("step", "id", "model", "arm", "sample")}
            for name, value in _flatten(t["scores"]):
                yield {"run_id": run_id, **keys, "score": name, "value": value}

    return {
        "transcripts": encoded(tables["transcripts"]),
        "scores": scores(),
        "metrics": encoded(tables["metrics"]),
        "artifacts": encoded(tables["artifacts"]),
    }


def _sql_string(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _copy(con, staging: Path, name: str, rows: Iterable[dict], fmt: str, target: Path) -> None:
    columns = TABLES[name]
    source = staging / f"{name}.jsonl"
    with source.open("w", encoding="utf-8") as fh:
        for row in rows:
            # allow_nan: a NaN score is data (DuckDB reads NaN back as a double NaN).
            fh.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False, allow_nan=True) + "\n")
    struct = "{" + ", ".join(f"{_sql_string(c)}: {_sql_string(t)}" for c, t in columns.items()) + "}"
    select = ", ".join(f'"{c}"' for c in columns)
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER"
    tmp = staging / target.name
    con.execute(
        f"COPY (SELECT {select} FROM read_json({_sql_string(source)}, format='newline_delimited', "
        f"columns={struct}, maximum_object_size=1073741824)) TO {_sql_string(tmp)} ({options})"
    )
    # Readers of the export folder see the old file or the new one, never half of one.
    os.replace(tmp, target)


def export_run(
    ref: str | Path, fmt: str, out: str | Path | None = None, runs_dir: str | Path | None = None
) -> list[Path]:
    """Write the run's tables (transcripts, scores, metrics, artifacts) as `fmt` files.

    `fmt` is csv or parquet; `out` defaults to `<run_dir>/export/`. `scores` is the
    transcripts' scores in long form, one row per (transcript, score). Returns the
    paths written, one per table.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise PersonascopeError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    try:
        import duckdb
    except ImportError:
        raise PersonascopeError("runs export needs DuckDB: pip install duckdb") from None
    run_dir = resolve_run(ref, runs_dir)
    store = open_store(run_dir)
    with store_errors(run_dir):
        tables = store.tables()
    out = Path(out) if out is not None else run_dir / "export"
    if out.exists() and not out.is_dir():
        raise PersonascopeError(f"--out {out} is a file: give a directory to write the export into")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    # Staging inside `out` keeps the final rename on one filesystem, hence atomic.
    with tempfile.TemporaryDirectory(dir=out, prefix=".export-") as staging:
        con = duckdb.connect()
        try:
            for name, rows in _rows(run_dir.name, tables).items():
                target = out / f"{name}.{fmt}"
                _copy(con, Path(staging), name, rows, fmt, target)
                written.append(target)
        finally:
            con.close()
    return written
