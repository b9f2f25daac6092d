"""Shop-platform importers on real exports: Magento 2 (our fixture and the real Luma sample
data), PrestaShop products + combinations, Google Merchant Center feeds (TSV, RSS, Atom)."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from shopbot.ingest.platforms import importer_for, magento
from shopbot.ingest.platforms._shared import rows_as_dicts
from shopbot.ingest.tabular import read_csv

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
REAL_MAGENTO = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "magento" / "products.csv"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
GENERIC_HEADERS = ["SKU", "Title", "Price"]


def table(path: Path, delimiter: str | None = None) -> tuple[list[str], list[dict[str, str]]]:
    rows = read_csv(path.read_bytes(), delimiter)[0].rows
    return rows[0], rows_as_dicts(rows)


def by_id(products):
    return {p.id: p for p in products}


# --- Magento: our fixture ---------------------------------------------------------------


@pytest.fixture(scope="module")
def magento_fixture():
    headers, rows = table(FIXTURES / "magento_products.csv")
    return headers, by_id(magento.read(rows, "USD"))


def test_magento_fixture_configurable_with_children_as_variants(magento_fixture):
    _, products = magento_fixture
    assert set(products) == {"WJ-RAIN", "TRAVEL-MUG", "SPARE-LID", "OLD-TENT"}  # no child SKUs
    jacket = products["WJ-RAIN"]
    assert jacket.title == "Aurora StormShell® Rain Jacket"
    assert jacket.brand == "Northwind"
    assert jacket.options == ["Size", "Colour"]  # labels from configurable_variation_labels
    assert [v.sku for v in jacket.variants] == ["WJ-RAIN-S-Blue", "WJ-RAIN-M-Blue", "WJ-RAIN-M-Red"]
    assert jacket.option_values("Colour") == ["Blue", "Red"]
    red = jacket.variant("WJ-RAIN-M-Red")
    assert red.options == {"Size": "M", "Colour": "Red"}
    assert (red.price, red.quantity, red.in_stock, red.available()) == (95.0, 0, False, False)
    assert red.image == "/w/j/wj-rain-red.jpg"
    assert jacket.price_range(NOW) == (89.0, 95.0)
    assert jacket.categories == ["Women > Jackets & Coats > Rain", "Collections > Outdoor, Wet & Wild"]
    assert jacket.attributes["Climate"] == "Rainy, Windy, Cool"
    assert jacket.attributes["Fit"] == "Relaxed, hip length"  # a comma inside a value
    assert "Has Options" not in jacket.attributes and "Manufacturer" not in jacket.attributes
    assert "<" not in jacket.description and "– packs" in jacket.description
    assert "10,000\xa0mm" in jacket.description
    assert jacket.images[0] == "/w/j/wj-rain-blue.jpg" and len(jacket.images) == 3
    assert jacket.url == "/aurora-stormshell-rain-jacket.html"  # no url_key: built from the name


def test_magento_fixture_sale_windows(magento_fixture):
    _, products = magento_fixture
    expired = products["WJ-RAIN"].variant("WJ-RAIN-M-Blue")
    assert (expired.price, expired.compare_at_price) == (69.0, 89.0)
    assert expired.sale_ends == datetime(2020, 2, 1)  # through the whole "to" day
    assert not expired.sale_active(NOW) and expired.current_price(NOW) == 89.0
    assert expired.sale_active(datetime(2020, 1, 31, 23, 0, tzinfo=timezone.utc))
    mug = products["TRAVEL-MUG"]
    (variant,) = mug.variants
    assert (variant.price, variant.compare_at_price, variant.sale_ends) == (14.0, 19.99, None)
    assert variant.sale_active(NOW) and mug.price_range(NOW) == (14.0, 14.0)
    assert variant.barcode == "0123456789012" and variant.quantity == 40


def test_magento_fixture_statuses_texts_and_store_views(magento_fixture):
    _, products = magento_fixture
    assert products["SPARE-LID"].status == "hidden" and not products["SPARE-LID"].visible
    assert products["OLD-TENT"].status == "draft"
    assert products["OLD-TENT"].variants[0].quantity is None  # stock not managed
    assert products["WJ-RAIN"].visible
    mug = products["TRAVEL-MUG"]
    assert mug.title == "Thermo Mug & Lid"  # the "de" store-view row does not replace it
    assert mug.description == "Keeps tea hot for 6\xa0hours — 350 ml."
    assert mug.url == "/thermo-mug.html" and mug.categories == ["Gear > Kitchen"]
    assert all(p.platform == "magento" for p in products.values())


# --- Magento: the real Luma sample data --------------------------------------------------


@pytest.fixture(scope="module")
def luma():
    if not REAL_MAGENTO.is_file():
        pytest.skip(f"real Magento sample not found at {REAL_MAGENTO} (../shared/realdata/)")
    headers, rows = table(REAL_MAGENTO)
    return headers, rows, magento.read(rows, "USD")


def test_real_magento_sample_147_products_from_1994_rows(luma):
    headers, rows, products = luma
    assert len(rows) == 1994
    assert importer_for(headers) is magento
    assert len(products) == 147
    child_skus = {r["sku"] for r in rows if r["visibility"] == "Not Visible Individually"}
    assert len(child_skus) == 1847
    assert not child_skus & {p.id for p in products}
    assert sum(len(p.variants) for p in products) == 1847
    assert {v.sku for p in products for v in p.variants} == child_skus
    assert all(p.status == "active" for p in products)


def test_real_magento_known_configurable(luma):
    products = by_id(luma[2])
    hoodie = products["MH01"]
    assert hoodie.title == "Chaz Kangeroo Hoodie"
    assert hoodie.options == ["Size", "Color"]
    assert hoodie.option_values("Size") == ["XS", "S", "M", "L", "XL"]
    assert hoodie.option_values("Color") == ["Black", "Gray", "Orange"]
    child = hoodie.variant("MH01-XS-Black")
    assert child.options == {"Size": "XS", "Color": "Black"}
    assert (child.price, child.currency, child.quantity, child.available()) == (52.0, "USD", 100, True)
    assert "Men > Tops > Hoodies & Sweatshirts" in hoodie.categories
    assert not any(c.startswith("Default Category") for p in products.values() for c in p.categories)
    assert hoodie.attributes["Material"] == "Wool"
    assert hoodie.attributes["Climate"] == "All-weather, Cool, Indoor, Spring, Windy"
    assert "<p>" not in hoodie.description and hoodie.description.startswith("Ideal for cold-weather")


def test_real_magento_entities_decoded(luma):
    products = luma[2]
    titles = [p.title for p in products]
    assert "Mars HeatTech™ Pullover" in titles
    assert not any("&" in t and ";" in t for t in titles)
    assert not any(e in p.description for p in products for e in ("&bull;", "&trade;", "&reg;"))
    assert any("•" in p.description for p in products)
