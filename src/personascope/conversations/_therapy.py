"""Therapy sessions, then questionnaires (agenda B7): a therapist asks open questions
about the model's development over several sessions of one continuing conversation;
then the psychometrics suite is answered with that history before every item.

    from personascope.conversations import TherapyConfig, run_therapy
    result = run_therapy("smollm2", TherapyConfig(sessions=2, questions=3))
    result.table()

Conditions: no history (the plain questionnaire), the first session's history, and
every session's. Each scale gets its score per condition and the differences, with
bootstrap CIs over the answered items; the therapy replies are read session by
session with the distress suite's theme lexicon. Script: `conversations/data/therapy.yaml`.
"""

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from personascope.protocol import Arm
from personascope._yamlerrors import load_yaml, read_text, validate
from personascope.errors import PersonascopeError
from personascope.conversations._dialogue import Dialogue

BUILTIN = "<built-in therapy.yaml>"
NO_HISTORY = "no history"


# -- the script ------------------------------------------------------------------
class Session(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    about: str = ""
    questions: list[str] = Field(min_length=1)
    """The therapist's questions, in order; a run asks the first `questions` of them."""


class TherapyScript(BaseModel):
    """The therapist's words: an opening, a line that resumes each later session, the sessions."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    framing: str = ""
    """Said before the first question of the first session."""
    resume: str = ""
    """Said before the first question of every later session."""
    sessions: list[Session] = Field(min_length=1)


@cache
def load_therapy_script(file: str | None = None) -> TherapyScript:
    """The built-in script, or a YAML file of the same layout; the top-level keys it
    leaves out (framing, resume, sessions) come from the built-in."""
    text = (resources.files("personascope.conversations") / "data" / "therapy.yaml").read_text(encoding="utf-8")
    raw, name = load_yaml(text, BUILTIN), BUILTIN
    if file is not None:
        path = Path(file).expanduser()
        if not path.is_file():
            raise PersonascopeError(f"no such therapy script {file} (fix: check the path; the layout is in docs/therapy.md)")
        text, name = read_text(path, "therapy script"), str(file)
        custom = load_yaml(text, name)
        if not isinstance(custom, dict):
            raise PersonascopeError(f"{name}: a therapy script is a mapping with framing, resume and sessions "
                                    "(fix: start from the built-in conversations/data/therapy.yaml)")
        raw = {**raw, **custom}
    return validate(TherapyScript, raw, text, name, what="therapy script", docs="docs/therapy.md")


# -- the config ------------------------------------------------------------------
class TherapyConfig(BaseModel):
    """How many sessions of how many questions, and the questionnaires that follow."""

    model_config = ConfigDict(extra="forbid")

    sessions: int = Field(3, ge=1)
    """Sessions, each starting where the last one ended (the first N of the script)."""
    questions: int = Field(4, ge=1)
    """Therapist questions per session (the first N of each session)."""
    script: str | None = None
    """A therapy script YAML file (layout of the built-in conversations/data/therapy.yaml)."""
    framing: str | None = None
    """The therapist's opening before the first question (default: the script's; "" for none)."""
    system: str | None = None
    """The target's system prompt, in the sessions and under every questionnaire item."""
    max_tokens: int = Field(64, ge=1)
    """Length of each therapy reply."""
    instruments: list[str] = Field(default_factory=lambda: ["ps-anxiety", "ps-mood", "ps-bigfive"])
    """Psychometric instruments (built-in names or instrument files)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """More psychometrics options (route, items, min_answered, ...); by default items are
    asked one by one (forms: items) and the naming question is left out."""
    limit: int | None = Field(None, ge=1)
    """Statements per instrument (spread over its subscales); default: all."""
    answer_tokens: int | None = Field(None, ge=1)
    """Length of each questionnaire answer (default: the suite's)."""
    conversations: int = Field(1, ge=1)
    """Independent therapy courses (more than one needs temperature > 0)."""
    temperature: float = Field(0.0, ge=0.0)
    batch_size: int = Field(16, ge=1)

    @model_validator(mode="after")
    def _check(self) -> "TherapyConfig":
        if self.conversations > 1 and self.temperature == 0:
            raise ValueError("conversations > 1 with temperature 0 repeat the same greedy course: set temperature > 0")
        if "instruments" in self.options:
            raise ValueError("give instruments in `instruments`, not in `options`")
        try:
            self.psychometrics()
        except PersonascopeError as exc:
            raise ValueError(str(exc)) from None
        return self

    def psychometrics(self) -> dict[str, Any]:
        """The psychometrics suite's options, validated."""
        from personascope.evals import get_suite

        opts = {"forms": ["items"], "ask_name": False, **self.options, "instruments": list(self.instruments)}
        return get_suite("psychometrics").options(opts).model_dump()

    def conditions(self) -> dict[str, int]:
        """Condition name -> sessions of history before the questionnaire."""
        out = {NO_HISTORY: 0, "1 session": 1}
        return out | ({f"{self.sessions} sessions": self.sessions} if self.sessions > 1 else {})


def build_dialogues(config: TherapyConfig) -> list[Dialogue]:
    """One fresh course of sessions per conversation, all turns scripted."""
    script = load_therapy_script(config.script)
    where = config.script or BUILTIN
    if config.sessions > len(script.sessions):
        raise PersonascopeError(f"{where} has {len(script.sessions)} sessions but {config.sessions} were asked for "
                                "(fix: lower sessions, or add sessions with a script file)")
    turns: list[dict] = []
    framing = script.framing if config.framing is None else config.framing
    for s, session in enumerate(script.sessions[: config.sessions]):
        if config.questions > len(session.questions):
            raise PersonascopeError(f"{where}: session {s + 1} ({session.name}) has {len(session.questions)} questions but "
                                    f"{config.questions} were asked for (fix: lower questions, or add questions)")
        for q, text in enumerate(session.questions[: config.questions]):
            opening = (framing if s == 0 else script.resume) if q == 0 else ""
            turns.append({"user": f"{opening.strip()} {text}".strip()})
    return [Dialogue(f"therapy/{c + 1}", "therapy", config.system, list(turns)) for c in range(config.conversations)]


def history(dialogue: Dialogue, sessions: int, questions: int) -> list[dict]:
    """The conversation's first `sessions` sessions as messages (the system prompt alone for 0)."""
    return dialogue.history(sessions * questions)


# -- results ---------------------------------------------------------------------
@dataclass
class TherapyResult:
    """The therapy dialogues per arm, questionnaire answers per condition, and statistics."""

    model: str
    config: TherapyConfig
    arms: dict[str, Arm]
    dialogues: dict[str, list[Dialogue]]
    answers: list[dict] = field(default_factory=list)
    """One row per questionnaire item, arm, condition and conversation."""
    scales: list[dict] = field(default_factory=list)
    differences: list[dict] = field(default_factory=list)
    lexicon: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1, "model": self.model, "config": self.config.model_dump(),
            "arms": {k: v.model_dump() for k, v in self.arms.items()}, "conditions": self.config.conditions(),
            "session_names": [s.name for s in load_therapy_script(self.config.script).sessions[: self.config.sessions]],
            "seconds": self.seconds, "scales": self.scales, "differences": self.differences, "lexicon": self.lexicon,
            "answers": self.answers, "dialogues": {arm: [asdict(d) for d in ds] for arm, ds in self.dialogues.items()},
        }

    def metrics(self, step: str, model: str):
        """Scale scores per condition, differences (headline: instrument totals after
        every session against no history), the lexicon rate per session."""
        from personascope.store import Metric

        last = list(self.config.conditions())[-1]
        out = [Metric(step, f"{r['scale']} [{r['condition']}]", r["value"], r["arm"], model, r["low"], r["high"], r["n"])
               for r in self.scales]
        out += [Metric(step, f"{r['scale']} [{r['condition']} - {r['baseline']}]", r["value"], r["arm"], model, r["low"],
                       r["high"], r["n"], headline=r["total"] and r["condition"] == last and r["baseline"] == NO_HISTORY)
                for r in self.differences]
        out += [Metric(step, f"lexicon rate [{r['session']}]", r["value"], r["arm"], model, r["low"], r["high"], r["n"])
                for r in self.lexicon]
        return out

    def transcripts(self, step: str, model: str):
        """Each therapy course (lexicon hits per turn) and each questionnaire answer."""
        from personascope.store import Transcript

        q = self.config.questions
        out = []
        for arm, dialogues in self.dialogues.items():
            for d in dialogues:
                scores = {f"turn {k + 1} lexicon": t.scores.get("lexicon", 0.0) for k, t in enumerate(d.turns)}
                out.append(Transcript(
                    id=f"{model}:{arm}:{d.id}", step=step, messages=d.history(), output=d.turns[-1].reply if d.turns else "",
                    model=model, arm=arm, sample=d.id, scores=scores,
                    metadata={"kind": "therapy", "sessions": [[asdict(t) for t in d.turns[s * q:(s + 1) * q]]
                                                              for s in range(self.config.sessions)]},
                ))
        for a in self.answers:
            sample = f"{a['conversation']}:{a['condition']}:{a['item']}"
            out.append(Transcript(
                id=f"{model}:{a['arm']}:{sample}", step=step, model=model, arm=a["arm"], sample=sample,
                messages=[{"role": "user", "content": a["question"]}, {"role": "assistant", "content": a["text"]}],
                output=a["text"], scores={k: a[k] for k in ("raw", "value") if a[k] is not None},
                metadata={"kind": "questionnaire",
                          **{k: a[k] for k in ("condition", "history_turns", "conversation", "instrument", "subscale", "parse")}},
            ))
        return out

    def table(self):
        from rich.console import Group

        return Group(*result_tables(self.to_json()))


