"""The Gradio web app: one module a job (render, theme, service, one builder per tab, app)."""

from .app import build_demo, serve
from .service import get_service

__all__ = ["build_demo", "get_service", "serve"]
