"""Self-report instruments as data: the file format, the loader (built-ins by name,
or a YAML/JSON file), merging user-supplied item texts into a shipped scoring key,
and scoring (reverse keying, subscale and total sums or means, cut-offs).

Standard questionnaires (GAD-7, PHQ-9, IPIP) ship as *keys only*: response scale,
item count, subscales, keying and published cut-offs. Their item texts stay with
their owners; users pass them in a file (`load_instrument(name, items=PATH)`).
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from personascope._yamlerrors import FixableError, read_text
from personascope.errors import PersonascopeError
from personascope.evals._likert import Point

_NAME = r"^[a-z0-9][a-z0-9_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScalePoint(_Strict):
    value: int
    """The number a respondent gives and the score it counts for (before reverse keying)."""
    label: str = Field(min_length=1)
    """The point's wording ("Several days")."""
    aliases: list[str] = []
    """Other phrases that mean this point in a free-text answer ("never")."""


class Cutoff(_Strict):
    min: float
    """Scores from here up to the next cut-off get `label`."""
    label: str = Field(min_length=1)


class Subscale(_Strict):
    name: str = Field(pattern=_NAME)
    codes: list[str] = []
    """Other names a user's key may give it (IPIP factor numbers "1", "I", "E")."""
    cutoffs: list[Cutoff] = []


class InstrumentItem(_Strict):
    id: str = Field(min_length=1)
    subscale: str
    reverse: bool = False
    """Reverse-keyed: scored as lowest + highest - answer."""
    text: str | None = None
    """Shipped only for our own scales; supplied by the user for standard ones."""


class Scoring(_Strict):
    method: Literal["sum", "mean"] = "sum"
    """How item scores combine into subscale and total scores."""
    total: bool = True
    """Whether a total over all items is meaningful (not for Big-Five factors)."""
    cutoffs: list[Cutoff] = []
    """Bands of the total, with labels (published human cut-offs, or ours marked as arbitrary)."""


class Instrument(_Strict):
    schema_version: Literal[1] = 1
    name: str = Field(pattern=_NAME)
    title: str
    aliases: list[str] = []
    """Names that count as the model naming this instrument ("GAD-7", "GAD7")."""
    measures: list[str] = []
    """Words that count as naming what it measures ("anxiety", "worry")."""
    description: str
    validated: bool
    """Whether published human validation exists; false for every scale we wrote."""
    texts: Literal["shipped", "user"]
    """"user": the item texts are not shipped and must come from an items file."""
    key: Literal["shipped", "user"] = "shipped"
    """"user": the items file also gives each item's subscale (factor) and keying."""
    n_items: int | None = None
    source: str = ""
    """Where the facts (scale, key, cut-offs) come from."""
    instructions: str
    scale: list[ScalePoint] = Field(min_length=2)
    subscales: list[Subscale] = Field(min_length=1)
    items: list[InstrumentItem] = []
    scoring: Scoring = Scoring()

    @model_validator(mode="after")
    def _consistent(self):
        values = [p.value for p in self.scale]
        if len(set(values)) != len(values):
            raise FixableError("scale values repeat", "give every scale point its own value")
        self.scale.sort(key=lambda p: p.value)
        subs = {s.name for s in self.subscales}
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise FixableError("item ids repeat", "give every item its own id")
        for item in self.items:
            if item.subscale not in subs:
                raise FixableError(f"item {item.id}: unknown subscale {item.subscale!r}", f"use one of {', '.join(sorted(subs))}")
            if (item.text is None) == (self.texts == "shipped"):
                fix = "write a text for every item" if self.texts == "shipped" else "remove item texts: they come from the user's file"
                raise FixableError(f"item {item.id}: text does not match texts: {self.texts}", fix)
        if self.key == "shipped" and not self.items:
            raise FixableError("no items", "list the items, or set key: user")
        if self.key == "shipped" and self.n_items is not None and self.n_items != len(self.items):
            raise FixableError(f"n_items is {self.n_items} but {len(self.items)} items are listed", "make them agree")
        for cuts in [self.scoring.cutoffs] + [s.cutoffs for s in self.subscales]:
            if any(b.min <= a.min for a, b in zip(cuts, cuts[1:])):
                raise FixableError("cut-offs are not in increasing order", "list cut-offs from the lowest min up")
        return self

    # -- helpers ---------------------------------------------------------------
    @property
    def points(self) -> list[Point]:
        return [Point(p.value, p.label, tuple(p.aliases)) for p in self.scale]

    @property
    def lo(self) -> int:
        return self.scale[0].value

    @property
    def hi(self) -> int:
        return self.scale[-1].value

    def keyed(self, item: InstrumentItem, value: float) -> float:
        return self.lo + self.hi - value if item.reverse else value

    def scale_text(self) -> str:
        return "\n".join(f"{p.value} = {p.label}" for p in self.scale)


# -- loading --------------------------------------------------------------------
def _data_dir():
    return resources.files("personascope.evals") / "data" / "instruments"


