"""Office files (.docx, .pptx) read as a stream: tags, blocks and characters counted as they come.

python-docx builds the tree of every part and a Python object per paragraph:
~10 µs and hundreds of bytes an element, so a 4.6 MB .docx of 90 MB XML took
39.5 s and +690 MB before the character cap at the end refused it, and 5 MB
of empty paragraphs took 28 s.  Here the XML's tags are first counted in the
raw bytes (C speed: a part with more than ``max_tags`` is refused before it
is parsed), then ``word/document.xml`` is streamed with lxml: each top-level
paragraph and table row becomes text and is freed at once, and blocks and
characters are counted as they come, so a hostile file stops at the first
cap it reaches, with flat memory.  The text is python-docx's: runs and
hyperlinks in order, tabs, breaks and no-break hyphens as python-docx spells
them, a table row as its non-empty cells joined by `` | `` (a vertically
merged cell once, where python-docx repeated it in every row it spans).

.pptx keeps python-pptx (slides, groups, notes), but its XML parts' tags are
counted first, so python-pptx only ever builds a bounded number of elements.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import IO, Any

from lxml import etree

from ..core.errors import LoadError
from .parse_limits import MB, ParseLimits

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
W_BODY, W_P, W_R, W_T, W_TBL, W_TR, W_TC = (f"{_W}{t}" for t in ("body", "p", "r", "t", "tbl", "tr", "tc"))
W_HYPERLINK, W_BR, W_CR, W_TAB, W_PTAB = (f"{_W}{t}" for t in ("hyperlink", "br", "cr", "tab", "ptab"))
W_NO_BREAK_HYPHEN, W_TYPE = f"{_W}noBreakHyphen", f"{_W}type"
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_SMALL_PART = 1 * MB  # relationship and property parts read whole; bigger ones are ignored
_CHUNK = 256 * 1024


def count_tags(archive: zipfile.ZipFile, names: list[str], kind: str, limit: int) -> int:
    """Tags (``<``) in these parts, counted in their bytes; a ``LoadError`` as soon as they pass ``limit``.

    Every XML element costs at least one ``<``, so this bounds what any parser
    will build, for a few milliseconds a megabyte.
    """
    tags = 0
    for name in names:
        with archive.open(name) as stream:
            while chunk := stream.read(_CHUNK):
                tags += chunk.count(b"<")
                if tags > limit:
                    raise LoadError.of(
                        f"رد شد: {kind} بیش از {limit:,} برچسب XML دارد",
                        f"rejected: {kind} has more than {limit:,} XML tags",
                    )
    return tags


class Meter:
    """Counts the blocks and characters a stream has produced; a ``LoadError`` at the first cap passed."""

    def __init__(self, kind: str, limits: ParseLimits):
        self.kind = kind
        self.limits = limits
        self.blocks = 0
        self.chars = 0

    def block(self) -> None:
        self.blocks += 1
        if self.blocks > self.limits.max_blocks:
            raise LoadError.of(
                f"رد شد: {self.kind} بیش از {self.limits.max_blocks:,} بند یا ردیف دارد",
                f"rejected: {self.kind} has more than {self.limits.max_blocks:,} paragraphs and table rows",
            )

    def text(self, n: int) -> None:
        self.chars += n
        if self.chars > self.limits.max_chars:
            raise LoadError.of(
                f"رد شد: متن فایل بیش از {self.limits.max_chars:,} نویسه است",
                f"rejected: more than {self.limits.max_chars:,} characters of text",
            )


def _free(element: Any) -> None:
    """Drop ``element``'s content and its older siblings (done with): the stream keeps flat memory."""
    element.clear(keep_tail=True)
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def _ends(stream: IO[bytes], tags: tuple[str, ...]) -> Iterator[Any]:
    """Elements with these tags as they end, fed a chunk at a time; no entities, no DTD, nothing fetched.

    After each chunk the body's finished children are dropped, so elements no
    reader asks for (anything that is not one of ``tags``) cannot pile up.
    """
    parser = etree.XMLPullParser(
        events=("start", "end"), tag=(W_BODY, *tags), resolve_entities=False, no_network=True, load_dtd=False
    )
    body = None
    while True:
        chunk = stream.read(_CHUNK)
        if chunk:
            parser.feed(chunk)
        else:
            parser.close()
        for event, element in parser.read_events():
            if event == "end" and element.tag != W_BODY:
                yield element
            elif event == "start" and element.tag == W_BODY:
                body = element
        if body is not None:
            del body[:-1]  # finished children; the last one may still be open
        if not chunk:
            return


