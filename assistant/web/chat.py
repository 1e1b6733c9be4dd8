"""The «گفت‌وگو» tab: students ask; answers stream in, each ``[n]`` in them a link to its source.

A link (or a button under the chat) opens the cited paragraph (from the
version of the document that was quoted) with the quote marked; on a phone it
opens in a drawer over the lower half of the screen.  Abstentions say so and
list the nearest passages as *related*, never as citations.  The conversation
is read against the previous turns ("دومی یعنی چه؟"), kept in the student's own
browser (it survives a reload), started afresh, or downloaded as Markdown.
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
from . import chat_layout, keep, passages, render
from .chat_layout import MAX_CHIPS, Layout
from .render import DONE, WARN, Chip
from .service import Reply, Service, error_text
from .widgets import warn

MAX_TURNS = 6  # earlier questions a follow-up may lean on
STREAM_MAX_FRAMES = 40  # an extractive answer appears word by word, in at most ~1.2 s
STREAM_DELAY_S = 0.03
SEARCHING = "… در حال جستجو در منابع (searching the sources…)"


@dataclass
class ChatTab:
    """The components other tabs wire to (the Sources tab opens a cited document whole)."""

    whole_btn: gr.Button
    open_doc: gr.State  # {"doc_id", "start", "end"} of the citation opened, when its version is current
    answer_table: gr.Dataframe
    restore: tuple  # (fn, inputs, outputs) for the page's load event: the kept conversation back


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
        related = "related passages, not citations"
        return f"**مطالب مرتبط** (استناد نیستند؛ برای دیدن متن بزنید) · {render.ltr(related, markdown=True)}"
    tap = "tap a [n] in the answer to open its source"
    return f"برای دیدن بند منبع روی هر [n] در پاسخ بزنید · {render.ltr(tap, markdown=True)}"


def stream_frames(answer: Answer) -> list[str]:
    """Partial messages for an answer computed at once (the extractive answerer)."""
    words = answer.text.split(" ")
    step = max(1, len(words) // STREAM_MAX_FRAMES)
    return [render.answer_markdown(answer, " ".join(words[:i])) for i in range(step, len(words), step)]


def _show(ui: Layout, answer: Answer | None) -> dict:
    """The buttons, caption and table for one answer (the newest, or one clicked in the chat)."""
    # Buttons only for an abstention's related passages: a citation is its own [n] link in the answer.
    chips_now = render.chips_for(answer, MAX_CHIPS) if answer is not None and answer.abstained else []
    return {
        ui.chips_now: chips_now,
        ui.chips_md: chips_caption(answer),
        ui.answer_table: render.answer_rows(answer),
        **dict(zip(ui.chips, chip_buttons(chips_now), strict=True)),
    }


def _kept_turns(answers: dict) -> list[keep.KeptTurn]:
    """The answered turns of the chat window, oldest first, as the browser keeps them."""
    return [
        keep.KeptTurn(r.answer.question, r.answer, r.log_id)
        for _, r in sorted((answers or {}).items(), key=lambda item: item[0])
    ]


def _respond(
    service: Service,
    ui: Layout,
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
        yield {ui.status: render.said_error(exc)}
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
        history[-1] = {"role": "assistant", "content": f"{WARN} {render.md_escape(message)}"}
        yield {ui.chatbot: list(history), ui.status: render.said_error(message)}
        return
    answer = reply.answer
    for frame in [] if draft else stream_frames(answer):  # quoted answers appear word by word too
        history[-1] = {"role": "assistant", "content": frame}
        yield {ui.chatbot: list(history)}  # a copy per frame: each frame is its own state
        time.sleep(STREAM_DELAY_S)
    history[-1] = {"role": "assistant", "content": keep.chat_message(answer)}
    answers = {**(answers or {}), len(history) - 1: reply}
    yield {
        ui.chatbot: list(history),
        ui.answers: answers,
        ui.turns: [*(turns or []), answer][-MAX_TURNS:],
        ui.source_view: passages.PLACEHOLDER_SOURCE,
        ui.kept: keep.to_saved(_kept_turns(answers)),
        **_show(ui, answer),
    }


def _opened(service: Service, chip: Chip) -> tuple[str, dict]:
    """A citation's paragraph, and where it sits in its document when that version is current."""
    try:
        source = service.open_citation(chip.citation)
    except Exception as exc:
        return render.error_html(error_text(exc)), {}
    c = chip.citation
    where = {"doc_id": c.doc_id, "start": c.start, "end": c.end} if source.current else {}
    if where and (source.changed or chip.kind == "related"):
        where = {"doc_id": c.doc_id}  # the current text differs, or nothing was quoted: no mark
    return passages.source_html(chip, source), where


