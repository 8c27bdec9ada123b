"""Self-chat attractors (agenda B1): two copies of one model talk freely, and where
their conversations end up is measured over seeds.

    from personascope.conversations import SelfChatConfig, run_selfchat
    result = run_selfchat("smollm2", SelfChatConfig(turns=6, seeds=4))
    result.frequencies   # share of conversations ending in each category, with CIs

Each conversation's end state (its last messages) is classified by topic with a
categorical judge; every message gets a programmatic bliss-lexicon score; white-box
models add projections per turn and end-state embeddings grouped by k-means, so the
grouping can be seen without trusting a judge. See docs/selfchat.md.
"""

import math
from collections.abc import Callable
from pathlib import Path
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from personascope.conversations._curves import slope
from personascope.conversations._selfchat_data import UNCLASSIFIED, _check_categories, bliss_score, load_data  # noqa: F401 (bliss_score: public)

class SelfChatConfig(BaseModel):
    """Two copies of one model talking freely: how long, how many times, what to measure."""

    model_config = ConfigDict(extra="forbid")

    turns: int = Field(10, ge=1)
    """Messages after the opening; the first copy writes the odd ones, the second the even ones."""
    seeds: int = Field(8, ge=1)
    """Conversations, each sampled with its own seed."""
    opening: str | None = Field(None, min_length=1)
    """The first copy's first user message; default: the data file's."""
    system: str | None = None
    """Both copies' system prompt ("" for none); default: the data file's."""
    categories: dict[str, str] | None = None
    """End-state categories, name -> one-line description; default: the data file's."""
    data: str | None = None
    """A YAML file laid out like the built-in `conversations/data/selfchat.yaml`; its entries replace the built-in ones."""
    max_tokens: int = Field(48, ge=1)
    """Length of each message."""
    temperature: float = Field(1.0, ge=0.0)
    """Sampling temperature; above 0 each seed gives its own conversation."""
    project: list[str] = Field(default_factory=list)
    """Vectors to project every message on, `VECTOR@LAYER` (white-box models only)."""
    judge_model: str | None = None
    """The model that classifies end states; default: the model itself."""
    both_orders: bool = True
    """Judge each end state with the options in the given and the reversed order and
    average: cancels a judge's preference for early (or late) letters."""
    end_turns: int = Field(2, ge=1)
    """The last messages that make up a conversation's end state."""
    embed_layer: int | None = Field(None, ge=0)
    """Layer of the end-state embeddings (white-box models); default: the middle layer."""
    clusters: int | None = Field(None, ge=1)
    """k of the end-state k-means; default: the number of categories the judge used."""

    _categories = field_validator("categories")(classmethod(lambda cls, v: _check_categories(v)))

    @model_validator(mode="after")
    def _check(self) -> "SelfChatConfig":
        if self.temperature == 0 and self.seeds > 1:
            raise ValueError("seeds > 1 with temperature 0 repeats one greedy conversation: set temperature > 0 or seeds 1")
        return self

    def setup(self) -> dict[str, Any]:
        """Opening, system prompt, categories, judge template and lexicon as this run uses them."""
        data = load_data(self.data)
        return {
            "opening": self.opening if self.opening is not None else data.opening,
            "system": self.system if self.system is not None else data.system or "",
            "categories": dict(self.categories if self.categories is not None else data.categories),
            "judge": data.judge, "lexicon": data.bliss.model_dump(),
        }


def speaker(turn: int) -> str:
    """Who writes message `turn` (1-based): copy A the odd ones, copy B the even ones."""
    return "A" if turn % 2 else "B"


def view(texts: list[str], turn: int, system: str = "") -> list[dict]:
    """What the copy writing message `turn` sees: its own messages as the assistant's,
    the other's as the user's. `texts[0]` is the opening, which only copy A sees:
    B's conversation starts at A's first reply, so both always answer a user message."""
    messages = [{"role": "system", "content": system}] if system else []
    for k in range(0 if turn % 2 else 1, turn):
        messages.append({"role": "user" if (turn - k) % 2 else "assistant", "content": texts[k]})
    return messages


def kmeans(points, k: int, *, seed: int = 0, iters: int = 100, restarts: int = 8) -> list[int]:
    """Cluster labels of `[n, d]` points (k-means++ starts, best of `restarts` by
    inertia), numbered in order of first appearance so reruns name clusters alike."""
    import torch

    x = torch.as_tensor(points, dtype=torch.float64)
    n, k = x.shape[0], max(1, min(k, x.shape[0]))
    gen = torch.Generator().manual_seed(seed)
    best, best_inertia = torch.zeros(n, dtype=torch.long), math.inf
    for _ in range(restarts):
        centers = x[torch.randint(n, (1,), generator=gen)]
        while centers.shape[0] < k:
            d2 = torch.cdist(x, centers).min(dim=1).values ** 2
            pick = torch.multinomial(d2, 1, generator=gen) if d2.sum() > 0 else torch.randint(n, (1,), generator=gen)
            centers = torch.cat([centers, x[pick]])
        for _ in range(iters):
            labels = torch.cdist(x, centers).argmin(dim=1)
            moved = torch.stack([x[labels == j].mean(0) if (labels == j).any() else centers[j] for j in range(k)])
            if torch.allclose(moved, centers):
                break
            centers = moved
        inertia = float(((x - centers[labels]) ** 2).sum())
        if inertia < best_inertia - 1e-9:
            best, best_inertia = labels, inertia
    order: dict[int, int] = {}
    return [order.setdefault(int(j), len(order)) for j in best]


