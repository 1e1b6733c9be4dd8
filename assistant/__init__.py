"""Persian question answering with cited passages for public-relations education.

load → normalize → chunk → embed → index → retrieve → answer → cite → show
"""

import logging

from .config import Settings
from .conversation import Turn
from .index import build_index, load_index
from .pipeline import Assistant, QuestionError
from .schema import Answer, Citation, Document

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "Document",
    "QuestionError",
    "Settings",
    "Turn",
    "build_index",
    "load_index",
]