def _open_chip(service: Service, i: int, chips_now: list[Chip]):
    """The cited paragraph of button ``i``."""
    if not chips_now or i >= len(chips_now):
        return passages.PLACEHOLDER_SOURCE, {}
    return _opened(service, chips_now[i])


def _open_cite(service: Service, key: str, answers: dict):
    """``[n]`` clicked in chat message ``m`` (``key`` is "m:n", from the page's script)."""
    try:
        msg, n = (int(part) for part in (key or "").split(":", 1))
    except ValueError:
        return passages.PLACEHOLDER_SOURCE, {}
    reply = (answers or {}).get(msg)
    found = [c for c in reply.answer.citations if c.n == n] if reply is not None else []
    if not found:
        return render.error_html("این استناد دیگر در این گفت‌وگو نیست. / That citation is gone."), {}
    return _opened(service, Chip("citation", found[0]))


def _on_select(ui: Layout, answers: dict, evt: gr.SelectData):
    """Clicking an earlier answer brings its citations back under the chat."""
    index = evt.index if isinstance(evt.index, int) else evt.index[0]
    reply = (answers or {}).get(index)
    return _show(ui, reply.answer) if reply is not None else {}


def _on_like(service: Service, answers: dict, data: gr.LikeData, request: gr.Request):
    """A thumb stored; a thumbs-down opens the comment box for that answer."""
    index = data.index if isinstance(data.index, int) else data.index[0]
    reply = (answers or {}).get(index)
    if reply is None:
        return (
            render.said(WARN, "این پیام پاسخی برای ارزیابی ندارد.", "Nothing to rate here."),
            gr.Row(),
            None,
        )
    rating = {True: 1, False: -1}.get(data.liked)  # type: ignore[call-overload]
    try:
        service.rate(reply, rating, f"{client_key(request)}:{index}")
    except Exception as exc:
        return render.said_error(error_text(exc)), gr.Row(), None
    if rating == 1:
        return (
            render.said(DONE, "سپاس از بازخورد شما.", "Thanks for your feedback."),
            gr.Row(visible=False),
            None,
        )
    if rating == -1:
        fa = "سپاس؛ بازخورد شما ثبت شد. اگر بخواهید بنویسید چه چیزی درست نبود."
        return (
            render.said(DONE, fa, "Thanks; recorded. Say what was wrong if you like."),
            gr.Row(visible=True),
            index,
        )
    return render.said("", "بازخورد برداشته شد.", "Feedback removed."), gr.Row(visible=False), None


def _send_comment(service: Service, answers: dict, index, comment: str, request: gr.Request):
    """The thumbs-down again, now with the student's words (the same vote key: it replaces the first)."""
    reply = (answers or {}).get(index) if isinstance(index, int) else None
    if reply is None or not (comment or "").strip():
        return render.said(WARN, "نظری برای ثبت نیست.", "Nothing to send."), gr.Row(), comment
    try:
        service.rate(reply, -1, f"{client_key(request)}:{index}", comment=comment)
    except Exception as exc:
        return render.said_error(error_text(exc)), gr.Row(), comment
    return render.said(DONE, "نظر شما ثبت شد.", "Your comment was recorded."), gr.Row(visible=False), ""


