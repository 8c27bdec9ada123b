"""The drift harness: conversations of several families, turn by turn, in one or
more arms, with projections, reply scores and forked probes at every assistant turn.

    from personascope.conversations import DriftConfig, run_drift
    result = run_drift("smollm2", DriftConfig(project=["runs/x/artifacts/assistant/vector@20"]))
    result.table()

White-box models (smollm2, hf/...) get projections and interventions; any Inspect
model gets the behavioural curves (reply scores and probes) only.
"""

from collections.abc import Callable, Mapping
from pathlib import Path
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from personascope.protocol import Arm
from personascope.errors import PersonascopeError
from personascope.conversations._curves import ALL, crossings, curves, slopes
from personascope.conversations._dialogue import Dialogue
from personascope.conversations._measure import DEFAULT_PROBES, Probe, check_probes, check_scorers

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
    """Programmatic scorers of every reply: registered names or `module:function` references."""
    max_tokens: int = Field(64, ge=1)
    """Length of each reply."""
    probe_tokens: int = Field(32, ge=1)
    """Length of each probe answer."""
    temperature: float = Field(0.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    """Nucleus sampling for replies, probe answers and a simulated user (with temperature > 0)."""
    batch_size: int = Field(16, ge=1)

    _scorers = field_validator("scorers")(classmethod(lambda cls, v: check_scorers(v)))
    _probes = field_validator("probes")(classmethod(lambda cls, v: check_probes(v)))

    @model_validator(mode="after")
    def _check(self) -> "DriftConfig":
        if self.script is None:  # a script may be relative to a study file: checked where it is known
            problems = script_problems(self, None)
            if problems:
                raise ValueError("; ".join(f"{problem} (fix: {fix})" for problem, fix in problems))
        return self


def script_problems(config: DriftConfig, script: str | None) -> list[tuple[str, str]]:
    """(problem, fix) for each family `config` cannot run as asked from its families
    (built in, plus `script`, a real path): unknown, too few conversations, or, with
    scripted users, a conversation with fewer user turns than `turns`. Reads files
    only, so a run fails here before any model loads."""
    from personascope.conversations._families import BUILTIN, family_source, load_families

    families = load_families(script)
    out = []
    for name in config.families:
        if name not in families:
            out.append((f"unknown conversation family {name!r}", f"choose from {', '.join(families)}, "
                        "or add it in a families file (script)"))
            continue
        family, source = families[name], family_source(name, script)
        where = "the built-in families.yaml" if source == BUILTIN else source
        edit = ("copy the family into a families file (script) and add to it" if source == BUILTIN
                else f"add to it in {source}")
        if len(family.conversations) < config.conversations:
            out.append((f"family {name!r} in {where} has {len(family.conversations)} scripted conversations "
                        f"but conversations is {config.conversations}",
                        f"lower conversations to {len(family.conversations)}, or {edit}"))
        if config.user_model is None:  # a simulated user writes every turn after the first
            for k, conv in enumerate(family.conversations[: config.conversations]):
                if len(conv.turns) < config.turns:
                    shortest = min(len(c.turns) for c in family.conversations[: config.conversations])
                    out.append((f"conversation {k + 1} of family {name!r} in {where} has {len(conv.turns)} "
                                f"scripted user turns but turns is {config.turns}",
                                f"lower turns to {shortest}, {edit}, or let a simulated user write the later "
                                "turns (user_model)"))
                    break  # one line per family is enough to act on
    return out


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
    conversations of all families pooled), then the drift slopes (a row per measure
    and family, arms as columns, so many families make the table longer, not wider),
    and a warning where an interval rests on one conversation."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    families = data["config"]["families"]
    family = ALL if len(families) > 1 else families[0]
    arms = list(data["arms"])
    cell = lambda r: (f"{r['mean']:.3g} [{r['low']:.3g}, {r['high']:.3g}]" + ("*" if r.get("n", 2) < 2 else "")  # noqa: E731
                      if r else "—")
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
    table.add_column("measure", overflow="fold")
    table.add_column("family", overflow="fold")
    for arm in arms:
        table.add_column(escape(arm), justify="right")
    by = {(r["measure"], r["arm"], r["family"], r.get("vs")): r for r in data["slopes"]}
    rows_for = [*families, *([ALL] if len(families) > 1 else [])]
    for k, measure in enumerate(dict.fromkeys(r["measure"] for r in data["slopes"])):
        if k:
            table.add_section()
        for i, fam in enumerate(rows_for):
            table.add_row(escape(measure) if i == 0 else "", escape(fam),
                          *(cell(by.get((measure, arm, fam, None))) for arm in arms))
    tables.append(table)
    single = single_conversation_families(data)
    if single:
        tables.append(Text(
            f"* one conversation in {', '.join(single)}: its interval is a single point, not a confidence "
            "interval (raise conversations, --conversations, for a real one)", style="yellow",
        ))
    return tables


