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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser_kit import Page, sync_api
from conftest import ROOMY_LIMITS, corpus_settings

from assistant.core.settings import Settings
from assistant.indexing.versions import VersionStore
from assistant.store import ReviewQuery, Store
from assistant.web import get_service

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRAINER_PASSWORD = "desk-test-trainer"
ADMIN_PASSWORD = "desk-test-admin"
TRUST_QUESTION = "ارکان اعتماد در روابط عمومی کدام‌اند؟"
ANSWERED_QUESTION = "شفافیت یعنی چه؟"
GAP_QUESTIONS = [
    "تفاوت تبلیغات و روابط عمومی چیست؟",
    "برای مدیریت بحران در شبکه های اجتماعی از چه ابزارهایی استفاده کنیم؟",
]


@pytest.fixture(scope="module")
def desk_settings(tmp_path_factory, home) -> Settings:
    """Its own corpus copy (tests change it), index and question log; the trainer's and admin's sign-in on."""
    base = tmp_path_factory.mktemp("desk")
    database = f"sqlite:///{base / 'desk.sqlite'}"
    return corpus_settings(
        base,
        home,
        trainer_password=TRAINER_PASSWORD,
        admin_password=ADMIN_PASSWORD,
        database_url=database,
        **ROOMY_LIMITS,
    )


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
    sync_api.expect(answer).not_to_contain_text("در حال جستجو", timeout=90_000)
    sync_api.expect(answer).not_to_contain_text("▍", timeout=90_000)
    done = answer.locator("a.pr-cite").or_(page.page.locator(".pr-chip"))  # its [n] linked, or related
    done.first.wait_for(state="visible", timeout=90_000)


def _asked(settings: Settings, question: str, history: list[str] | None = None) -> None:
    """A student's question through the server's own service (real model, logged as the chat logs it):
    the desk's tests are about what trainers do with the log, the chat has its own tests."""
    service = get_service(settings)
    service.ask(service.query(question, history), client="127.0.0.9")


def _selected_tab(pg) -> str:
    return pg.locator("[role=tab][aria-selected=true]").inner_text().strip()


def test_the_desks_tabs_appear_only_for_a_signed_in_role(browser, server):
    """Students see the chat and the sources; a trainer the review and dashboard too; the admin every tab."""
    student = Page(browser, server)
    try:
        pg = student.page
        pg.set_viewport_size({"width": 390, "height": 844})
        assert student.tabs() == ["گفت‌وگو", "منابع"]
        assert not pg.locator("#pr-password input").is_visible()  # the sign-in is folded away
        student.shot("desk_student_tabs_390.png")

        student.sign_in(TRAINER_PASSWORD)  # on the phone too
        sync_api.expect(pg.locator("#pr-signed-in")).to_contain_text("trainer", timeout=30_000)
        sync_api.expect(pg.get_by_role("tab")).to_have_text(["گفت‌وگو", "منابع", "بازبینی", "داشبورد"])
        assert _selected_tab(pg) == "بازبینی" and pg.locator("#pr-review-refresh").is_visible()
        sync_api.expect(pg.locator("#pr-verdict-status")).to_contain_text("Nothing left", timeout=30_000)
        assert not pg.locator("#pr-judge-supports").is_visible()  # an empty queue: nothing to judge
        student.shot("desk_trainer_signed_in_390.png")
        pg.set_viewport_size({"width": 1280, "height": 1000})

        pg.locator("#pr-logout").click()
        pg.locator("#pr-login-status", has_text="Signed out").wait_for(timeout=30_000)
        sync_api.expect(pg.get_by_role("tab")).to_have_text(["گفت‌وگو", "منابع"])
        assert _selected_tab(pg) == "گفت‌وگو"

        student.sign_in(ADMIN_PASSWORD)
        sync_api.expect(pg.locator("#pr-signed-in")).to_contain_text("admin", timeout=30_000)
        every = ["گفت‌وگو", "منابع", "بازبینی", "داشبورد", "نمایه"]
        sync_api.expect(pg.get_by_role("tab")).to_have_text(every)
        assert student.outside_requests() == []
    finally:
        student.close()


