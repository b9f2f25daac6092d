"""Description-phrase recall: does a phrase from a product's own description find it?

What it does (all state in temp dirs, HF_HUB_OFFLINE=1, one embedding model shared):

* builds a fresh temporary store (``shopbot.evaluation.temporary_catalog``, the store
  ``python -m shopbot eval --catalog`` uses) for each of two catalogs nobody tuned on:
  (a) the real Magento sample ``../shared/realdata/magento/products.csv`` (read in place; the
  catalog is skipped, with a message, when the file is missing) and (b) a generated messy
  Shopify-style export of ``--products`` products (:func:`write_messy_export`: HTML and
  entities in descriptions, variant continuation rows, empty columns, drafts, many
  categories, long descriptions that mention colours and category words, shared
  boilerplate);
* for every visible product (or a seeded sample of ``--sample``), takes a phrase of 4-8
  consecutive words from its description as the store holds it (plain text; HTML stripped
  again to be sure): among the spans that occur in no other product's description, the one
  whose words are rarest across the catalog's descriptions (mean IDF), so the phrase is
  distinctive and not boilerplate; the length and the tie-break come from a seeded RNG.
  A product whose description has no span of its own is left out (counted);
* measures Recall@5 (the product among the top 5 slots, one slot per product) for
  - hybrid: ``service.retrieve(phrase, 5)``, the path the chat uses (constraints read from
    the phrase, dense + BM25 fused, named products, slots);
  - BM25 alone: the store's own keyword ranking (``CatalogIndex`` snapshot
    ``keyword_ranking``: bm25s over each chunk's title and full text), no filters;
  - dense alone: the raw Chroma vector query (``embed_query`` + ``collection.query``);
  and how many phrases the parser turned into filters, and which ones.

Run from the repository root:

    .venv/bin/python bench/description_recall.py               # writes description-recall.json
    .venv/bin/python bench/description_recall.py --label before  # description-recall-before.json
    .venv/bin/python bench/description_recall.py --products 300 --sample 100   # quicker

It prints a table and writes ``bench/results/description-recall[-LABEL].json`` (misses
listed per catalog and method). Exits 1 when a catalog fails to ingest.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import math
import os
import platform
import random
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import write_json  # noqa: E402
from shopbot.embeddings import load_embeddings  # noqa: E402
from shopbot.evaluation import temporary_catalog  # noqa: E402
from shopbot.settings import Settings  # noqa: E402

REALDATA = REPO.parent / "shared" / "realdata"
MAGENTO = Path("magento") / "products.csv"
RESULTS = REPO / "bench" / "results"
SEED = 20261207
K = 5
PHRASE_WORDS = (4, 8)
# How many of the most distinctive spans the seeded RNG picks among (not always the rarest).
PHRASE_CHOICES = 3
MISSES_KEPT = 40


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the generated messy export ---------------------------------------------------------

_HEADER = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags",
    "Published", "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value",
    "Variant SKU", "Variant Grams", "Variant Inventory Qty", "Variant Price",
    "Variant Compare At Price", "Variant Barcode", "Image Src", "SEO Title",
    "SEO Description", "Cost per item", "Status",
]
_CATEGORIES = {
    "Home > Kitchen > Cookware": ["Skillet", "Saucepan", "Dutch Oven", "Wok"],
    "Home > Kitchen > Knives": ["Chef Knife", "Paring Knife", "Bread Knife"],
    "Home > Living > Lamps": ["Table Lamp", "Floor Lamp", "Pendant Light"],
    "Home > Living > Rugs": ["Wool Rug", "Runner Rug", "Jute Mat"],
    "Home > Bedroom > Bedding": ["Duvet Cover", "Linen Sheet Set", "Quilt"],
    "Apparel > Women > Dresses": ["Wrap Dress", "Midi Dress", "Shirt Dress"],
    "Apparel > Men > Shirts": ["Oxford Shirt", "Flannel Shirt", "Linen Shirt"],
    "Apparel > Accessories > Bags": ["Tote Bag", "Messenger Bag", "Backpack"],
    "Garden > Tools": ["Pruning Shears", "Trowel", "Garden Hoe", "Watering Can"],
    "Garden > Planters": ["Terracotta Planter", "Hanging Basket", "Raised Bed"],
    "Toys > Wooden Toys": ["Stacking Rings", "Pull-Along Duck", "Marble Run"],
    "Sports > Cycling": ["Bike Light", "Saddle Bag", "Bottle Cage", "Bike Lock"],
    "Sports > Yoga": ["Yoga Mat", "Yoga Block", "Meditation Cushion"],
    "Electronics > Audio": ["Bluetooth Speaker", "Headphones", "Turntable"],
    "Stationery > Notebooks": ["Dot Grid Notebook", "Sketchbook", "Planner"],
}
_NAMES = ["Aster", "Birch", "Cobble", "Dune", "Elm", "Fable", "Grove", "Harbor", "Isla", "Juniper",
          "Kettle", "Lark", "Moss", "Nook", "Orchard", "Pebble", "Quill", "Rowan", "Sable",
          "Thistle", "Umber", "Vale", "Willow", "Yarrow", "Zephyr"]
_BRANDS = ["Hearth & Field", "Northmoor", "Little Otter", "Saltworks", "Brightline", "Kinfolk Co",
           "Tandem", "Oakhaven", ""]
_COLOURS = ["Red", "Navy", "Sage Green", "Black", "White", "Mustard", "Charcoal", "Blush Pink",
            "Oatmeal", "Cobalt Blue"]
_SIZES = ["S", "M", "L", "XL"]
_MATERIALS = ["hand-thrown stoneware", "enamelled cast iron", "FSC-certified beech",
              "organic cotton",
              "stonewashed linen", "recycled PET felt", "brushed brass", "carbon steel",
              "vegetable-tanned leather", "powder-coated aluminium", "natural rubber",
              "Damascus steel", "hand-knotted New Zealand wool", "bamboo viscose"]
_PLACES = ["a family workshop in Porto", "a small mill in Yorkshire", "a cooperative near Oaxaca",
           "our studio in Leeds", "a foundry outside Lyon", "a weaving house in Kerala",
           "a pottery on the Cornish coast", "a third-generation forge in Seki",
           "a cycle shop in Utrecht", "a print works in Ghent"]
_USES = ["slow Sunday braises", "searing steaks", "weeknight stir-fries", "reading in bed",
         "long-distance commuting", "balcony herb gardens", "toddlers learning to grasp",
         "morning vinyasa flows", "dinner parties", "bullet journaling", "rainy city rides",
         "summer picnics", "guest bedrooms", "potting seedlings", "late-night listening"]
_FEATURES = ["a riveted stay-cool handle", "a hidden magnetic closure",
             "reinforced double stitching",
             "a non-slip cork base", "a dimmable warm-white bulb", "a pour spout on either side",
             "a removable shoulder strap", "rounded, sanded edges", "a 40-hour battery",
             "a lay-flat binding", "a full-grain leather tab", "UV-stabilised pigments",
             "a tempered glass lid", "an alignment-free mounting bracket", "two inner pockets",
             "a self-watering reservoir", "a washable cover", "a 6 mm cushioned core"]
_CARE = ["Hand wash only and dry thoroughly.", "Machine wash cold; tumble dry low.",
         "Wipe clean with a damp cloth.", "Season lightly with oil after each use.",
         "Store in a dry place away from direct sunlight."]
_BOILERPLATE = ("<p><em>Free shipping on orders over $50. Every order ships in plastic-free "
                "packaging. 30-day returns, no questions asked.</em></p>")
_FILLER = ["Whatever the season, it earns its place.",
           "Made to be used every day, not kept for best.",
           "It only gets better with age.", "A small detail that makes a big difference.",
           "Designed in-house and tested by our team for months."]


def _messy_description(rng: random.Random, noun: str, colour: str, category: str) -> str:
    """A long HTML description with entities, lists, colour and category words in it (its
    own and, cross-selling, another category's), distinctive sentences and the shop's
    boilerplate."""
    material, place, use = rng.choice(_MATERIALS), rng.choice(_PLACES), rng.choice(_USES)
    features = rng.sample(_FEATURES, 3)
    code = f"{rng.choice('ABCDEFGHKMNPRTW')}{rng.randint(10, 99)}"
    leaf = category.split(" > ")[-1].lower()
    parts = [
        f"<p>Our {noun.lower()} is made from {material} at {place}, and it&rsquo;s the one we "
        f"reach for when it comes to {use}. Finished in {colour.lower()}, it sits happily "
        f"beside the rest of our {leaf}.</p>",
        f"<p>Pattern {code} was redrawn {rng.randint(2, 9)} times before we were happy with "
        f"the proportions &mdash; {rng.choice(_FILLER).lower()}</p>",
        "<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in features) + "</ul>",
        f"<p><strong>Good to know:</strong> {rng.choice(_CARE)} Measures "
        f"{rng.randint(10, 90)}&nbsp;&times;&nbsp;{rng.randint(10, 90)}&nbsp;cm and weighs "
        f"{rng.randint(120, 4800)}&nbsp;g.</p>",
    ]
    if rng.random() < 0.6:  # cross-selling: another category's and colour's words
        other = rng.choice([c for c in _CATEGORIES if c != category])
        parts.append(
            f"<p>Looks great in {rng.choice(_COLOURS).lower()} next to our "
            f"{other.split(' > ')[-1].lower()} &amp; {rng.choice(_FILLER).lower()}</p>"
        )
    for _ in range(rng.randint(1, 4)):  # long descriptions: more paragraphs of prose
        parts.append(
            f"<p>{rng.choice(_FILLER)} Customers who bought it for {rng.choice(_USES)} tell us "
            f"about {rng.choice(_FEATURES)} and the {rng.choice(_MATERIALS)} &quot;feel&quot; "
            f"first. {rng.choice(_FILLER)}</p>"
        )
    parts.append(_BOILERPLATE)
    joiner = "\n" if rng.random() < 0.3 else ""
    return joiner.join(parts)


def write_messy_export(path: Path, products: int, seed: int = SEED) -> Path:
    """A deterministic Shopify-style export of ``products`` products: variant continuation
    rows (same handle, product columns empty), optional columns often empty, ~5% drafts."""
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_HEADER, restval="", lineterminator="\n")
    writer.writeheader()
    for number in range(1, products + 1):
        category = rng.choice(list(_CATEGORIES))
        noun = rng.choice(_CATEGORIES[category])
        title = f"{rng.choice(_NAMES)} {noun}"
        if rng.random() < 0.3:
            title = f"{rng.choice(_NAMES)} {title}"
        handle = f"{re.sub(r'[^a-z0-9]+', '-', title.lower())}-{number}"
        brand = rng.choice(_BRANDS)
        colours = rng.sample(_COLOURS, rng.choice([1, 1, 2, 3]))
        sizes = _SIZES if category.startswith("Apparel") and rng.random() < 0.7 else [""]
        price = round(rng.uniform(8, 600), 2)
        first = True
        for colour in colours:
            for size in sizes:
                row = {
                    "Handle": handle,
                    "Option1 Value": colour,
                    "Option2 Value": size,
                    "Variant SKU": f"MX-{number:05d}-{colour[:3].upper()}{size}",
                    "Variant Grams": str(rng.randint(100, 5000)) if rng.random() < 0.6 else "",
                    "Variant Inventory Qty": str(rng.choice([0, 2, 5, 14, 60])),
                    "Variant Price": f"{price + (5 if size == 'XL' else 0):.2f}",
                    "Variant Compare At Price": f"{price * 1.2:.2f}" if rng.random() < 0.05 else "",
                    "Variant Barcode": str(5_000_000_000_000 + rng.randint(0, 10**9))
                    if rng.random() < 0.2 else "",
                }
                if first:
                    row.update({
                        "Title": title,
                        "Body (HTML)": _messy_description(rng, noun, colour, category),
                        "Vendor": brand,
                        "Product Category": category,
                        "Type": category.split(" > ")[-1] if rng.random() < 0.7 else "",
                        "Tags": ", ".join(rng.sample(["gift", "new", "bestseller", "sale",
                                                       "eco", "handmade"], rng.randint(0, 3))),
                        "Published": "TRUE" if rng.random() < 0.9 else "",
                        "Option1 Name": "Colour" if rng.random() < 0.5 else "Color",
                        "Option2 Name": "Size" if size else "",
                        "Image Src": f"https://cdn.example/{handle}.jpg"
                        if rng.random() < 0.8 else "",
                        "SEO Title": f"{title} | {brand}" if brand and rng.random() < 0.3 else "",
                        "Status": "draft" if rng.random() < 0.05 else "active",
                    })
                    first = False
                writer.writerow(row)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# -- phrases ----------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")


def plain_text(description: str) -> str:
    """A description as plain words: HTML and entities gone, whitespace collapsed."""
    from bs4 import BeautifulSoup

    text = description
    if "<" in text:
        text = BeautifulSoup(text, "html.parser").get_text(" ")
    return " ".join(html.unescape(text).split())


def _key(words: list[str]) -> str:
    return " ".join(_WORD.findall(" ".join(words).lower()))


def pick_phrases(
    descriptions: dict[str, str], sample: int, seed: int
) -> tuple[dict[str, str], int]:
    """(product id -> phrase, products with no span of their own). A phrase is a span of
    4-8 consecutive words, at least three quarters of them words rather than numbers, found
    in no other product's description: one of the few whose words are rarest (mean IDF of
    its non-numeric words) across the descriptions, by seeded choice."""
    rng = random.Random(seed)
    ids = sorted(descriptions)
    if sample and sample < len(ids):
        ids = sorted(rng.sample(ids, sample))
    texts = {pid: plain_text(descriptions[pid]) for pid in descriptions}
    df = Counter(w for text in texts.values() for w in set(_WORD.findall(text.lower())))
    n_docs = max(len(texts), 1)
    idf = {w: math.log(n_docs / c) for w, c in df.items()}
    lowered = {pid: " ".join(_WORD.findall(t.lower())) for pid, t in texts.items()}
    phrases: dict[str, str] = {}
    skipped = 0
    for pid in ids:
        words = texts[pid].split()
        length = rng.randint(*PHRASE_WORDS)
        if len(words) < length:
            skipped += 1
            continue
        spans = []
        for start in range(len(words) - length + 1):
            span = words[start : start + length]
            words_in = [w for w in _WORD.findall(" ".join(span).lower()) if not w.isdigit()]
            if len(words_in) < math.ceil(0.75 * length):
                continue  # mostly numbers, punctuation or symbols: not a phrase a shopper quotes
            spans.append((sum(idf.get(w, 0.0) for w in words_in) / len(words_in), start))
        spans.sort(key=lambda s: (-s[0], s[1]))
        chosen = None
        candidates = []
        for score, start in spans:
            key = _key(words[start : start + length])
            if any(key in text for other, text in lowered.items() if other != pid):
                continue  # another product says it too: not this product's phrase
            candidates.append(start)
            if len(candidates) >= PHRASE_CHOICES:
                break
        if candidates:
            chosen = rng.choice(candidates)
        if chosen is None:
            skipped += 1
            continue
        phrase = " ".join(words[chosen : chosen + length]).strip(" ,;:.!?&•-—")
        phrases[pid] = phrase
    return phrases, skipped


# -- the measurement --------------------------------------------------------------------


def _slots(ids: list[str], k: int = K) -> list[str]:
    out: list[str] = []
    for pid in ids:
        if pid and pid not in out:
            out.append(pid)
        if len(out) >= k:
            break
    return out


def measure(service: Any, phrases: dict[str, str]) -> dict[str, Any]:
    """Recall@5 of hybrid, BM25 and dense for every (product, phrase)."""
    retriever = service.retriever
    snap = retriever.index.snapshot()
    collection = service.store.chunks
    embeddings = service.embeddings

    def product_of(position: int) -> str:
        owner = int(snap.record_of[position])
        return snap.chunks[owner].product_id if owner >= 0 else snap.chunks[position].id

    hits = Counter()
    misses: dict[str, list[dict[str, Any]]] = {"hybrid": [], "bm25": [], "dense": []}
    filtered = Counter()
    filtered_misses = read_as_filters = 0
    seconds = Counter()
    for pid, phrase in phrases.items():
        started = time.perf_counter()
        found = service.retrieve(phrase, K)
        seconds["hybrid"] += time.perf_counter() - started
        hybrid = _slots([s.id for s in found.sources])
        started = time.perf_counter()
        bm25 = _slots([product_of(i) for i in snap.keyword_ranking(phrase, 20 * K)])
        seconds["bm25"] += time.perf_counter() - started
        started = time.perf_counter()
        result = collection.query(query_embeddings=[embeddings.embed_query(phrase)],
                                  n_results=20 * K, include=["metadatas"])
        dense = _slots([str((m or {}).get("product_id") or c)
                        for c, m in zip(result["ids"][0], result["metadatas"][0])
                        if snap.shows(c)])
        seconds["dense"] += time.perf_counter() - started
        chips = found.constraints.chips() if found.constraints.filters else []
        for chip in chips:
            filtered[chip.split(":")[0]] += 1
        for name, ranked in (("hybrid", hybrid), ("bm25", bm25), ("dense", dense)):
            if pid in ranked:
                hits[name] += 1
            elif len(misses[name]) < MISSES_KEPT:
                misses[name].append({"product": pid, "phrase": phrase, "top5": ranked,
                                     "filters": chips})
        read_as_filters += bool(chips)
        if chips and pid not in hybrid:
            filtered_misses += 1
    n = len(phrases)
    return {
        "phrases": n,
        "recall_at_5": {name: round(hits[name] / n, 4) if n else None
                        for name in ("hybrid", "bm25", "dense")},
        "hits": dict(hits),
        "phrases_read_as_filters": read_as_filters,
        "filter_kinds": dict(filtered),
        "filtered_and_missed": filtered_misses,
        "mean_ms": {name: round(1000 * s / n, 2) for name, s in seconds.items()} if n else {},
        "misses": misses,
    }


def run_catalog(name: str, path: Path, embeddings: Any, sample: int, seed: int) -> dict[str, Any]:
    settings = Settings(_env_file=None)
    log(f"[{name}] ingesting {path.name} ...")
    started = time.perf_counter()
    with temporary_catalog([path], settings=settings, embeddings=embeddings) as catalog:
        ingest_s = time.perf_counter() - started
        service = catalog.service
        snap = service.retriever.index.snapshot()
        descriptions = {}
        for position in snap.records.values():
            product = snap.chunks[position].product
            if product is not None and product.visible and product.description.strip():
                descriptions[product.id] = product.description
        phrases, skipped = pick_phrases(descriptions, sample, seed)
        log(f"[{name}] {len(snap.records)} products, {len(descriptions)} visible with a "
            f"description; {len(phrases)} phrases ({skipped} products without a span of their "
            "own)")
        result = measure(service, phrases)
    result.update({
        "catalog": name,
        "file": str(path),
        "products": len(snap.records),
        "visible_with_description": len(descriptions),
        "skipped_no_own_span": skipped,
        "ingest_s": round(ingest_s, 1),
        "examples": dict(list(phrases.items())[:5]),
    })
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| catalog | phrases | hybrid R@5 | BM25 R@5 | dense R@5 | read as filters "
             "(missed) |", "| --- | --- | --- | --- | --- | --- |"]
    for r in results:
        rec = r["recall_at_5"]
        lines.append(f"| {r['catalog']} | {r['phrases']} | {rec['hybrid']:.3f} | "
                     f"{rec['bm25']:.3f} | {rec['dense']:.3f} | {r['phrases_read_as_filters']} "
                     f"({r['filtered_and_missed']}) |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realdata", type=Path, default=REALDATA,
                        help="folder holding magento/products.csv")
    parser.add_argument("--products", type=int, default=1000,
                        help="products in the generated messy export (default 1000)")
    parser.add_argument("--sample", type=int, default=300,
                        help="phrases per catalog at most, a seeded sample (0: every product)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--label", default="", help="written as description-recall-LABEL.json")
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write instead")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out or RESULTS / (f"description-recall-{args.label}.json" if args.label
                                 else "description-recall.json")
    embeddings = load_embeddings(Settings(_env_file=None))
    results = []
    notes = []
    magento = args.realdata / MAGENTO
    with tempfile.TemporaryDirectory(prefix="shopbot-recall-") as tmp:
        catalogs = []
        if magento.is_file():
            catalogs.append(("magento", magento))
        else:
            note = f"skipped the Magento sample: {magento} is missing"
            log(note)
            notes.append(note)
        messy = write_messy_export(Path(tmp) / "messy_export.csv", args.products, args.seed)
        catalogs.append((f"generated messy export ({args.products})", messy))
        for name, path in catalogs:
            try:
                results.append(run_catalog(name, path, embeddings, args.sample, args.seed))
            except Exception as exc:  # noqa: BLE001 - reported, then exit 1
                log(f"[{name}] failed: {exc}")
                return 1
    print(table(results))
    report = {
        "benchmark": "description_recall",
        "label": args.label,
        "k": K,
        "seed": args.seed,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "bm25_baseline": "the store's own keyword ranking (CatalogIndex snapshot keyword_ranking, "
                         "bm25s over each chunk's title and text), unfiltered",
        "dense_baseline": "embed_query + raw Chroma collection.query, one slot per product",
        "hybrid": "service.retrieve(phrase, 5): the chat's path, constraints read from the phrase",
        "notes": notes,
        "catalogs": results,
    }
    write_json(report, out)
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
