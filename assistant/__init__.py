"""Persian question answering with cited passages for public-relations education.

load → normalize → chunk → embed → index → retrieve → answer → cite → show

The public names are imported on first use (PEP 562), so that importing one
light module (``assistant.load`` in the isolated parser's child process)
does not pull in LangChain and the model stack.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

logging.getLogger(__name__).addHandler(logging.NullHandler())

_WHERE = {
    "Answer": ".schema",
    "Assistant": ".pipeline",
    "Citation": ".schema",
    "Document": ".schema",
    "QuestionError": ".pipeline",
    "Settings": ".config",
    "Turn": ".conversation",
    "build_index": ".index",
    "load_index": ".index",
}

if TYPE_CHECKING:
    from .answering.conversation import Turn
    from .core.records import Answer, Citation, Document
    from .core.settings import Settings
    from .indexing.layout import build_index, load_index
    from .pipeline import Assistant, QuestionError


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


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
