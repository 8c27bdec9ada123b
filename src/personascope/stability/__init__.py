"""Persona stability over long interactions (agenda section 1, B1, B7, P3.1).

    from personascope.stability import DriftConfig, run_drift
    result = run_drift("smollm2", DriftConfig(families=["therapy"], turns=6))

The drift harness converses in families of scripted (or simulated) user turns and
measures every assistant turn: projections on vectors, reply scores, and probe
questions asked on a fork of the history. See docs/drift.md.
"""

from personascope.stability._curves import ALL, crossings, curves, slope, slopes
from personascope.stability._dialogue import Dialogue, Turn, converse, scripted, simulated
from personascope.stability._drift import (
    DEFAULT_FAMILIES,
    DriftConfig,
    DriftResult,
    build_dialogues,
    drift_study,
    run_drift,
    run_drift_study,
)
from personascope.stability._families import Family, get_family, load_families
from personascope.stability._measure import DEFAULT_PROBES, Probe, parse_projections, probe_turns, project_turns

__all__ = [
    "ALL",
    "DEFAULT_FAMILIES",
    "DEFAULT_PROBES",
    "Dialogue",
    "DriftConfig",
    "DriftResult",
    "Family",
    "Probe",
    "Turn",
    "bliss_score",
    "build_dialogues",
    "converse",
    "crossings",
    "curves",
    "drift_study",
    "get_family",
    "kmeans",
    "load_families",
    "parse_projections",
    "probe_turns",
    "project_turns",
    "run_drift",
    "run_drift_study",
    "scripted",
    "simulated",
    "slope",
    "slopes",
]
