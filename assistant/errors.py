"""One base for every problem a user can fix; messages are Persian, then English.

The CLI turns these into a clean one-line error and the UI into a warning;
anything else is a bug and keeps its traceback.
"""


class AssistantError(Exception):
    """A user-facing error; ``str()`` reads "فارسی / English"."""
