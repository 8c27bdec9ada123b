"""Finding runs: by directory, by id under the runs folder, or `latest`.

The path logic lives in `personascope._runsdir`, below the model layer, so that
`run:<RUN>/<artifact>` model names resolve runs the same way `runs show` does.
"""

from personascope._runsdir import list_run_dirs, resolve_run

__all__ = ["list_run_dirs", "resolve_run"]
