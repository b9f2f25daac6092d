"""`python -m shopbot` as a user runs it: real processes, real files, real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.test_ingest import PRODUCTS_CSV

pytestmark = pytest.mark.slow


def shopbot(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "shopbot", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env.update(SHOPBOT_DATA_DIR=str(base / "data"), HF_HUB_OFFLINE="1")
    files = base / "upload"
    files.mkdir()
    (files / "products.csv").write_text(PRODUCTS_CSV)
    (files / "faq.md").write_text(
        "# FAQ\n\n## Returns\n\nUnused items can be returned within 30 days for a full refund.\n"
    )
    (files / "broken.pdf").write_bytes(b"GIF89a not a pdf at all")
    return env, files


def test_ingest_reports_each_file_and_fails_the_batch_on_a_bad_file(cli_env):
    env, files = cli_env
    run = shopbot("ingest", str(files), "--json", env=env)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["summary"] == {"added": 2, "updated": 0, "unchanged": 0, "failed": 1}
    failed = next(f for f in report["files"] if f["status"] == "failed")
    assert failed["source"] == "broken.pdf" and "not a PDF" in failed["error"]
    products = next(f for f in report["files"] if f["source"] == "products.csv")
    assert (products["products"], products["chunks"]) == (3, 3)

    again = shopbot("ingest", str(files / "products.csv"), str(files / "faq.md"), env=env)
    assert again.returncode == 0, again.stderr
    assert "unchanged  products.csv  3 products" in again.stdout
    assert again.stdout.strip().splitlines()[-1] == "0 added, 0 updated, 2 unchanged, 0 failed"


def test_docs_list_and_delete(cli_env):
    env, _ = cli_env
    listed = shopbot("docs", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    docs = {d["source"]: d for d in json.loads(listed.stdout)}
    assert set(docs) >= {"products.csv", "faq.md"}
    assert {"doc_id", "kind", "products", "chunks", "ingested_at"} <= set(docs["faq.md"])

    table = shopbot("docs", "list", env=env)
    assert table.stdout.splitlines()[0].split() == [
        "id", "source", "kind", "products", "chunks", "ingested_at", "updated", "superseded",
        "review",
    ]

    faq_id = docs["faq.md"]["doc_id"]
    assert shopbot("docs", "delete", faq_id, env=env).returncode == 0
    after = json.loads(shopbot("docs", "list", "--json", env=env).stdout)
    assert "faq.md" not in {d["source"] for d in after}
    missing = shopbot("docs", "delete", faq_id, env=env)
    assert missing.returncode == 1
    assert "docs list" in missing.stderr


def test_search_json_and_batch_from_stdin(cli_env):
    env, _ = cli_env
    # (no category word: "tent" would filter to the one tent, see test_search_applies_filters)
    run = shopbot("search", "shelter for two people", "-k", "2", "--json", env=env)
    assert run.returncode == 0, run.stderr
    hits = json.loads(run.stdout)
    assert len(hits) == 2
    assert hits[0]["title"] == "Alpine 2 Tent"
    assert hits[0]["price"] == 349.0 and hits[0]["currency"] == "USD"
    assert set(hits[0]) >= {"id", "title", "price", "currency", "category", "brand", "url", "source", "snippet", "score"}

    batch = shopbot("search", "-", "-k", "1", env=env, stdin="sleeping bag for winter\n\ncamping stove\n")
    assert batch.returncode == 0, batch.stderr
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [[h["id"] for h in hits] for hits in lines] == [["BAG-1"], [], ["STV-1"]]


def test_search_applies_the_filters_in_the_query(cli_env):
    env, _ = cli_env
    run = shopbot("search", "tents", "-k", "3", "--json", env=env)
    assert run.returncode == 0, run.stderr
    assert [h["id"] for h in json.loads(run.stdout) if h["kind"] == "product"] == ["TNT-1"]
    cheap = shopbot("search", "anything under $100", "-k", "3", "--json", env=env)
    assert [h["id"] for h in json.loads(cheap.stdout) if h["kind"] == "product"] == ["STV-1"]


def test_cli_talks_to_a_chroma_server(chroma_server, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env.update(
        SHOPBOT_DATA_DIR=str(tmp_path / "unused"),
        SHOPBOT_CHROMA_HOST=chroma_server["host"],
        SHOPBOT_CHROMA_PORT=str(chroma_server["port"]),
        SHOPBOT_CHROMA_COLLECTION="cli_server_test",
    )
    run = shopbot("docs", "list", env=env)
    assert run.returncode == 0, run.stderr
    assert "No documents" in run.stdout
    assert not (tmp_path / "unused" / "chroma").exists(), "server mode must not create a local store"

    env["SHOPBOT_CHROMA_PORT"] = "1"  # nothing listens there
    down = shopbot("docs", "list", env=env)
    assert down.returncode == 1
    assert "Cannot reach the Chroma server" in down.stderr and "chroma run" in down.stderr


def test_ask_streams_text_then_sources_and_json(cli_env):
    env, _ = cli_env
    run = shopbot("ask", "How much is the Alpine 2 Tent?", "--generator", "extractive", env=env)
    assert run.returncode == 0, run.stderr
    text, _, sources = run.stdout.partition("\nSources:\n")
    assert "$349.00" in text and "[1]" in text
    assert "[1] Alpine 2 Tent, 349.00 USD (products.csv)" in sources

    run = shopbot("ask", "How much is the Alpine 2 Tent?", "--json", env=env)
    data = json.loads(run.stdout)
    assert "$349.00" in data["answer"]
    assert data["sources"][0]["title"] == "Alpine 2 Tent"

    batch = shopbot("ask", "-", env=env, stdin="How much is the Trail Stove?\nDo you sell kayaks?\n")
    first, second = (json.loads(line) for line in batch.stdout.splitlines())
    assert "$59.00" in first["answer"]
    assert "couldn't find that in our catalog" in second["answer"]


def test_chat_keeps_the_conversation(cli_env):
    env, _ = cli_env
    run = shopbot("chat", env=env, stdin="How much is the Glacier -10 Sleeping Bag?\nand who makes it?\n")
    assert run.returncode == 0, run.stderr
    answers = [line for line in run.stdout.splitlines() if line.startswith("bot> ")]
    assert len(answers) == 2
    assert "Glacier -10 Sleeping Bag" in answers[1] and "Ridgeline" in answers[1]


def test_chat_remembers_filters_until_dropped(cli_env):
    env, files = cli_env
    assert shopbot("ingest", str(files / "products.csv"), env=env).returncode == 0
    lines = ["anything under $100", "any tents in the same budget?", "/drop under $100",
             "do you have tents?"]
    run = shopbot("chat", env=env, stdin="\n".join(lines) + "\n")
    assert run.returncode == 0, run.stderr
    answers = [line for line in run.stdout.splitlines() if line.startswith("bot> ")]
    assert len(answers) == 3
    assert "(filters: under $100)" in run.stdout
    # The tent costs $349: under the remembered budget (referred to) nothing fits, and the
    # bot says which filter it used and that nothing fits it.
    assert answers[1].startswith("bot> Using your earlier filters: under $100.")
    assert "Nothing in our catalog matches under $100, category: Tents" in answers[1]
    assert "filters: none" in run.stdout
    assert "Nothing in our catalog" not in answers[2] and "Alpine 2 Tent" in answers[2]


def test_ask_prints_a_comparison_table_from_the_records(cli_env):
    env, files = cli_env
    assert shopbot("ingest", str(files / "products.csv"), env=env).returncode == 0
    run = shopbot("ask", "compare the Alpine 2 Tent and the Trail Stove", env=env)
    assert run.returncode == 0, run.stderr
    table = [line for line in run.stdout.splitlines() if line.startswith("|")]
    assert "Alpine 2 Tent" in table[0] and "Trail Stove" in table[0]
    price = next(line for line in table if line.startswith("| Price"))
    assert "$349.00" in price and "$59.00" in price


def test_unknown_generator_lists_the_choices(cli_env):
    env, _ = cli_env
    run = shopbot("ask", "hello", "--generator", "gpt9", env=env)
    assert run.returncode == 2
    assert "choose one of: auto, extractive, flan-t5, openai" in run.stderr