def _restore(ui: Layout, kept: object) -> dict:
    """The conversation this browser kept, rendered anew (nothing of it was on the server)."""
    turns = keep.from_saved(kept)
    history = keep.chat_history(turns)
    answers = {2 * i + 1: Reply(t.answer, t.log_id) for i, t in enumerate(turns)}
    last = turns[-1].answer if turns else None
    return {
        ui.chatbot: history,
        ui.answers: answers,
        ui.turns: [t.answer for t in turns][-MAX_TURNS:],
        **_show(ui, last),
    }


def _cleared() -> list:
    empty = keep.to_saved([])  # not None: Gradio leaves the browser's storage as it was for None
    return [{}, [], [], "", passages.PLACEHOLDER_SOURCE, {}, [], empty, *chip_buttons([])]


def _export(answers: dict) -> str:
    turns = _kept_turns(answers)
    return keep.conversation_markdown(turns) if turns else ""


def build_chat_tab(service: Service) -> ChatTab:
    """Layout, then the events; the handlers above get the service and layout bound (Gradio's demo idiom)."""
    ui = chat_layout.layout(service.settings.max_question_chars)
    private = {"api_visibility": "private"}

    # Gradio passes gr.Request / gr.LikeData / gr.SelectData by the parameter's annotation,
    # which it cannot read through functools.partial: these stay typed closures.
    def respond(question: str, history: list, answers: dict, turns: list, request: gr.Request):
        yield from _respond(service, ui, question, history, answers, turns, request)

    def on_select(answers: dict, evt: gr.SelectData) -> dict:
        return _on_select(ui, answers, evt)

    def on_like(answers: dict, data: gr.LikeData, request: gr.Request):
        return _on_like(service, answers, data, request)

    def send_comment(answers: dict, index, comment: str, request: gr.Request):
        return _send_comment(service, answers, index, comment, request)

    outputs = [ui.chatbot, ui.question_box, ui.status, ui.answers, ui.turns, ui.chips_now, ui.chips_md]
    outputs += [ui.source_view, ui.answer_table, ui.kept, *ui.chips]
    for trigger in (ui.question_box.submit, ui.ask_btn.click):
        trigger(
            respond,
            [ui.question_box, ui.chatbot, ui.answers, ui.turns],
            outputs,
            concurrency_limit=service.settings.max_queue,
            concurrency_id="questions",
            **private,
        )
    opened = [ui.source_view, ui.open_doc]
    for i, chip in enumerate(ui.chips):
        chip.click(partial(_open_chip, service, i), [ui.chips_now], opened, **private)
    ui.cite_btn.click(partial(_open_cite, service), [ui.cite_key, ui.answers], opened, **private)
    shown = [ui.chips_now, ui.chips_md, ui.answer_table, *ui.chips]
    ui.chatbot.select(on_select, [ui.answers], shown, **private)
    cleared = [ui.answers, ui.turns, ui.chips_now, ui.chips_md, ui.source_view, ui.open_doc, ui.answer_table]
    cleared += [ui.kept, *ui.chips]
    ui.chatbot.clear(_cleared, None, cleared, **private)
    ui.new_btn.click(lambda: [[], *_cleared()], None, [ui.chatbot, *cleared], **private)
    ui.chatbot.like(on_like, [ui.answers], [ui.status, ui.comment_row, ui.disliked], **private)
    comment = [ui.answers, ui.disliked, ui.comment_box]
    ui.comment_btn.click(send_comment, comment, [ui.status, ui.comment_row, ui.comment_box], **private)
    ui.export_btn.click(_export, [ui.answers], [ui.export_text], **private).then(
        None, [ui.export_text], None, js="(t) => window.prDownload(t, 'conversation.md')"
    )
    restore = (partial(_restore, ui), [ui.kept], [ui.chatbot, ui.answers, ui.turns, *shown])
    return ChatTab(ui.whole_btn, ui.open_doc, ui.answer_table, restore)