def result_tables(data: dict) -> list:
    """From a result's JSON: per arm, scales by condition with the differences, then
    the lexicon rate per session."""
    from rich.markup import escape
    from rich.table import Table

    cell = lambda r, sign="": "—" if r is None else ("n/a" if r["value"] != r["value"] else  # noqa: E731
                                                     f"{r['value']:{sign}.3g} [{r['low']:.3g}, {r['high']:.3g}]")
    conditions = list(data["conditions"])
    tables = []
    for arm in data["arms"]:
        suffix = "" if len(data["arms"]) == 1 else f" [{arm}]"
        table = Table(title=escape(f"questionnaires after therapy on {data['model']}{suffix}"),
                      caption="score [95% CI over answered items; differences paired by item]", title_justify="left")
        table.add_column("scale")
        pairs = list(dict.fromkeys((r["condition"], r["baseline"]) for r in data["differences"] if r["arm"] == arm))
        for name in [*conditions, *(f"{c} - {b}" for c, b in pairs)]:
            table.add_column(escape(name), justify="right")
        by = {(r["scale"], r["condition"]): r for r in data["scales"] if r["arm"] == arm}
        diff = {(r["scale"], r["condition"], r["baseline"]): r for r in data["differences"] if r["arm"] == arm}
        for scale in dict.fromkeys(r["scale"] for r in data["scales"] if r["arm"] == arm):
            table.add_row(escape(scale), *(cell(by.get((scale, c))) for c in conditions),
                          *(cell(diff.get((scale, c, b)), "+") for c, b in pairs))
        tables.append(table)
        lex = Table(title=escape(f"distress lexicon in the therapy replies{suffix}"),
                    caption="share of replies where a theme fires [95% CI]", title_justify="left")
        lex.add_column("session")
        lex.add_column("rate", justify="right")
        lex.add_column("themes")
        for r in (r for r in data["lexicon"] if r["arm"] == arm):
            themes = ", ".join(f"{t} {v:.2g}" for t, v in r.get("themes", {}).items() if v)
            lex.add_row(escape(r["session"]), cell(r, "+" if " - " in r["session"] else ""), escape(themes or "—"))
        tables.append(lex)
    return tables



