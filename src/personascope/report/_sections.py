"""The built-in report sections. The registry imports this module on the first
section look-up (`personascope.registry._BUILTIN_MODULES["section"]`), so a
report draws with every built-in section and `import personascope.report` alone
stays light."""

from personascope.report import _contrast, _drift, _eval, _generate, _rtt, _selfchat, _therapy, _train, _vectors  # noqa: F401
