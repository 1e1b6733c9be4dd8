"""The Gradio web app: one module a job (render, theme, service, one builder per tab, app).

Names are imported on first use, so that ``assistant serve`` can start loading
the model and index (``web.service``) while Gradio itself is still importing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import gradio_import

gradio_import.install()  # before any module here imports Gradio

_WHERE = {"build_demo": ".app", "serve": ".app", "get_service": ".service"}

if TYPE_CHECKING:
    from .app import build_demo, serve
    from .service import get_service


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'assistant.web' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)


__all__ = ["build_demo", "get_service", "serve"]
