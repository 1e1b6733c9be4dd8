"""Version-pinned citations: an answer keeps pointing at the text it quoted after the corpus changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.core.records import Answer, Document
from assistant.core.settings import Settings
from assistant.indexing.progress import BuildDone
from assistant.indexing.versions import VersionStore
from assistant.pipeline import Assistant

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "شفافیت به چه معناست؟"


@pytest.fixture
def fresh(tmp_path, home, embedder) -> tuple[Settings, Assistant]:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", home=home)
    return settings, Assistant(settings, embedder=embedder, say=lambda _: None)


def test_answer_carries_build_id_and_each_citation_its_document_hash(fresh):
    _, assistant = fresh
    answer = assistant.ask(QUESTION)
    assert answer.build_id == assistant.index.manifest["build_id"] != ""
    doc = assistant.document(answer.citations[0].doc_id)
    assert doc is not None
    assert {c.doc_sha256 for c in answer.citations} == {doc.content_hash}
    data = answer.to_dict()
    assert data["build_id"] == answer.build_id and data["citations"][0]["doc_sha256"] == doc.content_hash
    assert Answer.from_dict(data).to_dict() == data  # typed records survive the JSON round trip


def test_changed_document_opens_the_quoted_version(fresh):
    settings, assistant = fresh
    answer = assistant.ask(QUESTION)
    cited = answer.citations[0]
    path = settings.corpus_dir / cited.doc_id
    old_text = path.read_text(encoding="utf-8")
    path.write_text(old_text.replace("شفافیت", "شفاف‌سازی"), encoding="utf-8")
    events = list(assistant.rebuild())  # a child process, as `assistant index update`; then served
    assert isinstance(events[-1], BuildDone) and events[-1].report.documents == 1

    opened = assistant.open_citation(cited)
    assert opened.changed
    assert opened.quoted is not None and opened.quoted.text[cited.start : cited.end] == cited.text
    assert opened.current is not None and opened.current.content_hash != cited.doc_sha256
    assert opened.changed_at == assistant.index.manifest["built_at"]
    # An unchanged citation opens the current document, with no notice.
    fresh_answer = assistant.ask(QUESTION)
    assert not assistant.open_citation(fresh_answer.citations[0]).changed


def test_version_store_refuses_paths_and_reads_back(tmp_path):
    store = VersionStore(tmp_path / "versions")
    doc = Document(doc_id="a.md", source="a.md", text="متن", content_hash="ab" * 32)
    store.keep(doc, "2026-01-01T00:00:00+00:00", "b1")
    store.keep(Document(doc_id="a.md", source="a.md", text="دیگر", content_hash="ab" * 32), "later", "b2")
    kept = store.get("ab" * 32)
    assert kept is not None and kept.document == doc and kept.build_id == "b1"  # written once
    assert store.get("../../etc/passwd") is None and store.get("") is None
