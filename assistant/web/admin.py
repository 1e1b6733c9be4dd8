"""The «نمایه» tab, for maintainers behind the admin password: add documents, rebuild, see the build.

The rebuild runs as a separate process (the same code path as ``assistant
index update``) whose progress streams to the page; the server keeps
answering from the previous build and swaps the new one in when it is done.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr

from ..indexing.progress import BuildDone
from . import render
from .login import login_gate
from .service import Service, error_text

SKIPPED_HEADERS = ["فایل / file", "دلیل / reason"]
STAGES = {  # progress bar: (Persian, English, where the stage starts, its share)
    "chunk": ("خرد کردن اسناد", "chunking", 0.0, 0.3),
    "embed": ("بردارسازی", "embedding", 0.3, 0.6),
    "write": ("نوشتن نمایه", "writing", 0.9, 0.1),
}
CONFLICT_CHOICES = [
    ("نگه‌داشتن هر دو (نام تازه) / keep both", "keep_both"),
    ("جایگزینی فایل هم‌نام / replace", "replace"),
]


def require(role: str) -> None:
    if role != "admin":
        raise gr.Error("ابتدا گذرواژه را وارد کنید. / Enter the password first.", print_exception=False)


def save_files(service: Service, files: list[Any] | None, on_conflict: str, role: str):
    require(role)
    if not files:
        return "⚠️ فایلی انتخاب نشده است. / No file selected.", None
    lines = []
    for f in files:
        path = Path(getattr(f, "name", None) or str(f))
        original = getattr(f, "orig_name", None) or path.name
        try:
            saved = service.add_file(path, original, on_conflict)
            lines.append(f"✅ {render.md_escape(saved)}")
        except Exception as exc:
            lines.append(
                f"❌ {render.md_escape(Path(str(original)).name)}: {render.md_escape(error_text(exc))}"
            )
        finally:
            path.unlink(missing_ok=True)  # the upload's temp copy is not kept
    lines += [
        "",
        "برای افزودن به پاسخ‌ها «به‌روزرسانی نمایه» را بزنید. / Press “update index” to use them.",
    ]
    return "\n\n".join(lines), None


def build_admin_tab(service: Service, overview_outputs: list[Any], overview_fn) -> None:
    settings = service.settings
    role_state, panel = login_gate(service, role="admin", prefix="pr")
    with panel:
        manifest_md = gr.Markdown(rtl=True, elem_id="pr-manifest")
        skipped_table = gr.Dataframe(
            headers=SKIPPED_HEADERS, interactive=False, wrap=True, label="فایل‌های کنار گذاشته / skipped files"
        )
        uploads = gr.File(
            label=f"افزودن اسناد ({', '.join(service.supported_types())}؛ حداکثر "
            f"{settings.max_upload_bytes // (1024 * 1024)} MB)",
            file_count="multiple",
            file_types=list(service.supported_types()),
            elem_id="pr-upload",
        )
        conflict = gr.Radio(
            CONFLICT_CHOICES,
            value="keep_both",
            label="اگر نام فایل تکراری بود / if the name exists",
            elem_id="pr-conflict",
        )
        save_btn = gr.Button("ذخیره در پیکره / save to corpus", elem_id="pr-save")
        upload_status = gr.Markdown(rtl=True, elem_id="pr-upload-status")
        rebuild_btn = gr.Button("به‌روزرسانی نمایه / update index", variant="primary", elem_id="pr-rebuild")
        rebuild_status = gr.Markdown(rtl=True, elem_id="pr-rebuild-status")

    def show_build(role: str):
        require(role)
        try:
            stats = service.stats()
        except Exception as exc:
            return f"⚠️ {render.md_escape(error_text(exc))}", []
        return render.index_markdown(stats), [[s.path, s.reason] for s in stats.report.skipped]

    def rebuild(role: str, progress: gr.Progress = gr.Progress()):  # noqa: B008 - Gradio's idiom
        require(role)
        progress(0.0, desc="آغاز ساخت / starting build")
        report = None
        try:
            for event in service.rebuild():
                if isinstance(event, BuildDone):
                    report = event.report
                elif event.total:
                    fa, en, base, span = STAGES.get(event.stage, (event.stage, event.stage, 0.0, 1.0))
                    fraction = min(1.0, base + span * event.done / event.total)
                    progress(fraction, desc=f"{fa} / {en} {event.done}/{event.total}")
        except Exception as exc:
            raise gr.Error(error_text(exc), print_exception=False) from None
        manifest, skipped = show_build(role)
        return render.build_done(report), manifest, skipped, *overview_fn()

    role_state.change(show_build, [role_state], [manifest_md, skipped_table], api_visibility="private")
    save_btn.click(
        partial(save_files, service),
        [uploads, conflict, role_state],
        [upload_status, uploads],
        api_visibility="private",
    )
    rebuild_btn.click(
        rebuild,
        [role_state],
        [rebuild_status, manifest_md, skipped_table, *overview_outputs],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="rebuild",
    )
