"""The Streamlit app: headless with AppTest, and the real server started as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import CATALOG_DIR, ROOT, free_port, wait_until


@pytest.fixture
def small_catalog(tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    shutil.copy(CATALOG_DIR / "faq.md", folder)
    shutil.copy(CATALOG_DIR / "new_arrivals.jsonl", folder)
    return folder


@pytest.fixture
def app_env(monkeypatch, tmp_path, small_catalog):
    for key in [k for k in os.environ if k.startswith("SHOPBOT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHOPBOT_CATALOG_DIR", str(small_catalog))
    import streamlit as st

    st.cache_resource.clear()  # a fresh service for these settings
    yield
    st.cache_resource.clear()


def test_first_start_ingests_the_demo_catalog_and_search_shows_products(app_env):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    assert any("Demo catalog ready: 2 files, 10 products" in s.label for s in at.status)

    at.text_input[0].input("bright rechargeable lantern").run()
    assert not at.exception, at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "Halo 500 Rechargeable Lantern" in shown
    assert any("64.95 USD" in c.value for c in at.caption)

    # a second visitor (new session) finds the catalog in place: no ingestion again
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    again.run()
    assert not again.exception
    assert not again.status


def test_streamlit_run_serves_the_app(tmp_path, small_catalog):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env.update(SHOPBOT_DATA_DIR=str(tmp_path / "data"), SHOPBOT_CATALOG_DIR=str(small_catalog))
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok",
            timeout=90,
            what="streamlit server",
        )
        page = urllib.request.urlopen(base, timeout=10).read().decode()
        assert "<title>Streamlit</title>" in page or "streamlit" in page.lower()
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Traceback" not in output, output
