"""Chroma: where chunks and the record of indexed documents live.

Two collections: ``<name>`` holds one entry per product record or document passage (its
embedding, text and metadata); ``<name>_documents`` holds one entry per ingested file (its
content hash, counts and time), so the record of what is indexed lives wherever the vectors
live: on disk for the embedded store, on the server for ``chroma run``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from shopbot.settings import Settings

log = logging.getLogger(__name__)

# The registry needs no similarity search; Chroma still wants a vector per entry.
_REGISTRY_VECTOR = [1.0]


class StoreError(RuntimeError):
    """The vector store cannot be reached or does not match the settings."""


@dataclass(frozen=True)
class DocumentRecord:
    """What the store knows about one ingested file.

    ``products`` and ``chunks`` count what is searchable now: a product record replaced by a
    newer file's record for the same SKU no longer counts here but in ``superseded``, and
    ``superseded_by`` says which files replaced how many ({source: count}, as JSON, since
    Chroma metadata holds only scalars). ``ingested_at`` is when the file was last parsed
    (a re-index changes it); ``updated_at`` is when its current content arrived (it does not),
    and it decides which file's record wins for a SKU.
    """

    doc_id: str
    source: str
    kind: str
    content_hash: str
    products: int
    chunks: int
    ingested_at: str
    size_bytes: int
    title: str = ""
    parser_version: int = 0
    updated_at: str = ""
    superseded: int = 0
    superseded_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def last_updated(self) -> str:
        """``updated_at``, or ``ingested_at`` for records written before it existed."""
        return self.updated_at or self.ingested_at

    def superseded_counts(self) -> dict[str, int]:
        """{source of the newer file: how many of this file's product records it replaced}."""
        if not self.superseded_by:
            return {}
        try:
            counts = json.loads(self.superseded_by)
        except ValueError:
            return {}
        return {str(k): int(v) for k, v in counts.items()} if isinstance(counts, dict) else {}

    def superseded_note(self) -> str:
        """For staff: "3 products superseded by price-update.xlsx", or ""."""
        counts = self.superseded_counts()
        if not counts:
            return ""
        parts = [
            f"{n} product{'s' if n != 1 else ''} superseded by {source}"
            for source, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
        return "; ".join(parts)


def format_time(iso: str) -> str:
    """"2026-11-22T21:47:30.123456+00:00" -> "2026-11-22 21:47:30 UTC" (for people)."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def open_client(settings: Settings) -> ClientAPI:
    """Embedded PersistentClient under the data dir, or HttpClient when a host is set."""
    # Chroma's product telemetry would try to reach the internet on every start.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.uses_chroma_server:
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:  # chromadb raises several unrelated types here
            scheme = "https" if settings.chroma_ssl else "http"
            raise StoreError(
                f"Cannot reach the Chroma server at {scheme}://{settings.chroma_host}:"
                f"{settings.chroma_port} ({exc}). Start one with `chroma run --path DIR "
                f"--host {settings.chroma_host} --port {settings.chroma_port}`, or unset "
                "SHOPBOT_CHROMA_HOST to use the embedded store."
            ) from exc
        return client
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


class CatalogStore:
    """Chunk collection plus document registry, on any Chroma client."""

    def __init__(self, client: ClientAPI, collection: str, embedding_model: str) -> None:
        self.client = client
        self.embedding_model = embedding_model
        self.chunks: Collection = client.get_or_create_collection(
            collection,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": embedding_model},
        )
        built_with = (self.chunks.metadata or {}).get("embedding_model")
        if built_with and built_with != embedding_model:
            raise StoreError(
                f"The collection {collection!r} was built with the embedding model "
                f"{built_with!r}, but SHOPBOT_EMBEDDING_MODEL is {embedding_model!r}. Vectors "
                "from different models cannot be searched together: set "
                "SHOPBOT_CHROMA_COLLECTION to a new name and ingest again, or switch the "
                "model back."
            )
        self.registry: Collection = client.get_or_create_collection(
            f"{collection}_documents", embedding_function=None
        )
        self._max_batch = max(1, int(client.get_max_batch_size()))


    # -- chunks ------------------------------------------------------------------------

    def add_chunks(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self.chunks.upsert(
                ids=list(ids[start:end]),
                documents=list(texts[start:end]),
                metadatas=list(metadatas[start:end]),
                embeddings=[list(v) for v in vectors[start:end]],
            )

    def delete_chunks(self, doc_id: str, keep_version: str | None = None) -> None:
        """Remove the chunks of a document, except those of the version ``keep_version``."""
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_version is not None:
            where = {"$and": [{"doc_id": doc_id}, {"version": {"$ne": keep_version}}]}
        self.chunks.delete(where=where)

    def delete_version(self, doc_id: str, version: str) -> None:
        """Remove the chunks of one version of a document (a failed, partial write)."""
        self.chunks.delete(where={"$and": [{"doc_id": doc_id}, {"version": version}]})

    def delete_ids(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), self._max_batch):
            self.chunks.delete(ids=list(ids[start : start + self._max_batch]))

    def product_records(
        self, product_ids: Iterable[str], exclude_doc: str | None = None, batch: int = 500
    ) -> list[tuple[str, dict[str, Any]]]:
        """Product-record chunks (kind "product", not passages) whose SKU is one of
        ``product_ids``, from every document but ``exclude_doc``, as (id, metadata)."""
        wanted = sorted(set(product_ids))
        found: list[tuple[str, dict[str, Any]]] = []
        for start in range(0, len(wanted), batch):
            conditions: list[dict[str, Any]] = [
                {"kind": "product"},
                {"product_id": {"$in": wanted[start : start + batch]}},
            ]
            if exclude_doc is not None:
                conditions.append({"doc_id": {"$ne": exclude_doc}})
            page = self.chunks.get(where={"$and": conditions}, include=["metadatas"])
            found.extend(zip(page["ids"], page["metadatas"]))
        return found

    def chunk_ids(self, doc_id: str, version: str) -> set[str]:
        """The ids of the stored chunks of one version of a document."""
        where = {"$and": [{"doc_id": doc_id}, {"version": version}]}
        return set(self.chunks.get(where=where, include=[])["ids"])

    def product_ids(self, doc_id: str) -> set[str]:
        """The SKUs of a document's searchable product records."""
        return {
            str(meta.get("product_id"))
            for _, _, meta in self.iter_chunks(
                where={"$and": [{"doc_id": doc_id}, {"kind": "product"}]}, batch=5000
            )
        }

    def count_chunks(self, doc_id: str | None = None) -> int:
        if doc_id is None:
            return self.chunks.count()
        return len(self.chunks.get(where={"doc_id": doc_id}, include=[])["ids"])

    def iter_chunks(
        self, where: dict[str, Any] | None = None, batch: int = 500
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every stored chunk as (id, text, metadata), page by page (e.g. to build a
        fine-tuning set from the whole catalog)."""
        offset = 0
        while True:
            page = self.chunks.get(
                where=where or None,
                limit=batch,
                offset=offset,
                include=["documents", "metadatas"],
            )
            yield from zip(page["ids"], page["documents"], page["metadatas"])
            if len(page["ids"]) < batch:
                return
            offset += batch

    def get_chunks(
        self, where: dict[str, Any], limit: int | None = None
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """Chunks whose metadata match ``where`` (no similarity), as (id, text, metadata)."""
        found = self.chunks.get(where=where, limit=limit, include=["documents", "metadatas"])
        return list(zip(found["ids"], found["documents"], found["metadatas"]))

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embeddings of the chunks ``ids`` (those that exist)."""
        if not ids:
            return {}
        found = self.chunks.get(ids=list(ids), include=["embeddings"])
        return {chunk_id: list(v) for chunk_id, v in zip(found["ids"], found["embeddings"])}

    def query(
        self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, str, dict[str, Any], float]]:
        """Nearest chunks as (id, text, metadata, cosine distance), best first."""
        if k <= 0 or self.chunks.count() == 0:
            return []
        result = self.chunks.query(
            query_embeddings=[list(vector)],
            n_results=k,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return list(
            zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                result["distances"][0],
            )
        )

    # -- registry ----------------------------------------------------------------------

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        found = self.registry.get(ids=[doc_id], include=["metadatas"])
        if not found["ids"]:
            return None
        return DocumentRecord(doc_id=doc_id, **found["metadatas"][0])

    def put_document(self, record: DocumentRecord) -> None:
        meta = record.to_dict()
        meta.pop("doc_id")
        self.registry.upsert(
            ids=[record.doc_id],
            metadatas=[meta],
            documents=[record.source],
            embeddings=[_REGISTRY_VECTOR],
        )

    def list_documents(self) -> list[DocumentRecord]:
        found = self.registry.get(include=["metadatas"])
        records = [
            DocumentRecord(doc_id=doc_id, **meta)
            for doc_id, meta in zip(found["ids"], found["metadatas"])
        ]
        return sorted(records, key=lambda r: r.source.lower())

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document's chunks, then its registry entry. False if it was not there."""
        known = self.get_document(doc_id) is not None
        self.delete_chunks(doc_id)
        if known:
            self.registry.delete(ids=[doc_id])
        return known

    def known_ids(self) -> Iterable[str]:
        return self.registry.get(include=[])["ids"]
