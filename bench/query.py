"""Query-time speed: retrieval, extractive answers and Flan-T5 streaming, each against a raw
baseline measured in the same run, interleaved with it.

What it measures (all state in temp dirs, HF_HUB_OFFLINE=1, the embedding model loaded once
and shared by every store and generator):

* retrieval, at two catalog sizes (1,000 and 10,000 generated products; each store also
  holds the demo catalog in ``catalog/`` so policy passages exist), filled through
  ``CatalogService.ingest`` into a fresh embedded Chroma store. The retriever's in-memory
  index (BM25, filter masks, product names) is then built once and timed on its own
  (``index_build_s``: what the first question after a start or a catalog change pays). For a
  fixed list of 40 shopper queries (generated product names, attributes, demo products,
  policy questions): (a) ``service.search(q, k=5)`` (hybrid: dense and BM25 rankings fused
  by reciprocal rank, filters read from the question) and (b) the raw vector query it grew
  from, ``embeddings.embed_query(q)`` plus ``collection.query(query_embeddings=[v],
  n_results=5, include=[documents, metadatas, distances])`` on the same collection. After one
  warm-up pass, each query is timed a then b (or b then a: the order alternates) for several
  repetitions. ratio = p50(a) / p50(b), and the same for p95: what hybrid retrieval costs
  over the raw vector query. The two rank differently by design; as a sanity check (b)'s top
  hit must be among (a)'s 5 slots for most queries;
* filtered retrieval, at both sizes: 16 shopper questions with filters the parser reads
  against the generated catalog's own vocabulary (price bounds and ranges, brand, category,
  in stock, colour, size, "cheapest" / "most expensive"), ``service.retrieve(filtered, 5)``
  against ``service.retrieve(unfiltered, 5)``, where ``unfiltered`` is the same question
  without its filter words (``FILTERED_QUERIES``), interleaved after a warm-up pass. Every
  product a filtered retrieval returns is checked against its constraints
  (``Constraints.matches``; a labelled closest match only when nothing fits) and a price
  sort against price order. ratio = p50(filtered) / p50(unfiltered), and p95; one more pass
  times the retriever's stages (parse, index signature, masks, dense query, BM25, vectors,
  slots) to show where the time goes;
* extractive answers, on the larger store: ``service.assistant("extractive").ask(q)`` and the
  retrieval alone (``service.retrieve(q, retrieval_k)``) for the same query, interleaved.
  The headline overhead is each ask's time minus the retrieval inside that same ask (timed
  by wrapping ``service.retrieve``, which the chain calls): exact, and immune to the machine
  changing speed between two calls. The paired figure (ask - the standalone retrieval next
  to it) is reported too; on a busy machine its two retrievals differ by more than the
  answer costs. p50 / p95 in ms. The warm-up pass (each question's first ask, before the
  generator has kept anything about its sources) is reported as
  ``first_pass_overhead_ms_*``. A separate pass breaks the overhead down (generator alone,
  time inside the embedding model, sentences embedded) so a miss can be traced;
* flan-t5 throughput, on a tiny random T5 built by ``tests/tiny_t5.py`` (it never emits
  ``</s>``, so every generation is exactly ``max_new_tokens`` = 64 tokens): the streamed
  ``FlanT5Generator.generate(question, [], sources)`` against a raw
  ``model.generate(**tokenizer(prompt), **generation_kwargs)`` on the identical prompt
  (``generator.build_prompt``), interleaved. Tokens are counted as generated ids (the raw
  output's length; the streamed text is checked to equal the raw output decoded, so it has
  the same ids). ratio = median streamed tokens/s / median raw tokens/s. Both sides run with
  one torch intra-op thread (``--flan-threads``; 0 keeps torch's default): the tiny model's
  ops take microseconds, so on a small machine shared with other jobs OpenMP's per-op
  barriers dominate and swing either side's time several-fold, which is not what this
  measures (the streaming path's own cost: its thread, queue and per-token decoding).

Headline figures and targets: ``retrieval_ratio`` (the worse p50 ratio of the two sizes,
<= 1.3), ``filtered_ratio`` (the p50 ratio at the larger size, 10,000 products in the full
run, <= 1.5; every size's p50 and p95 ratios are in ``filtered_ratio_p50`` /
``filtered_ratio_p95``, the index build in ``index_build_s``),
``extractive_overhead_ms_p50`` (<= 60 ms) and ``flan_t5_ratio`` (>= 0.9).

Run from the repository root:

    .venv/bin/python bench/query.py            # full run: 1,000 and 10,000 products (minutes)
    .venv/bin/python bench/query.py --quick    # smoke test: 300 and 1,000 products, fewer reps
    .venv/bin/python bench/query.py --out /tmp/query.json

It prints a markdown table and writes ``bench/results/query.json``; it exits non-zero when an
ingest fails, a measured path fails its check against its baseline, or a filtered retrieval
returns a product that does not fit its filters (not when a target is missed).
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import percentile, write_json  # noqa: E402
from bench.ingest import SEED, generate_csv, log, package_versions  # noqa: E402
from shopbot.embeddings import load_embeddings  # noqa: E402
from shopbot.service import CatalogService  # noqa: E402
from shopbot.settings import Settings  # noqa: E402

TARGETS = {"retrieval_ratio": 1.3, "filtered_ratio": 1.5, "extractive_overhead_ms_p50": 60.0,
           "flan_t5_ratio": 0.9}
FULL_SIZES = (1_000, 10_000)
QUICK_SIZES = (300, 1_000)
K = 5
# The raw dense query's top hit must be among the hybrid search's k slots for at least this
# share of the queries (they rank differently by design; far less means a broken path).
MIN_TOP_HIT_AGREEMENT = 0.7
FLAN_MAX_NEW_TOKENS = 64
DEFAULT_OUT = REPO / "bench" / "results" / "query.json"
# (retrieval reps, extractive reps, flan-t5 reps per question)
FULL_REPS = (5, 3, 15)
QUICK_REPS = (2, 1, 2)
FLAN_QUESTIONS = 4


class BenchError(RuntimeError):
    """A measured path and its baseline disagree, or an ingest failed."""


# -- queries -----------------------------------------------------------------------------

ATTRIBUTE_QUERIES = [
    "lightweight backpacking tent under $300",
    "merino wool base layer",
    "waterproof rain jacket with taped seams",
    "800-fill down jacket",
    "trail running shoes with a Vibram outsole",
    "which sleeping bags are rated for 3 seasons?",
    "ultralight sleeping pad for thru-hiking",
    "GPS watch for navigation",
    "hydration pack for trail running",
    "do you sell backpacking stoves?",
    "cheapest headlamp",
    "recycled polyester expedition pack",
]
DEMO_PRODUCT_QUERIES = [
    "How much is the Alpine 2 Tent?",
    "is the Cloudburst 3L rain jacket waterproof?",
    "how warm is the Glacier 10 down bag?",
    "Beacon 900 rechargeable headlamp battery life",
]
POLICY_QUERIES = [
    "what is your return policy?",
    "how long does express shipping take?",
    "do you offer free shipping?",
    "which payment methods do you accept?",
    "can I cancel my order?",
    "do you ship to Canada?",
    "what does the warranty cover?",
    "how do I find the right size?",
    "how can I contact customer service?",
    "when will my order ship?",
]
PRODUCT_TEMPLATES = [
    "How much is the {title}?",
    "is the {title} in stock?",
    "{title}",
    "tell me about the {brand} {title}",
    "how heavy is the {title}?",
    "what is the {title} made of?",
]
GENERATED_PRODUCT_QUERIES = 14


def build_queries(csv_path: Path, rows: int) -> list[tuple[str, str]]:
    """40 (kind, query) pairs. Product names come from the first ``rows`` generated rows,
    which are the same in every size's CSV (same seed, rows generated in order)."""
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        products = [row for _, row in zip(range(rows), reader)]
    rng = random.Random(SEED)
    picked = rng.sample(products, GENERATED_PRODUCT_QUERIES)
    generated = [
        PRODUCT_TEMPLATES[i % len(PRODUCT_TEMPLATES)].format(
            title=row["Title"], brand=row["Vendor"] or "Ridgeline"
        ).replace("  ", " ")
        for i, row in enumerate(picked)
    ]
    return (
        [("product", q) for q in generated]
        + [("attribute", q) for q in ATTRIBUTE_QUERIES]
        + [("demo product", q) for q in DEMO_PRODUCT_QUERIES]
        + [("policy", q) for q in POLICY_QUERIES]
    )


