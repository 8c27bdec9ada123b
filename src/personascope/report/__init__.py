"""Self-contained HTML reports of runs.

    from personascope.report import build_report
    path = build_report("runs/quickstart-20261127-144718")   # writes report.html

The report opens with a summary (status, timings, models, versions, headline
metrics), then one section per step drawn by its type's renderer, then a browser
over every transcript. Step types register their section with `@section("type")`
(in `personascope.registry`; the built-ins, `report._sections`, load with the
first report); types without one get a default section. Figures (matplotlib)
load only while a report is built.
"""

from personascope.report._build import build_report
from personascope.report._default import default_section
from personascope.report._registry import StepView, section
from personascope.report._screenshot import screenshot
from personascope.report._train_figures import monitor_png
from personascope.report._vector_figures import persona_space_png, sweep_png

__all__ = ["StepView", "build_report", "default_section", "monitor_png", "persona_space_png", "screenshot", "section", "sweep_png"]
