"""Names a study context and the steps that run in it agree on."""

VECTOR_DIR = "vector"
"""A vector-making step writes its vector to `artifacts/<step id>/vector`."""