def test_a_trainer_gets_through_the_queue_by_keyboard(browser, server, desk_settings):
    """Verdicts by key move to the next citation, then to the next unreviewed answer; labels are Persian;
    "lowest rated" counts verdicts; gap topics use the resolved follow-up, never a bare «چرا؟»."""
    trainer = Page(browser, server)
    service = get_service(desk_settings)
    try:
        conversation: list[str] = []
        for question in [TRUST_QUESTION, ANSWERED_QUESTION, GAP_QUESTIONS[1], "چرا؟"]:
            _asked(desk_settings, question, conversation)
            conversation.append(question)
        _asked(desk_settings, "چرا؟")  # first in its conversation: nothing to lean on
        store = Store.from_settings(desk_settings)
        newest = store.review_queue(ReviewQuery(verdict="unreviewed", answered=True, limit=1)).rows[0].logged
        pg = trainer.page
        trainer.sign_in(TRAINER_PASSWORD)
        view = pg.locator("#pr-review-answer")
        sync_api.expect(view).to_contain_text(newest.question[:12], timeout=30_000)  # opened by itself
        pg.locator("#pr-review-passage mark").wait_for(timeout=30_000)  # the cited passage, marked
        cited = [c["n"] for c in newest.answer["citations"]]

        pg.locator("body").click(position={"x": 5, "y": 5})  # focus off any text box
        pg.keyboard.press("3")  # does not support, for the citation in view
        status = pg.locator("#pr-verdict-status")
        sync_api.expect(status).to_contain_text("پشتیبانی نمی‌کند", timeout=30_000)
        assert {v.n: v.verdict for v in store.verdicts(newest.id)} == {cited[0]: "does_not_support"}
        trainer.shot("desk_review_keyboard.png")
        if len(cited) > 1:  # the next citation of the same answer is in view
            sync_api.expect(pg.locator("#pr-review-passage")).to_contain_text(f"[{cited[1]}]")
            pg.keyboard.press("5")  # all citations support it
            sync_api.expect(status).to_contain_text("all", timeout=30_000)
        judged = {v.n: v.verdict for v in store.verdicts(newest.id)}
        assert set(judged) == set(cited)
        assert judged[cited[0]] == "does_not_support"  # "all support" left the judged one as it was
        following = (
            store.review_queue(ReviewQuery(verdict="unreviewed", answered=True, limit=1)).rows[0].logged
        )
        sync_api.expect(view).to_contain_text(following.question[:12], timeout=30_000)  # moved on
        last = following.answer["citations"][-1]["n"]  # the trainer picks a citation, then keys its verdict
        pg.locator("#pr-review-citation").get_by_text(f"[{last}]").click()
        sync_api.expect(pg.locator("#pr-review-passage")).to_contain_text(f"[{last}]", timeout=30_000)
        pg.keyboard.press("4")  # wrong passage (the radio button keeps the focus: keys still work)
        sync_api.expect(status).to_contain_text("بند نادرست", timeout=30_000)
        assert {v.n: v.verdict for v in store.verdicts(following.id)} == {last: "wrong_passage"}
        pg.keyboard.press("0")  # the rest skipped: nothing else is left to review
        sync_api.expect(status).to_contain_text("Nothing left to review", timeout=30_000)
        sync_api.expect(pg.locator("#pr-judge-supports")).to_be_hidden()  # nothing to judge: no verdicts

        pg.locator("#pr-queue-box").get_by_text("the whole queue").click()
        pg.locator("#pr-review-order").get_by_text("lowest rated").click()
        worst = store.review_queue(ReviewQuery(order="lowest_rated", limit=1)).rows[0]
        assert worst.score < 0 and worst.verdict_score < 0 and worst.rating_sum == 0  # sunk by verdicts alone
        queue = pg.locator("#pr-review-queue")
        first = queue.locator("tbody tr").first
        sync_api.expect(first).to_contain_text(worst.logged.question[:12], timeout=30_000)
        assert "بند نادرست" in queue.inner_text() and "wrong_passage" not in queue.inner_text()
        summary = pg.locator("#pr-review-summary").inner_text()
        assert "پشتیبانی نمی‌کند" in summary and "_" not in summary  # no raw verdict key anywhere

        resolved = service.assistant().ask("چرا؟", history=[GAP_QUESTIONS[1]]).resolved_question
        assert resolved != "چرا؟" and {g.question for g in store.gaps()} >= {resolved, "چرا؟"}
        pg.get_by_text("unanswered by topic").click()
        pg.locator("#pr-gaps-btn").click()
        gaps = pg.locator("#pr-gaps")
        sync_api.expect(gaps).to_contain_text(GAP_QUESTIONS[1][:10], timeout=60_000)
        labels = [t.strip() for t in gaps.locator("tbody tr td:first-child").all_inner_texts()]
        assert labels and "چرا؟" not in labels
        trainer.shot("desk_review_queue_and_topics.png")
        assert trainer.outside_requests() == []
    finally:
        trainer.close()


def _download(pg, button: str) -> bytes:
    """Click an export button and fetch the file its link offers (as the browser would save it)."""
    links = pg.locator("#pr-export-file a")
    before = links.first.get_attribute("href") if links.count() else None
    pg.locator(button).click()
    sync_api.expect(links.first).not_to_have_attribute("href", before or "", timeout=30_000)
    return pg.request.get(links.first.get_attribute("href")).body()