# Filtered shopper questions, each with the same question minus its filter words (a category
# noun becomes "something"/"gear", since a category word is itself a filter), and the kinds of
# filter the parser must read from it. Brands, categories, colours and sizes are the generated
# catalog's own (bench/ingest.py: BRANDS, CATEGORIES, COLOURS, SIZES).
FILTERED_QUERIES: list[tuple[str, str, frozenset[str]]] = [
    (filtered, unfiltered, frozenset(kinds.split()))
    for filtered, unfiltered, kinds in [
        ("lightweight tents for thru-hiking under $300",
         "lightweight gear for thru-hiking", "price category"),
        ("warm sleeping bags for cold nights between 20 and 40 dollars",
         "warm gear for cold nights", "price category"),
        ("Kestrel Peak rain jackets with taped seams",
         "something with taped seams", "brand category"),
        ("Ridgeline daypacks for a long day in the mountains",
         "something for a long day in the mountains", "brand category"),
        ("headlamps for night hikes in stock", "something for night hikes", "category stock"),
        ("Northwind backpacks for a week-long trek over $500",
         "something for a week-long trek", "price brand category"),
        ("trail shoes with a Vibram outsole under $100",
         "something with a Vibram outsole", "price category"),
        ("cheapest stove for family camping", "something for family camping", "sort category"),
        ("most expensive down jackets for alpine climbing",
         "something for alpine climbing", "sort category"),
        ("base layers made of merino wool in size M",
         "something made of merino wool", "category size"),
        ("navy rain jackets for wet weather", "something for wet weather", "category colour"),
        ("forest green tents for windy ridges", "something for windy ridges",
         "category colour"),
        ("Larchwood sleeping pads that are in stock under $80",
         "something comfortable to sleep on", "price brand category stock"),
        ("hiking boots from Talus with a lifetime warranty between 100 and 300 dollars",
         "something with a lifetime warranty", "price brand category"),
        ("cheapest Driftline compass for navigation", "something for navigation",
         "sort brand"),
        ("black gear under $50 for fastpacking", "gear for fastpacking", "price colour"),
    ]
]


def filter_kinds(constraints: Any) -> frozenset[str]:
    """The kinds of filter (and sort) a parsed Constraints holds."""
    c = constraints
    return frozenset(name for name, present in [
        ("price", c.price_min is not None or c.price_max is not None),
        ("brand", bool(c.brands)), ("category", bool(c.categories)),
        ("colour", bool(c.colours)), ("size", bool(c.sizes)),
        ("stock", c.in_stock is not None), ("sort", c.sort is not None),
    ] if present)


# -- helpers -----------------------------------------------------------------------------



