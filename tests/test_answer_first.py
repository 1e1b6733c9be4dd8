"""The answer first, the phrase that answers marked, nothing else riding along (issue 15).

Real model and an index over corpus/ (the session ``assistant``); question kinds,
span patterns and the spoken-form reader are pure logic and tested on their own;
one chat in headless Chromium shows the marked span (screenshot in artifacts/).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.answering.conversation import Context, resolve
from assistant.answering.question import read_question
from assistant.answering.span import find_span
from assistant.answering.spoken import SpokenReader
from assistant.cli import main
from assistant.core.records import Answer, AnswerSentence
from assistant.text.normalize import normalize
from assistant.web.render import answer_markdown

DATA = Path(__file__).resolve().parent / "data"
FACTORS = "چه عواملی باعث از دست رفتن اعتماد به سازمان می‌شود؟"


def _verbatim(assistant, answer) -> None:
    for c in answer.citations + answer.related:
        assert assistant.index.documents[c.doc_id].text[c.start : c.end] == c.text


def _first(answer) -> tuple[int, int] | None:
    return None if answer.abstained else (answer.citations[0].start, answer.citations[0].end)


def _span_text(answer) -> str:
    start, end = answer.answer_span
    return answer.sentences[0].text[start:end]


# --------------------------------------------------------------------------- real model


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("نقض امنیت داده‌ها چه بلایی سر اعتماد می‌آورد؟", "نقض حریم شخصی یا امنیت دادهها"),
        ("ضعف در مدیریت بحران چه پیامی به مخاطب می‌دهد؟", "مدیریت ضعیف بحران"),
        ("صداقت در روابط عمومی یعنی چی؟", "صداقت: به معنای راستگویی"),
        ("به مناسبت هفته روابط عمومی چند کارگاه آموزشی برگزار شد؟", "خاطرنشان می شود"),
    ],
)
def test_a_single_fact_leads_with_the_unit_that_answers_it(assistant, question, first):
    answer = assistant.ask(question)
    assert not answer.abstained
    _verbatim(assistant, answer)
    assert answer.citations[0].text.startswith(first)
    assert len(answer.sentences) <= 2  # one unit, a second only when the two best are too close to tell


def test_a_definition_is_one_unit_with_its_definition_marked(assistant):
    answer = assistant.ask("صداقت در روابط عمومی یعنی چی؟")
    assert len(answer.sentences) == 1
    assert _span_text(answer) == "راستگویی و پرهیز از دروغ و فریب"


def test_a_list_question_keeps_its_list_whole(assistant):
    answer = assistant.ask(FACTORS)
    _verbatim(assistant, answer)
    assert "عبارتند از" in answer.citations[0].text
    items = [c.text for c in answer.citations[1:]]
    assert (
        len(items) == 8 and items[0] == "فقدان شفافیت و انصاف" and items[-1] == "رسواییها و انتشار اخبار منفی"
    )


def test_an_ordinal_picks_its_line_and_the_date_is_marked(assistant):
    answer = assistant.ask("کارگاه دوم در چه روزی بود؟")
    assert not answer.abstained
    _verbatim(assistant, answer)
    assert "یکشنبه 30 اردیبهشت 1403" in answer.citations[0].text
    assert _span_text(answer) == "یکشنبه 30 اردیبهشت 1403"
    # the keycap digit «2️» of the source is not shown, and the citation is still exact
    assert "\ufe0f" not in answer.text and not answer.citations[0].text.startswith("2")
    assert assistant.ask("کارگاه سوم در چه روزی برگزار شد؟").abstained


def test_a_bio_line_does_not_answer_what_someone_said(assistant):
    answer = assistant.ask("دکتر امامی درباره شبکه‌های اجتماعی چه گفت؟")
    assert answer.abstained and answer.citations == []
    expertise = assistant.ask("دكتر امامي در چه زمينه‌هايي تخصص دارد؟")  # but it answers what he is
    assert not expertise.abstained and "تحلیلگر شبکه های اجتماعی" in expertise.citations[0].text


def test_spans_are_offsets_into_the_leading_sentence_everywhere(assistant, settings):
    questions = {
        "چه کسی درباره سنجش و بازیابی اعتماد صحبت کرد؟": "دکتر علی گرانمایه پور",
        "وبینار دکتر امامی در چه تاریخی برگزار شد؟": "29 اردیبهشت 1403",
        "به مناسبت هفته روابط عمومی چند کارگاه آموزشی برگزار شد؟": "دو کارگاه",
    }
    for question, phrase in questions.items():
        answer = assistant.ask(question)
        assert phrase in _span_text(answer)
        data = answer.to_dict()["answer_span"]
        assert data["text"] == _span_text(answer) and data["sentence"] == 0
        assert Answer.from_dict(answer.to_dict()).answer_span == answer.answer_span
        assert " ".join(data["text"].split()) in " ".join(answer.citations[0].text.split())
    result = CliRunner().invoke(
        main, ["ask", "کارگاه دوم در چه روزی بود؟", "--json", "--index", str(settings.index_dir)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answer_span"]["text"] == "یکشنبه 30 اردیبهشت 1403"


def test_related_passages_only_when_something_is_close(assistant):
    off_topic = assistant.ask("قیمت بیت کوین امروز چقدر است؟")
    assert off_topic.abstained and off_topic.related == []
    near = assistant.ask("برای مدیریت بحران در شبکه های اجتماعی از چه ابزارهایی استفاده کنیم؟")
    assert near.abstained and near.related


def test_spoken_and_misspelled_questions_get_the_same_answers(assistant):
    """tests/data/variants.jsonl: at least 90% answered as their originals (the same first quote)."""
    originals = {
        json.loads(line)["id"]: json.loads(line) for line in (DATA / "qa.jsonl").open(encoding="utf-8")
    }
    variants = [json.loads(line) for line in (DATA / "variants.jsonl").open(encoding="utf-8")]
    assert len(variants) >= 30
    same = []
    for v in variants:
        a, b = assistant.ask(originals[v["of"]]["question"]), assistant.ask(v["question"])
        same.append(_first(a) == _first(b) and not b.abstained)
    assert sum(same) / len(same) >= 0.9, [
        v["question"] for v, ok in zip(variants, same, strict=True) if not ok
    ]
    typo = assistant.ask("صداقط در روابط عمومی یعنی چی؟")
    assert "صداقت" in typo.understood_as and typo.citations[0].text.startswith("صداقت:")
    spoken = assistant.ask("چه عواملی باعث میشه اعتماد مردم به یه سازمان از بین بره")
    assert len(spoken.citations) == 9  # the lead-in and its eight factors, as written


@pytest.mark.model  # the CLI loads the real model in its own process
def test_follow_ups_that_point_through_ask_file(settings, tmp_path):
    """Each JSON line carries its own history (the earlier questions, re-run when needed)."""
    workshop, speaker = "کارگاه دوم در چه روزی بود؟", "سخنران وبینار مهارتهای اعتمادسازی که بود؟"
    lines = [
        {"question": FACTORS},
        {"question": "درباره مورد آخر بیشتر توضیح بده", "history": [FACTORS]},
        {"question": workshop},
        {"question": "آن کارگاه را چه کسی ارائه کرد؟", "history": [workshop]},
        {"question": speaker},
        {"question": "ایشان درباره شبکه‌های اجتماعی چه گفت؟", "history": [speaker]},
        {"question": "بیشتر توضیح بده", "history": [FACTORS]},
    ]
    path = tmp_path / "conversation.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["ask", "--file", str(path), "--json", "--index", str(settings.index_dir)]
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert "رسواییها" in out[1]["resolved_question"] and "آسیب جدی به اعتماد" in out[1]["answer"]
    assert "کارگاه دوم" in out[3]["resolved_question"] and "گرانمایه پور" in out[3]["answer"]
    assert "امامی" in out[5]["resolved_question"] and out[5]["abstained"]
    assert "تصمیمگیریها و گزارشدهی" in out[6]["answer"]  # the factors' whole lines


def test_own_conversations_follow_ups_are_right(assistant):
    """tests/data/conversations.jsonl: >= 40 conversations; >= 95% of follow-up turns right."""
    from assistant.core.records import Turn
    from assistant.evaluate import contains

    conversations = [json.loads(line) for line in (DATA / "conversations.jsonl").open(encoding="utf-8")]
    assert len(conversations) >= 40
    results = []
    for conv in conversations:
        history: list[Turn] = []
        for n, turn in enumerate(conv["turns"]):
            answer = assistant.ask(turn["question"], history=history)
            history.append(Turn(turn["question"], answer))
            if n:
                ok = contains(answer.text, tuple(turn["answers"])) if turn["answers"] else answer.abstained
                results.append((conv["id"], ok))
    assert any(not t["answers"] for c in conversations for t in c["turns"][1:])
    assert sum(ok for _, ok in results) / len(results) >= 0.95, [i for i, ok in results if not ok]


def test_asked_for_more_the_answer_goes_on_from_where_it_quoted(assistant):
    """«بیشتر توضیح بده» continues the previous quote's lines, not a new search."""
    from assistant.answering.expand import NOTHING_MORE
    from assistant.core.records import Turn

    def more(first: str, then: str = "بیشتر توضیح بده"):
        previous = assistant.ask(first)
        return previous, assistant.ask(then, history=[Turn(first, previous)])

    listed, whole = more(FACTORS)  # a list shown by its terms goes on with each item's whole line
    assert len(whole.citations) == len(listed.citations) == 9
    for short, long in zip(listed.citations[1:], whole.citations[1:], strict=True):
        assert long.start <= short.start and long.end > short.end
    _verbatim(assistant, whole)
    pillars, on = more("ارکان اعتماد کدام‌اند؟", "یه مثال بزن")  # the paragraph, then what it leads into
    assert on.citations[0].start >= pillars.citations[0].end and "آشکارسازی اطلاعات" in on.text
    _verbatim(assistant, on)
    _, nothing = more("شفافیت یعنی چه؟")  # the whole definition line was the answer
    assert nothing.abstained and nothing.text == NOTHING_MORE and nothing.related
    assert nothing.related[0].text.startswith("شفافیت:")


