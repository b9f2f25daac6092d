"""Shop-platform importers on real exports: Magento 2 (our fixture and the real Luma sample
data), PrestaShop products + combinations, Google Merchant Center feeds (TSV, RSS, Atom)."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from shopbot.ingest.platforms import importer_for, magento, merchant, prestashop
from shopbot.ingest.platforms._shared import rows_as_dicts
from shopbot.ingest.tabular import read_csv

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
REAL_MAGENTO = (
    Path(__file__).resolve().parents[2] / "shared" / "realdata" / "magento" / "products.csv"
)
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
    # WJ-RAIN-L-Blue is listed but disabled (product_online 2): not sold, not a variant
    assert [v.sku for v in jacket.variants] == ["WJ-RAIN-S-Blue", "WJ-RAIN-M-Blue", "WJ-RAIN-M-Red"]
    assert jacket.option_values("Size") == ["S", "M"]
    assert jacket.option_values("Colour") == ["Blue", "Red"]
    red = jacket.variant("WJ-RAIN-M-Red")
    assert red.options == {"Size": "M", "Colour": "Red"}
    assert (red.price, red.quantity, red.in_stock, red.available()) == (95.0, 0, False, False)
    assert red.image == "/w/j/wj-rain-red.jpg"
    assert jacket.price_range(NOW) == (89.0, 95.0)
    assert jacket.categories == [
        "Women > Jackets & Coats > Rain", "Collections > Outdoor, Wet & Wild",
    ]
    assert jacket.attributes["Climate"] == "Rainy, Windy, Cool"
    assert jacket.attributes["Fit"] == "Relaxed, hip length"  # a comma inside a value
    assert "Has Options" not in jacket.attributes and "Manufacturer" not in jacket.attributes
    assert "<" not in jacket.description and "– packs" in jacket.description
    assert "10,000 mm" in jacket.description
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
    assert mug.description == "Keeps tea hot for 6 hours — 350 ml."
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
    assert (child.price, child.currency, child.quantity) == (52.0, "USD", 100)
    assert child.available() is True
    assert "Men > Tops > Hoodies & Sweatshirts" in hoodie.categories
    categories = {c for p in products.values() for c in p.categories}
    assert not any(c.startswith("Default Category") for c in categories)
    assert hoodie.attributes["Material"] == "Wool"
    assert hoodie.attributes["Climate"] == "All-weather, Cool, Indoor, Spring, Windy"
    assert "<p>" not in hoodie.description
    assert hoodie.description.startswith("Ideal for cold-weather")


def test_real_magento_entities_decoded(luma):
    products = luma[2]
    titles = [p.title for p in products]
    assert "Mars HeatTech™ Pullover" in titles
    assert not any("&" in t and ";" in t for t in titles)
    assert not any(e in p.description for p in products for e in ("&bull;", "&trade;", "&reg;"))
    assert any("•" in p.description for p in products)


# --- PrestaShop ---------------------------------------------------------------------------


@pytest.fixture()
def presta():
    headers, rows = table(FIXTURES / "prestashop_products.csv")
    combo_headers, combo_rows = table(FIXTURES / "prestashop_combinations.csv")
    return headers, rows, combo_headers, combo_rows


def test_prestashop_products_file(presta):
    headers, rows, _, _ = presta
    assert importer_for(headers) is prestashop
    products = by_id(prestashop.read(rows, "EUR"))
    assert list(products) == ["101", "102", "103", "104", "105"]
    shirt = products["101"]
    assert (shirt.title, shirt.brand) == ("Coastal Linen Shirt", "Tidewater")
    assert shirt.categories == ["Men", "Shirts"]  # the root "Home" dropped
    assert shirt.variants[0].price == 48.0  # the tax-included price is what shoppers pay
    assert shirt.variants[0].sku == "LS-100" and shirt.variants[0].quantity == 14
    assert shirt.attributes == {"Material": "Linen", "Fit": "Regular", "Condition": "new"}
    assert shirt.tags == ["summer", "linen"] and shirt.url == "/101-coastal-linen-shirt.html"
    assert "<" not in shirt.description and "– no ironing" in shirt.description
    bottle = products["102"]
    assert bottle.title == "Trail Bottle 750 ml"  # &nbsp; as a plain space
    assert bottle.categories == ["Gear"]  # a bare category id names nothing: dropped
    (variant,) = bottle.variants
    assert (variant.price, variant.compare_at_price) == (10.0, 12.5)  # "12,50" less 20 %
    assert not variant.sale_active(NOW) and bottle.price_range(NOW) == (12.5, 12.5)
    assert variant.available() is False and variant.barcode == "4006381333931"
    assert products["103"].status == "draft" and products["104"].status == "hidden"
    assert [p.id for p in products.values() if p.visible] == ["101", "102", "105"]


def test_prestashop_combination_prices_and_stock(presta):
    _, rows, combo_headers, combo_rows = presta
    assert prestashop.matches_combinations(combo_headers) and not prestashop.matches(combo_headers)
    products = prestashop.merge_combinations(prestashop.read(rows, "EUR"), combo_rows, "EUR")
    products = by_id(products)
    shirt = products["101"]
    assert shirt.options == ["Size", "Color"]
    prices = {v.sku: v.price for v in shirt.variants}
    # base 48.00 incl. tax (40.00 excl.) + a tax-excluded impact of 5.00 at the same 20 % tax
    assert prices == {"LS-100-S-WHT": 48.0, "LS-100-M-WHT": 48.0, "LS-100-L-NAV": 54.0}
    navy = shirt.variant("LS-100-L-NAV")
    assert navy.options == {"Size": "L", "Color": "Navy"} and navy.quantity == 4
    assert navy.image == "https://shop.example/img/ls-navy.jpg"
    assert shirt.variant("LS-100-M-WHT").available() is False
    assert shirt.option_values("Color") == ["White", "Navy"]
    beanie = products["105"]
    red = beanie.variant("BN-RED")
    assert (red.price, red.compare_at_price) == (13.0, 18.0)  # 20.00 - 2.00, then 5.00 off
    assert red.sale_active(NOW) and beanie.price_range(NOW) == (13.0, 15.0)
    assert [v.sku for v in products["102"].variants] == ["TB-750"]  # no combinations: as it was
    assert "GHOST-XL" not in {v.sku for p in products.values() for v in p.variants}


# --- Google Merchant Center ---------------------------------------------------------------


@pytest.fixture(scope="module")
def feed():
    headers, rows = table(FIXTURES / "merchant_feed.tsv")
    return headers, rows, merchant.read(rows, "USD")


def test_merchant_tsv_groups_items_into_products(feed):
    headers, rows, products = feed
    assert importer_for(headers) is merchant
    assert len(rows) == 6
    products = by_id(products)
    assert list(products) == ["HS", "TEE", "LAMP-1"]
    tee = products["TEE"]
    assert tee.title == "Dune Tee" and tee.options == ["Color", "Size"]
    assert tee.categories == ["Men > Tops > Tees"]
    assert tee.variant("TEE-M-WHT").options == {"Color": "White", "Size": "M"}
    assert tee.variant("TEE-M-WHT").price == 24.0 and tee.price_range(NOW) == (22.0, 24.0)
    assert tee.variant("TEE-S-BLK").weight_grams == 200.0
    scarf = products["HS"]
    assert scarf.title == "Harbor Scarf" and scarf.options == ["Color"]
    assert scarf.attributes["Material"] == "Wool"  # the same for every item: not an option
    assert scarf.description == "Soft merino scarf – 180 cm long."
    assert len(scarf.images) == 4
    lamp = products["LAMP-1"]
    assert lamp.title == "Desk Lamp & Shade" and lamp.options == [] and lamp.categories == []
    (bulb,) = lamp.variants
    assert (bulb.price, bulb.currency, bulb.barcode) == (49.99, "EUR", "4006381333931")
    assert bulb.weight_grams == pytest.approx(1133.98, abs=0.01)
    assert lamp.attributes["MPN"] == "DL-100" and lamp.attributes["Condition"] == "refurbished"


def test_merchant_availability_to_stock(feed):
    products = by_id(feed[2])
    stock = {v.sku: v.available() for p in products.values() for v in p.variants}
    assert stock == {"HS-TEAL": True, "HS-NAVY": False, "TEE-S-BLK": True,
                     "TEE-M-BLK": False, "TEE-M-WHT": True, "LAMP-1": True}  # "in stock" too
    assert products["TEE"].attributes["Availability"] == "backorder"


def test_merchant_sale_windows(feed):
    scarf = by_id(feed[2])["HS"]
    teal, navy = scarf.variant("HS-TEAL"), scarf.variant("HS-NAVY")
    assert (teal.price, teal.compare_at_price) == (30.0, 35.0) and teal.sale_active(NOW)
    assert (navy.price, navy.compare_at_price) == (28.0, 35.0)
    assert not navy.sale_active(NOW) and navy.current_price(NOW) == 35.0
    # "2024-02-24T13:00-0800/2024-02-29T15:30-0800": offsets kept
    assert navy.sale_active(datetime(2024, 2, 24, 21, 0, tzinfo=timezone.utc))
    assert not navy.sale_active(datetime(2024, 2, 24, 20, 59, tzinfo=timezone.utc))
    assert not navy.sale_active(datetime(2024, 2, 29, 23, 30, tzinfo=timezone.utc))
    assert scarf.price_range(NOW) == (30.0, 35.0)


@pytest.mark.parametrize("name", ["merchant_feed.xml", "merchant_feed_atom.xml"])
def test_merchant_xml_feeds_give_the_same_products(feed, name):
    rows = merchant.rows_from_xml((FIXTURES / name).read_bytes())
    assert [r["id"] for r in rows] == [r["id"] for r in feed[1]]
    assert merchant.matches(list(rows[0]))
    assert merchant.read(rows, "USD") == feed[2]
    if name == "merchant_feed.xml":
        assert rows[-1]["shipping"] == "DE::Standard:4.95 EUR"  # as a TSV feed writes it


def test_merchant_xml_refuses_entity_declarations():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><rss xmlns:g="http://base.google.com/ns/1.0">'
            b"<channel><item><g:id>&b;</g:id></item></channel></rss>")
    with pytest.raises(Exception, match="(?i)entit"):
        merchant.rows_from_xml(bomb)


# --- which importer claims which file -----------------------------------------------------


def test_each_importer_claims_only_its_own_export():
    exports = {
        magento: table(FIXTURES / "magento_products.csv")[0],
        prestashop: table(FIXTURES / "prestashop_products.csv")[0],
        merchant: table(FIXTURES / "merchant_feed.tsv")[0],
    }
    combinations = table(FIXTURES / "prestashop_combinations.csv")[0]
    for module, headers in exports.items():
        assert importer_for(headers) is module
        for other in exports:
            assert other.matches(headers) is (other is module), (other.NAME, module.NAME)
    for module in exports:
        assert not module.matches(GENERIC_HEADERS)
        assert not module.matches(["id", "title", "price", "link", "availability"])
        assert not module.matches(combinations)
    if REAL_MAGENTO.is_file():
        real = table(REAL_MAGENTO)[0]
        assert not prestashop.matches(real) and not merchant.matches(real)
