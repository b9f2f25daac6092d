"""Limits on the work an uploaded file can cause: hostile files built here (real DOCX zips,
CSV, Markdown, XLSX, JSON, PDF) go through the real Ingestor into real Chroma, each gets an
error that names the limit, the value found and the setting to raise, and the store is as it
was. The zip bombs run in a child process under a memory limit that reports its peak memory.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from shopbot.ingest import IngestError, Ingestor
from shopbot.ingest.files import MAX_NAME_BYTES, check_content
from shopbot.service import CatalogService
from shopbot.settings import Settings
from tests.conftest import CATALOG_DIR, ROOT, make_settings

MB = 1024 * 1024
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DEMO_FILES = [
    "policies/returns.docx",
    "faq.md",
    "pages/alpine-2-tent.html",
    "spec_sheets/glacier-10-down-bag.pdf",
    "price_list.xlsx",
]
SMALL_CSV = b"SKU,Title,Price\nTNT-9,Ridge Tent,$199.00\n"


def docx(body: str = "", media_mb: int = 0) -> bytes:
    """A real DOCX (the parts Word needs, zipped with zipfile): ``body`` is the XML inside
    <w:body>; ``media_mb`` adds an image part of that many MB of zeros (a zip bomb: it
    compresses 1000:1 and the DOCX reader loads every related part)."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
        '/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
        'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Default Extension="png" ContentType="image/png"/><Override '
        'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="word/document.xml"/></Relationships>'
    )
    image_rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId5" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
        'Target="media/image1.png"/></Relationships>'
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>'
        f"<w:p><w:r><w:t>Returns policy</w:t></w:r></w:p>{body}</w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", document)
        if media_mb:
            archive.writestr("word/_rels/document.xml.rels", image_rels)
            block = bytes(MB)
            with archive.open("word/media/image1.png", "w") as image:
                for _ in range(media_mb):
                    image.write(block)
    return buffer.getvalue()


def paragraphs(count: int, text: str = "") -> str:
    run = f"<w:r><w:t>{text}</w:t></w:r>" if text else ""
    return "".join(f"<w:p>{run.replace('#', str(i))}</w:p>" for i in range(count))


def words(chars: int) -> str:
    line = "the trail shoe grips wet rock and the tent stands in wind "
    return (line * (chars // len(line) + 1))[:chars]


def pdf(pages: int) -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=letter, invariant=1)
    for number in range(1, pages + 1):
        page.drawString(72, 720, f"Trail stove manual, page {number}")
        page.drawString(72, 700, "Boils a litre of water in three minutes at sea level.")
        page.showPage()
    page.save()
    return buffer.getvalue()


def xlsx_with_stray_cell() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["SKU", "Title", "Price"])
    sheet.append(["TNT-9", "Ridge Tent", 199])
    sheet.cell(row=2000, column=16000, value="x")  # the reader pads 2,000 rows to XFD...
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def shop(tmp_path_factory, embeddings):
    """An embedded store holding a few demo catalog files of every document kind."""
    service = CatalogService(
        make_settings(data_dir=tmp_path_factory.mktemp("limits") / "data"), embeddings=embeddings
    )
    service.demo_results = service.ingest([CATALOG_DIR / name for name in DEMO_FILES])
    return service


def snapshot(service: CatalogService):
    """Everything a user could notice about the store: chunks, documents, kept copies."""
    chunks = service.store.chunks.get(include=["documents"])
    originals = service.ingestor.originals_dir
    return (
        sorted(zip(chunks["ids"], chunks["documents"])),
        [d.to_dict() for d in service.documents()],
        sorted(
            (str(p.relative_to(originals)), p.read_bytes() if p.is_file() else None)
            for p in originals.rglob("*")
        ),
    )


def ingest(shop: CatalogService, name: str, data: bytes, **limits):
    """Ingest through the real Ingestor with some limits changed."""
    settings = make_settings(data_dir=shop.settings.data_dir, **limits)
    return Ingestor(settings, shop.store, shop.embeddings).ingest_bytes(name, data)