def test_a_life_event_is_not_answered_by_a_line_without_it(assistant):
    """The talk's date is not the speaker's birth year; his role is not where he studied."""
    for question in ("دکتر حسین امامی متولد چه سالی است؟", "دکتر حسین امامی در کدام دانشگاه درس‌خوانده است؟"):
        assert assistant.ask(question).abstained, question
    assert not assistant.ask("وبینار در چه تاریخی برگزار شد؟").abstained


# --------------------------------------------------------------------------- pure logic


def test_question_kinds():
    kind = read_question(normalize("کارگاه دوم در چه روزی بود؟"))
    assert (kind.expected, kind.ordinal, kind.plural) == ("date", 2, False)
    assert read_question(normalize(FACTORS)).plural
    assert read_question(normalize("ارکان اعتماد کدام‌اند؟")).plural
    assert not read_question(normalize("همدلی به عنوان یکی از عناصر اعتماد یعنی چه؟")).plural
    assert read_question(normalize("مورد آخر چیست؟")).ordinal == -1
    assert read_question(normalize("شفافیت یعنی چه؟")).expected == "definition"
    assert read_question(normalize("دکتر امامی درباره شبکه‌ها چه گفت؟")).content


@pytest.mark.parametrize(
    ("kind", "sentence", "span"),
    [
        ("date", "توسط دکتر علی گرانمایه پور یکشنبه 30 اردیبهشت 1403", "یکشنبه 30 اردیبهشت 1403"),
        ("date", "در سال ۱۳۵۷ انقلاب شد.", "سال ۱۳۵۷"),
        ("date", "مهارت های اعتمادسازی", None),  # «مه» inside a word is no month
        ("number", "به مناسبت هفته روابط عمومی دو کارگاه آموزشی برگزار شد", "دو کارگاه"),
        ("number", "یکشنبه 30 اردیبهشت 1403", None),  # a date's day is no count
        ("person", "توسط دکتر علی گرانمایه پور\nیکشنبه", "دکتر علی گرانمایه پور"),
        (
            "definition",
            "شفافیت: به معنای آشکارسازی اطلاعات و عدم پنهانکاری است. زمانی که",
            "آشکارسازی اطلاعات و عدم پنهانکاری",
        ),
        ("reason", "او استعفا داد زیرا بیمار بود.", "بیمار بود"),
    ],
)
def test_spans_by_expected_type(kind, sentence, span):
    found = find_span(kind, sentence)
    assert (sentence[found[0] : found[1]] if found else None) == span


