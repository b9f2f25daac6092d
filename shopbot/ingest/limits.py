"""Limits on the work one uploaded file can cause, not only on its bytes.

A file's size says little about what parsing it costs. Measured on a 2-core machine before
these limits: a 2 MB DOCX zip bomb took unstructured to 4.65 GB of memory; a DOCX of 860,000
empty paragraphs (98 KB) parsed for minutes; a 1 MB Markdown file of one line took 3.5 minutes
(unstructured's memory grows by ~3 KB per character of one paragraph); a 7 MB CSV of 200,000
rows would have taken ~1.7 hours to embed. So every file goes through two layers:

1. **Cheap pre-checks before any parser runs** (:func:`check_limits`, called from
   :func:`shopbot.ingest.files.check_content`), each bounded in time and memory by an early
   stop:

   - DOCX/XLSX: the zip's entry count (read from its end record, before ``zipfile`` builds
     its directory), the sizes its directory declares (total, and the ratio of each part over
     1 MB), then every part is inflated as a stream, 64 KB at a time, with the same caps
     enforced on the bytes actually produced: a directory can lie. That one pass also checks
     the CRCs (it replaces ``testzip``) and feeds the XML parts to expat, counting DOCX
     paragraphs (``w:p``) and their length, and XLSX rows and columns, stopping at the limit;
   - Markdown/TXT/HTML: non-blank lines (or HTML elements, streamed with lxml) and the
     longest line/paragraph, stopping at the limit;
   - CSV/TSV/JSON/JSONL: rows and cells (:func:`shopbot.ingest.tabular.check_table_size`).

2. **A hard guard around the parse itself** (:mod:`shopbot.ingest.worker`): documents are
   parsed by unstructured in a worker process with a memory cap (``RLIMIT_AS``) and a time
   budget, killed on overrun. The pre-checks are approximations of what unstructured will
   do; the guard holds whatever it does. The PDF page count is checked there too (it needs a
   PDF parser, which is itself work on untrusted input).

Each limit is a setting (``SHOPBOT_MAX_*``), and each refusal is an :class:`IngestError` that
names the limit, the value found and the setting to raise.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, fields
from io import BytesIO
from itertools import islice
from typing import TYPE_CHECKING, Any
from xml.parsers import expat

from shopbot.ingest.errors import IngestError

if TYPE_CHECKING:
    from shopbot.settings import Settings

MB = 1024 * 1024
# Parts smaller than this are not held to the ratio limit: a few hundred KB of repetitive
# styles can compress 150:1 and cost nothing to parse.
RATIO_GRACE_BYTES = MB
# No real DOCX/XLSX has more parts than this; a zip with millions of tiny entries costs
# hundreds of MB just to list, so it is refused before zipfile reads its directory.
MAX_ZIP_ENTRIES = 10_000
_CHUNK = 64 * 1024

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ZIP_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
_LABELS = {"docx": "DOCX", "xlsx": "XLSX", "md": "Markdown", "txt": "text", "html": "HTML"}


@dataclass(frozen=True)
class Limits:
    """The limits from :class:`~shopbot.settings.Settings`, in the units the checks use."""

    max_unzipped_mb: float
    max_zip_ratio: float
    max_elements: int
    max_pdf_pages: int
    max_rows: int
    max_cells: int
    max_line_chars: int
    max_parse_seconds: float
    max_parse_memory_mb: int

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Limits:
        """The limits of ``settings``, or the defaults when there are none."""
        from shopbot.settings import Settings

        names = [f.name for f in fields(cls)]
        if settings is None:
            return cls(**{n: Settings.model_fields[n].default for n in names})
        return cls(**{n: getattr(settings, n) for n in names})

    @property
    def max_unzipped_bytes(self) -> int:
        return int(self.max_unzipped_mb * MB)


def over_limit(found: str, limit: str, setting: str, advice: str) -> IngestError:
    """The one way a limit is reported: what was found, the limit, the setting to raise."""
    variable = f"SHOPBOT_{setting.upper()}"
    return IngestError(
        f"{found}, over the {limit} limit ({variable}). {advice}, or raise {variable}."
    )


def _n(value: float) -> str:
    return f"{value:,.0f}"


def check_limits(kind: str, data: bytes, limits: Limits) -> None:
    """The pre-checks for ``kind`` (see the module docstring); raises :class:`IngestError`."""
    if kind in _ZIP_PARTS:
        scan_zip(kind, data, limits, _ZIP_PARTS[kind])
    elif kind in ("md", "txt"):
        check_text_lines(kind, data, limits)
    elif kind == "html":
        check_html(data, limits)
    elif kind in ("csv", "tsv", "json", "jsonl", "xml"):
        from shopbot.ingest.tabular import check_table_size

        check_table_size(kind, data, limits)


# -- zip (DOCX, XLSX) ------------------------------------------------------------------------


def _damaged(kind: str, detail: str) -> IngestError:
    label = kind.upper()
    return IngestError(
        f"This {label} file is damaged or not a real {label} ({detail}). Open it in "
        f"Word/Excel or LibreOffice and save it again as .{kind}."
    )


def _declared_entries(data: bytes) -> int | None:
    """The entry count in the zip's end-of-central-directory record (None if not found)."""
    start = max(0, len(data) - 65535 - 22)
    at = data.rfind(b"PK\x05\x06", start)
    if at < 0 or at + 22 > len(data):
        return None
    return struct.unpack("<H", data[at + 10 : at + 12])[0]


