"""The web UI: a Persian, right-to-left chat over the corpus, with its sources.

Run it with ``assistant serve`` (which calls :func:`serve`) or ``python ui.py``.
Three tabs:

* «گفت‌وگو» (chat) — ask a question; the answer streams in with numbered
  citation buttons; a button opens the cited paragraph with the quote marked.
  Abstentions say so and list the nearest passages as *related*, not cited.
  Thumbs up/down go to the feedback store; abstained questions are logged there
  automatically as gaps in the corpus.
* «منابع» (sources) — for trainers: every document, read whole; a passage
  search; and the last answer laid out sentence → citation → quote → score.
* «نمایه» (index) — only when ``ASSISTANT_ADMIN_PASSWORD`` is set, behind that
  password: upload documents into the corpus, rebuild the index with a
  progress bar, and see the manifest and the last build report.

``demo`` is built at import, the Gradio way, but building it does not load the
model or the index: the :class:`Assistant` is created on first use, once per
``Settings`` and shared by every session.  :func:`serve` creates it *before*
the server starts (printing a line when the model and index have to be built
first), so the first reader does not wait; importing this module in tests stays
cheap.

Offline by construction: analytics are off, the font (Vazirmatn, shipped with
shekar) is served by this app, Gradio's "share", run history, PWA, MCP and
monitoring are off, and every corpus text that reaches the page is escaped
(``html.escape`` for HTML, plus Markdown escaping where Markdown renders).

The named API endpoint ``/ask`` returns ``Answer.to_dict()``::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("شفافیت به چه معناست؟", api_name="/ask")
"""

from __future__ import annotations

import os

# Before gradio is imported: it reads this at import time and would otherwise
# start a thread that phones home for a version check.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import hmac
import html
import importlib.util
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr

from assistant.config import DEFAULT_MODEL, Settings
from assistant.corpus import save_upload
from assistant.errors import AssistantError
from assistant.feedback import FeedbackStore
from assistant.index import build_index, current_build
from assistant.load import SUPPORTED
from assistant.pipeline import Assistant, QuestionError, validate_question
from assistant.schema import Answer, Document

log = logging.getLogger("assistant.ui")

TITLE = "دستیار پرسش و پاسخ روابط عمومی"
EXAMPLES = [
    "ارکان اعتماد در روابط عمومی کدام‌اند؟",
    "شفافیت به چه معناست؟",
    "چه عواملی باعث از دست رفتن اعتماد به سازمان می‌شود؟",
]
MAX_CHIPS = 8  # citation/related buttons under the chat (top_k is 5 by default)
STREAM_MAX_FRAMES = 40  # the answer appears word by word, in at most ~1.2 s
STREAM_DELAY_S = 0.03
CONCURRENT_QUESTIONS = 8  # sessions streaming at once (the model itself is used one at a time)
CONTEXT_MAX_CHARS = 1500  # cap on the paragraph shown around a quote (PDFs have few blank lines)
INTERNAL_ERROR = "خطای داخلی رخ داد؛ دوباره تلاش کنید. / An internal error occurred; please try again."

# --------------------------------------------------------------------------- assistant (lazy, shared)

_assistants: dict[Settings, Assistant] = {}
_assistants_lock = threading.Lock()
# Questions, searches and ``reload()`` take turns: a reload swaps the index and
# the searcher one after the other, and a question must not see one of each.
# Each holds it for well under a second; streaming the answer happens outside it.
_use_lock = threading.RLock()


def _say(message: str) -> None:
    print(message, flush=True)


def get_assistant(settings: Settings) -> Assistant:
    """The one Assistant for these settings, built (and the index with it) on first call."""
    with _assistants_lock:
        found = _assistants.get(settings)
        if found is None:
            found = Assistant(settings, say=_say)
            _assistants[settings] = found
        return found


def needs_first_build(settings: Settings) -> bool:
    """True when starting will convert the model or build the index (tens of seconds)."""
    if current_build(settings.index_dir) is None:
        return True
    if settings.embed_model == DEFAULT_MODEL:
        models = settings.models_dir
        return not (models.is_dir() and any(models.iterdir()))
    return False


# --------------------------------------------------------------------------- escaping and rendering

_MD_INLINE = re.compile(r"([\\`*_~|])")
# "](" makes an inline link; "[1]" and "[1][2]" stay text (no line may start a "[x]: url" definition)
_MD_LINK = re.compile(r"\](?=\()")
_MD_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)  # 4 spaces would start a code block
_MD_BLOCK = re.compile(r"^([#=+\-\[])", re.MULTILINE)  # heading, list, setext line, link definition
_MD_NUMBERED = re.compile(r"^(\d{1,9})([.)])", re.MULTILINE)  # "1." starts a list


def esc(text: object) -> str:
    """Text for an HTML context."""
    return html.escape(str(text), quote=True)


