"""Gap topics: greedy centroid clustering, with a small deterministic embedder and with the real e5 model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pytest

from assistant.store import Store
from assistant.store.topics import QuestionCount, cluster_questions
from assistant.text.normalize import normalize


def deterministic_word_embedder(texts: Sequence[str], dim: int = 64) -> np.ndarray:
    """A small deterministic embedder (hashed bag of words, L2-normalized) for the pure logic only."""
    out = np.zeros((len(texts), dim), np.float32)
    for row, text in enumerate(texts):
        for word in text.split():
            out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % dim] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_clusters_by_cosine_with_most_asked_label():
    items = [
        QuestionCount("a b c", 1),
        QuestionCount("a b c d", 5),
        QuestionCount("x y z", 2),
        QuestionCount("a b c e", 1),
    ]
    vectors = deterministic_word_embedder([i.text for i in items])
    topics = cluster_questions(items, vectors, threshold=0.8)
    assert [(t.label, t.total) for t in topics] == [("a b c d", 7), ("x y z", 2)]
    assert [q.text for q in topics[0].questions] == ["a b c d", "a b c", "a b c e"]
    # a bar no two questions reach leaves every question alone; one all reach makes one topic
    assert len(cluster_questions(items, vectors, threshold=0.999)) == 4
    assert [t.total for t in cluster_questions(items, vectors, threshold=-1.0)] == [9]
    assert cluster_questions([], np.zeros((0, 64), np.float32)) == []
    with pytest.raises(ValueError):
        cluster_questions(items, vectors[:2])


def test_store_gap_clusters_with_the_deterministic_embedder(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    gap = {"answer": "…", "abstained": True, "related": []}
    for question in ["قیمت طلا امروز", "قیمت طلا امروز", "قیمت طلا امروز چند", "فیلم خوب"]:
        store.log_gap(question, gap)
    seen: list[str] = []

    def vectors(texts: Sequence[str]) -> np.ndarray:
        seen.extend(texts)
        return deterministic_word_embedder(texts)

    topics = store.gap_clusters(vectors, threshold=0.8)
    assert [(t.label, t.total, len(t.questions)) for t in topics] == [
        ("قیمت طلا امروز", 3, 2),
        ("فیلم خوب", 1, 1),
    ]
    assert sorted(seen) == sorted(
        {normalize(q) for q in ["قیمت طلا امروز", "قیمت طلا امروز چند", "فیلم خوب"]}
    )
    assert Store(f"sqlite:///{tmp_path / 'empty.sqlite'}").gap_clusters(vectors) == []


def test_paraphrases_land_together_with_the_real_model(tmp_path, embedder):
    """The default threshold with multilingual-e5-small: three topics asked in several wordings."""
    asked = {
        "قیمت بیت کوین چند است؟": 3,
        "بیت کوین الان چند قیمت دارد؟": 1,
        "ارزش بیت‌کوین امروز چقدر است": 1,
        "هوای تهران فردا چطور است؟": 2,
        "پیش بینی آب و هوای فردای تهران": 1,
        "وضعیت هوا در تهران برای فردا": 1,
        "دستور پخت قورمه سبزی": 1,
        "طرز تهیه قورمه‌سبزی چیست؟": 1,
    }
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    for question, times in asked.items():
        for _ in range(times):
            store.log_gap(question, {"answer": "…", "abstained": True, "related": []})
    topics = store.gap_clusters(lambda texts: embedder.embed(texts, kind="query"))
    assert [(t.label, t.total) for t in topics] == [
        ("قیمت بیت کوین چند است؟", 5),
        ("هوای تهران فردا چطور است؟", 4),
        ("دستور پخت قورمه سبزی", 2),
    ]
    assert {q.text for q in topics[2].questions} == {"دستور پخت قورمه سبزی", "طرز تهیه قورمه‌سبزی چیست؟"}
