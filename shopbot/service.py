"""One object that wires settings, embeddings, store and ingestion together.

The Streamlit app, the CLI, the HTTP API and the tests all go through ``CatalogService`` so
they behave the same. Building one loads the embedding model (seconds): build it once per
process (the app caches it with ``st.cache_resource``); its methods are thread-safe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopbot.settings import Settings, get_settings

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.chain import ShopAssistant
    from shopbot.generators.base import Generator
    from shopbot.ingest import DeleteResult, IngestResult
    from shopbot.ingest.queue import IngestQueue
    from shopbot.constraints import Constraints
    from shopbot.retrieval import Retrieval, Retriever, Source
    from shopbot.query import Understanding
    from shopbot.store import CatalogStore, DocumentRecord

log = logging.getLogger(__name__)

SEED_STATE = "seed"


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class CatalogService:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embeddings: Embeddings | None = None,
        store: CatalogStore | None = None,
    ) -> None:
        from shopbot.embeddings import LazyEmbeddings
        from shopbot.ingest import Ingestor
        from shopbot.store import CatalogStore

        self.settings = settings or get_settings()
        self.embeddings = embeddings or LazyEmbeddings(self.settings)
        self.store = store or CatalogStore.open(self.settings)
        self.ingestor = Ingestor(self.settings, self.store, self.embeddings)
        # What a writer that died left half done is finished or undone at the next start
        # (and logged), not only at the next write. Copies (with_settings) share the store.
        self.recovered: list[str] = [] if store is not None else self._recover()
        self._retriever: Retriever | None = None
        self._retriever_lock = threading.Lock()
        self._seeder: threading.Thread | None = None
        self._seed_lock = threading.Lock()
        self._queue: IngestQueue | None = None

    def _recover(self) -> list[str]:
        try:
            return self.store.recover_if_needed()
        except Exception:  # noqa: BLE001 - never stop a start; the next writer recovers
            log.warning("recovering the store at start failed", exc_info=True)
            return []

    def with_settings(self, overrides: dict[str, Any]) -> CatalogService:
        """The same catalog (store, embedding model) with some settings changed, e.g. another
        generator for one session. Cheap: nothing is reloaded."""
        if not overrides:
            return self
        settings = self.settings.model_copy(update=overrides)
        copy = CatalogService(settings, embeddings=self.embeddings, store=self.store)
        copy._retriever = self.retriever
        copy._queue = self.ingest_queue
        return copy

    # -- ingestion -------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[Path | str],
        on_file: Callable[[IngestResult, int, int], None] | None = None,
    ) -> list[IngestResult]:
        return self.ingestor.ingest_paths([Path(p) for p in paths], on_file=on_file)

    def ingest_bytes(self, name: str, data: bytes) -> IngestResult:
        return self.ingestor.ingest_bytes(name, data)

    @property
    def ingest_queue(self) -> IngestQueue:
        """Background ingestion of uploads, one at a time, with progress (the app's upload
        page); shared by copies made with :meth:`with_settings`."""
        if self._queue is None:
            from shopbot.ingest.queue import IngestQueue

            with self._seed_lock:
                if self._queue is None:
                    self._queue = IngestQueue(self.ingestor)
        return self._queue

    def outdated_documents(self) -> list[DocumentRecord]:
        """Documents read by an older version of the readers (before products had variants,
        say): re-indexing them from their kept copies brings them up to date."""
        from shopbot.ingest.pipeline import PARSER_VERSION

        return [d for d in self.documents() if d.parser_version < PARSER_VERSION]

    def reindex_all(
        self,
        on_file: Callable[[IngestResult, int, int], None] | None = None,
        outdated_only: bool = False,
    ) -> list[IngestResult]:
        """Parse and embed every document again from the copy kept at ingest time (with
        ``outdated_only``, only those :meth:`outdated_documents` lists)."""
        from shopbot.ingest import IngestResult

        documents = self.outdated_documents() if outdated_only else self.documents()
        results = []
        for done, doc in enumerate(documents, start=1):
            original = self.ingestor.original_path(doc.source)
            if original.is_file():
                result = self.ingestor.ingest_bytes(doc.source, original.read_bytes(), force=True)
            else:
                result = IngestResult(
                    source=doc.source,
                    status="failed",
                    doc_id=doc.doc_id,
                    error="No copy of this file is kept here (it was ingested by another "
                    "replica or before copies were kept): upload it again.",
                )
            results.append(result)
            if on_file:
                on_file(result, done, len(documents))
        return results

    def seed_demo_catalog(
        self, on_file: Callable[[IngestResult, int, int], None] | None = None
    ) -> list[IngestResult]:
        """Ingest the demo catalog into a new store, resumably; [] when there is nothing to
        do (:meth:`seeding_needed`). Progress is kept in the store
        (:meth:`seeding_state`), so every process and replica can show it, and a run
        that was interrupted (a crash, a restart) is finished by the next one: files
        already ingested are unchanged and skipped."""
        if not self.seeding_needed():
            return []
        from shopbot.ingest.pipeline import expand_paths

        folder = self.settings.catalog_dir
        files, _missing = expand_paths([folder])
        total = len(files)
        log.info("seeding the demo catalog from %s (%d files)", folder, total)
        state = {"status": "running", "done": 0, "total": total, "failed": 0,
                 "started": _now(), "current": ""}
        self.store.put_state(SEED_STATE, state)
        done_results: list[IngestResult] = []

        def on_each(result: IngestResult, done: int, total_: int) -> None:
            done_results.append(result)
            state.update(done=done, total=total_, current=result.source,
                         failed=sum(not r.ok for r in done_results), updated=_now())
            self.store.put_state(SEED_STATE, state)
            if on_file:
                on_file(result, done, total_)

        results = self.ingest([folder], on_file=on_each)
        state.update(status="done", done=len(results), failed=sum(not r.ok for r in results),
                     finished=_now(), current="")
        self.store.put_state(SEED_STATE, state)
        return results

    def seeding_needed(self) -> bool:
        """Whether the demo catalog still has to be (or finish being) ingested: seeding is
        on, its folder exists, and either a seeding run began and never finished, or the
        store is new (empty, never seeded). A shop that deleted the demo files, or filled
        its store before seeding kept a state, is never seeded again."""
        if not self.settings.seed_demo_catalog:
            return False
        if not self.settings.catalog_dir.is_dir():
            log.warning("demo catalog folder %s not found; starting empty",
                        self.settings.catalog_dir)
            return False
        state = self.seeding_state()
        if state is not None:
            return state.get("status") != "done"
        return self.is_empty()

    def seeding_state(self) -> dict[str, Any] | None:
        """{"status": "running" | "done", "done": files, "total": files, "failed": files,
        "current": last file}, or None when this store was never seeded."""
        return self.store.get_state(SEED_STATE)

    def start_seeding(self) -> threading.Thread | None:
        """Seed in a background thread of this process (not a visitor's session: closing a
        browser tab cannot stop it), once per service; None when there is nothing to do."""
        with self._seed_lock:
            if self._seeder is not None and self._seeder.is_alive():
                return self._seeder
            if not self.seeding_needed():
                return None
            if self.seeding_state() is None:
                # Said before the thread starts, so the very first visitor is told already.
                self.store.put_state(SEED_STATE, {"status": "running", "done": 0, "total": 0,
                                                  "failed": 0, "started": _now()})

            def run() -> None:
                try:
                    self.seed_demo_catalog()
                except Exception:  # noqa: BLE001 - logged; the next start resumes
                    log.exception("seeding the demo catalog failed; the next start resumes it")

            self._seeder = threading.Thread(target=run, name="shopbot-seed", daemon=True)
            self._seeder.start()
            return self._seeder

    # -- documents -------------------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        return self.store.list_documents()

    def delete_document(self, doc_id: str) -> bool:
        """Delete a document; False if there was none. See :meth:`remove_document`."""
        return self.remove_document(doc_id).deleted

    def remove_document(self, doc_id: str) -> DeleteResult:
        """Delete a document, its chunks and its kept copy. Product records it had replaced
        in older files (same SKU) come back: those files are re-indexed from their copies;
        ``restored`` says which and how that went."""
        return self.ingestor.delete_document(doc_id)

    def is_empty(self) -> bool:
        """No committed document (chunks an interrupted ingest left are not content)."""
        return not list(self.store.known_ids())

    def stats(self) -> dict[str, Any]:
        docs = self.documents()
        return {
            "documents": len(docs),
            "products": sum(d.products for d in docs),
            "chunks": sum(d.chunks for d in docs),  # searchable: committed versions only
        }

    # -- search ----------------------------------------------------------------------------

    @property
    def retriever(self) -> Retriever:
        """The hybrid retriever over this store (built on first use, shared by copies)."""
        if self._retriever is None:
            from shopbot.retrieval import Retriever

            with self._retriever_lock:
                if self._retriever is None:
                    self._retriever = Retriever(self.store, self.embeddings)
        return self._retriever

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        remembered: Constraints | None = None,
        vector: Sequence[float] | None = None,
        asked: str | None = None,
        understanding: Understanding | None = None,
    ) -> Retrieval:
        """Products and passages for a shopper's question, with the filters read from it
        (price, brand, category, colour, size, stock; plus ``remembered`` ones); with
        ``understanding`` (shopbot.query), what it says the question asks."""
        return self.retriever.retrieve(
            question,
            k or self.settings.retrieval_k,
            remembered=remembered,
            vector=vector,
            asked=asked,
            understanding=understanding,
            list_limit=self.settings.list_limit,
        )

    def search(self, query: str, k: int = 5, where: dict[str, Any] | None = None) -> list[Source]:
        """The sources for ``query`` as a question (its filters applied); with ``where``, a
        plain search under that Chroma filter instead."""
        if where is not None:
            return self.retriever.search(query, k, where)
        return self.retrieve(query, k).sources

    # -- answers ---------------------------------------------------------------------------

    def assistant(self, generator: str | None = None) -> ShopAssistant:
        """The RAG chain over this catalog with the generator ``generator`` (default: the one
        the settings pick). Raises UnknownGenerator for a name that is not registered."""
        from shopbot.generators import create_generator

        backend = create_generator(self.settings, generator, embeddings=self.embeddings)
        return self.assistant_for(backend)

    def assistant_for(self, backend: Generator) -> ShopAssistant:
        """The RAG chain over this catalog with an already built generator."""
        from shopbot.chain import ShopAssistant

        return ShopAssistant(
            lambda q, remembered=None, asked=None, understanding=None: self.retrieve(
                q, remembered=remembered, asked=asked, understanding=understanding
            ),
            backend,
            understand=self._understander(backend),
        )

    def _understander(self, backend: Generator) -> Callable[..., Understanding]:
        """The chain's understand step: the offline reading (shopbot.query), and with
        SHOPBOT_LLM_PARSE=on and the openai generator, the model's reading checked against
        the same catalog snapshot and merged into it (shopbot.llm_parse)."""
        from shopbot.llm_parse import reader_for

        llm_reader = reader_for(self.settings, backend)

        def understand(question: str, history: Sequence[Any] = (),
                       remembered: Constraints | None = None) -> Understanding:
            if llm_reader is None:
                return self.retriever.understand(question, history, remembered)
            snap = self.retriever.index.snapshot()
            offline = snap.reader().understand(question, history, remembered)
            return llm_reader.refine(offline, history, snap)

        return understand
