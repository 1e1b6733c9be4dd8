"""The «بازبینی» tab for trainers: a queue that a busy trainer gets through, and what is missing.

Shown once a trainer (or the admin) signs in.  The desk opens the next answer
nobody has judged (in the chosen order and filters); each sentence sits beside
the passage it cites; one click (or key) judges the citation in view and moves
on: to the next citation without a verdict, then to the next unreviewed
answer.  "All citations support it" judges a whole answer at once; "next"
skips one.  Keys: 1-4 the verdicts, 5 all support, 0 next (not while typing).
The whole queue (newest or lowest-rated first, filtered) and the unanswered
questions grouped into topics sit below, folded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from ..core.records import Answer
from ..store import VERDICTS, ReviewQuery
from . import passages, review_render
from .render import DONE, WARN, Chip, error_html, said, said_error
from .service import Service, error_text

ALL = "__all__"
ORDERS = [("تازه‌ترین / newest", "newest"), ("کم‌امتیازترین / lowest rated", "lowest_rated")]
VERDICT_FILTERS = [("همه / all", ALL), ("بازبینی‌نشده / unreviewed", "unreviewed")]
VERDICT_FILTERS += [(label, key) for key, label in review_render.VERDICT_LABELS.items()]
THUMBS = [("همه / all", ALL), ("پسندیده / thumbs up", "up"), ("نپسندیده / thumbs down", "down"),
          ("بدون رأی / none", "none")]  # fmt: skip
PAGE = 50
KEYS = {"supports": "1", "partly": "2", "does_not_support": "3", "wrong_passage": "4"}

#: Installed once after a sign-in: digits judge the citation in view, unless the trainer is typing.
#: ``event.code`` is the key's place, so a Persian keyboard layout works the same.
KEYS_JS = """() => {
  if (window.prDeskKeys) return; window.prDeskKeys = true;
  const map = {Digit1: 'pr-judge-supports', Digit2: 'pr-judge-partly', Digit3: 'pr-judge-does_not_support',
    Digit4: 'pr-judge-wrong_passage', Digit5: 'pr-judge-all', Digit0: 'pr-next',
    Numpad1: 'pr-judge-supports', Numpad2: 'pr-judge-partly', Numpad3: 'pr-judge-does_not_support',
    Numpad4: 'pr-judge-wrong_passage', Numpad5: 'pr-judge-all', Numpad0: 'pr-next'};
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || e.repeat) return;
    const t = e.target;  // typing in a box, not a radio button or a button just clicked
    const choice = t && t.tagName === 'INPUT' && ['radio', 'checkbox', 'button'].includes(t.type);
    if (t && !choice && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    const button = map[e.code] && document.getElementById(map[e.code]);
    if (!button || button.offsetParent === null || button.disabled) return;
    e.preventDefault(); button.click();
  });
}"""


def _opt(value: str | None) -> str | None:
    return None if value in (None, "", ALL) else value


@dataclass
class _Desk:
    order: gr.Radio
    doc: gr.Dropdown
    verdict_filter: gr.Dropdown
    thumbs: gr.Dropdown
    refresh: gr.Button
    summary: gr.Markdown
    answer_view: gr.HTML
    citation: gr.Radio
    passage_view: gr.HTML
    judge: dict[str, gr.Button]
    judge_row: gr.Row
    all_btn: gr.Button
    next_btn: gr.Button
    note: gr.Textbox
    reviewer: gr.Textbox
    status: gr.Markdown
    queue: gr.HTML
    pick: gr.Dropdown
    topics_btn: gr.Button
    topics: gr.Dataframe


def _layout() -> _Desk:
    with gr.Row():
        order = gr.Radio(ORDERS, value="newest", label="ترتیب / order", elem_id="pr-review-order")
        doc = gr.Dropdown([("همه / all", ALL)], value=ALL, label="سند / document", elem_id="pr-review-doc")
        verdict_filter = gr.Dropdown(VERDICT_FILTERS, value=ALL, label="داوری / verdict")
        thumbs = gr.Dropdown(THUMBS, value=ALL, label="رأی / thumbs")
        refresh = gr.Button("تازه‌سازی / refresh", elem_id="pr-review-refresh")
    summary = gr.Markdown(rtl=True, elem_id="pr-review-summary")
    answer_view = gr.HTML(elem_id="pr-review-answer")
    citation = gr.Radio([], label="استناد در حال بازبینی / citation in view", elem_id="pr-review-citation")
    passage_view = gr.HTML(elem_id="pr-review-passage")
    with gr.Row(elem_id="pr-judge-row", visible=False) as judge_row:  # shown with an answer to judge
        judge = {
            key: gr.Button(
                f"{KEYS[key]} · {review_render.VERDICT_FA[key]}",
                variant="primary" if key == "supports" else "secondary",
                elem_id=f"pr-judge-{key}",
            )
            for key in VERDICTS
        }
        all_btn = gr.Button("5 · همه (باقی) درست است / all support", elem_id="pr-judge-all")
        next_btn = gr.Button("0 · بعدی / next", elem_id="pr-next")
    with gr.Row():
        note = gr.Textbox(label="یادداشت (اختیاری) / note", rtl=True, elem_id="pr-verdict-note", scale=3)
        reviewer = gr.Textbox(label="نام بازبین (اختیاری) / reviewer", rtl=True, elem_id="pr-reviewer")
    status = gr.Markdown(rtl=True, elem_id="pr-verdict-status")
    gr.Markdown(
        said(
            "",
            "کلیدها: ۱ تا ۴ داوری، ۵ همه درست، ۰ بعدی (وقتی در کادر متنی نیستید).",
            "Keys: 1-4 verdicts, 5 all support, 0 next (outside text boxes).",
        ),
        rtl=True,
        elem_id="pr-keys-help",
    )
    with gr.Accordion("همهٔ پاسخ‌ها / the whole queue", open=False, elem_id="pr-queue-box"):
        queue = gr.HTML(elem_id="pr-review-queue", max_height=360)
        pick = gr.Dropdown(label="پاسخ برای بازبینی / answer to review", choices=[], elem_id="pr-review-pick")
    with gr.Accordion("پرسش‌های بی‌پاسخ، به تفکیک موضوع / unanswered by topic", open=False):
        topics_btn = gr.Button("گروه‌بندی / group them", elem_id="pr-gaps-btn")
        topics = gr.Dataframe(
            headers=review_render.TOPIC_HEADERS, interactive=False, wrap=True, elem_id="pr-gaps"
        )
    return _Desk(
        order, doc, verdict_filter, thumbs, refresh, summary, answer_view, citation, passage_view, judge,
        judge_row, all_btn, next_btn, note, reviewer, status, queue, pick, topics_btn, topics,
    )  # fmt: skip


def build_review_tab(service: Service, role_state: gr.State) -> None:
    """The desk, for the role in ``role_state`` (set by the header's sign-in)."""
    ui = _layout()
    answer_state = gr.State(None)  # (log id, Answer) under review
    skipped = gr.State([])  # answers passed over with "next" in this tab
    filters = [role_state, ui.order, ui.doc, ui.verdict_filter, ui.thumbs]
    queue_outputs = [ui.summary, ui.queue, ui.pick, ui.doc]
    shown = [answer_state, ui.answer_view, ui.citation, ui.passage_view, ui.note, ui.status, ui.judge_row]
    where = [ui.order, ui.doc, ui.thumbs, skipped]
    private: dict[str, Any] = {"api_visibility": "private"}
    for trigger in (ui.refresh.click, ui.order.change, ui.verdict_filter.change, ui.thumbs.change):
        trigger(partial(load_queue, service), filters, queue_outputs, **private)
    ui.doc.input(partial(load_queue, service), filters, queue_outputs, **private)
    role_state.change(partial(load_queue, service), filters, queue_outputs, **private).then(
        partial(next_answer, service), [role_state, answer_state, *where], [*shown, skipped], **private
    )

    ui.pick.input(partial(open_answer, service), [role_state, ui.pick], shown, **private)
    ui.citation.input(partial(open_citation, service), [role_state, answer_state, ui.citation],
                      [ui.passage_view, ui.note], **private)  # fmt: skip
    judged = [role_state, answer_state, ui.citation, ui.note, ui.reviewer, *where]
    for key, button in ui.judge.items():
        button.click(partial(judge, service, key), judged, [*shown, skipped], **private)
    ui.all_btn.click(partial(judge, service, "all"), judged, [*shown, skipped], **private)
    ui.next_btn.click(
        partial(next_answer, service), [role_state, answer_state, *where], [*shown, skipped], **private
    )
    ui.topics_btn.click(partial(group_gaps, service), [role_state], [ui.topics], **private)


def require(role: str) -> None:
    if role not in ("trainer", "admin"):
        raise gr.Error("ابتدا وارد شوید. / Sign in first.", print_exception=False)


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
        review_render.queue_summary(page, service.store().counts()),
        review_render.queue_html(page),
        gr.Dropdown(choices=review_render.queue_choices(page), value=None),
        gr.Dropdown(choices=docs),
    )


