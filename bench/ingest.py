"""Ingestion throughput and re-ingest speed, against a raw-encode baseline from the same run.

What it measures, for two datasets (the demo catalog in ``catalog/`` and a generated,
deterministic N-product CSV export, 10,000 by default):

* parse only: the pipeline's own parser over the same files (no embedding, no writes); its
  texts are what the baseline encodes, and they are checked to equal what ingest stored.
  This is the first parse in the process, so one-time imports (unstructured) land here;
* baseline: ``SentenceTransformer.encode`` of those texts with the very model object ingest
  uses, same batch size, normalised, "\\n" replaced by " " as ``HuggingFaceEmbeddings``
  does. It is timed once just before and once just after the measured ingest and the mean is
  used, so drift in machine speed (other jobs on the box) hits both sides alike;
* ingest: ``CatalogService.ingest`` into a fresh embedded Chroma store (parse, embed, write);
* throughput ratio = (ingest products/s) / (encode products/s) = encode s / ingest s;
* re-ingest: the same files again, unchanged, into the same store; every result must be
  "unchanged"; speedup = ingest s / re-ingest s.

The model is loaded once and shared by everything (load time reported on its own, not in
any throughput) and warmed up with a few hundred texts before any timing. All state lives
in temp dirs, never in ./data.

Headline figures: ``throughput_ratio_vs_encode`` (the generated CSV's ratio, target >= 0.8)
and ``reingest_speedup`` (the generated CSV's, target >= 50).

Run from the repository root:

    .venv/bin/python bench/ingest.py            # full run, 10,000 products (minutes)
    .venv/bin/python bench/ingest.py --quick    # smoke test, 1,000 products
    .venv/bin/python bench/ingest.py --products 5000 --out /tmp/ingest.json

It prints a markdown table and writes ``bench/results/ingest.json``; it exits non-zero when a
re-ingest is not "unchanged" or an ingest fails (not when a target is missed).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import write_json  # noqa: E402
from shopbot.embeddings import load_embeddings  # noqa: E402
from shopbot.ingest.files import content_hash, document_id, kind_of  # noqa: E402
from shopbot.ingest.pipeline import expand_paths  # noqa: E402
from shopbot.service import CatalogService  # noqa: E402
from shopbot.settings import Settings  # noqa: E402

TARGETS = {"throughput_ratio_vs_encode": 0.8, "reingest_speedup": 50.0}
FULL_PRODUCTS = 10_000
QUICK_PRODUCTS = 1_000
WARMUP_TEXTS = 300
SEED = 20240611
DEFAULT_OUT = REPO / "bench" / "results" / "ingest.json"


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the table."""
    print(message, file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    """An ingest or re-ingest did not do what the benchmark requires."""


# -- generated catalog -------------------------------------------------------------------

HEADER = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags",
    "Published", "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value",
    "Variant SKU", "Variant Grams", "Variant Inventory Tracker", "Variant Inventory Qty",
    "Variant Inventory Policy", "Variant Price", "Variant Compare At Price",
    "Variant Requires Shipping", "Variant Taxable", "Variant Barcode", "Image Src",
    "Image Alt Text", "Gift Card", "SEO Title", "SEO Description",
    "Google Shopping / Gender", "Google Shopping / Condition", "Variant Weight Unit",
    "Cost per item", "Material", "Status", "URL",
]

BRANDS = ["Ridgeline", "Kestrel Peak", "Northwind", "Cobalt Trail", "Summit & Co", "Larchwood",
          "Talus", "Bramble Outdoor", "Driftline", "Ember Gear"]
CATEGORIES = {
    "Camping | Tents | Backpacking Tents": ["Tent", "Shelter", "Bivy"],
    "Camping | Sleeping | Sleeping Bags": ["Sleeping Bag", "Quilt", "Bag Liner"],
    "Camping | Sleeping | Sleeping Pads": ["Sleeping Pad", "Air Mat", "Foam Pad"],
    "Camping | Kitchen | Stoves": ["Stove", "Cook System", "Burner"],
    "Hiking | Packs | Daypacks": ["Daypack", "Hydration Pack", "Summit Pack"],
    "Hiking | Packs | Backpacks": ["Backpack", "Trekking Pack", "Expedition Pack"],
    "Hiking | Footwear | Trail Shoes": ["Trail Shoe", "Trail Runner", "Approach Shoe"],
    "Hiking | Footwear | Boots": ["Hiking Boot", "Mid Boot", "Mountain Boot"],
    "Clothing | Jackets | Rain Jackets": ["Rain Jacket", "Shell", "Anorak"],
    "Clothing | Jackets | Insulated Jackets": ["Down Jacket", "Puffy Vest", "Synthetic Hoody"],
    "Clothing | Base Layers": ["Base Layer Top", "Merino Tee", "Thermal Leggings"],
    "Accessories | Lighting | Headlamps": ["Headlamp", "Lantern", "Flashlight"],
    "Accessories | Navigation": ["Compass", "GPS Watch", "Map Case"],
}
ADJECTIVES = ["Alpine", "Summit", "Cirrus", "Glacier", "Pathfinder", "Traverse", "Skyrunner",
              "Cloudburst", "Beacon", "Meadow", "Granite", "Tundra", "Sierra", "Fjord",
              "Canyon", "Aurora", "Basecamp", "Timberline", "Ridge", "Cascade"]
