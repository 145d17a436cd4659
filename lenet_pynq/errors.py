"""The one exception type the `lenet` CLI turns into a one-line message."""


class LenetError(Exception):
    """A user-facing failure: the message says what was wrong and what to do.

    The CLI prints ``error: <message>`` and exits with status 1, without a
    traceback. Library callers catch it like any other exception.
    """