def show(service: Service, answer_id: int | None, status: str = "") -> list[Any]:
    """The outputs that put one answer on the desk, its first unjudged citation in view."""
    answer = service.logged_answer(int(answer_id)) if answer_id else None
    if answer is None:
        return [None, "", gr.Radio(choices=[], value=None), "", "", status, gr.Row(visible=False)]
    given = service.verdicts(int(answer_id))
    choices = review_render.citation_choices(answer)
    todo = [n for _, n in choices if n not in given]
    n = todo[0] if todo else (choices[0][1] if choices else None)
    current = (int(answer_id), answer)
    return [
        current,
        review_render.answer_html(answer, given),
        gr.Radio(choices=choices, value=n),
        _passage(service, answer, n),
        given[n].note if n in given else "",
        status,
        gr.Row(visible=True),
    ]


def _passage(service: Service, answer: Answer, n: int | None) -> str:
    cited = next((c for c in answer.citations if c.n == n), None)
    if cited is None:
        return ""
    try:
        return passages.source_html(Chip("citation", cited), service.open_citation(cited))
    except Exception as exc:
        return error_html(error_text(exc))


def _query(order_v: str, doc_v: str, thumbs_v: str) -> ReviewQuery:
    return ReviewQuery(order=order_v or "newest", doc_id=_opt(doc_v), thumbs=_opt(thumbs_v))  # type: ignore[arg-type]


