"""personascope: define a persona trait once; measure, steer and monitor it.

Importing the package stays light: torch, transformers and Inspect load only in
the subpackages that need them (`personascope.engine`, `personascope.models`, ...).
"""

from personascope.errors import PersonascopeError

__version__ = "0.1.0"
__all__ = ["PersonascopeError", "__version__"]
