"""Shop platform exports through the real pipeline: each platform's file (our own fixtures,
written from the platforms' documented columns) becomes products with variants in the store;
hidden products are kept for staff and never reach a shopper; the no-LLM answer knows each
variant's price, stock and sale, from the chat assistant and from the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from shopbot.products import Product
from tests.conftest import make_settings

PLATFORMS = Path(__file__).parent / "fixtures" / "platforms"
FILES = {
    "shopify_products.csv": {"harbor-scarf", "ridge-shell-jacket"},
    "woocommerce_products.csv": {"HH", "TS", "MUG-01", "id:140", "KITCHEN-SET", "TG-BOOK"},
    "magento_products.csv": {"WJ-RAIN", "TRAVEL-MUG"},
    "merchant_feed.xml": {"HS", "TEE", "LAMP-1"},
    "prestashop_products.csv": {"101", "102", "105"},
}
HIDDEN = {
    "shopify_products.csv": {"winter-beanie": "hidden", "canvas-tote": "draft",
                             "old-rain-hat": "archived"},
    "woocommerce_products.csv": {"LAMP-OLD": "hidden", "STOVE-X": "draft",
                                 "STAFF-ONLY": "hidden"},
    "magento_products.csv": {"SPARE-LID": "hidden", "OLD-TENT": "draft"},
    "prestashop_products.csv": {"103": "draft", "104": "hidden"},
}


@pytest.fixture(scope="module")
def platform_service(tmp_path_factory, embeddings):
    from shopbot.service import CatalogService

    base = tmp_path_factory.mktemp("platforms")
    service = CatalogService(make_settings(data_dir=base / "data"), embeddings=embeddings)
    results = service.ingest([PLATFORMS / name for name in FILES])
    assert [r.error for r in results if not r.ok] == []
    return service


def fresh_service(tmp_path, embeddings):
    """An empty embedded store of its own under ``tmp_path``."""
    from shopbot.service import CatalogService

    return CatalogService(make_settings(data_dir=tmp_path / "data"), embeddings=embeddings)


def stored(service, source: str) -> dict[str, Product]:
    return {
        meta["product_id"]: Product.from_metadata(meta)
        for _, _, meta in service.store.iter_chunks(where={"kind": "product"})
        if meta.get("source") == source
    }


@pytest.mark.parametrize("source", sorted(FILES))
def test_each_platform_export_becomes_its_products_with_status(platform_service, source):
    products = stored(platform_service, source)
    visible = {pid for pid, p in products.items() if p.visible}
    assert visible == FILES[source]
    hidden = {pid: p.status for pid, p in products.items() if not p.visible}
    assert hidden == HIDDEN.get(source, {})


def test_variants_keep_their_own_prices_stock_and_sale(platform_service):
    jacket = stored(platform_service, "shopify_products.csv")["ridge-shell-jacket"]
    assert jacket.options == ["Size", "Color"]
    by_label = {v.label(): v for v in jacket.variants}
    assert by_label["L / Navy"].price == 199.0 and by_label["L / Navy"].available() is False
    assert by_label["M / Moss"].price == 219.0
    assert jacket.price_range() == (189.0, 219.0)
    hoodie = stored(platform_service, "woocommerce_products.csv")["HH"]
    # Its sale ended on 1 July 2026: the regular price applies.
    small = next(v for v in hoodie.variants if v.options.get("Size") == "S")
    assert not small.sale_active() and small.current_price() == 59.0


def test_hidden_products_never_reach_a_shopper(platform_service):
    assistant = platform_service.assistant("extractive")
    for question, title in [
        ("Do you sell a canvas tote?", "Canvas Tote"),
        ("Is the Winter Beanie available?", "Winter Beanie"),
        ("How much is the Pocket Stove X?", "Pocket Stove X"),
        ("Staff Sample Kit price", "Staff Sample Kit"),
        ("Ridge Tent (discontinued)", "Ridge Tent"),
    ]:
        answer = assistant.ask(question)
        assert title not in answer.text, (question, answer.text)
        assert all(title not in s.title for s in answer.sources), question
    # A hidden product's SKU typed verbatim finds nothing either.
    assert all(s.id != "CT-01" and "CT-01" not in s.skus
               for s in platform_service.search("CT-01", k=5))


@pytest.mark.parametrize(
    ("question", "facts", "absent"),
    [
        ("How much is the Ridge Shell Jacket in size L?", ["$199.00", "out of stock"], []),
        ("what does the ridge shell jacket cost in moss?", ["$219.00"], ["$189.00"]),
        ("What sizes does the Ridge Shell Jacket come in?", ["S", "M", "L (out of stock)"], []),
        ("Is the Dune Tee in black size M in stock?", ["out of stock"], []),
        ("Is the Harbor Hoodie on sale?", ["not on sale"], ["$45.00"]),
        ("is the enamel camp mug on sale?", ["14.00", "18.50"], []),
        ("How much is the Harbor Scarf in teal?", ["$39.00", "$49.00"], []),
    ],
)
def test_the_extractive_answer_knows_each_variant(platform_service, question, facts, absent):
    answer = platform_service.assistant("extractive").ask(question)
    for fact in facts:
        assert fact in answer.text, (question, answer.text)
    for wrong in absent:
        assert wrong not in answer.text, (question, answer.text)


def test_a_product_named_with_a_colour_word_is_not_filtered_by_it(tmp_path, embeddings):
    """"Red Rock Kettle" names the product: asked by name, its colour word is no filter."""
    catalog = tmp_path / "kettles.csv"
    catalog.write_text(
        "SKU,Title,Price,Colour,Category\n"
        "K-1,Red Rock Kettle,$35.00,Steel,Kitchen\n"
        "K-2,Blue Lake Kettle,$39.00,Red,Kitchen\n"
    )
    service = fresh_service(tmp_path, embeddings)
    assert all(r.ok for r in service.ingest([catalog]))
    found = service.retrieve("How much is the Red Rock Kettle?", k=3)
    assert not found.constraints.colours
    answer = service.assistant("extractive").ask("How much is the Red Rock Kettle?")
    assert "$35.00" in answer.text and "Nothing in our catalog" not in answer.text


def test_prestashop_combinations_join_their_products_in_one_workbook(tmp_path, embeddings):
    """PrestaShop exports products and combinations as two files; as two sheets of one
    workbook the combinations become the products' variants. Alone, the combinations file is
    refused with that advice, and the store is left as it was."""
    import csv

    book = Workbook()
    book.remove(book.active)
    for name in ("prestashop_products.csv", "prestashop_combinations.csv"):
        sheet = book.create_sheet(name.split("_")[1].split(".")[0])
        text = (PLATFORMS / name).read_text(encoding="utf-8")
        for row in csv.reader(io.StringIO(text), delimiter=";"):
            sheet.append(row)
    workbook = tmp_path / "prestashop.xlsx"
    book.save(workbook)
    service = fresh_service(tmp_path, embeddings)
    (alone,) = service.ingest([PLATFORMS / "prestashop_combinations.csv"])
    assert not alone.ok and "two sheets" in alone.error
    assert service.is_empty()
    (result,) = service.ingest([workbook])
    assert result.ok, result.error
    products = stored(service, "prestashop.xlsx")
    with_options = [p for p in products.values() if p.has_options]
    assert with_options, "the combinations became variants"
    assert all(len(p.variants) > 1 for p in with_options)


def test_merchant_feed_xml_with_entities_is_refused(tmp_path, embeddings):
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY boom "x">]>'
        '<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>1</g:id>'
        "<g:title>&boom;</g:title><g:price>1.00 USD</g:price></item></channel></rss>"
    )
    service = fresh_service(tmp_path, embeddings)
    (result,) = service.ingest([feed])
    assert not result.ok and "DTD or entities" in result.error
    assert service.is_empty()


def test_the_command_line_answers_a_variant_price(tmp_path):
    import os

    from tests.test_cli import shopbot

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env.update(SHOPBOT_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1")
    ingest = shopbot("ingest", str(PLATFORMS / "shopify_products.csv"), env=env)
    assert ingest.returncode == 0, ingest.stderr
    answer = shopbot("ask", "How much is the Ridge Shell Jacket in M in moss?", env=env)
    assert answer.returncode == 0, answer.stderr
    assert "$219.00" in answer.stdout and "$189.00" not in answer.stdout.split("Sources")[0]


def test_a_store_written_by_an_older_version_is_migrated_by_reindexing(
    tmp_path, embeddings, monkeypatch
):
    """A store whose documents an older reader wrote lists them as outdated; re-indexing
    from the kept copies brings them to the current model (and re-ingesting does too)."""
    import shopbot.ingest.pipeline as pipeline
    service = fresh_service(tmp_path, embeddings)
    current = pipeline.PARSER_VERSION
    monkeypatch.setattr(pipeline, "PARSER_VERSION", current - 1)
    assert all(r.ok for r in service.ingest([PLATFORMS / "shopify_products.csv"]))
    monkeypatch.setattr(pipeline, "PARSER_VERSION", current)
    assert [d.source for d in service.outdated_documents()] == ["shopify_products.csv"]
    results = service.reindex_all(outdated_only=True)
    assert [r.ok for r in results] == [True]
    assert service.outdated_documents() == []
    assert [d.parser_version for d in service.documents()] == [current]


def test_a_price_list_row_updates_that_variant_of_a_platform_product(tmp_path, embeddings):
    """One record per SKU, variants included: a later price list naming one variant's SKU
    changes that variant's price and stock (the others keep theirs); shoppers see one
    product, never a second record. Deleting the price list brings the old price back."""
    service = fresh_service(tmp_path, embeddings)
    assert all(r.ok for r in service.ingest([PLATFORMS / "shopify_products.csv"]))
    update = tmp_path / "price-update.csv"
    update.write_text("SKU,Title,Price,Stock\nRSJ-L-NVY,Ridge Shell Jacket L Navy,$179.00,4\n")
    (result,) = service.ingest([update])
    assert result.ok, result.error
    answer = service.assistant("extractive").ask("How much is the Ridge Shell Jacket in L?")
    assert "$179.00" in answer.text and "$199.00" not in answer.text, answer.text
    assert "in stock" in answer.text
    jackets = [s for s in service.search("Ridge Shell Jacket", k=5) if s.kind == "product"
               and "RSJ-L-NVY" in s.skus]
    assert len(jackets) == 1 and jackets[0].id == "ridge-shell-jacket"
    assert service.remove_document(result.doc_id).deleted
    answer = service.assistant("extractive").ask("How much is the Ridge Shell Jacket in L?")
    assert "$199.00" in answer.text, answer.text
