"""Monitoring: conversations projected on persona vectors, per record and per token.

A record is a conversation (`messages`, the last assistant turn being the
response) or a `prompt`/`response` pair. For each vector we report the
projection at the last prompt token (where the model is about to answer: the
prompt-level signal that P1.6 and P3.2 ask about) and the mean over the
response. Per-token projections come from the engine's `tokens` capture, one
batch of samples at a time, so only one batch's requested layers are ever kept.
"""

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personascope.errors import PersonascopeError
from personascope.vectors._compare import _unique, vector_layer, vector_name
from personascope.vectors._vector import PersonaVector

if TYPE_CHECKING:
    import torch

    from personascope.engine import Engine, Prompt


def read_records(path: str | Path) -> list[dict]:
    """JSONL records, with errors that name the file and line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise PersonascopeError(f"no such records file: {path}")
    from personascope._yamlerrors import read_text

    records = []
    for n, line in enumerate(read_text(path, "records file").splitlines(), 1):
        if line.strip():
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PersonascopeError(f"{path}:{n} is not valid JSON ({exc.msg}): write one JSON object per line") from None
            if not isinstance(record, dict):
                raise PersonascopeError(f"{path}:{n} is not a JSON object: write one object per line")
            split_record(record, f"{path}:{n}")
            records.append(record)
    if not records:
        raise PersonascopeError(f"{path} has no records")
    return records


def split_record(record: dict, where: str = "record") -> tuple["Prompt", str | None]:
    """(prompt, response): the last assistant turn is the response, the rest the prompt."""
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m and "content" in m for m in messages):
            raise PersonascopeError(f"{where}: 'messages' must be a list of {{role, content}} objects")
        if messages and messages[-1]["role"] == "assistant":
            messages, response = messages[:-1], messages[-1]["content"]
        else:
            response = None  # a prompt only: the last-prompt projection still means something
        if not messages:
            raise PersonascopeError(f"{where}: the conversation has no turn before the assistant's reply")
        return messages, response
    if "prompt" in record:
        return record["prompt"], record.get("response")
    raise PersonascopeError(f"{where} has neither 'messages' nor 'prompt': give a conversation or a prompt/response pair")


@dataclass
class TokenProjections:
    """Projections of every token of one sample (prompt then response) on unit directions."""

    prompt_len: int
    token_ids: list[int]
    values: dict[int, "torch.Tensor"]
    """layer -> `[n_directions, n_tokens]`."""


def token_projections(
    engine: "Engine",
    prompts: Sequence["Prompt"],
    responses: Sequence[str],
    directions: dict[int, "torch.Tensor"],
    *,
    system: str | None = None,
    batch_size: int | None = None,
) -> list[TokenProjections]:
    """Per-token projections at each layer on unit(`directions[layer]` rows), `[k, hidden]` each.

    Interventions installed on the engine act as in generation (so a cap shows up
    in what is measured): capture outside `intervene` to measure the text alone.
    """
    import torch

    prompt_ids = engine.encode_prompts(prompts, system)
    response_ids = engine.encode_text([engine.reply_text(r) for r in responses])
    units = {}
    for layer, rows in directions.items():
        rows = torch.atleast_2d(rows).float()
        units[engine.check_layers([layer])[0]] = rows / rows.norm(dim=-1, keepdim=True)
    layers = sorted(units)
    chunk = batch_size or engine.forward_batch_size
    # Every token's activations are kept until projected, so samples go through
    # the engine one batch at a time (shortest first, as the engine batches them).
    order = sorted(range(len(prompt_ids)), key=lambda i: len(prompt_ids[i]) + len(response_ids[i]))
    out: list[TokenProjections | None] = [None] * len(order)
    for start in range(0, len(order), chunk):
        idx = order[start : start + chunk]
        acts = engine.capture(
            [prompts[i] for i in idx], [responses[i] for i in idx], layers=layers, poolings=("tokens",),
            system=system, batch_size=chunk,
        )
        for i, tokens in zip(idx, acts["tokens"]):
            values = {layer: units[layer] @ tokens[j].T for j, layer in enumerate(acts.layers)}
            out[i] = TokenProjections(len(prompt_ids[i]), prompt_ids[i] + response_ids[i], values)
    return out  # type: ignore[return-value]


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def load_monitored(vector_dirs: Sequence[str | Path], layer: int | None) -> list[tuple[str, PersonaVector, int]]:
    """(name, vector, layer) for each directory: `layer` or each vector's chosen layer."""
    vectors = [PersonaVector.load(Path(d).expanduser()) for d in vector_dirs]
    names = _unique([vector_name(v, d) for v, d in zip(vectors, vector_dirs)])
    return [(n, v, vector_layer(v, layer, d)) for n, v, d in zip(names, vectors, vector_dirs)]