def pca2(points) -> list[list[float]]:
    """The points' coordinates on their first two principal components."""
    import torch

    x = torch.as_tensor(points, dtype=torch.float64)
    x = x - x.mean(0)
    if x.shape[0] < 2:
        return [[0.0, 0.0] for _ in range(x.shape[0])]
    u, s, _ = torch.linalg.svd(x, full_matrices=False)
    coords = (u * s)[:, :2]
    coords = torch.cat([coords, torch.zeros(x.shape[0], 2 - coords.shape[1], dtype=x.dtype)], dim=1)
    return coords.tolist()


@dataclass
class Conversation:
    """One self-chat: its messages (after the opening) and what was measured on them."""

    seed: int
    messages: list[str] = field(default_factory=list)
    bliss: list[float] = field(default_factory=list)
    """Bliss-lexicon score of each message (0..100)."""
    repeat: list[float] = field(default_factory=list)
    """How much of each message copies the message it answers (0..100)."""
    projections: list[dict[str, float]] = field(default_factory=list)
    category: str = UNCLASSIFIED
    probs: dict[str, float] | None = None
    """The judge's distribution over categories (None: it named none)."""
    judge_method: str = ""
    cluster: int | None = None
    point: list[float] | None = None
    """The end-state embedding on its first two principal components."""


def run_selfchat(
    model,
    config: SelfChatConfig | None = None,
    *,
    seed: int = 0,
    cache=None,
    progress: Callable | None = None,
    base_dir: str | Path | None = None,
) -> "SelfChatResult":
    """Converse, judge, score and (white-box) embed (the `selfchat` step on one model).
    `model` is a name, a `ModelConfig` or a `Model`; conversation k samples with seed
    `seed + k`; `cache` is a named model's (and the judge's) call cache; `progress`
    and `base_dir` are as for `run_drift`."""
    from personascope.conversations._step_selfchat import SelfChatStep
    from personascope.models import get_model
    from personascope.protocol import LocalEnv

    step = SelfChatStep(id="selfchat", type="selfchat", **(config or SelfChatConfig()).model_dump())
    model = get_model(model, cache=cache)
    env = LocalEnv(seed=seed, cache=model.cache, progress_fn=progress, base_dir=Path(base_dir or Path.cwd()))
    return step.execute(model, env)


def end_state(conv: Conversation, end_turns: int) -> str:
    """The last `end_turns` messages, each after its speaker (named in words: letters
    would read as answers to the judge's lettered options)."""
    first = max(len(conv.messages) - end_turns, 0)
    names = {"A": "First AI", "B": "Second AI"}
    return "\n\n".join(f"{names[speaker(t + 1)]}: {conv.messages[t]}" for t in range(first, len(conv.messages)))


def _activations(model, convs, texts, system, config, projections, layer, seed, steps) -> None:
    """Projections of every message and k-means of the end states' mean activations."""
    import torch

    from personascope.vectors import PersonaVector

    layers = sorted({layer, *(p.layer for p in projections)})
    first_end = config.turns - min(config.end_turns, config.turns) + 1
    # Empty messages have no tokens to average; they keep no projection or embedding.
    where = [(i, t) for i, c in enumerate(convs) for t in range(1, config.turns + 1)
             if c.messages[t - 1] and (projections or t >= first_end)]
    if not where:
        return
    with steps("selfchat: activations", len(where)) as advance:
        acts = model.capture([view(texts[i], t, system) for i, t in where], [convs[i].messages[t - 1] for i, t in where],
                             layers=layers, progress=advance)["response_mean"]
    for p in projections:
        values = PersonaVector.load(p.path).project(acts[:, layers.index(p.layer)], p.layer).tolist()
        for (i, t), v in zip(where, values):
            convs[i].projections[t - 1][p.label] = v
    rows: dict[int, list[int]] = {}
    for r, (i, t) in enumerate(where):
        if t >= first_end:
            rows.setdefault(i, []).append(r)
    if not rows:
        return
    emb = torch.stack([acts[idx, layers.index(layer)].float().mean(0) for idx in rows.values()])
    emb = emb / emb.norm(dim=1, keepdim=True).clamp_min(1e-12)  # cosine geometry: residual norms grow with length
    k = config.clusters or len({c.category for c in convs})
    for i, label, point in zip(rows, kmeans(emb, k, seed=seed), pca2(emb)):
        convs[i].cluster, convs[i].point = label, point


