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
    from shopbot.ingest import DeleteResult, IngestResult
    from shopbot.constraints import Constraints
    from shopbot.retrieval import Retrieval, Retriever, Source
    from shopbot.store import CatalogStore, DocumentRecord

log = logging.getLogger(__name__)


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
        self._retriever: Retriever | None = None
        self._retriever_lock = threading.Lock()

    def with_settings(self, overrides: dict[str, Any]) -> CatalogService:
        """The same catalog (store, embedding model) with some settings changed, e.g. another
        generator for one session. Cheap: nothing is reloaded."""
        if not overrides:
            return self
        settings = self.settings.model_copy(update=overrides)
        copy = CatalogService(settings, embeddings=self.embeddings, store=self.store)
        copy._retriever = self.retriever
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

    def reindex_all(
        self, on_file: Callable[[IngestResult, int, int], None] | None = None
    ) -> list[IngestResult]:
        """Parse and embed every document again from the copy kept at ingest time."""
        from shopbot.ingest import IngestResult

        documents = self.documents()
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
        """Ingest the demo catalog when the store holds nothing yet; [] otherwise."""
        if not self.settings.seed_demo_catalog or not self.is_empty():
            return []
        folder = self.settings.catalog_dir
        if not folder.is_dir():
            log.warning("demo catalog folder %s not found; starting empty", folder)
            return []
        log.info("store is empty: ingesting the demo catalog from %s", folder)
        return self.ingest([folder], on_file=on_file)

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
        return self.store.count_chunks() == 0 and not self.store.list_documents()

    def stats(self) -> dict[str, Any]:
        docs = self.documents()
        return {
            "documents": len(docs),
            "products": sum(d.products for d in docs),
            "chunks": self.store.count_chunks(),
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
    ) -> Retrieval:
        """Products and passages for a shopper's question, with the filters read from it
        (price, brand, category, colour, size, stock; plus ``remembered`` ones)."""
        return self.retriever.retrieve(
            question,
            k or self.settings.retrieval_k,
            remembered=remembered,
            vector=vector,
            asked=asked,
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
        from shopbot.chain import ShopAssistant
        from shopbot.generators import create_generator

        backend = create_generator(self.settings, generator, embeddings=self.embeddings)
        return ShopAssistant(
            lambda q, remembered=None, asked=None: self.retrieve(
                q, remembered=remembered, asked=asked
            ),
            backend,
        )
