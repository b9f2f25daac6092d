"""`python -m shopbot serve` as a user runs it: a real process on a free loopback port, over a
data dir that holds the demo catalog, with an API key made by `python -m shopbot apikey
create`. Shared by tests/test_api.py and bench/api.py (which ingests the catalog with
`python -m shopbot ingest catalog/`); the session fixtures ``api_data_dir`` and
``api_server`` are re-exported by tests/conftest.py.

The server runs with the extractive generator (so ``shopbot`` answers offline and
deterministically), INFO logging (so the tests can read what it logs about keys) and
``https://shop.example`` as its one allowed CORS origin.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# tests/conftest.py imports this module: its helpers are imported where they are used.
ROOT = Path(__file__).resolve().parents[1]
CATALOG_DIR = ROOT / "catalog"
ALLOWED_ORIGIN = "https://shop.example"
LOOPBACK = "127.0.0.1,localhost"


def server_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without the developer's shopbot/OpenAI settings, offline,
    with the data dir and ``settings`` (SHOPBOT_*=...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPBOT_", "OPENAI_"))}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        NO_PROXY=LOOPBACK,
        no_proxy=LOOPBACK,
        SHOPBOT_DATA_DIR=str(data_dir),
    )
    env.update(settings)
    return env


def shopbot_cli(
    *args: str, env: Mapping[str, str], stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "shopbot", *args],
        cwd=ROOT,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ingest_demo_catalog(env: Mapping[str, str]) -> dict[str, Any]:
    run = shopbot_cli("ingest", str(CATALOG_DIR), "--json", env=env)
    if run.returncode != 0:
        raise RuntimeError(f"ingesting the demo catalog failed:\n{run.stdout}\n{run.stderr}")
    return json.loads(run.stdout)


def create_key(env: Mapping[str, str], name: str, rate_per_minute: int | None = None) -> str:
    args = ["apikey", "create", "--name", name]
    if rate_per_minute is not None:
        args += ["--rate-per-minute", str(rate_per_minute)]
    run = shopbot_cli(*args, env=env, timeout=60)
    if run.returncode != 0:
        raise RuntimeError(f"apikey create failed: {run.stderr}")
    return run.stdout.strip()


@dataclass
class APIServer:
    url: str  # http://127.0.0.1:PORT
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    stdout_path: Path
    key: str = ""  # a key with no rate limit, made before the server started
    keys_made: list[str] = field(default_factory=list)  # every key the tests made

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def data_dir(self) -> Path:
        return Path(self.env["SHOPBOT_DATA_DIR"])

    def log(self) -> str:
        """The server's stderr (uvicorn's and shopbot's log)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """`python -m shopbot ...` on the server's data dir."""
        return shopbot_cli(*args, env=self.env, stdin=stdin)

    def create_key(self, name: str, rate_per_minute: int | None = None) -> str:
        key = create_key(self.env, name, rate_per_minute)
        self.keys_made.append(key)
        return key

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/health", timeout=5) as response:
            return json.loads(response.read())


@contextmanager
def api_server_process(
    env: Mapping[str, str], log_dir: Path, timeout: float = 120
) -> Iterator[APIServer]:
    """`python -m shopbot serve` on a free loopback port, up once /health answers;
    terminated on exit. stdout and stderr go to files (a pipe nobody reads would stall it)."""
    from tests.conftest import free_port, stop_process, wait_until

    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path, stdout_path = log_dir / "server.log", log_dir / "server.out"
    with open(log_path, "wb") as log, open(stdout_path, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shopbot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=log,
        )
        server = APIServer(f"http://127.0.0.1:{port}", dict(env), process, log_path, stdout_path)
        try:
            try:
                wait_until(
                    lambda: process.poll() is None and server.health()["status"] == "ok",
                    timeout=timeout,
                    what="shopbot API server",
                )
            except TimeoutError as exc:
                raise TimeoutError(
                    f"{exc}; exit code {process.poll()}; log:\n{server.log()}"
                ) from None
            yield server
        finally:
            stop_process(process)


@pytest.fixture(scope="session")
def api_data_dir(demo_service, tmp_path_factory) -> Path:
    """A copy of the data dir of ``demo_service`` (the whole demo catalog, ingested once per
    session and shared with the other tests). The server gets a copy because two processes
    must not share one embedded Chroma store; /health's counts show the copy is complete."""
    data_dir = tmp_path_factory.mktemp("api") / "data"
    shutil.copytree(demo_service.settings.data_dir, data_dir)
    return data_dir


@pytest.fixture(scope="session")
def api_server(api_data_dir, tmp_path_factory) -> Iterator[APIServer]:
    """`python -m shopbot serve` over the demo catalog, with one unlimited API key."""
    env = server_env(
        api_data_dir,
        SHOPBOT_GENERATOR="extractive",
        SHOPBOT_LOG_LEVEL="INFO",
        SHOPBOT_API_CORS_ORIGINS=ALLOWED_ORIGIN,
        SHOPBOT_FLAN_T5_MAX_NEW_TOKENS="12",
    )
    key = create_key(env, "tests", rate_per_minute=0)
    with api_server_process(env, tmp_path_factory.mktemp("api-server")) as server:
        server.key = key
        server.keys_made.append(key)
        yield server
