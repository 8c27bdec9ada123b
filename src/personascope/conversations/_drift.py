"""The drift harness: conversations of several families, turn by turn, in one or
more arms, with projections, reply scores and forked probes at every assistant turn.

    from personascope.conversations import DriftConfig, run_drift
    result = run_drift("smollm2", DriftConfig(project=["runs/x/artifacts/assistant/vector@20"]))
    result.table()

White-box models (smollm2, hf/...) get projections and interventions; any Inspect
model gets the behavioural curves (reply scores and probes) only.
"""

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from personascope.protocol import Arm
from personascope.errors import PersonascopeError
from personascope.conversations._curves import ALL, crossings, curves, slopes
from personascope.conversations._dialogue import Dialogue, converse, scripted, simulated
from personascope.conversations._measure import DEFAULT_PROBES, Probe, parse_projections, probe_turns, project_turns, score_replies

DEFAULT_FAMILIES = ["coding", "therapy", "consciousness"]


class DriftConfig(BaseModel):
    """What to converse about, for how long, and what to measure at each turn."""

    model_config = ConfigDict(extra="forbid")

    families: list[str] = Field(default_factory=lambda: list(DEFAULT_FAMILIES), min_length=1)
    """Conversation families (built in: coding, therapy, consciousness, romance, jailbreak, neutral)."""
    conversations: int = Field(4, ge=1)
    """Conversations per family (the first N scripts of each)."""
    turns: int = Field(6, ge=1)
    """Assistant turns per conversation."""
    script: str | None = None
    """A families YAML file whose families are added to (or replace) the built-in ones."""
    user_model: str | None = None
    """A model that plays the user from turn 2 on (the family's user persona); default: scripted turns."""
    system: str | None = None
    """The target's system prompt (default: each family's, else the model's own default)."""
    project: list[str] = Field(default_factory=list)
    """Vectors to project each reply on, `VECTOR@LAYER` (white-box models only)."""
    thresholds: dict[str, float] = Field(default_factory=dict)
    """Per projection spec (or measure name): report the turn its value first passes this."""
    probes: list[Probe] = Field(default_factory=lambda: list(DEFAULT_PROBES))
    """Questions asked on a fork of the history after every turn; [] for none."""
    scorers: list[str] = Field(default_factory=lambda: ["sentiment"])
    """Programmatic scorers of every reply."""
    max_tokens: int = Field(64, ge=1)
    """Length of each reply."""
    probe_tokens: int = Field(32, ge=1)
    """Length of each probe answer."""
    temperature: float = Field(0.0, ge=0.0)
    batch_size: int = Field(16, ge=1)

    @model_validator(mode="after")
    def _check(self) -> "DriftConfig":
        from personascope.judges import scorers

        known = scorers()
        for name in [*self.scorers, *(s for p in self.probes for s in p.scorers)]:
            if name not in known:
                raise ValueError(f"unknown scorer {name!r}: choose from {', '.join(sorted(known))}")
        names = [p.name for p in self.probes]
        if len(set(names)) != len(names):
            raise ValueError("probe names must be unique")
        if self.script is None:  # with a script its own families count too: checked when it is read
            from personascope.conversations._families import load_families

            builtin = load_families()
            unknown = [f for f in self.families if f not in builtin]
            if unknown:
                raise ValueError(f"unknown conversation family {unknown[0]!r}: choose from {', '.join(builtin)}, "
                                 "or add it in a families file (script)")
        return self