def scan_zip(kind: str, data: bytes, limits: Limits, required: str | None = None) -> None:
    """Check a DOCX/XLSX against the zip and element limits in one streaming pass (which
    also checks every part's CRC); ``required`` is the part a real file of the kind has."""
    label = kind.upper()
    entries = _declared_entries(data)
    if entries is not None and entries > MAX_ZIP_ENTRIES:
        raise _damaged(kind, f"{_n(entries)} parts inside; real files have a few hundred")
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _damaged(kind, str(exc)) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise _damaged(kind, f"{_n(len(infos))} parts inside; real files have a few hundred")
        cap = limits.max_unzipped_bytes
        declared = sum(info.file_size for info in infos)
        unzip_advice = (
            "It may be a zip bomb; if it is a real document, split it into smaller files"
        )
        if declared > cap:
            raise over_limit(
                f"This {label} file unzips to {declared / MB:,.1f} MB",
                f"{limits.max_unzipped_mb:g} MB",
                "max_unzipped_mb",
                unzip_advice,
            )
        if required is not None and required not in {info.filename for info in infos}:
            raise _damaged(kind, f"missing {required}")
        for info in infos:
            _check_ratio(label, info.filename, info.file_size, info.compress_size, limits)
        counter = _DocxCounter(limits) if kind == "docx" else _XlsxCounter(limits)
        total = 0
        try:
            for info in infos:
                if info.is_dir():
                    continue
                feed = counter.parser_for(info.filename)
                produced = 0
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        produced += len(chunk)
                        total += len(chunk)
                        if total > cap:
                            raise over_limit(
                                f"This {label} file unzips to more than "
                                f"{limits.max_unzipped_mb:g} MB",
                                f"{limits.max_unzipped_mb:g} MB",
                                "max_unzipped_mb",
                                unzip_advice,
                            )
                        _check_ratio(label, info.filename, produced, info.compress_size, limits)
                        if feed is not None:
                            feed.Parse(chunk, False)
                if feed is not None:
                    feed.Parse(b"", True)
                    counter.part_done(info.filename)
        except expat.ExpatError as exc:
            raise _damaged(kind, f"broken XML in {info.filename}: {exc}") from exc
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError) as exc:
            raise _damaged(kind, f"{info.filename}: {exc}") from exc
        except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown compression
            raise _damaged(kind, f"{info.filename} cannot be unpacked: {exc}") from exc


def _check_ratio(label: str, part: str, size: int, compressed: int, limits: Limits) -> None:
    if size <= RATIO_GRACE_BYTES:
        return
    ratio = size / max(compressed, 1)
    if ratio > limits.max_zip_ratio:
        raise over_limit(
            f"Part {part} of this {label} file is compressed {_n(ratio)}:1",
            f"{limits.max_zip_ratio:g}:1",
            "max_zip_ratio",
            "It may be a zip bomb; if it is a real document, save it again from Word/Excel",
        )


