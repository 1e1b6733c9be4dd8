"""Pure HTML for sources: a quote inside its paragraph, a whole document, a recording's time.

No gradio here.  The paragraph comes from the document version an answer
quoted (``QuotedSource``), so a citation reads the same after the corpus moved on.
"""

from __future__ import annotations

import re

from ..core.records import Citation, Document, QuotedSource, Segment
from .render import WARN, Chip, clock, esc, location_label, ltr

CONTEXT_MAX_CHARS = 1500  # cap on the paragraph shown around a quote (PDFs have few blank lines)
_PARA_BREAK = re.compile(r"\n[ \t\r]*\n")
_PASSAGE_STYLE = "white-space:pre-wrap;line-height:2;margin-top:0.6em;padding:0.6em;border-radius:8px;"


# --------------------------------------------------------------------------- locations


def location_html(c: Citation) -> str:
    label = location_label(c)
    if not label:
        return ""
    url = getattr(c, "url", "") or ""
    if url.startswith(("http://", "https://", "/")) and getattr(c, "start_s", None) is not None:
        link = f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{ltr(label)}</a>'
        return f'<div class="pr-location">▶ زمان در ضبط: {link}</div>'
    return f'<div class="pr-location">جای نقل: {ltr(label)}</div>'


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
    rows = [f'<h3 class="pr-title" dir="auto" style="margin:0.2em 0">{esc(title or "بی‌عنوان")}</h3>']
    meta = []
    if speaker:
        role_html = f" <small>(<bdi>{esc(role)}</bdi>)</small>" if role else ""
        meta.append(f"<b>سخنران:</b> <bdi>{esc(speaker)}</bdi>{role_html}")
    if dates:
        meta.append(
            "<b>تاریخ:</b> "
            + " / ".join(f'<span style="white-space:nowrap">{ltr(d)}</span>' for d in dict.fromkeys(dates))
        )
    if doc is not None and doc.kind:
        meta.append(f"<b>نوع:</b> <bdi>{esc(doc.kind)}</bdi>")
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
            f'<div class="pr-changed" role="note">{WARN} این سند دیگر در پیکره نیست؛ '
            "متن زیر همان نسخه‌ای است که "
            "نقل شد. <small>(The document has left the corpus; this is the version that was quoted.)"
            "</small></div>"
        )
    when = f" در {ltr(source.changed_at)}" if source.changed_at else ""
    return (
        f'<div class="pr-changed" role="note">{WARN} این سند پس از نقل تغییر کرده است'
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


def _recording_html(doc: Document) -> str:
    url = doc.recording_url or doc.url
    if not url.startswith(("http://", "https://")):
        return ""
    link = f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{ltr(url)}</a>'
    return f'<div class="pr-meta">▶ ضبط / recording: {link}</div>'


def _cue_label(segment: Segment) -> str:
    if segment.start_s is not None:
        end = segment.end_s if segment.end_s is not None else segment.start_s
        return f'<span class="pr-cue" dir="ltr">[{clock(segment.start_s)}–{clock(end)}]</span>'
    if segment.slide is not None:
        return f'<span class="pr-cue">[اسلاید <bdi>{segment.slide}</bdi>]</span>'
    return ""


def document_body_html(doc: Document, mark: tuple[int, int] | None = None) -> str:
    """The document's body, escaped: front matter left out (the header shows it), each transcript cue
    or slide led by its time or number, ``mark`` (offsets into ``doc.text``) in ``<mark id="pr-mark">``."""
    start = doc.body_start
    tags: list[tuple[int, int, str]] = []  # (offset, order at that offset, html): close, cue, open
    for seg in doc.segments:
        label = _cue_label(seg)
        if label and seg.start >= start:  # each cue on its own line, led by its time
            fresh = seg.start == start or doc.text[seg.start - 1] == "\n"
            tags.append((seg.start, 1, label if fresh else "<br>" + label))
    if mark and start <= mark[0] < mark[1] <= len(doc.text):
        tags += [(mark[0], 2, '<mark id="pr-mark">'), (mark[1], 0, "</mark>")]
    out, at = [], start
    for offset, _, tag in sorted(tags):
        out += [esc(doc.text[at:offset]), tag]
        at = offset
    out.append(esc(doc.text[at:]))
    return "".join(out)


def document_html(doc: Document, mark: tuple[int, int] | None = None) -> str:
    """A whole document: its front matter as a header, its body with cue times, one span marked."""
    text = doc.text
    return (
        f'<div class="pr-document" dir="rtl" lang="fa">{doc_meta_html(doc)}{_recording_html(doc)}'
        f'<div class="pr-meta" style="opacity:0.7">شناسه: {ltr(doc.doc_id)} · '
        f"{len(text) - doc.body_start} نویسه</div>"
        f'<div class="pr-passage" dir="auto" style="{_PASSAGE_STYLE}max-height:70vh;overflow:auto">'
        f"{document_body_html(doc, mark)}</div></div>"
    )


PLACEHOLDER_SOURCE = (
    '<div dir="rtl" lang="fa" style="opacity:0.7;padding:1em">'
    "روی شمارهٔ یک استناد بزنید تا بند منبع، با جملهٔ نقل‌شدهٔ برجسته، اینجا باز شود."
    "<br><small>Click a citation number to open its source paragraph here.</small></div>"
)
