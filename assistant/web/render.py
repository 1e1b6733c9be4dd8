"""Pure HTML and Markdown builders for the web app: typed records in, escaped strings out.

Nothing here imports gradio, so every renderer is tested as a plain function.
Every corpus or user text that reaches the page passes through :func:`esc`
(HTML) or :func:`md_escape` (Markdown): documents are data, never markup.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

from ..core.records import Answer, BuildReport, Citation, IndexStats

_MD_INLINE = re.compile(r"([\\`*_~|])")
# "](" makes an inline link; "[1]" and "[1][2]" stay text (no line may start a "[x]: url" definition)
_MD_LINK = re.compile(r"\](?=\()")
_MD_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)  # 4 spaces would start a code block
_MD_BLOCK = re.compile(r"^([#=+\-\[])", re.MULTILINE)  # heading, list, setext line, link definition
_MD_NUMBERED = re.compile(r"^(\d{1,9})([.)])", re.MULTILINE)  # "1." starts a list


# Status icons every font has (DejaVu, Vazirmatn): emoji draw as empty boxes on a machine without an
# emoji font, so an icon only ever stands beside the words that say the same.
DONE, FAILED, WARN = "✓", "✗", "⚠"


@dataclass(frozen=True)
class Chip:
    """A button under an answer: one of its citations, or a related passage of an abstention."""

    kind: Literal["citation", "related"]
    citation: Citation

    @property
    def label(self) -> str:
        title = clip(self.citation.title or self.citation.doc_id, 38)
        where = location_label(self.citation)
        where = f" · {where}" if where else ""
        if self.kind == "related":
            return f"مرتبط {self.citation.n} · {title}{where}"
        return f"[{self.citation.n}] {title}{where}"


def chips_for(answer: Answer | None, limit: int) -> list[Chip]:
    """Its citations, or (when it abstained) the related passages."""
    if answer is None:
        return []
    if answer.abstained:
        return [Chip("related", c) for c in answer.related][:limit]
    return [Chip("citation", c) for c in answer.citations][:limit]


# --------------------------------------------------------------------------- escaping


def esc(text: object) -> str:
    """Text for an HTML context."""
    return html.escape(str(text), quote=True)


def md_escape(text: object) -> str:
    """Text for a Markdown context: no HTML and no Markdown syntax, shown as typed.

    All HTML becomes entities; of Markdown, only what would take effect is
    escaped, so that a copied answer reads cleanly (``[1]``, ``.`` and ``:``
    stay as they are).  URLs are not turned into links.
    """
    out = html.escape(str(text), quote=False)
    out = _MD_INLINE.sub(r"\\\1", out)
    out = _MD_LINK.sub(r"\\]", out)
    out = _MD_INDENT.sub("", out)
    out = _MD_BLOCK.sub(r"\\\1", out)
    out = _MD_NUMBERED.sub(r"\1\\\2", out)
    return out.replace("://", r":\/\/").replace("www.", r"www\.")


def ltr(text: object, *, markdown: bool = False) -> str:
    """A left-to-right value (date, path, number) kept whole inside right-to-left text."""
    return f'<bdi dir="ltr">{md_escape(text) if markdown else esc(text)}</bdi>'


def isolate(text: str) -> str:
    """Left-to-right isolate (U+2066 ... U+2069) for plain text, where a tag would be copied along."""
    return f"\u2066{text}\u2069" if text else ""


def said(icon: str, persian: str, english: str) -> str:
    """A status line (Markdown): the icon, the Persian words, then the English in its own isolate, so its
    full stop stays at its end instead of jumping to the right-hand start of the line."""
    return f"{icon} {persian} / {ltr(english, markdown=True)}".lstrip()


def said_error(message: object) -> str:
    """An error's "فارسی / English" message as a status line (escaped), each half in its own direction."""
    persian, sep, english = str(message).partition(" / ")
    return said(WARN, md_escape(persian), english) if sep else f"{WARN} {md_escape(message)}"


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def error_html(message: str) -> str:
    return f'<div dir="rtl">{WARN} {esc(message)}</div>'