def _count_today(store: Store) -> dict[str, int]:
    """Today's (UTC) figures, counted from the store's rows."""
    today = datetime.now(UTC).date()
    asked = [a for a in store.answers(10_000) if a.created_at.date() == today]
    downs = [r for r in store.ratings() if r.created_at.date() == today and r.rating < 0]
    return {
        "questions": len(asked),
        "answered": sum(not a.abstained for a in asked),
        "abstained": sum(a.abstained for a in asked),
        "down": len(downs),
    }


def test_dashboard_matches_the_store_and_exports_open_in_a_spreadsheet(browser, server, desk_settings):
    trainer = Page(browser, server)
    try:
        for question in (TRUST_QUESTION, GAP_QUESTIONS[0]):
            _asked(desk_settings, question)
        store = Store.from_settings(desk_settings)
        store.rate(-1, answer_id=store.answers(1)[0].id, vote_key="dashboard-test")  # a student's thumbs-down
        want = _count_today(store)
        pg = trainer.page
        trainer.sign_in(TRAINER_PASSWORD)
        pg.get_by_role("tab", name="داشبورد").click()
        pg.locator("#pr-dash-show").click()
        summary = pg.locator("#pr-dash-summary")
        for label in ("questions", "answered", "abstained", "down"):  # the words beside each figure
            sync_api.expect(summary).to_contain_text(re.compile(rf"{label}: {want[label]}\b"), timeout=30_000)
        for plot in ("questions", "outcomes", "topics", "cited"):
            pg.locator(f"#pr-dash-{plot} canvas, #pr-dash-{plot} svg").first.wait_for(timeout=30_000)
        trainer.shot("desk_dashboard.png")

        yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
        for box in ("#pr-dash-from", "#pr-dash-to"):
            pg.locator(f"{box} input").fill(yesterday)
        pg.locator("#pr-dash-show").click()
        sync_api.expect(summary).to_contain_text(f"{yesterday} تا {yesterday}", timeout=30_000)
        sync_api.expect(summary).to_contain_text(re.compile(r"questions: 0\b"))

        files = {kind: _download(pg, f"#pr-export-{kind}") for kind in ("verdicts", "unanswered", "ratings")}
        for kind, raw in files.items():
            assert raw.startswith(b"\xef\xbb\xbf"), kind  # UTF-8's BOM: Excel shows the Persian as written
        rows = {
            kind: list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))) for kind, raw in files.items()
        }
        assert {r["question"] for r in rows["unanswered"]} == {g.question for g in store.gaps()}
        assert [r["rating"] for r in rows["ratings"]] == [str(r.rating) for r in store.ratings()]
        assert len(rows["verdicts"]) == len(store.verdicts())
        assert trainer.outside_requests() == []
    finally:
        trainer.close()


TALK_SRT = """1
00:00:01,000 --> 00:00:06,000
در گفت‌وگوی امروز دربارهٔ رازداری حرفه‌ای در روابط عمومی سخن می‌گوییم.

2
00:00:06,500 --> 00:00:12,000
رازداری حرفه‌ای یعنی اطلاعات محرمانهٔ مشتری بدون اجازهٔ او فاش نشود.
"""


MANIFEST_ON_A_PHONE = """() => {
  const values = [...document.querySelectorAll('#pr-manifest td:last-child')];
  return {
    values: values.length,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    narrowest: Math.min(...values.map((td) => td.getBoundingClientRect().width)),
    broken: values.filter((td) => (td.querySelector('bdi') || td).getClientRects().length > 1)
      .map((td) => td.innerText),
  };
}"""


