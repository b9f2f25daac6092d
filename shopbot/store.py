"""Chroma: where chunks and the record of indexed documents live.

Three collections: ``<name>`` holds one entry per product record or document passage (its
embedding, text and metadata); ``<name>_documents`` (the registry) holds one entry per
ingested file (its committed version, content hash, counts and time); ``<name>_meta`` holds
the writer lease (server stores, see :mod:`shopbot.writer_lock`), the write journal and the
seeding state. So everything lives wherever the vectors live: on disk for the embedded
store, on the server for ``chroma run``.

Invariants (what keeps a crash at any instant from losing anything committed or showing
anything uncommitted):

1. **One writer.** Every write happens inside :meth:`CatalogStore.writing`, which holds the
   store's writer lock (across processes and replicas) for its whole duration.
2. **A version is visible only once committed.** Every chunk carries its document's
   ``doc_id`` and ``version``; the registry entry of a document names its one committed
   ``version``. Readers (:meth:`iter_chunks`, :meth:`get_chunks`, :meth:`query`, the
   catalog index) return only chunks whose version is their document's committed one. A
   registry entry is one Chroma record, so committing (upserting it) is atomic: before it,
   shoppers see the old version whole; after it, the new one whole.
3. **Write-ahead journal.** Before a writer touches a document's chunks it records its
   intent (``journal:<doc_id>``: the version it writes, or a delete) in the meta collection;
   it removes the entry when done. The next writer (at lock acquisition) finishes or undoes
   whatever a dead writer's entry names, and says so in the log.
4. **Delete = uncommit first.** Deleting a document removes its registry entry (invisible
   at once) before its chunks (garbage from then on).
5. **Readers in other processes stay fresh.** An embedded Chroma client keeps its vector
   index in memory, and another process's writes leave it stale. :meth:`ensure_fresh`
   reopens the client when the registry shows a commit this process did not make.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from shopbot.settings import Settings
    from shopbot.writer_lock import WriterLock

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
    version: str = ""
    flags: str = ""  # JSON list of instruction-like snippets for staff review

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def committed_version(self) -> str:
        """The version of this document's chunks that readers see (records written before
        the field existed: derived the same way the ingest derives it)."""
        return self.version or version_of(self.content_hash, self.parser_version)

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


def version_of(content_hash: str, parser_version: int) -> str:
    """A document version's name, as its chunks carry it."""
    return f"{content_hash[:16]}p{parser_version}"


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
    # Opening creates or migrates the SQLite schema; two processes doing it at once fail
    # ("table collections already exists"). A short lock of its own (not the writer lock,
    # which an ingest holds for minutes) lets one open at a time.
    from filelock import FileLock

    with FileLock(str(settings.chroma_path / "open.lock")):
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


