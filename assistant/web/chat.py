"""The «گفت‌وگو» tab: students ask; answers stream in with numbered citation buttons.

A button opens the cited paragraph (from the version of the document that was
quoted) with the quote marked.  Abstentions say so and list the nearest
passages as *related*, never as citations.  The conversation is kept, so a
follow-up ("دومی یعنی چه؟") is read against the previous turns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from ..core.errors import QuestionError
from ..core.inputs import keep_recent
from ..core.records import Answer, Turn
from . import passages, render
from .render import Chip
from .service import Service, error_text
from .widgets import table, warn

EXAMPLES = [
    "ارکان اعتماد در روابط عمومی کدام‌اند؟",
    "شفافیت به چه معناست؟",
    "چه عواملی باعث از دست رفتن اعتماد به سازمان می‌شود؟",
]
MAX_CHIPS = 8  # citation/related buttons under the chat (top_k is 5 by default)
MAX_TURNS = 6  # earlier questions a follow-up may lean on
STREAM_MAX_FRAMES = 40  # an extractive answer appears word by word, in at most ~1.2 s
STREAM_DELAY_S = 0.03
SEARCHING = "⏳ در حال جستجو در منابع… (searching the sources…)"


@dataclass
class ChatTab:
    """The components other tabs wire to (the Sources tab opens a cited document whole)."""

    whole_btn: gr.Button
    open_doc: gr.State
    answer_table: gr.Dataframe


def client_key(request: gr.Request | None) -> str:
    """Who is asking, for per-client limits: the address, and the browser session when there is one."""
    host = getattr(getattr(request, "client", None), "host", "") or "local"
    return f"{host}:{getattr(request, 'session_hash', '') or '-'}"


def chip_buttons(chips: list[Chip]) -> list[Any]:
    updates = [gr.Button(value=c.label, visible=True) for c in chips[:MAX_CHIPS]]
    return updates + [gr.Button(value="", visible=False)] * (MAX_CHIPS - len(updates))


def chips_caption(answer: Answer | None) -> str:
    if answer is None or (answer.abstained and not answer.related):
        return ""
    if answer.abstained:
        return "**مطالب مرتبط** (استناد نیستند؛ برای دیدن متن بزنید) · related passages, not citations"
    return "**استنادها** — برای دیدن بند منبع روی شماره بزنید · citations: click to open the source"


def stream_frames(answer: Answer) -> list[str]:
    """Partial messages for an answer computed at once (the extractive answerer)."""
    words = answer.text.split(" ")
    step = max(1, len(words) // STREAM_MAX_FRAMES)
    return [render.answer_markdown(answer, " ".join(words[:i])) for i in range(step, len(words), step)]


@dataclass
class _Layout:
    """The chat tab's visible components, created in page order."""

    chatbot: gr.Chatbot
    chips_md: gr.Markdown
    chips: list[gr.Button]
    question_box: gr.Textbox
    ask_btn: gr.Button
    status: gr.Markdown
    source_view: gr.HTML
    whole_btn: gr.Button
    answer_table: gr.Dataframe
    answers: gr.State  # chat message index → Reply (the answer and its log id)
    turns: gr.State  # the conversation's answers, oldest first
    chips_now: gr.State  # the Chip of each visible button
    open_doc: gr.State  # the document a citation opened, for the whole-document button


def _layout(max_question_chars: int) -> _Layout:
    states = {
        "answers": gr.State({}),
        "turns": gr.State([]),
        "chips_now": gr.State([]),
        "open_doc": gr.State(""),
    }
    with gr.Row(elem_id="pr-main-row"):
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
                    max_length=max_question_chars,
                    scale=5,
                    autofocus=True,
                    elem_id="pr-question",
                )
                ask_btn = gr.Button("بپرس", variant="primary", scale=1, elem_id="pr-ask")
            status = gr.Markdown(rtl=True, elem_id="pr-status")
            gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question_box], label="نمونه پرسش‌ها")
        with gr.Column(scale=2):
            source_view = gr.HTML(passages.PLACEHOLDER_SOURCE, label="منبع", elem_id="pr-source")
            with gr.Row():
                whole_btn = gr.Button("نمایش کل سند / whole document", size="sm", elem_id="pr-whole")
            with gr.Accordion("جمله به جمله: کدام منبع کدام ادعا را پشتیبانی می‌کند", open=False):
                answer_table = table(render.ANSWER_HEADERS, "pr-answer-table", [35, 10, 45, 10], 420)
    return _Layout(
        chatbot=chatbot,
        chips_md=chips_md,
        chips=chips,
        question_box=question_box,
        ask_btn=ask_btn,
        status=status,
        source_view=source_view,
        whole_btn=whole_btn,
        answer_table=answer_table,
        **states,
    )


def _show(ui: _Layout, answer: Answer | None) -> dict:
    """The buttons, caption and table for one answer (the newest, or one clicked in the chat)."""
    chips_now = render.chips_for(answer, MAX_CHIPS)
    return {
        ui.chips_now: chips_now,
        ui.chips_md: chips_caption(answer),
        ui.answer_table: render.answer_rows(answer),
        **dict(zip(ui.chips, chip_buttons(chips_now), strict=True)),
    }


