"""Shared fixtures: the real embedding model, real Chroma (embedded and a `chroma run`
server), the demo catalog, and tmp data dirs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

# No test may reach the internet: models and data come from installed packages.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from shopbot.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CATALOG_DIR = ROOT / "catalog"


def make_settings(**overrides) -> Settings:
    """Settings that ignore the developer's environment and .env file."""
    for key in [k for k in os.environ if k.startswith("SHOPBOT_")]:
        os.environ.pop(key)
    return Settings(_env_file=None, **overrides)


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy or the deadline passes."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the thing polled is not up yet
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s (last error: {last_error})")


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a server the tests started; kill it if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def one_torch_thread():
    """For modules that train tiny models: they gain nothing from a second thread, and on a
    busy 2-core machine torch's threads wait on each other (one thread trained ~8x faster).
    Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def embeddings():
    from shopbot.embeddings import load_embeddings

    return load_embeddings(make_settings())


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on a free loopback port, for the whole session."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert chroma, "the chroma CLI (from the chromadb package) is not installed"
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = open(path / "server.log", "wb")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    try:
        wait_until(
            lambda: process.poll() is None
            and urllib.request.urlopen(url, timeout=2).status == 200,
            timeout=60,
            what="chroma server",
        )
        yield {"host": "127.0.0.1", "port": port, "process": process}
    finally:
        stop_process(process)
        log.close()


@pytest.fixture(params=["embedded", "server"])
def store_settings(request, tmp_path):
    """Settings for a fresh, empty store: embedded under tmp, or a new collection on the
    shared Chroma server."""
    if request.param == "embedded":
        return make_settings(data_dir=tmp_path / "data")
    server = request.getfixturevalue("chroma_server")
    return make_settings(
        data_dir=tmp_path / "data",
        chroma_host=server["host"],
        chroma_port=server["port"],
        chroma_collection=f"t{uuid.uuid4().hex[:12]}",
    )


@pytest.fixture
def service(store_settings, embeddings):
    from shopbot.service import CatalogService

    return CatalogService(store_settings, embeddings=embeddings)


@pytest.fixture(scope="session")
def demo_service(tmp_path_factory, embeddings):
    """The whole demo catalog ingested once into an embedded store (read-only use)."""
    from shopbot.service import CatalogService

    settings = make_settings(
        data_dir=tmp_path_factory.mktemp("demo") / "data", catalog_dir=CATALOG_DIR
    )
    service = CatalogService(settings, embeddings=embeddings)
    results = service.seed_demo_catalog()
    failed = [(r.source, r.error) for r in results if not r.ok]
    assert not failed, failed
    return service


# The OpenAI-compatible HTTP server on loopback (fixtures `openai_server`, reset per test, and
# `openai_server_session`), for the openai generator and anything built on it.
from tests.openai_server import openai_server, openai_server_session  # noqa: E402, F401


# Tiny T5 models built from the demo catalog (no download), for the flan-t5 backend's tests.
from tests.tiny_t5 import tiny_lora_dir, tiny_t5_dir  # noqa: E402, F401


# `python -m shopbot serve` on loopback over the demo catalog, with an API key (session).
from tests.api_server import api_data_dir, api_server  # noqa: E402, F401