@dataclass
class DriftResult:
    """Measured dialogues per arm and the statistics over them."""

    model: str
    config: DriftConfig
    arms: dict[str, Arm]
    dialogues: dict[str, list[Dialogue]]
    curves: list[dict] = field(default_factory=list)
    slopes: list[dict] = field(default_factory=list)
    crossings: list[dict] = field(default_factory=list)
    white_box: bool = True
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1, "model": self.model, "config": self.config.model_dump(),
            "arms": {k: v.model_dump() for k, v in self.arms.items()}, "white_box": self.white_box,
            "seconds": self.seconds, "curves": self.curves, "slopes": self.slopes, "crossings": self.crossings,
            "dialogues": {arm: [asdict(d) for d in ds] for arm, ds in self.dialogues.items()},
        }

    def measures(self) -> list[str]:
        return list(dict.fromkeys(r["measure"] for r in self.curves))

    def metrics(self, step: str, model: str):
        """Store metrics: each measure's drift slope over all families (headline for
        projections), per family, and the share of conversations past each threshold."""
        from personascope.store import Metric

        projections = set(self.config.project)
        out = []
        for r in self.slopes:
            name = f"{r['measure']} slope" + ("" if r["family"] == ALL else f" [{r['family']}]")
            if r.get("vs"):
                name += f" - {r['vs']}"
            pooled = r["family"] == ALL or len(self.config.families) == 1
            out.append(Metric(step, name, r["mean"], r["arm"], model, r["low"], r["high"], r["n"],
                              headline=pooled and r["measure"] in projections and not r.get("vs")))
        for r in self.crossings:
            if r["family"] == ALL or len(self.config.families) == 1:
                out.append(Metric(step, f"{r['measure']} % past {r['threshold']:g}", r["crossed"], r["arm"], model,
                                  r["crossed_low"], r["crossed_high"], r["n"]))
        return out

    def transcripts(self, step: str, model: str):
        """One transcript per conversation and arm; per-turn numbers in scores and metadata."""
        from personascope.store import Transcript

        out = []
        for arm, dialogues in self.dialogues.items():
            for d in dialogues:
                scores = {f"turn {k + 1} {m}": v for k, t in enumerate(d.turns)
                          for m, v in {**t.projections, **{f"reply {s}": x for s, x in t.scores.items()}}.items()}
                out.append(Transcript(
                    id=f"{model}:{arm}:{d.id}", step=step, messages=d.history(), output=d.turns[-1].reply if d.turns else "",
                    model=model, arm=arm, sample=d.id, scores=scores,
                    metadata={"family": d.family, "turns": [asdict(t) for t in d.turns]},
                ))
        return out

    def tables(self):
        """Rich tables: each measure's per-turn means, then the drift slopes."""
        return result_tables(self.to_json())


def result_tables(data: dict) -> list:
    """From a result's JSON: one table per measure (turns as rows, arms as columns,
    conversations of all families pooled), then one table of drift slopes."""
    from rich.markup import escape
    from rich.table import Table

    families = data["config"]["families"]
    family = ALL if len(families) > 1 else families[0]
    arms = list(data["arms"])
    cell = lambda r: f"{r['mean']:.3g} [{r['low']:.3g}, {r['high']:.3g}]" if r else "—"  # noqa: E731
    tables = []
    for measure in dict.fromkeys(r["measure"] for r in data["curves"]):
        table = Table(title=escape(measure), caption="mean [95% CI] over conversations")
        table.add_column("turn", justify="right")
        for arm in arms:
            table.add_column(escape(arm), justify="right")
        by = {(r["arm"], r["turn"]): r for r in data["curves"] if r["measure"] == measure and r["family"] == family}
        for turn in sorted({t for _, t in by}):
            table.add_row(str(turn), *(cell(by.get((arm, turn))) for arm in arms))
        tables.append(table)
    table = Table(title="drift slope per turn [95% CI over conversations]")
    table.add_column("measure")
    for fam in [*families, *([ALL] if len(families) > 1 else [])]:
        table.add_column(escape(fam), justify="right")
    by = {(r["measure"], r["arm"], r["family"], r.get("vs")): r for r in data["slopes"]}
    for measure in dict.fromkeys(r["measure"] for r in data["slopes"]):
        for arm in arms:
            name = measure if len(arms) == 1 else f"{measure} [{arm}]"
            table.add_row(escape(name), *(cell(by.get((measure, arm, fam, None))) for fam in [*families, *([ALL] if len(families) > 1 else [])]))
    tables.append(table)
    return tables


def build_dialogues(config: DriftConfig) -> list[Dialogue]:
    """The first `conversations` scripts of each family, as fresh dialogues."""
    from personascope.conversations._families import get_family

    out = []
    for name in config.families:
        family = get_family(name, config.script)
        if len(family.conversations) < config.conversations:
            raise PersonascopeError(
                f"family {name!r} has {len(family.conversations)} scripted conversations but {config.conversations} "
                "were asked for: lower conversations, or add scripts with `script`"
            )
        for k, conv in enumerate(family.conversations[: config.conversations]):
            system = config.system if config.system is not None else family.system
            out.append(Dialogue(f"{name}/{k + 1}", name, system, [t.model_dump() for t in conv]))
    return out


