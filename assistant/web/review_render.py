"""Pure rendering for the trainers' review tab: the queue, one answer laid out, gap topics."""

from __future__ import annotations

from ..core.records import Answer
from ..store import ReviewPage, StoreCounts, Verdict
from ..store.export import VERDICT_FA  # the Persian name alone, where space is short; never the raw key
from ..store.topics import Topic
from .render import clip, esc, location_label

VERDICT_LABELS = {
    key: f"{VERDICT_FA[key]} / {key.replace('_', ' ')}"
    for key in ("supports", "partly", "does_not_support", "wrong_passage")
}
QUEUE_HEADERS = [
    "شناسه / id",
    "زمان / time",
    "پرسش / question",
    "وضع / status",
    "پسند / up",
    "ناپسند / down",
    "داوری‌ها / verdicts",
]
TOPIC_HEADERS = ["موضوع / topic", "تعداد / count", "پرسش‌ها / questions"]


def queue_rows(page: ReviewPage) -> list[list[object]]:
    rows: list[list[object]] = []
    for r in page.rows:
        verdicts = verdict_counts(r.verdict_counts) or "—"
        a = r.logged
        status = "بی‌پاسخ / abstained" if a.abstained else "پاسخ / answered"
        when = a.created_at.strftime("%Y-%m-%d %H:%M")
        rows.append([a.id, when, clip(a.question, 80), status, r.ups, r.downs, verdicts])
    return rows


def queue_html(page: ReviewPage) -> str:
    """The queue as a right-to-left table; each question isolated, so English inside it keeps its order."""
    if not page.rows:
        return '<div dir="rtl">پاسخی با این فیلترها نیست. / No answers match.</div>'
    head = "".join(f"<th>{esc(h)}</th>" for h in QUEUE_HEADERS)
    body = "".join(
        "<tr>" + "".join(f'<td><bdi dir="auto">{esc(cell)}</bdi></td>' for cell in row) + "</tr>"
        for row in queue_rows(page)
    )
    table = '<table class="pr-queue" dir="rtl" lang="fa" style="width:100%">'
    return f"{table}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def queue_choices(page: ReviewPage) -> list[tuple[str, int]]:
    return [(f"#{r.logged.id} · {clip(r.logged.question, 60)}", r.logged.id) for r in page.rows]


def verdict_counts(counts: dict[str, int]) -> str:
    """«پشتیبانی می‌کند: ۳ · بند نادرست: ۱», in the order of the verdicts, Persian labels only."""
    return " · ".join(f"{VERDICT_FA.get(k, k)}: {counts[k]}" for k in VERDICT_LABELS if counts.get(k))


def queue_summary(page: ReviewPage, counts: StoreCounts | None = None) -> str:
    line = f"{len(page.rows)} از {page.total} پاسخ · showing {len(page.rows)} of {page.total} answers"
    if counts is not None and counts.verdicts:
        line += f"\n\nداوری‌ها تا کنون / verdicts so far: {verdict_counts(counts.verdicts)}"
    return line


def answer_html(answer: Answer, verdicts: dict[int, Verdict]) -> str:
    """Every sentence of an answer with the passage it cites and the verdict given so far."""
    resolved = getattr(answer, "resolved_question", "") or ""
    head = f"<h3>پرسش: {esc(answer.question)}</h3>"
    if resolved and resolved != answer.question:
        head += f"<div>خوانده‌شده به شکل / resolved as: {esc(resolved)}</div>"
    if answer.abstained:
        related = "".join(
            f"<li>مرتبط {r.n}: {esc(r.title)} — «{esc(clip(r.text, 160))}»</li>" for r in answer.related
        )
        return (
            f'<div class="pr-review" dir="rtl" lang="fa">{head}<p>⛔ {esc(answer.text)} '
            f"<small>(abstained)</small></p><ul>{related}</ul></div>"
        )
    by_n = {c.n: c for c in answer.citations}
    rows = []
    for s in answer.sentences:
        for n in s.citations or (0,):
            c = by_n.get(n)
            quote = esc(c.text) if c else "<i>بدون استناد / no citation</i>"
            where = f"{esc(c.title)} {esc(location_label(c))}" if c else ""
            verdict = verdicts.get(n)
            judged = esc(VERDICT_LABELS.get(verdict.verdict, verdict.verdict)) if verdict else "—"
            rows.append(
                f"<tr><td>{esc(s.text)}</td><td>[{n}]</td><td><mark>{quote}</mark><br><small>{where}</small></td>"
                f"<td>{judged}</td></tr>"
            )
    return (
        f'<div class="pr-review" dir="rtl" lang="fa">{head}'
        "<table><tr><th>جملهٔ پاسخ / sentence</th><th>استناد</th><th>بند منبع / cited passage</th>"
        f"<th>داوری / verdict</th></tr>{''.join(rows)}</table></div>"
    )


def citation_choices(answer: Answer | None) -> list[tuple[str, int]]:
    if answer is None or answer.abstained:
        return []
    return [(f"[{c.n}] {clip(c.title, 40)}", c.n) for c in answer.citations]


def topic_rows(topics: list[Topic]) -> list[list[object]]:
    """Cells are plain text: each question is its own isolate (U+2068 … U+2069), so an English word
    or a number in one keeps its place and never pulls the count or the next question out of order."""

    def one(text: str) -> str:
        return f"\u2068{text}\u2069"

    return [
        [one(t.label), t.total, " · ".join(f"{one(q.text)} ({q.count})" for q in t.questions[:8])]
        for t in topics
    ]
