"""`eval`: an evaluation suite (docs/evals.md) on each model, in one or more arms.

`EvalStep` is the protocol: `run_eval`, a study's `eval` step and `personascope
eval` all validate through it and run `execute`. Judges read answers with the
*unsteered* judge model, so that steering the model under test never changes the ruler.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from personascope.errors import PersonascopeError
from personascope.protocol import Arm, Step, default_arms, spec_vector_name, step_type

if TYPE_CHECKING:
    from personascope.evals._result import EvalResult
    from personascope.evals._suite import Suite

@step_type("eval")
class EvalStep(Step):
    """Run an evaluation suite; arms compare plain, steered or capped models."""

    suite: str
    """Suite name: trait, misalignment, self-identity, distress, psychometrics, mwe."""
    options: dict[str, Any] = Field(default_factory=dict)
    """The suite's own options (e.g. `trait: evil`); file paths are relative to the config."""
    arms: dict[str, Arm] = Field(default_factory=default_arms)
    """Conditions by name; differences are reported against the first."""
    system: str | None = None
    """System prompt for every arm that sets none (replaces the items' own)."""
    limit: int | None = Field(None, ge=1)
    """Use only the suite's first N items (suites spread them over their groups)."""
    judge_model: str | None = None
    """A model alias of the study, or a model name; default: each evaluated model, unsteered."""
    max_tokens: int | None = Field(None, ge=1)
    """Answer length; default: the suite's."""
    samples: int = Field(1, ge=1)
    """Answers per item (more than one needs temperature > 0)."""
    temperature: float = Field(0.0, ge=0.0)
    """0 decodes greedily."""
    prefix: list[dict[str, Any]] = Field(default_factory=list)
    """Messages before every item's own (an earlier conversation the answers should
    follow); a system prompt of the arm or item replaces its system message."""

    _suite: "Suite | None" = PrivateAttr(None)
    """A suite object given to `run_eval` instead of a registered name."""

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> "EvalStep":
        from personascope import registry
        from personascope.evals import list_suites

        given = (info.context or {}).get("suite")
        if given is not None:
            self._suite = given
        elif registry.is_ref(self.suite):  # a suite of the user's, `module:Class`
            try:
                self.get_suite()
            except PersonascopeError as exc:
                raise ValueError(str(exc)) from None
        elif self.suite not in list_suites():
            raise ValueError(f"unknown suite {self.suite!r}: choose from {', '.join(list_suites())}, or module:Class")
        if self.samples > 1 and self.temperature == 0:
            raise ValueError("samples > 1 with temperature 0 repeats the same greedy answer: set temperature > 0")
        if not self.arms:
            raise ValueError("arms is empty: leave it out for one default arm")
        return self

    def get_suite(self) -> "Suite":
        from personascope.evals._suite import get_suite

        return self._suite if self._suite is not None else get_suite(self.suite)

    def references(self) -> set[str]:
        return {spec_vector_name(s) for arm in self.arms.values() for _, s in arm.specs()}

    def _options(self, base_dir: Path) -> dict[str, Any]:
        """Options with file paths resolved against the config's folder (where such a
        file exists; built-in names stay as they are). List options resolve per entry."""

        def resolve(value):
            if isinstance(value, list):
                return [resolve(v) for v in value]
            if isinstance(value, str) and value and (base_dir / value).expanduser().exists():
                return str((base_dir / value).expanduser().resolve())
            return value

        out = dict(self.options)
        for name in self.get_suite().paths:
            if name in out:
                out[name] = resolve(out[name])
        return out

    def input_files(self, ctx) -> list[Path]:
        opts = self._options(ctx.base_dir)
        files: list[Path] = []
        for name in self.get_suite().paths:
            values = opts.get(name)
            for value in values if isinstance(values, list) else [values]:
                path = Path(value) if isinstance(value, str) and value else None
                if path is not None and path.is_absolute() and path.exists():
                    files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        return files + [ctx.vector_path(name) for name in self.references() - ctx.step_ids()]

    def check_files(self, base_dir: Path):
        """The suite's options, checked before any model loads (a typo in `-T` or
        `options:` would otherwise fail only once the model is up)."""
        suite = self.get_suite()
        try:
            opts = suite.options(self._options(base_dir))
        except PersonascopeError as exc:
            return [("options", str(exc), "use only the options the suite lists")]
        suite.items(opts)  # reads the suite's files: their errors name their own file and line
        return []

    def cache_parts(self, ctx) -> dict:
        """The suite's code and built-in data (editing them must not reuse old
        results) and the judge model's fingerprint."""
        import hashlib
        import inspect
        from importlib import resources

        h = hashlib.sha256(inspect.getsource(type(self.get_suite())).encode())
        data = resources.files("personascope.evals") / "data"
        for path in sorted(_files(data), key=str):
            h.update("/".join(str(path).split("/")[-2:]).encode() + path.read_bytes())
        parts = {"suite": h.hexdigest()}
        if self.judge_model is not None:
            parts["judge"] = ctx.model(self.judge_model).fingerprint()
        return parts

    def resolved_arms(self, env) -> dict[str, Arm]:
        """The arms with vector specs made real paths and the step's system prompt filled in."""
        return {
            name: arm.model_copy(update={
                "steer": [env.resolve_spec(s) for s in arm.steer],
                "ablate": [env.resolve_spec(s) for s in arm.ablate],
                "cap": [env.resolve_spec(s) for s in arm.cap],
                "system": arm.system if arm.system is not None else self.system,
            })
            for name, arm in self.arms.items()
        }

    def execute(self, model, env) -> "EvalResult":
        """The suite on `model` in each arm: scored rows and statistics per arm."""
        from personascope.engine import GenerateConfig
        from personascope.evals._answer import answer, check_ids, judge
        from personascope.evals._result import EvalResult
        from personascope.evals._suite import Row

        suite = self.get_suite()
        opts = suite.options(self._options(_base_dir(env)))
        items = suite.select(suite.items(opts), self.limit)
        if not items:
            raise PersonascopeError(f"suite {suite.name!r} has no items with these options")
        check_ids(suite, items)
        arms = self.resolved_arms(env)
        if any(arm.specs() for arm in arms.values()) and not model.white_box:
            raise PersonascopeError(f"{model.name} is a black-box model: steering, ablation and capping need smollm2 or hf/<path>")
        # The same model, never steered, unless a judge is named: interventions are per call.
        ruler = model if self.judge_model is None else env.model(self.judge_model)
        judges = suite.judges(opts)
        rows_by_arm: dict[str, list[Row]] = {}
        for arm_name, arm in arms.items():
            rows: list[Row] = []
            for s in range(self.samples):
                config = GenerateConfig(
                    max_new_tokens=self.max_tokens or suite.max_tokens, temperature=self.temperature,
                    seed=env.seed + s if self.temperature > 0 else None,
                )
                label = arm_name + (f" sample {s + 1}" if self.samples > 1 else "")
                responses = answer(model, items, arm, config, env.progress, label, self.prefix)
                judged = judge(ruler, judges, items, [suite.judged_text(i, r) for i, r in zip(items, responses)],
                               [r.method == "failed" for r in responses], env.progress, label)
                rows += [
                    Row(item, resp, suite.score(item, resp, j, opts), arm=arm_name, sample=s)
                    for item, resp, j in zip(items, responses, judged)
                ]
            rows_by_arm[arm_name] = rows
        stats = {arm: suite.summarize(rows, opts) for arm, rows in rows_by_arm.items()}
        return EvalResult(
            suite=suite.name, model=model.name, options=opts.model_dump(mode="json"), rows=rows_by_arm, stats=stats,
            arms={k: v.model_dump() for k, v in arms.items()}, judge_model=ruler.name, seed=env.seed,
            warnings={arm: suite.warnings(rows, opts) for arm, rows in rows_by_arm.items()},
        )


def _base_dir(env) -> Path:
    """Where relative paths in options resolve: the config's folder in a study, the
    current folder for `run_eval`."""
    return env.resolve(".")


def _files(folder):
    """Every file under an importlib resource folder (absent folder: none)."""
    if not folder.is_dir():
        return []
    out = []
    for entry in folder.iterdir():
        out += _files(entry) if entry.is_dir() else [entry]
    return out
