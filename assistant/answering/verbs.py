"""Conjugated verb form → the past and present stems of every verb it may come from.

shekar's Lemmatizer keeps one reading per form, picked by the order of a set (its verb
list): «بود» was بودن in one process and بوییدن in the next, and the answerability
features changed with PYTHONHASHSEED.  Keeping every reading is the same in any process.

Conjugating shekar's ~700 verbs takes most of a second, on the way to a server's first
answer; the table (147k forms) is kept precomputed in ``data/verb_stems.json.gz`` for the
shekar version that made it, and conjugated afresh under any other version.
``python -m assistant.answering.verbs`` writes it again; a test checks that it is current.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "data" / "verb_stems.json.gz"


def shekar_version() -> str:
    return metadata.version("shekar")


@lru_cache(maxsize=1)
def verb_stems() -> dict[str, frozenset[str]]:
    """The table for the installed shekar: read from the file when it was made by this version."""
    try:
        with gzip.open(TABLE, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        data = {}
    if data.get("shekar") != shekar_version():
        return conjugated()
    table: dict[str, frozenset[str]] = {}
    for stems, forms in data["stems"]:
        readings = frozenset(stems)
        for form in forms:
            table[form] = readings
    return table


def conjugated() -> dict[str, frozenset[str]]:
    """Every formal and informal form shekar's Conjugator makes of every verb in its list."""
    from shekar import data as shekar_data
    from shekar.morphology.conjugator import Conjugator

    conjugator = Conjugator()
    table: dict[str, set[str]] = {}
    for past, present, informal_past, informal_present in shekar_data.verbs:
        base_past, prefix = conjugator.get_verb_prefix(past)
        formal, informal = conjugator.conjugate(
            base_past,
            conjugator.get_verb_prefix(present)[0],
            conjugator.get_verb_prefix(informal_past)[0],
            conjugator.get_verb_prefix(informal_present)[0],
            prefix=prefix,
        )
        for form in {*formal, *informal}:
            table.setdefault(form, set()).update((past, present))
    return {form: frozenset(stems) for form, stems in table.items()}


def compact(table: dict[str, frozenset[str]]) -> dict:
    """The file's contents: forms grouped by their stems, everything sorted (the same bytes each time)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for form, stems in table.items():
        groups.setdefault(tuple(sorted(stems)), []).append(form)
    return {"shekar": shekar_version(), "stems": [[list(k), sorted(v)] for k, v in sorted(groups.items())]}


def write(path: Path = TABLE) -> None:
    text = json.dumps(compact(conjugated()), ensure_ascii=False, separators=(",", ":"))
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write(text.encode("utf-8"))


if __name__ == "__main__":
    write()
