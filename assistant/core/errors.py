"""One base for every problem a user can fix; messages are Persian, then English.

The CLI turns these into a clean one-line error and the UI into a warning;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class AssistantError(Exception):
    """A user-facing error; ``str()`` reads "فارسی / English"."""


class LoadError(AssistantError):
    """A file that cannot become a Document; the message is "فارسی / English"."""

    @classmethod
    def of(cls, fa: str, en: str) -> LoadError:
        return cls(f"{fa} / {en}")


class QuestionError(AssistantError, ValueError):
    """A question (or its history) we will not run; the message is Persian, then English."""
