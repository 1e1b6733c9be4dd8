"""The «منابع» tab: every document, read whole, and a passage search.

For trainers checking what the corpus holds; the chat's "whole document"
button lands here with the cited document open.
"""

from __future__ import annotations

import gradio as gr

from ..core.errors import QuestionError
from . import passages, render
from .chat import ChatTab
from .service import Service, error_text
from .widgets import table, warn

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


def build_sources_tab(
    service: Service, tabs: gr.Tabs, chat: ChatTab
) -> tuple[gr.Markdown, gr.Dataframe, gr.Dropdown]:
    """Returns the overview components, refreshed on page load and after a rebuild."""
    docs_md = gr.Markdown(rtl=True, elem_id="pr-docs-summary")
    docs_table = table(DOC_HEADERS, "pr-docs", [22, 30, 18, 12, 8, 10], 300, label="اسناد / documents")
    doc_pick = gr.Dropdown(label="خواندن سند / read a document", choices=[], elem_id="pr-doc-pick")
    doc_view = gr.HTML(elem_id="pr-doc-view")
    gr.Markdown("### جستجوی بندها / passage search", rtl=True)
    with gr.Row():
        search_box = gr.Textbox(
            label="عبارت", rtl=True, scale=4, placeholder="مثلاً: پاسخگویی", elem_id="pr-search"
        )
        search_k = gr.Slider(1, 20, value=5, step=1, label="تعداد / k", scale=1)
        search_btn = gr.Button("جستجو", scale=1, elem_id="pr-search-btn")
    search_table = table(SEARCH_HEADERS, "pr-search-results", [7, 8, 8, 8, 17, 52], 420)

    def read_document(doc_id: str | None, mark: tuple[int, int] | None = None) -> str:
        if not doc_id:
            return ""
        doc = service.document(doc_id)
        if doc is None:
            return render.error_html("این سند در نمایه نیست. / This document is not in the index.")
        return passages.document_html(doc, mark)

    def open_whole(opened: dict | None):
        """The cited document whole, scrolled (by the page's script) to the quote, marked."""
        doc_id = (opened or {}).get("doc_id") if isinstance(opened, dict) else None
        if not doc_id:
            warn("نخست یک استناد را باز کنید. / Open a citation first.")
            return gr.Tabs(), gr.Dropdown(), gr.HTML()
        span = (opened.get("start"), opened.get("end"))
        mark = span if all(isinstance(x, int) for x in span) else None
        return gr.Tabs(selected="sources"), gr.Dropdown(value=doc_id), read_document(doc_id, mark)

    def search(query: str, k: float):
        try:
            hits = service.search((query or "").strip() or _empty(), int(k))
        except Exception as exc:
            warn(error_text(exc))
            return []
        titles = {d.doc_id: d.title for d in service.documents()}
        return [
            [h.rank, round(h.score, 4), round(h.dense, 4), round(h.sparse, 4),
             f"{titles.get(h.chunk.doc_id, '')} ({h.chunk.doc_id})", h.chunk.text]
            for h in hits
        ]  # fmt: skip

    chat.whole_btn.click(open_whole, [chat.open_doc], [tabs, doc_pick, doc_view], api_visibility="private")
    doc_pick.input(read_document, [doc_pick], [doc_view], api_visibility="private")  # a pick, not open_whole
    for trigger in (search_box.submit, search_btn.click):
        trigger(search, [search_box, search_k], [search_table], api_visibility="private")
    return docs_md, docs_table, doc_pick


def _empty() -> str:
    raise QuestionError("عبارت جستجو خالی است. / The search text is empty.")


def overview(service: Service):
    """Summary, document rows and the reading list, for page load and after a rebuild."""
    try:
        docs, stats = service.documents(), service.stats()
    except Exception as exc:
        return f"{render.WARN} {render.md_escape(error_text(exc))}", [], gr.Dropdown(choices=[], value=None)
    rows = [[d.doc_id, d.title, d.speaker, d.date_jalali or d.date, d.kind, len(d.text)] for d in docs]
    summary = f"**{len(docs)}** سند و **{stats.chunks}** بند در نمایه · " + render.ltr(
        f"{len(docs)} documents, {stats.chunks} passages indexed", markdown=True
    )
    # A dropdown's labels are plain text: Unicode isolates keep a title and a Latin file name apart.
    choices = [
        (f"\u2068{render.clip(d.title or d.doc_id, 70)}\u2069 — {render.isolate(d.doc_id)}", d.doc_id)
        for d in docs
    ]
    return summary, rows, gr.Dropdown(choices=choices, value=None)
