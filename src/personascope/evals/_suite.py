"""What a suite is: items, the judges that read the answers, per-item scores and
the statistics a suite reports. Suites register by name with `@suite`.

One definition serves both ways of running it: `run_eval` (batched and cached,
steerable, what `personascope eval` and the `eval` study step use) and the Inspect
tasks (`inspect eval personascope/<suite>`), which call the same `score` per sample.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from personascope.engine._chat import Prompt
from personascope.errors import PersonascopeError


@dataclass
class Item:
    """One question put to the model."""

    id: str
    input: Prompt
    """The user message, or a whole conversation (role/content dicts)."""
    choices: tuple[str, ...] = ()
    """When set, the answer is read as a distribution over these single-token
    labels (next-token probabilities) instead of being generated."""
    continuations: tuple[str, ...] = ()
    """When set (one per choice), `input` is a raw text context, no chat template,
    and each choice is read as the log-likelihood of its continuation after it
    (as lm-evaluation-harness scores multiple choice); white-box models only."""
    system: str | None = None
    """An item's own system prompt; an arm's system prompt replaces it."""
    group: str = ""
    """What the item belongs to (category, framing, instrument, source file)."""
    meta: dict[str, Any] = field(default_factory=dict)
    max_tokens: int | None = None

    @property
    def question(self) -> str:
        """The last user message: what judges see as the question."""
        if isinstance(self.input, str):
            return self.input
        return next((m["content"] for m in reversed(self.input) if m.get("role") == "user"), "")


@dataclass
class Response:
    """The model's answer: text, and for choice items a distribution over the choices."""

    text: str
    probs: dict[str, float] | None = None
    method: str = "generate"
    """generate, logprobs, parsed (choice read from the text) or failed."""

    @property
    def choice(self) -> str | None:
        return max(self.probs, key=self.probs.get) if self.probs else None


@dataclass
class Judge:
    """A judge a suite applies to some items' answers.

    Without `options` it is a 0-100 rubric judge (`rubric` holds `{question}` and
    `{answer}`); with `options` (name -> description) it classifies the answer and
    `rubric` also holds `{options}`."""

    name: str
    rubric: str
    options: dict[str, str] | None = None
    label: bool = False
    """The judge answers a word (TRUE, FALSE, ...) rather than a number: a label judge."""
    applies: Callable[[Item], bool] = lambda item: not item.choices


@dataclass
class Row:
    """One scored answer."""

    item: Item
    response: Response
    scores: dict[str, Any]
    arm: str = ""
    sample: int = 0


@dataclass
class Stat:
    """A number a suite reports: the mean of `values` (one per answer, per group or
    per sample), with a bootstrap CI computed by the runner."""

    name: str
    values: list[float]
    headline: bool = False
    note: str = ""


class SuiteOptions(BaseModel):
    """Options every suite takes; suites subclass this with their own fields."""

    model_config = ConfigDict(extra="forbid")


class Suite:
    """Base class: override `items`, and `judges`, `score` and `summarize` as needed."""

    name: ClassVar[str]
    title: ClassVar[str] = ""
    agenda: ClassVar[tuple[str, ...]] = ()
    """Agenda items (AGENDA.md numbering) the suite serves."""
    Options: ClassVar[type[SuiteOptions]] = SuiteOptions
    max_tokens: ClassVar[int] = 96
    """Default answer length for generated items."""
    paths: ClassVar[tuple[str, ...]] = ()
    """Options that name files or folders: a study resolves them against its config's
    folder and keys its cache on their content."""

    def options(self, values: dict[str, Any] | None = None) -> SuiteOptions:
        from pydantic import ValidationError

        try:
            return self.Options(**(values or {}))
        except ValidationError as exc:
            fields = ", ".join(self.Options.model_fields) or "none"
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'options'}: "
                + ("not an option of this suite" if e["type"] == "extra_forbidden" else e["msg"])
                for e in exc.errors()
            )
            raise PersonascopeError(f"suite {self.name!r}: bad options: {problems} (its options: {fields})") from None

    def items(self, opts: SuiteOptions) -> list[Item]:
        raise NotImplementedError

    def select(self, items: list[Item], limit: int | None) -> list[Item]:
        """The first `limit` items; suites whose files are grouped override this to
        take a few from every group."""
        return items if limit is None else items[:limit]

    def judges(self, opts: SuiteOptions) -> list[Judge]:
        return []

    def judged_text(self, item: Item, response: Response) -> str:
        """What the judges read of an answer (e.g. the text inside a JSON reply)."""
        return response.text

    def score(self, item: Item, response: Response, judged: dict[str, Any], opts: SuiteOptions) -> dict[str, Any]:
        """Per-answer scores from the response and the judges' results (`Judgment`
        for rubric judges, `Choice` for classifying ones, keyed by judge name)."""
        out: dict[str, Any] = {}
        for name, result in judged.items():
            out[name] = getattr(result, "score", None)
        return out

    def summarize(self, rows: list[Row], opts: SuiteOptions) -> list[Stat]:
        """Default: the mean of every numeric score."""
        return numeric_means(rows)

    def warnings(self, rows: list[Row], opts: SuiteOptions) -> list[str]:
        """Sentences that say the statistics of these rows (one arm) should not be
        read at face value; shown with the result table, in its JSON and the report."""
        return []


def numeric_means(rows: list[Row], *, headline: tuple[str, ...] = (), always: tuple[str, ...] = ()) -> list[Stat]:
    """A `Stat` per numeric score. `headline` and `always` names are reported even
    with no values: a judge that never scored must show as n/a, not vanish."""
    names: list[str] = list(dict.fromkeys([*headline, *always]))
    for row in rows:
        names += [k for k, v in row.scores.items() if _number(v) and k not in names]
    return [
        Stat(name, [float(r.scores[name]) for r in rows if _number(r.scores.get(name))], headline=name in headline)
        for name in names
    ]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def suite(name: str, *, replace: bool = False):
    """Register a `Suite` subclass under `name` (a name already taken is an error
    unless `replace`; see `personascope.registry`)."""
    from personascope import registry

    def register(cls: type[Suite]) -> type[Suite]:
        registry.register("suite", name, cls, replace=replace)
        cls.name = name  # after registering: a refused duplicate leaves the class as it was
        return cls

    return register


def list_suites() -> list[str]:
    """Every registered suite name (the built-ins and those plugins bring)."""
    from personascope import registry

    return registry.names("suite")


def get_suite(name: str) -> Suite:
    """A new instance of the suite `name`, or of the class a `module:Class` reference names."""
    from personascope import registry

    cls = registry.get("suite", name)
    if not (isinstance(cls, type) and issubclass(cls, Suite)):
        raise PersonascopeError(f"{name!r} is not a Suite subclass: an eval suite subclasses personascope.evals.Suite")
    if registry.is_ref(name) and not getattr(cls, "name", None):
        cls.name = name
    return cls()
