"""Stock and specs from every source (issue 13, item 6): a product page's "Availability", a
spec sheet's weight table and a price list's notes feed the product's record, read by the
shop vocabulary; the newer upload wins a fact two sources state; nothing is made up.

The documents are real files written here and parsed by unstructured through the real
pipeline; the answers are the real assistant's with the extractive generator."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from shopbot.products import Product
from shopbot.vocabulary import read_quantity, read_stock, stock_notes
from tests.conftest import make_settings


@pytest.mark.parametrize(
    ("text", "available", "quantity", "note"),
    [
        ("Availability: Out of stock", False, 0, ""),
        ("Sold out", False, 0, ""),
        ("In stock (18 available)", True, 18, ""),
        ("In stock", True, None, ""),  # no count is made up
        ("Only 3 left", True, 3, ""),
        ("Stock: 12", True, 12, ""),
        ("Stock: 0", False, 0, ""),
        ("Pre-order", False, None, "preorder"),
        ("Available for pre-order", False, None, "preorder"),
        ("Backorder", False, None, "backorder"),
        ("Discontinued - last stock", None, None, "discontinued"),
    ],
)
def test_the_vocabulary_reads_how_a_shop_says_stock(text, available, quantity, note):
    statement = read_stock(text)
    assert (statement.available, statement.quantity, statement.availability) == (
        available, quantity, note)


def test_sentences_and_notes_about_some_variants_are_not_a_products_stock():
    assert read_stock("Ships in 5 business days") is None
    assert read_stock("sizes S–M sold out") is None
    ((about, statement),) = stock_notes("sizes S–M sold out")
    assert about == "sizes S–M" and statement.available is False
    ((about, statement),) = stock_notes("Limited sizes; Out of stock")
    assert about == "" and statement.available is False
    assert stock_notes("New colour: Navy") == []


def test_specs_read_with_their_units():
    weight = read_quantity("1.9 kg")
    assert (weight.dimension, weight.base) == ("mass", 1900.0)
    assert read_quantity("46 x 15 cm").base == 460.0
    assert read_quantity("3-season") is None and read_quantity("20D ripstop") is None


# -- through the pipeline ---------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><title>{title} | Test Shop</title>
<link rel="canonical" href="https://shop.example/products/{slug}"></head>
<body><main><h1>{title}</h1>
<p>SKU: {sku}</p><p>Price: {price}</p><p>Brand: Northfall</p><p>Category: {category}</p>
<p>Availability: {availability}</p>
<h2>Description</h2><p>{description}</p>
<h2>Specifications</h2><table><tbody>
<tr><th>Weight</th><td>{weight}</td></tr><tr><th>Material</th><td>ripstop nylon</td></tr>
</tbody></table></main></body></html>"""


def page(tmp_path, name, **fields):
    path = tmp_path / f"{name}.html"
    path.write_text(PAGE.format(slug=name, **fields), encoding="utf-8")
    return path


def fresh_service(tmp_path, embeddings):
    from shopbot.service import CatalogService

    return CatalogService(make_settings(data_dir=tmp_path / "data"), embeddings=embeddings)


def ingest(service, *paths):
    results = service.ingest(list(paths))
    assert [r.error for r in results if not r.ok] == []


def ask(service, question: str) -> str:
    return service.assistant("extractive").ask(question).text


def test_a_product_known_only_from_its_page_has_the_pages_price_and_stock(tmp_path, embeddings):
    service = fresh_service(tmp_path, embeddings)
    ingest(service, page(
        tmp_path, "driftwood-hammock", title="Driftwood Camping Hammock", sku="DW-HAM-1",
        price="$89.00", category="Hammocks", availability="Out of stock", weight="540 g",
        description="A single-layer parachute nylon hammock with tree straps."))
    answer = ask(service, "Is the Driftwood Camping Hammock in stock?")
    assert "out of stock" in answer and "$89.00" in answer, answer
    sources = service.retrieve("Driftwood Camping Hammock", k=3).sources
    product = next(s.product for s in sources if s.id == "DW-HAM-1")
    assert product.available() is False and product.quantity() == 0
    assert product.variants[0].weight_grams == 540.0
    # Asked for what is in stock, an out-of-stock product is no match.
    assert not [s for s in service.retrieve("hammocks in stock", k=5).sources
                if s.id == "DW-HAM-1" and not s.note]


def test_a_page_newer_than_the_export_wins_its_stock_an_older_one_does_not(tmp_path, embeddings):
    """The export's count stands against an older page's words; a page uploaded after the
    export (a sale since) says what is true now."""
    service = fresh_service(tmp_path, embeddings)
    older = page(tmp_path, "ember-stove", title="Ember Canister Stove", sku="EM-STV-1",
                 price="$59.00", category="Stoves", availability="Out of stock",
                 weight="85 g", description="A tiny canister stove.")
    ingest(service, older)
    export = tmp_path / "export.csv"
    export.write_text("SKU,Title,Price,Stock,Category\n"
                      "EM-STV-1,Ember Canister Stove,$59.00,5,Stoves\n"
                      "GL-LAN-2,Glowworm Lantern,$39.00,7,Lighting\n")
    ingest(service, export)
    ingest(service, page(tmp_path, "glowworm-lantern", title="Glowworm Lantern", sku="GL-LAN-2",
                         price="$39.00", category="Lighting", availability="Out of stock",
                         weight="210 g", description="A warm-white camp lantern."))
    stove = ask(service, "Is the Ember Canister Stove in stock?")
    assert "in stock (5 available)" in stove and "out of stock" not in stove, stove
    lantern = ask(service, "Is the Glowworm Lantern in stock?")
    assert "out of stock" in lantern and "7 available" not in lantern, lantern
    # The page's weight (no export column states one) is the product's, typed.
    lantern_record = next(s.product for s in service.retrieve("Glowworm Lantern", k=3).sources
                          if s.id == "GL-LAN-2")
    assert lantern_record.variants[0].weight_grams == 210.0
    assert lantern_record.attributes["Weight"] == "210 g"


