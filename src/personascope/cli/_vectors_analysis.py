"""`personascope vectors sweep|project|compare|space`: commands on the `vectors` app."""

from personascope.cli._vectors import app  # noqa: F401  (commands register on it)
