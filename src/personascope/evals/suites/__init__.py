"""The built-in suites, one module each. The registry lists them as lazy entries
(`personascope.registry._BUILTIN["suite"]`), so naming a suite imports its module
alone and listing the suites imports none."""
