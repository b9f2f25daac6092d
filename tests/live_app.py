"""The app as a user runs it: `streamlit run app.py` in a subprocess, and Debian's headless
Chromium driven by Playwright. Shared by tests/test_app.py, tests/test_browser.py and
bench/app.py.

Playwright's own browser download does not work on these machines (no internet), so the
browser is always the system one, /usr/bin/chromium (`apt-get install chromium`, which
`.ci/setup` does when it runs as root). Playwright is imported only when a browser starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, free_port, stop_process, wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
CHROMIUM_MISSING = (
    f"browser tests need Debian's Chromium at {CHROMIUM}: `apt-get install -y chromium` "
    "(bash .ci/setup does it when run as root)"
)


def launch_chromium(playwright: Any, **options: Any) -> Any:
    """A headless Chromium from ``playwright`` (a started ``sync_playwright()``)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, **options
    )


def server_env(**settings: str) -> dict[str, str]:
    """This process's environment without any shopbot/OpenAI settings of the developer's,
    offline, plus ``settings`` (SHOPBOT_DATA_DIR=..., ...)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SHOPBOT_", "OPENAI_"))
    }
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.update(settings)
    return env


@dataclass
class StreamlitServer:
    url: str
    process: subprocess.Popen
    log_path: Path
    started_at: float  # time.perf_counter() just before the process was started

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def streamlit_server(
    env: Mapping[str, str], log_path: Path, timeout: float = 90
) -> Iterator[StreamlitServer]:
    """`streamlit run app.py` on a free loopback port, up once `/_stcore/health` answers
    "ok"; terminated on exit. Its output goes to ``log_path`` (a pipe nobody reads would
    stall a chatty server)."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        # Others may edit pages/ while a test runs; the app under test must not rerun.
        "--server.fileWatcherType", "none",
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        started_at = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT
        )
        server = StreamlitServer(f"http://127.0.0.1:{port}", process, log_path, started_at)
        try:
            try:
                wait_until(
                    lambda: process.poll() is None
                    and urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2).read()
                    == b"ok",
                    timeout=timeout,
                    what="streamlit server",
                )
            except TimeoutError as exc:
                raise TimeoutError(f"{exc}; exit code {process.poll()}; log:\n{server.log()}") from None
            yield server
        finally:
            stop_process(process)