def md_escape(text: object) -> str:
    """Text for a Markdown context: no HTML and no Markdown syntax, shown as typed.

    All HTML becomes entities; of Markdown, only what would take effect is
    escaped, so that a copied answer reads cleanly (``[1]``, ``.`` and ``:``
    stay as they are).  URLs are not turned into links.
    """
    out = html.escape(str(text), quote=False)
    out = _MD_INLINE.sub(r"\\\1", out)
    out = _MD_LINK.sub(r"\\]", out)
    out = _MD_INDENT.sub("", out)
    out = _MD_BLOCK.sub(r"\\\1", out)
    out = _MD_NUMBERED.sub(r"\1\\\2", out)
    return out.replace("://", r":\/\/").replace("www.", r"www\.")


def ltr(text: object, *, markdown: bool = False) -> str:
    """A left-to-right value (date, path, number) kept whole inside right-to-left text."""
    return f'<bdi dir="ltr">{md_escape(text) if markdown else esc(text)}</bdi>'


def _isolate(text: str) -> str:
    """Left-to-right isolate (U+2066 ... U+2069) for plain text, where a tag would be copied along."""
    return f"\u2066{text}\u2069" if text else ""


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_PARA_BREAK = re.compile(r"\n[ \t\r]*\n")


def paragraph_bounds(text: str, start: int, end: int, floor: int = 0) -> tuple[int, int]:
    """The paragraph(s) around ``[start, end)``: blank lines bound them; never before ``floor``."""
    floor = floor if start >= floor else 0
    left, right = floor, len(text)
    for m in _PARA_BREAK.finditer(text, floor):
        if m.end() <= start:
            left = m.end()
        elif m.start() >= end:
            right = m.start()
            break
    # A paragraph that is a whole page (PDF text) is cut to a window around the quote.
    spare = max(CONTEXT_MAX_CHARS - (end - start), 0) // 2
    if start - left > spare:
        cut = text.rfind("\n", start - spare, start)
        left = cut + 1 if cut != -1 else start - spare
    if right - end > spare:
        cut = text.find("\n", end, end + spare)
        right = cut if cut != -1 else end + spare
    return left, right


def _doc_meta_html(
    doc: Document | None, fallback_title: str = "", fallback_speaker: str = "", fallback_date: str = ""
) -> str:
    title = (doc.title if doc else "") or fallback_title
    speaker = (doc.speaker if doc else "") or fallback_speaker
    role = doc.speaker_role if doc else ""
    dates = [d for d in ((doc.date_jalali, doc.date) if doc else (fallback_date,)) if d]
    rows = [f'<h3 class="pr-title" style="margin:0.2em 0">{esc(title or "بی‌عنوان")}</h3>']
    meta = []
    if speaker:
        meta.append(f"<b>سخنران:</b> {esc(speaker)}" + (f" <small>({esc(role)})</small>" if role else ""))
    if dates:
        meta.append(
            "<b>تاریخ:</b> "
            + " / ".join(f'<span style="white-space:nowrap">{ltr(d)}</span>' for d in dict.fromkeys(dates))
        )
    if doc is not None:
        if doc.kind:
            meta.append(f"<b>نوع:</b> {esc(doc.kind)}")
        meta.append(f"<b>منبع:</b> {ltr(doc.source)}")
    if meta:
        rows.append(
            '<div class="pr-meta" style="opacity:0.85;line-height:1.9">' + " · ".join(meta) + "</div>"
        )
    return "\n".join(rows)


_PASSAGE_STYLE = "white-space:pre-wrap;line-height:2;margin-top:0.6em;padding:0.6em;border-radius:8px;"


def source_html(entry: dict[str, Any], doc: Document | None) -> str:
    """A citation (or related passage) opened: the paragraph with the quote in ``<mark>``."""
    start, end = int(entry["start"]), int(entry["end"])
    related = entry.get("kind") == "related"
    if related:
        head = (
            f'<div class="pr-kind">مطلب مرتبط {entry["n"]} — استناد پاسخ نیست '
            "<small>(related passage, not a citation)</small></div>"
        )
    else:
        head = f'<div class="pr-kind">استناد [{entry["n"]}] <small>(citation)</small></div>'
    meta = _doc_meta_html(doc, entry.get("title", ""), entry.get("speaker", ""), entry.get("date", ""))
    if doc is not None and doc.text[start:end] == entry["text"]:
        text = doc.text
        left, right = paragraph_bounds(text, start, end, doc.body_start)
        before, quoted, after = text[left:start], text[start:end], text[end:right]
        if related:
            body = esc(before + quoted + after)
        else:
            body = f"{esc(before)}<mark>{esc(quoted)}</mark>{esc(after)}"
        prefix = "… " if left > doc.body_start else ""
        suffix = " …" if right < len(text) else ""
        body = esc(prefix) + body + esc(suffix)
        where = f"نویسه‌های {start}–{end} از {len(text)}"
    else:  # the index moved on since this answer; show the quote as it was given
        body = esc(entry["text"]) if related else f"<mark>{esc(entry['text'])}</mark>"
        where = "سند در نمایهٔ کنونی نیست؛ متن نقل‌شده / document no longer indexed; quoted text"
    return (
        f'<div class="pr-source" dir="rtl" lang="fa">{head}{meta}'
        f'<div class="pr-passage" style="{_PASSAGE_STYLE}">{body}</div>'
        f'<div class="pr-where" style="opacity:0.6;font-size:0.85em">{esc(where)}</div></div>'
    )