@cache
def list_instruments() -> tuple[str, ...]:
    return tuple(sorted(p.name[: -len(".yaml")] for p in _data_dir().iterdir() if p.name.endswith(".yaml")))


def load_instrument(name_or_path: str, items: str | Path | None = None) -> Instrument:
    """A built-in instrument or an instrument file, with item texts (and, for
    key-less instruments, the key) merged in from `items` when it needs them."""
    inst = _load(str(name_or_path))
    if inst.texts == "user":
        if items is None:
            raise PersonascopeError(
                f"instrument {inst.name!r} ships without its item texts (they are not ours to ship): "
                f"pass a file with them (option items=PATH: YAML, JSON or CSV with id and text columns"
                + (", plus factor and keying" if inst.key == "user" else f" for ids {_ids(inst)}") + ")"
            )
        inst = merge_texts(inst, Path(items).expanduser())
    return inst


def _ids(inst: Instrument) -> str:
    return ", ".join(i.id for i in inst.items)


@cache
def _load(text: str) -> Instrument:
    if text in list_instruments():
        source, file = (_data_dir() / f"{text}.yaml").read_text(encoding="utf-8"), f"<built-in {text}>"
    else:
        path = Path(text).expanduser()
        if not path.is_file():
            raise PersonascopeError(
                f"unknown instrument {text!r}: use a built-in ({', '.join(list_instruments())}) or a path to an instrument .yaml"
            )
        source, file = read_text(path, "instrument file"), str(path)
    return parse_instrument(source, file=file)


def parse_instrument(text: str, *, file: str = "<instrument>") -> Instrument:
    from pydantic import ValidationError

    from personascope._yamlerrors import YamlErrors, load_yaml

    raw = load_yaml(text, file)
    errors = YamlErrors(file, text, what="instrument", docs="docs/evals.md#psychometrics")
    if not isinstance(raw, dict):
        errors.add((), "an instrument is a mapping (name, title, scale, subscales, items, scoring...)",
                   "start from a built-in, e.g. personascope/evals/data/instruments/ps-anxiety.yaml")
        errors.raise_if_any()
    try:
        return Instrument.model_validate(raw)
    except ValidationError as exc:
        errors.add_pydantic(exc, fields=list(Instrument.model_fields))
        errors.raise_if_any()
        raise AssertionError("unreachable") from None


# -- user-supplied item texts ---------------------------------------------------
_SIGNS = {"+": False, "+1": False, "1": False, "plus": False, "pos": False, "positive": False,
          "-": True, "-1": True, "minus": True, "neg": True, "negative": True, "r": True, "reverse": True, "reversed": True}
_FLAGS = {"true": True, "yes": True, "1": True, "r": True, "false": False, "no": False, "0": False, "": False}


def _read_rows(path: Path) -> tuple[list[Any], str | None]:
    import csv
    import io
    import json

    import yaml

    from personascope._yamlerrors import load_yaml

    if not path.is_file():
        raise PersonascopeError(f"items file not found: {path} (fix: check the items=PATH option)")
    try:
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix.lower() == ".csv":
            return list(csv.DictReader(io.StringIO(text))), None
        data = json.loads(text) if path.suffix.lower() == ".json" else load_yaml(text, str(path))
    except (UnicodeDecodeError, ValueError, yaml.YAMLError, PersonascopeError) as exc:
        raise PersonascopeError(
            f"{path}: cannot read it ({str(exc).splitlines()[0]}) (fix: UTF-8 YAML, JSON or CSV; in YAML quote signs: keying: '-')"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        rows = [dict(r, instrument=data["instrument"]) if "instrument" in data and isinstance(r, dict) else r for r in data["items"]]
        return rows, data.get("instructions")
    if isinstance(data, dict):  # a plain id -> text mapping
        return [{"id": k, "text": v} for k, v in data.items()], None
    if isinstance(data, list):
        return data, None
    raise PersonascopeError(f"{path}: expected a list of items with id and text (or a mapping with an 'items' list)")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())  # "GAD-7", "gad7" and "gad 7" are one instrument


