"""Issue 17, the students' half, in Debian's headless Chromium over one real server (real model).

A phone (390 × 844) and a laptop (1280 × 1000): each ``[n]`` in an answer opens
its source (click, Enter, Space), a phone shows it in a drawer with the answer's
first sentence still on screen, the sources under an answer are grouped by
document, a conversation survives a reload and downloads as Markdown, a
thumbs-down takes a comment, and the whole-document view has a header, cue
times and the quote marked and scrolled to.  Screenshots go to ``artifacts/``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import ARTIFACTS, Page, sync_api
from conftest import ROOMY_LIMITS

from assistant.core.settings import Settings
from assistant.store import Store
from assistant.web import get_service

pytestmark = pytest.mark.browser

SEED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"
NINE_QUESTION = "چه عواملی باعث از دست رفتن اعتماد به سازمان می‌شود؟"
TRUST_QUESTION = "ارکان اعتماد در روابط عمومی کدام‌اند؟"
WEBINAR_TITLE = "مهارت‌های اعتمادسازی در روابط عمومی"
TALK_TITLE = "گفت‌وگو دربارهٔ crisis communication در سال 2024"
TALK_SRT = """1
00:00:05,000 --> 00:00:09,500
در این گفت‌وگو از سخنگوی رسمی سازمان در روزهای بحران حرف می‌زنیم.

2
00:01:15,000 --> 00:01:22,000
سخنگوی رسمی باید در روزهای بحران هر روز یک بار با خبرنگاران صحبت کند.
"""
TALK_YAML = f"""title: "{TALK_TITLE}"
speaker: مدرس آزمایشی
kind: talk
date: 2024-03-01
recording_url: https://example.org/talk.mp4
"""
PHONE = {"width": 390, "height": 844}
EMOJI = re.compile("[\u2705\u274c\u23f3\u23f1\U0001f44d\U0001f44e\U0001f4cd\ufe0f]")


@pytest.fixture(scope="module")
def chat_settings(tmp_path_factory, home) -> Settings:
    base = tmp_path_factory.mktemp("chat-browser")
    corpus = base / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    (corpus / "800_talk.srt").write_text(TALK_SRT, encoding="utf-8")
    (corpus / "800_talk.yaml").write_text(TALK_YAML, encoding="utf-8")
    return Settings(corpus_dir=corpus, index_dir=base / "index", home=home, **ROOMY_LIMITS)


@pytest.fixture(scope="module")
def server(serve_ui, chat_settings) -> str:
    return serve_ui(chat_settings)


def _page(browser, server: str, viewport: dict | None) -> Page:
    page = Page(browser, server)
    if viewport:
        page.page.set_viewport_size(viewport)
    return page


@pytest.fixture
def phone(browser, server) -> Iterator[Page]:
    p = _page(browser, server, PHONE)
    yield p
    p.close()


@pytest.fixture
def laptop(browser, server) -> Iterator[Page]:
    p = _page(browser, server, None)
    yield p
    p.close()


def _answered(page: Page, question: str, rows: int) -> sync_api.Locator:
    """Ask, and wait for the finished answer (no streaming cursor, its [n] linked by the page)."""
    page.ask(question)
    pg = page.page
    sync_api.expect(pg.locator("#pr-chat .message-row")).to_have_count(rows, timeout=60_000)
    answer = pg.locator("#pr-chat .message-row").last
    sync_api.expect(answer).to_contain_text("منابع", timeout=60_000)
    sync_api.expect(answer).not_to_contain_text("▍")
    answer.locator("a.pr-cite").first.wait_for(timeout=30_000)
    return answer


def _box(locator) -> dict:
    return locator.evaluate(
        "e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, "
        "left: r.left, right: r.right, vh: innerHeight, vw: innerWidth}; }"
    )


def _screen(page: Page, name: str) -> None:
    """What the phone's screen shows (the viewport, not the whole page: the drawer is fixed to it)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / name))


def _on_screen(box: dict, below: float = 0.0, above: float | None = None) -> bool:
    return box["top"] >= below - 1 and box["bottom"] <= (above if above is not None else box["vh"]) + 1


