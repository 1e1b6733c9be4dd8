"""The «بازبینی» tab for trainers (placeholder until the store lands)."""

from __future__ import annotations

import gradio as gr

from .login import login_gate
from .service import Service


def build_review_tab(service: Service) -> None:
    _role, panel = login_gate(service, role="trainer", prefix="pr-review")
    with panel:
        gr.Markdown("…", rtl=True)
