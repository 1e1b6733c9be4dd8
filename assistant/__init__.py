"""Persian question answering with cited passages for public-relations education.

read → normalize → chunk → embed → index → retrieve → answer → cite → show

The public names are imported on first use (PEP 562), so that importing one
light module (``assistant.ingest.isolate`` in the parser's child process)
does not pull in the model stack.  ``ARCHITECTURE.md`` maps the packages.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

logging.getLogger(__name__).addHandler(logging.NullHandler())

_WHERE = {
    "Answer": ".core.records",
    "Assistant": ".pipeline",
    "Citation": ".core.records",
    "Document": ".core.records",
    "Query": ".core.inputs",
    "QuestionError": ".core.errors",
    "Settings": ".core.settings",
    "Turn": ".core.records",
    "build_index": ".indexing",
    "load_index": ".indexing",
}

if TYPE_CHECKING:
    from .core.errors import QuestionError
    from .core.inputs import Query
    from .core.records import Answer, Citation, Document, Turn
    from .core.settings import Settings
    from .indexing import build_index, load_index
    from .pipeline import Assistant


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
    "Query",
    "QuestionError",
    "Settings",
    "Turn",
    "build_index",
    "load_index",
]