def test_spoken_forms_and_typos_are_read_as_corpus_words():
    reader = SpokenReader(["صداقت", "سازمان‌ها", "سازمان", "اعتماد", "شهروندان", "روابط"])
    assert reader.read("صداقط یعنی چی؟") == "صداقت یعنی چه؟"
    assert reader.read("سازمانا رو چیکار کنن") == "سازمان‌ها را چه کاری کنند"
    assert reader.read("شهروندا میشه") == "شهروندان می‌شود"
    assert reader.read("کی بود؟") == "چه کسی بود؟"
    assert reader.read("کتاب و سازمانی") == "کتاب و سازمانی"  # common words and suffixes stay


def test_the_read_back_line_keeps_the_students_own_words():
    from assistant.answering.rewrite import read_back

    typed = "صداقط در روابط عمومی یعنی چی؟"
    plain = normalize(typed)  # the normalizer joins «روابط‌عمومی» for retrieval
    written = plain.replace("صداقط", "صداقت").replace("چی؟", "چه؟")
    assert read_back(typed, plain, written) == "صداقت در روابط عمومی یعنی چه؟"
    assert read_back("کی بود", "کی بود", "چه کسی بود") == "چه کسی بود"  # no word-for-word line


def test_life_events_need_the_event_in_the_answer():
    from assistant.answering.rank import life_event_unsaid

    assert life_event_unsaid("او متولد چه سالی است؟", "شنبه 29 اردیبهشت 1403")
    assert not life_event_unsaid("او متولد چه سالی است؟", "او در سال ۱۲۹۸ به دنیا آمد")
    assert not life_event_unsaid("شاه چه سالی فوت کرد؟", "محمدرضا (۴ آبان ۱۲۹۸ – ۵ مرداد ۱۳۵۹)")
    assert not life_event_unsaid("درگذشته از چه استفاده می‌کردند؟", "از زغال چوب")  # «in the past»


