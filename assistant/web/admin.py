"""The «نمایه» tab, shown once the admin signs in: add documents in one step, remove one, see the build.

"Add and index" saves the uploads (each parsed in a limited child process),
writes the title, speaker, date and recording link typed here (or an
uploaded sidecar ``.yaml``) beside each as its sidecar, and updates the index
at once; the page shows the build's real progress (files read, chunks
embedded) as the child process reports it.  The server keeps answering from
the previous build and swaps the new one in when it is done.  Removing a
document deletes it (and its sidecar) from the corpus and updates the index;
its old versions stay in ``index/versions`` for citations that quoted it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr

from ..indexing.progress import BuildDone, BuildProgress
from . import render
from .service import Service, error_text

SKIPPED_HEADERS = ["فایل / file", "دلیل / reason"]
STAGES = {  # progress: (Persian, English, what is counted, where the stage starts, its share)
    "chunk": ("خواندن اسناد", "reading", "files", 0.0, 0.3),
    "embed": ("بردارسازی", "embedding", "chunks", 0.3, 0.6),
    "write": ("نوشتن نمایه", "writing", "steps", 0.9, 0.1),
}
CONFLICT_CHOICES = [
    ("نگه‌داشتن هر دو (نام تازه) / keep both", "keep_both"),
    ("جایگزینی فایل هم‌نام / replace", "replace"),
]


def require(role: str) -> None:
    if role != "admin":
        raise gr.Error("ابتدا وارد شوید. / Sign in as the admin first.", print_exception=False)


def form_meta(title: str, speaker: str, when: Any, recording_url: str) -> dict[str, str]:
    """The form's fields that were filled in; a date as YYYY-MM-DD; a link only if it is http(s)."""
    meta = {"title": title, "speaker": speaker}
    if when:
        meta["date"] = str(when)[:10]
        date.fromisoformat(meta["date"])  # ValueError: not a date
    if recording_url and recording_url.strip():
        if not recording_url.strip().lower().startswith(("https://", "http://")):
            raise ValueError(
                "نشانی ضبط باید با https:// آغاز شود / the recording link must start with https://"
            )
        meta["recording_url"] = recording_url.strip()
    return {k: " ".join(str(v).split()) for k, v in meta.items() if v and str(v).strip()}


def _progress_line(event: BuildProgress) -> tuple[float, str]:
    fa, en, unit, base, span = STAGES.get(event.stage, (event.stage, event.stage, "", 0.0, 1.0))
    fraction = min(1.0, base + span * event.done / max(event.total, 1))
    return fraction, f"{fa}: {event.done} از {event.total} / {en}: {event.done} of {event.total} {unit}"


def build_steps(service: Service, lines: list[str], progress: Any) -> Iterator[str]:
    """Update the index, yielding the status with its progress (a line per stage), then the report."""
    stages: dict[str, str] = {}
    finished = ""
    for event in service.rebuild():  # run to its end: the new build is served once the generator ends
        if isinstance(event, BuildDone):
            r = event.report
            done = f"بندها: {r.embedded} تازه، {r.reused} از پیش / chunks: {r.embedded} embedded"
            finished = "\n\n".join([*lines, *stages.values(), done, render.build_done(r)])
        elif isinstance(event, BuildProgress) and event.total:
            fraction, stages[event.stage] = _progress_line(event)
            progress(fraction, desc=stages[event.stage])
            yield "\n\n".join([*lines, *stages.values()])
    if finished:
        yield finished


def save_uploads(
    service: Service, files: list[Any], on_conflict: str, meta: dict[str, str]
) -> tuple[list[str], int]:
    """Save each document with its metadata (an uploaded .yaml of its name, then the form): (lines, saved)."""
    paths = [(Path(getattr(f, "name", None) or str(f)), getattr(f, "orig_name", None)) for f in files]
    named = [(p, Path(str(orig or p.name)).name) for p, orig in paths]
    try:
        done, orphans = service.add_uploads(named, on_conflict, meta)
    finally:
        for path, _ in named:
            path.unlink(missing_ok=True)  # the upload's temp copy is not kept
    lines = [
        f"✗ {render.md_escape(name)}: {render.md_escape(error_text(what))}"
        if isinstance(what, Exception)
        else f"✓ {render.md_escape(what)}"
        for name, what in done
    ]
    lines += [f"✗ {render.md_escape(n)}: سندی هم‌نام بارگذاری نشد / no document of that name" for n in orphans]
    return lines, sum(1 for _, what in done if not isinstance(what, Exception))


@dataclass
class _Index:
    manifest: gr.Markdown
    skipped: gr.Dataframe
    uploads: gr.File
    meta: list[Any]  # title, speaker, date, recording link
    conflict: gr.Radio
    add_btn: gr.Button
    upload_status: gr.Markdown
    doomed: gr.Dropdown
    remove_btn: gr.Button
    rebuild_btn: gr.Button
    rebuild_status: gr.Markdown


