"""The Persian words and patterns the answerer reads questions and quotes with.

Question words, the answer type a question expects (who, when, how many,
where, why) and the evidence that a quote holds that type, month names and
number words: plain data, kept apart from the logic that uses it.
"""

from __future__ import annotations

import re

#: question and frame words whose absence from a source says nothing about the answer
QUESTION_WORDS = frozenset(
    [
        "چیست",
        "چی",
        "چیه",
        "کیست",
        "کی",
        "کجا",
        "کجاست",
        "چرا",
        "چگونه",
        "چطور",
        "چند",
        "چندم",
        "چقدر",
        "کدام",
        "کدامند",
        "کدامین",
        "آیا",
        "سالی",
        "زمانی",
        "میشود",
        "میشوند",
        "میکند",
        "میکنند",
        "است",
        "هست",
        "بود",
        "شد",
        "دارد",
        "دارند",
        "نام",
        "اسم",
        # spoken forms and light verbs: their absence from a source says nothing
        "کیه",
        "کدوم",
        "کدومه",
        "کدوما",
        "چجوری",
        "چطوری",
        "چیا",
        "چندتا",
        "چندبار",
        "چندمین",
        "کجان",
        "میشه",
        "میشن",
        "میکنه",
        "میکنن",
        "هستن",
        "هستند",
        "بوده",
        "باشد",
        "میباشد",
        "شده",
        "شدند",
        "کرد",
        "کرده",
        "کردند",
        "داشت",
        "داشته",
        "داره",
        "دارن",
    ]
)

#: expected answer type → question pattern (normalized text, ZWNJ folded to space)
ANSWER_TYPES: dict[str, re.Pattern[str]] = {
    "person": re.compile(r"چه کس|کیست|که بود|چه شخص|توسط چه|چه فرد"),
    "date": re.compile(r"چه (?:زمان|سال|تاریخ|روز|ماه|قرن|سده|دوره)|\bکی\b|چه وقت|از کی|تا کی"),
    "number": re.compile(r"\bچند|چقدر|چه تعداد|چه مقدار|چه میزان"),
    "place": re.compile(r"کجا|چه (?:شهر|کشور|استان|منطقه|مکان|جای)|کدام (?:شهر|کشور|استان|منطقه)"),
    "reason": re.compile(r"چرا|چه دلیل|چه علت|علت .* چیست|دلیل .* چیست"),
}
#: the Persian solar months, which the webinar write-ups date by
JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
MONTHS = [
    *JALALI_MONTHS,
    "ژانویه",
    "فوریه",
    "مارس",
    "آوریل",
    "مه",
    "ژوئن",
    "ژوئیه",
    "ژوئیه",
    "اوت",
    "سپتامبر",
    "اکتبر",
    "نوامبر",
    "دسامبر",
    "محرم",
    "صفر",
    "ربیع",
    "جمادی",
    "رجب",
    "شعبان",
    "رمضان",
    "شوال",
    "ذیقعده",
    "ذیحجه",
]
NUMBER_WORDS = [
    "یک",
    "دو",
    "سه",
    "چهار",
    "پنج",
    "شش",
    "هفت",
    "هشت",
    "نه",
    "ده",
    "صد",
    "هزار",
    "میلیون",
    "میلیارد",
    "نیم",
    "اول",
    "دوم",
    "سوم",
]
#: evidence a unit holds each answer type
UNIT_TYPES: dict[str, re.Pattern[str]] = {
    "person": re.compile(
        r"دکتر|آقای|خانم|مهندس|استاد|توسط|پادشاه|شاه\b|امام|نویسنده|بنیانگذار|بنیان گذار|رئیس|مدیر"
    ),
    "date": re.compile(r"\d{3,4}|\b(?:" + "|".join(MONTHS) + r")\b|سال|قرن|سده|میلادی|شمسی|هجری|شنبه|دهه"),
    "number": re.compile(r"\d|\b(?:" + "|".join(NUMBER_WORDS) + r")\b|درصد"),
    "place": re.compile(r"شهر|کشور|استان|منطقه|قاره|روستا|جزیره|کوه|رود|دریا|خیابان|پایتخت|واقع|\bدر\s+\S+"),
    "reason": re.compile(
        r"زیرا|چون|چرا که|به دلیل|به علت|باعث|سبب|بنابراین|به خاطر|در نتیجه|برای اینکه|تا\s"
    ),
}
NEGATION = re.compile(r"(?:^|\s)(?:نمی|نمی |ن(?:دار|یست|بود|کرد|شد|کن|ده|ست))")