def test_material_is_added_with_its_details_and_indexed_in_one_step(browser, server, desk_settings, tmp_path):
    """The manifest reads on a phone; upload a transcript with its sidecar and an article with the form's
    details: saved, indexed at once with its progress; then remove one: out of the index, its old version
    kept for pinned citations."""
    admin = Page(browser, server)
    try:
        pg = admin.page
        admin.sign_in(ADMIN_PASSWORD)
        pg.get_by_role("tab", name="نمایه").click()
        pg.locator("#pr-manifest").get_by_text("multilingual-e5-small").wait_for(timeout=30_000)
        pg.set_viewport_size({"width": 390, "height": 844})  # the manifest on a phone
        phone = pg.evaluate(MANIFEST_ON_A_PHONE)
        assert phone["values"] == 6 and phone["overflow"] <= 0  # the page is no wider than the phone
        assert phone["broken"] == [] and phone["narrowest"] >= 250  # each value whole, on one wide line
        admin.shot("desk_index_390.png")
        pg.set_viewport_size({"width": 1280, "height": 1000})
        (tmp_path / "talk.srt").write_text(TALK_SRT, encoding="utf-8")
        (tmp_path / "talk.yaml").write_text("title: گفت‌وگو دربارهٔ رازداری\n", encoding="utf-8")
        (tmp_path / "article.md").write_text("# یادداشت\n\n" + NEW_ARTICLE, encoding="utf-8")
        pg.locator("#pr-upload input[type=file]").set_input_files(
            [str(tmp_path / n) for n in ("talk.srt", "talk.yaml", "article.md")]
        )
        pg.wait_for_timeout(500)
        pg.locator("#pr-meta-speaker textarea").fill("دکتر نمونه")
        pg.locator("#pr-meta-date input").fill("2024-05-18")
        pg.locator("#pr-meta-url textarea").fill("https://example.org/talk.mp4")
        pg.locator("#pr-save").click()
        status = pg.locator("#pr-upload-status")
        status.get_by_text("Index updated").wait_for(timeout=120_000)
        said = status.inner_text()
        assert re.search(r"reading: 3 of 3 files", said)  # the build's own progress, as it went
        embedded = int(re.search(r"chunks: (\d+) embedded", said).group(1))
        assert embedded == 0 or re.search(rf"embedding: {embedded} of {embedded} chunks", said)
        admin.shot("desk_upload_indexed.png")

        served = get_service(desk_settings).assistant()
        talk, article = served.document("talk.srt"), served.document("article.md")
        assert (talk.title, talk.speaker, talk.date) == ("گفت‌وگو دربارهٔ رازداری", "دکتر نمونه", "2024-05-18")
        assert talk.recording_url == "https://example.org/talk.mp4"
        assert (article.title, article.speaker) == ("یادداشت", "دکتر نمونه")
        quoted = served.ask("رازداری حرفه‌ای یعنی چه؟").citations[0]
        assert quoted.doc_id == "talk.srt"

        pg.locator("#pr-remove-pick input").click()
        pg.get_by_role("option", name="article.md", exact=False).first.click()
        pg.locator("#pr-remove").click()
        status.get_by_text("removed", exact=False).wait_for(timeout=30_000)
        status.get_by_text("Index updated").wait_for(timeout=120_000)
        assert not (desk_settings.corpus_dir / "article.md").exists()
        assert get_service(desk_settings).assistant().document("article.md") is None
        kept = VersionStore(desk_settings.index_dir / "versions").get(article.content_hash)
        assert kept is not None and kept.document.text == article.text  # for citations that quoted it
        admin.shot("desk_document_removed.png")
        assert admin.outside_requests() == []
    finally:
        admin.close()


NEW_ARTICLE = "مسئول روابط عمومی باید پیش از انتشار هر خبر، درستی آن را از دو منبع مستقل بررسی کند.\n"


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

        page.page.locator("#pr-chat .message-row").last.locator("a.pr-cite").first.click()
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
        answer = pg.locator("#pr-chat .message-row").last
        sync_api.expect(answer).to_contain_text("ارتباطات بحران", timeout=90_000)  # its sources list
        # the first [n] under that document, its time beside it (mm:ss–mm:ss)
        chip = answer.locator(
            "xpath=.//strong[contains(., 'ارتباطات بحران')]/following::a[@class='pr-cite'][1]"
        )
        chip.wait_for(state="visible", timeout=90_000)
        line = chip.evaluate("a => a.nextSibling.textContent")
        assert re.search(r"\d\d:\d\d–\d\d:\d\d", line), line
        chip.click()
        link = pg.locator("#pr-source .pr-location a")
        link.wait_for(timeout=30_000)
        href = link.get_attribute("href")
        assert href.startswith(CRISIS_RECORDING + "#t=") and int(href.rsplit("=", 1)[1]) >= 0
        assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", link.inner_text().strip())
        page.shot("transcript_citation.png")

        page.ask("در ساختار هرم وارونه مهم‌ترین اطلاعات خبر کجا می‌آید؟")
        answer = pg.locator("#pr-chat .message-row").last
        sync_api.expect(answer).to_contain_text("اسلاید", timeout=90_000)
        slide_chip = answer.locator(
            "xpath=.//a[@class='pr-cite'][contains(following-sibling::text()[1], 'اسلاید')]"
        )
        slide_chip.first.wait_for(state="visible", timeout=90_000)
        assert "اسلاید 3" in slide_chip.first.evaluate("a => a.nextSibling.textContent")
        slide_chip.first.click()
        sync_api.expect(pg.locator("#pr-source .pr-location")).to_contain_text("اسلاید 3", timeout=30_000)
        page.shot("slide_citation.png")
        assert page.outside_requests() == []
    finally:
        page.close()