def _layout(service: Service) -> _Index:
    manifest = gr.Markdown(rtl=True, elem_id="pr-manifest")
    skipped = gr.Dataframe(
        headers=SKIPPED_HEADERS,
        interactive=False,
        wrap=True,
        label="فایل‌های کنار گذاشته / skipped files",
        elem_id="pr-skipped",
    )
    gr.Markdown("### افزودن سند / add documents", rtl=True)
    uploads = gr.File(
        label="اسناد و فایل همراه YAML هر یک / documents, each with its .yaml if any "
        f"({' '.join(service.supported_types())}; ≤ {service.settings.max_upload_bytes // (1024 * 1024)} MB)",
        file_count="multiple",
        file_types=[*service.supported_types(), *service.supported_sidecars()],
        elem_id="pr-upload",
    )
    with gr.Row():
        meta = [
            gr.Textbox(label="عنوان / title", rtl=True, elem_id="pr-meta-title"),
            gr.Textbox(label="سخنران / speaker", rtl=True, elem_id="pr-meta-speaker"),
            gr.DateTime(label="تاریخ / date", include_time=False, type="string", elem_id="pr-meta-date"),
            gr.Textbox(label="نشانی ضبط / recording link", elem_id="pr-meta-url", placeholder="https://…"),
        ]
    conflict = gr.Radio(
        CONFLICT_CHOICES,
        value="keep_both",
        label="اگر نام فایل تکراری بود / if the name exists",
        elem_id="pr-conflict",
    )
    add_btn = gr.Button("افزودن و نمایه‌سازی / add and index", variant="primary", elem_id="pr-save")
    upload_status = gr.Markdown(rtl=True, elem_id="pr-upload-status")
    gr.Markdown("### حذف سند / remove a document", rtl=True)
    with gr.Row():
        doomed = gr.Dropdown(label="سند / document", choices=[], elem_id="pr-remove-pick", scale=3)
        remove_btn = gr.Button("حذف و نمایه‌سازی / remove and index", variant="stop", elem_id="pr-remove")
    rebuild_btn = gr.Button("به‌روزرسانی نمایه / update index", elem_id="pr-rebuild")
    rebuild_status = gr.Markdown(rtl=True, elem_id="pr-rebuild-status")
    return _Index(manifest, skipped, uploads, meta, conflict, add_btn, upload_status, doomed, remove_btn,
                  rebuild_btn, rebuild_status)  # fmt: skip


class _Handlers:
    """The tab's events; each yields its status first, then the build's progress, then the new build."""

    def __init__(self, service: Service, n_overview: int, overview_fn):
        self.service, self.overview_fn = service, overview_fn
        self.waiting = [gr.update()] * (3 + n_overview)  # manifest, skipped, documents, the Sources tab

    def show_build(self, role: str) -> list[Any]:
        require(role)
        docs = self.service.documents()
        pick = gr.Dropdown(choices=[(f"{d.title} · {d.doc_id}", d.doc_id) for d in docs], value=None)
        try:
            stats = self.service.stats()
        except Exception as exc:
            return [render.said_error(error_text(exc)), [], pick]
        return [render.index_markdown(stats), [[s.path, s.reason] for s in stats.report.skipped], pick]

    def indexed(self, lines: list[str], progress: Any, role: str) -> Iterator[list[Any]]:
        text = "\n\n".join(lines)
        try:
            for text in build_steps(self.service, lines, progress):
                yield [text, *self.waiting]
        except Exception as exc:
            yield [f"{text}\n\n{render.said_error(error_text(exc))}", *self.waiting]
            return
        yield [text, *self.show_build(role), *self.overview_fn()]

    def add(self, role, files, on_conflict, title, speaker, when, url, progress=gr.Progress()):  # noqa: B008
        require(role)
        try:
            meta = form_meta(title, speaker, when, url)
        except ValueError as exc:
            yield [render.said_error(str(exc)), gr.File(), *self.waiting]
            return
        if not files:
            yield [
                render.said(render.WARN, "فایلی انتخاب نشده است.", "No file selected."),
                gr.File(),
                *self.waiting,
            ]
            return
        progress(0.0, desc="ذخیره / saving")
        lines, saved = save_uploads(self.service, files, on_conflict, meta)
        yield ["\n\n".join(lines), None, *self.waiting]
        if saved:
            for text, *rest in self.indexed(lines, progress, role):
                yield [text, None, *rest]

    def remove(self, role: str, doc_id: str | None, progress=gr.Progress()):  # noqa: B008
        require(role)
        if not doc_id:
            yield [render.said(render.WARN, "سندی برگزیده نشده است.", "No document chosen."), *self.waiting]
            return
        try:
            gone = self.service.remove_document(doc_id)
        except Exception as exc:
            yield [render.said_error(error_text(exc)), *self.waiting]
            return
        yield from self.indexed([f"✓ حذف شد / removed: {render.md_escape(', '.join(gone))}"], progress, role)

    def rebuild(self, role: str, progress=gr.Progress()):  # noqa: B008
        require(role)
        yield from self.indexed([], progress, role)


def build_admin_tab(service: Service, role_state: gr.State, overview_outputs: list[Any], overview_fn) -> None:
    """The tab's events need the admin's session (``role_state`` carries the admin's need)."""
    ui = _layout(service)
    on = _Handlers(service, len(overview_outputs), overview_fn)
    built = [ui.manifest, ui.skipped, ui.doomed, *overview_outputs]
    private: dict[str, Any] = {"api_visibility": "private"}
    building: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "rebuild", **private}
    role_state.change(on.show_build, [role_state], [ui.manifest, ui.skipped, ui.doomed], **private)
    ui.add_btn.click(
        on.add,
        [role_state, ui.uploads, ui.conflict, *ui.meta],
        [ui.upload_status, ui.uploads, *built],
        **building,
    )
    ui.remove_btn.click(on.remove, [role_state, ui.doomed], [ui.upload_status, *built], **building)
    ui.rebuild_btn.click(on.rebuild, [role_state], [ui.rebuild_status, *built], **building)