def run_drift(
    model,
    config: DriftConfig | None = None,
    *,
    arms: Mapping[str, Arm] | None = None,
    cache=None,
    seed: int = 0,
    progress: Callable | None = None,
    resolve: Callable[[str], str] | None = None,
) -> DriftResult:
    """Converse, measure and summarise. `model` is a name or a `Model`;
    `progress(description, total)` is a context yielding `advance(n)` (a study's);
    `resolve` turns a spec's vector name into a path (a study's step ids), while
    results keep the specs as written."""
    import time

    from personascope.engine import GenerateConfig
    from personascope.store import Cache
    from personascope.models import Model
    from personascope.vectors._build import no_steps

    start = time.perf_counter()
    config = config or DriftConfig()
    arms = dict(arms or {"default": Arm()})
    model = model if isinstance(model, Model) else Model(model, cache if cache is not None else Cache())
    steps = progress or no_steps
    if not model.white_box and (config.project or any(a.specs() for a in arms.values())):
        raise PersonascopeError(
            f"{model.name} is a black-box model: projections and steering/capping arms need smollm2 or hf/<path> "
            "(leave out project and the arms' steer/ablate/cap for behavioural curves only)"
        )
    resolve = resolve or (lambda spec: spec)
    projections = []
    if config.project:
        projections = parse_projections([resolve(p) for p in config.project], model.n_layers(), labels=config.project)
    sampling = dict(temperature=config.temperature, seed=seed if config.temperature > 0 else None, batch_size=config.batch_size)
    reply_config = GenerateConfig(max_new_tokens=config.max_tokens, **sampling)
    probe_config = GenerateConfig(max_new_tokens=config.probe_tokens, **sampling)
    user_turns = scripted
    if config.user_model:
        from personascope.conversations._families import get_family

        user = Model(config.user_model, model.cache)
        user_turns = simulated(user, lambda d: get_family(d.family, config.script).user_persona,
                               GenerateConfig(max_new_tokens=config.max_tokens, **sampling))
    by_arm: dict[str, list[Dialogue]] = {}
    for name, arm in arms.items():
        dialogues = build_dialogues(config)
        ivs = [(kind, resolve(spec)) for kind, spec in arm.specs()]
        n = len(dialogues) * config.turns
        with steps(f"drift [{name}]: conversations", n) as advance:
            converse(model, dialogues, config.turns, user_turns, reply_config,
                     interventions=ivs, system_override=arm.system, advance=advance)
        score_replies(dialogues, config.scorers)
        if projections:
            with steps(f"drift [{name}]: projections", n) as advance:
                project_turns(model, dialogues, projections, interventions=ivs, advance=advance)
        with steps(f"drift [{name}]: probes", n * len(config.probes)) as advance:
            probe_turns(model, dialogues, config.probes, probe_config, interventions=ivs, advance=advance)
        by_arm[name] = dialogues
    return DriftResult(
        model.name, config, arms, by_arm, curves(by_arm, seed=seed), slopes(by_arm, seed=seed),
        crossings(by_arm, config.thresholds, seed=seed), model.white_box, time.perf_counter() - start,
    )


def drift_study(model: str = "smollm2", config: DriftConfig | None = None, *, steer=(), cap=(), compare: bool = False,
                seed: int = 0):
    """A `Study` with one `drift` step. Steering or capping specs make a treated arm
    (`steered`, or `capped` when it only caps); with `compare` a `plain` arm runs
    first, for differences."""
    from personascope.study._onestep import one_step_study

    treated = Arm(steer=list(steer), cap=list(cap))
    if compare and not treated.specs():
        raise PersonascopeError("--compare needs something to compare: give --steer or --cap")
    name = "capped" if cap and not steer else "steered"
    if treated.specs():
        arms = {"plain": Arm(), name: treated} if compare else {name: treated}
    else:
        arms = {"default": Arm()}
    config = config or DriftConfig()
    step = {"id": "drift", "type": "drift", **config.model_dump(exclude_defaults=True),
            "arms": {k: v.model_dump(exclude_defaults=True) for k, v in arms.items()}}
    return one_step_study(step, model, name="drift", seed=seed)


def run_drift_study(model: str = "smollm2", config: DriftConfig | None = None, *, runs_dir=None, no_cache: bool = False,
                    new: bool = False, progress: bool = True, **kwargs):
    """Run `drift_study(...)`; returns the `RunResult` and the result JSON (`DriftResult.to_json()`)."""
    from personascope.study._onestep import run_one_step

    return run_one_step(drift_study(model, config, **kwargs), result_file="drift-model.json", runs_dir=runs_dir,
                        no_cache=no_cache, new=new, progress=progress)
