"""Built-in step types (importing registers them)."""

from personascope.study.steps._contrast import ContrastStep
from personascope.study.steps._drift import DriftStep
from personascope.study.steps._eval import EvalStep
from personascope.study.steps._generate import Arm, GenerateStep
from personascope.study.steps._rtt import RTTStep
from personascope.study.steps._selfchat import SelfChatStep
from personascope.study.steps._therapy import TherapyStep
from personascope.study.steps._vectors import SteerCheck, VectorsStep

__all__ = ["Arm", "ContrastStep", "DriftStep", "EvalStep", "GenerateStep", "RTTStep", "SelfChatStep", "SteerCheck", "VectorsStep"]