def test_pointing_follow_ups_resolve_against_the_previous_answer():
    listed = Answer("q", "برخی عبارتند از: [1]\n- اولی [2]\n- دومی [3]\n- رسوایی‌ها [4]", False)
    assert resolve("درباره مورد آخر بیشتر توضیح بده", Context(FACTORS, listed)).count("رسوایی") == 1
    workshop = Context("کارگاه دوم در چه روزی بود؟", Answer("q", "یکشنبه [1]", False))
    assert resolve("آن کارگاه را چه کسی ارائه کرد؟", workshop) == "کارگاه دوم را چه کسی ارائه کرد؟"
    speaker = Context("سخنران که بود؟", Answer("q", "دکتر حسین امامی مدرس و پژوهشگر [1]", False))
    assert resolve("ایشان چه تخصصی دارد؟", speaker) == "دکتر حسین امامی چه تخصصی دارد؟"


def test_the_chat_marks_the_span():
    answer = Answer(
        "q",
        "توسط دکتر علی یکشنبه 30 اردیبهشت [1]",
        False,
        [AnswerSentence("توسط دکتر علی یکشنبه 30 اردیبهشت", (1,))],
    )
    at = answer.text.find("یکشنبه")
    answer.answer_span = (at, at + len("یکشنبه 30 اردیبهشت"))
    assert "<mark>یکشنبه 30 اردیبهشت</mark>" in answer_markdown(answer)
    defined = Answer(
        "q", "صداقت: به معنای راستی است. [1]", False, [AnswerSentence("صداقت: به معنای راستی است.", (1,))]
    )
    defined.answer_span = (16, 21)
    assert "<mark>راستی</mark> است" in answer_markdown(defined)  # the space after the mark stays
    hostile = Answer("q", "<b>x</b> y [1]", False, [AnswerSentence("<b>x</b> y", (1,))], answer_span=(0, 8))
    assert "<mark>&lt;b&gt;x&lt;/b&gt;</mark>" in answer_markdown(hostile)


# --------------------------------------------------------------------------- browser


def test_chat_shows_the_marked_span_and_how_a_typo_was_read(browser, serve_ui, settings):
    from browser_kit import Page, sync_api

    page = Page(browser, serve_ui(settings))
    try:
        page.ask("کارگاه دوم در چه روزی بود؟")
        mark = page.page.locator("#pr-chat .message-row mark").first
        sync_api.expect(mark).to_have_text("یکشنبه 30 اردیبهشت 1403", timeout=90_000)
        page.ask("صداقط در روابط عمومی یعنی چی؟")
        answer = page.page.locator("#pr-chat .message-row").nth(3)
        sync_api.expect(answer).to_contain_text("پرسش شما به این شکل خوانده شد", timeout=90_000)
        sync_api.expect(answer).to_contain_text("صداقت در روابط عمومی یعنی چه")  # typed apart, shown apart
        sync_api.expect(answer.locator("mark")).to_have_text("راستگویی و پرهیز از دروغ و فریب")
        assert page.shot("answer_span.png").exists()
        assert page.outside_requests() == []
    finally:
        page.close()
