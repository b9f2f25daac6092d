"""Column recognition and value parsing for messy store exports."""

import pytest

from shopbot.ingest.fields import map_headers, parse_price, parse_stock, split_category


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("$349.00", (349.0, "USD")),
        ("$1,299.00", (1299.0, "USD")),
        ("24.95 USD", (24.95, "USD")),
        ("129.00 (sale)", (129.0, "USD")),
        ("€49,95", (49.95, "EUR")),
        ("1.299,00 EUR", (1299.0, "EUR")),
        ("£12", (12.0, "GBP")),
        ("12,000", (12000.0, "USD")),
        (79.5, (79.5, "USD")),
        ("", (None, None)),
        ("call us", (None, None)),
        (None, (None, None)),
    ],
)
def test_prices_from_messy_cells(raw, expected):
    assert parse_price(raw, "USD") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), (7.0, 7), ("0", 0), ("3 units", 3), ("sold out", 0), ("", None), ("lots", None)],
)
def test_stock_values(raw, expected):
    assert parse_stock(raw) == expected


def test_shopify_style_headers_are_recognised_case_and_space_insensitively():
    headers = [
        "Handle", "TITLE", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags",
        "Variant SKU", "Variant Price", "Variant Compare At Price", "variant inventory qty",
        "Image Src", "Image Alt Text", "SEO Title", "URL",
    ]
    mapping = {field: headers[col] for field, col in map_headers(headers).items()}
    assert mapping == {
        "id": "Variant SKU",
        "title": "TITLE",
        "price": "Variant Price",
        "brand": "Vendor",
        "category": "Product Category",
        "url": "URL",
        "image": "Image Src",
        "stock": "variant inventory qty",
        "description": "Body (HTML)",
    }


def test_price_list_headers_with_units_and_spacing():
    headers = ["Item No.", " Product  Name ", "Unit Price (USD)", "Currency", "In Stock", "Colours"]
    mapping = {field: headers[col] for field, col in map_headers(headers).items()}
    assert mapping["id"] == "Item No."
    assert mapping["title"] == " Product  Name "
    assert mapping["price"] == "Unit Price (USD)"
    assert mapping["currency"] == "Currency"
    assert mapping["stock"] == "In Stock"
    assert "Colours" not in mapping.values()


def test_category_paths_split_on_common_separators():
    assert split_category("Camping | Tents | Backpacking Tents") == [
        "Camping", "Tents", "Backpacking Tents",
    ]
    assert split_category("Footwear > Boots") == ["Footwear", "Boots"]
    assert split_category("") == []
