"""The demo shop's catalog ingests completely and answers shoppers' searches; its store
exports look like the platforms' own (a Shopify export with a row per variant, a WooCommerce
export with variations and sale windows) and read back as catalog_data says."""

import datetime
import re
from collections import Counter

import pytest

from catalog import catalog_data
from shopbot.ingest.platforms import importer_for, shopify, woocommerce
from shopbot.ingest.tabular import products_from_tables, read_csv
from tests.conftest import CATALOG_DIR

D = catalog_data
# The demo's "today" (catalog_data.TODAY): inside the blanket's sale, before the shovel's,
# after the repair kit's.
NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.timezone.utc)
TABLE_FILES = ("products.csv", "price_list.xlsx", "new_arrivals.jsonl", D.WOO_FILE)


def stored_chunks(service):
    return service.store.chunks.get(include=["metadatas"])["metadatas"]


def exported(name):
    """The products of one demo export, read as an upload is (real CSV reader, importer
    chosen by the header row), by product id."""
    tables = read_csv((CATALOG_DIR / name).read_bytes())
    return {product.id: product for product, _ in products_from_tables(tables, "USD", name)}


@pytest.fixture(scope="module")
def shop_export():
    return exported("products.csv")


@pytest.fixture(scope="module")
def woo_export():
    return exported(D.WOO_FILE)