# -- statistics ------------------------------------------------------------------
def lexicon_rows(arm: str, dialogues: list[Dialogue], config: TherapyConfig, seed: int = 0) -> list[dict]:
    """Mark every reply with the distress lexicon's themes (in its `scores`) and give
    the share of replies where any theme fires, per session (and last - first)."""
    from personascope.evals.suites.distress import detect_themes
    from personascope.stats import bootstrap_diff, bootstrap_mean

    for d in dialogues:
        for t in d.turns:
            found = detect_themes(t.reply)
            t.scores = {**t.scores, "lexicon": float(any(found.values())), **{f"theme {k}": float(bool(v)) for k, v in found.items()}}
    q, out, rates = config.questions, [], []
    for s in range(config.sessions):
        turns = [t for d in dialogues for t in d.turns[s * q:(s + 1) * q]]
        rates.append([t.scores["lexicon"] for t in turns])
        e = bootstrap_mean(rates[-1], seed=seed)
        themes = {k[len("theme "):]: sum(t.scores[k] for t in turns) / len(turns) for k in turns[0].scores if k.startswith("theme ")}
        out.append({"arm": arm, "session": f"session {s + 1}", "value": e.value, "low": e.low, "high": e.high, "n": e.n, "themes": themes})
    if config.sessions > 1:
        e = bootstrap_diff(rates[-1], rates[0], seed=seed)
        out.append({"arm": arm, "session": f"session {config.sessions} - session 1", "value": e.value, "low": e.low,
                    "high": e.high, "n": e.n, "themes": {}})
    return out


