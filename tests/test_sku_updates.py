"""One product record per SKU across files: a later file's row for a SKU replaces the older
record (the bot quotes the new price), spec-sheet passages stay, a failed upload changes
nothing, re-ingesting or re-indexing the older file keeps the newer price, deleting the newer
file brings the older record back, and the document list says what was superseded when."""

from __future__ import annotations

import io
import json
import os
from datetime import datetime

import pytest
from openpyxl import Workbook

from shopbot.service import CatalogService
from shopbot.store import format_time
from tests.conftest import make_settings
from tests.test_app import app_env, click_ingest, new_app, password_hash, sign_in, small_catalog  # noqa: F401
from tests.test_cli import shopbot
from tests.test_ingest import PRODUCTS_CSV, CountingEmbeddings, snapshot, write

SPEC_SHEET_MD = """# Alpine 2 Tent spec sheet

SKU: TNT-1

## Specifications

The fly is rated 3000 mm hydrostatic head and the floor 5000 mm hydrostatic head. Packed
weight 1650 g, two doors and two vestibules, colour-coded clip pitch.
"""

PRICE_UPDATE_CSV = "SKU,Title,Price,Brand\nTNT-1,Alpine 2 Tent,$299.00,Ridgeline\n"


def price_update_xlsx(rows):
    """A real workbook, as a store clerk would export a price update from Excel."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Prices"
    sheet.append(["Price update, November"])  # a title row above the header, as people do
    sheet.append(["SKU", "Product Name", "Price", "Brand"])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def quoted_price(service: CatalogService, sku: str) -> set[float]:
    """Every price the bot could quote for a SKU: its product records as a search finds them
    (typing the SKU puts them first), and every record retrieval can show (a search may show
    only the best one)."""
    found = {h.price for h in service.search(sku, k=10) if h.kind == "product" and h.id == sku}
    snap = service.retriever.index.snapshot()
    shown = [c for c in snap.chunks if c.is_record and c.product_id == sku]
    return found | {c.meta.get("price") for c in shown}


def answer(service: CatalogService, question: str) -> str:
    return service.assistant("extractive").ask(question).text


def by_source(service: CatalogService):
    return {d.source: d for d in service.documents()}


@pytest.fixture
def shop(store_settings, embeddings, tmp_path):
    """products.csv (TNT-1 at $349) and a spec sheet for TNT-1, ingested."""
    service = CatalogService(store_settings, embeddings=embeddings)
    upload = tmp_path / "upload"
    files = [
        write(upload / "products.csv", PRODUCTS_CSV),
        write(upload / "alpine-spec.md", SPEC_SHEET_MD),
    ]
    results = service.ingest(files)
    assert [r.status for r in results] == ["added", "added"], results
    assert quoted_price(service, "TNT-1") == {349.0}
    return service


def test_a_price_update_in_another_file_replaces_the_price_the_bot_quotes(shop):
    xlsx = price_update_xlsx([("TNT-1", "Alpine 2 Tent", 299, "Ridgeline")])
    result = shop.ingest_bytes("price-update.xlsx", xlsx)
    assert (result.status, result.products, result.replaced) == ("added", 1, 1)

    assert quoted_price(shop, "TNT-1") == {299.0}, "the old $349 record must be gone"
    top = shop.search("How much is the Alpine 2 Tent?", k=3)[0]
    assert (top.id, top.price, top.source) == ("TNT-1", 299.0, "price-update.xlsx")
    assert top.updated_at == by_source(shop)["price-update.xlsx"].updated_at
    text = answer(shop, "How much is the Alpine 2 Tent?")
    assert "$299.00" in text and "$349" not in text

    # Other products of the older file, and the spec sheet's passages, are untouched.
    assert quoted_price(shop, "BAG-1") == {289.0}
    spec = shop.search("tent floor hydrostatic head vestibules spec sheet", k=5)
    assert "alpine-spec.md" in {h.source for h in spec}

    docs = by_source(shop)
    assert (docs["products.csv"].products, docs["products.csv"].chunks) == (2, 2)
    assert docs["products.csv"].superseded_note() == "1 product superseded by price-update.xlsx"
    assert docs["alpine-spec.md"].chunks >= 1 and not docs["alpine-spec.md"].superseded_note()
    assert shop.stats()["chunks"] == sum(d.chunks for d in docs.values())


def test_a_failed_upload_supersedes_nothing(shop, embeddings):
    before = snapshot(shop)
    broken = shop.ingest_bytes("price-update.xlsx", b"PK\x03\x04 not really a workbook")
    assert broken.status == "failed" and "save it again" in broken.error
    assert snapshot(shop) == before

    # A valid file that fails while being embedded: its partial write goes, nothing else.
    failing = CountingEmbeddings(embeddings, fail_after_calls=0)
    crashing = CatalogService(shop.settings, embeddings=failing, store=shop.store)
    crashed = crashing.ingest_bytes("price-update.csv", PRICE_UPDATE_CSV.encode())
    assert crashed.status == "failed" and "simulated crash" in crashed.error
    assert snapshot(shop) == before
    assert quoted_price(shop, "TNT-1") == {349.0}


def test_a_crash_between_committing_and_superseding_shows_only_the_new_record(shop, monkeypatch):
    def crash(ids):
        raise RuntimeError("simulated crash before the old record was deleted")

    with monkeypatch.context() as patch:
        patch.setattr(shop.store, "delete_ids", crash)
        crashed = shop.ingest_bytes("price-update.csv", PRICE_UPDATE_CSV.encode())
    # The new version was committed before the clean-up failed: it is the one shown, alone.
    assert crashed.status == "added" and "next ingest" in " ".join(crashed.notes)
    assert quoted_price(shop, "TNT-1") == {299.0}, "never both, never none"

    # The next write finishes the clean-up the crash left (and says so).
    other = shop.ingest_bytes("notes.md", b"# Store notes\n\nOpen every day from 9 to 5.\n")
    assert other.status == "added"
    assert any("Retired 1 product records" in note for note in other.notes), other.notes
    assert quoted_price(shop, "TNT-1") == {299.0}
    docs = by_source(shop)
    assert docs["products.csv"].superseded_note() == "1 product superseded by price-update.csv"


def test_the_latest_upload_wins_and_a_reindex_keeps_it(shop, tmp_path):
    assert shop.ingest_bytes("price-update.csv", PRICE_UPDATE_CSV.encode()).replaced == 1

    # The older file again, unchanged (e.g. `ingest catalog/` once more): still $299.
    (again,) = shop.ingest([tmp_path / "upload" / "products.csv"])
    assert again.status == "unchanged"
    assert quoted_price(shop, "TNT-1") == {299.0}

    # Re-indexing everything keeps who wins, whatever order the files come in.
    assert all(r.ok for r in shop.reindex_all())
    assert quoted_price(shop, "TNT-1") == {299.0}
    docs = by_source(shop)
    assert docs["products.csv"].products == 2
    assert docs["products.csv"].superseded_note() == "1 product superseded by price-update.csv"

    # A changed products.csv is the newest upload now: its price wins.
    newer = PRODUCTS_CSV.replace("$349.00", "$329.00")
    result = shop.ingest_bytes("products.csv", newer.encode())
    assert (result.status, result.products, result.replaced) == ("updated", 3, 1)
    assert quoted_price(shop, "TNT-1") == {329.0}
    docs = by_source(shop)
    assert docs["price-update.csv"].products == 0
    assert docs["price-update.csv"].superseded_note() == "1 product superseded by products.csv"
    assert not docs["products.csv"].superseded_note()


def test_deleting_the_newer_file_brings_the_older_record_back(shop):
    shop.ingest_bytes("price-update.csv", PRICE_UPDATE_CSV.encode())
    update_id = by_source(shop)["price-update.csv"].doc_id

    outcome = shop.remove_document(update_id)
    assert outcome.deleted
    assert [(r.source, r.ok) for r in outcome.restored] == [("products.csv", True)]
    assert quoted_price(shop, "TNT-1") == {349.0}
    assert "$349.00" in answer(shop, "How much is the Alpine 2 Tent?")
    docs = by_source(shop)
    assert (docs["products.csv"].products, docs["products.csv"].superseded) == (3, 0)


def test_a_new_version_without_the_sku_gives_the_older_record_back(shop):
    shop.ingest_bytes("price-update.csv", PRICE_UPDATE_CSV.encode())
    assert quoted_price(shop, "TNT-1") == {299.0}

    # Next week's price update no longer mentions the tent, only the stove.
    shop.ingest_bytes("price-update.csv", b"SKU,Title,Price\nSTV-1,Trail Stove,$49.00\n")
    assert quoted_price(shop, "TNT-1") == {349.0}
    assert quoted_price(shop, "STV-1") == {49.0}
    assert by_source(shop)["products.csv"].superseded_note() == (
        "1 product superseded by price-update.csv"
    )


def test_a_file_kept_nowhere_here_cannot_be_restored_and_says_so(shop):
    shop.ingest_bytes("price-update.csv", PRICE_UPDATE_CSV.encode())
    shop.ingestor.original_path("products.csv").unlink()  # as if another replica ingested it

    outcome = shop.remove_document(by_source(shop)["price-update.csv"].doc_id)
    assert outcome.deleted
    (restored,) = outcome.restored
    assert restored.source == "products.csv" and not restored.ok
    assert "Upload it again" in restored.error
    # Its record stays retired, and the list still says so until the file is uploaded again.
    assert quoted_price(shop, "TNT-1") == set()
    docs = by_source(shop)
    assert docs["products.csv"].superseded_note() == "1 product superseded by price-update.csv"


@pytest.mark.slow
def test_docs_cli_shows_when_records_were_updated_and_what_was_superseded(tmp_path, embeddings):
    settings = make_settings(data_dir=tmp_path / "data")
    service = CatalogService(settings, embeddings=embeddings)
    service.ingest([write(tmp_path / "upload" / "products.csv", PRODUCTS_CSV)])
    service.ingest_bytes("price-update.csv", PRICE_UPDATE_CSV.encode())
    docs = by_source(service)
    del service  # the CLI opens the store itself

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env.update(SHOPBOT_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1")
    table = shopbot("docs", "list", env=env)
    assert table.returncode == 0, table.stderr
    lines = {line.split()[1]: line for line in table.stdout.splitlines()[1:]}
    for source in ("products.csv", "price-update.csv"):
        updated = format_time(docs[source].updated_at)
        assert updated in lines[source]
        assert datetime.strptime(updated, "%Y-%m-%d %H:%M:%S UTC")
    assert lines["products.csv"].endswith("1 product superseded by price-update.csv")
    assert "superseded" not in lines["price-update.csv"]

    listed = {d["source"]: d for d in json.loads(shopbot("docs", "list", "--json", env=env).stdout)}
    assert listed["products.csv"]["updated_at"] == docs["products.csv"].updated_at
    assert (listed["products.csv"]["products"], listed["products.csv"]["superseded"]) == (2, 1)

    deleted = shopbot("docs", "delete", docs["price-update.csv"].doc_id, env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert "restored products.csv (3 products)" in deleted.stdout
    search = shopbot("search", "TNT-1", "-k", "1", "--json", env=env)
    assert json.loads(search.stdout)[0]["price"] == 349.0


def test_catalog_page_lists_updated_and_superseded(app_env):
    at = new_app()
    sign_in(at)
    at.switch_page("pages/catalog.py").run()
    # The demo's new arrivals hold RL-LGT-009, the Beacon Mini 250 Headlamp, at $29.95.
    update = b"SKU,Title,Price\nRL-LGT-009,Beacon Mini 250 Headlamp,$24.95\n"
    at.file_uploader[0].set_value([("price-update.csv", update, "text/csv")]).run()
    click_ingest(at)
    results = at.dataframe[0].value
    assert list(results["replaced"]) == [1]

    documents = at.dataframe[1].value.set_index("source")
    assert documents.loc["new_arrivals.jsonl", "superseded"] == (
        "1 product superseded by price-update.csv"
    )
    assert documents.loc["new_arrivals.jsonl", "products"] == 9
    assert documents.loc["price-update.csv", "updated"].endswith(" UTC")