def price_today(product):
    """A product's price on the day the test runs (the store prices its records then)."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return min(D.price_on(v, today) for v in product["variants"])


# --- the exports, read back -----------------------------------------------------------------


def test_each_export_is_read_by_its_platforms_importer():
    for name, importer in (("products.csv", shopify), (D.WOO_FILE, woocommerce)):
        (table,) = read_csv((CATALOG_DIR / name).read_bytes())
        assert importer_for(table.rows[0]) is importer, name


@pytest.mark.parametrize("name", ["products.csv", D.WOO_FILE])
def test_every_exported_product_reads_back_as_catalog_data_says(name):
    products = exported(name)
    expected = [p for p in D.PRODUCTS + D.HIDDEN_PRODUCTS if p["file"] == name]
    assert set(products) == {p["product_id"] for p in expected}
    for want in expected:
        got = products[want["product_id"]]
        assert (got.title, got.brand, got.status) == (
            want["title"], want["brand"], want["status"]), want["sku"]
        assert got.options == want["options"], want["sku"]
        assert got.quantity() == want["stock"], want["sku"]
        assert got.price(NOW) == pytest.approx(want["price"]), want["sku"]
        assert len(got.variants) == len(want["variants"]), want["sku"]
        for variant, data in zip(got.variants, want["variants"]):
            assert (variant.sku, variant.options, variant.quantity) == (
                data["sku"], data["options"], data["stock"]), want["sku"]
            assert variant.price == pytest.approx(data["price"]), data["sku"]
            # Some rows not on sale repeat the price as their compare-at price, as staff do.
            assert variant.compare_at_price in (data["compare_at_price"], data["price"]), data["sku"]
            assert variant.sale_active(NOW) == D.sale_active(data), data["sku"]
            assert variant.available() is (data["stock"] > 0), data["sku"]


def test_the_shopify_export_sells_in_colours_and_sizes_with_stock_per_variant(shop_export):
    with_variants = [p for p in shop_export.values() if p.visible and len(p.variants) > 1]
    assert len(with_variants) >= 30
    assert sum("Size" in p.options for p in with_variants) >= 20
    # Every variant's stock is tracked (a blank tracker would mean "always available").
    assert all(v.quantity is not None for p in shop_export.values() for v in p.variants)
    partly_sold_out = [p for p in with_variants if p.available()
                       and any(v.available() is False for v in p.variants)]
    assert len(partly_sold_out) >= 10
    assert [v.available() for v in shop_export["meadow-8-cabin-tent"].variants] == [False, False]
    # A bigger size costs more.
    glacier = shop_export["glacier-10-down-bag"]
    assert {v.label(): v.price for v in glacier.variants} == {
        "Deep Red / Regular": 529.0, "Deep Red / Long": 559.0,
        "Black / Regular": 529.0, "Black / Long": 559.0}
    assert glacier.price_range(NOW) == (529.0, 559.0)
    assert len([p for p in shop_export.values() if p.on_sale(NOW)]) >= 5
    # One colour of the Loft Camp Chair is reduced, the other is not.
    chair = shop_export["loft-camp-chair"]
    assert [(v.options["Colour"], v.price, v.sale_active(NOW)) for v in chair.variants] == [
        ("Charcoal", 99.0, True), ("Ocean Blue", 119.0, False)]


def test_old_skus_stay_the_first_variants_and_totals_stay_the_same(shop_export):
    alpine = shop_export["alpine-2-tent"]
    assert alpine.skus[0] == "RL-TNT-001" and len(alpine.skus) == 2
    assert alpine.quantity() == D.PRODUCTS_BY_SKU["RL-TNT-001"]["stock"] == 18
    for product in D.PRODUCTS:
        if product["file"] != "products.csv":
            continue
        got = shop_export[product["handle"]]
        assert got.variants[0].sku == product["sku"]
        assert got.variants[0].price == product["price"]
        assert got.quantity() == product["stock"]
        assert got.available() is (product["stock"] > 0)


def test_the_woocommerce_export_reads_as_variations_and_sale_windows(woo_export):
    pad = woo_export["RL-ACC-016"]
    assert pad.platform == "woocommerce" and pad.visible
    assert pad.categories == ["Camping > Camp Accessories > Sleeping Pads"]
    assert pad.options == ["Size"]
    assert [(v.sku, v.label(), v.price, v.quantity, v.available()) for v in pad.variants] == [
        ("RL-ACC-016-REG", "Regular", 149.0, 7, True),
        ("RL-ACC-016-LNG", "Long", 169.0, 0, False),
        ("RL-ACC-016-WLG", "Wide Long", 189.0, 4, True),
    ]
    assert pad.attributes["R-value"] == "4.2"
    assert pad.attributes["Dimensions"].count(",") == 2  # escaped commas kept in one value

    socks = woo_export["RL-ACC-017"]
    assert socks.options == ["Colour", "Size"]
    assert socks.option_values("Size") == ["M", "L", "XL"]
    assert [v.label() for v in socks.variants if not v.available()] == [
        "Charcoal / L", "Forest Green / XL"]

    blanket = woo_export["RL-ACC-018"]  # on sale today, until 4 January
    (variant,) = blanket.variants
    assert variant.sale_active(NOW) and blanket.price(NOW) == 69.0
    assert variant.compare_at_price == 89.0
    assert variant.sale_ends == datetime.datetime(2027, 1, 5, tzinfo=datetime.timezone.utc)

    shovel = woo_export["RL-ACC-019"]  # the sale starts on 26 December
    assert not shovel.on_sale(NOW) and shovel.price(NOW) == 79.0
    assert shovel.price(datetime.datetime(2026, 12, 28, tzinfo=datetime.timezone.utc)) == 59.0

    kit = woo_export["RL-ACC-020"]  # the October sale is over: full price again
    assert not kit.on_sale(NOW) and kit.price(NOW) == 24.95
    assert kit.variants[0].sale_ends < NOW

    assert woo_export["RL-ACC-021"].status == "hidden"


def test_the_demo_data_describes_its_variants_and_sales():
    assert D.TODAY == NOW.date()
    with_variants = [p for p in D.PRODUCTS if len(p["variants"]) > 1]
    assert len(with_variants) >= 30
    assert any(v["stock"] == 0 for p in with_variants if p["stock"] for v in p["variants"])
    priced_by_variant = [p for p in D.PRODUCTS if len({v["price"] for v in p["variants"]}) > 1]
    assert len(priced_by_variant) >= 3
    on_sale = [p for p in D.PRODUCTS if any(D.sale_active(v) for v in p["variants"])]
    assert len(on_sale) >= 5
    ended = [p for p in D.PRODUCTS if any(
        v["sale_ends"] and v["sale_ends"] < D.TODAY for v in p["variants"])]
    assert [p["sku"] for p in ended] == ["RL-ACC-020"]
    assert {p["status"] for p in D.HIDDEN_PRODUCTS} == {"draft", "hidden"}
    assert not {p["sku"] for p in D.HIDDEN_PRODUCTS} & set(D.PRODUCTS_BY_SKU)


# --- the seeded store -----------------------------------------------------------------------


def test_every_demo_file_and_product_is_indexed(demo_service):
    docs = demo_service.documents()
    kinds = Counter(d.kind for d in docs)
    assert set(kinds) >= {"csv", "xlsx", "jsonl", "pdf", "docx", "html", "md"}
    assert {d.source for d in docs} >= set(TABLE_FILES)
    stored_ids = {m["product_id"] for m in stored_chunks(demo_service) if "product_id" in m}
    expected = {p["product_id"] for p in D.PRODUCTS}
    assert len(expected) >= 150
    assert expected <= stored_ids
    # Every product of the tables has its record, hidden ones too (kept from shoppers).
    tables = [p for p in D.PRODUCTS + D.HIDDEN_PRODUCTS if p["file"] in TABLE_FILES]
    assert sum(d.products for d in docs if d.source in TABLE_FILES) == len(tables)


def test_products_keep_their_fields(demo_service):
    by_id = {}
    for meta in stored_chunks(demo_service):
        if meta.get("kind") == "product":
            by_id[meta["product_id"]] = meta
    for product in D.PRODUCTS:
        if product["product_id"] not in by_id:
            continue  # HTML-only products are passages, checked below
        meta = by_id[product["product_id"]]
        assert meta["title"] == product["title"], product["sku"]
        assert meta["price"] == pytest.approx(price_today(product)), product["sku"]
        assert meta.get("brand", "") == product["brand"], product["sku"]
        assert meta.get("stock") == product["stock"], product["sku"]
        assert meta["in_stock"] is (product["stock"] > 0), product["sku"]
        assert product["variants"][0]["sku"] in meta["skus"].split("|"), product["sku"]
        assert meta["category"], product["sku"]
        if product["file"] in ("products.csv", D.WOO_FILE):  # "Camping > Tents > ..." paths
            assert meta["category_path"].count(" > ") >= 1, product["sku"]
    assert len({p["category"] for p in D.PRODUCTS}) >= 6
    assert len({m["category"] for m in by_id.values()}) >= 6


def test_draft_and_hidden_products_never_reach_shoppers(demo_service):
    hidden_ids = {p["product_id"] for p in D.HIDDEN_PRODUCTS}
    stored = {m["product_id"]: m for m in stored_chunks(demo_service)
              if m.get("kind") == "product" and m["product_id"] in hidden_ids}
    assert set(stored) == hidden_ids  # ingested, and marked
    assert all(m["visible"] is False for m in stored.values())
    for product in D.HIDDEN_PRODUCTS:
        for query in (product["title"], f"how much is the {product['title']}?"):
            hits = demo_service.search(query, k=10)
            assert not {h.id for h in hits} & hidden_ids, query
            assert all(product["title"] not in h.title for h in hits), query


def test_every_chunk_knows_where_it_came_from(demo_service):
    for meta in stored_chunks(demo_service):
        assert meta["source"] and meta["doc_id"] and len(meta["content_hash"]) == 64
        if meta["kind"] == "passage":
            assert meta["title"] and meta["section"]


@pytest.mark.parametrize(
    ("query", "sku"),
    [
        ("how much is the Alpine 2 tent?", "RL-TNT-001"),
        ("rooftop tent for my car", None),
        ("rechargeable headlamp with 900 lumens", "RL-LGT-002"),
        ("insulated sleeping pad", "RL-ACC-016"),
    ],
)
def test_product_searches_find_the_product(demo_service, query, sku):
    hits = demo_service.search(query, k=3)
    assert hits
    if sku:
        product = D.PRODUCTS_BY_SKU[sku]
        assert hits[0].id == product["product_id"]
        assert (hits[0].title, hits[0].price, hits[0].currency) == (
            product["title"], product["price"], "USD",
        )
    else:
        assert "Rooftop" in hits[0].title


def test_policy_questions_find_the_policy_passage(demo_service):
    policies = D.POLICIES
    hits = demo_service.search("how many days do I have to return an item?", k=3)
    assert any(f"{policies['return_days']} days" in h.text for h in hits)
    assert {h.source for h in hits} & {"returns.docx", "faq.md"}

    hits = demo_service.search("what is the warranty on backpacks", k=3)
    years = policies["warranty_years"]["Backpacks"]
    assert any(
        re.search(rf"Backpacks(?:,? Warranty period)?:? {years} years", h.text) for h in hits
    )


def test_search_results_carry_every_field_the_ui_needs(demo_service):
    alpine = D.PRODUCTS_BY_SKU["RL-TNT-001"]
    hits = demo_service.search("Alpine 2 Tent", k=1)
    assert {h.id for h in hits} == {alpine["product_id"]}  # one slot: its record and sheets
    hit = next(h for h in hits if h.kind == "product")
    data = hit.to_dict()
    for field in ("id", "title", "price", "currency", "category", "brand", "url", "source", "snippet", "score"):
        assert field in data
    assert data["url"].startswith("https://")
    assert 0 < data["score"] <= 1
