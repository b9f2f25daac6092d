"""Writes bench/eval_questions.jsonl, the labelled question set of ``python -m shopbot eval``.

Every label comes from catalog/catalog_data.py (the demo shop's facts), never from what the
bot answers: prices, stock and the full set of products that satisfy a filter question's
constraints. Deterministic: run it again after changing the demo catalog and commit the file.

    .venv/bin/python bench/make_eval_questions.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from catalog import catalog_data as cd  # noqa: E402
from shopbot.evaluation import ProductFacts, violations  # noqa: E402
from shopbot.vocabulary import format_price  # noqa: E402
from shopbot.prompts import NOT_IN_CATALOG  # noqa: E402

OUT = ROOT / "bench" / "eval_questions.jsonl"
P = cd.PRODUCTS_BY_SKU
POL = cd.POLICIES


def catalog_facts(product: dict) -> ProductFacts:
    """The demo catalog's own view of a product, for labelling (the eval itself reads the
    store instead)."""
    categories = {product["category"].lower(), product["subcategory"].lower()}
    text = "\n".join(
        [product["title"], product["description"], product["material"], product.get("notes", "")]
        + [f"{k}: {v}" for k, v in product["specs"].items()]
    )
    return ProductFacts(
        id=product["product_id"],
        price=product["price"],
        stock=product["stock"],
        brand=product["brand"],
        categories=frozenset(categories),
        colours=tuple(product["colours"]),
        sizes=tuple(product["sizes"]),
        text=text,
    )


def matching(constraints: dict) -> list[str]:
    """Every SKU of the demo catalog that satisfies ``constraints``, by price then SKU."""
    found = [p for p in cd.PRODUCTS if not violations(catalog_facts(p), constraints)]
    return [p["sku"] for p in sorted(found, key=lambda p: (p["price"], p["sku"]))]


def ranked(constraints: dict) -> list[str]:
    skus = matching(constraints)
    if constraints.get("sort") == "price_desc":
        skus = [p["sku"] for p in sorted((P[s] for s in skus), key=lambda p: (-p["price"], p["sku"]))]
    return skus


def aliases(skus) -> dict[str, list[str]]:
    """Products that live only on an HTML page are found as that page's passages."""
    return {s: [Path(P[s]["file"]).name] for s in skus if P[s]["file"].startswith("pages/")}


def price(sku: str) -> str:
    return format_price(P[sku]["price"], "USD")


def stock_fact(sku: str) -> str:
    stock = P[sku]["stock"]
    return f"{stock} available" if stock else "out of stock"


questions: list[dict] = []


def add(kind, turns, expected_ids=(), expected_sources=(), constraints=None, facts=()):
    if isinstance(turns, str):
        turns = [turns]
    number = sum(q["kind"] == kind for q in questions) + 1
    questions.append(
        {
            "id": f"{kind}-{number:02d}",
            "kind": kind,
            "turns": list(turns),
            # The key the store files each product under (a Shopify product's handle; its
            # SKU elsewhere); a source is hit by its id or any of its variants' SKUs.
            "expected_ids": [P[s]["product_id"] for s in expected_ids],
            "expected_sources": list(expected_sources),
            "aliases": {P[s]["product_id"]: files for s, files in aliases(expected_ids).items()},
            "constraints": constraints or {},
            "facts": list(facts),
        }
    )


# -- plain product facts: price, stock, attributes -------------------------------------------
for sku, template in [
    ("RL-TNT-003", "How much is the {}?"),
    ("RL-TNT-014", "What does the {} cost?"),
    ("RL-SLB-005", "price of the {}"),
    ("RL-BPK-005", "How much is the {}?"),
    ("RL-KIT-014", "What's the price of the {}?"),
    ("RL-LGT-006", "How much does the {} cost?"),
    ("RL-ACC-008", "How much is the {}?"),
    ("RL-FTW-011", "What does the {} cost?"),
    ("RL-JKT-009", "How much is the {}?"),
    ("RL-LGT-013", "What is the price of the {}?"),
]:
    add("fact", template.format(P[sku]["title"]), [sku], facts=[price(sku)])
for sku, template in [
    ("RL-TNT-010", "Is the {} in stock?"),
    ("RL-BPK-003", "Do you have the {} in stock?"),
    ("RL-JKT-005", "Is the {} available?"),
    ("RL-KIT-003", "Is the {} in stock?"),
    ("RL-SLB-017", "How many {}s do you have in stock?"),
]:
    add("fact", template.format(P[sku]["title"]), [sku], facts=[stock_fact(sku)])