MODIFIERS = ["", "", "UL", "Pro", "Lite", "XT", "Plus", "Trek", "Storm", "Expedition"]
COLOURS = ["Forest Green", "Slate Grey", "Signal Orange", "Sand", "Black", "Navy",
           "Glacier Blue", "Ember Red", "Olive", "Charcoal"]
SIZES = ["XS / S / M / L / XL", "S/M / L/XL", "Regular / Long", "One Size", "7 / 8 / 9 / 10 / 11"]
MATERIALS = ["20D ripstop nylon with silicone coating", "recycled polyester, 100D",
             "merino wool, 190 g/m2", "800-fill responsibly sourced down, 20D nylon shell",
             "7001-T6 aluminium", "Vibram Megagrip rubber outsole, mesh upper", ""]
OPENERS = ["A lightweight {noun} for long days on the trail",
           "Our best-selling {noun}, rebuilt with fewer seams and a tougher finish",
           "A versatile {noun} that moves from weekend trips to week-long treks",
           "The {noun} we reach for first, whether it's sunny, wet or windy",
           "Built for {activity}, this {noun} balances weight, comfort and durability"]
DETAILS = ["It weighs {grams} g, packs small and carries a lifetime warranty.",
           "Details include taped seams, reflective trims and a stuff sack.",
           "Rated for 3 seasons, tested in the Cascades, the Alps and the Scottish Highlands.",
           "Available in {colour}, with a repair kit, spare cord and care guide included.",
           "Reviewers call it \"the one piece of kit I'd never leave behind\"."]
ACTIVITIES = ["thru-hiking", "fastpacking", "alpine climbing", "family camping", "trail running"]


def _price(rng: random.Random) -> tuple[str, float]:
    low, high = rng.choice([(9, 99), (9, 99), (100, 499), (100, 499), (500, 2500)])
    amount = round(rng.uniform(low, high))
    amount = amount - 0.05 if rng.random() < 0.5 else float(amount)
    style = rng.random()
    if style < 0.5:
        text = f"${amount:,.2f}"
    elif style < 0.75:
        text = f"{amount:.2f} USD"
    elif style < 0.9:
        text = f"{amount:.2f}"
    else:
        text = f"USD {amount:,.0f}"
    return text, amount


def _description(rng: random.Random, noun: str, grams: int, colour: str) -> str:
    sentences = [rng.choice(OPENERS).format(noun=noun.lower(), activity=rng.choice(ACTIVITIES))
                 + "."]
    for detail in rng.sample(DETAILS, rng.randint(0, 2)):
        sentences.append(detail.format(grams=grams, colour=colour))
    joiner = "\n" if rng.random() < 0.1 else " "
    return joiner.join(sentences)