def single_conversation_families(data: dict) -> list[str]:
    """Families (or the pooled `all`) whose slopes rest on one conversation: their
    bootstrap interval collapses to the point estimate."""
    return list(dict.fromkeys(r["family"] for r in data["slopes"] if r.get("n", 2) < 2 and not r.get("vs")))


def _scripts(config: DriftConfig):
    """(dialogue id, family name, family, conversation) for the first `conversations` of each family."""
    from personascope.conversations._families import get_family

    for name in config.families:
        family = get_family(name, config.script)
        if len(family.conversations) < config.conversations:
            raise PersonascopeError(
                f"family {name!r} has {len(family.conversations)} scripted conversations but {config.conversations} "
                "were asked for: lower conversations, or add scripts with `script`"
            )
        for k, conv in enumerate(family.conversations[: config.conversations]):
            yield f"{name}/{k + 1}", name, family, conv


def build_dialogues(config: DriftConfig) -> list[Dialogue]:
    """The first `conversations` scripts of each family, as fresh dialogues."""
    out = []
    for id, name, family, conv in _scripts(config):
        system = config.system if config.system is not None else family.system
        out.append(Dialogue(id, name, system, [t.model_dump() for t in conv.turns]))
    return out


def conversation_checks(config: DriftConfig) -> dict[str, tuple[list[Probe], list[str]]]:
    """Per dialogue id, the probes and reply scorers it is measured with: its own
    (from the families file) where it has them, else the run's."""
    return {id: (conv.probes if conv.probes is not None else config.probes,
                 conv.scorers if conv.scorers is not None else config.scorers)
            for id, _, _, conv in _scripts(config)}


def run_drift(
    model,
    config: DriftConfig | None = None,
    *,
    arms: Mapping[str, Arm] | None = None,
    cache=None,
    seed: int = 0,
    progress: Callable | None = None,
    base_dir: str | Path | None = None,
) -> DriftResult:
    """Converse, measure and summarise (the `drift` step on one model). `model` is a
    name, a `ModelConfig` or a `Model`; `cache` the call cache of a named model (and
    of `user_model`); `progress(description, total)` a context yielding `advance(n)`;
    `base_dir` the folder a relative `script` is read from (default: the current one)."""
    from personascope.conversations._step_drift import DriftStep
    from personascope.models import get_model
    from personascope.protocol import LocalEnv

    fields = (config or DriftConfig()).model_dump()
    step = DriftStep(id="drift", type="drift", **fields, **({"arms": dict(arms)} if arms else {}))
    base = Path(base_dir or Path.cwd())
    problems = script_problems(step, str(base / step.script) if step.script else None)
    if problems:  # before the model loads
        raise PersonascopeError("; ".join(f"{p} (fix: {f})" for p, f in problems))
    model = get_model(model, cache=cache)
    env = LocalEnv(seed=seed, cache=model.cache, progress_fn=progress, base_dir=base)
    return step.execute(model, env)