for sku, question, fact in [
    ("RL-TNT-005", "What is the packed weight of the {}?", P["RL-TNT-005"]["specs"]["Packed weight"]),
    ("RL-SLB-004", "What is the comfort temperature of the {}?", P["RL-SLB-004"]["specs"]["Comfort temperature"]),
    ("RL-LGT-001", "How bright is the {}?", P["RL-LGT-001"]["specs"]["Max output"]),
    ("RL-JKT-007", "What colours does the {} come in?", P["RL-JKT-007"]["colours"][1]),
    ("RL-BPK-016", "What brand is the {}?", P["RL-BPK-016"]["brand"]),
]:
    add("fact", question.format(P[sku]["title"]), [sku], facts=[fact])

# -- filters ----------------------------------------------------------------------------------
FILTERS = [
    ("waterproof apparel under $150", {"category": "Jackets & Apparel", "keyword": "waterproof", "price_max": 150}),
    ("tents between 200 and 400 dollars", {"category": "Tents", "price_min": 200, "price_max": 400}),
    ("Ridgeline daypacks", {"category": "Daypacks", "brand": "Ridgeline"}),
    ("in-stock sleeping bags", {"category": "Sleeping Bags", "in_stock": True}),
    ("headlamps under $40", {"category": "Headlamps", "price_max": 40}),
    ("Kestrel Peak tents", {"category": "Tents", "brand": "Kestrel Peak"}),
    ("Northfall footwear", {"category": "Footwear", "brand": "Northfall"}),
    ("down sleeping bags under $400", {"category": "Down Sleeping Bags", "price_max": 400}),
    ("daypacks under $100", {"category": "Daypacks", "price_max": 100}),
    ("stoves under $100", {"category": "Stoves", "price_max": 100}),
    ("Emberline lighting under $50", {"category": "Lighting & Electronics", "brand": "Emberline", "price_max": 50}),
    ("clothing in size XXL under $100", {"category": "Jackets & Apparel", "size": "XXL", "price_max": 100}),
    ("footwear in size EU 36", {"category": "Footwear", "size": "EU 36"}),
    ("orange clothing", {"category": "Jackets & Apparel", "colour": "orange"}),
    ("blue backpacks", {"category": "Backpacks", "colour": "blue"}),
    ("green tents", {"category": "Tents", "colour": "green"}),
    ("Talusworks products in stock under $60", {"brand": "Talusworks", "in_stock": True, "price_max": 60}),
    ("backpacking packs between 150 and 250 dollars that are in stock", {"category": "Backpacking Packs", "price_min": 150, "price_max": 250, "in_stock": True}),
    ("waterproof footwear", {"category": "Footwear", "keyword": "waterproof"}),
    ("camp kitchen gear under $30", {"category": "Camp Kitchen", "price_max": 30}),
    ("expedition tents over $800", {"category": "Expedition Tents", "price_min": 800}),
    ("sleeping bags under $100", {"category": "Sleeping Bags", "price_max": 100}),
]
for question, constraints in FILTERS:
    skus = matching(constraints)
    facts = [P[skus[0]]["title"]] if len(skus) == 1 else []
    add("filter", question, skus, constraints=constraints, facts=facts)

# -- sort -------------------------------------------------------------------------------------
SORTS = [
    ("What is the cheapest tent?", {"category": "Tents", "sort": "price_asc"}),
    ("the most expensive stove", {"category": "Stoves", "sort": "price_desc"}),
    ("What's your most expensive tent?", {"category": "Tents", "sort": "price_desc"}),
    ("cheapest headlamp", {"category": "Headlamps", "sort": "price_asc"}),
    ("the cheapest down sleeping bag", {"category": "Down Sleeping Bags", "sort": "price_asc"}),
    ("most expensive backpack", {"category": "Backpacks", "sort": "price_desc"}),
    ("cheapest in-stock backpacking tent", {"category": "Backpacking Tents", "in_stock": True, "sort": "price_asc"}),
    ("the cheapest Kestrel Peak jacket", {"category": "Jackets & Apparel", "brand": "Kestrel Peak", "sort": "price_asc"}),
    ("most expensive Emberline product", {"brand": "Emberline", "sort": "price_desc"}),
    ("cheapest water filter", {"category": "Water Treatment", "sort": "price_asc"}),
]
for question, constraints in SORTS:
    # "the cheapest tent" is the cheapest product that is a tent (its title or its own
    # subcategory says so), not a footprint or a beach shelter filed under Tents.
    noun = question.rstrip("?").split()[-1].capitalize()
    skus = ranked(constraints)
    of_kind = [s for s in skus if P[s]["title"].endswith(noun)
               or noun.lower() in str(P[s].get("subcategory") or "").lower()]
    top = (of_kind or skus)[0]
    add("sort", question, [top], constraints=constraints, facts=[P[top]["title"], price(top)])