def project_records(
    vector_dirs: Sequence[str | Path],
    model: "str | Engine | Any",
    records: Sequence[dict],
    *,
    layer: int | None = None,
    per_token: bool = False,
    cache=None,
    batch_size: int | None = None,
) -> list[dict]:
    """Each record with `projections[name] = {layer, last_prompt, response_mean[, per_token]}`.

    `model` is a model name (run through the call cache), a `Model` or an
    `Engine`. With `per_token`, each entry gets the response tokens' projections
    and the record gets the response `tokens`; without it the pooled activations
    come from (and go to) the cache. Missing responses give `response_mean: null`.
    """
    import torch

    from personascope.engine import Engine
    from personascope.models import get_model

    monitored = load_monitored(vector_dirs, layer)
    pairs = [split_record(r, f"record {i + 1}") for i, r in enumerate(records)]
    prompts, responses = [p for p, _ in pairs], [r or "" for _, r in pairs]
    handle = model if isinstance(model, Engine) else get_model(model, cache=cache)
    layers = sorted({lay for _, _, lay in monitored})
    n_layers = handle.n_layers if isinstance(handle, Engine) else handle.n_layers()
    for name, vec, _ in monitored:
        if vec.n_layers != n_layers:
            raise PersonascopeError(f"vector {name} has {vec.n_layers} layer rows but the model has {n_layers} layers")
    rows = [{**r, "projections": {}} for r in records]
    if per_token:
        engine = handle if isinstance(handle, Engine) else handle.engine
        directions = {lay: torch.stack([v[lay] for _, v, vl in monitored if vl == lay]) for lay in layers}
        index = {name: (lay, [n for n, _, vl in monitored if vl == lay].index(name)) for name, _, lay in monitored}
        tps = token_projections(engine, prompts, responses, directions, batch_size=batch_size)
        for row, tp in zip(rows, tps):
            resp_ids = tp.token_ids[tp.prompt_len :]
            row["tokens"] = [engine.tokenizer.decode([t]) for t in resp_ids]
            for name, _, lay in monitored:
                values = tp.values[lay][index[name][1]]
                resp = values[tp.prompt_len :]
                row["projections"][name] = {
                    "layer": lay,
                    "last_prompt": float(values[tp.prompt_len - 1]),
                    "response_mean": float(resp.double().mean()) if len(resp) else None,
                    "per_token": resp.tolist(),
                }
        return rows
    kwargs = {"batch_size": batch_size} if isinstance(handle, Engine) and batch_size else {}
    acts = handle.capture(prompts, responses, layers=layers, poolings=("last_prompt", "response_mean"), **kwargs)
    for name, vec, lay in monitored:
        j = acts.layers.index(lay)
        last = vec.project(acts["last_prompt"][:, j], lay).tolist()
        mean = vec.project(acts["response_mean"][:, j], lay).tolist()
        for row, x, y in zip(rows, last, mean):
            row["projections"][name] = {"layer": lay, "last_prompt": _number(x), "response_mean": _number(y)}
    return rows