def test_a_spec_sheets_weight_table_is_the_products_weight(tmp_path, embeddings):
    from docx import Document

    service = fresh_service(tmp_path, embeddings)
    export = tmp_path / "packs.csv"
    export.write_text("SKU,Title,Price,Stock,Category\nKP-PCK-9,Kestrel 45 Pack,$219.00,4,Backpacks\n")
    ingest(service, export)
    sheet = Document()
    sheet.add_heading("Kestrel 45 Pack", level=1)
    sheet.add_paragraph("SKU: KP-PCK-9")
    sheet.add_heading("Specifications", level=2)
    table = sheet.add_table(rows=0, cols=2)
    for name, value in [("Weight", "1.9 kg"), ("Volume", "45 L"), ("Frame", "aluminium stay")]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = name, value
    path = tmp_path / "kestrel-45-spec-sheet.docx"
    sheet.save(path)
    ingest(service, path)
    answer = ask(service, "How much does the Kestrel 45 Pack weigh?")
    assert "1.9 kg" in answer, answer
    assert "in stock (4 available)" in ask(service, "Is the Kestrel 45 Pack in stock?")
    record = next(s.product for s in service.retrieve("Kestrel 45 Pack", k=3).sources
                  if s.id == "KP-PCK-9")
    assert record.variants[0].weight_grams == 1900.0
    assert read_quantity(record.attributes["Volume"]).base == 45.0


SHOPIFY = (
    "Handle,Title,Vendor,Type,Option1 Name,Option1 Value,Variant SKU,Variant Inventory Qty,"
    "Variant Price,Status\n"
    "squall-shell,Squall Shell Jacket,Northfall,Jackets,Size,S,SQ-S,4,189.00,active\n"
    "squall-shell,,,,,M,SQ-M,6,189.00,\n"
    "squall-shell,,,,,L,SQ-L,3,189.00,\n"
)


def test_a_price_list_note_sells_out_the_sizes_it_names(tmp_path, embeddings):
    """"sizes S–M sold out" in a newer price list's notes: those sizes of the product are
    out of stock, the others keep the export's count; "Discontinued" is said."""
    service = fresh_service(tmp_path, embeddings)
    export = tmp_path / "shopify_export.csv"
    export.write_text(SHOPIFY)
    ingest(service, export)
    book = Workbook()
    sheet = book.active
    sheet.append(["Test Shop — Price List 2027"])
    sheet.append([])
    sheet.append(["Item No.", "Product Name", "Unit Price", "Currency", "Stock", "Notes"])
    sheet.append(["SQ-S", "Squall Shell Jacket S", 189, "USD", None, "sizes S–M sold out"])
    sheet.append(["TH-MUG", "Thermo Mug", 24.5, "USD", 30, "Discontinued - last stock"])
    sheet.append(["CB-BTL", "Canyon Bottle", 19, "USD", None, "Pre-order"])
    path = tmp_path / "price_list.xlsx"
    book.save(path)
    ingest(service, path)
    medium = ask(service, "Is the Squall Shell Jacket in size M in stock?")
    assert "out of stock" in medium, medium
    large = ask(service, "Is the Squall Shell Jacket in size L in stock?")
    assert "in stock (3 available)" in large, large
    sizes = ask(service, "What sizes does the Squall Shell Jacket come in?")
    assert "S (out of stock)" in sizes and "M (out of stock)" in sizes and "L (out" not in sizes
    mug = ask(service, "Is the Thermo Mug in stock?")
    assert "30 available" in mug and "discontinued" in mug, mug
    bottle = ask(service, "Is the Canyon Bottle in stock?")
    assert "out of stock" in bottle and "pre-order" in bottle, bottle


def test_nothing_is_made_up_where_no_source_says(tmp_path, embeddings):
    service = fresh_service(tmp_path, embeddings)
    export = tmp_path / "export.csv"
    export.write_text("SKU,Title,Price,Category\nMB-MAP-1,Moorland Map Case,$25.00,Accessories\n")
    ingest(service, export)
    product = next(s.product for s in service.retrieve("Moorland Map Case", k=3).sources
                   if s.id == "MB-MAP-1")
    assert isinstance(product, Product)
    assert product.available() is None and product.quantity() is None
    assert product.variants[0].weight_grams is None
    assert "in stock" not in ask(service, "Is the Moorland Map Case in stock?")
