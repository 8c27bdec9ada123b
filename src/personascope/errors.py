"""The one error type users see: a single line that names the problem and the fix."""


class PersonascopeError(Exception):
    """Bad input or a missing prerequisite.

    The CLI prints these as one line (`error: ...`) without a traceback, so every
    message names what was wrong and how to fix it.
    """
