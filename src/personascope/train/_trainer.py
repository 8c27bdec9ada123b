"""`train_model`: one base model, one dataset, one method, trained with TRL's
SFTTrainer (PEFT's LoRA, or every weight) into a model directory every model name
can point at.

`out_dir/model` is the result: a PEFT adapter (its `base_model_name_or_path` is
the base's personascope name, so `hf/<dir>` and `run:<RUN>/<path>` load it) or a
full checkpoint with its tokenizer; `personascope.json` beside it says what was
trained from what. `out_dir/checkpoints` holds the trainer's last checkpoints
while training runs: a killed run, rerun, resumes from the latest; a finished one
with the same inputs is returned without training.
"""

import json
import os
import shutil
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from personascope._files import atomic_write
from personascope.data import Example, dataset_digest
from personascope.errors import PersonascopeError
from personascope.train._config import Method, TrainArgs

META = "personascope.json"
_IDENTITY = "train.json"  # the inputs the checkpoints under out_dir belong to


def _steer_items(steer: Any) -> tuple[list, list]:
    """(spec items, engine interventions given directly) from specs, a spec, or interventions."""
    from personascope.engine._spec import InterventionSpec

    if isinstance(steer, InterventionSpec):
        return list(steer.items), []
    specs = [("steer", s) for s in steer if isinstance(s, str)]
    direct = [s for s in steer if not isinstance(s, str)]
    return list(InterventionSpec.from_pairs(specs).items), direct


def _base_name(model: Any, model_dir: Path) -> str:
    """How the adapter names its base: a personascope name where it is stable; a path
    relative to the adapter for a model trained here close by (an earlier stage in
    the same step's artifacts), so a copied run keeps working; else the resolved directory (a
    `run:latest/...` base would move as runs are added)."""
    if model.ref.kind == "embedded" or (model.ref.kind == "hf" and not Path(model.ref.target).expanduser().exists()):
        return model.name
    source = Path(model.checkpoint().source).resolve()
    relative = os.path.relpath(source, model_dir.resolve())
    if (source / META).is_file() and relative.split(os.sep).count("..") <= 3:
        return relative
    return f"hf/{source}"


def identity(model: Any, examples: Sequence[Example], method: Method, args: TrainArgs, steer: Any, kl: float,
             context: dict | None) -> dict:
    """What the trained model depends on: equal identities give equal models."""
    items, direct = _steer_items(steer)
    return {
        "base": model.name,
        "base_fingerprint": model.fingerprint(),
        "method": method.model_dump(mode="json"),
        # The default schedule keeps the key it had before the field existed: trained models stay valid.
        "args": args.model_dump(mode="json", exclude={"lr_schedule"} if args.lr_schedule == "linear" else None),
        "dataset": dataset_digest(list(examples)),
        "n_examples": len(examples),
        "steer": [item.key() for item in items] + [repr(d) for d in direct],
        "kl": kl,
        "context": context or {},
    }


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except ValueError:
        return None


def finished(out_dir: str | Path, ident: dict) -> Path | None:
    """The model directory under `out_dir` if it was trained from exactly `ident`."""
    model_dir = Path(out_dir) / "model"
    meta = _read_json(model_dir / META)
    return model_dir if meta is not None and meta.get("identity") == ident else None


def _linear_names(model) -> list[str]:
    """The names of the linear layers inside the decoder blocks (what PEFT's
    'all-linear' adapts: every linear layer but the output head)."""
    import torch

    head = model.get_output_embeddings()
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, torch.nn.Linear) and module is not head and ".layers." in f".{name}"})


def _device_dtype():
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return "cpu", torch.float32


def train_model(
    base: Any,
    examples: Sequence[Example],
    *,
    method: Method | None = None,
    args: TrainArgs | None = None,
    out_dir: str | Path,
    steer: Sequence[Any] = (),
    kl: float = 0.0,
    callbacks: Sequence[Any] = (),
    resume: bool = True,
    progress: Callable | None = None,
    seed: int = 0,
    context: dict | None = None,
) -> Path:
    """Train `base` (a model name or `Model`) on `examples` and return the saved model
    directory (`out_dir/model`).

    `steer`: steering specs (or engine interventions) active in training forward
    passes only; `kl`: weight of KL(trained || base) on completion tokens; `callbacks`:
    transformers TrainerCallbacks (e.g. checkpoint monitoring); `resume`: continue from
    the last checkpoint under `out_dir/checkpoints`; `seed`: used unless `args.seed`
    is set; `context`: recorded in `personascope.json` (the arm's prompt context).
    """
    from personascope.models import get_model

    method, args = method or Method(), args or TrainArgs()
    if not examples:
        raise PersonascopeError("train_model: the dataset is empty (fix: give at least one example)")
    model = get_model(base)
    if not model.white_box:
        raise PersonascopeError(f"{model.name} is a black-box model: training needs smollm2 or hf/<path>")
    out_dir = Path(out_dir)
    seed = args.seed if args.seed is not None else seed
    ident = {**identity(model, examples, method, args, steer, kl, context), "seed": seed}
    done = finished(out_dir, ident)
    if done is not None:
        return done
    checkpoints = out_dir / "checkpoints"
    if not resume or _read_json(out_dir / _IDENTITY) != ident:
        # Checkpoints of other inputs would resume the wrong training.
        shutil.rmtree(checkpoints, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / _IDENTITY, json.dumps(ident, indent=2, sort_keys=True) + "\n")
    with _quiet():
        trainer, tokenizer = _build(model, examples, method, args, checkpoints, steer, kl, callbacks, progress, seed)
        last = _last_checkpoint(checkpoints) if resume else None
        output = trainer.train(resume_from_checkpoint=str(last) if last else None)
        return _save(trainer, model, tokenizer, method, out_dir, ident, output, last)


