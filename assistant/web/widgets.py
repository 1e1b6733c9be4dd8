"""Small component helpers shared by the tab builders."""

from __future__ import annotations

import gradio as gr


def warn(message: str) -> None:
    """A toast; its text is plain, so the English half of "فارسی / English" is a Unicode isolate."""
    persian, sep, english = message.partition(" / ")
    gr.Warning(f"{persian} / \u2066{english}\u2069" if sep else message, duration=8, title="هشدار / Warning")


def table(headers: list[str], elem_id: str, widths: list[int], height: int, **more) -> gr.Dataframe:
    """A read-only table that wraps its text; ``widths`` in percent."""
    return gr.Dataframe(
        headers=headers,
        interactive=False,
        wrap=True,
        max_height=height,
        elem_id=elem_id,
        column_widths=[f"{w}%" for w in widths],
        **more,
    )