def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def interleaved(
    items: Sequence[Any],
    reps: int,
    a: Callable[[Any], Any],
    b: Callable[[Any], Any],
    check: Callable[[Any, Any, Any], None] | None = None,
) -> tuple[list[float], list[float]]:
    """Seconds of a(item) and b(item) for every item and rep, taken in pairs; the order
    within a pair alternates so neither side always runs first (caches, turbo, neighbours)."""
    times_a: list[float] = []
    times_b: list[float] = []
    for rep in range(reps):
        gc.collect()
        for i, item in enumerate(items):
            if (rep + i) % 2 == 0:
                result_a, seconds_a = timed(lambda: a(item))
                result_b, seconds_b = timed(lambda: b(item))
            else:
                result_b, seconds_b = timed(lambda: b(item))
                result_a, seconds_a = timed(lambda: a(item))
            if check is not None:
                check(item, result_a, result_b)
            times_a.append(seconds_a)
            times_b.append(seconds_b)
    return times_a, times_b


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


class Bench:
    """The shared embedding model and temp dir; one fresh store per ``service()`` call."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings = self.make_settings("model")
        started = time.perf_counter()
        self.embeddings = load_embeddings(self.settings)
        self.model_load_seconds = time.perf_counter() - started
        self.model = self.embeddings._client  # the SentenceTransformer

    def make_settings(self, name: str, **overrides: Any) -> Settings:
        return Settings(
            _env_file=None, data_dir=self.root / name, catalog_dir=Path("catalog"), **overrides
        )

    def service(self, name: str) -> CatalogService:
        return CatalogService(self.make_settings(name), embeddings=self.embeddings)


def build_index(service: CatalogService) -> float:
    """Seconds to build the retriever's in-memory index (BM25, filter masks, names): what the
    first question after a start or a catalog change pays."""
    index = service.retriever.index
    index._snapshot = None  # in case anything built it already: time a full build
    _, seconds = timed(index.snapshot)
    return seconds


def filled_service(bench: Bench, size: int, csv_path: Path) -> tuple[CatalogService, float]:
    service = bench.service(f"store{size}")
    results, seconds = timed(lambda: service.ingest([Path("catalog"), csv_path]))
    failed = [f"{r.source}: {r.error}" for r in results if not r.ok]
    if failed:
        raise BenchError("ingest failed for " + "; ".join(failed))
    return service, seconds


# -- 1. retrieval ------------------------------------------------------------------------


def bench_retrieval(
    service: CatalogService, queries: list[str], reps: int
) -> dict[str, Any]:
    """``service.search`` (hybrid: dense + BM25 fused, filters read from the question) against
    the raw dense query it grew from. They rank differently by design, so the check is a
    sanity one: the raw query finds k chunks, the search finds something, and the raw
    query's top hit is among the search's k slots for most queries."""
    embeddings = service.embeddings
    collection = service.store.chunks

    def search(q: str) -> list[str]:
        return [s.id for s in service.search(q, k=K)]

    def baseline(q: str) -> list[str]:
        vector = embeddings.embed_query(q)
        found = collection.query(
            query_embeddings=[vector], n_results=K, include=["documents", "metadatas", "distances"]
        )
        return [str((meta or {}).get("product_id") or chunk_id)
                for chunk_id, meta in zip(found["ids"][0], found["metadatas"][0])]

    def sane(q: str, a: list[str], b: list[str]) -> None:
        if not a or len(b) != K:
            raise BenchError(f"search found {len(a)} sources and the raw query {len(b)} chunks "
                             f"for {q!r} (expected some and {K})")

    top_hit_found = 0
    for q in queries:  # warm-up: imports, caches, HNSW pages
        a, b = search(q), baseline(q)
        sane(q, a, b)
        top_hit_found += b[0] in a
    agreement = top_hit_found / len(queries)
    if agreement < MIN_TOP_HIT_AGREEMENT:
        raise BenchError(f"the raw query's top hit is in the search's top {K} for only "
                         f"{agreement:.0%} of the queries (expected >= "
                         f"{MIN_TOP_HIT_AGREEMENT:.0%}): is the dense side of the search broken?")
    times_a, times_b = interleaved(queries, reps, search, baseline, sane)
    p50, p95 = percentile(times_a, 50), percentile(times_a, 95)
    b50, b95 = percentile(times_b, 50), percentile(times_b, 95)
    return {
        "chunks": service.store.count_chunks(),
        "p50_ms": ms(p50),
        "p95_ms": ms(p95),
        "baseline_p50_ms": ms(b50),
        "baseline_p95_ms": ms(b95),
        "ratio_p50": round(p50 / b50, 4),
        "ratio_p95": round(p95 / b95, 4),
        "raw_top_hit_in_search_top_k": round(agreement, 4),
        "queries": len(queries),
        "reps": reps,
        "samples": len(times_a),
    }


# -- 1b. filtered retrieval --------------------------------------------------------------


def bench_filtered(
    service: CatalogService, cases: list[tuple[str, str, frozenset[str]]], reps: int
) -> dict[str, Any]:
    """``service.retrieve(filtered, 5)`` against ``service.retrieve(unfiltered, 5)`` (the same
    question without its filter words), interleaved after one warm-up pass. Every product a
    filtered retrieval returns must satisfy its constraints (a labelled closest match only
    when nothing fits), and a price sort must come back in price order."""
    retriever = service.retriever
    for filtered, unfiltered, kinds in cases:
        parsed, plain = retriever.parse(filtered), retriever.parse(unfiltered)
        if filter_kinds(parsed) != kinds:
            raise BenchError(f"{filtered!r} parses to {parsed.chips()}, expected filters of "
                             f"kind {sorted(kinds)}")
        if plain:
            raise BenchError(f"{unfiltered!r} (the unfiltered side) parses to {plain.chips()}")

    relaxed: set[str] = set()

    def filtered_retrieve(case: tuple[str, str, frozenset[str]]) -> Any:
        return service.retrieve(case[0], K)

    def unfiltered_retrieve(case: tuple[str, str, frozenset[str]]) -> Any:
        return service.retrieve(case[1], K)

    def satisfied(case: tuple[str, str, frozenset[str]], found: Any, plain: Any) -> None:
        q = case[0]
        if not plain.sources:
            raise BenchError(f"the unfiltered {case[1]!r} found nothing")
        if found.relaxed:
            # Nothing fits: every source is a closest match (Retrieval.note says so).
            relaxed.add(q)
            return
        snap = retriever.index.snapshot()
        records = []
        for source in found.sources:
            if source.note:
                raise BenchError(f"{q!r}: {source.title!r} is labelled {source.note!r} "
                                 "although the retrieval was not relaxed")
            position = snap.records.get(source.id)
            if position is None:
                continue  # a passage about no product (a policy, the FAQ)
            chunk = snap.chunks[position]
            if source.kind == "product":
                records.append(source)
            # A product's record, or a passage about it: either way its record must fit.
            if not found.constraints.matches({**chunk.meta, "kind": "product"}, chunk.text):
                raise BenchError(f"{q!r} ({found.constraints.describe()}) returned "
                                 f"{source.title!r} ({source.kind}, {source.price} "
                                 f"{source.brand!r}, {chunk.meta.get('category_path')!r}, "
                                 f"stock {source.stock}), which does not fit")
        if not records:
            raise BenchError(f"{q!r} ({found.constraints.describe()}) found no product")
        sort = found.constraints.sort
        if sort:
            prices = [s.price for s in records]
            if prices != sorted(prices, reverse=sort == "price_desc"):
                raise BenchError(f"{q!r} asks for {sort} but the prices are {prices}")

    for case in cases:  # warm-up (the index is built already: see index_build_s)
        satisfied(case, filtered_retrieve(case), unfiltered_retrieve(case))
    times_f, times_u = interleaved(cases, reps, filtered_retrieve, unfiltered_retrieve, satisfied)
    f50, f95 = percentile(times_f, 50), percentile(times_f, 95)
    u50, u95 = percentile(times_u, 50), percentile(times_u, 95)
    return {
        "p50_ms": ms(f50),
        "p95_ms": ms(f95),
        "unfiltered_p50_ms": ms(u50),
        "unfiltered_p95_ms": ms(u95),
        "ratio_p50": round(f50 / u50, 4),
        "ratio_p95": round(f95 / u95, 4),
        "relaxed": sorted(relaxed),
        "queries": len(cases),
        "reps": reps,
        "samples": len(times_f),
        "breakdown": retrieval_breakdown(service, cases),
    }


class TimedEmbedQuery:
    """Stands in for the retriever's embeddings while ``embed_query`` is timed."""

    def __init__(self, inner: Any, embed_query: Callable[[str], list[float]]) -> None:
        self.inner = inner
        self.embed_query = embed_query

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def retrieval_breakdown(
    service: CatalogService, cases: list[tuple[str, str, frozenset[str]]]
) -> dict[str, dict[str, float]]:
    """One more pass, not part of the headline: where a filtered and an unfiltered retrieval
    spend their time. Each stage is timed inclusively (``ranked`` contains the dense query,
    ``keyword_ranking`` and ``vectors``), p50 ms per question, 0 where a question skips it.
    ``dense_query`` is Chroma's query (under Chroma's own ``where`` filter if any);
    ``dense_query_where`` is a filtered question's dense query, the filter evaluated in the
    in-memory index and Chroma searching among those ids (CatalogIndex.query_where)."""
    retriever = service.retriever
    snap = retriever.index.snapshot()
    spent: dict[str, float] = {}
    targets = [
        ("snapshot", retriever.index, "snapshot"),
        ("signature", retriever.index, "_signature"),
        ("parse", retriever, "parse"),
        ("record_mask", snap, "record_mask"),
        ("allowed", snap, "allowed"),
        ("ranked", retriever, "_ranked"),
        ("sorted", retriever, "_sorted"),
        ("dense_query", retriever.store, "query"),
        ("dense_query_where", retriever.index, "query_where"),
        ("keyword_ranking", snap, "keyword_ranking"),
        ("vectors", retriever.store, "vectors"),
        ("slots", retriever, "_slots"),
    ]

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
        return timed_call

    shadowed = []
    for name, owner, attr in targets:
        if not hasattr(owner, attr) or attr in vars(owner):
            continue  # gone, or already shadowed by someone else: leave it alone
        setattr(owner, attr, wrap(name, getattr(owner, attr)))
        shadowed.append((owner, attr))
    # The embeddings may be a pydantic model (no new attributes): swap in a timed proxy.
    embeddings = retriever.embeddings
    retriever.embeddings = TimedEmbedQuery(embeddings, wrap("embed_query", embeddings.embed_query))
    per: dict[str, dict[str, list[float]]] = {"filtered": {}, "unfiltered": {}}
    try:
        for filtered, unfiltered, _ in cases:
            for side, q in (("filtered", filtered), ("unfiltered", unfiltered)):
                spent.clear()
                _, seconds = timed(lambda: service.retrieve(q, K))
                spent["total"] = seconds
                for name in ["total", "embed_query"] + [n for n, _, _ in targets]:
                    per[side].setdefault(name, []).append(spent.get(name, 0.0))
    finally:
        retriever.embeddings = embeddings
        for owner, attr in shadowed:
            delattr(owner, attr)
    return {side: {f"{name}_ms_p50": ms(statistics.median(values))
                   for name, values in rows.items()} for side, rows in per.items()}


