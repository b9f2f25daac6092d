"""The variant question sets, scored against the shop platform exports they are about.

What it does (all state in a temp dir, HF_HUB_OFFLINE=1):

* builds one fresh store with ``shopbot.evaluation.temporary_catalog`` (the store
  ``python -m shopbot eval --catalog ...`` uses) from the Magento sample data
  (``../shared/realdata/magento/products.csv``, the repository's parent's ``shared`` folder)
  plus the platform fixtures in ``tests/fixtures/platforms``: the Shopify and WooCommerce
  CSVs, the Google Merchant TSV, XML and Atom feeds, and the PrestaShop products CSV with its
  combinations CSV (joined into one two-sheet workbook, products first, as the eval command
  does). A file the pipeline refuses is left out and reported (printed and in the JSON),
  not fatal: the numbers are of what could be ingested;
* prints how many products the store holds from the Magento file (expected: 147
  configurable products from 1,994 rows) and from each other file;
* runs ``run_eval`` (extractive generator, k=5) on the dev set
  ``bench/variant_questions.jsonl`` and on the held-out set
  ``bench/variant_questions_heldout.jsonl``, and prints a table per kind for each.

The held-out set is for a final number only: never look at its questions or tune on it. Its
per-question rows (questions, answers) are therefore not written to the JSON, only its
summaries; the dev set's rows are, to read failures from.

Run from the repository root:

    .venv/bin/python bench/variant_eval.py            # label "after"
    .venv/bin/python bench/variant_eval.py before     # a label of your own
    .venv/bin/python bench/variant_eval.py --realdata /work/shared/realdata --out FILE

It writes ``bench/results/variant-eval-<label>.json``. It exits 0 without running (and
says why) when the realdata folder is missing, 1 when no catalog file could be ingested.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
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
from shopbot.evaluation import (  # noqa: E402
    CatalogFileError,
    format_table,
    load_questions,
    products_by_source,
    run_eval,
    temporary_catalog,
)
from shopbot.settings import Settings  # noqa: E402

REALDATA = REPO.parent / "shared" / "realdata"
MAGENTO = Path("magento") / "products.csv"  # under the realdata folder
MAGENTO_EXPECTED = 147
FIXTURES = REPO / "tests" / "fixtures" / "platforms"
FIXTURE_FILES = (
    "shopify_products.csv",
    "woocommerce_products.csv",
    "merchant_feed.tsv",
    "merchant_feed.xml",
    "merchant_feed_atom.xml",
    "prestashop_products.csv",
    "prestashop_combinations.csv",
)
SPLITS = {
    "dev": REPO / "bench" / "variant_questions.jsonl",
    "heldout": REPO / "bench" / "variant_questions_heldout.jsonl",
}


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries the counts and the tables."""
    print(message, file=sys.stderr, flush=True)


def csv_records(path: Path) -> int:
    """Data rows of a CSV (a quoted field may span lines), header excluded."""
    with path.open(encoding="utf-8", newline="") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


def code_version() -> dict[str, Any]:
    """The commit measured, and the tracked files changed on top of it (the working tree is
    what runs)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                                  timeout=30)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.rstrip("\n") if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD").strip(),
            "changed_files": sorted(line[3:] for line in changed)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("label", nargs="?", default="after", help='default "after"')
    parser.add_argument(
        "--realdata", type=Path, default=REALDATA,
        help=f"the shared realdata folder (default {REALDATA})",
    )
    parser.add_argument(
        "--out", type=Path, help="default bench/results/variant-eval-<label>.json"
    )
    parser.add_argument("--generator", default="extractive", help="default: extractive")
    parser.add_argument("--k", type=int, default=5, help="top k sources scored (default 5)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = (args.out or REPO / "bench" / "results" / f"variant-eval-{args.label}.json").resolve()
    magento = args.realdata / MAGENTO
    if not magento.is_file():
        print(
            f"skipped: {magento} not found. The Magento sample data lives in the shared "
            f"realdata folder beside the checkout ({REALDATA}); pass --realdata DIR if it is "
            "elsewhere."
        )
        return 0
    os.chdir(REPO)
    settings = Settings(_env_file=None)
    log("loading the embedding model")
    embeddings = load_embeddings(settings)
    files = [magento, *(FIXTURES / name for name in FIXTURE_FILES)]
    log(f"ingesting {len(files)} files into a temporary store")
    try:
        with temporary_catalog(files, settings, embeddings, skip_failed=True) as catalog:
            for note in catalog.notes:
                print(f"note: {note}")
            by_source = products_by_source(catalog.service)
            rows = csv_records(magento)
            got = by_source.get(magento.name, 0)
            verdict = "as expected" if got == MAGENTO_EXPECTED else f"EXPECTED {MAGENTO_EXPECTED}"
            print(f"Magento {magento.name}: {rows:,} rows -> {got} products in the store ({verdict})")
            for source, count in by_source.items():
                if source != magento.name:
                    print(f"  {source}: {count} products")
            reports: dict[str, dict[str, Any]] = {}
            for split, path in SPLITS.items():
                log(f"asking the {split} questions")
                reports[split] = run_eval(
                    catalog.service, load_questions(path), generator=args.generator, k=args.k,
                    label=f"{args.label} {split}",
                )
                print()
                print(format_table(reports[split]))
            summary = catalog.summary()
            notes = catalog.notes
    except CatalogFileError as exc:
        log(f"FAILED: {exc}")
        return 1
    # The held-out answers stay out of the file: nobody should read (or tune on) them.
    reports["heldout"].pop("questions")
    report = {
        "label": args.label,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "code": code_version(),
        "catalog": summary,
        "notes": notes,
        "products_by_source": by_source,
        "magento": {"file": str(MAGENTO), "rows": rows, "products_in_store": got,
                    "expected": MAGENTO_EXPECTED},
        **reports,
    }
    write_json(report, out)
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
