"""Finetuning experiments: arms (plain, inoculated, controls, recontextualized,
preventative steering, KL-regularized) trained with TRL and PEFT, monitored at
checkpoints and evaluated under several prompt contexts.
"""

from personascope.train._context import PromptContext
from personascope.train._config import Arm, Method, TrainArgs
from personascope.train._render import training_pair
from personascope.train._step import TrainStep
from personascope.train._trainer import train_model

__all__ = ["Arm", "Method", "PromptContext", "TrainArgs", "TrainStep", "train_model", "training_pair"]
