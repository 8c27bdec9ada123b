"""What the `train` step does: build the data, train each (arm, seed) in the order
`init_from` asks, then evaluate and summarize every trained model."""

import random
from pathlib import Path
from typing import Any

from personascope.data import Example, write_dataset
from personascope.errors import PersonascopeError
from personascope.train._config import Arm, training_order


def _with_system(spec: Any, system: str, arm: str) -> Any:
    """The dataset spec with its generation system prompt replaced (recontextualization)."""
    for part in ("generate", "persona"):
        sub = getattr(spec, part, None)
        if sub is None:
            continue
        if "system" not in type(sub).model_fields:
            raise PersonascopeError(
                f"arms.{arm}.regenerate_system: a {part} dataset takes no system prompt to regenerate under "
                "(fix: use a generate: dataset)"
            )
        return spec.model_copy(update={part: sub.model_copy(update={"system": system})})
    raise PersonascopeError(
        f"arms.{arm}.regenerate_system needs a generate: or persona: dataset to regenerate (fix: change the dataset)"
    )


def arm_examples(examples: list[Example], arm: Arm, name: str, seed: int) -> list[Example]:
    """`examples` under the arm's training context; pools draw with a seed of the arm and seed."""
    rng = random.Random(f"{name}:{seed}")
    return [arm.context.apply(e, rng) for e in examples]


def _tokenizer(model: Any) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model.checkpoint().tokenizer_dir)


def _frame(model: Any) -> Any:
    from personascope.models._load import default_frame

    return model.frame if model.frame is not None else default_frame(model.name)


def _artifact(ctx, path: Path, name: str, kind: str, meta: dict | None = None) -> None:
    from personascope.store import Artifact

    run_dir = getattr(ctx, "run_dir", None)
    store = getattr(ctx, "store", None)
    if run_dir is None or store is None:
        return
    store.add_artifact(Artifact(ctx.step.id, name, kind, str(path.relative_to(run_dir)), meta or {}))


def run_train(step: Any, ctx: Any) -> None:
    from personascope.data import build_dataset
    from personascope.train._evaluate import evaluate_models, summarize
    from personascope.train._result import TrainResult
    from personascope.train._trainer import train_model

    models = ctx.models()
    if len(models) != 1:
        raise PersonascopeError(f"step {step.id}: a train step trains one base model; give it one (model: ALIAS)")
    alias, base = models[0]
    out = ctx.artifact_dir()
    order = training_order(step.arms)
    steer = {name: [ctx.resolve_spec(s) for s in arm.steer] for name, arm in step.arms.items()}
    for name, specs in steer.items():  # shapes and origin checked before anything trains
        base.check_interventions([("steer", s) for s in specs])

    examples, provenance = build_dataset(step.dataset, base, ctx)
    write_dataset(out / "dataset.jsonl", examples, provenance)
    _artifact(ctx, out / "dataset.jsonl", "dataset", "dataset", {"n": len(examples)})
    datasets = {None: examples}
    for name in order:
        system = step.arms[name].regenerate_system
        if system is not None and system not in datasets:
            regenerated, prov = build_dataset(_with_system(step.dataset, system, name), base, ctx)
            datasets[system] = regenerated
            write_dataset(out / name / "dataset.jsonl", regenerated, prov)

    run_id = Path(getattr(ctx, "run_dir", out)).name
    trained: dict[tuple[str, int], str] = {}
    names: dict[str, dict[str, str]] = {}
    monitor: dict[str, dict[str, list[dict]]] = {}
    training: dict[str, dict[str, dict]] = {}
    progress = ctx.progress if getattr(ctx, "show_progress", False) else None
    for seed in step.seeds:
        for name in order:
            arm = step.arms[name]
            method, args = arm.resolved(step.method, step.args, name)
            arm_dir = out / name / f"seed{seed}"
            data = arm_examples(datasets[arm.regenerate_system], arm, name, seed)
            start = base if arm.init_from is None else f"hf/{trained[(arm.init_from, seed)]}"
            callbacks = []
            if step.monitor is not None:
                from personascope.train._monitor import MonitorCallback

                callbacks.append(MonitorCallback(step.monitor, tokenizer=_tokenizer(base), log_path=arm_dir / "monitor.jsonl",
                                                 base_model=base, env=ctx, frame=_frame(base)))
            context = {"arm": name, "seed": seed, "context": arm.context.model_dump(mode="json"),
                       "regenerate_system": arm.regenerate_system, "init_from": arm.init_from}
            model_dir = train_model(start, data, method=method, args=args, out_dir=arm_dir, steer=steer[name], kl=arm.kl,
                                    callbacks=callbacks, progress=progress, seed=seed, context=context)
            trained[(name, seed)] = str(model_dir.resolve())
            names.setdefault(name, {})[str(seed)] = f"run:{run_id}/{step.id}/{name}/seed{seed}/model"
            _artifact(ctx, model_dir, f"model {name}/seed{seed}", "model", {"arm": name, "seed": seed})
            training.setdefault(name, {})[str(seed)] = _training_info(model_dir)
            if step.monitor is not None:
                from personascope.train._monitor import read_monitor

                monitor.setdefault(name, {})[str(seed)] = read_monitor(arm_dir / "monitor.jsonl")
                _artifact(ctx, arm_dir / "monitor.jsonl", f"monitor {name}/seed{seed}", "table")

    eval_models: dict[tuple[str, int], Any] = {key: f"hf/{path}" for key, path in trained.items()}
    if step.evaluate.base:  # the untrained model, as the arm the shifts are measured from
        from personascope.train._evaluate import BASE

        eval_models[(BASE, step.seeds[0])] = base
    rows = evaluate_models(eval_models, step.evaluate, env=ctx, arm_contexts={n: a.context for n, a in step.arms.items()})
    summary = summarize(rows, reference=step.reference_arm, condition="none", seed=ctx.seed)
    arms = {name: arm.model_dump(mode="json") for name, arm in step.arms.items()}
    ctx.record(alias, TrainResult(arms=arms, models=names, monitor=monitor, eval=rows, summary=summary, training=training))


def _training_info(model_dir: Path) -> dict:
    import json

    meta = json.loads((model_dir / "personascope.json").read_text())
    return {k: meta.get(k) for k in ("global_step", "train_loss", "resumed_from")}
