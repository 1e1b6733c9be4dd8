"""How much a file may cost to parse, and the zip check that runs before any parser.

A 4.6 MB .docx that expands to 200 MB of XML once took 252 s and 3 GB inside
the server, and one of 90 MB (×43) still 39.5 s and +690 MB.  .docx and
.pptx are zip files, so their members are measured from the central
directory before anything reads them (at most 64 MB unpacked, no part over
1 MB compressed more than 30×); then their XML tags are counted in the raw
bytes and the text streamed with paragraphs and characters counted
(``ooxml``), so any of them is refused or read in seconds.
Those headers are the sizes that ``zipfile`` will ever produce: it stops at
the declared size and fails the CRC if the data is longer, so a lying header
gives a "corrupt" error, not a bigger expansion.  Memory and time are capped
by running the parse in a child process (``assistant.isolate``).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import asdict, dataclass

from ..core.errors import LoadError

MB = 1024 * 1024


@dataclass(frozen=True)
class ParseLimits:
    """Caps on one file's parse; the defaults fit any real lecture, deck or transcript."""

    max_unpacked_mb: float = 64.0  # all zip members together, uncompressed
    max_ratio: float = 30.0  # uncompressed / compressed, for members over ``ratio_floor_mb``
    ratio_floor_mb: float = 1.0
    max_members: int = 5000
    max_tags: int = 1_500_000  # XML tags of a .docx body, counted in its bytes before it is streamed
    max_blocks: int = 300_000  # paragraphs and table rows of a .docx, counted as they are streamed
    max_tree_tags: int = (
        300_000  # XML tags of a whole .pptx (any real deck has far fewer), before python-pptx
    )
    max_pdf_pages: int = 2000
    max_chars: int = 5_000_000  # extracted text, counted while it is extracted
    memory_mb: int = 1024  # address space of the isolated parser
    seconds: float = 60.0  # wall time of the isolated parser

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _mb(n: float) -> str:
    return f"{n / MB:,.0f}"


def check_zip(raw: bytes, kind: str, limits: ParseLimits) -> None:
    """Reject a zip-based file (``kind``: "DOCX"/"PPTX") that would expand beyond the limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise LoadError.of(f"{kind} خراب است یا خوانده نشد", f"corrupt or unreadable {kind}: {exc}") from exc
    if len(members) > limits.max_members:
        raise LoadError.of(
            f"رد شد: {kind} بیش از {limits.max_members} جزء دارد",
            f"rejected: {kind} has {len(members)} parts (limit {limits.max_members})",
        )
    total = sum(m.file_size for m in members)
    if total > limits.max_unpacked_mb * MB:
        raise LoadError.of(
            f"رد شد: {kind} پس از باز شدن {_mb(total)} مگابایت می‌شود (حد {limits.max_unpacked_mb:g})",
            f"rejected: {kind} expands to {_mb(total)} MB (limit {limits.max_unpacked_mb:g} MB)",
        )
    for m in members:
        if m.file_size > limits.ratio_floor_mb * MB and m.file_size > limits.max_ratio * max(
            m.compress_size, 1
        ):
            raise LoadError.of(
                f"رد شد: جزء «{m.filename}» از {kind} {_mb(m.file_size)} مگابایت می‌شود؛ فشرده‌سازی مشکوک",
                f"rejected: {kind} part {m.filename} expands to {_mb(m.file_size)} MB "
                f"({m.file_size // max(m.compress_size, 1)}x compression, limit {limits.max_ratio:g}x)",
            )