def _expat(start: Any, end: Any = None, text: Any = None) -> Any:
    """A namespace-aware expat parser that refuses DTDs and entity declarations (Office
    files have none; entity expansion is another way to blow up)."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text

    def no_entities(*_args: Any) -> None:
        raise expat.ExpatError("entity declarations are not allowed")

    parser.EntityDeclHandler = no_entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


class _DocxCounter:
    """Paragraphs (``w:p``) of every XML part under word/ (body, headers, footers, notes),
    and the characters of each (its ``w:t`` text; nested paragraphs, as in text boxes, count
    on their own)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.paragraphs = 0
        self.open: list[int] = []
        self.in_text = 0
        self.part = ""

    def parser_for(self, name: str) -> Any:
        if not (name.startswith("word/") and name.endswith(".xml")):
            return None
        self.part, self.open, self.in_text = name, [], 0
        return _expat(self.start, self.end, self.text)

    def start(self, name: str, _attrs: Any) -> None:
        if name == f"{_W_NS}}}p":
            self.paragraphs += 1
            if self.paragraphs > self.limits.max_elements:
                raise over_limit(
                    f"This DOCX file has more than {_n(self.limits.max_elements)} paragraphs",
                    f"{_n(self.limits.max_elements)}-paragraph",
                    "max_elements",
                    "Split it into smaller documents",
                )
            self.open.append(0)
        elif name == f"{_W_NS}}}t":
            self.in_text += 1

    def end(self, name: str) -> None:
        if name == f"{_W_NS}}}p" and self.open:
            self.open.pop()
        elif name == f"{_W_NS}}}t":
            self.in_text -= 1

    def text(self, data: str) -> None:
        if self.in_text and self.open:
            self.open[-1] += len(data)
            if self.open[-1] > self.limits.max_line_chars:
                raise over_limit(
                    f"This DOCX file has a paragraph of more than "
                    f"{_n(self.limits.max_line_chars)} characters (paragraph "
                    f"{_n(self.paragraphs)} of {self.part})",
                    f"{_n(self.limits.max_line_chars)}-character",
                    "max_line_chars",
                    "Break it into shorter paragraphs",
                )

    def part_done(self, _name: str) -> None:
        pass


_CELL_REF = re.compile(r"([A-Z]{1,3})?(\d+)?")


def _column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


