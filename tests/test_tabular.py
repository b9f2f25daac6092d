"""Store exports (CSV, XLSX, JSON/JSONL) become one product record per row."""

import csv
import io
import json

import pytest
from dataclasses import dataclass

from shopbot.products import Product
from openpyxl import Workbook

from shopbot.ingest import IngestError
from shopbot.ingest.tabular import products_from_tables, read_csv, read_json, read_xlsx

EXPORT_HEADERS = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags",
    "Published", "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value",
    "Variant SKU", "Variant Grams", "Variant Inventory Qty", "Variant Price",
    "Variant Compare At Price", "Variant Requires Shipping", "Variant Taxable",
    "Variant Barcode", "Image Src", "Image Alt Text", "Gift Card", "SEO Title",
    "SEO Description", "Google Shopping / Gender", "Status",
]


def messy_export() -> bytes:
    rows = [
        {
            "Handle": "trail-stove", "Title": "Trail Stove", "Vendor": "Emberline",
            "Body (HTML)": '<p>Boils 1 litre in 3 minutes, folds to 9 cm.</p>\n<p>Says "quiet" on the box.</p>',
            "Product Category": "Camp Kitchen | Stoves", "Variant SKU": "KT-100",
            "Variant Price": "$1,299.00", "Variant Inventory Qty": "4",
            "Option1 Name": "Colour", "Option1 Value": "Copper, Graphite",
        },
        {
            "Handle": "mug", "Title": "Enamel Mug", "Vendor": "",
            "Body (HTML)": "Holds 350 ml", "Product Category": "Camp Kitchen | Drinkware",
            "Variant SKU": "KT-101", "Variant Price": "24.95 USD", "Variant Inventory Qty": "0",
            "Variant Barcode": "0123456789012",
        },
        {"Handle": "", "Title": "", "Variant SKU": ""},  # a blank export row
        {
            "Handle": "spork", "Title": "Titanium Spork", "Vendor": "Emberline",
            "Product Category": "Camp Kitchen", "Variant SKU": "KT-102",
            "Variant Price": "129.00 (sale)",
        },
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_HEADERS, quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


@dataclass
class Row:
    """One single-variant product as its row said it: SKU, price and stock are its
    variant's."""

    product: Product

    def __getattr__(self, name):
        variant = self.product.variants[0]
        if name == "id":
            return variant.sku or self.product.id
        if name == "stock":
            return variant.quantity
        if name in ("price", "currency"):
            return getattr(variant, name)
        return getattr(self.product, name)

    def to_text(self):
        return self.product.to_text()


def records(tables):
    return [Row(product) for product, _ in products_from_tables(tables, "USD", "doc")]


def test_messy_csv_export_gives_one_clean_record_per_row():
    stove, mug, spork = records(read_csv(messy_export()))
    assert (stove.id, stove.title, stove.price, stove.currency) == ("KT-100", "Trail Stove", 1299.0, "USD")
    assert stove.brand == "Emberline"
    assert stove.category == "Stoves"
    assert stove.category_path == "Camp Kitchen > Stoves"
    assert stove.stock == 4
    # HTML is stripped, the quoted commas, quotes and newline survive as text
    assert "Boils 1 litre in 3 minutes, folds to 9 cm." in stove.description
    assert '"quiet"' in stove.description
    assert "<p>" not in stove.description
    assert (mug.price, mug.brand, mug.stock) == (24.95, "", 0)
    assert spork.price == 129.0


def test_every_non_empty_column_stays_searchable():
    stove, mug, _ = records(read_csv(messy_export()))
    text = stove.to_text()
    for value in ("Copper, Graphite", "Colour", "trail-stove", "Emberline", "$1,299.00"[1:]):
        assert value in text
    assert "0123456789012" in mug.to_text()
    # empty columns do not add noise
    assert "SEO Title" not in text


def test_semicolon_separated_csv_is_detected():
    data = "Name;Price;Brand\nHeadlamp H2;39,90 €;Lumo\n".encode()
    (lamp,) = records(read_csv(data))
    assert (lamp.title, lamp.price, lamp.currency, lamp.brand) == ("Headlamp H2", 39.9, "EUR", "Lumo")


def test_csv_without_product_columns_is_rejected_with_the_headers_found():
    data = b"date,visitors,bounce\n2026-01-01,10,0.4\n"
    with pytest.raises(IngestError, match="No product columns recognised.*date, visitors, bounce"):
        records(read_csv(data))


def test_xlsx_price_list_with_a_title_row_above_the_header():
    book = Workbook()
    sheet = book.active
    sheet.title = "Footwear"
    sheet.append(["Ridgeline Footwear Price List 2026"])
    sheet.append([])
    sheet.append(["Item No.", "Product Name", "Brand", "Unit Price", "Stock", "Sizes"])
    sheet.append(["FW-1", "Scree Mid Boot", "Talus", 189.0, 7, "EU 40-46"])
    sheet.append(["FW-2", "River Sandal", None, 59.5, 0, "EU 38-45"])
    second = book.create_sheet("Apparel")
    second.append(["Item No.", "Product Name", "Unit Price"])
    second.append(["AP-1", "Ridge Fleece", 79])
    out = io.BytesIO()
    book.save(out)
    boot, sandal, fleece = records(read_xlsx(out.getvalue()))
    assert (boot.id, boot.title, boot.price, boot.stock) == ("FW-1", "Scree Mid Boot", 189.0, 7)
    assert "Sizes: EU 40-46" in boot.to_text()
    assert (sandal.brand, sandal.stock) == ("", 0)
    assert (fleece.title, fleece.price) == ("Ridge Fleece", 79.0)


def test_damaged_xlsx_is_a_clear_error():
    with pytest.raises(IngestError, match="damaged or not a real .xlsx"):
        read_xlsx(b"PK\x03\x04 this is not really a workbook")


def test_jsonl_feed_and_json_wrapper():
    lines = "\n".join(
        json.dumps(item)
        for item in [
            {"sku": "LT-1", "name": "Camp Lantern", "price": 45, "currency": "USD", "colours": ["red", "olive"]},
            {"sku": "LT-2", "name": "Headlamp", "price": "$29.00", "stock": 3},
        ]
    ).encode()
    lantern, lamp = records(read_json(lines, lines=True))
    assert (lantern.id, lantern.title, lantern.price) == ("LT-1", "Camp Lantern", 45.0)
    assert "colours: red, olive" in lantern.to_text()
    assert (lamp.price, lamp.stock) == (29.0, 3)
    (only,) = records(read_json(b'{"products": [{"title": "Tarp", "price": 60}]}', lines=False))
    assert only.title == "Tarp"
    with pytest.raises(IngestError, match="JSON is not valid"):
        read_json(b'{"products": [', lines=False)
