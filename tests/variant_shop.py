"""A small shop in Shopify's product CSV layout, for the tests of what variants change
(comparisons, the fact check, prompts): a fleece in sizes and colours at different prices with
one size sold out, a scarf with one colour on sale (compare-at price), a rain shell without
options, and a draft product shoppers must never see. Ingested for real, like any upload."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from shopbot.products import Product, Variant
from shopbot.retrieval import Source
from tests.conftest import make_settings

HEADER = (
    "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,"
    "Option1 Name,Option1 Value,Option2 Name,Option2 Value,Variant SKU,Variant Grams,"
    "Variant Inventory Tracker,Variant Inventory Qty,Variant Price,Variant Compare At Price,"
    "Image Src,Material (product.metafields.custom.material),Status"
)
ROWS = [
    # The fleece: S $45, M $48 (black and red), L $52 and sold out.
    "summit-fleece-jacket,Summit Fleece Jacket,<p>A warm grid fleece for cold mornings.</p>,"
    "Northfall,Apparel & Accessories > Clothing > Outerwear,Fleece,fleece,TRUE,"
    "Size,S,Color,Black,MH01-S-Black,410,shopify,4,45.00,,,Recycled polyester,active",
    "summit-fleece-jacket,,,,,,,,,M,,Black,MH01-M-Black,420,shopify,6,48.00,,,,",
    "summit-fleece-jacket,,,,,,,,,L,,Black,MH01-L-Black,430,shopify,0,52.00,,,,",
    "summit-fleece-jacket,,,,,,,,,M,,Red,MH01-M-Red,420,shopify,2,48.00,,,,",
    # The scarf: teal on sale ($39, was $49), rust at its regular $42.
    "harbor-wool-scarf,Harbor Wool Scarf,<p>Soft merino scarf.</p>,Northfall,"
    "Apparel & Accessories > Clothing Accessories > Scarves,Scarves,wool,TRUE,"
    "Color,Teal,,,HWS-TEAL,180,shopify,12,39.00,49.00,,Merino wool,active",
    "harbor-wool-scarf,,,,,,,,,Rust,,,HWS-RUST,180,shopify,4,42.00,,,,",
    # No options: one default variant.
    "canyon-rain-shell,Canyon Rain Shell,<p>A light 2.5-layer rain shell.</p>,Fjellvik,"
    "Apparel & Accessories > Clothing > Outerwear,Jackets,rain,TRUE,"
    "Title,Default Title,,,CRS-01,300,shopify,7,120.00,,,Nylon ripstop,active",
    # A draft: stored, but never offered.
    "ridge-bivy-prototype,Ridge Bivy Prototype,<p>Not for sale yet.</p>,Fjellvik,"
    "Sporting Goods > Camping,Bivy,,TRUE,Title,Default Title,,,RBP-01,600,shopify,5,"
    "199.00,,,,draft",
]
VARIANT_CSV = "\n".join([HEADER, *ROWS]) + "\n"

FLEECE, SCARF, SHELL, DRAFT = (
    "summit-fleece-jacket", "harbor-wool-scarf", "canyon-rain-shell", "ridge-bivy-prototype"
)


def variant_shop(directory: Path, embeddings):
    """A catalog service over a fresh embedded store holding the shop's CSV."""
    from shopbot.service import CatalogService

    service = CatalogService(make_settings(data_dir=directory / "data"), embeddings=embeddings)
    path = directory / "variant_shop.csv"
    path.write_text(VARIANT_CSV, encoding="utf-8")
    [result] = service.ingest([path])
    assert result.ok, result.error
    return service


def record_of(service, product_id: str) -> tuple[str, str, dict]:
    """The stored product record (chunk id, text, metadata) of ``product_id``."""
    (found,) = service.store.get_chunks(
        {"$and": [{"product_id": product_id}, {"kind": "product"}]}
    )
    return found


def source_of(service, product_id: str) -> Source:
    """The product's record as retrieval hands it to a generator."""
    chunk_id, text, meta = record_of(service, product_id)
    return Source.from_chunk(chunk_id, text, meta, 0.9)


def ended_sale_record() -> tuple[str, str, dict]:
    """A record, as stored, of a product whose sale ($39, was $49) ended yesterday."""
    now = datetime.now(timezone.utc)
    product = Product(
        id="ember-beanie",
        title="Ember Beanie",
        brand="Northfall",
        categories=["Apparel & Accessories > Clothing Accessories > Hats"],
        variants=[Variant(
            sku="EB-01", price=39.0, currency="USD", compare_at_price=49.0,
            sale_starts=now - timedelta(days=14), sale_ends=now - timedelta(days=1), quantity=9,
        )],
    )
    meta = {**product.to_metadata(), "kind": "product", "source": "beanies.csv"}
    return "beanies-csv:row0", product.to_text(), meta