def next_answer(service: Service, role: str, current, order_v: str, doc_v: str, thumbs_v: str,
                skipped: list[int], status: str = ""):  # fmt: skip
    """Skip the answer in view (if any) and open the next unreviewed one."""
    require(role)
    skipped = list(skipped or [])
    if current:
        skipped.append(int(current[0]))
    found = service.next_unreviewed(_query(order_v, doc_v, thumbs_v), tuple(skipped))
    if found is None:
        done = said(DONE, "همهٔ پاسخ‌های این فهرست بازبینی شده‌اند.", "Nothing left to review here.")
        return [*show(service, None, f"{status}\n\n{done}".strip()), skipped]
    return [*show(service, found, status), skipped]


def open_answer(service: Service, role: str, answer_id: int | None):
    require(role)
    return show(service, answer_id)


def open_citation(service: Service, role: str, current: tuple[int, Answer] | None, n: int | None):
    require(role)
    if not current or n is None:
        return "", ""
    answer_id, answer = current
    given = service.verdicts(answer_id).get(n)
    return _passage(service, answer, n), given.note if given else ""


def judge(service: Service, verdict_v: str, role: str, current, n, note_v: str, reviewer_v: str,
          order_v: str, doc_v: str, thumbs_v: str, skipped: list[int]):  # fmt: skip
    """Judge the citation in view (or, with "all", every citation), then move on."""
    require(role)
    if not current or (n is None and verdict_v != "all"):
        return [
            *[gr.update()] * 5,
            said(WARN, "پاسخی برای داوری باز نیست.", "No answer is open."),
            gr.update(),
            skipped,
        ]
    answer_id, answer = current
    try:
        if verdict_v == "all":
            done = service.support_all(
                answer_id, [c.n for c in answer.citations], reviewer_v or "", note_v or ""
            )
            supports = review_render.VERDICT_FA["supports"]
            line = said(
                DONE,
                f"ثبت شد: {len(done)} استناد دیگر «{supports}»",
                f"all the rest support: {len(done)} saved",
            )
        else:
            stored = service.set_verdict(answer_id, int(n), verdict_v, note_v or "", reviewer_v or "")
            line = said(
                DONE, f"ثبت شد: [{stored.n}] {review_render.VERDICT_FA[stored.verdict]}", "verdict saved"
            )
    except Exception as exc:
        return [*[gr.update()] * 5, said_error(error_text(exc)), gr.update(), skipped]
    given = service.verdicts(answer_id)
    if any(c.n not in given for c in answer.citations):
        return [*show(service, answer_id, line), skipped]  # the next citation of this answer
    return next_answer(service, role, None, order_v, doc_v, thumbs_v, skipped, line)


def group_gaps(service: Service, role: str):
    require(role)
    try:
        return review_render.topic_rows(service.gap_topics())
    except Exception as exc:
        raise gr.Error(error_text(exc), print_exception=False) from None
