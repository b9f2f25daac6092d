"""Process-wide objects for the Streamlit pages (built once, shared by all sessions)."""

from __future__ import annotations

import logging
import threading

import streamlit as st

from shopbot.service import CatalogService
from shopbot.settings import Settings


@st.cache_resource(show_spinner="Opening the catalog…")
def catalog_service() -> CatalogService:
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    return CatalogService(settings)


@st.cache_resource
def _seed_lock() -> threading.Lock:
    return threading.Lock()


def seed_demo_catalog_once(service: CatalogService) -> None:
    """On an empty store, ingest the demo catalog with a progress bar (first visitor waits;
    everyone after finds it done)."""
    if not service.settings.seed_demo_catalog:
        return
    with _seed_lock():
        if not service.is_empty():
            return
        with st.status("Setting up the demo catalog…", expanded=True) as status:
            bar = st.progress(0.0, text="Reading catalog files…")

            def on_file(result, done: int, total: int) -> None:
                bar.progress(done / max(total, 1), text=f"{done}/{total} {result.source}")
                if not result.ok:
                    st.warning(f"{result.source}: {result.error}")

            results = service.seed_demo_catalog(on_file=on_file)
            products = sum(r.products for r in results)
            status.update(
                label=f"Demo catalog ready: {len(results)} files, {products} products",
                state="complete",
                expanded=False,
            )
