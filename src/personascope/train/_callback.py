"""The monitor as a transformers `TrainerCallback` (imported on first use: it loads
transformers). See `_monitor.py` for what a row holds.

A check runs at train begin (global step 0: the baseline), at every `every`-th
step, and at the last step. At a check step the callback asks the trainer to log,
so the row's loss is the trainer's own (mean since the previous log) and the check
runs in `on_log`, after the optimizer step. Only the main process measures and writes.
"""

import math
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from personascope.train._monitor import MonitorConfig, append_row, read_monitor


class MonitorCallback(TrainerCallback):
    """Writes one monitor row per check to `log_path` (JSONL, no global step twice).

    `base_model` (a model name or `Model`, through `env.model` when `env` is given)
    is what projection shifts are measured from: its greedy replies to the same
    prompts, through the call cache. Without it, the shift is from this run's
    baseline row (the same thing when training starts from the base).
    """

    def __init__(self, config: MonitorConfig, *, tokenizer: Any, log_path: str | Path, base_model=None, env=None, frame=None) -> None:
        self.config = config if isinstance(config, MonitorConfig) else MonitorConfig.model_validate(config)
        self.tokenizer = tokenizer
        self.log_path = Path(log_path).expanduser()
        self.base_model = base_model
        self.env = env
        self.frame = frame
        self.prompts = self.config.probe_prompts()
        self._scorers = None
        self._units = None
        self._tracker = None
        self._reference: dict[str, float] | None = None
        self._norm_valid = True

    # -- setup ------------------------------------------------------------------
    def _setup(self, model) -> None:
        from personascope.judges import get_scorer
        from personascope.train._probe import UpdateTracker, unit_vectors

        text = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        self._scorers = {name: get_scorer(name) for name in self.config.scorers}
        # Specs keep their written label; a study env makes `STEP@L` this run's vector path.
        resolve = getattr(self.env, "resolve_spec", None) or (lambda spec: spec)
        dims = (text.num_hidden_layers, text.hidden_size)
        self._units = {v: next(iter(unit_vectors([resolve(v)], *dims).values())) for v in self.config.vectors}
        self._tracker = UpdateTracker(model)

    def _base_reference(self) -> dict[str, float]:
        """The base model's mean projections on the probe prompts (cached model calls)."""
        from personascope.engine import GenerateConfig

        if not self._units:  # no vectors to project on: nothing to measure, no model to load
            return {}
        if self.env is not None:
            model = self.env.model(self.base_model)
        else:
            from personascope.models import get_model

            model = get_model(self.base_model)
        messages = [[{"role": "user", "content": q}] for q in self.prompts]
        gens = model.generate(messages, GenerateConfig(max_new_tokens=self.config.max_tokens, temperature=0.0))
        layers = sorted({layer for layer, _ in self._units.values()})
        acts = model.capture(messages, [g.text for g in gens], layers=layers, poolings=("response_mean",))
        out = {}
        for name, (layer, unit) in self._units.items():
            values = (acts["response_mean"][:, acts.layers.index(layer)].float() @ unit).tolist()
            values = [v for v in values if math.isfinite(v)]
            out[name] = sum(values) / len(values) if values else math.nan
        return out

    # -- events -----------------------------------------------------------------
    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if not state.is_world_process_zero or model is None:
            return
        self._setup(model)
        rows = read_monitor(self.log_path)
        if self.base_model is not None:
            self._reference = self._base_reference()
        elif rows and rows[0]["global_step"] == 0:
            self._reference = {k: (math.nan if v is None else v) for k, v in rows[0]["projection"].items()}
        if state.global_step == 0:
            self._check(model, state, loss=None)
        else:
            # Resumed: the snapshot of the weights at the last check is gone, so the
            # first increment after a resume has no cosine; a full finetune's initial
            # weights are gone too, so its update norm is unknown from here on.
            self._tracker.check(model)
            self._norm_valid = self._tracker.lora

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % self.config.every == 0 or state.global_step >= state.max_steps:
            control.should_log = True
        return control

    def on_log(self, args, state, control, logs=None, model=None, **kwargs):
        step = state.global_step
        if not (logs and "loss" in logs) or model is None or not state.is_world_process_zero:
            return
        if step % self.config.every == 0 or step >= state.max_steps:
            self._check(model, state, loss=float(logs["loss"]))

    def on_train_end(self, args, state, control, model=None, **kwargs):
        # In case the last step was not logged (a trainer configured not to log).
        if model is None or not state.is_world_process_zero or self._tracker is None:
            return
        if not any(r["global_step"] == state.global_step for r in read_monitor(self.log_path)):
            losses = [h["loss"] for h in state.log_history if "loss" in h]
            self._check(model, state, loss=losses[-1] if losses else None)

    # -- one check ----------------------------------------------------------------
    def _check(self, model, state, loss: float | None) -> dict | None:
        import torch

        from personascope.train._probe import greedy_replies, reply_projections

        step = state.global_step
        if any(r["global_step"] == step for r in read_monitor(self.log_path)):
            self._tracker.check(model)  # keep the increments in step with the log
            return None
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                prompt_ids, replies = greedy_replies(
                    model, self.tokenizer, self.prompts, frame=self.frame, max_tokens=self.config.max_tokens
                )
                projection = reply_projections(model, self.tokenizer, prompt_ids, replies, self._units, frame=self.frame)
        finally:
            model.train(was_training)
        scores = {
            name: sum(float(fn(q, r)) for q, r in zip(self.prompts, replies)) / len(replies)
            for name, fn in self._scorers.items()
        }
        if self._reference is None and step == 0:
            self._reference = dict(projection)
        reference = self._reference or {}
        shift = {k: v - reference.get(k, math.nan) for k, v in projection.items()}
        norm, cosine = self._tracker.check(model)
        row = {
            "global_step": step, "epoch": float(state.epoch or 0.0), "loss": loss,
            "adapter_norm": norm if self._norm_valid else None, "update_cosine": cosine,
            "scores": scores, "projection": projection, "projection_shift": shift,
        }
        append_row(self.log_path, row)
        return row