def merge_texts(inst: Instrument, path: Path) -> Instrument:
    """`inst` with the item texts (and for key-less instruments the key) from `path`:
    a list of items, a mapping with an `items` list (and optional `instructions`,
    `instrument`), a plain id -> text mapping, or a CSV with a header row."""
    rows, instructions = _read_rows(path)
    for k, row in enumerate(rows):
        if not isinstance(row, dict):
            raise PersonascopeError(f"{path}: item {k + 1} is not a mapping (fix: give each item an id and a text)")
    rows = [{str(key).strip().lower(): v for key, v in row.items() if key is not None} for row in rows]
    if any(r.get("instrument") for r in rows):
        names = {_key(n) for n in [inst.name, *inst.aliases]}
        mine = [r for r in rows if _key(str(r.get("instrument") or "")) in names]
        if not mine:
            named = sorted({str(r.get("instrument")) for r in rows if r.get("instrument")})
            raise PersonascopeError(f"{path}: no items for instrument {inst.name!r} (its instrument column names {', '.join(named)})")
        rows = mine
    given: dict[str, dict] = {}
    for k, row in enumerate(rows):
        rid, text = str(row.get("id") if row.get("id") is not None else "").strip(), str(row.get("text") or "").strip()
        if not rid or not text:
            raise PersonascopeError(f"{path}: item {k + 1} lacks {'an id' if not rid else 'a text'} (fix: every item needs id and text)")
        if rid in given:
            raise PersonascopeError(f"{path}: item id {rid!r} appears twice (fix: one row per item)")
        given[rid] = dict(row, id=rid, text=text)
    if inst.key == "shipped":
        expected = [i.id for i in inst.items]
        missing, extra = [i for i in expected if i not in given], [i for i in given if i not in expected]
        if missing or extra:
            problem = (f"no text for items {', '.join(missing)}" if missing else "") + ("; " if missing and extra else "")
            problem += f"ids not in {inst.name}: {', '.join(extra)}" if extra else ""
            raise PersonascopeError(f"{path}: {problem} (fix: {inst.name} has {len(expected)} items with ids {', '.join(expected)})")
        items = [i.model_copy(update={"text": given[i.id]["text"]}) for i in inst.items]
    else:
        items = [_keyed_item(inst, row, path) for row in given.values()]
        if inst.n_items is not None and len(items) != inst.n_items:
            raise PersonascopeError(f"{path}: {len(items)} items, but {inst.name} has {inst.n_items} (fix: list every item once)")
    return inst.model_copy(update={"items": items, "instructions": str(instructions or inst.instructions)})


def _keyed_item(inst: Instrument, row: dict, path: Path) -> InstrumentItem:
    factor = str(row.get("factor") or row.get("subscale") or "").strip()
    codes = {c.lower(): s.name for s in inst.subscales for c in [s.name, *s.codes]}
    if factor.lower() not in codes:
        raise PersonascopeError(
            f"{path}: item {row['id']}: factor {factor!r} is not one of {inst.name}'s "
            f"(fix: give a factor column with one of {', '.join(sorted(codes))})"
        )
    # A keying/sign column holds + or -; a reverse column holds true/false.
    if any(row.get(k) is not None for k in ("keying", "key", "sign")):
        sign = str(next(row[k] for k in ("keying", "key", "sign") if row.get(k) is not None)).strip().lower()
        reverse = _SIGNS.get(sign)
    else:
        sign = str(row.get("reverse") if row.get("reverse") is not None else "").strip().lower()
        reverse = _FLAGS.get(sign)
    if reverse is None:
        raise PersonascopeError(f"{path}: item {row['id']}: keying {sign!r} is not + or - (fix: a keying column with + or -)")
    return InstrumentItem(id=row["id"], subscale=codes[factor.lower()], reverse=reverse, text=row["text"])


# -- scoring --------------------------------------------------------------------
@dataclass
class InstrumentScore:
    subscales: dict[str, float | None]
    total: float | None
    category: str | None
    answered: int
    asked: int
    subscale_categories: dict[str, str | None] = field(default_factory=dict)


def band(value: float | None, cutoffs: list[Cutoff]) -> str | None:
    if value is None or not cutoffs:
        return None
    hits = [c.label for c in cutoffs if value >= c.min]
    return hits[-1] if hits else None


def score_answers(
    inst: Instrument, raw: Mapping[str, float | None], *, min_answered: float = 0.8, asked: Collection[str] | None = None
) -> InstrumentScore:
    """Subscale and total scores from raw answers by item id (None: unanswered).

    Only the `asked` items count (default: all); a score needs at least
    `min_answered` of its asked items answered. Sums over fewer answers than the
    instrument's items are prorated (mean x item count), the usual practice for
    missing answers, so that cut-offs keep their meaning."""
    asked = set(raw) if asked is None else set(asked)
    by_id = {i.id: i for i in inst.items}

    def combine(items: list[InstrumentItem]) -> float | None:
        mine = [i for i in items if i.id in asked]
        got = [inst.keyed(i, float(raw[i.id])) for i in mine if raw.get(i.id) is not None]
        if not mine or len(got) < min_answered * len(mine) or not got:
            return None
        mean = sum(got) / len(got)
        return round(mean, 9) if inst.scoring.method == "mean" else round(sum(got) * len(items) / len(got), 9)

    subs = {s.name: combine([i for i in inst.items if i.subscale == s.name]) for s in inst.subscales}
    total = combine(inst.items) if inst.scoring.total else None
    return InstrumentScore(
        subscales=subs, total=total, category=band(total, inst.scoring.cutoffs),
        answered=sum(raw.get(i) is not None for i in asked if i in by_id), asked=len(asked & set(by_id)),
        subscale_categories={s.name: band(subs[s.name], s.cutoffs) for s in inst.subscales if s.cutoffs},
    )