def _links(answer) -> dict[str, list[int]]:
    """Citation numbers linked in the answer's text and in its sources list (split at «منابع:»)."""
    return answer.evaluate(
        """row => {
          const head = [...row.querySelectorAll('strong')].find(s => s.textContent.includes('منابع'));
          const out = {text: [], sources: []};
          row.querySelectorAll('a.pr-cite').forEach(a => {
            const n = Number(/-(\\d+)$/.exec(a.getAttribute('href'))[1]);
            const after = head && (head.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING);
            (after ? out.sources : out.text).push(n);
          });
          return out;
        }"""
    )


def test_phone_every_citation_opens_in_a_drawer_with_the_answer_still_in_view(phone, chat_settings):
    pg = phone.page
    expected = get_service(chat_settings).assistant().ask(NINE_QUESTION)
    numbers = [c.n for c in expected.citations]
    assert len(numbers) >= 9 and not expected.abstained
    answer = _answered(phone, NINE_QUESTION, 2)

    # Every citation is a link in the text, and once more under the document it quotes.
    links = _links(answer)
    assert links["text"] == numbers and links["sources"] == numbers
    sources = answer.inner_text().split("منابع:")[1]
    assert sources.count(WEBINAR_TITLE) == 1  # the title once, then its nine passages

    # The first sentence is on screen, nothing sticks out sideways, no floating label over the chat.
    first = answer.locator("a.pr-cite").first
    assert _on_screen(_box(first))
    assert pg.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert pg.locator("#pr-chat [data-testid='block-label']").filter(visible=True).count() == 0
    _screen(phone, "phone_answer_390.png")

    # [9] (the last, once beyond the eight buttons) opens in the drawer; the first sentence stays visible.
    last = answer.locator(f"a.pr-cite[href$='-{numbers[-1]}']").first
    last.click()
    mark = pg.locator("#pr-source mark")
    sync_api.expect(pg.locator("#pr-source .pr-kind")).to_contain_text(f"[{numbers[-1]}]", timeout=30_000)
    assert " ".join(mark.inner_text().split()) == " ".join(expected.citations[-1].text.split())
    drawer = _box(pg.locator("#pr-source-col"))
    assert pg.locator("#pr-source-col").evaluate("e => getComputedStyle(e).position") == "fixed"
    assert _on_screen(drawer) and _on_screen(_box(mark), below=drawer["top"])
    assert _on_screen(_box(first), above=drawer["top"])
    _screen(phone, "phone_source_drawer_390.png")

    # Keyboard: a citation link is focusable; Enter and Space open it.
    pg.locator("#pr-source-close").click()
    assert pg.locator("#pr-source-col").evaluate("e => getComputedStyle(e).position") != "fixed"
    for n, key in ((2, "Enter"), (3, " ")):
        answer.locator(f"a.pr-cite[href$='-{n}']").first.focus()
        pg.keyboard.press(key)
        sync_api.expect(pg.locator("#pr-source .pr-kind")).to_contain_text(f"[{n}]", timeout=30_000)

    # "Whole document": the front matter as a header, the quote marked and scrolled to.
    pg.locator("#pr-whole").click()
    marked = pg.locator("#pr-doc-view #pr-mark")
    marked.wait_for(timeout=30_000)
    assert " ".join(marked.inner_text().split()) == " ".join(expected.citations[2].text.split())
    pg.wait_for_timeout(300)  # the page's script scrolls on the next frame
    assert _on_screen(_box(marked))
    view = pg.locator("#pr-doc-view").inner_text()
    assert WEBINAR_TITLE in view and "دکتر حسین امامی" in view and "1403/02/29" in view
    assert "title:" not in view and "speaker_role:" not in view and "---" not in view
    assert str(chat_settings.corpus_dir) not in view  # no internal path
    phone.shot("phone_whole_document_390.png")
    assert phone.outside_requests() == []


