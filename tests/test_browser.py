"""The web UI in a real headless Chromium (Debian's), over a real server on localhost.

Every test records each request the page makes and asserts that none leaves
the machine.  The converted model comes from conftest's session ``home``.
Screenshots go to ``artifacts/`` at the repository root.
Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import LoopbackRelay, Page, sync_api
from conftest import ROOMY_LIMITS, free_port

from assistant.core.settings import Settings
from assistant.store.feedback import FeedbackStore
from assistant.web import get_service, serve

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = PROJECT_ROOT / "corpus"
ADMIN_PASSWORD = "browser-test-admin"
TRUST_QUESTION = "ارکان اعتماد در روابط عمومی کدام‌اند؟"
HOSTILE_QUESTION = "مدیریت بحران رسانه‌ای با چه چیزی آغاز می‌شود؟"
# close to the webinar but not in it: it abstains with related passages (an off-topic one shows none)
OFF_TOPIC_QUESTION = "برای مدیریت بحران در شبکه های اجتماعی از چه ابزارهایی استفاده کنیم؟"

HOSTILE_DOC = """---
title: "راهنمای بحران <img src=x onerror=\\"window.__pwned=1\\"> رسانه‌ای"
speaker: "<script>window.__pwned=1</script>سخنگوی آزمایشی"
date: 2024-01-01
kind: test
---
# بحران رسانه‌ای

مدیریت بحران رسانه‌ای در روابط عمومی با تعیین سخنگوی واحد آغاز می‌شود \
<script>window.__pwned=1</script> و همهٔ پیام‌ها باید هماهنگ باشند.

