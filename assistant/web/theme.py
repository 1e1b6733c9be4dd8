"""The look of the app: theme, CSS, the page head, and what ``launch()`` is given.

Offline by construction: the font (Vazirmatn, shipped with shekar) is served
by this app, analytics, share links, PWA, MCP and monitoring are off.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr

from ..core.settings import Settings
from . import script

TITLE = "دستیار پرسش و پاسخ روابط عمومی"


def _font_file() -> Path | None:
    spec = importlib.util.find_spec("shekar")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "fonts" / "Vazirmatn-Regular.ttf"
    return path if path.is_file() else None


FONT_FILE = _font_file()

THEME = gr.themes.Default(
    primary_hue="teal",
    font=[gr.themes.Font("Vazirmatn"), "Tahoma", "sans-serif"],  # a plain Font: no stylesheet fetched
    # IBM Plex Mono ships with gradio; it has no Persian letters, which then fall back to Vazirmatn.
    font_mono=[
        gr.themes.LocalFont("IBM Plex Mono"),
        gr.themes.Font("Vazirmatn"),
        "ui-monospace",
        "monospace",
    ],
)

CSS = (
    """
.pr-source mark, .pr-document mark { background: #ffe58a; color: #111; padding: 0 2px; border-radius: 3px; }
.pr-passage { background: var(--block-background-fill); border: 1px solid var(--border-color-primary); }
.pr-kind { font-weight: 600; color: var(--color-accent); }
.pr-changed { background: #fff4e5; color: #663c00; padding: 0.5em; border-radius: 6px; margin: 0.4em 0; }
#pr-chips { gap: 6px; flex-wrap: wrap; }
#pr-chips button { flex: 0 0 auto; min-width: 0; }
@media (max-width: 768px) {
  /* The index's manifest on a phone: each field's label above its value, the value (an id, a time,
     a path) whole on one line, scrolling inside its own cell when longer; never broken mid-word. */
  #pr-manifest table { display: block; width: 100%; }
  #pr-manifest thead { display: none; }
  #pr-manifest tbody, #pr-manifest tr, #pr-manifest td { display: block; }
  #pr-manifest tr { border: 0; border-bottom: 1px solid var(--border-color-primary); padding: 4px 0; }
  #pr-manifest tr:last-child { border-bottom: 0; }
  #pr-manifest td { border: 0; padding: 2px 8px; text-align: start; }
  #pr-manifest td:first-child { font-size: var(--text-sm); color: var(--body-text-color-subdued);
    white-space: nowrap; }
  #pr-manifest td:last-child { white-space: nowrap; overflow-x: auto; }
}
"""
    + script.CSS
)


def head() -> str:
    parts = [
        '<meta name="referrer" content="no-referrer">',
        # The whole page reads right to left (tab order, rows, labels), not only the text boxes.
        "<script>document.documentElement.lang='fa';document.documentElement.dir='rtl';</script>",
        f"<script>{script.SCRIPT}</script>",
    ]
    if FONT_FILE is not None:
        url = "gradio_api/file=" + quote(FONT_FILE.as_posix())
        parts.append(
            "<style>@font-face{font-family:'Vazirmatn';"
            f"src:url('{url}') format('truetype');"
            "font-weight:400;font-style:normal;font-display:swap}</style>"
        )
    return "\n".join(parts)


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """Everything Gradio 6 takes in ``launch()`` rather than in ``Blocks()`` (theme, css, head)."""
    return {
        "theme": THEME,
        "css": CSS,
        "head": head(),
        "allowed_paths": [str(FONT_FILE)] if FONT_FILE else [],
        "max_file_size": settings.max_upload_bytes,
        "share": False,
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "run_history": False,
        "enable_monitoring": False,
        "footer_links": ["api"],
        "show_error": False,
    }