def judge_records(rows: list[dict], vector_dirs: Sequence[str | Path], judge_model: str, *, cache=None, judges=None) -> None:
    """Judge each response for each vector's trait, into `projections[name]["score"]`.

    `judges` maps a vector name to a judge object (anything with `.score(questions,
    answers)`); by default each vector's meta `trait` is loaded and judged by
    `judge_model`. Vectors without a trait get no score.
    """
    monitored = load_monitored(vector_dirs, layer=0)
    pairs = [split_record(r) for r in rows]
    keep = [i for i, (_, resp) in enumerate(pairs) if resp]
    questions = [_last_user(pairs[i][0]) for i in keep]
    answers = [pairs[i][1] for i in keep]
    judged = 0
    for name, vec, _ in monitored:
        judge = (judges or {}).get(name)
        if judge is None and vec.meta.get("trait"):
            from personascope.judges import trait_judge
            from personascope.traits import load_trait

            judge = trait_judge(load_trait(vec.meta["trait"]), judge_model, cache=cache)
        if judge is None:
            continue  # a vector with no trait (say a role vector) has nothing to judge
        judged += 1
        for i, j in zip(keep, judge.score(questions, answers)):
            rows[i]["projections"][name]["score"] = getattr(j, "score", j)
    if not judged:
        raise PersonascopeError("none of the vectors names a trait in meta.json: give --score-field instead of --judge")


def _last_user(prompt: "Prompt") -> str:
    if isinstance(prompt, str):
        return prompt
    users = [m["content"] for m in prompt if m["role"] == "user"]
    return users[-1] if users else ""


def pearson_ci(x: Sequence[float], y: Sequence[float], *, level: float = 0.95, n_boot: int = 2000, seed: int = 0):
    """(r, low, high): Pearson r with a percentile-bootstrap CI over pairs (NaN below 3 pairs)."""
    import numpy as np

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 3 or x.std() == 0 or y.std() == 0:
        return math.nan, math.nan, math.nan
    r = float(np.corrcoef(x, y)[0, 1])
    idx = np.random.default_rng(seed).integers(0, x.size, size=(n_boot, x.size))
    xb, yb = x[idx], y[idx]
    xc, yc = xb - xb.mean(1, keepdims=True), yb - yb.mean(1, keepdims=True)
    denom = np.sqrt((xc**2).sum(1) * (yc**2).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rs = (xc * yc).sum(1) / denom  # resamples with no spread give NaN and drop out
    alpha = (1 - level) / 2
    low, high = np.nanquantile(rs, [alpha, 1 - alpha])
    return r, float(low), float(high)


def shift_predictor(
    rows: Sequence[dict],
    *,
    vector: str | None = None,
    score_field: str = "score",
    projection: str = "last_prompt",
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict:
    """How well the prompt-level projection predicts each record's trait score.

    Rows are `project_records` output; the score is `projections[vector][score_field]`
    (where `judge_records` puts judgments), else `row[score_field]`. Returns
    `pearson_r` with its bootstrap CI, `n`, and the least-squares `slope` and
    `intercept` of score on projection.
    """
    import numpy as np

    names = sorted({name for row in rows for name in row.get("projections", {})})
    if vector is None:
        if len(names) != 1:
            raise PersonascopeError(f"rows carry projections on {names or 'no vectors'}: name the vector to use")
        vector = names[0]
    xs, ys = [], []
    for row in rows:
        entry = row.get("projections", {}).get(vector, {})
        x, y = entry.get(projection), entry.get(score_field, row.get(score_field))
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and math.isfinite(x) and math.isfinite(y):
            xs.append(float(x))
            ys.append(float(y))
    r, low, high = pearson_ci(xs, ys, level=level, n_boot=n_boot, seed=seed)
    slope = intercept = math.nan
    if len(xs) >= 2 and np.std(xs) > 0:
        slope, intercept = (float(v) for v in np.polyfit(xs, ys, 1))
    return {
        "vector": vector, "projection": projection, "score_field": score_field, "n": len(xs),
        "pearson_r": r, "ci_low": low, "ci_high": high, "slope": slope, "intercept": intercept,
    }