# -- 2. extractive -----------------------------------------------------------------------


class CountingEmbeddings:
    """Wraps the embeddings the extractive generator uses: counts calls, texts and time."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0
        self.texts = 0
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1
            self.texts += len(texts)

    def embed_query(self, text: str) -> list[float]:
        started = time.perf_counter()
        try:
            return self.inner.embed_query(text)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1
            self.texts += 1


def bench_extractive(
    service: CatalogService, queries: list[tuple[str, str]], reps: int
) -> dict[str, Any]:
    assistant = service.assistant("extractive")
    k = service.settings.retrieval_k
    texts = [q for _, q in queries]
    # The assistant retrieves through ``service.retrieve`` (see CatalogService.assistant: a
    # lambda that looks the method up on the service at each call); an instance attribute
    # shadowing it times the retrieval inside each ask, so that ask's own overhead is known
    # exactly. The standalone retrieval calls the original bound method, so it is not counted.
    retrieve_method = service.retrieve
    inside: list[float] = []

    def retrieve_timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return retrieve_method(*args, **kwargs)
        finally:
            inside.append(time.perf_counter() - started)

    def answer(q: str) -> str:
        return assistant.ask(q).text

    def retrieve(q: str) -> int:
        return len(retrieve_method(q, k).sources)

    def answered(q: str, text: str, _: int) -> None:
        if not text:
            raise BenchError(f"the extractive assistant gave an empty answer to {q!r}")

    service.retrieve = retrieve_timed  # type: ignore[method-assign]
    first_pass: list[float] = []
    try:
        # The warm-up pass is each question's first ask in this process (nothing the
        # generator keeps between answers, such as sentence vectors, has seen its sources
        # yet, unless an earlier question shared them): reported as first_pass_*.
        for q in texts:
            inside.clear()
            _, seconds = timed(lambda: answer(q))
            if len(inside) != 1:
                raise BenchError(f"expected one retrieval in the ask for {q!r}, got "
                                 f"{len(inside)}: does the chain still call service.retrieve?")
            first_pass.append(seconds - inside[0])
            retrieve(q)
        inside.clear()
        times_answer, times_retrieval = interleaved(texts, reps, answer, retrieve, answered)
    finally:
        del service.retrieve  # back to the method
    if len(inside) != len(times_answer):
        raise BenchError(f"expected one retrieval per answer, got {len(inside)} for "
                         f"{len(times_answer)} answers")
    paired = [a - r for a, r in zip(times_answer, times_retrieval)]
    in_call = [a - r for a, r in zip(times_answer, inside)]

    # Breakdown, one more pass, not part of the headline: where does the overhead go?
    generator = assistant.generator
    counting = CountingEmbeddings(generator.embeddings)
    generator.embeddings = counting
    per_kind: dict[str, dict[str, list[float]]] = {}
    answers: list[dict[str, Any]] = []
    try:
        for kind, q in queries:
            sources = service.search(q, k=k)
            counting.calls = counting.texts = 0
            counting.seconds = 0.0
            text, generate_seconds = timed(lambda: "".join(generator.generate(q, [], sources)))
            answers.append({
                "kind": kind,
                "query": q,
                "top_sources": [f"{s.kind}:{s.source}:{s.score:.3f}" for s in sources[:3]],
                "answer": text[:200],
            })
            row = per_kind.setdefault(
                kind, {"generate_ms": [], "embed_ms": [], "embed_calls": [], "texts_embedded": []}
            )
            row["generate_ms"].append(generate_seconds * 1000)
            row["embed_ms"].append(counting.seconds * 1000)
            row["embed_calls"].append(counting.calls)
            row["texts_embedded"].append(counting.texts)
    finally:
        generator.embeddings = counting.inner
    every = {key: [v for row in per_kind.values() for v in row[key]] for key in
             ("generate_ms", "embed_ms", "embed_calls", "texts_embedded")}

    def summary(row: dict[str, list[float]]) -> dict[str, Any]:
        return {
            "queries": len(row["generate_ms"]),
            "generate_ms_p50": round(statistics.median(row["generate_ms"]), 2),
            "embed_ms_p50": round(statistics.median(row["embed_ms"]), 2),
            "other_ms_p50": round(statistics.median(
                [g - e for g, e in zip(row["generate_ms"], row["embed_ms"])]), 2),
            "embed_share": round(sum(row["embed_ms"]) / sum(row["generate_ms"]), 3),
            "texts_embedded_mean": round(statistics.mean(row["texts_embedded"]), 1),
            "texts_embedded_max": max(row["texts_embedded"]),
            "embed_calls_mean": round(statistics.mean(row["embed_calls"]), 2),
        }

    return {
        "chunks": service.store.count_chunks(),
        "overhead_ms_p50": ms(percentile(in_call, 50)),
        "overhead_ms_p95": ms(percentile(in_call, 95)),
        "paired_overhead_ms_p50": ms(percentile(paired, 50)),
        "paired_overhead_ms_p95": ms(percentile(paired, 95)),
        "retrieval_in_ask_p50_ms": ms(percentile(inside, 50)),
        "first_pass_overhead_ms_p50": ms(percentile(first_pass, 50)),
        "first_pass_overhead_ms_p95": ms(percentile(first_pass, 95)),
        "answer_p50_ms": ms(percentile(times_answer, 50)),
        "answer_p95_ms": ms(percentile(times_answer, 95)),
        "retrieval_p50_ms": ms(percentile(times_retrieval, 50)),
        "retrieval_p95_ms": ms(percentile(times_retrieval, 95)),
        "queries": len(texts),
        "reps": reps,
        "samples": len(in_call),
        "cached_sentence_vectors": len(getattr(assistant.generator, "_sentence_vectors", ())),
        "breakdown": {"all": summary(every), **{kind: summary(row) for kind, row in per_kind.items()}},
        "answers": answers,
    }


# -- 3. flan-t5 --------------------------------------------------------------------------


def bench_flan_t5(
    bench: Bench, service: CatalogService, questions: list[str], reps: int, threads: int
) -> dict[str, Any]:
    """The headline pair with ``threads`` torch intra-op threads (0 = torch's default), and,
    when that is not the default already, the same pairs again with the default, reported
    beside it."""
    import torch

    from shopbot.generators.flan_t5 import FlanT5Generator
    from tests.tiny_t5 import build_tiny_t5, catalog_texts

    model_dir, build_seconds = timed(
        lambda: build_tiny_t5(bench.root / "tiny-t5", catalog_texts(REPO / "catalog"))
    )
    settings = bench.make_settings(
        "flan", flan_t5_model=str(model_dir), flan_t5_max_new_tokens=FLAN_MAX_NEW_TOKENS
    )
    generator = FlanT5Generator(settings)
    generator.load()
    model, tokenizer, device = generator.model, generator.tokenizer, generator.device
    cases = []
    for q in questions:
        sources = service.search(q, k=K)
        cases.append((q, sources, generator.build_prompt(q, sources)))

    def streamed(case: Any) -> str:
        q, sources, _ = case
        return "".join(generator.generate(q, [], sources))

    def raw(case: Any) -> Any:
        inputs = tokenizer(case[2], return_tensors="pt").to(device)
        return model.generate(**inputs, **generator.generation_kwargs)

    def same(case: Any, text: str, output: Any) -> None:
        ids = output[0, 1:].tolist()  # drop the decoder start token
        if len(ids) != FLAN_MAX_NEW_TOKENS:
            raise BenchError(f"raw generate made {len(ids)} tokens, not {FLAN_MAX_NEW_TOKENS}")
        expected = tokenizer.decode(ids, skip_special_tokens=True).lstrip()
        if text != expected:
            raise BenchError(f"streamed and raw outputs differ for {case[0]!r}: "
                             f"{text[:80]!r} vs {expected[:80]!r}")

    def measure(n_threads: int, reps: int) -> dict[str, Any]:
        default_threads = torch.get_num_threads()
        if n_threads > 0:
            torch.set_num_threads(n_threads)  # process-wide: the streaming thread's too
        try:
            for case in cases:
                same(case, streamed(case), raw(case))
            times_streamed, times_raw = interleaved(cases, reps, streamed, raw, same)
            used = torch.get_num_threads()
        finally:
            torch.set_num_threads(default_threads)
        tokens = FLAN_MAX_NEW_TOKENS
        s50 = statistics.median(tokens / s for s in times_streamed)
        r50 = statistics.median(tokens / s for s in times_raw)
        return {
            "ratio": round(s50 / r50, 4),
            "streamed_tokens_per_s_p50": round(s50, 1),
            "raw_tokens_per_s_p50": round(r50, 1),
            "streamed_ms_p50": ms(statistics.median(times_streamed)),
            "raw_ms_p50": ms(statistics.median(times_raw)),
            "streamed_ms_p95": ms(percentile(times_streamed, 95)),
            "raw_ms_p95": ms(percentile(times_raw, 95)),
            "torch_threads": used,
            "reps": reps,
            "samples": len(times_streamed),
        }

    headline = measure(threads, reps)
    report = {
        **headline,
        "tokens_per_generation": FLAN_MAX_NEW_TOKENS,
        "prompt_tokens": [int(tokenizer(c[2], return_tensors="pt")["input_ids"].shape[1])
                          for c in cases],
        "questions": len(cases),
        "reps": reps,
        "device": str(device),
        "tiny_model_build_seconds": round(build_seconds, 2),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    if threads > 0 and threads != torch.get_num_threads():
        # Secondary: at most 5 reps, each raw call can take seconds on a busy machine.
        report["default_threads"] = measure(0, min(reps, 5))
    return report


# -- report ------------------------------------------------------------------------------


def machine_info(bench: Bench) -> dict[str, Any]:
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "torch_threads": torch.get_num_threads(),
        "omp_env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "MKL_"))},
        "embedding_device": str(bench.model.device),
        "python": platform.python_version(),
        "packages": package_versions(),
    }


def build_report(
    bench: Bench,
    retrieval: dict[str, dict[str, Any]],
    filtered: dict[str, dict[str, Any]],
    index_build_s: dict[str, float],
    ingest_seconds: dict[str, float],
    extractive: dict[str, Any],
    flan: dict[str, Any],
) -> dict[str, Any]:
    figures = {
        "retrieval_ratio": max(r["ratio_p50"] for r in retrieval.values()),
        # At the largest size (10,000 products in the full run).
        "filtered_ratio": filtered[max(filtered, key=int)]["ratio_p50"],
        "extractive_overhead_ms_p50": extractive["overhead_ms_p50"],
        "flan_t5_ratio": flan["ratio"],
    }
    return {
        "retrieval": retrieval,
        "filtered": filtered,
        **figures,
        "filtered_ratio_p50": {size: f["ratio_p50"] for size, f in filtered.items()},
        "filtered_ratio_p95": {size: f["ratio_p95"] for size, f in filtered.items()},
        "index_build_s": index_build_s,
        "extractive_overhead_ms_p95": extractive["overhead_ms_p95"],
        "extractive_first_pass_overhead_ms_p50": extractive["first_pass_overhead_ms_p50"],
        "extractive_paired_overhead_ms_p50": extractive["paired_overhead_ms_p50"],
        "extractive_paired_overhead_ms_p95": extractive["paired_overhead_ms_p95"],
        "flan_t5_streamed_tokens_per_s": flan["streamed_tokens_per_s_p50"],
        "flan_t5_raw_tokens_per_s": flan["raw_tokens_per_s_p50"],
        "targets": TARGETS,
        "met": {
            "retrieval_ratio": figures["retrieval_ratio"] <= TARGETS["retrieval_ratio"],
            "filtered_ratio": figures["filtered_ratio"] <= TARGETS["filtered_ratio"],
            "extractive_overhead_ms_p50": figures["extractive_overhead_ms_p50"]
            <= TARGETS["extractive_overhead_ms_p50"],
            "flan_t5_ratio": figures["flan_t5_ratio"] >= TARGETS["flan_t5_ratio"],
        },
        "extractive": extractive,
        "flan_t5": flan,
        "ingest_seconds": ingest_seconds,
        "model_load_seconds": round(bench.model_load_seconds, 3),
        "method": {
            "embedding_model": bench.settings.embedding_model,
            "k": K,
            "stores": "embedded Chroma, fresh per size, demo catalog + generated CSV ingested "
            "through CatalogService.ingest",
            "retrieval": "a = service.search(q, k=5) (hybrid: dense + BM25 by reciprocal rank, "
            "filters read from the question); b = embeddings.embed_query(q) + "
            "collection.query(n_results=5, include documents/metadatas/distances); one "
            "warm-up pass, then reps x queries pairs, order within a pair alternating; "
            "ratio = percentile(a) / percentile(b); sanity: b finds 5 chunks, a finds some, "
            "and b's top hit is among a's slots for most queries "
            "(raw_top_hit_in_search_top_k)",
            "filtered": "a = service.retrieve(filtered question, 5); b = service.retrieve(the "
            "same question without its filter words, 5) (FILTERED_QUERIES: price bounds and "
            "ranges, brand, category, in stock, colour, size, price sorts); the index is "
            "built first (index_build_s), then one warm-up pass and reps x queries pairs, "
            "order within a pair alternating; ratio = percentile(a) / percentile(b); every "
            "product returned is checked against Constraints.matches (labelled closest "
            "matches only when relaxed) and sorts against price order; breakdown from one "
            "extra pass with the retriever's stages wrapped by timers",
            "extractive": "answer = assistant.ask(q) with service.assistant('extractive'); "
            "retrieval = service.retrieve(q, retrieval_k), interleaved with the answers; "
            "overhead = answer - the retrieval inside that answer (service.retrieve wrapped by "
            "a timer); paired_overhead = answer - the standalone retrieval of its pair; "
            "breakdown from one extra pass calling generator.generate on "
            "pre-fetched sources with the embeddings wrapped by a timer",
            "flan_t5": "tiny random T5 from tests/tiny_t5.py (never emits </s>); streamed = "
            "FlanT5Generator.generate(q, [], sources) joined; raw = model.generate("
            "**tokenizer(build_prompt(q, sources)), **generation_kwargs); tokens = generated "
            "ids (64 each, streamed text checked equal to the raw output decoded); ratio = "
            "median streamed tokens/s / median raw tokens/s; torch intra-op threads set "
            "to --flan-threads (default 1) for both sides; flan_t5.default_threads repeats "
            "the pairs with torch's default thread count (not the headline)",
            "percentiles": "linear interpolation between closest ranks",
        },
        "machine": machine_info(bench),
        "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def markdown_table(report: dict[str, Any]) -> str:
    met = report["met"]
    ok = lambda key: "met" if met[key] else "MISSED"  # noqa: E731
    rows = [
        "| measurement | p50 ms | p95 ms | baseline p50 ms | baseline p95 ms "
        "| ratio p50 | ratio p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, r in report["retrieval"].items():
        rows.append(
            f"| search, {int(size):,} products ({r['chunks']:,} chunks) | {r['p50_ms']:.1f} "
            f"| {r['p95_ms']:.1f} | {r['baseline_p50_ms']:.1f} | {r['baseline_p95_ms']:.1f} "
            f"| {r['ratio_p50']:.2f} | {r['ratio_p95']:.2f} |"
        )
    for size, f in report["filtered"].items():
        rows.append(
            f"| filtered retrieve, {int(size):,} products (vs unfiltered; index build "
            f"{report['index_build_s'][size]:.2f} s) | {f['p50_ms']:.1f} | {f['p95_ms']:.1f} "
            f"| {f['unfiltered_p50_ms']:.1f} | {f['unfiltered_p95_ms']:.1f} "
            f"| {f['ratio_p50']:.2f} | {f['ratio_p95']:.2f} |"
        )
    e = report["extractive"]
    rows.append(
        f"| extractive ask ({e['chunks']:,} chunks) | {e['answer_p50_ms']:.1f} "
        f"| {e['answer_p95_ms']:.1f} | {e['retrieval_p50_ms']:.1f} "
        f"| {e['retrieval_p95_ms']:.1f} | overhead {e['overhead_ms_p50']:.1f} ms "
        f"(paired {e['paired_overhead_ms_p50']:.1f}) | overhead {e['overhead_ms_p95']:.1f} ms "
        f"(paired {e['paired_overhead_ms_p95']:.1f}) |"
    )
    f = report["flan_t5"]
    for label, g in [("", f)] + ([("default ", f["default_threads"])] if "default_threads" in f
                                 else []):
        rows.append(
            f"| flan-t5 tiny, {f['tokens_per_generation']} tokens ({f['device']}, {label}"
            f"{g['torch_threads']} thread{'s' if g['torch_threads'] != 1 else ''}) "
            f"| {g['streamed_ms_p50']:.1f} | {g['streamed_ms_p95']:.1f} | {g['raw_ms_p50']:.1f} "
            f"| {g['raw_ms_p95']:.1f} | {g['streamed_tokens_per_s_p50']:.0f} vs "
            f"{g['raw_tokens_per_s_p50']:.0f} tok/s = {g['ratio']:.2f} | |"
        )
    b = e["breakdown"]["all"]
    fb = report["filtered"][str(max(map(int, report["filtered"])))]["breakdown"]
    m = report["machine"]
    rows += [
        "",
        f"retrieval_ratio = {report['retrieval_ratio']:.2f} (target <= "
        f"{TARGETS['retrieval_ratio']}, {ok('retrieval_ratio')}; hybrid adds BM25, fusion "
        f"and the in-memory filters to the raw vector query); "
        f"filtered_ratio = {report['filtered_ratio']:.2f} (at "
        f"{max(map(int, report['filtered'])):,} products; target <= "
        f"{TARGETS['filtered_ratio']}, {ok('filtered_ratio')}); "
        f"extractive_overhead_ms_p50 = {report['extractive_overhead_ms_p50']:.1f} "
        f"(p95 {report['extractive_overhead_ms_p95']:.1f}; target <= "
        f"{TARGETS['extractive_overhead_ms_p50']:.0f}, {ok('extractive_overhead_ms_p50')}); "
        f"flan_t5_ratio = {report['flan_t5_ratio']:.2f} (target >= {TARGETS['flan_t5_ratio']}, "
        f"{ok('flan_t5_ratio')})",
        f"extractive breakdown (generator alone, after the timed passes, p50): "
        f"{b['generate_ms_p50']:.1f} ms, of which "
        f"embedding {b['embed_ms_p50']:.1f} ms ({b['embed_share']:.0%} of the total), "
        f"{b['texts_embedded_mean']:.1f} texts embedded per answer on average "
        f"(max {b['texts_embedded_max']}); first ask of each question: overhead p50 "
        f"{e['first_pass_overhead_ms_p50']:.1f} ms, p95 {e['first_pass_overhead_ms_p95']:.1f} ms",
        "by kind: " + "; ".join(
            f"{kind} {v['generate_ms_p50']:.1f} ms / {v['texts_embedded_mean']:.1f} texts"
            for kind, v in e["breakdown"].items() if kind != "all"
        ),
        "filtered retrieval breakdown at {:,} products (p50 ms, filtered / unfiltered): ".format(
            max(map(int, report["filtered"]))) + "; ".join(
            f"{name.removesuffix('_ms_p50')} {value:.1f} / {fb['unfiltered'][name]:.1f}"
            for name, value in fb["filtered"].items()
        ),
        f"{m['cpu_count']} CPUs (load {m['load_average_at_end']}), torch "
        f"{m['packages']['torch']} with {m['torch_threads']} threads on "
        f"{m['embedding_device']}; model load {report['model_load_seconds']:.1f} s (not counted)",
    ]
    return "\n".join(rows)


# -- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: %s products, fewer repetitions"
                        % " and ".join(f"{n:,}" for n in QUICK_SIZES))
    parser.add_argument("--reps", type=int, default=None,
                        help="repetitions of the retrieval pass (default %d, %d with --quick)"
                        % (FULL_REPS[0], QUICK_REPS[0]))
    parser.add_argument("--flan-threads", type=int, default=1,
                        help="torch intra-op threads while timing flan-t5 (default 1; 0 keeps "
                        "torch's default)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="JSON file to write (default bench/results/query.json)")
    args = parser.parse_args(argv)
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be at least 1")
    if args.flan_threads < 0:
        parser.error("--flan-threads must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    retrieval_reps, extractive_reps, flan_reps = QUICK_REPS if args.quick else FULL_REPS
    if args.reps is not None:
        retrieval_reps = args.reps
    os.chdir(REPO)  # catalog_dir and the demo path are relative to the repository root
    with tempfile.TemporaryDirectory(prefix="shopbot-bench-query-") as tmp:
        root = Path(tmp)
        log("loading the embedding model")
        bench = Bench(root)
        retrieval: dict[str, dict[str, Any]] = {}
        ingest_seconds: dict[str, float] = {}
        index_build_s: dict[str, float] = {}
        filtered: dict[str, dict[str, Any]] = {}
        service = None
        queries: list[tuple[str, str]] = []
        try:
            for size in sizes:
                csv_path = generate_csv(root / f"products_{size}.csv", size)
                if not queries:
                    queries = build_queries(csv_path, min(sizes))
                log(f"[{size:,}] ingesting the demo catalog and {size:,} generated products")
                service, seconds = filled_service(bench, size, csv_path)
                ingest_seconds[str(size)] = round(seconds, 2)
                log(f"[{size:,}] {service.store.count_chunks():,} chunks in {seconds:.1f} s; "
                    "building the in-memory index (BM25, filters)")
                index_build_s[str(size)] = round(build_index(service), 3)
                log(f"[{size:,}] index built in {index_build_s[str(size)]} s; "
                    f"retrieval, {len(queries)} queries x {retrieval_reps} reps")
                retrieval[str(size)] = bench_retrieval(
                    service, [q for _, q in queries], retrieval_reps
                )
                log(f"[{size:,}] {retrieval[str(size)]}")
                log(f"[{size:,}] filtered retrieval, {len(FILTERED_QUERIES)} queries x "
                    f"{retrieval_reps} reps")
                filtered[str(size)] = bench_filtered(service, FILTERED_QUERIES, retrieval_reps)
                log(f"[{size:,}] filtered: ratio p50 {filtered[str(size)]['ratio_p50']}, "
                    f"p95 {filtered[str(size)]['ratio_p95']}")
            assert service is not None
            log(f"[{sizes[-1]:,}] extractive answers, {len(queries)} queries x "
                f"{extractive_reps} reps")
            extractive = bench_extractive(service, queries, extractive_reps)
            log(f"extractive: overhead p50 {extractive['overhead_ms_p50']} ms")
            log("flan-t5: building the tiny T5 and timing streamed vs raw generate")
            flan_questions = [q for kind, q in queries if kind in ("product", "policy")]
            flan_questions = flan_questions[:FLAN_QUESTIONS // 2] + flan_questions[-(FLAN_QUESTIONS // 2):]
            flan = bench_flan_t5(bench, service, flan_questions, flan_reps, args.flan_threads)
            log(f"flan-t5: ratio {flan['ratio']}")
        except BenchError as exc:
            log(f"FAILED: {exc}")
            return 1
        report = build_report(bench, retrieval, filtered, index_build_s, ingest_seconds,
                              extractive, flan)
    report["sizes"] = list(sizes)
    report["quick"] = args.quick
    report["seed"] = SEED
    report["queries"] = [{"kind": kind, "query": q} for kind, q in queries]
    write_json(report, out)
    print(markdown_table(report))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