def clock(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` past an hour) for a transcript time."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def location_label(c: Citation) -> str:
    """Where in a recording or deck a citation sits: ``12:05–12:40`` or ``اسلاید 3``."""
    start_s, end_s, slide = (getattr(c, name, None) for name in ("start_s", "end_s", "slide"))
    if start_s is not None:
        return f"{clock(start_s)}–{clock(end_s if end_s is not None else start_s)}"
    if slide is not None:
        return f"اسلاید {slide}"
    return ""


# --------------------------------------------------------------------------- answers


def reading_shown(understood: str, resolved: str, typed: str) -> str:
    """What the question was read as: the conversation's reading when it changed the question, else
    the typing fixed in the student's own words («روابط عمومی», not the index's «روابط‌عمومی»)."""
    if understood and _letters(understood) == _letters(resolved):
        return understood
    return resolved if resolved and resolved != typed else understood


def _letters(text: str) -> str:
    return re.sub(r"[\s\u200c]+", "", text)


def understood_line(answer: Answer) -> str:
    """ "Your question was read as …" when rewriting or the conversation changed it."""
    understood = getattr(answer, "understood_as", "") or ""
    resolved = getattr(answer, "resolved_question", "") or ""
    shown = reading_shown(understood, resolved, answer.question)
    if not shown or shown == answer.question:
        return ""
    return f"*پرسش شما به این شکل خوانده شد: «{md_escape(shown)}»*"


def marked_text(answer: Answer) -> str:
    """The answer's text (escaped) with the phrase that answers in ``<mark>``: the leading
    sentence opens the text, so the span's offsets into it are offsets into the text."""
    span = getattr(answer, "answer_span", None)
    first = answer.sentences[0].text if answer.sentences else ""
    if (
        answer.abstained
        or span is None
        or not answer.text.startswith(first)
        or not 0 <= span[0] < span[1] <= len(first)
    ):
        return md_escape(answer.text)
    start, end = span  # escaped as one text (so no piece loses its edge space), then marked
    text = answer.text
    escaped = md_escape(f"{text[:start]}\ue000{text[start:end]}\ue001{text[end:]}")
    return escaped.replace("\ue000", "<mark>").replace("\ue001", "</mark>")


ANSWER_HEADERS = ["جملهٔ پاسخ / sentence", "استناد / citation", "نقل‌قول / quote", "امتیاز / score"]
RELATED_HEADING = "**مطالب مرتبط — برای مطالعه؛ استناد این پاسخ نیستند** (related passages, not citations):"
ABSTAINED_ROW = "(پاسخی داده نشد / abstained)"


def answer_markdown(answer: Answer, partial: str | None = None) -> str:
    """The chat message for an answer (escaped); ``partial`` while it streams in."""
    if partial is not None:
        return md_escape(partial) + " ▍"
    lines = [understood_line(answer), ""] if understood_line(answer) else []
    lines.append(marked_text(answer))
    if answer.abstained and answer.related:
        lines += ["", RELATED_HEADING]
        lines += [
            f"• مرتبط {r.n}: {md_escape(r.title)} — «{md_escape(clip(r.text, 90))}»" for r in answer.related
        ]
    elif not answer.abstained and answer.citations:
        lines += ["", "**منابع:**", *sources_lines(answer.citations)]
    return "\n".join(lines)


def sources_lines(citations: tuple[Citation, ...] | list[Citation]) -> list[str]:
    """The sources under an answer by document: its title, speaker and date once, then each passage cited."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.doc_id, []).append(c)
    lines = []
    for cited in groups.values():
        first = cited[0]
        title = f"**{md_escape(first.title or first.doc_id)}**"
        bits = [title, md_escape(first.speaker), isolate(md_escape(first.date))]
        lines.append("• " + " — ".join(b for b in bits if b))
        for c in cited:
            where = location_label(c)
            where = f"{isolate(where)} " if where else ""
            lines.append(f"[{c.n}] {where}«{md_escape(clip(c.text, 60))}»")
    return lines


def answer_rows(answer: Answer | None) -> list[list[object]]:
    """Sentence → citation number → quote → score, for the trainers' table."""
    if answer is None:
        return []
    if answer.abstained:
        return [[ABSTAINED_ROW, f"مرتبط {r.n}", r.text, round(r.score, 4)] for r in answer.related]
    by_n = {c.n: c for c in answer.citations}
    rows: list[list[object]] = []
    for s in answer.sentences:
        for n in s.citations or (None,):
            c = by_n.get(n) if n is not None else None
            score = round(c.score, 4) if c else s.score
            rows.append([s.text, n if n is not None else "—", c.text if c else "", score])
    return rows


def index_markdown(stats: IndexStats) -> str:
    """The serving build's manifest and last report, for maintainers."""
    fields = [
        ("مدل / model", stats.embedding_model),
        ("اسناد / documents", stats.documents),
        ("بندها / chunks", stats.chunks),
        ("ساخته‌شده / built_at", stats.built_at),
        ("شناسه / build", stats.build_id),
        ("پیکره / corpus", stats.corpus_dir),
    ]
    lines = ["| مورد / field | مقدار / value |", "|---|---|"]
    lines += [f"| {label} | {ltr(value, markdown=True)} |" for label, value in fields]
    r = stats.report
    summary = (
        f"{r.documents} documents, {r.chunks} chunks, {r.embedded} embedded, {r.reused} reused, "
        f"{len(r.skipped)} skipped, {r.seconds} s"
    )
    lines += ["", "**آخرین ساخت / last build:** " + ltr(summary, markdown=True)]
    if r.removed_documents:
        lines.append("حذف‌شده / removed: " + ltr(", ".join(r.removed_documents), markdown=True))
    return "\n".join(lines)


def build_done(report: BuildReport | None) -> str:
    """One line after a rebuild, from the child process's report."""
    report = report or BuildReport()
    docs, chunks, skipped, seconds = report.documents, report.chunks, len(report.skipped), report.seconds
    english = f"Index updated: {docs} documents, {chunks} chunks, {skipped} skipped, {seconds:.1f} s."
    return f"{DONE} نمایه به‌روز شد: {docs} سند، {chunks} بند، {skipped} فایل کنار گذاشته شد. / " + ltr(
        english, markdown=True
    )
