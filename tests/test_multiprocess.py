"""One store, many processes, as an operator runs it: two ingests at once, an ingest while
`serve` and an in-process reader answer, a second writer waiting for (or giving up on) the
first, and ingests killed with SIGKILL at random moments (the chaos test).

Everything here is real: `python -m shopbot ingest` / `serve` processes, embedded Chroma on
disk and a `chroma run` server, the real embedding model, real HTTP.

The chaos test runs ``CHAOS_ROUNDS`` rounds (default 2, what CI runs); the long run
is ``CHAOS_ROUNDS=12 .venv/bin/python -m pytest tests/test_multiprocess.py -k chaos``,
with ``CHAOS_REPORT=bench/results/chaos.json`` to keep its figures.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from shopbot.service import CatalogService
from tests.api_server import ROOT, api_server_process, create_key, server_env, shopbot_cli
from tests.conftest import make_settings, wait_until
from tests.test_app import app_env, password_hash, small_catalog  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow

_ADJECTIVES = ["Granite", "Cedar", "Harbor", "Summit", "Meadow", "Canyon", "Glacier", "Prairie"]
_NOUNS = ["Daypack", "Lantern", "Trail Shoe", "Fleece", "Stove", "Hammock", "Bottle", "Poncho"]


def product_csv(prefix: str, count: int, shift: float = 0.0) -> str:
    """A product export with ``count`` rows; ``shift`` moves every price (a price update)."""
    lines = ["SKU,Title,Price,Category,Brand,Description"]
    for i in range(count):
        adjective, noun = _ADJECTIVES[i % 8], _NOUNS[(i // 8) % 8]
        title = f"{adjective} {noun} {prefix}{i:03d}"
        description = (
            f"The {title} is built for long days outdoors: light, tough and easy to pack, "
            f"with a {['recycled', 'ripstop', 'waxed', 'merino'][i % 4]} shell, taped seams and a "
            f"lifetime warranty. Model year {2020 + i % 6}, batch {i * 7 % 13}."
        )
        price = 20 + i + shift
        lines.append(f"{prefix}-{i:04d},{title},${price:.2f},Outdoor > {noun}s,Ridgeline,"
                     f"\"{description}\"")
    return "\n".join(lines) + "\n"


def prices_of(text: str) -> dict[str, float]:
    prices = {}
    for line in text.splitlines()[1:]:
        sku, _title, price, *_ = line.split(",")
        prices[sku] = float(price.lstrip("$"))
    return prices


def visible(settings, embeddings) -> dict:
    """What a process opening the store now would show: per SKU the prices of its visible
    records, the versions of visible chunks, the registry, and the raw chunk count. The store
    is opened as a reader that was already running would see it: without the recovery a new
    service does at start."""
    from shopbot.store import CatalogStore

    service = CatalogService(settings, embeddings=embeddings, store=CatalogStore.open(settings))
    snap = service.retriever.index.snapshot()
    docs = {d.doc_id: d for d in service.documents()}
    records: dict[str, list[float]] = {}
    for chunk in snap.chunks:
        if chunk.is_record:
            records.setdefault(chunk.product_id, []).append(chunk.meta.get("price"))
    return {
        "service": service,
        "records": records,
        "chunk_versions": {(c.meta.get("doc_id"), c.meta.get("version")) for c in snap.chunks},
        "docs": docs,
        "stored": service.store.count_chunks(),
        "visible": len(snap.chunks),
    }


def ingest_process(path: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "shopbot", "ingest", str(path)],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )
    out.close()
    return process


@pytest.fixture(params=["embedded", "server"])
def shared_store(request, tmp_path):
    """(settings, env) for one store that several processes open: embedded in a data dir, or
    a fresh collection on the `chroma run` server."""
    data_dir = tmp_path / "data"
    if request.param == "embedded":
        return make_settings(data_dir=data_dir), server_env(data_dir, SHOPBOT_GENERATOR="extractive")
    server = request.getfixturevalue("chroma_server")
    collection = f"mp{os.getpid()}{random.randrange(10**6)}"
    extra = {
        "SHOPBOT_CHROMA_HOST": server["host"],
        "SHOPBOT_CHROMA_PORT": str(server["port"]),
        "SHOPBOT_CHROMA_COLLECTION": collection,
        "SHOPBOT_GENERATOR": "extractive",
    }
    settings = make_settings(
        data_dir=data_dir, chroma_host=server["host"], chroma_port=server["port"],
        chroma_collection=collection,
    )
    return settings, server_env(data_dir, **extra)


def test_two_ingests_at_once_both_land_and_the_store_stays_readable(
    shared_store, embeddings, tmp_path
):
    settings, env = shared_store
    # Embedded Chroma writes its vector index files once a collection passes 1,000 new
    # vectors: two writers past that overwrote each other's files, and every new process's
    # search then failed with "Error finding id" (reproduced with the code before the writer
    # lock). So the embedded case writes 1,300 products per file; the server case 60.
    rows = 1300 if settings.chroma_host is None else 60
    files = []
    for prefix in ("A", "B"):
        path = tmp_path / f"{prefix.lower()}-products.csv"
        path.write_text(product_csv(prefix, rows))
        files.append(path)
    procs = [ingest_process(f, env, tmp_path / f"{f.stem}.log") for f in files]
    for proc, f in zip(procs, files):
        assert proc.wait(timeout=300) == 0, (tmp_path / f"{f.stem}.log").read_text()

    state = visible(settings, embeddings)
    assert len(state["records"]) == 2 * rows
    assert all(len(prices) == 1 for prices in state["records"].values()), "no duplicates"
    assert sorted(d.source for d in state["docs"].values()) == [f.name for f in files]
    # Nothing stored that the registry does not account for.
    assert state["stored"] == sum(d.chunks for d in state["docs"].values()) == state["visible"]

    # A new process (as after the corruption seen before: every new process crashed) finds
    # products of both files, with their prices.
    for sku_title, price in (("Cedar Daypack A001", "21.00"), ("Harbor Daypack B002", "22.00")):
        run = shopbot_cli("search", sku_title, "-k", "3", env=env, timeout=120)
        assert run.returncode == 0, run.stderr
        assert sku_title in run.stdout and price in run.stdout.splitlines()[0], run.stdout


def test_a_second_writer_waits_for_the_first_and_names_it(tmp_path, embeddings):
    settings = make_settings(data_dir=tmp_path / "data")
    env = server_env(tmp_path / "data")
    path = tmp_path / "products.csv"
    path.write_text(product_csv("W", 5))
    holder = CatalogService(settings, embeddings=embeddings)

    # Gives up after its wait, naming who holds the store; nothing stored.
    with holder.store.writing():
        run = shopbot_cli("ingest", str(path), env={**env, "SHOPBOT_WRITER_WAIT_SECONDS": "1"},
                          timeout=120)
    assert run.returncode == 1
    assert f"being written by pid {os.getpid()}" in run.stdout, run.stdout
    assert "SHOPBOT_WRITER_WAIT_SECONDS" in run.stdout
    assert holder.documents() == []

    # Waits, says so, and goes ahead once the first writer is done.
    log = tmp_path / "waiting.log"
    with holder.store.writing():
        proc = ingest_process(path, env, log)
        wait_until(lambda: "Waiting for pid" in log.read_text(), timeout=120,
                   what="the second writer's waiting message")
        assert proc.poll() is None
    assert proc.wait(timeout=120) == 0, log.read_text()
    assert [d.source for d in holder.documents()] == ["products.csv"]


def test_a_running_reader_never_fails_and_sees_each_commit(tmp_path, embeddings):
    """The app or `serve` keeps its store open while a CLI ingest writes: it must keep
    answering (before: "Error finding id" from the first written batch on) and pick up the
    committed change without a restart."""
    settings = make_settings(data_dir=tmp_path / "data")
    env = server_env(tmp_path / "data")
    old, new = product_csv("R", 80), product_csv("R", 80, shift=5)
    path = tmp_path / "products.csv"
    path.write_text(old)
    reader = CatalogService(settings, embeddings=embeddings)
    assert reader.ingest([path])[0].status == "added"
    old_prices, new_prices = prices_of(old), prices_of(new)

    path.write_text(new)
    (tmp_path / "more.csv").write_text(product_csv("S", 40))
    log = tmp_path / "ingest.log"
    out = open(log, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopbot", "ingest", str(path), str(tmp_path / "more.csv")],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )
    out.close()
    errors, questions, mixed = [], 0, []
    while proc.poll() is None or questions < 5:
        questions += 1
        try:
            sources = reader.retrieve("Granite Daypack R000 price", k=5).sources
            snap = reader.retriever.index.snapshot()
            shown = {c.product_id: c.meta.get("price") for c in snap.chunks if c.is_record
                     and c.product_id.startswith("R-")}
            # One whole version at a time: all old prices or all new ones.
            if shown != {s: old_prices[s] for s in shown} and \
                    shown != {s: new_prices[s] for s in shown}:
                mixed.append(shown)
            assert sources
        except Exception as exc:  # noqa: BLE001 - what we count
            errors.append(repr(exc))
    assert proc.returncode == 0, log.read_text()
    assert errors == [], errors[:3]
    assert mixed == []

    hit = reader.retrieve("Cedar Daypack S001", k=3).sources[0]
    assert hit.title == "Cedar Daypack S001"
    top = reader.retrieve("Granite Daypack R000", k=3).sources[0]
    assert (top.id, top.price) == ("R-0000", new_prices["R-0000"])


def test_serve_answers_without_errors_while_another_process_ingests(tmp_path):
    data_dir = tmp_path / "data"
    env = server_env(data_dir, SHOPBOT_GENERATOR="extractive")
    path = tmp_path / "products.csv"
    path.write_text(product_csv("V", 60))
    assert shopbot_cli("ingest", str(path), env=env, timeout=300).returncode == 0
    key = create_key(env, "mp", rate_per_minute=0)
    statuses: list[int] = []
    stop = threading.Event()

    def ask(server, question: str) -> tuple[int, str]:
        body = json.dumps({"model": "shopbot", "messages": [
            {"role": "user", "content": question}]}).encode()
        request = urllib.request.Request(
            f"{server.base_url}/chat/completions", data=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                payload = json.loads(response.read())
                return response.status, payload["choices"][0]["message"]["content"]
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    with api_server_process(env, tmp_path / "serve") as server:
        def hammer():
            while not stop.is_set():
                statuses.append(ask(server, "How much is the Granite Daypack V000?")[0])

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            path.write_text(product_csv("V", 60, shift=5))
            (tmp_path / "new.csv").write_text(product_csv("N", 30))
            run = shopbot_cli("ingest", str(path), str(tmp_path / "new.csv"), env=env,
                              timeout=300)
            assert run.returncode == 0, run.stderr
            # The committed update is answered without a restart.
            wait_until(lambda: "$25.00" in ask(server, "How much is the Granite Daypack V000?")[1],
                       timeout=60, what="the new price from serve")
            assert "$21.00" in ask(server, "How much is the Cedar Daypack N001?")[1]
        finally:
            stop.set()
            thread.join()
        log = server.log()
    assert statuses and set(statuses) == {200}, (sorted(set(statuses)), log[-2000:])
    assert "Traceback" not in log


# -- chaos: kill -9 at random moments ------------------------------------------------------


def test_chaos_kill_9_during_ingests_never_shows_uncommitted_data(tmp_path, embeddings):
    rounds = int(os.environ.get("CHAOS_ROUNDS", "2"))
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "11")))
    versions = {name: product_csv("K", 500, shift=shift) for name, shift in (("v1", 0), ("v2", 7))}
    prices = {name: prices_of(text) for name, text in versions.items()}

    # How long an uninterrupted ingest of this file takes here (start-up included), in a
    # scratch store: the kill moments are spread over it.
    scratch = tmp_path / "scratch"
    (scratch / "catalog.csv").parent.mkdir(parents=True)
    (scratch / "catalog.csv").write_text(versions["v1"])
    started = time.monotonic()
    run = shopbot_cli("ingest", str(scratch / "catalog.csv"), env=server_env(scratch / "data"))
    full = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    # And how long until it starts work (imports, store open: an unchanged file stops there).
    started = time.monotonic()
    run = shopbot_cli("ingest", str(scratch / "catalog.csv"), env=server_env(scratch / "data"))
    startup = time.monotonic() - started
    assert "unchanged" in run.stdout

    settings = make_settings(data_dir=tmp_path / "data")
    env = server_env(tmp_path / "data")
    path = tmp_path / "catalog.csv"
    digest_of = {}
    from shopbot.ingest.files import content_hash

    for name, text in versions.items():
        digest_of[content_hash(text.encode())] = name
    report = []
    committed = None
    for number in range(rounds):
        target = "v1" if committed in (None, "v2") else "v2"
        path.write_text(versions[target])
        log = tmp_path / f"round{number}.log"
        proc = ingest_process(path, env, log)
        kill_at = rng.uniform(startup, 0.9 * full)
        try:
            proc.wait(timeout=kill_at)
            killed = False
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            killed = True

        state = visible(settings, embeddings)
        docs = list(state["docs"].values())
        now = digest_of[docs[0].content_hash] if docs else None
        expected = prices[now] if now else {}
        # Every committed product with its committed price, once; nothing uncommitted.
        assert {sku: p for sku, p in state["records"].items()} == \
            {sku: [price] for sku, price in expected.items()}, f"round {number}"
        assert all(version == state["docs"][doc].committed_version
                   for doc, version in state["chunk_versions"]), f"round {number}"
        if now:
            sku = rng.choice(sorted(expected))
            hit = state["service"].search(sku, k=3)[0]
            assert (hit.id, hit.price) == (sku, expected[sku]), f"round {number}"
        leftover = state["stored"] - state["visible"]

        # The next start finishes or undoes what the killed writer left, and says so.
        started = CatalogService(settings, embeddings=embeddings)
        if leftover:
            said = " ".join(started.recovered)
            assert "uncommitted chunks removed" in said or "chunks of the old one removed" in said
        assert started.store.count_chunks() == state["visible"], "leftovers cleaned up at start"

        rerun = shopbot_cli("ingest", str(path), env=env)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        after = visible(settings, embeddings)
        assert after["records"] == {sku: [price] for sku, price in prices[target].items()}
        assert after["stored"] == after["visible"], "leftovers cleaned up"
        committed = target
        report.append({
            "round": number, "target": target, "kill_after_s": round(kill_at, 2),
            "kill_fraction": round(kill_at / full, 2), "killed": killed,
            "exit_before_kill": not killed,
            "committed_after_kill": now, "leftover_chunks": leftover,
            "recovered_at_start": started.recovered,
            "rerun": rerun.stdout.strip().splitlines()[0] if rerun.stdout.strip() else "",
        })
    out = os.environ.get("CHAOS_REPORT")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(
            {"full_ingest_s": round(full, 2), "startup_s": round(startup, 2), "rounds": report},
            indent=2))
    print(json.dumps(report, indent=1))


# -- first start: seeding that survives a crash ----------------------------------------------


def test_seeding_killed_midway_is_resumed_by_the_next_start(tmp_path, embeddings):
    import shutil

    from tests.conftest import CATALOG_DIR

    folder = tmp_path / "catalog"
    folder.mkdir()
    names = ["faq.md", "new_arrivals.jsonl", "price_list.xlsx", "products.csv"]
    for name in names:
        shutil.copy(CATALOG_DIR / name, folder)
    settings = make_settings(data_dir=tmp_path / "data", catalog_dir=folder)
    env = server_env(tmp_path / "data", SHOPBOT_CATALOG_DIR=str(folder))
    log = tmp_path / "seed.log"
    out = open(log, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "from shopbot.service import CatalogService; CatalogService().start_seeding().join()"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )
    out.close()
    watcher = CatalogService(settings, embeddings=embeddings)
    try:
        wait_until(lambda: (watcher.seeding_state() or {}).get("done", 0) >= 1, timeout=180,
                   what="the first seeded file")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    # The next start (a new process) sees an unfinished seeding and resumes it.
    service = CatalogService(settings, embeddings=embeddings)
    state = service.seeding_state()
    assert state["status"] == "running" and state["done"] < len(names), (state, log.read_text())
    assert service.seeding_needed()
    thread = service.start_seeding()
    assert thread is not None
    thread.join(timeout=300)
    state = service.seeding_state()
    assert (state["status"], state["done"], state["failed"]) == ("done", len(names), 0)
    assert sorted(d.source for d in service.documents()) == sorted(names)
    assert service.store.count_chunks() == sum(d.chunks for d in service.documents())
    # Once complete, never again, even if staff later delete everything.
    for doc in service.documents():
        service.remove_document(doc.doc_id)
    assert not service.seeding_needed() and service.start_seeding() is None


def test_the_app_keeps_answering_while_another_process_ingests(app_env, tmp_path):
    from tests.test_app import ask, new_app

    at = new_app()  # the small demo catalog, seeded by this process
    path = tmp_path / "more.csv"
    path.write_text(product_csv("P", 40))
    log = tmp_path / "ingest.log"
    proc = ingest_process(path, server_env(app_env), log)
    asked = 0
    while proc.poll() is None or asked < 2:
        asked += 1
        assert "$64.95" in ask(at, "How much is the Halo 500 Rechargeable Lantern?")
        assert not at.error, [e.value for e in at.error]
    assert proc.returncode == 0, log.read_text()
    # The other process's commit is answered at the next question, without a restart.
    assert "$21.00" in ask(at, "How much is the Cedar Daypack P001?")


def short_lease_store(chroma_server, tmp_path) -> tuple:
    """(settings, env) for a new collection on the `chroma run` server with a 5 s lease."""
    collection = f"lease{random.randrange(10**9)}"
    settings = make_settings(
        data_dir=tmp_path / "data", chroma_host=chroma_server["host"],
        chroma_port=chroma_server["port"], chroma_collection=collection, writer_lease_seconds=5,
    )
    env = server_env(
        tmp_path / "data", SHOPBOT_CHROMA_HOST=chroma_server["host"],
        SHOPBOT_CHROMA_PORT=str(chroma_server["port"]), SHOPBOT_CHROMA_COLLECTION=collection,
        SHOPBOT_WRITER_LEASE_SECONDS="5",
    )
    return settings, env


def test_a_killed_writers_lease_on_a_chroma_server_is_taken_over(chroma_server, tmp_path):
    """Across machines the lock is a lease in the store: while its holder lives (and renews
    it) nobody else writes; once the holder is killed, the lease is taken over after
    SHOPBOT_WRITER_LEASE_SECONDS."""
    from shopbot.store import CatalogStore
    from shopbot.writer_lock import StoreBusy

    settings, env = short_lease_store(chroma_server, tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import threading\n"
         "from shopbot.settings import Settings\n"
         "from shopbot.store import CatalogStore\n"
         "writing = CatalogStore.open(Settings()).writing()\n"
         "writing.__enter__()\n"
         "print('holding', flush=True)\n"
         "threading.Event().wait()\n"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        store = CatalogStore.open(settings)
        # Renewed while its holder lives: a writer that waits longer than one lease period
        # still finds it held, and is told by whom.
        with pytest.raises(StoreBusy, match=f"pid {holder.pid} on "):
            with store.writing(wait_seconds=8):
                pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
    with store.writing(wait_seconds=30):
        assert store.lock.holder()["pid"] == os.getpid()
    assert store.lock.holder() is None, "released"


def test_a_writer_that_stalls_past_its_lease_does_not_commit(chroma_server, tmp_path):
    """A writer frozen (SIGSTOP) for longer than its lease loses it to another replica; when
    it wakes up it must not commit over the new holder: its ingest fails, says why, and
    leaves nothing behind."""
    from shopbot.store import CatalogStore

    settings, env = short_lease_store(chroma_server, tmp_path)
    path = tmp_path / "products.csv"
    path.write_text(product_csv("Z", 600))
    store = CatalogStore.open(settings)
    log = tmp_path / "ingest.log"
    proc = ingest_process(path, env, log)
    try:
        wait_until(lambda: (store.lock.holder() or {}).get("pid") == proc.pid, timeout=120,
                   what="the ingest taking the writer lease")
        os.kill(proc.pid, signal.SIGSTOP)
        with store.writing(wait_seconds=60):  # taken over once the frozen lease expires
            assert store.lock.holder()["pid"] == os.getpid()
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    assert proc.wait(timeout=300) == 1
    output = log.read_text()
    assert "writer lease expired" in output and "Run it again" in output, output
    assert store.list_documents() == []
    wait_until(lambda: store.count_chunks() == 0, timeout=60,
               what="the stalled writer removing its uncommitted chunks")
