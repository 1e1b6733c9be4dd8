"""Group questions into topics by their embedding vectors (pure: vectors in, clusters out).

Why: trainers read "what students asked that the corpus could not answer"
as a few topics with counts, not as hundreds of near-identical lines.
Greedy centroid clustering: questions are taken most-asked first; each joins
the topic whose (normalized) centroid is closest if the cosine reaches
``threshold``, else starts a new topic.  Deterministic for given vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: e5 cosines are compressed: paraphrased Persian questions scored 0.91-0.98, unrelated ones 0.74-0.84.
DEFAULT_THRESHOLD = 0.88


@dataclass(frozen=True)
class QuestionCount:
    text: str
    count: int


@dataclass(frozen=True)
class Topic:
    """A group of questions; ``label`` is its most asked (then most central) question."""

    label: str
    total: int
    questions: list[QuestionCount]


def cluster_questions(
    items: Sequence[QuestionCount], vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> list[Topic]:
    """Topics of ``items`` (``vectors[i]`` is item i's L2-normalized vector), largest first."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(items):
        raise ValueError(f"{len(items)} questions but {vectors.shape[0]} vectors")
    order = sorted(range(len(items)), key=lambda i: (-items[i].count, items[i].text))
    members: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i in order:
        best, best_cos = -1, threshold
        for c, total in enumerate(sums):
            cos = float(vectors[i] @ total) / (float(np.linalg.norm(total)) or 1.0)
            if cos >= best_cos:
                best, best_cos = c, cos
        if best < 0:
            members.append([i])
            sums.append(vectors[i].copy())
        else:
            members[best].append(i)
            sums[best] += vectors[i]
    topics = [_topic(items, vectors, group, total) for group, total in zip(members, sums, strict=True)]
    return sorted(topics, key=lambda t: (-t.total, t.label))


def _topic(items: Sequence[QuestionCount], vectors: np.ndarray, group: list[int], total: np.ndarray) -> Topic:
    centre = total / (float(np.linalg.norm(total)) or 1.0)
    # centrality rounded: a pair is equally central, and float noise must not pick its label
    ranked = sorted(
        group, key=lambda i: (-items[i].count, -round(float(vectors[i] @ centre), 3), items[i].text)
    )
    return Topic(
        label=items[ranked[0]].text,
        total=sum(items[i].count for i in group),
        questions=[items[i] for i in ranked],
    )


def cluster_counts(
    found: Sequence[tuple[str, int]],
    vectors_fn: Callable[[Sequence[str]], np.ndarray],
    *,
    threshold: float | None = None,
    keep: Callable[[str], bool] | None = None,
) -> list[Topic]:
    """Topics of (wording, count) pairs; ``vectors_fn`` embeds the wordings (normalized by it).

    ``keep`` filters wordings first (the desk drops those that name no subject).
    """
    from .writes import gap_text

    items = [QuestionCount(q, c) for q, c in found if keep is None or keep(q)]
    if not items:
        return []
    vectors = vectors_fn([gap_text(i.text) for i in items])
    return cluster_questions(items, vectors, DEFAULT_THRESHOLD if threshold is None else threshold)
