"""Finetuning experiments: arms (plain, inoculated, controls, recontextualized,
preventative steering, KL-regularized) trained with TRL and PEFT, monitored at
checkpoints and evaluated under several prompt contexts.
"""

from personascope.train._context import PromptContext
from personascope.train._config import Arm, Method, TrainArgs
from personascope.train._evaluate import EvalConfig, evaluate_models, summarize
from personascope.train._monitor import MonitorConfig, plot_monitor, read_monitor
from personascope.train._render import training_pair
from personascope.train._step import TrainStep
from personascope.train._trainer import train_model


def __getattr__(name: str):
    if name == "MonitorCallback":  # a transformers TrainerCallback: transformers loads on first use
        from personascope.train._callback import MonitorCallback

        return MonitorCallback
    raise AttributeError(f"module 'personascope.train' has no attribute {name!r}")


__all__ = [
    "Arm",
    "EvalConfig",
    "Method",
    "MonitorCallback",
    "MonitorConfig",
    "PromptContext",
    "TrainArgs",
    "TrainStep",
    "evaluate_models",
    "plot_monitor",
    "read_monitor",
    "summarize",
    "train_model",
    "training_pair",
]