def product_row(rng: random.Random, number: int) -> dict[str, str]:
    """One messy export row: most optional columns empty, formats vary."""
    category = rng.choice(list(CATEGORIES))
    noun = rng.choice(CATEGORIES[category])
    brand = rng.choice(BRANDS)
    title = " ".join(filter(None, [rng.choice(ADJECTIVES), rng.choice(MODIFIERS),
                                   str(rng.randint(1, 90)) if rng.random() < 0.4 else "", noun]))
    handle = f"{title.lower().replace(' ', '-')}-{number}"
    grams = rng.randint(80, 4000)
    colour = rng.choice(COLOURS)
    price_text, amount = _price(rng)
    maybe = lambda p, value: value if rng.random() < p else ""  # noqa: E731
    row = {
        "Handle": handle,
        "Title": title,
        "Body (HTML)": _description(rng, noun, grams, colour),
        "Vendor": maybe(0.9, brand),
        "Product Category": category,
        "Type": category.split(" | ")[-1],
        "Tags": maybe(0.8, f"{category.split(' | ')[-1].lower()}, {brand.lower()}"),
        "Published": maybe(0.9, "TRUE"),
        "Option1 Name": "Colour",
        "Option1 Value": colour,
        "Option2 Name": "",
        "Option2 Value": "",
        "Variant SKU": f"{brand[:2].upper()}-{noun[:3].upper()}-{number:05d}",
        "Variant Grams": str(grams),
        "Variant Inventory Tracker": maybe(0.2, "shopify"),
        "Variant Inventory Qty": str(rng.choice([0, 0, 1, 3, 8, 12, 25, 40, 120])),
        "Variant Inventory Policy": maybe(0.15, "deny"),
        "Variant Price": price_text,
        "Variant Compare At Price": maybe(0.06, f"${amount * 1.25:,.2f}"),
        "Variant Barcode": maybe(0.2, str(800000000000 + rng.randint(0, 99999999))),
        "Image Src": maybe(0.9, f"https://shop.example/cdn/images/{handle}.jpg"),
        "SEO Title": maybe(0.25, f"{title} | {brand}"),
        "Google Shopping / Gender": maybe(0.25, "unisex"),
        "Variant Weight Unit": maybe(0.3, "g"),
        "Material": maybe(0.8, rng.choice(MATERIALS)),
        "Status": "active",
        "URL": f"https://shop.example/products/{handle}",
    }
    if rng.random() < 0.3:
        row["Option2 Name"], row["Option2 Value"] = "Size", rng.choice(SIZES)
    return row


def generate_csv(path: Path, products: int, seed: int = SEED) -> Path:
    """Write a deterministic Shopify-style export with ``products`` rows to ``path``."""
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, restval="", lineterminator="\n")
    writer.writeheader()
    for number in range(1, products + 1):
        writer.writerow(product_row(rng, number))
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# -- measurements ------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds on the clock: what the headline figures use
    cpu: float  # CPU seconds of this whole process, all threads: barely moved by other jobs


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.timing``."""

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timing = Timing(time.perf_counter() - self._wall, time.process_time() - self._cpu)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


@dataclass
class DatasetResult:
    name: str
    files: int = 0
    products: int = 0
    chunks: int = 0
    parse_seconds: float = 0.0
    ingest: Timing = Timing(0.0, 0.0)
    encodes: list[Timing] = field(default_factory=list)  # before and after the ingest
    reingest_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        ingest_s = self.ingest.wall
        encode_s = _mean([t.wall for t in self.encodes])
        encode_cpu_s = _mean([t.cpu for t in self.encodes])
        return {
            "files": self.files,
            "products": self.products,
            "chunks": self.chunks,
            "parse_seconds": round(self.parse_seconds, 3),
            "ingest_seconds": round(ingest_s, 3),
            "encode_seconds": round(encode_s, 3),
            "encode_seconds_runs": [round(t.wall, 3) for t in self.encodes],
            "products_per_second": round(self.products / ingest_s, 2),
            "encode_products_per_second": round(self.products / encode_s, 2),
            "ratio": round(encode_s / ingest_s, 4),
            "ingest_cpu_seconds": round(self.ingest.cpu, 3),
            "encode_cpu_seconds": round(encode_cpu_s, 3),
            "encode_cpu_seconds_runs": [round(t.cpu, 3) for t in self.encodes],
            "cpu_ratio": round(encode_cpu_s / self.ingest.cpu, 4),
            "reingest_seconds": round(self.reingest_seconds, 4),
            "reingest_speedup": round(ingest_s / self.reingest_seconds, 1),
        }


class Bench:
    """Shared model and temp dir; one fresh store per ``service()`` call."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings = self._settings("model")
        with Stopwatch() as load:
            self.embeddings = load_embeddings(self.settings)
        self.model_load_seconds = load.timing.wall
        # HuggingFaceEmbeddings keeps its SentenceTransformer in ``_client``: the baseline
        # encodes with the very object that ingest uses.
        self.model = self.embeddings._client
        self.batch_size = self.settings.embedding_batch_size
        self._stores = 0

    def _settings(self, name: str) -> Settings:
        return Settings(_env_file=None, data_dir=self.root / name, catalog_dir=Path("catalog"))

    def service(self) -> CatalogService:
        self._stores += 1
        return CatalogService(self._settings(f"store{self._stores}"), embeddings=self.embeddings)

    def encode(self, texts: list[str]) -> Timing:
        """A raw encode of ``texts``, fed as HuggingFaceEmbeddings feeds them."""
        texts = [t.replace("\n", " ") for t in texts]
        with Stopwatch() as sw:
            self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return sw.timing

    def warm_up(self, texts: list[str]) -> None:
        self.encode(texts[:WARMUP_TEXTS])