def refused(shop: CatalogService, name: str, data: bytes, *expected: str, **limits) -> str:
    """Ingest a file that must be refused; check the error and that nothing changed."""
    before = snapshot(shop)
    result = ingest(shop, name, data, **limits)
    assert result.status == "failed", result
    for text in expected:
        assert text in result.error, result.error
    assert snapshot(shop) == before, "a refused file changed the store or its kept copies"
    return result.error


# -- a normal catalog still ingests ----------------------------------------------------------


def test_demo_catalog_files_still_ingest(shop):
    results = {r.source: r for r in shop.demo_results}
    assert {r.status for r in results.values()} == {"added"}, [
        (r.source, r.error) for r in results.values()
    ]
    assert all(r.chunks > 0 for r in results.values())
    assert shop.search("How do I return a product?", k=3)
    for name in DEMO_FILES:
        assert shop.ingestor.original_path(Path(name).name).is_file()


def test_pdf_page_limit(shop):
    data = pdf(3)
    refused(
        shop,
        "stove-manual.pdf",
        data,
        "This PDF has 3 pages, over the 2-page limit (SHOPBOT_MAX_PDF_PAGES)",
        max_pdf_pages=2,
    )
    result = ingest(shop, "stove-manual.pdf", data, max_pdf_pages=3)
    assert result.status == "added", result.error


# -- zip bombs, in a child process with a memory limit ---------------------------------------

