"""The chat tab's components, created in page order (the handlers and events are in ``chat.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from . import passages, render
from .widgets import table

MAX_CHIPS = 8  # related-passage buttons under an abstention (top_k is 5 by default)
KEPT_KEY = "pr-conversation"  # the browser's localStorage key
# BrowserState encrypts in the page with a secret the page is given: it hides nothing from the student,
# so a fixed one lets a conversation outlive a server restart.  What comes back is checked (keep.from_saved).
KEPT_SECRET = "pr-assistant-conversation"
EXAMPLES = [
    "ارکان اعتماد در روابط عمومی کدام‌اند؟",
    "شفافیت به چه معناست؟",
    "چه عواملی باعث از دست رفتن اعتماد به سازمان می‌شود؟",
]


@dataclass
class Layout:
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
    new_btn: gr.Button
    export_btn: gr.Button
    export_text: gr.Textbox  # the Markdown handed to the page's download (hidden)
    cite_key: gr.Textbox  # "message:n" of a clicked [n] (hidden; the page's script fills it)
    cite_btn: gr.Button  # pressed by the script (hidden)
    comment_row: gr.Row
    comment_box: gr.Textbox
    comment_btn: gr.Button
    answers: gr.State  # chat message index → Reply (the answer and its log id)
    turns: gr.State  # the conversation's answers, oldest first
    chips_now: gr.State  # the Chip of each visible button
    open_doc: gr.State  # the citation opened, for the whole-document button
    disliked: gr.State  # the message index of the last thumbs-down, for its comment
    kept: gr.BrowserState  # the conversation in the browser's localStorage


def _chatbot() -> gr.Chatbot:
    return gr.Chatbot(
        label="گفت‌وگو",
        show_label=False,  # the tab says it; Gradio's floating label sat over the first message
        rtl=True,
        height=460,
        autoscroll=False,  # the page's script keeps the newest question at the top instead
        latex_delimiters=[],
        buttons=["copy", "copy_all"],
        feedback_options=("Like", "Dislike"),
        placeholder="پرسش خود را دربارهٔ روابط عمومی بنویسید؛ پاسخ با شمارهٔ منبع می‌آید.",
        elem_id="pr-chat",
    )


def _chat_column(max_question_chars: int) -> dict:
    """The conversation tools, the chat, the comment box, the related-passage buttons, the question."""
    out: dict = {}
    with gr.Row(elem_id="pr-conv-tools"):
        out["new_btn"] = gr.Button("گفت‌وگوی تازه / new conversation", size="sm", elem_id="pr-new")
        out["export_btn"] = gr.Button("دریافت گفت‌وگو (Markdown)", size="sm", elem_id="pr-chat-export")
    out["chatbot"] = _chatbot()
    with gr.Row(visible=False, elem_id="pr-comment-row") as out["comment_row"]:
        out["comment_box"] = gr.Textbox(
            label="چه چیزی درست نبود؟ (اختیاری) / what was wrong? (optional)",
            rtl=True, max_length=500, scale=5, elem_id="pr-comment",
        )  # fmt: skip
        out["comment_btn"] = gr.Button("ارسال نظر / send", scale=1, elem_id="pr-comment-send")
    out["chips_md"] = gr.Markdown(rtl=True, elem_id="pr-chips-caption")
    with gr.Row(elem_id="pr-chips"):
        out["chips"] = [
            gr.Button("", visible=False, size="sm", elem_classes=["pr-chip"]) for _ in range(MAX_CHIPS)
        ]
    with gr.Row():
        out["question_box"] = gr.Textbox(
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
        out["ask_btn"] = gr.Button("بپرس", variant="primary", scale=1, elem_id="pr-ask")
    out["status"] = gr.Markdown(rtl=True, elem_id="pr-status")
    gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[out["question_box"]], label="نمونه پرسش‌ها")
    # Hidden, for the page's script: a clicked [n] ("message:n"), and the Markdown it downloads.
    out["cite_key"] = gr.Textbox(elem_id="pr-cite-key", visible="hidden", container=False)
    out["cite_btn"] = gr.Button(elem_id="pr-cite-open", visible="hidden")
    out["export_text"] = gr.Textbox(elem_id="pr-chat-export-text", visible="hidden", container=False)
    return out


def _source_column() -> dict:
    """The opened source (a drawer on a phone, see ``script.py``), the whole-document button, the table."""
    out: dict = {}
    close_btn = gr.Button("✗ بستن / close", size="sm", elem_id="pr-source-close")
    close_btn.click(None, js="() => window.prCloseSource && window.prCloseSource()")
    out["source_view"] = gr.HTML(passages.PLACEHOLDER_SOURCE, label="منبع", elem_id="pr-source")
    with gr.Row():
        out["whole_btn"] = gr.Button("نمایش کل سند / whole document", size="sm", elem_id="pr-whole")
    with gr.Accordion("جمله به جمله: کدام منبع کدام ادعا را پشتیبانی می‌کند", open=False):
        out["answer_table"] = table(render.ANSWER_HEADERS, "pr-answer-table", [35, 10, 45, 10], 420)
    return out


def layout(max_question_chars: int) -> Layout:
    states = {
        "answers": gr.State({}),
        "turns": gr.State([]),
        "chips_now": gr.State([]),
        "open_doc": gr.State({}),
        "disliked": gr.State(None),
        "kept": gr.BrowserState(None, storage_key=KEPT_KEY, secret=KEPT_SECRET),
    }
    with gr.Row(elem_id="pr-main-row"):
        with gr.Column(scale=3):
            chat = _chat_column(max_question_chars)
        with gr.Column(scale=2, elem_id="pr-source-col"):
            source = _source_column()
    return Layout(**chat, **source, **states)