def timed_ingest(service: CatalogService, paths: list[Path]) -> tuple[list[Any], Timing]:
    with Stopwatch() as sw:
        results = service.ingest(paths)
    failed = [f"{r.source}: {r.error}" for r in results if not r.ok]
    if failed:
        raise BenchError("ingest failed for " + "; ".join(failed))
    return results, sw.timing


def parse_only(service: CatalogService, paths: list[Path]) -> tuple[dict[str, list[str]], float]:
    """The texts ingest will store, per file, from the pipeline's own parser (no embedding,
    no writes), and the seconds that took."""
    files, missing = expand_paths(paths)
    if missing:
        raise BenchError("not found: " + ", ".join(r.source for r in missing))
    texts: dict[str, list[str]] = {}
    with Stopwatch() as sw:
        for path in files:
            data = path.read_bytes()
            _, chunks, _ = service.ingestor._parse(
                kind_of(path.name), data, path.name, document_id(path.name), content_hash(data)
            )
            texts[path.name] = [chunk.text for chunk in chunks]
    return texts, sw.timing.wall


def stored_texts(service: CatalogService) -> dict[str, list[str]]:
    """The texts in the Chroma collection, per source file."""
    found = service.store.chunks.get(include=["documents", "metadatas"])
    texts: dict[str, list[str]] = {}
    for text, meta in zip(found["documents"], found["metadatas"]):
        texts.setdefault(meta["source"], []).append(text)
    return texts


def check_same_texts(name: str, parsed: dict[str, list[str]], stored: dict[str, list[str]]) -> None:
    wrong = [
        f"{source} (parsed {len(parsed.get(source, []))}, stored {len(stored.get(source, []))})"
        for source in sorted(set(parsed) | set(stored))
        if sorted(parsed.get(source, [])) != sorted(stored.get(source, []))
    ]
    if wrong:
        raise BenchError(f"{name}: the store holds other texts than the parser produced: "
                         + ", ".join(wrong))


def check_unchanged(name: str, results: list[Any]) -> None:
    wrong = [f"{r.source} -> {r.status}" for r in results if r.status != "unchanged"]
    if wrong:
        raise BenchError(f"{name}: re-ingesting unchanged files must report 'unchanged', got "
                         + ", ".join(wrong))


def bench_dataset(bench: Bench, name: str, paths: list[Path]) -> DatasetResult:
    """parse only -> encode -> ingest (fresh store) -> check texts -> encode -> re-ingest."""
    out = DatasetResult(name)
    service = bench.service()
    log(f"[{name}] parse only")
    parsed, out.parse_seconds = parse_only(service, paths)
    texts = [text for file_texts in parsed.values() for text in file_texts]

    log(f"[{name}] raw encode of {len(texts):,} texts (before)")
    out.encodes.append(bench.encode(texts))

    log(f"[{name}] ingest into a fresh store")
    results, out.ingest = timed_ingest(service, paths)
    stored = stored_texts(service)
    check_same_texts(name, parsed, stored)
    out.files = len(results)
    out.products = sum(r.products for r in results)
    out.chunks = service.store.count_chunks()

    log(f"[{name}] raw encode of the texts read back from the store (after)")
    out.encodes.append(
        bench.encode([text for file_texts in stored.values() for text in file_texts])
    )

    log(f"[{name}] re-ingest, unchanged")
    again, reingest = timed_ingest(service, paths)
    check_unchanged(name, again)
    out.reingest_seconds = reingest.wall
    log(f"[{name}] ingest {out.ingest}, encodes {out.encodes}, re-ingest {reingest}")
    return out


# -- report ------------------------------------------------------------------------------


def package_versions() -> dict[str, str]:
    names = ["torch", "chromadb", "sentence-transformers", "transformers",
             "langchain-huggingface", "unstructured"]
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine_info(bench: Bench) -> dict[str, Any]:
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "embedding_device": str(bench.model.device),
        "python": platform.python_version(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "packages": package_versions(),
    }