def _scales(inst) -> list[tuple[str, set[str], bool]]:
    """(name, item ids, is the total) per scale, named as the psychometrics suite names them."""
    subs = [s.name for s in inst.subscales]
    out = [(f"{inst.name} total", {i.id for i in inst.items}, True)] if inst.scoring.total else []
    if len(subs) > 1 or not inst.scoring.total:
        out += [(f"{inst.name} {sub}", {i.id for i in inst.items if i.subscale == sub}, False) for sub in subs]
    return out


def scale_rows(answers: list[dict], instruments: list, conditions: list[str], *, min_answered: float = 0.8,
               seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Per arm, scale and condition the score (the suite's scoring: mean keyed item
    value, times the item count for summed scales) with a CI over answered items,
    and the last condition minus each earlier one, paired by item (the conditions
    ask the same statements). Too few answers give NaN."""
    from personascope.stats import bootstrap_mean

    nan = float("nan")
    scales, diffs = [], []
    for arm in dict.fromkeys(a["arm"] for a in answers):
        for inst in instruments:
            for scale, ids, total in _scales(inst):
                factor = len(ids) if inst.scoring.method == "sum" else 1
                values: dict[str, dict | None] = {}
                for cond in conditions:
                    mine = [a for a in answers if a["arm"] == arm and a["condition"] == cond and a["instrument"] == inst.name
                            and a.get("kind") == "item" and a["item_id"] in ids]
                    got = {(a.get("conversation"), a["item_id"]): float(a["value"]) for a in mine if a["value"] is not None}
                    values[cond] = got if got and len(got) >= min_answered * len(mine) else None
                    e = bootstrap_mean(list((values[cond] or {}).values()), seed=seed)
                    scales.append({"arm": arm, "condition": cond, "scale": scale, "instrument": inst.name, "total": total,
                                   "value": e.value * factor, "low": e.low * factor, "high": e.high * factor,
                                   "n": len(got), "asked": len(mine), "answered": len(got) / len(mine) if mine else nan})
                last = conditions[-1]
                for base in conditions[:-1]:
                    a, b = values[last], values[base]
                    paired = [a[k] - b[k] for k in a if k in b] if a is not None and b is not None else []
                    e = bootstrap_mean(paired, seed=seed)
                    diffs.append({"arm": arm, "condition": last, "baseline": base, "scale": scale, "instrument": inst.name,
                                  "total": total, "value": e.value * factor, "low": e.low * factor, "high": e.high * factor, "n": e.n})
    return scales, diffs


# -- the run ---------------------------------------------------------------------
def run_therapy(
    model,
    config: TherapyConfig | None = None,
    *,
    arms: Mapping[str, Arm] | None = None,
    cache=None,
    seed: int = 0,
    progress: Callable | None = None,
    base_dir: str | Path | None = None,
) -> TherapyResult:
    """Hold the sessions, then give the questionnaires under each condition (the
    `therapy` step on one model). `model` is a name, a `ModelConfig` or a `Model`;
    `progress(description, total)` is a context yielding `advance(n)`; `base_dir` the
    folder relative file paths (script, instrument files) are read from."""
    from personascope.conversations._step_therapy import TherapyStep
    from personascope.models import get_model
    from personascope.protocol import LocalEnv

    fields = (config or TherapyConfig()).model_dump()
    step = TherapyStep(id="therapy", type="therapy", **fields, **({"arms": dict(arms)} if arms else {}))
    model = get_model(model, cache=cache)
    return step.execute(model, LocalEnv(seed=seed, cache=model.cache, progress_fn=progress, base_dir=Path(base_dir or Path.cwd())))
