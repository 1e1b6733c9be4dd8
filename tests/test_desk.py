"""The trainers' desk in a real headless Chromium over a real server and the real model.

Ask as a student, then review the citation as a trainer: the verdict is
stored (with the build id and the document's content hash) and comes out in
the export.  A citation whose document changed after it was quoted opens the
quoted version with a notice.  Screenshots go to ``artifacts/``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_kit import Page, sync_api
from conftest import corpus_settings

from assistant.core.settings import Settings
from assistant.store import Store
from assistant.web import get_service

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRAINER_PASSWORD = "desk-test-trainer"
TRUST_QUESTION = "ارکان اعتماد در روابط عمومی کدام‌اند؟"
GAP_QUESTIONS = [
    "تفاوت تبلیغات و روابط عمومی چیست؟",
    "برای مدیریت بحران در شبکه های اجتماعی از چه ابزارهایی استفاده کنیم؟",
]


@pytest.fixture(scope="module")
def desk_settings(tmp_path_factory, home) -> Settings:
    """Its own corpus copy (a test changes it), index and question log; the trainer tab on."""
    base = tmp_path_factory.mktemp("desk")
    database = f"sqlite:///{base / 'desk.sqlite'}"
    return corpus_settings(base, home, trainer_password=TRAINER_PASSWORD, database_url=database)


@pytest.fixture(scope="module")
def server(serve_ui, desk_settings) -> str:
    return serve_ui(desk_settings)


def _ask(page: Page, question: str) -> None:
    """Ask and wait for this answer (not the previous one's buttons) to be complete."""
    rows = page.page.locator("#pr-chat .message-row")
    before = rows.count()
    page.ask(question)
    sync_api.expect(rows).to_have_count(before + 2, timeout=90_000)
    answer = rows.nth(before + 1)
    sync_api.expect(answer).not_to_contain_text("⏳", timeout=90_000)
    sync_api.expect(answer).not_to_contain_text("▍", timeout=90_000)
    page.page.locator(".pr-chip").first.wait_for(state="visible", timeout=90_000)


def _login(pg, password: str) -> None:
    pg.get_by_role("tab", name="بازبینی").click()
    pg.locator("#pr-review-password input").fill(password)
    pg.locator("#pr-review-login").click()


def test_review_a_citation_then_export(browser, server, desk_settings):
    student = Page(browser, server)
    trainer = Page(browser, server)
    try:
        _ask(student, TRUST_QUESTION)
        for question in GAP_QUESTIONS:
            _ask(student, question)
        pg = trainer.page

        _login(pg, "not the password")
        pg.locator("#pr-review-login-status", has_text="Wrong password").wait_for(timeout=30_000)
        assert not pg.locator("#pr-verdict-save").is_visible()
        trainer.shot("review_wrong_password.png")
        pg.wait_for_timeout(1500)  # a wrong password costs a second's back-off before the next try

        _login(pg, TRAINER_PASSWORD)
        queue = pg.locator("#pr-review-queue")
        sync_api.expect(queue).to_contain_text(TRUST_QUESTION[:12], timeout=30_000)
        pg.locator("#pr-review-pick input").click()
        pg.get_by_role("option", name=TRUST_QUESTION[:12], exact=False).first.click()
        sync_api.expect(pg.locator("#pr-review-answer")).to_contain_text("شفافیت", timeout=30_000)
        mark = pg.locator("#pr-review-passage mark")
        mark.wait_for(timeout=30_000)  # the cited sentence, highlighted in its document

        pg.locator("#pr-verdict").get_by_text("پشتیبانی نمی‌کند", exact=False).click()
        pg.locator("#pr-verdict-note textarea").fill("جملهٔ دوم را هم باید نقل کند")
        pg.locator("#pr-verdict-save").click()
        pg.locator("#pr-verdict-status", has_text="verdict saved").wait_for(timeout=30_000)
        sync_api.expect(pg.locator("#pr-review-answer")).to_contain_text("does not support")
        trainer.shot("review_verdict.png")

        store = Store.from_settings(desk_settings)
        (verdict,) = store.verdicts()
        answer = get_service(desk_settings).assistant()
        assert verdict.verdict == "does_not_support" and verdict.note == "جملهٔ دوم را هم باید نقل کند"
        assert verdict.build_id == answer.index.manifest["build_id"]
        assert verdict.doc_sha256 == answer.documents()[0].content_hash

        pg.locator("#pr-export").click()
        link = pg.locator("#pr-export-file a").first
        link.wait_for(timeout=30_000)
        body = pg.request.get(link.get_attribute("href")).text()
        rows = list(csv.DictReader(io.StringIO(body)))
        assert rows and rows[0]["verdict"] == "does_not_support" and rows[0]["question"] == TRUST_QUESTION
        assert rows[0]["doc_sha256"] == verdict.doc_sha256

        pg.locator("#pr-gaps-btn").click()
        gaps = pg.locator("#pr-gaps")
        for question in GAP_QUESTIONS:
            sync_api.expect(gaps).to_contain_text(question[:10], timeout=60_000)
        trainer.shot("review_gaps.png")
        assert student.outside_requests() == [] and trainer.outside_requests() == []
    finally:
        student.close()
        trainer.close()


def test_changed_document_opens_the_quoted_version(browser, server, desk_settings, home):
    """The corpus changes under a running server (CLI update); an old citation still reads as quoted."""
    page = Page(browser, server)
    try:
        _ask(page, TRUST_QUESTION)
        quoted = get_service(desk_settings).assistant().ask(TRUST_QUESTION).citations[0]
        path = desk_settings.corpus_dir / quoted.doc_id
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("شفافیت", "شفافیتِ کامل", 1), encoding="utf-8")
        env = {**os.environ, "ASSISTANT_HOME": str(home), "PYTHONPATH": str(PROJECT_ROOT)}
        subprocess.run(
            [sys.executable, "-m", "assistant", "index", "update", "--corpus", str(desk_settings.corpus_dir),
             "--index", str(desk_settings.index_dir)],
            env=env, check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        served = get_service(desk_settings).assistant()
        deadline = time.monotonic() + 10
        while (
            served.document(quoted.doc_id).content_hash == quoted.doc_sha256 and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert served.document(quoted.doc_id).content_hash != quoted.doc_sha256, (
            "new build not served in 10 s"
        )

        page.page.locator(".pr-chip").first.click()
        source = page.page.locator("#pr-source")
        source.locator(".pr-changed").wait_for(timeout=30_000)
        assert "Whole document" in source.inner_text() or "نسخهٔ کنونی" in source.inner_text()
        assert " ".join(source.locator("mark").inner_text().split()) == " ".join(quoted.text.split())
        page.shot("citation_changed_document.png")
        page.page.locator("#pr-whole").click()
        sync_api.expect(page.page.locator("#pr-doc-view")).to_contain_text("شفافیتِ کامل", timeout=30_000)
    finally:
        page.close()


@pytest.fixture(scope="module")
def media_server(serve_ui, tmp_path_factory, home) -> tuple[str, Settings]:
    """A corpus of a webinar's subtitle file (with its recording's address) and its slide deck."""
    from test_transcript import CRISIS_RECORDING, CRISIS_SRT, _deck

    base = tmp_path_factory.mktemp("media")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "crisis.srt").write_text(CRISIS_SRT, encoding="utf-8")
    (corpus / "crisis.yaml").write_text(
        f"title: ارتباطات بحران\nspeaker: دکتر نمونه\nrecording_url: {CRISIS_RECORDING}\n", encoding="utf-8"
    )
    _deck(corpus / "deck.pptx")
    settings = Settings(corpus_dir=corpus, index_dir=base / "index", home=home)
    return serve_ui(settings), settings


def test_transcript_cites_its_time_and_a_slide_its_number(browser, media_server):
    from test_transcript import CRISIS_RECORDING

    url, _settings = media_server
    page = Page(browser, url)
    try:
        pg = page.page
        page.ask("سازمان در ساعت نخست بحران چه باید بکند؟")
        chip = pg.locator(".pr-chip", has_text="ارتباطات بحران").first
        chip.wait_for(state="visible", timeout=90_000)
        assert re.search(r"\d\d:\d\d–\d\d:\d\d", chip.inner_text()), chip.inner_text()  # mm:ss–mm:ss
        chip.click()
        link = pg.locator("#pr-source .pr-location a")
        link.wait_for(timeout=30_000)
        href = link.get_attribute("href")
        assert href.startswith(CRISIS_RECORDING + "#t=") and int(href.rsplit("=", 1)[1]) >= 0
        assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", link.inner_text().strip())
        page.shot("transcript_citation.png")

        page.ask("در ساختار هرم وارونه مهم‌ترین اطلاعات خبر کجا می‌آید؟")
        slide_chip = pg.locator(".pr-chip", has_text="اسلاید").first
        slide_chip.wait_for(state="visible", timeout=90_000)
        assert "اسلاید 3" in slide_chip.inner_text()
        slide_chip.click()
        sync_api.expect(pg.locator("#pr-source .pr-location")).to_contain_text("اسلاید 3", timeout=30_000)
        page.shot("slide_citation.png")
        assert page.outside_requests() == []
    finally:
        page.close()
