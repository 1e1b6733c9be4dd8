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

from ..pipeline import IndexStats, QuotedSource
from ..schema import Answer, Citation, Document

CONTEXT_MAX_CHARS = 1500  # cap on the paragraph shown around a quote (PDFs have few blank lines)

_MD_INLINE = re.compile(r"([\\`*_~|])")
# "](" makes an inline link; "[1]" and "[1][2]" stay text (no line may start a "[x]: url" definition)
_MD_LINK = re.compile(r"\](?=\()")
_MD_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)  # 4 spaces would start a code block
_MD_BLOCK = re.compile(r"^([#=+\-\[])", re.MULTILINE)  # heading, list, setext line, link definition
_MD_NUMBERED = re.compile(r"^(\d{1,9})([.)])", re.MULTILINE)  # "1." starts a list
_PARA_BREAK = re.compile(r"\n[ \t\r]*\n")
_PASSAGE_STYLE = "white-space:pre-wrap;line-height:2;margin-top:0.6em;padding:0.6em;border-radius:8px;"


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


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def error_html(message: str) -> str:
    return f'<div dir="rtl">⚠️ {esc(message)}</div>'


# --------------------------------------------------------------------------- locations


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


def location_html(c: Citation) -> str:
    label = location_label(c)
    if not label:
        return ""
    url = getattr(c, "url", "") or ""
    if url.startswith(("http://", "https://", "/")) and getattr(c, "start_s", None) is not None:
        link = f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{ltr(label)}</a>'
        return f'<div class="pr-location">⏱ زمان در ضبط: {link}</div>'
    return f'<div class="pr-location">📍 {ltr(label)}</div>'


# --------------------------------------------------------------------------- sources


def paragraph_bounds(text: str, start: int, end: int, floor: int = 0) -> tuple[int, int]:
    """The paragraph(s) around ``[start, end)``: blank lines bound them; never before ``floor``."""
    floor = floor if start >= floor else 0
    left, right = floor, len(text)
    for m in _PARA_BREAK.finditer(text, floor):
        if m.end() <= start:
            left = m.end()
        elif m.start() >= end:
            right = m.start()
            break
    # A paragraph that is a whole page (PDF text) is cut to a window around the quote.
    spare = max(CONTEXT_MAX_CHARS - (end - start), 0) // 2
    if start - left > spare:
        cut = text.rfind("\n", start - spare, start)
        left = cut + 1 if cut != -1 else start - spare
    if right - end > spare:
        cut = text.find("\n", end, end + spare)
        right = cut if cut != -1 else end + spare
    return left, right


def doc_meta_html(doc: Document | None, fallback: Citation | None = None) -> str:
    title = (doc.title if doc else "") or (fallback.title if fallback else "")
    speaker = (doc.speaker if doc else "") or (fallback.speaker if fallback else "")
    role = doc.speaker_role if doc else ""
    dates = [d for d in ((doc.date_jalali, doc.date) if doc else (fallback.date if fallback else "",)) if d]
    rows = [f'<h3 class="pr-title" style="margin:0.2em 0">{esc(title or "بی‌عنوان")}</h3>']
    meta = []
    if speaker:
        meta.append(f"<b>سخنران:</b> {esc(speaker)}" + (f" <small>({esc(role)})</small>" if role else ""))
    if dates:
        meta.append(
            "<b>تاریخ:</b> "
            + " / ".join(f'<span style="white-space:nowrap">{ltr(d)}</span>' for d in dict.fromkeys(dates))
        )
    if doc is not None:
        if doc.kind:
            meta.append(f"<b>نوع:</b> {esc(doc.kind)}")
        meta.append(f"<b>منبع:</b> {ltr(doc.source)}")
    if meta:
        rows.append(
            '<div class="pr-meta" style="opacity:0.85;line-height:1.9">' + " · ".join(meta) + "</div>"
        )
    return "\n".join(rows)


def _passage(doc: Document, c: Citation, mark: bool) -> tuple[str, str]:
    """The paragraph around the quote (marked when it is a citation) and where it sits."""
    text = doc.text
    left, right = paragraph_bounds(text, c.start, c.end, doc.body_start)
    before, quoted, after = text[left : c.start], text[c.start : c.end], text[c.end : right]
    body = f"{esc(before)}<mark>{esc(quoted)}</mark>{esc(after)}" if mark else esc(before + quoted + after)
    body = esc("… " if left > doc.body_start else "") + body + esc(" …" if right < len(text) else "")
    return body, f"نویسه‌های {c.start}–{c.end} از {len(text)}"


