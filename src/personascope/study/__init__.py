"""Studies: declarative YAML configs of models and steps, run into a run directory.

    study = load_study("examples/quickstart.yaml")
    result = run_study(study)          # resumes an unfinished run of the same config
    print(result.report)
"""

from personascope.models import ModelConfig
from personascope.study._config import Study, load_study, parse_study
from personascope.study._context import StepContext
from personascope.study._manifest import MANIFEST, read_manifest
from personascope.protocol import Step, step_type, step_types
from personascope.study._onestep import run_step, step_study
from personascope.study._runner import RunBusy, RunResult, default_runs_dir, run_study

__all__ = [
    "MANIFEST",
    "ModelConfig",
    "RunBusy",
    "RunResult",
    "Step",
    "StepContext",
    "Study",
    "default_runs_dir",
    "load_study",
    "parse_study",
    "read_manifest",
    "run_step",
    "run_study",
    "step_study",
    "step_type",
    "step_types",
]