def _small_xml(archive: zipfile.ZipFile, name: str) -> Any | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _SMALL_PART:
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(archive.read(name), parser)


def core_title(archive: zipfile.ZipFile) -> str:
    """``dc:title`` of ``docProps/core.xml``, as the file's own title ("" when absent)."""
    root = _small_xml(archive, "docProps/core.xml")
    found = root.find(_DC_TITLE) if root is not None else None
    return (found.text or "").strip() if found is not None else ""


def _main_part(archive: zipfile.ZipFile) -> str:
    """The document part named by the package's relationships (``word/document.xml`` as a rule)."""
    root = _small_xml(archive, "_rels/.rels")
    for rel in root.iter(f"{_RELS_NS}Relationship") if root is not None else ():
        if str(rel.get("Type", "")).endswith("/officeDocument"):
            return str(rel.get("Target", "")).lstrip("/")
    return "word/document.xml"


# --------------------------------------------------------------------------- DOCX


def _run_text(run: Any) -> str:
    parts = []
    for child in run:
        tag = child.tag
        if tag == W_T:
            parts.append(child.text or "")
        elif tag in (W_TAB, W_PTAB):
            parts.append("\t")
        elif tag == W_BR:
            parts.append("\n" if child.get(W_TYPE) in (None, "textWrapping") else "")
        elif tag == W_CR:
            parts.append("\n")
        elif tag == W_NO_BREAK_HYPHEN:
            parts.append("-")
    return "".join(parts)


def paragraph_text(paragraph: Any) -> str:
    """python-docx's ``Paragraph.text``: its runs and its hyperlinks' runs, in order."""
    parts = []
    for child in paragraph:
        if child.tag == W_R:
            parts.append(_run_text(child))
        elif child.tag == W_HYPERLINK:
            parts.extend(_run_text(run) for run in child if run.tag == W_R)
    return "".join(parts)


def row_text(row: Any) -> str:
    """One table row: each cell's paragraphs (stripped), the non-empty cells joined by `` | ``."""
    cells = []
    for cell in row:
        if cell.tag != W_TC:
            continue
        text = "\n".join(paragraph_text(p) for p in cell if p.tag == W_P).strip()
        if text:
            cells.append(text)
    return " | ".join(cells)


def docx_blocks(archive: zipfile.ZipFile, limits: ParseLimits) -> list[str]:
    """The body's paragraphs and table rows, in order, read as a stream and stopped at the limits."""
    meter = Meter("DOCX", limits)
    part = _main_part(archive)
    if part not in archive.namelist():
        raise LoadError.of("DOCX بخش متن ندارد", "corrupt or unreadable DOCX: no document part")
    count_tags(archive, [part], "DOCX", limits.max_tags)
    blocks: list[str] = []
    with archive.open(part) as stream:
        for element in _ends(stream, (W_P, W_TR)):
            meter.block()
            parent = element.getparent()
            if parent is None:
                continue
            if element.tag == W_P and parent.tag == W_BODY:
                text = paragraph_text(element)
            elif element.tag == W_TR and parent.tag == W_TBL and _top_level(parent):
                text = row_text(element)
            else:
                continue  # a paragraph in a cell: read with its row
            if text.strip():
                meter.text(len(text))
                blocks.append(text)
            _free(element)
    return blocks


def _top_level(table: Any) -> bool:
    holder = table.getparent()
    return holder is not None and holder.tag == W_BODY


def count_xml_tags(archive: zipfile.ZipFile, kind: str, limits: ParseLimits) -> int:
    """Tags in every XML part, before a tree-building library (python-pptx) opens them all."""
    names = [i.filename for i in archive.infolist() if i.filename.endswith((".xml", ".rels"))]
    return count_tags(archive, names, kind, limits.max_tree_tags)
