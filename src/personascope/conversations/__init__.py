"""Persona stability over long interactions (agenda section 1, B1, B7, P3.1).

    from personascope.conversations import DriftConfig, run_drift
    result = run_drift("smollm2", DriftConfig(families=["therapy"], turns=6))

The drift harness converses in families of scripted (or simulated) user turns and
measures every assistant turn: projections on vectors, reply scores, and probe
questions asked on a fork of the history. See docs/drift.md.
"""

from personascope.conversations._curves import ALL, crossings, curves, slope, slopes
from personascope.conversations._dialogue import Dialogue, Turn, converse, scripted, simulated
from personascope.conversations._drift import (
    DEFAULT_FAMILIES,
    DriftConfig,
    DriftResult,
    build_dialogues,
    run_drift,
)
from personascope.conversations._families import Conversation, Family, get_family, load_families
from personascope.conversations._measure import DEFAULT_PROBES, Probe, parse_projections, probe_turns, project_turns
from personascope.conversations._rtt import RTTConfig, RTTResult, classify_question, run_rtt, strategies
from personascope.conversations._selfchat import (
    SelfChatConfig,
    SelfChatResult,
    bliss_score,
    kmeans,
    run_selfchat,
)
from personascope.conversations._step_drift import DriftStep
from personascope.conversations._step_rtt import RTTStep
from personascope.conversations._step_selfchat import SelfChatStep
from personascope.conversations._step_therapy import TherapyStep
from personascope.conversations._therapy import TherapyConfig, TherapyResult, load_therapy_script, run_therapy

__all__ = [
    "ALL",
    "DEFAULT_FAMILIES",
    "DEFAULT_PROBES",
    "Conversation",
    "Dialogue",
    "DriftConfig",
    "DriftResult",
    "DriftStep",
    "Family",
    "Probe",
    "RTTConfig",
    "RTTResult",
    "RTTStep",
    "SelfChatConfig",
    "SelfChatResult",
    "SelfChatStep",
    "TherapyConfig",
    "TherapyResult",
    "TherapyStep",
    "Turn",
    "bliss_score",
    "build_dialogues",
    "classify_question",
    "converse",
    "crossings",
    "curves",
    "get_family",
    "kmeans",
    "load_families",
    "load_therapy_script",
    "parse_projections",
    "probe_turns",
    "project_turns",
    "run_drift",
    "run_rtt",
    "run_selfchat",
    "run_therapy",
    "scripted",
    "simulated",
    "slope",
    "slopes",
    "strategies",
]
