"""`python -m shopbot docs list` shows staff the products shoppers never see: each
document's count says how many are hidden and why, and `--hidden` lists them."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.conftest import ROOT
from tests.test_cli import shopbot

pytestmark = pytest.mark.slow

OUTERWEAR_CSV = ROOT / "tests" / "fixtures" / "variants" / "outerwear_shopify.csv"


def test_docs_list_counts_hidden_products_and_lists_them_with_their_status(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env.update(SHOPBOT_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1")
    shutil.copy(OUTERWEAR_CSV, tmp_path)
    (tmp_path / "faq.md").write_text("# FAQ\n\n## Returns\n\nReturns are free within 30 days.\n")

    nothing = shopbot("docs", "list", "--hidden", env=env)
    assert nothing.returncode == 0, nothing.stderr
    assert "No hidden products" in nothing.stdout

    ingest = shopbot(
        "ingest", str(tmp_path / "outerwear_shopify.csv"), str(tmp_path / "faq.md"), env=env
    )
    assert ingest.returncode == 0, ingest.stderr

    table = shopbot("docs", "list", env=env)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[3] == "products"
    lines = {line.split()[1]: line for line in rows}
    assert "  5 (3 hidden: 1 draft, 1 archived, 1 not visible)  " in lines["outerwear_shopify.csv"]
    assert "hidden" not in lines["faq.md"]

    listed = {d["source"]: d for d in json.loads(shopbot("docs", "list", "--json", env=env).stdout)}
    assert listed["outerwear_shopify.csv"]["products"] == 5
    assert listed["outerwear_shopify.csv"]["hidden"] == {"draft": 1, "archived": 1, "hidden": 1}
    assert listed["faq.md"]["hidden"] == {}

    hidden = shopbot("docs", "list", "--hidden", env=env)
    assert hidden.returncode == 0, hidden.stderr
    assert hidden.stdout.splitlines()[0].split() == ["id", "title", "status", "source"]
    assert "aurora-insulated-parka  Aurora Insulated Parka  draft        outerwear_shopify.csv" in (
        hidden.stdout
    )
    as_json = json.loads(shopbot("docs", "list", "--hidden", "--json", env=env).stdout)
    assert {(p["title"], p["status"], p["status_word"]) for p in as_json} == {
        ("Aurora Insulated Parka", "draft", "draft"),
        ("Old Trail Gaiters", "archived", "archived"),
        ("Ember Fleece Gloves", "hidden", "not visible"),
    }
    assert {p["id"] for p in as_json}.isdisjoint(
        hit["id"] for hit in json.loads(
            shopbot("search", "parka gaiters gloves", "-k", "10", "--json", env=env).stdout
        )
    ), "a shopper's search never finds them"


def test_hidden_products_are_read_from_the_newest_record_on_either_store(service):
    """Embedded and Chroma server alike; a newer file that offers the same product (the
    latest upload wins a SKU) makes it visible again, so it is no longer listed."""
    from shopbot.hidden_products import hidden_products

    service.ingest([OUTERWEAR_CSV])
    assert {(p.title, p.status) for p in hidden_products(service.store)} == {
        ("Aurora Insulated Parka", "draft"),
        ("Old Trail Gaiters", "archived"),
        ("Ember Fleece Gloves", "hidden"),
    }
    header, *rows = OUTERWEAR_CSV.read_text(encoding="utf-8").splitlines()
    published = [
        row.replace(",FALSE,", ",TRUE,").replace(",draft", ",active")
        for row in rows if row.startswith("aurora-insulated-parka,")
    ]
    service.ingest_bytes("parka-launch.csv", "\n".join([header, *published, ""]).encode())
    assert {p.title for p in hidden_products(service.store)} == {
        "Old Trail Gaiters", "Ember Fleece Gloves"
    }
