"""The «گفت‌وگو» tab: students ask; answers stream in with numbered citation buttons.

A button opens the cited paragraph (from the version of the document that was
quoted) with the quote marked.  Abstentions say so and list the nearest
passages as *related*, never as citations.  The conversation is kept, so a
follow-up ("دومی یعنی چه؟") is read against the previous turns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..pipeline import QuestionError, Turn, validate_question
from ..schema import Answer
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


def _layout(max_question_chars: int) -> _Layout:
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
    )


def build_chat_tab(service: Service) -> ChatTab:
    """Components first, then their handlers, then the events (Gradio's demo idiom)."""
    settings = service.settings
    answers_state = gr.State({})  # chat message index → Reply (the answer and its log id)
    turns_state = gr.State([])  # the conversation's answers, oldest first
    chips_state = gr.State([])  # the Chip of each visible button
    open_doc = gr.State("")
    ui = _layout(settings.max_question_chars)
    chatbot, chips_md, chips, question_box, ask_btn, status, source_view, whole_btn, answer_table = (
        ui.chatbot,
        ui.chips_md,
        ui.chips,
        ui.question_box,
        ui.ask_btn,
        ui.status,
        ui.source_view,
        ui.whole_btn,
        ui.answer_table,
    )

    def show(answer: Answer | None) -> dict:
        """The buttons, caption and table for one answer (the newest, or one clicked in the chat)."""
        chips_now = render.chips_for(answer, MAX_CHIPS)
        return {
            chips_state: chips_now,
            chips_md: chips_caption(answer),
            answer_table: render.answer_rows(answer),
            **dict(zip(chips, chip_buttons(chips_now), strict=True)),
        }

    def respond(question: str, history: list, answers: dict, turns: list, request: gr.Request):
        history = list(history or [])
        try:
            question = validate_question(question, settings.max_question_chars)
        except QuestionError as exc:
            warn(str(exc))
            yield {status: f"⚠️ {render.md_escape(exc)}"}
            return
        history += [
            {"role": "user", "content": render.md_escape(question)},
            {"role": "assistant", "content": SEARCHING},
        ]
        yield {chatbot: list(history), question_box: "", status: "", **show(None)}
        earlier = [Turn(a.question, a) for a in (turns or [])[-MAX_TURNS:]]
        draft, reply = "", None
        try:
            for part in service.ask_stream(question, earlier, client=client_key(request)):
                if isinstance(part, str):  # a chat model's tokens, as they arrive
                    draft += part
                    history[-1] = {"role": "assistant", "content": render.md_escape(draft) + " ▍"}
                    yield {chatbot: list(history)}
                else:
                    reply = part
        except Exception as exc:
            message = error_text(exc)
            warn(message)
            history[-1] = {"role": "assistant", "content": f"⚠️ {render.md_escape(message)}"}
            yield {chatbot: list(history), status: f"⚠️ {render.md_escape(message)}"}
            return
        answer = reply.answer
        for frame in [] if draft else stream_frames(answer):  # quoted answers appear word by word too
            history[-1] = {"role": "assistant", "content": frame}
            yield {chatbot: list(history)}  # a copy per frame: each frame is its own state
            time.sleep(STREAM_DELAY_S)
        history[-1] = {"role": "assistant", "content": render.answer_markdown(answer)}
        yield {
            chatbot: list(history),
            answers_state: {**(answers or {}), len(history) - 1: reply},
            turns_state: [*(turns or []), answer][-MAX_TURNS:],
            source_view: passages.PLACEHOLDER_SOURCE,
            **show(answer),
        }

    def open_chip(i: int):
        def handler(chips_now: list[Chip]):
            if not chips_now or i >= len(chips_now):
                return passages.PLACEHOLDER_SOURCE, ""
            chip = chips_now[i]
            try:
                source = service.assistant().open_citation(chip.citation)
            except Exception as exc:
                return render.error_html(error_text(exc)), ""
            return passages.source_html(chip, source), chip.citation.doc_id if source.current else ""

        return handler

    def on_select(answers: dict, evt: gr.SelectData):
        """Clicking an earlier answer brings its citations back under the chat."""
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        reply = (answers or {}).get(index)
        return show(reply.answer) if reply is not None else {}

    def on_like(answers: dict, data: gr.LikeData, request: gr.Request):
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

    outputs = [chatbot, question_box, status, answers_state, turns_state, chips_state, chips_md]
    outputs += [source_view, answer_table, *chips]
    for trigger in (question_box.submit, ask_btn.click):
        trigger(
            respond,
            [question_box, chatbot, answers_state, turns_state],
            outputs,
            api_visibility="private",
            concurrency_limit=settings.max_queue,
            concurrency_id="questions",
        )
    for i, chip in enumerate(chips):
        chip.click(open_chip(i), [chips_state], [source_view, open_doc], api_visibility="private")
    chatbot.select(
        on_select, [answers_state], [chips_state, chips_md, answer_table, *chips], api_visibility="private"
    )
    chatbot.clear(
        lambda: [{}, [], [], "", passages.PLACEHOLDER_SOURCE, "", [], *chip_buttons([])],
        None,
        [answers_state, turns_state, chips_state, chips_md, source_view, open_doc, answer_table, *chips],
        api_visibility="private",
    )
    chatbot.like(on_like, [answers_state], [status], api_visibility="private")
    return ChatTab(whole_btn=whole_btn, open_doc=open_doc, answer_table=answer_table)
