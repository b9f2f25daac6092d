"""The demo shop's catalog ingests completely and answers shoppers' searches."""

import re
from collections import Counter

import pytest

from catalog import catalog_data


def stored_chunks(service):
    return service.store.chunks.get(include=["metadatas"])["metadatas"]


def test_every_demo_file_and_product_is_indexed(demo_service):
    docs = demo_service.documents()
    kinds = Counter(d.kind for d in docs)
    assert set(kinds) >= {"csv", "xlsx", "jsonl", "pdf", "docx", "html", "md"}
    stored_ids = {m["product_id"] for m in stored_chunks(demo_service) if "product_id" in m}
    expected = {p["sku"] for p in catalog_data.PRODUCTS}
    assert len(expected) >= 150
    assert expected <= stored_ids
    assert sum(d.products for d in docs if d.kind in {"csv", "xlsx", "jsonl"}) == len(
        [p for p in catalog_data.PRODUCTS if not p["file"].startswith("pages/")]
    )


def test_products_keep_their_fields(demo_service):
    by_id = {}
    for meta in stored_chunks(demo_service):
        if meta.get("kind") == "product":
            by_id[meta["product_id"]] = meta
    for product in catalog_data.PRODUCTS:
        if product["sku"] not in by_id:
            continue  # HTML-only products are passages, checked below
        meta = by_id[product["sku"]]
        assert meta["title"] == product["title"], product["sku"]
        assert meta["price"] == pytest.approx(product["price"]), product["sku"]
        assert meta.get("brand", "") == product["brand"], product["sku"]
        assert meta.get("stock") == product["stock"], product["sku"]
        assert meta["category"], product["sku"]
        if product["file"] == "products.csv":  # exported as "Camping | Tents | ..." paths
            assert meta["category_path"].count(" > ") >= 1, product["sku"]
    assert len({p["category"] for p in catalog_data.PRODUCTS}) >= 6
    assert len({m["category"] for m in by_id.values()}) >= 6


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
    ],
)
def test_product_searches_find_the_product(demo_service, query, sku):
    hits = demo_service.search(query, k=3)
    assert hits
    if sku:
        product = catalog_data.PRODUCTS_BY_SKU[sku]
        assert hits[0].id == sku
        assert (hits[0].title, hits[0].price, hits[0].currency) == (
            product["title"], product["price"], "USD",
        )
    else:
        assert "Rooftop" in hits[0].title


def test_policy_questions_find_the_policy_passage(demo_service):
    policies = catalog_data.POLICIES
    hits = demo_service.search("how many days do I have to return an item?", k=3)
    assert any(f"{policies['return_days']} days" in h.text for h in hits)
    assert {h.source for h in hits} & {"returns.docx", "faq.md"}

    hits = demo_service.search("what is the warranty on backpacks", k=3)
    years = policies["warranty_years"]["Backpacks"]
    assert any(
        re.search(rf"Backpacks(?:,? Warranty period)?:? {years} years", h.text) for h in hits
    )


def test_search_results_carry_every_field_the_ui_needs(demo_service):
    hits = demo_service.search("Alpine 2 Tent", k=1)
    assert {h.id for h in hits} == {"RL-TNT-001"}  # one slot: the product's record and sheets
    hit = next(h for h in hits if h.kind == "product")
    data = hit.to_dict()
    for field in ("id", "title", "price", "currency", "category", "brand", "url", "source", "snippet", "score"):
        assert field in data
    assert data["url"].startswith("https://")
    assert 0 < data["score"] <= 1