CHILD = textwrap.dedent(
    """
    import json, os, resource, sys
    from pathlib import Path
    limit, data_dir, bomb, overrides = sys.argv[1:5]
    resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
    for key in [k for k in os.environ if k.startswith("SHOPBOT_")]:
        os.environ.pop(key)
    from shopbot.embeddings import LazyEmbeddings  # never loads the model: nothing to embed
    from shopbot.service import CatalogService
    from shopbot.settings import Settings
    settings = Settings(_env_file=None, data_dir=Path(data_dir), **json.loads(overrides))
    service = CatalogService(settings, embeddings=LazyEmbeddings(settings))
    result = service.ingest_bytes("returns-policy.docx", Path(bomb).read_bytes())
    from shopbot.ingest.worker import shared_worker
    starts = shared_worker().starts
    shared_worker().close()  # ends and reaps the parser worker, so RUSAGE_CHILDREN has it
    print(json.dumps({
        "status": result.status,
        "error": result.error,
        "documents": len(service.documents()),
        "parser_starts": starts,
        # Its own peak (VmHWM: ru_maxrss would carry the forking test process's over exec).
        "self_mb": next(
            int(line.split()[1]) // 1024
            for line in open("/proc/self/status")
            if line.startswith("VmHWM:")
        ),
        "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    }))
    """
)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A 0.4 MB DOCX that unzips to 400 MB."""
    path = tmp_path_factory.mktemp("bomb") / "returns-policy.docx"
    path.write_bytes(docx(media_mb=400))
    return path


def run_child(tmp_path: Path, bomb: Path, limit_mb: int, **overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(limit_mb * MB), str(tmp_path / "data"), str(bomb),
         json.dumps(overrides)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_zip_bomb_is_refused_before_parsing_within_800_mb(tmp_path, bomb):
    assert bomb.stat().st_size < MB
    outcome = run_child(tmp_path, bomb, 800)
    assert outcome["status"] == "failed"
    assert "unzips to 400.0 MB, over the 200 MB limit (SHOPBOT_MAX_UNZIPPED_MB)" in outcome[
        "error"
    ]
    assert outcome["documents"] == 0
    assert outcome["self_mb"] < 400, outcome  # importing shopbot and Chroma is ~100 MB
    assert outcome["parser_starts"] == 0, "the bomb must be refused before any parser runs"


@pytest.mark.slow
def test_zip_bomb_past_the_prechecks_is_stopped_by_the_parse_memory_cap(tmp_path, bomb):
    """With the zip limits lifted, the bomb reaches unstructured, in the parser worker,
    which is capped at its libraries plus 300 MB and stops with the clear error."""
    outcome = run_child(
        tmp_path,
        bomb,
        2500,
        max_unzipped_mb=100_000,
        max_zip_ratio=1_000_000,
        max_parse_memory_mb=300,
    )
    assert outcome["status"] == "failed"
    assert "needed more than the 300 MB memory limit (SHOPBOT_MAX_PARSE_MEMORY_MB)" in outcome[
        "error"
    ]
    assert outcome["documents"] == 0
    assert outcome["parser_starts"] == 1
    assert outcome["self_mb"] < 400, outcome
    # The worker holds unstructured and the spaCy model (~400-550 MB) plus at most 300 MB.
    assert 0 < outcome["worker_mb"] < 1000, outcome


# -- each hostile case through the Ingestor --------------------------------------------------


def test_lying_zip_directory_is_refused_as_damaged(shop):
    """The directory says 1,000 bytes; the part inflates to far more. Nothing past the
    declared size is unpacked: the file is refused as damaged."""
    data = bytearray(docx(paragraphs(5_000, "Paragraph # of the returns policy.")))
    entry = data.rfind(b"PK\x01\x02", 0, data.rfind(b"word/document.xml"))
    data[entry + 24 : entry + 28] = (1000).to_bytes(4, "little")  # its uncompressed size
    refused(shop, "returns.docx", bytes(data), "damaged or not a real DOCX")


def test_docx_with_many_paragraphs(shop):
    data = docx(paragraphs(25_000, "Item # ships in two days."))
    error = refused(
        shop,
        "policies.docx",
        data,
        "more than 20,000 paragraphs, over the 20,000-paragraph limit (SHOPBOT_MAX_ELEMENTS)",
        "raise SHOPBOT_MAX_ELEMENTS",
    )
    assert error.startswith("This DOCX file")


def test_docx_of_860k_empty_paragraphs_is_a_zip_bomb(shop):
    data = docx(paragraphs(860_000))
    assert len(data) < 100_000
    refused(shop, "empty.docx", data, "over the 100:1 limit (SHOPBOT_MAX_ZIP_RATIO)")
    refused(shop, "empty.docx", data, "(SHOPBOT_MAX_ELEMENTS)", max_zip_ratio=1000)


def test_time_budget_stops_a_slow_parse(shop):
    """300,000 empty paragraphs take unstructured minutes; with the pre-checks lifted the
    1-second budget stops it, the worker is replaced and the next file parses."""
    data = docx(paragraphs(300_000))
    refused(
        shop,
        "slow.docx",
        data,
        "took longer than the 1-second time budget (SHOPBOT_MAX_PARSE_SECONDS)",
        max_zip_ratio=10_000,
        max_elements=1_000_000,
        max_parse_seconds=1,
    )
    again = ingest(shop, "returns.docx", (CATALOG_DIR / "policies/returns.docx").read_bytes())
    assert again.status == "unchanged"
    quick = ingest(shop, "faq-copy.md", b"# Shipping\n\nOrders ship in two days.\n")
    assert quick.status == "added", quick.error


def test_markdown_of_one_1_mb_line(shop):
    data = (words(1_000_000) + "\n").encode()
    refused(
        shop,
        "faq.md",
        data,
        "a line of 1,000,000 characters (line 1), over the 20,000-character limit "
        "(SHOPBOT_MAX_LINE_CHARS)",
    )
    wrapped = "\n".join(textwrap.wrap(words(30_000), 80)).encode()
    refused(shop, "faq.md", wrapped, "a paragraph of 30,000 characters", "SHOPBOT_MAX_LINE_CHARS")


def test_parse_memory_cap_stops_a_long_line_past_the_prechecks(shop):
    """unstructured needs ~3 KB per character of one paragraph: 1 MB is gigabytes."""
    data = (words(1_000_000) + "\n").encode()
    refused(
        shop,
        "faq.md",
        data,
        "needed more than the 300 MB memory limit (SHOPBOT_MAX_PARSE_MEMORY_MB)",
        max_line_chars=10_000_000,
        max_parse_memory_mb=300,
    )


def test_csv_of_200k_rows(shop):
    rows = "".join(f"SKU-{i},Trail sock {i},$12.00,Ridgeline\n" for i in range(200_000))
    data = ("SKU,Title,Price,Brand\n" + rows).encode()
    assert len(data) > 6 * MB
    refused(
        shop,
        "products.csv",
        data,
        "This CSV file has more than 50,000 rows (about 200,001 lines), over the 50,000-row "
        "limit (SHOPBOT_MAX_ROWS)",
    )


def test_spreadsheet_padded_to_billions_of_cells(shop):
    refused(
        shop,
        "prices.xlsx",
        xlsx_with_stray_cell(),
        "over the 5,000,000-cell limit (SHOPBOT_MAX_CELLS)",
        "Delete the unused rows and columns",
    )


def test_json_feed_with_a_field_per_object(shop):
    feed = [{"sku": f"S{i}", "title": "Sock", f"extra_{i}": i} for i in range(3000)]
    refused(
        shop,
        "feed.json",
        json.dumps(feed).encode(),
        "9,006,000 cells (objects x distinct fields), over the 5,000,000-cell limit "
        "(SHOPBOT_MAX_CELLS)",
    )


def test_html_page_with_too_many_elements(shop):
    data = ("<html><body>" + "<p>Warm jacket.</p>" * 25_000 + "</body></html>").encode()
    refused(shop, "page.html", data, "more than 20,000 elements", "(SHOPBOT_MAX_ELEMENTS)")


# -- file names ------------------------------------------------------------------------------


def test_over_long_file_name_is_refused_before_anything_is_stored(shop):
    name = "a" * 252 + ".csv"  # 256 bytes: over what a file system can name
    error = refused(shop, name, SMALL_CSV, f"over the {MAX_NAME_BYTES}-byte limit")
    assert "256 bytes long" in error and "Rename the file" in error
    wide = "日" * 84 + ".csv"  # 84 characters, 256 bytes in UTF-8
    refused(shop, wide, SMALL_CSV, "256 bytes long")
    refused(shop, "\udcff.csv", SMALL_CSV, "not valid text")


def test_longest_allowed_file_name_is_added_and_its_copy_kept(shop):
    name = "a" * (MAX_NAME_BYTES - len(".csv")) + ".csv"
    assert len(name.encode()) == MAX_NAME_BYTES == 247
    result = ingest(shop, name, SMALL_CSV)
    assert result.status == "added", result.error
    assert result.error == ""
    assert shop.ingestor.original_path(name).read_bytes() == SMALL_CSV


# -- each setting moves its limit ------------------------------------------------------------

SETTING_CASES = {
    # setting: (kind, content, a value that refuses it, one that lets it through, others)
    "max_unzipped_mb": ("docx", lambda: docx(media_mb=3), 2, 4, {"max_zip_ratio": 10_000}),
    "max_zip_ratio": ("docx", lambda: docx(media_mb=3), 500, 2000, {}),
    "max_elements": ("md", lambda: b"line\n" * 300, 299, 300, {}),
    "max_line_chars": ("txt", lambda: b"x" * 500 + b"\n", 499, 500, {}),
    "max_rows": ("csv", lambda: b"SKU,Title\n" + b"S1,Sock\n" * 99, 99, 100, {}),
    "max_cells": ("csv", lambda: b"SKU,Title\n" + b"S1,Sock\n" * 99, 199, 200, {}),
}


@pytest.mark.parametrize("setting", sorted(SETTING_CASES))
def test_each_setting_raises_and_lowers_its_limit(setting, monkeypatch):
    """(The parse limits, SHOPBOT_MAX_PDF_PAGES, _PARSE_SECONDS and _PARSE_MEMORY_MB, are
    moved by the tests above.)"""
    kind, build, low, high, others = SETTING_CASES[setting]
    data = build()
    with pytest.raises(IngestError, match=f"SHOPBOT_{setting.upper()}"):
        check_content(kind, data, make_settings(**{setting: low}, **others))
    check_content(kind, data, make_settings(**{setting: high}, **others))
    for name, value in {setting: low, **others}.items():  # from the environment too
        monkeypatch.setenv(f"SHOPBOT_{name.upper()}", str(value))
    with pytest.raises(IngestError, match=f"SHOPBOT_{setting.upper()}"):
        check_content(kind, data, Settings(_env_file=None))