# -- follow-ups: the last turn is scored ---------------------------------------------------------
for first, sku, follow, fact in [
    ("How much is the Alpine 2 Tent?", "RL-TNT-001", "is it in stock?", stock_fact("RL-TNT-001")),
    ("Tell me about the Ember -5 Down Bag", "RL-SLB-005", "how much does it cost?", price("RL-SLB-005")),
    ("What does the Skyline 28 Daypack cost?", "RL-BPK-006", "is it in stock?", stock_fact("RL-BPK-006")),
    ("Tell me about the Hearth 800 Down Jacket", "RL-JKT-004", "what colours does it come in?", "Ice Blue"),
    ("How much is the Voltpack 10000 Power Bank?", "RL-LGT-005", "and how heavy is it?", "210 g"),
    ("Do you have the Scramble Approach Shoe?", "RL-FTW-008", "what does it cost?", price("RL-FTW-008")),
    ("How much is the Icebox 45 Hard Cooler?", "RL-KIT-015", "is it in stock?", stock_fact("RL-KIT-015")),
    ("Tell me about the Forge 12 Multi-Tool", "RL-ACC-008", "and the price?", price("RL-ACC-008")),
    ("What is the Cirrus UL 2 Tent?", "RL-TNT-007", "how much is it?", price("RL-TNT-007")),
]:
    add("follow_up", [first, follow], [sku], facts=[fact])
# A follow-up that narrows a filter question.
_narrow = {"category": "Tents", "price_min": 200, "price_max": 400, "in_stock": True}
add("follow_up", ["tents between 200 and 400 dollars", "only the ones in stock"], matching(_narrow), constraints=_narrow)

# -- comparisons -----------------------------------------------------------------------------
for a, b, question in [
    ("RL-TNT-001", "RL-TNT-004", "compare the Alpine 2 and the Summit Expedition 4"),
    ("RL-LGT-001", "RL-LGT-002", "Beacon 400 Headlamp vs Beacon 900 Rechargeable Headlamp"),
    ("RL-JKT-001", "RL-JKT-003", "compare the Stormline 2.5L Rain Jacket with the Tempest 3L Alpine Shell"),
    ("RL-SLB-001", "RL-SLB-017", "Glacier -10 Down Bag or Cirrus 0 Down Bag: which is better?"),
    ("RL-BPK-001", "RL-BPK-003", "compare the Traverse 65 Backpack and the Vertex 80 Expedition Pack"),
    ("RL-KIT-001", "RL-KIT-002", "What is the difference between the Blaze Canister Stove and the Blaze Pro Cook System?"),
    ("RL-FTW-006", "RL-FTW-021", "compare the Talus Trail Runner and the Skyrunner Trail Shoe"),
]:
    add("comparison", question, [a, b], facts=[price(a), price(b)])

# -- SKU lookups -------------------------------------------------------------------------------
for sku, template in [
    ("RL-TNT-001", "{}"),
    ("RL-KIT-002", "What is {}?"),
    ("RL-JKT-012", "price of {}"),
    ("RL-SLB-013", "Tell me about {}"),
    ("RL-ACC-015", "{}"),
    ("RL-FTW-017", "How much is {}?"),
    ("RL-BPK-019", "is {} in stock?"),
    ("RL-LGT-010", "{}"),
]:
    add("sku", template.format(sku), [sku], facts=[P[sku]["title"], price(sku)])

# -- policies --------------------------------------------------------------------------------
for question, source, fact in [
    ("What is your return policy?", "returns.docx", f"{POL['return_days']} days"),
    ("How long does a refund take?", "returns.docx", POL["refund_days"]),
    ("How much is express shipping?", "shipping.docx", format_price(POL["express_shipping_cost"], "USD")),
    ("How much does shipping to Alaska cost?", "shipping.docx", format_price(POL["alaska_hawaii_shipping_cost"], "USD")),
    ("What is the warranty on sleeping bags?", "warranty.docx", f"{POL['warranty_years']['Sleeping Bags']} years"),
    ("How long is the warranty on footwear?", "warranty.docx", f"{POL['warranty_years']['Footwear']} year"),
    ("What is your support phone number?", "faq.md", POL["support_phone"]),
    ("How long does standard shipping take?", "shipping.docx", POL["standard_shipping_days"]),
]:
    add("policy", question, expected_sources=[source], facts=[fact])

# -- not sold --------------------------------------------------------------------------------
for question in [
    "Do you sell kayaks?",
    "Do you have snowboards?",
    "Can I buy a drone here?",
    "Do you sell fishing rods?",
    "Do you carry golf clubs?",
    "Do you have mountain bikes?",
    "What is the capital of Spain?",
    "Do you sell smartphones?",
]:
    add("not_sold", question, facts=[NOT_IN_CATALOG])


def main() -> None:
    OUT.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    kinds: dict[str, int] = {}
    for q in questions:
        kinds[q["kind"]] = kinds.get(q["kind"], 0) + 1
    print(f"wrote {len(questions)} questions to {OUT.relative_to(ROOT)}: {kinds}")


if __name__ == "__main__":
    main()
