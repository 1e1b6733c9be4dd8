"""Bytes → text for .md/.txt/.srt/.vtt/.html: the encoding is decided here, once.

Order: a byte-order mark; strict UTF-8; the charset an HTML page declares;
UTF-8 with a few stray bytes (shown as U+FFFD, not re-read as another script);
then charset-normalizer, limited to the encodings a Persian/English corpus
actually meets.  Left to itself the detector reads Persian cp1256 with ZWNJs
as Cyrillic cp1251, and BeautifulSoup reads UTF-8 with one stray byte as
Windows-1252 mojibake; both would be indexed as garbage.  What none of these
explains is rejected with a reason.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from ..core.errors import LoadError

#: Candidates for detection: Unicode, the Arabic-script code pages Persian files were saved in, Latin.
PLAUSIBLE = ("utf_16", "utf_32", "cp1256", "iso8859_6", "cp720", "cp864", "mac_arabic", "cp1252", "latin_1")
#: A Persian cp1256 file scores ~0.22 "chaos" because of its ZWNJs (byte 0x9D); the default cut is 0.2.
MAX_CHAOS = 0.3
#: Fewer bytes than this are too little evidence to guess an encoding from.
MIN_DETECT_BYTES = 64
#: "UTF-8 with stray bytes": at most this share of bad bytes, and 20 good non-ASCII characters per bad byte.
STRAY_SHARE = 0.001
STRAY_SUPPORT = 20

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf_32"),
    (codecs.BOM_UTF32_BE, "utf_32"),
    (codecs.BOM_UTF8, "utf_8_sig"),
    (codecs.BOM_UTF16_LE, "utf_16"),
    (codecs.BOM_UTF16_BE, "utf_16"),
)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    replaced: int = 0  # stray bytes shown as U+FFFD


def _bom(raw: bytes) -> str | None:
    for mark, encoding in _BOMS:
        if raw.startswith(mark):
            return encoding
    return None


def _declared_html(raw: bytes) -> str | None:
    from bs4.dammit import EncodingDetector

    name = EncodingDetector.find_declared_encoding(raw[:4096], is_html=True, search_entire_document=False)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _utf8_with_strays(raw: bytes) -> Decoded | None:
    """Mostly valid UTF-8 with a few bad bytes: a damaged UTF-8 file, not another encoding."""
    text = raw.decode("utf-8", errors="surrogateescape")
    bad = sum(1 for ch in text if "\udc80" <= ch <= "\udcff")
    good = sum(1 for ch in text if ord(ch) > 127 and not "\udc80" <= ch <= "\udcff")
    if bad and bad <= max(1, STRAY_SHARE * len(raw)) and good >= STRAY_SUPPORT * bad:
        return Decoded(raw.decode("utf-8", errors="replace"), "utf_8", bad)
    return None


def _detected(raw: bytes) -> Decoded | None:
    from charset_normalizer import from_bytes

    if len(raw) < MIN_DETECT_BYTES:
        return None
    best = from_bytes(raw, cp_isolation=list(PLAUSIBLE), threshold=MAX_CHAOS).best()
    if best is None:
        return None
    return Decoded(str(best), codecs.lookup(best.encoding).name)


def decode(raw: bytes, *, html: bool = False) -> Decoded:
    """The file's text, or ``LoadError`` saying why no encoding fits."""
    bom = _bom(raw)
    if bom is not None:
        try:
            return Decoded(raw.decode(bom).lstrip("\ufeff"), bom)
        except UnicodeDecodeError:
            raise LoadError.of(
                "فایل نشانهٔ یونیکد دارد ولی متنش با آن خوانده نشد",
                f"the file starts with a {bom} byte-order mark but is not valid {bom}; save it as UTF-8",
            ) from None
    try:
        return Decoded(raw.decode("utf-8"), "utf_8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    declared = _declared_html(raw) if html else None
    if declared and declared != "utf-8":
        try:
            return Decoded(raw.decode(declared), declared)
        except (UnicodeDecodeError, LookupError):
            pass
    found = _utf8_with_strays(raw) or _detected(raw)
    if found is None:
        raise LoadError.of(
            "کدگذاری متن فایل شناخته نشد؛ فایل را با UTF-8 ذخیره کنید",
            f"not valid UTF-8 (byte {first_bad}) and no other encoding fits; save the file as UTF-8",
        )
    return found
