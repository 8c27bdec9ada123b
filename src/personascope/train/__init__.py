"""Finetuning experiments: arms (plain, inoculated, controls, recontextualized,
preventative steering, KL-regularized) trained with TRL and PEFT, monitored at
checkpoints and evaluated under several prompt contexts.
"""

from personascope.train._context import PromptContext
from personascope.train._render import training_pair

__all__ = ["PromptContext", "training_pair"]
