"""The «داشبورد» tab for trainers: the class in charts, and its exports for a spreadsheet.

Questions per day; answered, abstained and rated down per day; the topics the
corpus could not answer, with how often they were asked; the documents
answers cite most.  Each is a Gradio plot over the store (SQLite or
PostgreSQL alike, ``Store.class_picture``), for the days chosen (UTC, both
included).  Verdicts, unanswered questions and ratings download as CSV with
UTF-8's byte-order mark, so Excel shows the Persian as written.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from .desk import Picture
from .render import clip
from .service import Service, error_text

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_DAYS = 30
LABEL_CHARS = 32  # a topic's or a title's label under its bar
SERIES = {  # DayCounts field → the legend's words
    "answered": "پاسخ‌داده / answered",
    "abstained": "بی‌پاسخ / abstained",
    "thumbs_down": "نپسندیده / thumbs down",
}
EXPORT_BUTTONS = [
    ("verdicts", "داوری‌ها (CSV) / verdicts"),
    ("verdicts_json", "داوری‌ها (JSON) / verdicts"),
    ("unanswered", "پرسش‌های بی‌پاسخ (CSV) / unanswered"),
    ("ratings", "امتیازها (CSV) / ratings"),
]


def require(role: str) -> None:
    if role not in ("trainer", "admin"):
        raise gr.Error("ابتدا وارد شوید. / Sign in first.", print_exception=False)


def parse_day(value: Any) -> date | None:
    """A DateTime's string (``YYYY-MM-DD``, maybe with a time) → a date; empty → None (no bound)."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise gr.Error(f"تاریخ نامعتبر است / not a date: {text}", print_exception=False) from None


def frames(picture: Picture) -> dict[str, pd.DataFrame]:
    """The four charts' data (pure: a picture in, data frames out)."""
    import pandas as pd  # Gradio's plots take data frames; imported when a trainer first looks

    days = picture.numbers.days
    per_day = pd.DataFrame({"روز / day": [d.day.isoformat() for d in days],
                            "پرسش‌ها / questions": [d.questions for d in days]})  # fmt: skip
    outcomes = pd.DataFrame(
        [
            {"روز / day": d.day.isoformat(), "شمار / count": getattr(d, key), "نوع / kind": label}
            for d in days
            for key, label in SERIES.items()
        ],
        columns=["روز / day", "شمار / count", "نوع / kind"],
    )
    topics = pd.DataFrame(
        {"موضوع / topic": [clip(t.label, LABEL_CHARS) for t in picture.topics],
         "پرسش‌ها / asked": [t.total for t in picture.topics]}
    )  # fmt: skip
    cited = pd.DataFrame(
        {"سند / document": [clip(picture.titles.get(d, d), LABEL_CHARS) for d, _ in picture.numbers.cited],
         "پاسخ‌ها / answers": [n for _, n in picture.numbers.cited]}
    )  # fmt: skip
    return {"per_day": per_day, "outcomes": outcomes, "topics": topics, "cited": cited}


def summary(picture: Picture) -> str:
    """The totals in words, so the page says them even where a chart is not read."""
    t = picture.numbers.totals
    start, end = picture.numbers.start, picture.numbers.end
    span = f"{start or '…'} تا {end or '…'}"
    return (
        f"**بازه / days:** <bdi>{span}</bdi> · **پرسش‌ها / questions:** {t.questions} · "
        f"**پاسخ‌داده / answered:** {t.answered} · **بی‌پاسخ / abstained:** {t.abstained} · "
        f"**پسندیده / up:** {t.thumbs_up} · **نپسندیده / down:** {t.thumbs_down}"
    )


def _plot(kind: type, x: str, y: str, title: str, elem_id: str, **more: Any) -> Any:
    return kind(
        x=x, y=y, title=title, elem_id=elem_id, height=300, x_label_angle=-45, y_axis_format="d", **more
    )


def _scaled(kind: type, frame: pd.DataFrame, y: str) -> Any:
    """The frame with its y axis from zero (a lone value would otherwise sit on a one-point axis)."""
    top = int(frame[y].max()) if len(frame) else 0
    return kind(value=frame, y_lim=[0, max(top, 5)])  # up to 5: whole-number ticks


def build_dashboard_tab(service: Service, role_state: gr.State) -> None:
    today = date.today()
    with gr.Row():
        start = gr.DateTime(
            (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), include_time=False, type="string",
            label="از / from", elem_id="pr-dash-from",
        )  # fmt: skip
        end = gr.DateTime(
            today.isoformat(), include_time=False, type="string", label="تا / to", elem_id="pr-dash-to"
        )
        show_btn = gr.Button("نمایش / show", variant="primary", elem_id="pr-dash-show")
    totals = gr.Markdown(rtl=True, elem_id="pr-dash-summary")
    with gr.Row():
        per_day = _plot(gr.BarPlot, "روز / day", "پرسش‌ها / questions", "پرسش‌ها در روز / questions per day",
                        "pr-dash-questions")  # fmt: skip
        outcomes = _plot(gr.LinePlot, "روز / day", "شمار / count", "پاسخ، بی‌پاسخ، نپسندیده در روز / per day",
                         "pr-dash-outcomes", color="نوع / kind")  # fmt: skip
    with gr.Row():
        topics = _plot(gr.BarPlot, "موضوع / topic", "پرسش‌ها / asked", "موضوع‌های بی‌پاسخ / unanswered topics",
                       "pr-dash-topics", sort="-y")  # fmt: skip
        cited = _plot(gr.BarPlot, "سند / document", "پاسخ‌ها / answers", "پراستنادترین اسناد / most cited",
                      "pr-dash-cited", sort="-y")  # fmt: skip
    gr.Markdown("### خروجی برای Excel / exports (CSV, UTF-8 with BOM)", rtl=True)
    with gr.Row():
        buttons = {
            kind: gr.Button(label, size="sm", elem_id=f"pr-export-{kind}") for kind, label in EXPORT_BUTTONS
        }
    export_file = gr.File(label="دانلود / download", elem_id="pr-export-file", visible=False)

    outputs = [totals, per_day, outcomes, topics, cited]
    private: dict[str, Any] = {"api_visibility": "private"}
    for trigger in (show_btn.click, role_state.change):
        trigger(partial(draw, service), [role_state, start, end], outputs, **private)
    for kind, button in buttons.items():
        button.click(partial(export, service, kind), [role_state], [export_file], **private)


def draw(service: Service, role: str, start_v: Any, end_v: Any):
    require(role)
    low, high = parse_day(start_v), parse_day(end_v)
    if low and high and low > high:
        low, high = high, low
    try:
        picture = service.class_picture(low, high)
    except Exception as exc:
        raise gr.Error(error_text(exc), print_exception=False) from None
    data = frames(picture)
    return (
        summary(picture),
        _scaled(gr.BarPlot, data["per_day"], "پرسش‌ها / questions"),
        _scaled(gr.LinePlot, data["outcomes"], "شمار / count"),
        _scaled(gr.BarPlot, data["topics"], "پرسش‌ها / asked"),
        _scaled(gr.BarPlot, data["cited"], "پاسخ‌ها / answers"),
    )


def export(service: Service, kind: str, role: str) -> Any:
    require(role)
    return gr.File(str(service.export(kind, Path(tempfile.mkdtemp(prefix="pr-export-")))), visible=True)
