"""Real unstructured parsing of the demo catalog's PDF, DOCX, HTML and Markdown files."""

from pathlib import Path

import pytest

from catalog import catalog_data
from shopbot.ingest import IngestError
from shopbot.ingest.documents import parse_document

CATALOG = Path(__file__).resolve().parents[1] / "catalog"


def parse(relative: str, kind: str | None = None, data: bytes | None = None):
    path = CATALOG / relative
    return parse_document(
        kind or path.suffix.lstrip("."),
        data if data is not None else path.read_bytes(),
        path.name,
        max_chars=1200,
        min_chars=200,
        default_currency="USD",
    )


def test_pdf_spec_sheet_keeps_pages_sections_and_the_product():
    doc = parse("spec_sheets/alpine-2-tent.pdf")
    tent = catalog_data.PRODUCTS_BY_SKU["RL-TNT-001"]
    assert doc.title == tent["title"]
    assert (doc.product.id, doc.product.price, doc.product.currency) == ("RL-TNT-001", tent["price"], "USD")
    assert doc.product.brand == tent["brand"]
    assert {p.page for p in doc.passages} == {1, 2}
    specs = [p for p in doc.passages if "Specifications" in p.section]
    assert specs and "3000 mm" in specs[0].text
    assert all(p.text.startswith(doc.title) for p in doc.passages)


def test_docx_policy_sections_and_size_table_rows():
    returns = parse("policies/returns.docx")
    window = next(p for p in returns.passages if "Return window" in p.section)
    assert f"{catalog_data.POLICIES['return_days']} days" in window.text

    sizing = parse("policies/sizing.docx")
    eu, us_men, us_women, uk, cm = next(r for r in catalog_data.POLICIES["boot_size_chart"] if r[0] == 42)
    text = "\n".join(p.text for p in sizing.passages)
    # one table row stays on one line, with its column names
    assert f"EU: {eu}, US Men: {us_men}, US Women: {us_women}, UK: {uk}" in text


def test_html_product_page_gives_product_fields_and_spec_lines():
    doc = parse("pages/skyrunner-trail-shoe.html")
    shoe = catalog_data.PRODUCTS_BY_SKU["RL-FTW-021"]
    assert doc.title == shoe["title"]
    product = doc.product
    assert (product.id, product.price, product.brand, product.category) == (
        "RL-FTW-021", shoe["price"], shoe["brand"], shoe["category"],
    )
    specs = next(p for p in doc.passages if "Specifications" in p.section)
    assert "Lug depth: 5 mm" in specs.text


def test_markdown_faq_sections_are_the_questions():
    doc = parse("faq.md")
    assert doc.title.endswith("FAQ")
    assert doc.product is None
    refund = next(p for p in doc.passages if "How long does a refund take?" in p.text)
    assert catalog_data.POLICIES["refund_days"] in refund.text
    assert len(doc.passages) > 5


def test_plain_text_file(tmp_path):
    doc = parse("notes.txt", kind="txt", data=b"Store hours\n\nWe are open 9 to 5, Monday to Saturday.\n")
    assert "open 9 to 5" in doc.passages[0].text


def test_pdf_without_text_is_explained():
    from reportlab.pdfgen import canvas
    import io

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.rect(100, 100, 200, 200)  # a drawing, no text: like a scan
    pdf.save()
    with pytest.raises(IngestError, match="No text found in this PDF.*scanned"):
        parse("scan.pdf", kind="pdf", data=buffer.getvalue())


def test_truncated_pdf_is_a_clear_error():
    data = (CATALOG / "spec_sheets" / "alpine-2-tent.pdf").read_bytes()[:600]
    with pytest.raises(IngestError, match="PDF"):
        parse("broken.pdf", kind="pdf", data=data)