@dataclass
class SelfChatResult:
    """Conversations and the statistics over them (frequencies and curves over seeds)."""

    model: str
    config: SelfChatConfig
    setup: dict[str, Any]
    conversations: list[Conversation]
    frequencies: list[dict] = field(default_factory=list)
    """Per category: share of conversations ending there, bootstrap CI, count."""
    curves: list[dict] = field(default_factory=list)
    """Per measure (bliss, projection specs) and turn: mean over conversations with CI."""
    slopes: list[dict] = field(default_factory=list)
    clusters: dict | None = None
    """k-means of end-state embeddings: layer, counts per cluster and category, purity."""
    judge: str = ""
    white_box: bool = True
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1, "model": self.model, "config": self.config.model_dump(), "setup": self.setup,
            "judge": self.judge, "white_box": self.white_box, "seconds": self.seconds, "frequencies": self.frequencies,
            "curves": self.curves, "slopes": self.slopes, "clusters": self.clusters,
            "conversations": [asdict(c) for c in self.conversations],
        }

    def metrics(self, step: str, model: str):
        """End-state shares (the first category's is the headline), first and last
        turn of each curve, slopes, and how well clusters match judged categories."""
        from personascope.store import Metric

        first = next(iter(self.setup["categories"]))
        out = [Metric(step, f"end state {r['category']}", r["share"], "", model, r["low"], r["high"], r["n"],
                      headline=r["category"] == first) for r in self.frequencies]
        last = self.config.turns
        for r in self.curves:
            if r["turn"] in (1, last):
                out.append(Metric(step, f"{r['measure']} turn {r['turn']}", r["mean"], "", model, r["low"], r["high"], r["n"]))
        out += [Metric(step, f"{r['measure']} slope", r["mean"], "", model, r["low"], r["high"], r["n"]) for r in self.slopes]
        if self.clusters and self.clusters["purity"] is not None:
            out.append(Metric(step, "cluster purity", self.clusters["purity"], "", model, n=self.clusters["n"]))
        return out

    def transcripts(self, step: str, model: str):
        """One transcript per conversation, as copy A saw it (B's messages as the user's)."""
        from personascope.store import Transcript

        out = []
        for c in self.conversations:
            system = [{"role": "system", "content": self.setup["system"]}] if self.setup["system"] else []
            messages = [*system, {"role": "user", "content": self.setup["opening"]}]
            messages += [{"role": "assistant" if t % 2 == 0 else "user", "content": m} for t, m in enumerate(c.messages)]
            scores = {f"turn {t + 1} {m}": v for m in ("bliss", "repeat") for t, v in enumerate(getattr(c, m))}
            scores.update({f"turn {t + 1} {k}": v for t, p in enumerate(c.projections) for k, v in p.items()})
            out.append(Transcript(
                id=f"{model}:selfchat:seed{c.seed}", step=step, messages=messages,
                output=c.messages[-1] if c.messages else "", model=model, sample=f"seed {c.seed}", scores=scores,
                metadata={"category": c.category, "probs": c.probs, "cluster": c.cluster, "speakers": "assistant = A, user = B"},
            ))
        return out


def _curve(series: list[list[float]], measure: str, seed: int) -> list[dict]:
    from personascope.stats import bootstrap_mean

    out = []
    for t in range(max((len(s) for s in series), default=0)):
        e = bootstrap_mean([s[t] for s in series if t < len(s)], seed=seed)
        out.append({"measure": measure, "turn": t + 1, "mean": e.value, "low": e.low, "high": e.high, "n": e.n})
    return out


def summarise(name, config, setup, convs, judge, white_box, layer, seed, seconds) -> SelfChatResult:
    """Frequencies, curves, slopes and the cluster table over conversations."""
    from personascope.stats import bootstrap_mean

    cats = [*setup["categories"], *([UNCLASSIFIED] if any(c.category == UNCLASSIFIED for c in convs) else [])]
    freqs = []
    for cat in cats:
        hits = [float(c.category == cat) for c in convs]
        e = bootstrap_mean(hits, seed=seed)
        freqs.append({"category": cat, "share": e.value, "low": e.low, "high": e.high, "count": int(sum(hits)), "n": e.n})
    measures = {"bliss": [c.bliss for c in convs], "repeat": [c.repeat for c in convs]}
    measures.update({spec: [[p.get(spec, math.nan) for p in c.projections] for c in convs] for spec in config.project})
    curves, slopes = [], []
    for m, series in measures.items():
        curves += _curve(series, m, seed)
        e = bootstrap_mean([slope(s) for s in series], seed=seed)
        slopes.append({"measure": m, "mean": e.value, "low": e.low, "high": e.high, "n": e.n})
    clusters = None
    placed = [c for c in convs if c.cluster is not None]
    if placed:
        counts: dict[str, dict[str, int]] = {}
        for c in placed:
            row = counts.setdefault(str(c.cluster), {})
            row[c.category] = row.get(c.category, 0) + 1
        # Purity: share of judged end states whose cluster's most common judged category is their own.
        judged = [{k: v for k, v in row.items() if k != UNCLASSIFIED} for row in counts.values()]
        total = sum(sum(row.values()) for row in judged)
        purity = sum(max(row.values(), default=0) for row in judged) / total if total else None
        clusters = {"layer": layer, "k": len(counts), "n": len(placed), "counts": counts, "purity": purity}
    return SelfChatResult(name, config, setup, convs, freqs, curves, slopes, clusters, judge, white_box, seconds)