@contextmanager
def _quiet():
    """No library bars or log lines: the caller's progress display (if any) shows training."""
    import datasets
    from transformers.utils import logging as tf_logging

    was_data, was_tf = datasets.is_progress_bar_enabled(), tf_logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    tf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_data:
            datasets.enable_progress_bars()
        if was_tf:
            tf_logging.enable_progress_bar()


def _last_checkpoint(checkpoints: Path) -> Path | None:
    from transformers.trainer_utils import get_last_checkpoint

    return Path(found) if checkpoints.is_dir() and (found := get_last_checkpoint(str(checkpoints))) else None


def _build(model, examples, method, args, checkpoints, steer, kl, callbacks, progress, seed):
    import copy

    from datasets import Dataset
    from transformers import AutoTokenizer, set_seed
    from trl import SFTConfig

    from personascope.engine._layers import find_layers
    from personascope.models._checkpoint import load_weights
    from personascope.models._load import default_frame
    from personascope.train._render import training_ids
    from personascope.train._sft import copy_reference, lora_reference, make_trainer, progress_callback

    set_seed(seed)
    device, dtype = _device_dtype()
    checkpoint = model.checkpoint()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint.tokenizer_dir)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    frame = model.frame if model.frame is not None else default_frame(model.name)
    rows = []
    for example in examples:
        prompt_ids, completion_ids = training_ids(tokenizer, example, frame)
        rows.append({"input_ids": prompt_ids + completion_ids, "completion_mask": [0] * len(prompt_ids) + [1] * len(completion_ids)})
    hf_model = load_weights(checkpoint, dtype).to(device)
    blocks = find_layers(hf_model, model.layers_path)
    hidden = int(hf_model.config.get_text_config().hidden_size)
    items, direct = _steer_items(steer)
    interventions = [item.resolve(len(blocks), hidden) for item in items] + direct
    peft_config = None
    reference = None
    if method.kind == "lora":
        from peft import LoraConfig

        targets = method.target_modules
        if method.layers is not None and targets == "all-linear":  # PEFT takes layers only with module names
            targets = _linear_names(hf_model)
        peft_config = LoraConfig(
            r=method.r, lora_alpha=method.lora_alpha, lora_dropout=method.dropout, target_modules=targets,
            use_rslora=method.rslora, layers_to_transform=method.layers, task_type="CAUSAL_LM",
        )
        reference = lora_reference if kl else None
    elif kl:
        frozen = copy.deepcopy(hf_model).eval().requires_grad_(False)
        reference = copy_reference(frozen)
    config = SFTConfig(
        output_dir=str(checkpoints), num_train_epochs=args.epochs, learning_rate=args.learning_rate,
        per_device_train_batch_size=args.batch_size, gradient_accumulation_steps=args.grad_accum,
        warmup_steps=args.warmup_ratio,  # below 1 transformers reads it as a share of the steps
        lr_scheduler_type=args.lr_schedule,
        max_length=args.max_length,
        save_strategy="steps", save_steps=args.save_every, save_total_limit=2, logging_steps=1,
        report_to="none", seed=seed, data_seed=seed, bf16=dtype.is_floating_point and str(dtype) == "torch.bfloat16",
        fp16=str(dtype) == "torch.float16", use_cpu=device == "cpu", activation_checkpointing=False,
        completion_only_loss=True, packing=False, disable_tqdm=True, dataloader_num_workers=0,
        log_level="error", save_only_model=False,
    )
    callbacks = [*callbacks, *([progress_callback(progress)] if progress else [])]
    trainer = make_trainer(
        blocks=blocks, hidden_size=hidden, interventions=interventions, kl=kl, reference=reference,
        model=hf_model, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
        peft_config=peft_config, callbacks=callbacks,
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # it prints every log row; personascope.json keeps them
    return trainer, tokenizer


def _save(trainer, model, tokenizer, method, out_dir: Path, ident: dict, output, resumed: Path | None) -> Path:
    import personascope

    final, tmp = out_dir / "model", out_dir / "model.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    trained = trainer.accelerator.unwrap_model(trainer.model)
    trained.save_pretrained(tmp)
    if method.kind == "lora":
        config_file = tmp / "adapter_config.json"
        config = json.loads(config_file.read_text())
        config["base_model_name_or_path"] = _base_name(model, final)
        atomic_write(config_file, json.dumps(config, indent=2, sort_keys=True) + "\n")
    else:
        tokenizer.save_pretrained(tmp)
    history = [row for row in trainer.state.log_history if "loss" in row]
    meta = {
        "identity": ident,
        "global_step": trainer.state.global_step,
        "train_loss": output.training_loss,
        "losses": [{k: r[k] for k in ("step", "loss", "kl", "learning_rate") if k in r} for r in history],
        "resumed_from": resumed.name if resumed else None,
        "version": getattr(personascope, "__version__", None),
    }
    atomic_write(tmp / META, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)  # the finished model supersedes them
    return final