def test_laptop_conversation_is_kept_exported_and_started_afresh(laptop, chat_settings):
    pg = laptop.page
    answer = _answered(laptop, TRUST_QUESTION, 2)
    expected = get_service(chat_settings).assistant().ask(TRUST_QUESTION)
    first_words = expected.text[:25]

    # Enter on [1] opens its source, in view beside the chat.
    answer.locator("a.pr-cite").first.focus()
    pg.keyboard.press("Enter")
    mark = pg.locator("#pr-source mark")
    mark.wait_for(timeout=30_000)
    assert " ".join(mark.inner_text().split()) == " ".join(expected.citations[0].text.split())
    assert _on_screen(_box(pg.locator("#pr-source .pr-kind")))

    # A thumbs-down takes a short comment; the store keeps it (the feedback export shows it).
    pg.get_by_role("button", name=re.compile("^(Dislike|نپسندیدم)$")).last.click()
    pg.locator("#pr-comment textarea").fill("منبع [1] را کامل‌تر می‌خواستم")
    pg.locator("#pr-comment-send").click()
    sync_api.expect(pg.locator("#pr-status")).to_contain_text("Your comment was recorded", timeout=30_000)
    status = pg.locator("#pr-status").inner_text()
    assert "نظر شما ثبت شد" in status and not EMOJI.search(status)  # said in words, the icon beside
    rated = [r for r in Store.from_settings(chat_settings).ratings() if r.question == TRUST_QUESTION]
    assert (rated[-1].rating, rated[-1].comment) == (-1, "منبع [1] را کامل‌تر می‌خواستم")
    laptop.shot("laptop_chat_comment_1280.png")

    # A reload keeps the conversation (the browser's own storage), its [n] still open sources.
    before = answer.inner_text()
    pg.reload()
    pg.locator("#pr-question textarea").wait_for()
    kept = pg.locator("#pr-chat .message-row")
    sync_api.expect(kept).to_have_count(2, timeout=30_000)
    sync_api.expect(kept.last).to_contain_text(first_words)
    assert kept.last.inner_text() == before
    kept.last.locator("a.pr-cite").first.click()
    sync_api.expect(pg.locator("#pr-source mark")).to_have_count(1, timeout=30_000)
    laptop.shot("laptop_after_reload_1280.png")

    # The conversation downloads as Markdown with its sources quoted.
    with pg.expect_download(timeout=30_000) as download:
        pg.locator("#pr-chat-export").click()
    assert download.value.suggested_filename == "conversation.md"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "conversation_export.md").write_text(text, encoding="utf-8")
    assert f"## 1. {TRUST_QUESTION}" in text and expected.text in text
    assert WEBINAR_TITLE in text and "000_trust_building_webinar.md" in text
    for c in expected.citations:
        assert f"[{c.n}]" in text and " ".join(c.text.split()) in text

    # "New conversation" starts fresh, and a reload does not bring the old one back.
    pg.locator("#pr-new").click()
    sync_api.expect(pg.locator("#pr-chat .message-row")).to_have_count(0, timeout=30_000)
    pg.wait_for_timeout(500)  # the emptied storage is written
    pg.reload()
    pg.locator("#pr-question textarea").wait_for()
    pg.wait_for_timeout(1000)
    assert pg.locator("#pr-chat .message-row").count() == 0
    assert laptop.outside_requests() == []


def test_phone_sources_tab_isolates_mixed_text_and_shows_cue_times(phone):
    pg = phone.page
    pg.get_by_role("tab", name="منابع").click()
    summary = pg.locator("#pr-docs-summary")
    sync_api.expect(summary).to_contain_text("passages indexed", timeout=30_000)
    assert "documents" in summary.locator("bdi").inner_text()  # the English half is its own isolate
    pg.locator("#pr-doc-pick input").click()
    option = pg.get_by_role("option", name=re.compile("800_talk.srt"))
    label = option.inner_text()
    assert f"\u2068{TALK_TITLE}\u2069" in label and "\u2066800_talk.srt\u2069" in label
    option.click()
    view = pg.locator("#pr-doc-view")
    cues = view.locator(".pr-cue")
    sync_api.expect(cues).to_have_count(2, timeout=30_000)
    assert [c.inner_text() for c in cues.all()] == ["[00:05–00:09]", "[01:15–01:22]"]
    header = view.locator("h3.pr-title")
    assert header.inner_text() == TALK_TITLE and header.get_attribute("dir") == "auto"
    text = view.inner_text()
    assert "مدرس آزمایشی" in text and "https://example.org/talk.mp4" in text
    assert "recording_url" not in text and "00:00:05,000" not in text
    phone.shot("phone_transcript_document_390.png")
    assert not EMOJI.search(pg.locator("body").inner_text())
