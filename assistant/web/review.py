"""The «بازبینی» tab for trainers: review every citation, see what students asked and what is missing.

Behind the trainer password (the admin's opens it too).  A queue of logged
answers (newest or lowest-rated first, filtered by document, verdict and
thumbs); one answer laid out sentence by sentence with the passage each
cites, highlighted in the version of its document that was quoted; a verdict
and a note per citation; the unanswered questions grouped into topics; and
every verdict as a CSV or JSON download.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import gradio as gr

from ..core.records import Answer
from ..store import VERDICTS, ReviewQuery
from . import passages, review_render
from .login import login_gate
from .render import Chip, error_html, md_escape
from .service import Service, error_text

ALL = "__all__"
ORDERS = [("تازه‌ترین / newest", "newest"), ("کم‌امتیازترین / lowest rated", "lowest_rated")]
VERDICT_FILTERS = [("همه / all", ALL), ("بازبینی‌نشده / unreviewed", "unreviewed")]
VERDICT_FILTERS += [(label, key) for key, label in review_render.VERDICT_LABELS.items()]
THUMBS = [("همه / all", ALL), ("👍", "up"), ("👎", "down"), ("بدون رأی / none", "none")]
PAGE = 50


def _opt(value: str | None) -> str | None:
    return None if value in (None, "", ALL) else value


def build_review_tab(service: Service) -> None:
    role_state, panel = login_gate(service, role="trainer", prefix="pr-review")
    answer_state = gr.State(None)  # (log id, Answer) under review
    with panel:
        with gr.Row():
            order = gr.Radio(ORDERS, value="newest", label="ترتیب / order", elem_id="pr-review-order")
            doc = gr.Dropdown(
                [("همه / all", ALL)], value=ALL, label="سند / document", elem_id="pr-review-doc"
            )
            verdict_filter = gr.Dropdown(VERDICT_FILTERS, value=ALL, label="داوری / verdict")
            thumbs = gr.Dropdown(THUMBS, value=ALL, label="رأی / thumbs")
            refresh = gr.Button("تازه‌سازی / refresh", elem_id="pr-review-refresh")
        summary = gr.Markdown(rtl=True, elem_id="pr-review-summary")
        queue = gr.Dataframe(
            headers=review_render.QUEUE_HEADERS, interactive=False, wrap=True, max_height=320,
            elem_id="pr-review-queue",
        )  # fmt: skip
        pick = gr.Dropdown(label="پاسخ برای بازبینی / answer to review", choices=[], elem_id="pr-review-pick")
        answer_view = gr.HTML(elem_id="pr-review-answer")
        citation = gr.Radio([], label="استناد / citation", elem_id="pr-review-citation")
        passage_view = gr.HTML(elem_id="pr-review-passage")
        with gr.Row():
            verdict = gr.Radio(
                [(label, key) for key, label in review_render.VERDICT_LABELS.items()],
                label="داوری شما / your verdict",
                elem_id="pr-verdict",
            )
            note = gr.Textbox(label="یادداشت (اختیاری) / note", rtl=True, elem_id="pr-verdict-note")
            reviewer = gr.Textbox(label="نام بازبین (اختیاری) / reviewer", rtl=True, elem_id="pr-reviewer")
        save = gr.Button("ثبت داوری / save verdict", variant="primary", elem_id="pr-verdict-save")
        saved = gr.Markdown(rtl=True, elem_id="pr-verdict-status")
        gr.Markdown("### پرسش‌های بی‌پاسخ، به تفکیک موضوع / unanswered questions by topic", rtl=True)
        topics_btn = gr.Button("گروه‌بندی / group them", elem_id="pr-gaps-btn")
        topics = gr.Dataframe(
            headers=review_render.TOPIC_HEADERS, interactive=False, wrap=True, elem_id="pr-gaps"
        )
        with gr.Row():
            fmt = gr.Radio([("CSV", "csv"), ("JSON", "json")], value="csv", label="قالب / format")
            export_btn = gr.Button("خروجی داوری‌ها / export verdicts", elem_id="pr-export")
        export_file = gr.File(label="دانلود / download", elem_id="pr-export-file")

    filters = [role_state, order, doc, verdict_filter, thumbs]
    queue_outputs = [summary, queue, pick, doc]
    for trigger in (refresh.click, order.change, verdict_filter.change, thumbs.change, role_state.change):
        trigger(partial(load_queue, service), filters, queue_outputs, api_visibility="private")
    doc.input(partial(load_queue, service), filters, queue_outputs, api_visibility="private")
    queue.select(pick_from_table, None, [pick], api_visibility="private")
    pick.change(
        partial(open_answer, service),
        [role_state, pick],
        [answer_state, answer_view, citation, saved],
        api_visibility="private",
    )
    citation.change(
        partial(open_citation, service),
        [role_state, answer_state, citation],
        [passage_view, verdict, note],
        api_visibility="private",
    )
    save.click(
        partial(save_verdict, service),
        [role_state, answer_state, citation, verdict, note, reviewer],
        [saved, answer_view],
        api_visibility="private",
    )
    topics_btn.click(partial(group_gaps, service), [role_state], [topics], api_visibility="private")
    export_btn.click(partial(export, service), [role_state, fmt], [export_file], api_visibility="private")


def require(role: str) -> None:
    if role not in ("trainer", "admin"):
        raise gr.Error("ابتدا گذرواژه را وارد کنید. / Enter the password first.", print_exception=False)


def load_queue(service: Service, role: str, order_v: str, doc_v: str, verdict_v: str, thumbs_v: str):
    require(role)
    query = ReviewQuery(
        order=order_v or "newest",  # type: ignore[arg-type]
        doc_id=_opt(doc_v),
        verdict=_opt(verdict_v),
        thumbs=_opt(thumbs_v),  # type: ignore[arg-type]
        limit=PAGE,
    )
    page = service.review_queue(query)
    docs = [("همه / all", ALL)] + [(d.title or d.doc_id, d.doc_id) for d in service.documents()]
    return (
        review_render.queue_summary(page),
        review_render.queue_rows(page),
        gr.Dropdown(choices=review_render.queue_choices(page), value=None),
        gr.Dropdown(choices=docs),
    )


def pick_from_table(evt: gr.SelectData):
    row = evt.row_value if evt.row_value else None
    return gr.Dropdown(value=row[0]) if row else gr.Dropdown()


def open_answer(service: Service, role: str, answer_id: int | None):
    require(role)
    answer = service.logged_answer(int(answer_id)) if answer_id else None
    if answer is None:
        return None, "", gr.Radio(choices=[], value=None), ""
    html = review_render.answer_html(answer, service.verdicts(int(answer_id)))
    choices = review_render.citation_choices(answer)
    first = choices[0][1] if choices else None
    return (int(answer_id), answer), html, gr.Radio(choices=choices, value=first), ""


def open_citation(service: Service, role: str, current: tuple[int, Answer] | None, n: int | None):
    require(role)
    if not current or n is None:
        return "", gr.Radio(value=None), ""
    answer_id, answer = current
    cited = next((c for c in answer.citations if c.n == n), None)
    if cited is None:
        return "", gr.Radio(value=None), ""
    try:
        html = passages.source_html(Chip("citation", cited), service.open_citation(cited))
    except Exception as exc:
        html = error_html(error_text(exc))
    given = service.verdicts(answer_id).get(n)
    return html, gr.Radio(value=given.verdict if given else None), given.note if given else ""


def save_verdict(
    service: Service, role: str, current, n, verdict_v: str | None, note_v: str, reviewer_v: str
):
    require(role)
    if not current or n is None or verdict_v not in VERDICTS:
        return "⚠️ یک استناد و یک داوری برگزینید. / Pick a citation and a verdict.", gr.HTML()
    answer_id, answer = current
    try:
        stored = service.set_verdict(answer_id, int(n), verdict_v, note_v or "", reviewer_v or "")
    except Exception as exc:
        return f"⚠️ {md_escape(error_text(exc))}", gr.HTML()
    label = review_render.VERDICT_LABELS[stored.verdict]
    html = review_render.answer_html(answer, service.verdicts(answer_id))
    return f"✅ داوری ثبت شد: [{stored.n}] {label} / verdict saved", html


def group_gaps(service: Service, role: str):
    require(role)
    try:
        return review_render.topic_rows(service.gap_topics())
    except Exception as exc:
        raise gr.Error(error_text(exc), print_exception=False) from None


def export(service: Service, role: str, fmt_v: str) -> str:
    require(role)
    return str(service.export_verdicts(fmt_v, Path(tempfile.mkdtemp(prefix="pr-verdicts-"))))
