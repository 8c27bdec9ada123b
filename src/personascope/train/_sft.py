"""TRL's SFTTrainer with two additions an arm may ask for: steering in the training
forward passes (preventative steering) and a KL penalty against the frozen base.

Steering hooks go on for each training forward pass and come off before it
returns: the gradient flows through the steered activations (autograd keeps
them), while anything else that runs the model during training (a monitoring
callback, evaluation) sees the model as it will be deployed. The engine's
`PositionState` gets the batch's completion mask, so `:response` steering acts on
the completion tokens and `:prompt` steering on the prompt. Gradient
checkpointing stays off: its recomputation in the backward pass would run
without the hooks.
"""

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from personascope.errors import PersonascopeError


def make_trainer(*, blocks: Sequence, hidden_size: int, interventions: Sequence, kl: float, reference: Any, **kwargs):
    """An `SFTTrainer` (of a subclass made here, so `trl` loads only when training)."""
    import torch
    from trl import SFTTrainer

    from personascope.engine._interventions import PositionState, install

    class ArmTrainer(SFTTrainer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.state_positions = PositionState()

        @contextmanager
        def _steered(self, inputs: dict):
            if not interventions:
                yield
                return
            # Response positions are the completion tokens (the labels the loss covers),
            # as the engine marks a scored reply's tokens.
            self.state_positions.response_mask = inputs["labels"] != -100
            handle = install(blocks, interventions, self.state_positions, hidden_size)
            try:
                yield
            finally:
                handle.remove()
                self.state_positions.response_mask = None

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if kl == 0 or not model.training:
                with self._steered(inputs):
                    return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            return self._loss_with_kl(model, inputs, num_items_in_batch)

        def _loss_with_kl(self, model, inputs, num_items_in_batch):
            labels = inputs["labels"]
            forward = {k: v for k, v in inputs.items() if k != "labels"}
            forward["use_cache"] = False
            with self._steered(inputs):
                logits = model(**forward).logits
            # Position t predicts token t + 1: the completion's predictions are where the next label counts.
            target = labels[:, 1:]
            valid = (target != -100).float()
            logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            nll = -logp.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            count = torch.as_tensor(num_items_in_batch if num_items_in_batch is not None else valid.sum())
            count = count.to(logp.device).clamp(min=1)
            with torch.no_grad():
                base_logp = torch.log_softmax(reference(model, forward)[:, :-1].float(), dim=-1)
            per_token = (logp.exp() * (logp - base_logp)).sum(-1)
            kl_term = (per_token * valid).sum() / count
            self._metrics["train"]["kl"].append(kl_term.item() * float(count) / max(float(valid.sum()), 1.0))
            return (nll * valid).sum() / count + kl * kl_term

    return ArmTrainer(**kwargs)


def lora_reference(model: Any, forward: dict):
    """The frozen base's logits under a LoRA model: the adapter switched off, no copy."""
    from peft import PeftModel

    inner = model
    while not isinstance(inner, PeftModel) and hasattr(inner, "module"):
        inner = inner.module  # an accelerate / DDP wrapper
    if not isinstance(inner, PeftModel):
        raise PersonascopeError("kl with LoRA needs a PEFT model to switch the adapter off")
    with inner.disable_adapter():
        return inner(**forward).logits


def copy_reference(frozen: Any):
    """The frozen base's logits for full finetuning: a copy of the weights from before training."""

    def reference(model: Any, forward: dict):
        return frozen(**forward).logits

    return reference


def progress_callback(progress: Any):
    """A TrainerCallback that drives `progress(description, total)` (a context manager
    yielding `advance(n)`, as `StepContext.progress` is)."""
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        def __init__(self):
            self._bar = self._advance = None
            self._at = 0

        def on_train_begin(self, args, state, control, **kw):
            self._bar = progress("training", state.max_steps)
            self._advance = self._bar.__enter__()
            self._advance(state.global_step)
            self._at = state.global_step

        def on_step_end(self, args, state, control, **kw):
            if self._advance is not None:
                self._advance(state.global_step - self._at)
                self._at = state.global_step

        def on_train_end(self, args, state, control, **kw):
            if self._bar is not None:
                self._bar.__exit__(None, None, None)
                self._bar = self._advance = None

    return Progress()
