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
    drift_study,
    run_drift,
    run_drift_study,
)
from personascope.conversations._families import Family, get_family, load_families
from personascope.conversations._measure import DEFAULT_PROBES, Probe, parse_projections, probe_turns, project_turns
from personascope.conversations._rtt import RTTConfig, RTTResult, classify_question, rtt_study, run_rtt, run_rtt_study
from personascope.conversations._selfchat import (
    SelfChatConfig,
    SelfChatResult,
    bliss_score,
    kmeans,
    run_selfchat,
    run_selfchat_study,
    selfchat_study,
)
from personascope.conversations._therapy import TherapyConfig, TherapyResult, load_therapy_script, run_therapy, run_therapy_study

__all__ = [
    "ALL",
    "DEFAULT_FAMILIES",
    "DEFAULT_PROBES",
    "Dialogue",
    "DriftConfig",
    "DriftResult",
    "Family",
    "Probe",
    "RTTConfig",
    "RTTResult",
    "SelfChatConfig",
    "SelfChatResult",
    "TherapyConfig",
    "TherapyResult",
    "Turn",
    "bliss_score",
    "build_dialogues",
    "classify_question",
    "converse",
    "crossings",
    "curves",
    "drift_study",
    "get_family",
    "kmeans",
    "load_families",
    "load_therapy_script",
    "parse_projections",
    "probe_turns",
    "project_turns",
    "run_drift",
    "run_drift_study",
    "run_rtt",
    "run_rtt_study",
    "run_selfchat",
    "run_selfchat_study",
    "rtt_study",
    "run_therapy",
    "run_therapy_study",
    "scripted",
    "selfchat_study",
    "simulated",
    "slope",
    "slopes",
]
