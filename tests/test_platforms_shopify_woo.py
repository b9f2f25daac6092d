"""Shopify and WooCommerce product exports -> typed products with variants (issue 12).

The fixtures in tests/fixtures/platforms/ are written by us after each platform's documented
export columns, messy the way real exports are (continuation rows, blank columns, HTML and
entities, quoted commas, hidden products, sales in and out of their window). They are read
with the real CSV reader, as an upload would be.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from shopbot.ingest.platforms import importer_for, shopify, woocommerce
from shopbot.ingest.tabular import read_csv
from shopbot.products import Product

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
# A moment inside the fixtures' current sale windows and after their expired one.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)


def table(name: str) -> tuple[list[str], list[dict[str, str]]]:
    (found,) = read_csv((FIXTURES / name).read_bytes())
    headers, *rows = found.rows
    return headers, [dict(zip(headers, row)) for row in rows]


def by_id(products: list[Product]) -> dict[str, Product]:
    return {product.id: product for product in products}


@pytest.fixture(scope="module")
def shopify_products() -> dict[str, Product]:
    _, rows = table("shopify_products.csv")
    return by_id(shopify.read(rows, "USD"))


@pytest.fixture(scope="module")
def woo_products() -> dict[str, Product]:
    _, rows = table("woocommerce_products.csv")
    return by_id(woocommerce.read(rows, "EUR"))


GENERIC_HEADERS = ["SKU", "Title", "Price"]


# --- Shopify -------------------------------------------------------------------------------


def test_shopify_matches_its_own_export_only():
    shopify_headers, _ = table("shopify_products.csv")
    woo_headers, _ = table("woocommerce_products.csv")
    assert shopify.matches(shopify_headers)
    assert not shopify.matches(woo_headers)
    assert not shopify.matches(GENERIC_HEADERS)
    assert importer_for(shopify_headers) is shopify
    # Shopify's newer export spells the columns differently; it is still Shopify's.
    assert shopify.matches(["Title", "URL handle", "Description", "SKU", "Option1 name",
                            "Option1 value", "Price"])


def test_shopify_rows_sharing_a_handle_are_one_product(shopify_products):
    assert list(shopify_products) == [
        "harbor-scarf", "ridge-shell-jacket", "winter-beanie", "canvas-tote", "old-rain-hat",
    ]
    scarf = shopify_products["harbor-scarf"]
    assert scarf.title == "Harbor Scarf"
    assert scarf.platform == "shopify"
    assert scarf.brand == "Northwind Knits"
    assert scarf.options == ["Color"]
    assert scarf.option_values("Color") == ["Teal", "Rust", "Charcoal"]
    assert scarf.categories == [
        "Apparel & Accessories > Clothing Accessories > Scarves & Shawls", "Scarves",
    ]
    assert scarf.tags == ["merino", "winter", "gift ideas"]
    assert scarf.attributes == {"Material": "Merino wool"}


def test_shopify_image_only_rows_add_images_not_variants(shopify_products):
    scarf = shopify_products["harbor-scarf"]
    assert len(scarf.variants) == 3
    assert [url.rsplit("/", 1)[-1] for url in scarf.images] == [
        "harbor-scarf-teal.jpg", "harbor-scarf-rust.jpg", "harbor-scarf-detail.jpg",
    ]
    assert scarf.variant("HS-RUST").image.endswith("harbor-scarf-rust.jpg")
    assert scarf.variant("HS-CHAR").image == ""


def test_shopify_variant_prices_sale_and_stock(shopify_products):
    scarf = shopify_products["harbor-scarf"]
    teal, rust, charcoal = scarf.variants
    assert (teal.sku, teal.price, teal.compare_at_price) == ("HS-TEAL", 39.0, 49.0)
    assert teal.currency == "USD"  # the shop's currency: Shopify writes bare numbers
    assert teal.sale_active(NOW) and teal.current_price(NOW) == 39.0
    assert teal.barcode == "0012345678905"  # the spreadsheet's leading apostrophe dropped
    assert teal.weight_grams == 180.0
    assert (rust.price, rust.compare_at_price) == (42.0, None)  # its own price, no sale
    assert not rust.sale_active(NOW)
    # A compare-at price equal to the price is not a sale.
    assert charcoal.compare_at_price == 39.0 and not charcoal.sale_active(NOW)
    assert (teal.quantity, rust.quantity, charcoal.quantity) == (12, 4, 0)
    assert teal.available() and not charcoal.available()
    assert scarf.price_range(NOW) == (39.0, 42.0)


def test_shopify_two_options_and_untracked_inventory(shopify_products):
    jacket = shopify_products["ridge-shell-jacket"]
    assert jacket.options == ["Size", "Color"]
    assert [v.options for v in jacket.variants] == [
        {"Size": "S", "Color": "Navy"},
        {"Size": "M", "Color": "Navy"},
        {"Size": "L", "Color": "Navy"},
        {"Size": "M", "Color": "Moss"},
    ]
    assert jacket.option_values("Size") == ["S", "M", "L"]
    assert jacket.variant("RSJ-L-NVY").price == 199.0
    assert jacket.variant("RSJ-L-NVY").quantity == 0  # oversold (-2) is out of stock
    assert not jacket.variant("RSJ-L-NVY").available()
    moss = jacket.variant("RSJ-M-MOS")
    # No inventory tracker: Shopify sells it whatever the exported quantity says.
    assert moss.available() is True and moss.quantity is None
    assert jacket.price_range(NOW) == (189.0, 219.0)


def test_shopify_description_is_plain_text(shopify_products):
    scarf = shopify_products["harbor-scarf"].description
    assert "<" not in scarf and "&amp;" not in scarf
    assert "100% merino & recycled yarn" in scarf
    assert '180 cm × 30 cm, "fringed" ends' in scarf
    assert shopify_products["winter-beanie"].description == "Chunky rib knit & fold-over cuff."
    jacket = shopify_products["ridge-shell-jacket"].description
    assert jacket.startswith("Waterproof, breathable — packs into its own pocket")


def test_shopify_default_title_option_is_no_option(shopify_products):
    beanie = shopify_products["winter-beanie"]
    assert beanie.options == []
    assert len(beanie.variants) == 1 and beanie.variants[0].options == {}
    assert beanie.variants[0].sku == "WB-01"


def test_shopify_unpublished_draft_and_archived_are_not_active(shopify_products):
    assert shopify_products["harbor-scarf"].visible
    assert shopify_products["ridge-shell-jacket"].visible
    assert shopify_products["winter-beanie"].status == "hidden"  # active but Published=FALSE
    assert shopify_products["canvas-tote"].status == "draft"
    assert shopify_products["old-rain-hat"].status == "archived"
    assert not any(shopify_products[key].visible
                   for key in ("winter-beanie", "canvas-tote", "old-rain-hat"))


def test_shopify_newer_export_headers_are_read_too():
    rows = [
        {"Title": "Dune Cap", "URL handle": "dune-cap", "Description": "<p>Sun cap</p>",
         "Status": "Active", "Published on online store": "TRUE", "Option1 name": "Size",
         "Option1 value": "S/M", "SKU": "DC-SM", "Price": "25.00", "Compare-at price": "30.00",
         "Inventory tracker": "shopify", "Inventory quantity": "6",
         "Weight value (grams)": "80", "Product image URL": "https://cdn.example.com/cap.jpg"},
        {"Title": "", "URL handle": "dune-cap", "Description": "", "Status": "",
         "Published on online store": "", "Option1 name": "", "Option1 value": "L/XL",
         "SKU": "DC-LXL", "Price": "25.00", "Compare-at price": "", "Inventory tracker": "shopify",
         "Inventory quantity": "0", "Weight value (grams)": "85", "Product image URL": ""},
    ]
    assert shopify.matches(list(rows[0]))
    (cap,) = shopify.read(rows, "USD")
    assert (cap.id, cap.title, cap.description, cap.status) == (
        "dune-cap", "Dune Cap", "Sun cap", "active",
    )
    assert [(v.sku, v.options, v.price, v.compare_at_price, v.quantity, v.weight_grams)
            for v in cap.variants] == [
        ("DC-SM", {"Size": "S/M"}, 25.0, 30.0, 6, 80.0),
        ("DC-LXL", {"Size": "L/XL"}, 25.0, None, 0, 85.0),
    ]
    assert cap.images == ["https://cdn.example.com/cap.jpg"]


# --- WooCommerce ---------------------------------------------------------------------------


def test_woocommerce_matches_its_own_export_only():
    woo_headers, _ = table("woocommerce_products.csv")
    shopify_headers, _ = table("shopify_products.csv")
    assert woocommerce.matches(woo_headers)
    assert not woocommerce.matches(shopify_headers)
    assert not woocommerce.matches(GENERIC_HEADERS)
    assert importer_for(woo_headers) is woocommerce
    assert importer_for(GENERIC_HEADERS) is None


def test_woocommerce_variations_join_their_parent(woo_products):
    # 9 products; the 8 variation rows live inside their variable products.
    assert list(woo_products) == [
        "HH", "TS", "MUG-01", "LAMP-OLD", "STOVE-X", "STAFF-ONLY", "id:140", "KITCHEN-SET",
        "TG-BOOK",
    ]
    hoodie = woo_products["HH"]
    assert hoodie.platform == "woocommerce"
    assert hoodie.brand == "Harbor Goods"
    assert hoodie.options == ["Size", "Color"]
    # Parent by "id:101"; variation 105 is disabled (Published 0) and left out; a
    # variation's attribute numbering need not follow its parent's.
    assert [(v.sku, v.options) for v in hoodie.variants] == [
        ("HH-S-BLU", {"Size": "S", "Color": "Blue"}),
        ("HH-M-BLU", {"Size": "M", "Color": "Blue"}),
        ("HH-L-GRY", {"Size": "L", "Color": "Grey"}),
    ]
    # Parent by SKU, the variation listed before its parent; shop order from Position.
    socks = woo_products["TS"]
    assert [v.sku for v in socks.variants] == ["TS-36", "TS-40", "TS-44"]
    assert socks.option_values("Size") == ["36-39", "40-43", "44-46"]
    # Parent "TG-BOOK" by SKU for one variation, "id:160" for the other; the type
    # "variable, downloadable, virtual" is still variable.
    book = woo_products["TG-BOOK"]
    assert book.options == ["Format"]
    assert [v.options["Format"] for v in book.variants] == ["PDF", "EPUB"]


def test_woocommerce_sale_price_and_regular_price(woo_products):
    blue_s, blue_m, grey_l = woo_products["HH"].variants
    assert (blue_s.price, blue_s.compare_at_price, blue_s.currency) == (45.0, 59.0, "EUR")
    assert blue_s.sale_active(NOW) and blue_s.current_price(NOW) == 45.0
    # The sale's last day (June 30) is inclusive; July 1 it is over.
    assert blue_s.sale_active(datetime(2026, 6, 30, 23, 0, tzinfo=timezone.utc))
    assert not blue_s.sale_active(datetime(2026, 7, 1, 0, 0, tzinfo=timezone.utc))
    assert not blue_s.sale_active(datetime(2026, 5, 31, 23, 0, tzinfo=timezone.utc))
    # An empty Sale price does not hide the Regular price.
    assert (blue_m.price, blue_m.compare_at_price) == (59.0, None)
    assert not blue_m.sale_active(NOW)
    assert grey_l.price == 64.0  # a variation with its own price
    assert woo_products["HH"].price_range(NOW) == (45.0, 64.0)
    # A simple product on sale with no window; prices written with a decimal comma.
    mug = woo_products["MUG-01"].variants[0]
    assert (mug.price, mug.compare_at_price) == (14.0, 18.5)
    assert mug.sale_active(NOW)
    assert mug.barcode == "4006381333931"


def test_woocommerce_expired_sale_is_not_a_sale(woo_products):
    expired = woo_products["TS"].variant("TS-40")
    assert (expired.price, expired.compare_at_price) == (9.0, 14.0)
    assert expired.sale_ends == datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert not expired.sale_active(NOW)
    assert expired.current_price(NOW) == 14.0
    assert expired.sale_active(datetime(2026, 1, 15, tzinfo=timezone.utc))
    assert woo_products["TS"].price_range(NOW) == (14.0, 16.0)


def test_woocommerce_variation_falls_back_to_parent(woo_products):
    socks = woo_products["TS"]
    plain = socks.variant("TS-36")  # no price, stock, weight or image of its own
    assert (plain.price, plain.compare_at_price) == (14.0, None)
    assert (plain.quantity, plain.in_stock, plain.weight_grams) == (30, True, 120.0)
    assert plain.image.endswith("socks.jpg")
    own = socks.variant("TS-44")
    assert (own.price, own.quantity) == (16.0, 2)
    hoodie = woo_products["HH"]
    assert hoodie.variant("HH-S-BLU").weight_grams == 600.0  # the parent's 0.6 kg
    assert hoodie.variant("HH-L-GRY").weight_grams == 650.0
    assert hoodie.variant("HH-M-BLU").image.endswith("hoodie-blue.jpg")


def test_woocommerce_stock(woo_products):
    hoodie = woo_products["HH"]
    assert hoodie.variant("HH-S-BLU").quantity == 5
    out = hoodie.variant("HH-M-BLU")
    assert (out.quantity, out.in_stock, out.available()) == (0, False, False)
    assert hoodie.variant("HH-L-GRY").available()
    ebook = woo_products["TG-BOOK"].variants[0]
    assert ebook.quantity is None and ebook.available() is True  # in stock, not counted


def test_woocommerce_product_fields(woo_products):
    hoodie = woo_products["HH"]
    assert hoodie.categories == ["Clothing > Hoodies", "Clothing > Sale", "Gifts"]
    assert hoodie.tags == ["cosy", "organic"]
    assert [url.rsplit("/", 1)[-1] for url in hoodie.images] == [
        "hoodie-blue.jpg", "hoodie-grey.jpg",
    ]
    assert hoodie.attributes == {}  # both its attributes are its options
    # Short description first, then the description; HTML, entities and "\n" resolved.
    assert hoodie.description == (
        "Our warmest hoodie, brushed inside & out.\n\nDetails\n\n"
        "Organic cotton, 380 g/m²\nKangaroo pocket\n\nMachine wash at 30°C."
    )
    mug = woo_products["MUG-01"]
    # An escaped comma stays inside its category name; a hidden attribute is left out.
    assert mug.categories == ["Camping > Kitchen", "Gifts > Under 20, EUR"]
    assert mug.attributes == {"Capacity": "350 ml"}
    assert mug.options == [] and len(mug.variants) == 1
    assert mug.description == "Tough enamel mug, 350 ml – won't chip, \"campfire-safe\"."
    assert woo_products["TS"].attributes == {"Material": "Merino, 60%, Nylon, 40%"}


def test_woocommerce_external_and_grouped_products(woo_products):
    tent = woo_products["id:140"]  # no SKU: keyed by its ID
    assert tent.url == "https://fjellvik.example.com/dome-tent?ref=harbor"
    assert tent.attributes["Button text"] == "Buy at Fjellvik"
    assert tent.price_range(NOW) == (349.0, 349.0)
    assert tent.visible  # "catalog": listed in the shop, not in its search
    kit = woo_products["KITCHEN-SET"]
    assert kit.attributes["Includes"] == "Enamel Camp Mug, Trail Socks (2-pack)"
    assert kit.price_range(NOW) is None


def test_woocommerce_hidden_draft_and_private_are_not_active(woo_products):
    assert woo_products["LAMP-OLD"].status == "hidden"  # Visibility in catalog: hidden
    assert woo_products["STOVE-X"].status == "draft"  # Published -1
    assert woo_products["STAFF-ONLY"].status == "hidden"  # Published 0: private
    assert not any(woo_products[key].visible for key in ("LAMP-OLD", "STOVE-X", "STAFF-ONLY"))
    assert woo_products["HH"].visible and woo_products["TG-BOOK"].visible


def test_woocommerce_variation_without_its_parent_is_its_own_product():
    rows = [{
        "ID": "7", "Type": "variation", "SKU": "CAP-RED", "Name": "Cap - Red", "Published": "1",
        "Parent": "id:6", "Regular price": "20", "Sale price": "", "In stock?": "1", "Stock": "",
        "Attribute 1 name": "Color", "Attribute 1 value(s)": "Red",
    }]
    (cap,) = woocommerce.read(rows, "GBP")
    assert (cap.id, cap.title, cap.attributes) == ("CAP-RED", "Cap - Red", {"Color": "Red"})
    assert (cap.variants[0].price, cap.variants[0].currency) == (20.0, "GBP")