def document_html(doc: Document) -> str:
    """A whole document, escaped, for the Sources tab."""
    return (
        f'<div class="pr-document" dir="rtl" lang="fa">{_doc_meta_html(doc)}'
        f'<div class="pr-meta" style="opacity:0.7">شناسه: <bdi>{esc(doc.doc_id)}</bdi> · '
        f"{len(doc.text)} نویسه</div>"
        f'<div class="pr-passage" style="{_PASSAGE_STYLE}max-height:70vh;overflow:auto">'
        f"{esc(doc.text)}</div></div>"
    )


PLACEHOLDER_SOURCE = (
    '<div dir="rtl" lang="fa" style="opacity:0.7;padding:1em">'
    "روی شمارهٔ یک استناد بزنید تا بند منبع، با جملهٔ نقل‌شدهٔ برجسته، اینجا باز شود."
    "<br><small>Click a citation number to open its source paragraph here.</small></div>"
)


def chip_entries(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons under an answer: its citations, or (when it abstained) the related passages."""
    kind = "related" if answer.get("abstained") else "citation"
    items = answer.get("related" if kind == "related" else "citations", [])
    return [{**c, "kind": kind} for c in items][:MAX_CHIPS]


def chip_label(entry: dict[str, Any]) -> str:
    title = _clip(entry.get("title") or entry.get("doc_id", ""), 38)
    if entry["kind"] == "related":
        return f"مرتبط {entry['n']} · {title}"
    return f"[{entry['n']}] {title}"


def answer_markdown(answer: Answer | dict[str, Any], partial: str | None = None) -> str:
    """The chat message for an answer (escaped); ``partial`` while it streams in."""
    data = answer.to_dict() if isinstance(answer, Answer) else answer
    if partial is not None:
        return md_escape(partial) + " ▍"
    lines = [md_escape(data["answer"])]
    if data["abstained"]:
        if data["related"]:
            lines += [
                "",
                "**مطالب مرتبط — برای مطالعه؛ استناد این پاسخ نیستند** (related passages, not citations):",
            ]
            lines += [
                f"• مرتبط {r['n']}: {md_escape(r['title'])} — «{md_escape(_clip(r['text'], 90))}»"
                for r in data["related"]
            ]
    elif data["citations"]:
        lines += ["", "**منابع:**"]
        for c in data["citations"]:
            bits = [
                md_escape(c["title"]),
                md_escape(c.get("speaker", "")),
                _isolate(md_escape(c.get("date", ""))),
            ]
            lines.append(f"[{c['n']}] " + " — ".join(b for b in bits if b))
    return "\n".join(lines)


def answer_rows(answer: dict[str, Any] | None) -> list[list[Any]]:
    """Sentence → citation number → quote → score, for the Sources tab."""
    if not answer:
        return []
    if answer.get("abstained"):
        return [
            ["(پاسخی داده نشد / abstained)", f"مرتبط {r['n']}", r["text"], round(r["score"], 4)]
            for r in answer.get("related", [])
        ]
    by_n = {c["n"]: c for c in answer.get("citations", [])}
    rows = []
    for s in answer.get("sentences", []):
        for n in s["citations"] or [None]:
            c = by_n.get(n) if n is not None else None
            rows.append(
                [
                    s["text"],
                    n if n is not None else "—",
                    c["text"] if c else "",
                    round(c["score"], 4) if c else s["score"],
                ]
            )
    return rows


ANSWER_HEADERS = ["جملهٔ پاسخ / sentence", "استناد / citation", "نقل‌قول / quote", "امتیاز / score"]
DOC_HEADERS = [
    "شناسه / id",
    "عنوان / title",
    "سخنران / speaker",
    "تاریخ / date",
    "نوع / kind",
    "نویسه‌ها / chars",
]
SEARCH_HEADERS = [
    "رتبه / rank",
    "امتیاز / score",
    "معنایی / dense",
    "واژگانی / bm25",
    "سند / document",
    "متن / passage",
]
SKIPPED_HEADERS = ["فایل / file", "دلیل / reason"]

# --------------------------------------------------------------------------- theme, fonts, page


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


def _head() -> str:
    parts = [
        '<meta name="referrer" content="no-referrer">',
        # The whole page reads right to left (tab order, rows, labels), not only the text boxes.
        "<script>document.documentElement.lang='fa';document.documentElement.dir='rtl';</script>",
    ]
    if FONT_FILE is not None:
        url = "gradio_api/file=" + quote(FONT_FILE.as_posix())
        parts.append(
            "<style>@font-face{font-family:'Vazirmatn';"
            f"src:url('{url}') format('truetype');"
            "font-weight:400;font-style:normal;font-display:swap}</style>"
        )
    return "\n".join(parts)


CSS = """
.pr-source mark { background: #ffe58a; color: #111; padding: 0 2px; border-radius: 3px; }
.pr-passage { background: var(--block-background-fill); border: 1px solid var(--border-color-primary); }
.pr-kind { font-weight: 600; color: var(--color-accent); }
#pr-chips { gap: 6px; flex-wrap: wrap; }
#pr-chips button { flex: 0 0 auto; min-width: 0; }
"""


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """Everything Gradio 6 takes in ``launch()`` rather than in ``Blocks()`` (theme, css, head)."""
    return {
        "theme": THEME,
        "css": CSS,
        "head": _head(),
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


# --------------------------------------------------------------------------- the Blocks


def warn(message: str) -> None:
    gr.Warning(message, duration=8, title="هشدار / Warning")


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, AssistantError):  # user-fixable: the message is Persian, then English
        return str(exc)
    log.exception("UI handler failed")
    return INTERNAL_ERROR


def build_demo(settings: Settings | None = None) -> gr.Blocks:
    """The whole app for these settings (nothing heavy happens until a handler runs)."""
    settings = settings or Settings.from_env()
    admin = bool(settings.admin_password)
    stores: list[FeedbackStore] = []

    def assistant() -> Assistant:
        return get_assistant(settings)

    def feedback() -> FeedbackStore:
        """Opened on first use, so that importing this module writes nothing."""
        if not stores:
            stores.append(FeedbackStore(settings.feedback_db))
        return stores[0]

    def ask_and_log(question: str) -> tuple[Answer, dict[str, Any]]:
        """One answer for the chat and the API alike; an abstention is logged as a corpus gap."""
        a = assistant()
        with _use_lock:
            answer = a.ask(question)
        data = answer.to_dict()
        if answer.abstained:
            try:
                feedback().log_gap(answer.question, data)
            except Exception:
                log.exception("could not log the gap")
        return answer, data

    # ------------------------------------------------------------- chat handlers

    def chip_updates(entries: list[dict[str, Any]]) -> list[Any]:
        updates = [gr.Button(value=chip_label(e), visible=True) for e in entries[:MAX_CHIPS]]
        updates += [gr.Button(value="", visible=False)] * (MAX_CHIPS - len(updates))
        return updates

    def chips_caption(answer: dict[str, Any] | None) -> str:
        if not answer:
            return ""
        if answer["abstained"]:
            if not answer["related"]:
                return ""
            return "**مطالب مرتبط** (استناد نیستند؛ برای دیدن متن بزنید) · related passages, not citations"
        return "**استنادها** — برای دیدن بند منبع روی شماره بزنید · citations: click to open the source"

    def respond(question: str, history: list[dict[str, Any]], answers: dict[int, dict[str, Any]]):
        history = list(history or [])
        try:
            question = validate_question(question, settings.max_question_chars)
        except QuestionError as exc:
            warn(str(exc))
            yield {status: f"⚠️ {md_escape(exc)}"}
            return
        history.append({"role": "user", "content": md_escape(question)})
        history.append({"role": "assistant", "content": "⏳ در حال جستجو در منابع… (searching the sources…)"})
        yield {  # the previous answer's buttons go while this one is being answered
            chatbot: list(history),
            question_box: "",
            status: "",
            chips_md: "",
            **dict(zip(chips, chip_updates([]), strict=True)),
        }
        try:
            answer, data = ask_and_log(question)
        except Exception as exc:
            message = _error_text(exc)
            warn(message)
            history[-1] = {"role": "assistant", "content": f"⚠️ {md_escape(message)}"}
            yield {chatbot: list(history), status: f"⚠️ {md_escape(message)}"}
            return
        words = answer.text.split(" ")
        step = max(1, len(words) // STREAM_MAX_FRAMES)
        for i in range(step, len(words), step):
            history[-1] = {"role": "assistant", "content": answer_markdown(data, " ".join(words[:i]))}
            yield {chatbot: list(history)}  # a copy per frame: each frame is its own state
            time.sleep(STREAM_DELAY_S)
        history[-1] = {"role": "assistant", "content": answer_markdown(data)}
        answers = {**(answers or {}), len(history) - 1: data}
        entries = chip_entries(data)
        yield {
            chatbot: list(history),
            answers_state: answers,
            entries_state: entries,
            chips_md: chips_caption(data),
            source_view: PLACEHOLDER_SOURCE,
            answer_table: answer_rows(data),
            **dict(zip(chips, chip_updates(entries), strict=True)),
        }

    def open_chip(i: int) -> Callable[..., Any]:
        def handler(entries: list[dict[str, Any]]):
            if not entries or i >= len(entries):
                return PLACEHOLDER_SOURCE, ""
            entry = entries[i]
            try:
                doc = assistant().index.documents.get(entry["doc_id"])
            except Exception as exc:
                return f'<div dir="rtl">⚠️ {esc(_error_text(exc))}</div>', ""
            return source_html(entry, doc), entry["doc_id"] if doc else ""

        return handler

    def on_select(answers: dict[int, dict[str, Any]], evt: gr.SelectData):
        """Clicking an earlier answer brings its citations back under the chat."""
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        data = (answers or {}).get(index) or (answers or {}).get(str(index))
        if not data:
            return {}
        entries = chip_entries(data)
        return {
            entries_state: entries,
            chips_md: chips_caption(data),
            answer_table: answer_rows(data),
            **dict(zip(chips, chip_updates(entries), strict=True)),
        }

    def on_like(answers: dict[int, dict[str, Any]], data: gr.LikeData, request: gr.Request):
        index = data.index if isinstance(data.index, int) else data.index[0]
        answer = (answers or {}).get(index) or (answers or {}).get(str(index))
        if not answer:
            return "⚠️ این پیام پاسخی برای ارزیابی ندارد. / Nothing to rate in this message."
        key = f"{getattr(request, 'session_hash', '') or 'anon'}:{index}"
        try:
            if data.liked is True:
                feedback().record(answer["question"], answer, +1, vote_key=key)
                return "👍 سپاس از بازخورد شما. / Thanks for your feedback."
            if data.liked is False:
                feedback().record(answer["question"], answer, -1, vote_key=key)
                return "👎 سپاس؛ بازخورد شما ثبت شد. / Thanks; your feedback was recorded."
            feedback().retract(key)
            return "بازخورد برداشته شد. / Feedback removed."
        except Exception as exc:
            return f"⚠️ {md_escape(_error_text(exc))}"

    # ------------------------------------------------------------- sources handlers

    def doc_choices() -> list[tuple[str, str]]:
        docs = assistant().index.documents
        return [(f"{_clip(d.title or d.doc_id, 70)} — {d.doc_id}", d.doc_id) for d in docs.values()]

    def sources_overview():
        try:
            a = assistant()
        except Exception as exc:
            message = _error_text(exc)
            return f"⚠️ {md_escape(message)}", [], gr.Dropdown(choices=[], value=None)
        docs = list(a.index.documents.values())
        rows = [[d.doc_id, d.title, d.speaker, d.date_jalali or d.date, d.kind, len(d.text)] for d in docs]
        summary = (
            f"**{len(docs)}** سند و **{len(a.index.chunks)}** بند در نمایه · "
            f"{len(docs)} documents, {len(a.index.chunks)} passages indexed"
        )
        return summary, rows, gr.Dropdown(choices=doc_choices(), value=None)

    def read_document(doc_id: str | None):
        if not doc_id:
            return ""
        doc = assistant().index.documents.get(doc_id)
        if doc is None:
            return '<div dir="rtl">این سند در نمایه نیست. / This document is not in the index.</div>'
        return document_html(doc)

    def open_whole(doc_id: str):
        if not doc_id:
            warn("نخست یک استناد را باز کنید. / Open a citation first.")
            return gr.Tabs(), gr.Dropdown(), gr.HTML()
        return gr.Tabs(selected="sources"), gr.Dropdown(value=doc_id), read_document(doc_id)

    def search_passages(query: str, k: float):
        try:
            query = (query or "").strip()
            if not query:
                raise QuestionError("عبارت جستجو خالی است. / The search text is empty.")
            a = assistant()
            with _use_lock:
                hits = a.searcher.search(query, int(k))
        except Exception as exc:
            warn(_error_text(exc))
            return []
        docs = a.index.documents
        return [
            [
                h.rank,
                round(h.score, 4),
                round(h.dense, 4),
                round(h.sparse, 4),
                (docs[h.chunk.doc_id].title if h.chunk.doc_id in docs else "") + f" ({h.chunk.doc_id})",
                h.chunk.text,
            ]
            for h in hits
        ]

    # ------------------------------------------------------------- index (admin) handlers

    def index_overview() -> tuple[str, list[list[str]]]:
        a = assistant()
        m, r = a.index.manifest, a.index.report
        lines = [
            "| مورد / field | مقدار / value |",
            "|---|---|",
        ]
        fields = [
            ("مدل / model", "embedding_model"),
            ("اسناد / documents", "documents"),
            ("بندها / chunks", "chunks"),
            ("ساخته‌شده / built_at", "built_at"),
            ("شناسه / build", "build_id"),
            ("پیکره / corpus", "corpus_dir"),
        ]
        lines += [f"| {label} | {ltr(m.get(key, ''), markdown=True)} |" for label, key in fields]
        if r:
            lines += [
                "",
                "**آخرین ساخت / last build:** "
                + ltr(
                    f"{r.get('documents', 0)} documents, {r.get('chunks', 0)} chunks, "
                    f"{r.get('embedded', 0)} embedded, {r.get('reused', 0)} reused, "
                    f"{len(r.get('skipped', []))} skipped, {r.get('seconds', 0)} s",
                    markdown=True,
                ),
            ]
            if r.get("removed_documents"):
                lines.append("حذف‌شده / removed: " + ltr(", ".join(r["removed_documents"]), markdown=True))
        skipped = [[s.get("path", ""), s.get("reason", "")] for s in r.get("skipped", [])]
        return "\n".join(lines), skipped

    def require(authed: bool) -> None:
        if not authed:
            raise gr.Error("ابتدا گذرواژه را وارد کنید. / Enter the password first.", print_exception=False)

    def login(password: str):
        ok = bool(settings.admin_password) and hmac.compare_digest(
            (password or "").encode(), settings.admin_password.encode()
        )
        if not ok:
            time.sleep(1.0)  # slows guessing
            return {
                authed_state: False,
                login_status: "⚠️ گذرواژه نادرست است. / Wrong password.",
                password_box: "",
            }
        try:
            manifest, skipped = index_overview()
        except Exception as exc:
            manifest, skipped = f"⚠️ {md_escape(_error_text(exc))}", []
        return {
            authed_state: True,
            login_status: "",
            password_box: "",
            gate: gr.Column(visible=False),
            admin_panel: gr.Column(visible=True),
            manifest_md: manifest,
            skipped_table: skipped,
        }

    def save_files(files: list[Any] | None, authed: bool):
        require(authed)
        if not files:
            return "⚠️ فایلی انتخاب نشده است. / No file selected.", None
        lines = []
        for f in files:
            path = Path(getattr(f, "name", None) or str(f))
            original = getattr(f, "orig_name", None) or path.name
            try:
                saved = save_upload(path, original, settings)  # keeps both on a name clash
                verb = "جایگزین شد / replaced" if saved.replaced else "ذخیره شد / saved"
                lines.append(f"✅ {md_escape(saved.name)}: {verb}")
            except Exception as exc:
                lines.append(f"❌ {md_escape(Path(str(original)).name)}: {md_escape(_error_text(exc))}")
        lines.append("")
        lines.append("برای افزودن به پاسخ‌ها «به‌روزرسانی نمایه» را بزنید. / Press “update index” to use them.")
        return "\n\n".join(lines), None

    def rebuild(authed: bool, progress: gr.Progress = gr.Progress()):  # noqa: B008 - Gradio's idiom
        require(authed)
        stages = {
            "chunk": ("خرد کردن اسناد", "chunking", 0.0, 0.3),
            "embed": ("بردارسازی", "embedding", 0.3, 0.7),
        }

        def report(stage: str, done: int, total: int) -> None:
            fa, en, base, span = stages.get(stage, (stage, stage, 0.0, 1.0))
            fraction = base + span * (done / total if total else 1.0)
            progress(min(fraction, 1.0), desc=f"{fa} / {en} {done}/{total}")

        progress(0.0, desc="آغاز ساخت / starting build")
        try:
            a = assistant()
            result = build_index(settings, embedder=a.embedder, progress=report)
            with _use_lock:
                a.reload()
        except Exception as exc:
            raise gr.Error(_error_text(exc), print_exception=False) from None
        manifest, skipped = index_overview()
        summary, rows, dropdown = sources_overview()
        done = (
            f"✅ نمایه به‌روز شد: {result.documents} سند، {result.chunks} بند، "
            f"{len(result.skipped)} فایل کنار گذاشته شد."
            f" / Index updated: {result.documents} documents, {result.chunks} chunks, "
            f"{len(result.skipped)} skipped, {result.seconds:.1f} s."
        )
        return done, manifest, skipped, summary, rows, dropdown

    # ------------------------------------------------------------- API

    def ask(question: str) -> dict:
        """Answer a question from the corpus: answer text, sentences, citations, related passages."""
        try:
            return ask_and_log(question)[1]
        except Exception as exc:
            raise gr.Error(_error_text(exc), print_exception=False) from None

    # ------------------------------------------------------------- layout

    with gr.Blocks(title=TITLE, analytics_enabled=False) as blocks:
        answers_state = gr.State({})
        entries_state = gr.State([])
        open_doc = gr.State("")

        gr.Markdown(
            f"# {TITLE}\n"
            "پاسخ‌ها فقط از متن منابع (وبینارها و گفتارهای روابط عمومی) برداشته می‌شوند"
            " و هر جمله شمارهٔ منبعش را دارد."
            " اگر منابع پاسخی نداشته باشند، همین را می‌گوییم.",
            rtl=True,
        )
        with gr.Tabs() as tabs:
            with gr.Tab("گفت‌وگو", id="chat"), gr.Row(elem_id="pr-main-row"):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="گفت‌وگو",
                        rtl=True,
                        height=460,
                        latex_delimiters=[],
                        buttons=["copy", "copy_all"],
                        feedback_options=("Like", "Dislike"),
                        placeholder="پرسش خود را دربارهٔ روابط عمومی بنویسید؛ پاسخ با شمارهٔ منبع می‌آید.",
                        elem_id="pr-chat",
                    )
                    chips_md = gr.Markdown(rtl=True, elem_id="pr-chips-caption")
                    with gr.Row(elem_id="pr-chips"):
                        chips = [
                            gr.Button("", visible=False, size="sm", elem_classes=["pr-chip"])
                            for _ in range(MAX_CHIPS)
                        ]
                    with gr.Row():
                        question_box = gr.Textbox(
                            label="پرسش",
                            placeholder="مثلاً: ارکان اعتماد در روابط عمومی کدام‌اند؟",
                            rtl=True,
                            lines=1,
                            max_lines=4,
                            max_length=settings.max_question_chars,
                            scale=5,
                            autofocus=True,
                            elem_id="pr-question",
                        )
                        ask_btn = gr.Button("بپرس", variant="primary", scale=1, elem_id="pr-ask")
                    status = gr.Markdown(rtl=True, elem_id="pr-status")
                    gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question_box], label="نمونه پرسش‌ها")
                with gr.Column(scale=2):
                    source_view = gr.HTML(PLACEHOLDER_SOURCE, label="منبع", elem_id="pr-source")
                    whole_btn = gr.Button("نمایش کل سند / whole document", size="sm", elem_id="pr-whole")

            with gr.Tab("منابع", id="sources"):
                docs_md = gr.Markdown(rtl=True, elem_id="pr-docs-summary")
                docs_table = gr.Dataframe(
                    headers=DOC_HEADERS,
                    interactive=False,
                    wrap=True,
                    max_height=300,
                    label="اسناد / documents",
                    elem_id="pr-docs",
                    column_widths=["22%", "30%", "18%", "12%", "8%", "10%"],
                )
                doc_pick = gr.Dropdown(
                    label="خواندن سند / read a document", choices=[], elem_id="pr-doc-pick"
                )
                doc_view = gr.HTML(elem_id="pr-doc-view")
                gr.Markdown("### جستجوی بندها / passage search", rtl=True)
                with gr.Row():
                    search_box = gr.Textbox(
                        label="عبارت", rtl=True, scale=4, placeholder="مثلاً: پاسخگویی", elem_id="pr-search"
                    )
                    search_k = gr.Slider(1, 20, value=5, step=1, label="تعداد / k", scale=1)
                    search_btn = gr.Button("جستجو", scale=1, elem_id="pr-search-btn")
                search_table = gr.Dataframe(
                    headers=SEARCH_HEADERS,
                    interactive=False,
                    wrap=True,
                    max_height=420,
                    elem_id="pr-search-results",
                    column_widths=["7%", "8%", "8%", "8%", "17%", "52%"],
                )
                gr.Markdown("### آخرین پاسخ / last answer", rtl=True)
                answer_table = gr.Dataframe(
                    headers=ANSWER_HEADERS,
                    interactive=False,
                    wrap=True,
                    max_height=420,
                    elem_id="pr-answer-table",
                    column_widths=["35%", "10%", "45%", "10%"],
                )

            if admin:
                with gr.Tab("نمایه", id="index"):
                    authed_state = gr.State(False)
                    with gr.Column() as gate:
                        password_box = gr.Textbox(
                            label="گذرواژهٔ مدیر / admin password", type="password", elem_id="pr-password"
                        )
                        login_btn = gr.Button("ورود / enter", variant="primary", elem_id="pr-login")
                        login_status = gr.Markdown(rtl=True, elem_id="pr-login-status")
                    with gr.Column(visible=False) as admin_panel:
                        manifest_md = gr.Markdown(rtl=True, elem_id="pr-manifest")
                        skipped_table = gr.Dataframe(
                            headers=SKIPPED_HEADERS,
                            interactive=False,
                            wrap=True,
                            label="فایل‌های کنار گذاشته / skipped files",
                        )
                        uploads = gr.File(
                            label=f"افزودن اسناد ({', '.join(SUPPORTED)}؛ حداکثر "
                            f"{settings.max_upload_bytes // (1024 * 1024)} MB)",
                            file_count="multiple",
                            file_types=list(SUPPORTED),
                            elem_id="pr-upload",
                        )
                        save_btn = gr.Button("ذخیره در پیکره / save to corpus", elem_id="pr-save")
                        upload_status = gr.Markdown(rtl=True, elem_id="pr-upload-status")
                        rebuild_btn = gr.Button(
                            "به‌روزرسانی نمایه / update index", variant="primary", elem_id="pr-rebuild"
                        )
                        rebuild_status = gr.Markdown(rtl=True, elem_id="pr-rebuild-status")

        # ------------------------------------------------------------- events
        chat_outputs = [
            chatbot,
            question_box,
            status,
            answers_state,
            entries_state,
            chips_md,
            source_view,
            answer_table,
            *chips,
        ]
        for trigger in (question_box.submit, ask_btn.click):
            trigger(
                respond,
                [question_box, chatbot, answers_state],
                chat_outputs,
                api_visibility="private",
                concurrency_limit=CONCURRENT_QUESTIONS,
                concurrency_id="questions",
            )
        for i, chip in enumerate(chips):
            chip.click(open_chip(i), [entries_state], [source_view, open_doc], api_visibility="private")
        chatbot.select(
            on_select,
            [answers_state],
            [entries_state, chips_md, answer_table, *chips],
            api_visibility="private",
        )
        chatbot.clear(
            lambda: [{}, [], "", PLACEHOLDER_SOURCE, "", [], *chip_updates([])],
            None,
            [
                answers_state,
                entries_state,
                chips_md,
                source_view,
                open_doc,
                answer_table,
                *chips,
            ],
            api_visibility="private",
        )
        chatbot.like(on_like, [answers_state], [status], api_visibility="private")
        whole_btn.click(open_whole, [open_doc], [tabs, doc_pick, doc_view], api_visibility="private")
        doc_pick.change(read_document, [doc_pick], [doc_view], api_visibility="private")
        for trigger in (search_box.submit, search_btn.click):
            trigger(search_passages, [search_box, search_k], [search_table], api_visibility="private")
        blocks.load(sources_overview, None, [docs_md, docs_table, doc_pick], api_visibility="private")
        if admin:
            login_outputs = [
                authed_state,
                login_status,
                password_box,
                gate,
                admin_panel,
                manifest_md,
                skipped_table,
            ]
            for trigger in (password_box.submit, login_btn.click):
                trigger(login, [password_box], login_outputs, api_visibility="private")
            save_btn.click(
                save_files, [uploads, authed_state], [upload_status, uploads], api_visibility="private"
            )
            rebuild_btn.click(
                rebuild,
                [authed_state],
                [rebuild_status, manifest_md, skipped_table, docs_md, docs_table, doc_pick],
                api_visibility="private",
            )
        gr.api(ask, api_name="ask", concurrency_limit=CONCURRENT_QUESTIONS, concurrency_id="questions")
    return blocks


SETTINGS = Settings.from_env()
demo = build_demo(SETTINGS)


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    settings: Settings | None = None,
    *,
    block: bool = True,
    quiet: bool = True,
) -> gr.Blocks:
    """Start the web UI: build the assistant first (model and index on a first start), then serve.

    With ``block=False`` the server runs in a background thread and the app is
    returned (``app.close()`` stops it); tests and embedding use that.
    """
    settings = settings or Settings.from_env()
    prepare(settings)
    app = demo if settings == SETTINGS else build_demo(settings)
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        quiet=quiet,
        **launch_kwargs(settings),
    )
    url = app.local_url or f"http://{host}:{port}/"
    _say(f"دستیار آماده است: {url} / The assistant is ready at {url}")
    if block:
        app.block_thread()
    return app


def prepare(settings: Settings) -> Assistant:
    """Create the shared Assistant now (model, index, then the model's weights), saying what happens."""
    if needs_first_build(settings):
        _say(
            "نخستین اجرا: مدل و نمایه ساخته می‌شوند؛ چند ده ثانیه صبر کنید… / "
            "First start: building the model and index, this takes a few tens of seconds…"
        )
    else:
        _say("بارگذاری مدل و نمایه… / Loading the model and index…")
    helper = get_assistant(settings)
    _ = helper.embedder.model  # load the model now, not on the first question
    return helper


if __name__ == "__main__":
    try:
        prepare(SETTINGS)
    except AssistantError as exc:  # e.g. an index built by another model: say so, no traceback
        raise SystemExit(str(exc)) from None
    demo.launch(**launch_kwargs(SETTINGS))