class CatalogStore:
    """Chunk collection, document registry and meta collection, on any Chroma client.

    ``reopen`` (embedded stores) builds a fresh client on the same path: see
    :meth:`ensure_fresh`. ``lock`` serialises writers across processes (default: an
    in-process lock only, for tests that build a store by hand).
    """

    def __init__(
        self,
        client: ClientAPI,
        collection: str,
        embedding_model: str,
        *,
        lock: WriterLock | None = None,
        reopen: Callable[[], ClientAPI] | None = None,
        writer_wait_seconds: float = 600.0,
    ) -> None:
        self.name = collection
        self.embedding_model = embedding_model
        self.writer_wait_seconds = writer_wait_seconds
        self._reopen = reopen
        self._open(client)
        self._max_batch = max(1, int(client.get_max_batch_size()))
        if lock is None:
            from shopbot.writer_lock import ProcessOnlyLock

            lock = ProcessOnlyLock()
        self.lock = lock
        self._local = threading.RLock()  # this process's writers, and refresh vs writes
        self._depth = 0
        self._swept = False
        # Set by the ingestor: finishes the cross-file work of versions committed by a
        # writer that died right after its commit (given their doc ids; returns messages).
        self.finish_commits: Callable[[list[str]], list[str]] | None = None
        # The registry signature this process's client is known to reflect.
        self._seen = self.registry_signature()

    @classmethod
    def open(cls, settings: Settings) -> CatalogStore:
        """The store the settings name, with the writer lock that fits it."""
        from shopbot.writer_lock import FileWriterLock, LeaseWriterLock

        if settings.uses_chroma_server:
            client = open_client(settings)
            store = cls(
                client,
                settings.chroma_collection,
                settings.embedding_model,
                writer_wait_seconds=settings.writer_wait_seconds,
            )
            store.lock = LeaseWriterLock(store.meta, settings.writer_lease_seconds)
            return store
        # A client made earlier in this process for the same path may hold a stale vector
        # index (Chroma caches one per path): start from what is on disk now.
        client = _reopen_embedded(settings)
        return cls(
            client,
            settings.chroma_collection,
            settings.embedding_model,
            lock=FileWriterLock(Path(settings.chroma_path)),
            reopen=lambda: _reopen_embedded(settings),
            writer_wait_seconds=settings.writer_wait_seconds,
        )

    def _open(self, client: ClientAPI) -> None:
        self.client = client
        chunks = client.get_or_create_collection(
            self.name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": self.embedding_model},
        )
        built_with = (chunks.metadata or {}).get("embedding_model")
        if built_with and built_with != self.embedding_model:
            raise StoreError(
                f"The collection {self.name!r} was built with the embedding model "
                f"{built_with!r}, but SHOPBOT_EMBEDDING_MODEL is {self.embedding_model!r}. "
                "Vectors from different models cannot be searched together: set "
                "SHOPBOT_CHROMA_COLLECTION to a new name and ingest again, or switch the "
                "model back."
            )
        self.registry: Collection = client.get_or_create_collection(
            f"{self.name}_documents", embedding_function=None
        )
        self.meta: Collection = client.get_or_create_collection(
            f"{self.name}_meta", embedding_function=None
        )
        self.chunks: Collection = chunks

    # -- freshness ---------------------------------------------------------------------

    def registry_state(self) -> tuple[tuple[Any, ...], dict[str, str]]:
        """(signature, committed versions) from one read of the registry. The signature
        changes with every commit by any process; see :meth:`committed_versions`."""
        docs = self.registry.get(include=["metadatas"])
        signature = tuple(
            sorted(
                (doc_id, str(meta.get("version") or ""), str(meta.get("content_hash", "")),
                 str(meta.get("ingested_at", "")), str(meta.get("updated_at", "")),
                 int(meta.get("products", 0) or 0), int(meta.get("chunks", 0) or 0))
                for doc_id, meta in zip(docs["ids"], docs["metadatas"])
            )
        )
        committed = {
            doc_id: DocumentRecord(doc_id=doc_id, **meta).committed_version
            for doc_id, meta in zip(docs["ids"], docs["metadatas"])
        }
        return signature, committed

    def registry_signature(self) -> tuple[Any, ...]:
        return self.registry_state()[0]

    def ensure_fresh(self, signature: tuple[Any, ...] | None = None) -> bool:
        """Reopen an embedded client whose in-memory vector index may be stale: when the
        registry (``signature``, read now if not given) shows commits this process's client
        has not seen. Never while this process writes (then every commit is its own). True
        when it reopened."""
        if self._reopen is None:
            return False
        if signature is None:
            signature = self.registry_signature()
        if signature == self._seen:
            return False
        if not self._local.acquire(blocking=False):
            return False  # this process is writing: the change is its own
        try:
            if self._depth:
                return False
            signature = self.registry_signature()
            if signature == self._seen:
                return False
            log.info("the store changed in another process: reopening the Chroma client")
            self._open(self._reopen())
            self._seen = self.registry_signature()
            return True
        finally:
            self._local.release()

    # -- writing -----------------------------------------------------------------------

    def recover_if_needed(self) -> list[str]:
        """At start: if a dead writer left work in the journal, take the writer lock (only if
        it is free right now: a live writer recovers it anyway) and finish or undo it; the
        messages say what was done ([] when nothing was)."""
        if not self.journal():
            return []
        from shopbot.writer_lock import StoreBusy

        try:
            with self.writing(wait_seconds=0) as messages:
                return messages
        except StoreBusy:
            return []

    @contextmanager
    def writing(
        self, on_wait: Callable[[str], None] | None = None, wait_seconds: float | None = None
    ) -> Iterator[list[str]]:
        """Hold the writer lock (re-entrant within a thread). The outermost holder first
        catches up with other processes' commits and recovers what a dead writer left
        (:meth:`recover`); it yields the list of recovery messages (empty when nested)."""
        with self._local:
            if self._depth:
                self._depth += 1
                try:
                    yield []
                finally:
                    self._depth -= 1
                return
            self.lock.acquire(
                self.writer_wait_seconds if wait_seconds is None else wait_seconds, on_wait
            )
            self._depth = 1
            try:
                signature = self.registry_signature()
                if self._reopen is not None and signature != self._seen:
                    self._open(self._reopen())
                messages = self.recover()
                yield messages
            finally:
                self._depth = 0
                try:
                    self._seen = self.registry_signature()
                finally:
                    self.lock.release()

    def check_writer(self) -> None:
        """Raise if this process lost the writer lock (call before committing)."""
        self.lock.check()

    def journal_begin(self, doc_id: str, action: str, version: str = "", source: str = "") -> None:
        """Record the intent to write ``version`` of a document (``action`` "write") or to
        delete it ("delete"), before touching its chunks."""
        self.meta.upsert(
            ids=[f"journal:{doc_id}"],
            metadatas=[{"doc_id": doc_id, "action": action, "version": version,
                        "source": source, "started": time.time(), "pid": os.getpid()}],
            embeddings=[_REGISTRY_VECTOR],
        )

    def journal_end(self, doc_id: str) -> None:
        self.meta.delete(ids=[f"journal:{doc_id}"])

    def journal(self) -> list[dict[str, Any]]:
        found = self.meta.get(where={"action": {"$in": ["write", "delete"]}},
                              include=["metadatas"])
        return [dict(m) for m in found["metadatas"]]

    def recover(self) -> list[str]:
        """Finish or undo what dead writers left (under the writer lock): per journal entry,
        a committed version loses its predecessors' chunks, an uncommitted one is removed, a
        begun delete is completed. Once per process, also sweep for chunks of no committed
        version that no journal names (stores written before the journal existed)."""
        messages = []
        committed = self.committed_versions()
        for entry in self.journal():
            doc_id, version = str(entry["doc_id"]), str(entry.get("version") or "")
            source = entry.get("source") or doc_id
            if entry["action"] == "delete":
                self.registry.delete(ids=[doc_id])
                removed = self._delete_where({"doc_id": doc_id})
                messages.append(f"Finished deleting {source} (interrupted): {removed} chunks "
                                "removed.")
            elif committed.get(doc_id) == version:
                removed = self._delete_where(
                    {"$and": [{"doc_id": doc_id}, {"version": {"$ne": version}}]}
                )
                messages.append(f"Finished the interrupted update of {source}: its new version "
                                f"was committed; {removed} chunks of the old one removed.")
                if self.finish_commits is not None:
                    messages.extend(self.finish_commits([doc_id]))
            else:
                removed = self._delete_where(
                    {"$and": [{"doc_id": doc_id}, {"version": version}]}
                )
                kept = "the committed version stays" if doc_id in committed else "nothing was committed"
                if removed:
                    messages.append(f"Rolled back an interrupted ingest of {source}: {removed} "
                                    f"uncommitted chunks removed ({kept}).")
                else:
                    messages.append(f"An ingest of {source} was interrupted before it stored "
                                    f"anything ({kept}).")
            self.journal_end(doc_id)
        if not self._swept:
            self._swept = True
            committed = self.committed_versions()
            orphans = self._delete_where({"doc_id": {"$nin": sorted(committed)}}) if committed \
                else self._delete_where(None)
            for doc_id, version in committed.items():
                orphans += self._delete_where(
                    {"$and": [{"doc_id": doc_id}, {"version": {"$ne": version}}]}
                )
            if orphans:
                messages.append(f"Removed {orphans} leftover chunks that belonged to no "
                                "committed document version.")
        for message in messages:
            log.warning("store recovery: %s", message)
        return messages

    def _delete_where(self, where: dict[str, Any] | None) -> int:
        """Delete the chunks ``where`` matches (all when None); how many."""
        ids = self.chunks.get(where=where, include=[])["ids"]
        self.delete_ids(ids)
        return len(ids)

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

    def committed_versions(self) -> dict[str, str]:
        """{doc_id: its committed version}: the only chunks readers may see."""
        return self.registry_state()[1]

    @staticmethod
    def is_visible(meta: dict[str, Any] | None, committed: dict[str, str]) -> bool:
        meta = meta or {}
        return committed.get(str(meta.get("doc_id"))) == meta.get("version")

    def product_records(
        self, product_ids: Iterable[str], exclude_doc: str | None = None, batch: int = 500
    ) -> list[tuple[str, dict[str, Any]]]:
        """Committed product-record chunks (kind "product", not passages) whose SKU is one of
        ``product_ids``, from every document but ``exclude_doc``, as (id, metadata)."""
        wanted = sorted(set(product_ids))
        committed = self.committed_versions()
        found: list[tuple[str, dict[str, Any]]] = []
        for start in range(0, len(wanted), batch):
            conditions: list[dict[str, Any]] = [
                {"kind": "product"},
                {"product_id": {"$in": wanted[start : start + batch]}},
            ]
            if exclude_doc is not None:
                conditions.append({"doc_id": {"$ne": exclude_doc}})
            page = self.chunks.get(where={"$and": conditions}, include=["metadatas"])
            found.extend(
                (cid, meta) for cid, meta in zip(page["ids"], page["metadatas"])
                if self.is_visible(meta, committed)
            )
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
        """Stored chunks (of every version: uncommitted ones included)."""
        if doc_id is None:
            return self.chunks.count()
        return len(self.chunks.get(where={"doc_id": doc_id}, include=[])["ids"])

    def iter_chunks(
        self,
        where: dict[str, Any] | None = None,
        batch: int = 500,
        committed: dict[str, str] | None = None,
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every visible chunk (of a committed version; ``committed``: the map to judge by,
        read now if not given) as (id, text, metadata), page by page."""
        if committed is None:
            committed = self.committed_versions()
        offset = 0
        while True:
            page = self.chunks.get(
                where=where or None,
                limit=batch,
                offset=offset,
                include=["documents", "metadatas"],
            )
            for item in zip(page["ids"], page["documents"], page["metadatas"]):
                if self.is_visible(item[2], committed):
                    yield item
            if len(page["ids"]) < batch:
                return
            offset += batch

    def get_chunks(
        self, where: dict[str, Any], limit: int | None = None
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """Visible chunks whose metadata match ``where`` (no similarity), as (id, text,
        metadata)."""
        committed = self.committed_versions()
        found = self.chunks.get(where=where, include=["documents", "metadatas"])
        rows = [
            item for item in zip(found["ids"], found["documents"], found["metadatas"])
            if self.is_visible(item[2], committed)
        ]
        return rows[:limit] if limit is not None else rows

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embeddings of the chunks ``ids`` (those that exist)."""
        if not ids:
            return {}
        found = self.chunks.get(ids=list(ids), include=["embeddings"])
        return {chunk_id: list(v) for chunk_id, v in zip(found["ids"], found["embeddings"])}

    def query(
        self,
        vector: Sequence[float],
        k: int,
        where: dict[str, Any] | None = None,
        visible: Callable[[str, dict[str, Any]], bool] | None = None,
    ) -> list[tuple[str, str, dict[str, Any], float]]:
        """Nearest visible chunks as (id, text, metadata, cosine distance), best first.
        ``visible(id, metadata)`` decides what counts (default: of a committed version).
        Uncommitted chunks (an ingest in progress) are skipped by asking for more."""
        total = self.chunks.count()
        if k <= 0 or total == 0:
            return []
        if visible is None:
            committed = self.committed_versions()
            visible = lambda _id, meta: self.is_visible(meta, committed)  # noqa: E731
        n = k
        while True:
            result = self.chunks.query(
                query_embeddings=[list(vector)],
                n_results=min(n, total),
                where=where or None,
                include=["documents", "metadatas", "distances"],
            )
            rows = list(zip(result["ids"][0], result["documents"][0],
                            result["metadatas"][0], result["distances"][0]))
            shown = [row for row in rows if visible(row[0], row[2])]
            if len(shown) >= k or len(rows) < min(n, total) or n >= total:
                return shown[:k]
            n *= 4

    # -- registry ----------------------------------------------------------------------

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        found = self.registry.get(ids=[doc_id], include=["metadatas"])
        if not found["ids"]:
            return None
        return DocumentRecord(doc_id=doc_id, **found["metadatas"][0])

    def put_document(self, record: DocumentRecord) -> None:
        """Commit: the registry entry names the version readers see (one atomic upsert)."""
        meta = record.to_dict()
        meta.pop("doc_id")
        meta["version"] = record.committed_version
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
        """Uncommit a document (registry entry first: invisible at once), then remove its
        chunks; journaled, so a crash in between is finished by the next writer. False if it
        was not there."""
        with self.writing():
            record = self.get_document(doc_id)
            self.journal_begin(doc_id, "delete", source=record.source if record else "")
            if record is not None:
                self.registry.delete(ids=[doc_id])
            self.delete_chunks(doc_id)
            self.journal_end(doc_id)
        return record is not None

    def known_ids(self) -> Iterable[str]:
        return self.registry.get(include=[])["ids"]

    # -- small shared state ------------------------------------------------------------

    def get_state(self, key: str) -> dict[str, Any] | None:
        """A small record kept with the store for every process (e.g. the seeding state)."""
        found = self.meta.get(ids=[f"state:{key}"], include=["metadatas"])
        return dict(found["metadatas"][0]) if found["ids"] else None

    def put_state(self, key: str, value: dict[str, Any]) -> None:
        self.meta.upsert(
            ids=[f"state:{key}"], metadatas=[{**value, "key": key}], embeddings=[_REGISTRY_VECTOR]
        )


def _reopen_embedded(settings: Settings) -> ClientAPI:
    """A new embedded client on the same path, reading the store from disk again. Chroma
    caches one system per path in the process: dropping this path's entry makes the next
    client load the vector index afresh, while collections got from older clients keep
    working on their own copy, and clients of other paths are untouched."""
    from chromadb.api.shared_system_client import SharedSystemClient

    path = str(settings.chroma_path)
    systems = SharedSystemClient._identifier_to_system
    if path in systems:
        systems.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)
    return open_client(settings)