def _changed_notice(source: QuotedSource) -> str:
    if source.current is None:
        return (
            '<div class="pr-changed" role="note">⚠️ این سند دیگر در پیکره نیست؛ متن زیر همان نسخه‌ای است که '
            "نقل شد. <small>(The document has left the corpus; this is the version that was quoted.)"
            "</small></div>"
        )
    when = f" در {ltr(source.changed_at)}" if source.changed_at else ""
    return (
        '<div class="pr-changed" role="note">⚠️ این سند پس از نقل تغییر کرده است'
        f"{when}؛ متن زیر همان نسخه‌ای است که نقل شد و «نمایش کل سند» نسخهٔ کنونی را نشان می‌دهد. "
        "<small>(This document changed after it was quoted; shown is the quoted version. "
        "“Whole document” shows the current version.)</small></div>"
    )


def source_html(chip: Chip, source: QuotedSource) -> str:
    """A citation (or related passage) opened: its paragraph with the quote in ``<mark>``.

    The paragraph comes from the document version the answer quoted; when the
    document changed since, a notice says so (and the tab offers the current one).
    """
    c, related = chip.citation, chip.kind == "related"
    if related:
        head = (
            f'<div class="pr-kind">مطلب مرتبط {c.n} — استناد پاسخ نیست '
            "<small>(related passage, not a citation)</small></div>"
        )
    else:
        head = f'<div class="pr-kind">استناد [{c.n}] <small>(citation)</small></div>'
    doc = source.quoted
    notice = _changed_notice(source) if source.changed else ""
    if doc is not None and doc.text[c.start : c.end] == c.text:
        body, where = _passage(doc, c, mark=not related)
    else:  # nothing kept of that version: show the quote as it was given
        body = esc(c.text) if related else f"<mark>{esc(c.text)}</mark>"
        where = "متن نقل‌شده / quoted text"
    return (
        f'<div class="pr-source" dir="rtl" lang="fa">{head}{notice}{doc_meta_html(doc, c)}'
        f"{location_html(c)}"
        f'<div class="pr-passage" style="{_PASSAGE_STYLE}">{body}</div>'
        f'<div class="pr-where" style="opacity:0.6;font-size:0.85em">{esc(where)}</div></div>'
    )


def document_html(doc: Document, mark: tuple[int, int] | None = None) -> str:
    """A whole document, escaped, optionally with one span marked (the review tab's highlight)."""
    text = doc.text
    if mark and 0 <= mark[0] <= mark[1] <= len(text):
        a, b = mark
        body = f"{esc(text[:a])}<mark id='pr-mark'>{esc(text[a:b])}</mark>{esc(text[b:])}"
    else:
        body = esc(text)
    return (
        f'<div class="pr-document" dir="rtl" lang="fa">{doc_meta_html(doc)}'
        f'<div class="pr-meta" style="opacity:0.7">شناسه: <bdi>{esc(doc.doc_id)}</bdi> · '
        f"{len(text)} نویسه</div>"
        f'<div class="pr-passage" style="{_PASSAGE_STYLE}max-height:70vh;overflow:auto">'
        f"{body}</div></div>"
    )


PLACEHOLDER_SOURCE = (
    '<div dir="rtl" lang="fa" style="opacity:0.7;padding:1em">'
    "روی شمارهٔ یک استناد بزنید تا بند منبع، با جملهٔ نقل‌شدهٔ برجسته، اینجا باز شود."
    "<br><small>Click a citation number to open its source paragraph here.</small></div>"
)


# --------------------------------------------------------------------------- answers


def understood_line(answer: Answer) -> str:
    """ "Your question was read as …" when rewriting or the conversation changed it."""
    understood = getattr(answer, "understood_as", "") or ""
    resolved = getattr(answer, "resolved_question", "") or ""
    shown = resolved if resolved and resolved != answer.question else understood
    if not shown or shown == answer.question:
        return ""
    return f"*پرسش شما به این شکل خوانده شد: «{md_escape(shown)}»*"


ANSWER_HEADERS = ["جملهٔ پاسخ / sentence", "استناد / citation", "نقل‌قول / quote", "امتیاز / score"]
RELATED_HEADING = "**مطالب مرتبط — برای مطالعه؛ استناد این پاسخ نیستند** (related passages, not citations):"
ABSTAINED_ROW = "(پاسخی داده نشد / abstained)"


def answer_markdown(answer: Answer, partial: str | None = None) -> str:
    """The chat message for an answer (escaped); ``partial`` while it streams in."""
    if partial is not None:
        return md_escape(partial) + " ▍"
    lines = [understood_line(answer), ""] if understood_line(answer) else []
    lines.append(md_escape(answer.text))
    if answer.abstained and answer.related:
        lines += ["", RELATED_HEADING]
        lines += [
            f"• مرتبط {r.n}: {md_escape(r.title)} — «{md_escape(clip(r.text, 90))}»" for r in answer.related
        ]
    elif not answer.abstained and answer.citations:
        lines += ["", "**منابع:**"]
        for c in answer.citations:
            bits = [md_escape(c.title), md_escape(c.speaker), isolate(md_escape(c.date))]
            bits.append(isolate(location_label(c)))
            lines.append(f"[{c.n}] " + " — ".join(b for b in bits if b))
    return "\n".join(lines)


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