class _XlsxCounter:
    """Rows and the width of each worksheet, as openpyxl's read-only reader will see them:
    it fills in the empty rows up to the last used one and pads every row to the sheet's
    width (its ``dimension``, or the rightmost used cell), so one stray value in cell
    XFD1048576 of a 5 KB file is 17 billion cells."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.rows_before = 0  # rows of the sheets already scanned
        self.sheet = ""

    def parser_for(self, name: str) -> Any:
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            return None
        self.sheet = name.rsplit("/", 1)[-1].removesuffix(".xml")
        self.rows = 0  # the last row number seen (or rows counted, when unnumbered)
        self.width = 0
        return _expat(self.start)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition("}")[2]
        if local == "row":
            number = attrs.get("r", "")
            self.rows = max(self.rows + 1 if not number.isdigit() else int(number), self.rows)
            if self.rows_before + self.rows > self.limits.max_rows:
                raise over_limit(
                    f"This XLSX file has more than {_n(self.limits.max_rows)} rows (counting "
                    f"the empty rows up to the last used one, in {self.sheet})",
                    f"{_n(self.limits.max_rows)}-row",
                    "max_rows",
                    f"Split it into files of at most {_n(self.limits.max_rows)} rows (or "
                    "delete stray values far below the table)",
                )
        elif local == "c":
            letters = _CELL_REF.match(attrs.get("r", "")).group(1)
            if letters:
                self.width = max(self.width, _column_number(letters))
        elif local == "dimension":
            last = attrs.get("ref", "").rpartition(":")[2]
            letters = _CELL_REF.match(last).group(1)
            if letters:
                self.width = max(self.width, _column_number(letters))
        else:
            return
        cells = self.rows * max(self.width, 1)
        if cells > self.limits.max_cells:
            raise over_limit(
                f"This XLSX file's sheet {self.sheet} spans {_n(self.rows)} rows x "
                f"{_n(self.width)} columns so far ({_n(cells)} cells, counting the empty "
                "ones up to the last used row and column)",
                f"{_n(self.limits.max_cells)}-cell",
                "max_cells",
                "Delete the unused rows and columns (or stray values far below or to the "
                "right of the table)",
            )

    def part_done(self, _name: str) -> None:
        self.rows_before += self.rows


# -- text (Markdown, TXT, HTML) --------------------------------------------------------------

# A non-blank line; the anchor and the possessive quantifiers keep the scan linear.
NON_BLANK_LINE = re.compile(rb"^[ \t\r\f\v]*+[^\s][^\n]*+", re.M)
# Markdown lines that start a block of their own rather than continue a paragraph.
_MD_BLOCK_START = re.compile(rb"[ \t]*+(?:[#>|*+-]|\d{1,9}[.)]|```|~~~)")


def check_text_lines(kind: str, data: bytes, limits: Limits) -> None:
    """Markdown/TXT: non-blank lines, and the longest line (TXT: unstructured takes its
    lines one by one) or paragraph (Markdown: consecutive lines are one element)."""
    label = _LABELS[kind]
    lines = list(islice(NON_BLANK_LINE.finditer(data), limits.max_elements + 1))
    if len(lines) > limits.max_elements:
        raise over_limit(
            f"This {label} file has more than {_n(limits.max_elements)} non-blank lines",
            f"{_n(limits.max_elements)}-line",
            "max_elements",
            "Split it into smaller files",
        )
    if len(data) <= limits.max_line_chars:  # bytes >= characters: nothing can be too long
        return
    runs: list[tuple[int, int]] = []  # (start, end) of each line or paragraph
    for match in lines:
        start, end = match.span()
        if (
            kind == "md"
            and runs
            and start == runs[-1][1] + 1
            and not _MD_BLOCK_START.match(data, start)
        ):
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    for start, end in runs:
        if end - start <= limits.max_line_chars:
            continue
        chars = len(data[start:end].decode("utf-8", "replace"))
        if chars > limits.max_line_chars:
            line = data.count(b"\n", 0, start) + 1
            several = data.find(b"\n", start, end) >= 0
            what = "a paragraph" if several else "a line"
            where = f"starting on line {line:,}" if several else f"line {line:,}"
            raise over_limit(
                f"This {label} file has {what} of {_n(chars)} characters ({where})",
                f"{_n(limits.max_line_chars)}-character",
                "max_line_chars",
                "Break it into shorter lines"
                if kind == "txt"
                else "Break it into shorter paragraphs, with blank lines between them",
            )


# Elements whose text unstructured joins into the text of the block around them.
_INLINE = frozenset(
    "a abbr b bdi bdo br cite code data del dfn em font i img ins kbd label mark q s samp "
    "small span strike strong sub sup time tt u var wbr".split()
)
_NO_TEXT = frozenset({"script", "style", "template", "noscript", "head", "svg"})


def check_html(data: bytes, limits: Limits) -> None:
    """HTML: elements, and the longest block of text (a block element's own text plus that
    of the inline elements inside it), streamed through lxml with an early stop; each
    element is cleared once counted, so memory stays near the file's size."""
    from lxml import etree

    elements = 0
    blocks = [0]  # text so far of each open block element (and of the page outside them)
    skipping = 0  # inside script/style/...: text that unstructured does not read
    try:
        for event, element in etree.iterparse(
            BytesIO(data), events=("start", "end"), html=True, recover=True
        ):
            tag = element.tag.lower() if isinstance(element.tag, str) else ""
            if event == "start":
                elements += 1
                if elements > limits.max_elements:
                    raise over_limit(
                        f"This HTML file has more than {_n(limits.max_elements)} elements",
                        f"{_n(limits.max_elements)}-element",
                        "max_elements",
                        "Split it into smaller pages",
                    )
                if tag in _NO_TEXT:
                    skipping += 1
                elif not skipping and tag not in _INLINE:
                    blocks.append(0)
                continue
            if tag in _NO_TEXT:
                skipping -= 1
            elif not skipping:
                # Its text and its children's tails; its own tail belongs to its parent.
                own = len(element.text or "") + sum(len(c.tail or "") for c in element)
                if tag in _INLINE:
                    blocks[-1] += own
                else:
                    text = blocks.pop() + own
                    if text > limits.max_line_chars:
                        raise over_limit(
                            f"This HTML file has a block of {_n(text)} characters of text "
                            f"(a <{tag}> element)",
                            f"{_n(limits.max_line_chars)}-character",
                            "max_line_chars",
                            "Break it into shorter paragraphs",
                        )
            element.clear(keep_tail=True)
    except etree.LxmlError:
        return  # HTML lxml cannot read at all: unstructured reports it, under the guard
