"""`train`: finetune one base model in several arms and seeds on one dataset, then
evaluate every trained model under several prompt contexts.

The arms are the experiment: plain SFT, inoculation (a prompt asking for the
trait), its controls (a placebo of the same length, an arbitrary fixed prompt),
recontextualization, preventative steering, KL to the base, multi-stage training.
Each model lands at `artifacts/<step>/<arm>/seed<k>/model`, so
`run:<RUN>/<step>/<arm>/seed<k>/model` names it everywhere.
"""

import re
from pathlib import Path

from pydantic import Field, model_validator

from personascope.data import DatasetSpec
from personascope.protocol import Step, spec_vector_name, step_type
from personascope.train._config import Arm, Method, TrainArgs, training_order
from personascope.train._evaluate import EvalConfig
from personascope.train._monitor import MonitorConfig

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@step_type("train")
class TrainStep(Step):
    """Train arms x seeds on a dataset, monitor checkpoints, evaluate the results."""

    white_box = True
    result_name = "result"

    dataset: DatasetSpec
    """The training data: {path: FILE} (chat JSONL), {generate: {...}} or {persona: {...}}."""
    arms: dict[str, Arm] = Field(default_factory=lambda: {"plain": Arm()})
    """Training conditions by name (letters, digits, - and _); effects are measured against `reference`."""
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    """Training seeds: every arm is trained once per seed (CIs run over prompts and seeds)."""
    method: Method = Field(default_factory=Method)
    """Default method of every arm (an arm's `method:` changes parts of it)."""
    args: TrainArgs = Field(default_factory=TrainArgs)
    """Default training arguments of every arm (an arm's `args:` changes parts of them)."""
    monitor: MonitorConfig | None = None
    """Checkpoint monitoring (every, prompts, scorers, vectors); None: off."""
    evaluate: EvalConfig = Field(default_factory=EvalConfig)
    """Evaluation after training (prompts, scorers, conditions)."""
    reference: str | None = None
    """The arm effects and retention are measured against (default: `plain` if there is one, else the first arm)."""

    @model_validator(mode="after")
    def _check(self) -> "TrainStep":
        if not self.arms:
            raise ValueError("arms is empty: give at least one arm (e.g. plain: {})")
        bad = [name for name in self.arms if not _NAME.match(name)]
        if bad:
            raise ValueError(f"arm name(s) {', '.join(map(repr, bad))}: use letters, digits, - and _ (they name folders)")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds {self.seeds} repeat a seed")
        if "base" in self.arms and self.evaluate.base:
            raise ValueError("arm name 'base' is the untrained model's when evaluate.base is on: name the arm otherwise")
        if self.reference is not None and self.reference not in self.arms:
            raise ValueError(f"reference {self.reference!r} is not an arm: use one of {', '.join(self.arms)}")
        try:
            training_order(self.arms)
        except Exception as exc:  # PersonascopeError: shown as this field's error
            raise ValueError(str(exc)) from None
        regen = [name for name, arm in self.arms.items() if arm.regenerate_system is not None]
        if regen and getattr(self.dataset, "path", None) is not None:
            raise ValueError(
                f"arms.{regen[0]}.regenerate_system regenerates the completions, but the dataset is a file "
                "(fix: use a generate: or persona: dataset, or drop regenerate_system)"
            )
        for name in regen:
            if self.arms[name].init_from is not None:
                raise ValueError(f"arms.{name}: regenerate_system and init_from do not combine (train the stages apart)")
        return self

    @property
    def reference_arm(self) -> str:
        return self.reference or ("plain" if "plain" in self.arms else next(iter(self.arms)))

    def references(self) -> set[str]:
        specs = [s for arm in self.arms.values() for s in arm.steer]
        specs += list(getattr(self.monitor, "vectors", None) or []) + list(self.evaluate.vectors)
        return {spec_vector_name(s) for s in specs}

    def input_files(self, ctx) -> list[Path]:
        files = []
        path = getattr(self.dataset, "path", None)
        if path is not None:
            files.append(ctx.resolve(path))
        return files + [ctx.vector_path(name) for name in sorted(self.references() - ctx.step_ids())]

    def cache_parts(self, ctx) -> dict:
        """The built-in data the dataset and evaluation read (question sets, lexicons):
        editing it must not reuse old models."""
        import hashlib
        from importlib import resources

        h = hashlib.sha256()
        for package, folder in (("personascope.data", "questions"), ("personascope.train", "data")):
            root = resources.files(package) / folder
            if root.is_dir():
                for path in sorted((p for p in Path(str(root)).rglob("*") if p.is_file()), key=str):
                    h.update(str(path.relative_to(Path(str(root)))).encode() + path.read_bytes())
        return {"builtin_data": h.hexdigest()}

    def run(self, ctx) -> None:
        from personascope.train._steprun import run_train

        run_train(self, ctx)
