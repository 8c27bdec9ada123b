"""Runs on disk: find, list, show, compare and export them.

    for run in list_runs("runs"):
        print(run.run_id, run.status)
    show_run("latest")["headline"]          # headline metrics with CIs
    compare_runs("quickstart-2026", "latest").rows
    export_run("latest", "parquet")         # runs/<id>/export/*.parquet
"""

from personascope.runs._compare import Comparison, MetricPair, compare_runs
from personascope.runs._export import FORMATS, export_run
from personascope.runs._find import list_run_dirs, resolve_run
from personascope.runs._summary import RunSummary, list_runs, show_run

__all__ = [
    "FORMATS",
    "Comparison",
    "MetricPair",
    "RunSummary",
    "compare_runs",
    "export_run",
    "list_run_dirs",
    "list_runs",
    "resolve_run",
    "show_run",
]