def build_report(bench: Bench, demo: DatasetResult, generated: DatasetResult) -> dict[str, Any]:
    datasets = {demo.name: demo.to_dict(), generated.name: generated.to_dict()}
    headline = datasets[generated.name]
    figures = {
        "throughput_ratio_vs_encode": headline["ratio"],
        "reingest_speedup": headline["reingest_speedup"],
    }
    return {
        **figures,
        "targets": TARGETS,
        "met": {key: figures[key] >= target for key, target in TARGETS.items()},
        "headline_dataset": generated.name,
        "datasets": datasets,
        "model_load_seconds": round(bench.model_load_seconds, 3),
        "method": {
            "embedding_model": bench.settings.embedding_model,
            "batch_size": bench.batch_size,
            "encode_aggregate": "mean",
            "encode_seconds": "mean of two raw encodes: of the parsed texts just before the "
            "measured ingest, and of the texts read back from Chroma just after it (the two "
            "are checked to be the same texts)",
            "ratio": "encode_seconds / ingest_seconds (= ingest products/s over encode "
            "products/s)",
            "cpu_ratio": "the same with CPU seconds of the whole process (time.process_time, "
            "all threads) instead of wall seconds: how much more work ingest does than the "
            "encode, nearly unaffected by other jobs on the machine; ingest's overlap of "
            "embedding and Chroma writes does not show in it",
            "reingest_speedup": "ingest_seconds / reingest_seconds, same files, same store",
            "parse_seconds": "the pipeline's parser alone over the same files, run first (no "
            "embedding, no writes; one-time imports such as unstructured's land here)",
            "warm_up": f"model warmed with {WARMUP_TEXTS} texts before any timing",
        },
        "machine": machine_info(bench),
        "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def markdown_table(report: dict[str, Any]) -> str:
    rows = [
        "| dataset | products | chunks | ingest s | products/s | encode s | encode products/s "
        "| ratio | CPU-time ratio | re-ingest s | re-ingest speedup |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, d in report["datasets"].items():
        rows.append(
            f"| {name} | {d['products']:,} | {d['chunks']:,} | {d['ingest_seconds']:.1f} "
            f"| {d['products_per_second']:.1f} | {d['encode_seconds']:.1f} "
            f"| {d['encode_products_per_second']:.1f} | {d['ratio']:.2f} | {d['cpu_ratio']:.2f} "
            f"| {d['reingest_seconds']:.3f} | {d['reingest_speedup']:,.0f}x |"
        )
    met = report["met"]
    m = report["machine"]
    rows += [
        "",
        f"throughput_ratio_vs_encode = {report['throughput_ratio_vs_encode']:.2f} "
        f"(target >= {TARGETS['throughput_ratio_vs_encode']}, "
        f"{'met' if met['throughput_ratio_vs_encode'] else 'MISSED'}); "
        f"reingest_speedup = {report['reingest_speedup']:,.0f}x "
        f"(target >= {TARGETS['reingest_speedup']:.0f}, "
        f"{'met' if met['reingest_speedup'] else 'MISSED'})",
        f"model load {report['model_load_seconds']:.1f} s (not counted); "
        f"{m['cpu_count']} CPUs, torch {m['packages']['torch']} with {m['torch_threads']} "
        f"threads on {m['embedding_device']}, batch size {report['method']['batch_size']}; "
        "encode s = mean of the runs before and after the ingest; load average "
        f"{m['load_average_1m_at_start']} at start, {m['load_average_1m_at_end']} at end",
    ]
    return "\n".join(rows)



# -- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {QUICK_PRODUCTS:,} generated products")
    parser.add_argument("--products", type=int, default=None,
                        help=f"generated products (default {FULL_PRODUCTS:,}; "
                        f"{QUICK_PRODUCTS:,} with --quick)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="JSON file to write (default bench/results/ingest.json)")
    args = parser.parse_args(argv)
    if args.products is None:
        args.products = QUICK_PRODUCTS if args.quick else FULL_PRODUCTS
    if args.products < 1:
        parser.error("--products must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    os.chdir(REPO)  # catalog_dir and the demo path are relative to the repository root
    load_at_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="shopbot-bench-") as tmp:
        root = Path(tmp)
        log(f"generating a {args.products:,}-product CSV")
        csv_path = generate_csv(root / f"products_{args.products}.csv", args.products)
        log("loading the embedding model")
        bench = Bench(root)
        bench.warm_up([line for line in csv_path.read_text(encoding="utf-8").splitlines()[1:]])
        try:
            demo = bench_dataset(bench, "demo catalog", [Path("catalog")])
            generated = bench_dataset(bench, f"generated CSV ({args.products:,})", [csv_path])
        except BenchError as exc:
            log(f"FAILED: {exc}")
            return 1
        report = build_report(bench, demo, generated)
    report["generated_products"] = args.products
    report["machine"]["load_average_1m_at_start"] = load_at_start
    report["quick"] = args.quick
    report["seed"] = SEED
    write_json(report, out)
    print(markdown_table(report))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