در بحران رسانه‌ای پاسخ سریع و دقیق اهمیت دارد <img src=x onerror="window.__pwned=1"> \
و سکوت طولانی به شایعه دامن می‌زند.
"""
NEW_DOC = """---
title: اخلاق حرفه‌ای در روابط عمومی
speaker: مدرس آزمایشی
---
رازداری حرفه‌ای یعنی اطلاعات محرمانهٔ مخاطبان و سازمان بدون اجازه منتشر نشود.
"""


def _corpus(base: Path, name: str, extra: dict[str, str]) -> Path:
    corpus = base / name
    if not corpus.exists():
        shutil.copytree(SEED_CORPUS, corpus)
        for file_name, text in extra.items():
            (corpus / file_name).write_bytes(text.encode("utf-8"))
    return corpus


@pytest.fixture(scope="module")
def browser_settings(tmp_path_factory, home) -> Settings:
    """Seed corpus plus one hostile document; the Index tab on (admin password set)."""
    base = tmp_path_factory.getbasetemp()
    corpus = _corpus(base, "browser-corpus", {"900_hostile.md": HOSTILE_DOC})
    return Settings(
        corpus_dir=corpus,
        index_dir=base / "browser-index",
        home=home,
        admin_password=ADMIN_PASSWORD,
        **ROOMY_LIMITS,
    )


@pytest.fixture(scope="module")
def server(serve_ui, browser_settings) -> str:
    return serve_ui(browser_settings)


@pytest.fixture
def page(browser, server) -> Iterator[Page]:
    p = Page(browser, server)
    try:
        yield p
    finally:
        p.close()


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_ask_stream_and_open_a_citation(page, browser_settings):
    settings = browser_settings
    pg = page.page
    assert pg.evaluate("document.documentElement.dir") == "rtl"
    page.ask(TRUST_QUESTION)
    chip = pg.locator("#pr-chat a.pr-cite").first  # the [1] in the answer's text
    chip.wait_for(state="visible", timeout=60_000)
    answer = pg.locator("#pr-chat .message-row").last
    assert "[1]" in answer.inner_text()
    assert "شفافیت" in answer.inner_text()
    assert chip.inner_text() == "[1]"
    assert pg.locator(".pr-chip").filter(visible=True).count() == 0  # no buttons repeating the links

    chip.click()
    mark = pg.locator("#pr-source mark")
    mark.wait_for(timeout=30_000)
    expected = get_service(settings).assistant().ask(TRUST_QUESTION).citations[0]
    assert _squash(mark.inner_text()) == _squash(expected.text)
    source = pg.locator("#pr-source").inner_text()
    assert "مهارت‌های اعتمادسازی در روابط عمومی" in source  # title
    assert "دکتر حسین امامی" in source  # speaker
    assert "1403/02/29" in source  # date
    # The paragraph around the quote is shown too, not only the quote.
    assert len(_squash(source)) > len(_squash(expected.text)) + 100

    # Persian is set in the app's own Vazirmatn, served from this host.
    assert pg.evaluate(
        "[...document.fonts].some(f => f.family.includes('Vazirmatn') && f.status === 'loaded')"
    )
    assert any(u.endswith("Vazirmatn-Regular.ttf") for u in page.requests)

    # Thumbs up is stored with the answer it rates.
    pg.get_by_role("button", name=re.compile("^(Like|پسندیدم)$")).last.click()  # Gradio speaks fa too
    pg.locator("#pr-status", has_text="سپاس").wait_for(timeout=30_000)
    ratings = [r for r in FeedbackStore(settings.feedback_db).rows() if r["kind"] == "rating"]
    assert ratings and ratings[-1]["question"] == TRUST_QUESTION and ratings[-1]["rating"] == 1

    page.shot("chat_citation.png")

    # "Copy message" gives the answer as a student would paste it: no escaping, no tags.
    pg.get_by_role("button", name=re.compile("^(Copy message|کپی پیام)$")).last.click()
    copied = pg.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(expected.text[:20])
    assert "[1]" in copied and "\\" not in copied and "<" not in copied

    # "Whole document" opens the cited document in the Sources tab.
    pg.locator("#pr-whole").click()
    sync_api.expect(pg.locator("#pr-doc-view")).to_contain_text("حمایت: ارائه کمک", timeout=30_000)
    assert pg.evaluate("window.__pwned") is None
    assert page.outside_requests() == []


def test_hostile_document_shows_as_text(page):
    pg = page.page
    # Cited in the chat: the answer quotes the sentence with the <script> in it.
    page.ask(HOSTILE_QUESTION)
    answer = pg.locator("#pr-chat .message-row").last
    sync_api.expect(answer).to_contain_text("راهنمای بحران", timeout=60_000)  # its sources list
    chip = answer.locator("a.pr-cite").first
    chip.wait_for(state="visible", timeout=30_000)
    chip.click()
    pg.locator("#pr-source mark").wait_for(timeout=30_000)
    source = pg.locator("#pr-source").inner_text()
    assert "<script>window.__pwned=1</script>" in source
    assert (
        pg.locator("#pr-source script, #pr-source img, #pr-chat img[src='x'], #pr-chat script").count() == 0
    )
    assert "<script>window.__pwned=1</script>" in pg.locator("#pr-chat").inner_text()
    page.shot("hostile_citation.png")

    # Read whole in the Sources tab.
    pg.get_by_role("tab", name="منابع").click()
    pg.locator("#pr-doc-pick input").click()
    pg.get_by_role("option", name=re.compile("900_hostile.md")).click()
    view = pg.locator("#pr-doc-view")
    view.get_by_text("سکوت طولانی", exact=False).wait_for(timeout=30_000)
    text = view.inner_text()
    assert '<img src=x onerror="window.__pwned=1">' in text
    assert "<script>window.__pwned=1</script>" in text
    assert view.locator("img, script").count() == 0
    assert "<script>window.__pwned=1</script>" in pg.locator("#pr-docs").inner_text()  # speaker cell

    # Passage search results are text too.
    pg.locator("#pr-search textarea").fill("بحران رسانه‌ای")
    pg.locator("#pr-search-btn").click()
    pg.locator("#pr-search-results", has_text="سخنگوی واحد").wait_for(timeout=30_000)
    assert pg.locator("#pr-search-results img, #pr-search-results script").count() == 0
    page.shot("hostile_sources.png")

    pg.wait_for_timeout(500)  # give any injected handler its chance to run
    assert pg.evaluate("typeof window.__pwned") == "undefined"
    assert page.outside_requests() == []


def test_abstention_and_errors(page):
    pg = page.page
    page.ask("")  # empty: a clear message, nothing sent to the chat
    pg.locator("#pr-status", has_text="The question is empty").wait_for(timeout=30_000)
    assert "پرسش خالی است" in pg.locator("#pr-status").inner_text()
    assert pg.locator("#pr-chat .message-row").count() == 0

    page.ask(OFF_TOPIC_QUESTION)
    chip = pg.locator(".pr-chip").first
    chip.wait_for(state="visible", timeout=60_000)
    answer = pg.locator("#pr-chat .message-row").last.inner_text()
    assert "منابع موجود پاسخ این پرسش را ندارند" in answer
    assert "مطالب مرتبط" in answer
    assert "[1]" not in answer
    assert chip.inner_text().startswith("مرتبط 1")
    chip.click()
    pg.locator("#pr-source", has_text="استناد پاسخ نیست").wait_for(timeout=30_000)
    assert pg.locator("#pr-source mark").count() == 0
    page.shot("abstention_chat.png")

    # The sentence-by-sentence table says the same: related passages, no cited sentences.
    pg.get_by_text("جمله به جمله").click()
    table = pg.locator("#pr-answer-table")
    sync_api.expect(table).to_contain_text("مرتبط 1", timeout=30_000)
    sync_api.expect(table).to_contain_text("abstained")
    page.shot("abstention_sources.png")
    assert page.outside_requests() == []


def test_index_tab_upload_and_rebuild(browser, tmp_path_factory, home):
    base = tmp_path_factory.getbasetemp()
    corpus = _corpus(base, "admin-corpus", {})
    settings = Settings(
        corpus_dir=corpus, index_dir=base / "admin-index", home=home, admin_password=ADMIN_PASSWORD
    )
    app = serve("127.0.0.1", free_port(), settings, block=False)
    page = Page(browser, app.local_url)
    try:
        pg = page.page
        assert "نمایه" not in page.tabs()  # a student never sees the index tab
        assert pg.locator("#pr-upload").count() == 0 or not pg.locator("#pr-upload").is_visible()

        page.sign_in("wrong")
        pg.locator("#pr-login-status", has_text="Wrong password").wait_for(timeout=30_000)
        assert not pg.locator("#pr-rebuild").is_visible()
        pg.wait_for_timeout(1500)  # a wrong password costs a second's back-off before the next try

        page.sign_in(ADMIN_PASSWORD)
        pg.get_by_role("tab", name="نمایه").click()
        manifest = pg.locator("#pr-manifest")
        manifest.get_by_text("multilingual-e5-small").wait_for(timeout=30_000)
        assert "built_at" in manifest.inner_text()

        upload_dir = tmp_path_factory.mktemp("uploads")
        good = upload_dir / "اخلاق حرفه‌ای.md"
        good.write_text(NEW_DOC, encoding="utf-8")
        empty = upload_dir / "خالی.txt"
        empty.write_bytes(b"")
        pg.locator("#pr-upload input[type=file]").set_input_files([str(good), str(empty)])
        pg.wait_for_timeout(1000)
        pg.locator("#pr-save").click()  # saved and indexed in one step
        status = pg.locator("#pr-upload-status")
        status.get_by_text("saved").wait_for(timeout=30_000)
        assert "file is empty" in status.inner_text()
        assert (corpus / "اخلاق حرفه‌ای.md").read_text(encoding="utf-8") == NEW_DOC
        assert not (corpus / "خالی.txt").exists()
        status.get_by_text("Index updated").wait_for(timeout=120_000)
        assert "2 documents" in status.inner_text()
        page.shot("index_admin.png")

        # The server now answers from the new document.
        assert len(get_service(settings).assistant().index.documents) == 2
        pg.get_by_role("tab", name="گفت‌وگو").click()
        page.ask("رازداری حرفه‌ای یعنی چه؟")
        answer = pg.locator("#pr-chat .message-row").last
        sync_api.expect(answer).to_contain_text("اخلاق حرفه‌ای", timeout=60_000)  # cited in its sources
        answer.locator("a.pr-cite").first.wait_for(state="visible", timeout=30_000)
        assert page.outside_requests() == []
    finally:
        page.close()
        app.close()


def test_follow_up_is_read_against_the_conversation(page, browser_settings):
    """«دومی یعنی چه؟» after the pillars: the chat shows how it was read and cites the second pillar."""
    pg = page.page
    page.ask(TRUST_QUESTION)
    pg.locator("#pr-chat a.pr-cite").first.wait_for(state="visible", timeout=90_000)
    expected = get_service(browser_settings).assistant().ask("دومی یعنی چه؟", history=[TRUST_QUESTION])
    assert expected.resolved_question != "دومی یعنی چه؟" and not expected.abstained

    page.ask("دومی یعنی چه؟")
    answer = pg.locator("#pr-chat .message-row").nth(3)
    sync_api.expect(answer).to_contain_text("پرسش شما به این شکل خوانده شد", timeout=90_000)
    sync_api.expect(answer).to_contain_text(expected.resolved_question)
    sync_api.expect(answer).to_contain_text(expected.citations[0].text[:15])
    page.shot("follow_up.png")

    page.ask("athtdj dukd ]i?")  # «شفافیت یعنی چه؟» typed on the English layout
    typed = pg.locator("#pr-chat .message-row").nth(5)
    sync_api.expect(typed).to_contain_text("شفافیت", timeout=90_000)
    sync_api.expect(typed).to_contain_text("[1]")
    assert page.outside_requests() == []


def test_wrong_passwords_lock_that_client_out_but_not_the_admin(browser, tmp_path_factory, home):
    """Guesses from one address lock that address; the admin logs in from another at once.

    Three wrong passwords lock here (five by default; tests/test_auth.py has the policy itself), so
    the doubling back-off between guesses takes 3 s of the test, not 16.

    The second browser reaches the server through a relay from 127.0.0.2, so
    the server sees two clients (traffic stays on this machine).
    """
    base = tmp_path_factory.getbasetemp()
    settings = Settings(
        corpus_dir=_corpus(base, "lockout-corpus", {}), index_dir=base / "lockout-index", home=home,
        admin_password=ADMIN_PASSWORD, login_max_failures=3,
        database_url=f"sqlite:///{base / 'lockout.sqlite'}",  # its lockouts stay its own
    )  # fmt: skip
    port = free_port()
    app = serve("127.0.0.1", port, settings, block=False)
    relay = LoopbackRelay(port)
    attacker = Page(browser, f"http://127.0.0.1:{port}/")
    admin = Page(browser, f"http://127.0.0.1:{relay.port}/")
    try:
        pg = attacker.page
        status = pg.locator("#pr-login-status")
        for attempt, wait_s in enumerate([1.2, 2.2, 0.0, 0.0], 1):  # the back-off doubles
            attacker.sign_in(f"guess-{attempt}")
            expected = "Wrong password" if attempt < 3 else "Too many wrong passwords"
            status.get_by_text(expected, exact=False).wait_for(timeout=30_000)
            pg.wait_for_timeout(wait_s * 1000)
        assert "Too many wrong passwords" in status.inner_text()  # the 4th try: locked out
        attacker.sign_in(ADMIN_PASSWORD)  # even the right one, from this address
        pg.wait_for_timeout(1500)
        assert not pg.locator("#pr-rebuild").is_visible()
        attacker.shot("login_locked_out.png")

        ap = admin.page
        admin.sign_in(ADMIN_PASSWORD)
        ap.get_by_role("tab", name="نمایه").click()
        ap.locator("#pr-manifest").get_by_text("multilingual-e5-small").wait_for(timeout=30_000)
        assert ap.locator("#pr-rebuild").is_visible()
    finally:
        attacker.close()
        admin.close()
        relay.close()
        app.close()
