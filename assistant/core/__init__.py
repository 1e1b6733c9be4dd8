"""Shared records, errors, settings and the interfaces stages meet at; imports nothing of the project.

``records`` (Document, Chunk, Hit, Citation, Answer, Turn, BuildReport, …),
``errors`` (AssistantError and its kinds, messages Persian then English),
``settings`` (one frozen Settings from the environment), ``inputs`` (what a
person types, checked once where it enters) and ``protocols`` (Encoder).
"""

from .errors import AssistantError, LoadError, QuestionError
from .inputs import Query, read_query
from .protocols import Encoder
from .records import Answer, AnswerSentence, BuildReport, Chunk, Citation, Document, Hit, Turn
from .settings import Settings

__all__ = [
    "Answer",
    "AnswerSentence",
    "AssistantError",
    "BuildReport",
    "Chunk",
    "Citation",
    "Document",
    "Encoder",
    "Hit",
    "LoadError",
    "Query",
    "QuestionError",
    "Settings",
    "Turn",
    "read_query",
]