def _respond(
    service: Service,
    ui: _Layout,
    question: str,
    history: list,
    answers: dict,
    turns: list,
    request: gr.Request,
):
    """Ask with the conversation so far; stream the answer into the chat, then its citations."""
    history, answers = keep_recent(history, answers)  # the window a browser sent back, cut
    earlier = [Turn(a.question, a) for a in (turns or [])[-MAX_TURNS:]]
    try:
        query = service.query(question, earlier)  # the one check of what was typed
    except QuestionError as exc:
        warn(str(exc))
        yield {ui.status: f"⚠️ {render.md_escape(exc)}"}
        return
    history += [
        {"role": "user", "content": render.md_escape(query.question)},
        {"role": "assistant", "content": SEARCHING},
    ]
    yield {ui.chatbot: list(history), ui.question_box: "", ui.status: "", **_show(ui, None)}
    draft, reply = "", None
    try:
        for part in service.ask_stream(query, client=service.client(request)):
            if isinstance(part, str):  # a chat model's tokens, as they arrive
                draft += part
                history[-1] = {"role": "assistant", "content": render.md_escape(draft) + " ▍"}
                yield {ui.chatbot: list(history)}
            else:
                reply = part
    except Exception as exc:
        message = error_text(exc)
        warn(message)
        history[-1] = {"role": "assistant", "content": f"⚠️ {render.md_escape(message)}"}
        yield {ui.chatbot: list(history), ui.status: f"⚠️ {render.md_escape(message)}"}
        return
    answer = reply.answer
    for frame in [] if draft else stream_frames(answer):  # quoted answers appear word by word too
        history[-1] = {"role": "assistant", "content": frame}
        yield {ui.chatbot: list(history)}  # a copy per frame: each frame is its own state
        time.sleep(STREAM_DELAY_S)
    history[-1] = {"role": "assistant", "content": render.answer_markdown(answer)}
    yield {
        ui.chatbot: list(history),
        ui.answers: {**(answers or {}), len(history) - 1: reply},
        ui.turns: [*(turns or []), answer][-MAX_TURNS:],
        ui.source_view: passages.PLACEHOLDER_SOURCE,
        **_show(ui, answer),
    }


def _open_chip(service: Service, i: int, chips_now: list[Chip]):
    """The cited paragraph of button ``i``, and its document id when that version is current."""
    if not chips_now or i >= len(chips_now):
        return passages.PLACEHOLDER_SOURCE, ""
    chip = chips_now[i]
    try:
        source = service.open_citation(chip.citation)
    except Exception as exc:
        return render.error_html(error_text(exc)), ""
    return passages.source_html(chip, source), chip.citation.doc_id if source.current else ""


def _on_select(ui: _Layout, answers: dict, evt: gr.SelectData):
    """Clicking an earlier answer brings its citations back under the chat."""
    index = evt.index if isinstance(evt.index, int) else evt.index[0]
    reply = (answers or {}).get(index)
    return _show(ui, reply.answer) if reply is not None else {}


def _on_like(service: Service, answers: dict, data: gr.LikeData, request: gr.Request) -> str:
    index = data.index if isinstance(data.index, int) else data.index[0]
    reply = (answers or {}).get(index)
    if reply is None:
        return "⚠️ این پیام پاسخی برای ارزیابی ندارد. / Nothing to rate in this message."
    rating = {True: 1, False: -1}.get(data.liked)  # type: ignore[call-overload]
    try:
        service.rate(reply, rating, f"{client_key(request)}:{index}")
    except Exception as exc:
        return f"⚠️ {render.md_escape(error_text(exc))}"
    if rating == 1:
        return "👍 سپاس از بازخورد شما. / Thanks for your feedback."
    if rating == -1:
        return "👎 سپاس؛ بازخورد شما ثبت شد. / Thanks; your feedback was recorded."
    return "بازخورد برداشته شد. / Feedback removed."


def _cleared() -> list:
    return [{}, [], [], "", passages.PLACEHOLDER_SOURCE, "", [], *chip_buttons([])]


def build_chat_tab(service: Service) -> ChatTab:
    """Layout, then the events; the handlers above get the service and layout bound (Gradio's demo idiom)."""
    ui = _layout(service.settings.max_question_chars)
    private = {"api_visibility": "private"}

    # Gradio passes gr.Request / gr.LikeData / gr.SelectData by the parameter's annotation,
    # which it cannot read through functools.partial: these three stay typed closures.
    def respond(question: str, history: list, answers: dict, turns: list, request: gr.Request):
        yield from _respond(service, ui, question, history, answers, turns, request)

    def on_select(answers: dict, evt: gr.SelectData) -> dict:
        return _on_select(ui, answers, evt)

    def on_like(answers: dict, data: gr.LikeData, request: gr.Request) -> str:
        return _on_like(service, answers, data, request)

    outputs = [ui.chatbot, ui.question_box, ui.status, ui.answers, ui.turns, ui.chips_now, ui.chips_md]
    outputs += [ui.source_view, ui.answer_table, *ui.chips]
    for trigger in (ui.question_box.submit, ui.ask_btn.click):
        trigger(
            respond,
            [ui.question_box, ui.chatbot, ui.answers, ui.turns],
            outputs,
            concurrency_limit=service.settings.max_queue,
            concurrency_id="questions",
            **private,
        )
    for i, chip in enumerate(ui.chips):
        chip.click(partial(_open_chip, service, i), [ui.chips_now], [ui.source_view, ui.open_doc], **private)
    shown = [ui.chips_now, ui.chips_md, ui.answer_table, *ui.chips]
    ui.chatbot.select(on_select, [ui.answers], shown, **private)
    cleared = [ui.answers, ui.turns, ui.chips_now, ui.chips_md, ui.source_view, ui.open_doc, ui.answer_table]
    ui.chatbot.clear(_cleared, None, [*cleared, *ui.chips], **private)
    ui.chatbot.like(on_like, [ui.answers], [ui.status], **private)
    return ChatTab(whole_btn=ui.whole_btn, open_doc=ui.open_doc, answer_table=ui.answer_table)
