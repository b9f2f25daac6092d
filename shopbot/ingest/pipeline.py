"""File -> chunks -> vectors -> Chroma, idempotently.

The order of writes is what keeps the store safe:

1. an unchanged file (same content hash, same parser version) is skipped before parsing;
2. a file is parsed completely before anything is written, so a bad file changes nothing;
3. new chunks are written under ids that include the new content hash, and only when all of
   them are stored are the previous version's chunks deleted, the product records it
   supersedes in other files deleted (see below) and the registry updated.

A crash between 3's steps leaves the old version searchable and the registry pointing at it
(for a moment a SKU may have two records, never none); ingesting the file again finishes the
job.

One record per SKU: a product record (a row of a CSV/XLSX/JSON table, ``kind`` "product")
replaces the records with the same SKU (``product_id``) that other files hold, so a price
update in ``price-update.xlsx`` retires the old price in ``products.csv``. The file whose
content was uploaded most recently wins, as a store clerk expects: every chunk carries the
``updated_at`` of its file's content (UTC, ISO 8601), and

- uploading new or changed content makes it the newest: its records replace all others;
- uploading an unchanged file again does nothing (step 1), and a re-index keeps a file's
  ``updated_at``, so neither brings back a price that a newer file replaced: the re-indexed
  file's records for SKUs a newer file holds are not stored again;
- deleting a file, or uploading a new version of it without some SKUs, restores the records
  it had replaced: the older files are read again from the copies kept at ingest
  (:meth:`Ingestor.original_path`) and their missing records embedded and stored. A file
  ingested by another replica (no copy here) cannot be restored that way: upload it again.

Passages (spec sheets, product pages, policies) are never replaced: they describe a product,
they are not its record. A document's registry entry counts what is searchable now and how
many of its records newer files replaced (:class:`~shopbot.store.DocumentRecord`).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopbot.ingest.documents import parse_document
from shopbot.ingest.errors import IngestError
from shopbot.ingest.files import (
    KIND_BY_SUFFIX,
    TABLE_KINDS,
    check_content,
    check_name,
    check_size,
    content_hash,
    document_id,
    kind_of,
)
from shopbot.ingest.tabular import (
    products_from_tables,
    read_csv,
    read_json,
    read_xlsx,
    read_xml,
)
from shopbot.store import DocumentRecord, version_of
from shopbot.writer_lock import LeaseLost, StoreBusy

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.settings import Settings
    from shopbot.store import CatalogStore

log = logging.getLogger(__name__)

# Bump when parsing changes what is stored, so unchanged files are indexed again once.
# 3: chunks carry updated_at; one product record per SKU across files.
# 4: a product with its variants (platform importers); the typed product as JSON.
# 5: stock in words (pages' "Availability", price lists' notes) and specs with units from
#    documents; a page's or spec sheet's passages carry its typed product.
PARSER_VERSION = 5
EMBED_BATCH = 256


@dataclass
class Chunk:
    key: str
    text: str
    metadata: dict[str, Any]


@dataclass
class IngestResult:
    source: str
    status: str  # added | updated | unchanged | failed
    doc_id: str = ""
    kind: str = ""
    products: int = 0
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0
    error: str = ""
    replaced: int = 0  # product records of other files that this file's records replaced
    notes: list[str] = field(default_factory=list)  # e.g. leftovers of a crash cleaned up

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeleteResult:
    doc_id: str
    deleted: bool
    source: str = ""
    # Files re-indexed to bring back the product records the deleted file had replaced.
    restored: list[IngestResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ProgressCallback = Callable[[int, int], None]


class Ingestor:
    """Turns files into stored chunks. Thread- and process-safe: files are parsed in
    parallel if callers like, and written one at a time under the store's writer lock."""

    def __init__(self, settings: Settings, store: CatalogStore, embeddings: Embeddings) -> None:
        self.settings = settings
        self.store = store
        self.embeddings = embeddings
        # Told when another process holds the store's writer lock (e.g. the CLI prints it).
        self.on_wait: Callable[[str], None] | None = None
        store.finish_commits = self.finish_commits

    # -- public ----------------------------------------------------------------------------

    def ingest_path(self, path: Path, source: str | None = None) -> IngestResult:
        source = source or path.name
        try:
            kind_of(source)
            check_size(path.stat().st_size, self.settings.max_file_bytes)
            data = path.read_bytes()
        except IngestError as exc:
            return IngestResult(source=source, status="failed", error=str(exc))
        except OSError as exc:
            return IngestResult(
                source=source, status="failed", error=f"Cannot read the file: {exc.strerror}."
            )
        return self.ingest_bytes(source, data)

    def ingest_bytes(
        self,
        source: str,
        data: bytes,
        on_chunks: ProgressCallback | None = None,
        *,
        force: bool = False,
        on_wait: Callable[[str], None] | None = None,
    ) -> IngestResult:
        """Ingest one file's content under the name ``source`` (its file name). ``force``
        parses and embeds it again even when it has not changed (re-index). ``on_wait`` is
        told when another process holds the store's writer lock (default: ``self.on_wait``)."""
        result, dropped_skus = self._ingest(
            source, data, on_chunks, force=force, on_wait=on_wait
        )
        if dropped_skus:
            # This version no longer holds SKUs whose older records it had replaced.
            self.restore_superseded(source)
        return result

    def _ingest(
        self,
        source: str,
        data: bytes,
        on_chunks: ProgressCallback | None,
        *,
        force: bool,
        only_missing: bool = False,
        on_wait: Callable[[str], None] | None = None,
    ) -> tuple[IngestResult, set[str]]:
        """The ingest itself, and the SKUs this file's previous version held that the new one
        does not (their older records elsewhere need restoring). ``only_missing`` (with
        ``force``) embeds only the chunks of this version that are not stored: restoring
        records another file had replaced need not rewrite the rest of the file."""
        started = time.perf_counter()
        doc_id = document_id(source)
        result = IngestResult(source=source, status="failed", doc_id=doc_id)
        dropped_skus: set[str] = set()
        try:
            result.kind = kind_of(source)
            check_name(source)
            check_size(len(data), self.settings.max_file_bytes)
            digest = content_hash(data)
            previous = self.store.get_document(doc_id)
            if not force and _unchanged(previous, digest):
                result.status = "unchanged"
                result.products, result.chunks = previous.products, previous.chunks
                return result, dropped_skus
            # Parsing needs no lock: a slow file does not hold up other writers.
            check_content(result.kind, data, self.settings)
            title, chunks, products = self._parse(result.kind, data, source, doc_id, digest)
            with self.store.writing(on_wait or self.on_wait) as recovered:
                result.notes.extend(recovered)
                previous = self.store.get_document(doc_id)  # another process may have written
                if not force and _unchanged(previous, digest):
                    result.status = "unchanged"
                    result.products, result.chunks = previous.products, previous.chunks
                    return result, dropped_skus
                version = version_of(digest, PARSER_VERSION)
                if only_missing and previous is not None:
                    version = previous.committed_version  # adding to the committed version
                elif previous is not None and previous.committed_version == version:
                    # A re-index of the same content: written beside the committed version
                    # and swapped in at commit, like any update.
                    version = f"{version}r{time.time_ns() % 10**12:012d}"
                moment = datetime.now(timezone.utc)
                now = moment.isoformat(timespec="microseconds")
                # A re-index keeps the time the content arrived: it decides which file's
                # record wins a SKU, and re-parsing is not news to the shop.
                updated_at = now
                if previous is not None and previous.content_hash == digest:
                    updated_at = previous.last_updated or now
                for chunk in chunks:
                    chunk.metadata["version"] = version
                    chunk.metadata["updated_at"] = updated_at
                keep, newer_holders, superseded = self._settle_skus(doc_id, chunks, updated_at)
                watched = previous is not None and any(
                    source in doc.superseded_counts() for doc in self.store.list_documents()
                )
                held_before = self.store.product_ids(doc_id) if watched else set()
                to_write = keep
                if only_missing:
                    stored = self.store.chunk_ids(doc_id, version)
                    to_write = [c for c in keep if f"{doc_id}:{version}:{c.key}" not in stored]
                # Invariant 3 (shopbot.store): the intent is journaled before any chunk of
                # this version exists, so a crash from here on is undone or finished.
                self.store.journal_begin(doc_id, "write", version, source)
                try:
                    result.embedded = self._store(
                        doc_id, version, to_write, on_chunks, only_these=only_missing
                    )
                except Exception:
                    self.store.journal_end(doc_id)  # _store removed what it wrote
                    raise
                kept_keys = {c.key for c in keep}
                not_kept = [c for c in chunks if c.key not in kept_keys]
                try:
                    self.store.check_writer()
                except LeaseLost:
                    if not only_missing:  # nobody else writes this version: ours to remove
                        self.store.delete_version(doc_id, version)
                    raise
                # The commit: one registry upsert makes this version the visible one.
                self.store.put_document(
                    DocumentRecord(
                        doc_id=doc_id,
                        source=source,
                        kind=result.kind,
                        content_hash=digest,
                        products=products - len(not_kept),
                        chunks=len(keep),
                        ingested_at=moment.isoformat(timespec="seconds"),
                        size_bytes=len(data),
                        title=title,
                        parser_version=PARSER_VERSION,
                        updated_at=updated_at,
                        superseded=len(not_kept),
                        superseded_by=_counts_json(newer_holders),
                        version=version,
                        flags=_flags_json(chunks),
                    )
                )
                # After the commit, what it replaced is garbage: invisible already (the old
                # version is not committed; a replaced record loses to the newer one), so a
                # failure here loses nothing and the journal entry has the next writer finish.
                try:
                    self.store.delete_chunks(doc_id, keep_version=version)
                    if not_kept:  # a re-index of an older file: its own stale records go
                        self.store.delete_ids([f"{doc_id}:{version}:{c.key}" for c in not_kept])
                    result.replaced = self._supersede(superseded, source)
                    self.store.journal_end(doc_id)
                except Exception as exc:  # noqa: BLE001 - committed: report, don't fail
                    log.exception("cleaning up after committing %s failed", source)
                    result.notes.append(
                        f"Committed, but removing what it replaced failed ({exc}); the next "
                        "ingest or delete finishes that."
                    )
                dropped_skus = held_before - _product_ids(keep)
            result.status = "updated" if previous is not None else "added"
            result.products, result.chunks = products - len(not_kept), len(keep)
            self._keep_original(source, data)
        except IngestError as exc:
            result.error = str(exc)
        except (StoreBusy, LeaseLost) as exc:
            result.error = str(exc)
        except Exception as exc:
            log.exception("ingesting %s failed", source)
            result.error = f"Unexpected error while ingesting ({type(exc).__name__}: {exc})."
        finally:
            result.seconds = round(time.perf_counter() - started, 3)
        log.info("ingest %s: %s %s", source, result.status, result.error)
        return result, dropped_skus if result.ok else set()

    def finish_commits(self, doc_ids: Sequence[str]) -> list[str]:
        """Recovery (called by the store under the writer lock) for documents whose version
        was committed by a writer that died before removing the older records of the same
        SKUs in other files: remove them now, with their documents' counts."""
        messages = []
        for doc_id in doc_ids:
            record = self.store.get_document(doc_id)
            if record is None:
                continue
            mine = _moment(record.last_updated)
            skus = self.store.product_ids(doc_id)
            older = [
                (chunk_id, meta)
                for chunk_id, meta in self.store.product_records(skus, exclude_doc=doc_id)
                if _moment(str(meta.get("updated_at") or "")) <= mine
            ]
            if older:
                self._supersede(older, record.source)
                messages.append(f"Retired {len(older)} product records that {record.source} "
                                "had replaced before the interruption.")
        return messages

    def delete_document(self, doc_id: str) -> DeleteResult:
        """Remove a document, its chunks and its kept copy, then restore the product records
        it had replaced in other files (re-indexing them from their kept copies)."""
        with self.store.writing(self.on_wait):
            record = self.store.get_document(doc_id)
            deleted = self.store.delete_document(doc_id)
        outcome = DeleteResult(doc_id=doc_id, deleted=deleted)
        if record is not None:
            outcome.source = record.source
            self.forget_original(record.source)
            outcome.restored = self.restore_superseded(record.source)
        return outcome

    def restore_superseded(self, by_source: str) -> list[IngestResult]:
        """Re-index, from their kept copies, the files whose product records ``by_source``
        replaced, so the records it no longer holds come back (those it still holds stay
        retired: it is newer)."""
        results = []
        for doc in self.store.list_documents():
            if doc.source == by_source or by_source not in doc.superseded_counts():
                continue
            original = self.original_path(doc.source)
            if original.is_file():
                result, _ = self._ingest(
                    doc.source, original.read_bytes(), None, force=True, only_missing=True
                )
            else:
                result = IngestResult(
                    source=doc.source,
                    status="failed",
                    doc_id=doc.doc_id,
                    kind=doc.kind,
                    error=f"Its products replaced by {by_source} cannot be restored: no copy "
                    "of this file is kept here (it was ingested by another replica or before "
                    "copies were kept). Upload it again.",
                )
            log.info("restore %s after %s changed: %s", doc.source, by_source, result.status)
            results.append(result)
        return results

    def ingest_paths(
        self,
        paths: Iterable[Path],
        on_file: Callable[[IngestResult, int, int], None] | None = None,
    ) -> list[IngestResult]:
        """Ingest files and folders (recursively: every supported, non-hidden file)."""
        files, results = expand_paths(paths)
        seen: dict[str, Path] = {}
        total = len(files) + len(results)
        for result in results:
            if on_file:
                on_file(result, len(results), total)
        for path in files:
            if path.name in seen:
                result = IngestResult(
                    source=path.name,
                    status="failed",
                    error=f"Another file in this batch has the same name ({seen[path.name]}); "
                    "documents are identified by file name, so rename one of them.",
                )
            else:
                seen[path.name] = path
                result = self.ingest_path(path)
            results.append(result)
            if on_file:
                on_file(result, len(results), total)
        return results

    # -- originals ---------------------------------------------------------------------------

    @property
    def originals_dir(self) -> Path:
        return self.settings.data_dir / "originals"

    def original_path(self, source: str) -> Path:
        return self.originals_dir / document_id(source) / Path(source).name

    def _keep_original(self, source: str, data: bytes) -> None:
        """A copy of what was ingested, so staff can re-index (e.g. after a parser upgrade)
        without uploading everything again. Written atomically."""
        target = self.original_path(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(data)
        partial.replace(target)

    def forget_original(self, source: str) -> None:
        target = self.original_path(source)
        target.unlink(missing_ok=True)
        try:
            target.parent.rmdir()
        except OSError:
            pass

    # -- steps -----------------------------------------------------------------------------

    def _parse(
        self, kind: str, data: bytes, source: str, doc_id: str, digest: str
    ) -> tuple[str, list[Chunk], int]:
        """(title, chunks, product count) for a file; raises IngestError on bad content."""
        base = {"doc_id": doc_id, "source": source, "content_hash": digest, "file_kind": kind}
        if kind in TABLE_KINDS:
            tables = {
                "csv": lambda: read_csv(data),
                "tsv": lambda: read_csv(data, delimiter="\t"),
                "xlsx": lambda: read_xlsx(data),
                "json": lambda: read_json(data, lines=False),
                "jsonl": lambda: read_json(data, lines=True),
                "xml": lambda: read_xml(data),
            }[kind]()
            chunks = [
                Chunk(
                    key=f"row{number:06d}",
                    text=product.to_text(),
                    metadata={**base, **product.to_metadata(), "kind": "product", "location": where},
                )
                for number, (product, where) in enumerate(
                    products_from_tables(tables, self.settings.default_currency, doc_id)
                )
            ]
            if not chunks:
                raise IngestError(
                    "The file has a header row but no product rows below it. Export the "
                    "products again, with at least one row of data."
                )
            return Path(source).stem, chunks, len(chunks)

        parsed = parse_document(
            kind,
            data,
            source,
            max_chars=self.settings.chunk_max_chars,
            min_chars=self.settings.chunk_min_chars,
            default_currency=self.settings.default_currency,
            settings=self.settings,
        )
        # A passage names its product and carries what its document states about it (price,
        # stock, specs with units) as the typed product: a product known only from its page
        # is that product, and the catalog index merges the document's facts into the
        # product's record (shopbot.source_facts). It is not the record: its kind stays
        # "passage", so no export replaces it and it never hides a product.
        product_meta = parsed.product.to_product().to_metadata() if parsed.product else {}
        for key in ("skus", "status", "visible"):
            product_meta.pop(key, None)
        chunks = []
        for number, passage in enumerate(parsed.passages):
            meta = {
                **base,
                **product_meta,
                "kind": "passage",
                "title": parsed.title,
                "doc_title": parsed.title,
                "section": passage.section,
            }
            if passage.page is not None:
                meta["page"] = int(passage.page)
            chunks.append(Chunk(key=f"p{number:05d}", text=passage.text, metadata=meta))
        return parsed.title, chunks, 1 if parsed.product else 0

    def _settle_skus(
        self, doc_id: str, chunks: list[Chunk], updated_at: str
    ) -> tuple[list[Chunk], dict[str, int], list[tuple[str, dict[str, Any]]]]:
        """Which chunks to store, given the product records other files hold for the same
        SKUs: (chunks to store, {newer file: how many of ours it keeps replacing}, the older
        records ours replace as (chunk id, metadata)). Ties go to the file being ingested."""
        skus = _product_ids(chunks)
        if not skus:
            return chunks, {}, []
        mine = _moment(updated_at)
        registry_times: dict[str, str] = {}

        def holder_time(meta: dict[str, Any]) -> datetime:
            if meta.get("updated_at"):
                return _moment(str(meta["updated_at"]))
            # Written before records carried a time: use its document's.
            holder = str(meta.get("doc_id", ""))
            if holder not in registry_times:
                record = self.store.get_document(holder)
                registry_times[holder] = record.last_updated if record else ""
            return _moment(registry_times[holder])

        newest: dict[str, tuple[datetime, str]] = {}  # SKU -> (time, source) of a newer file
        superseded: list[tuple[str, dict[str, Any]]] = []
        for chunk_id, meta in self.store.product_records(skus, exclude_doc=doc_id):
            when = holder_time(meta)
            sku = str(meta.get("product_id"))
            if when > mine:
                if sku not in newest or when > newest[sku][0]:
                    newest[sku] = (when, str(meta.get("source", "")))
            else:
                superseded.append((chunk_id, meta))
        if not newest:
            return chunks, {}, superseded
        keep, held_elsewhere = [], Counter()
        for chunk in chunks:
            sku = chunk.metadata.get("product_id")
            if chunk.metadata.get("kind") == "product" and sku in newest:
                held_elsewhere[newest[sku][1]] += 1
            else:
                keep.append(chunk)
        return keep, dict(held_elsewhere), superseded

    def _supersede(self, superseded: list[tuple[str, dict[str, Any]]], by_source: str) -> int:
        """Delete older records that the new ones replace (called only once the new ones are
        stored) and update their documents' counts."""
        if not superseded:
            return 0
        self.store.delete_ids([chunk_id for chunk_id, _ in superseded])
        for loser_id, count in Counter(str(m.get("doc_id")) for _, m in superseded).items():
            record = self.store.get_document(loser_id)
            if record is None:
                continue
            counts = record.superseded_counts()
            counts[by_source] = counts.get(by_source, 0) + count
            self.store.put_document(
                replace(
                    record,
                    products=max(0, record.products - count),
                    chunks=max(0, record.chunks - count),
                    superseded=record.superseded + count,
                    superseded_by=_counts_json(counts),
                )
            )
            log.info("%s: %d product records superseded by %s", record.source, count, by_source)
        return len(superseded)

    def _store(
        self,
        doc_id: str,
        version: str,
        chunks: Sequence[Chunk],
        on_chunks: ProgressCallback | None,
        *,
        only_these: bool = False,
    ) -> int:
        """Embed and write chunks in batches, writing one batch while the next is embedded.
        On any failure the chunks of this version are removed again; ``version`` differs from
        the stored version's (else the file was unchanged), so the old chunks stay. With
        ``only_these`` (adding the missing chunks of a stored version) only ``chunks`` are."""
        pending: Future[None] | None = None
        done = 0
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-write") as writer:
                for batch in _batches(chunks, EMBED_BATCH):
                    vectors = self.embeddings.embed_documents([c.text for c in batch])
                    if pending is not None:
                        pending.result()
                    pending = writer.submit(
                        self.store.add_chunks,
                        [f"{doc_id}:{version}:{c.key}" for c in batch],
                        [c.text for c in batch],
                        [c.metadata for c in batch],
                        vectors,
                    )
                    done += len(batch)
                    if on_chunks:
                        on_chunks(done, len(chunks))
                if pending is not None:
                    pending.result()
        except BaseException:
            if only_these:
                self.store.delete_ids([f"{doc_id}:{version}:{c.key}" for c in chunks])
            else:
                self.store.delete_version(doc_id, version)
            raise
        return done


def _unchanged(previous: DocumentRecord | None, digest: str) -> bool:
    return (
        previous is not None
        and previous.content_hash == digest
        and previous.parser_version == PARSER_VERSION
    )


def _flags_json(chunks: Sequence[Chunk]) -> str:
    """Instruction-like catalog text, for staff review (shopbot.safety)."""
    try:
        from shopbot.safety import instruction_flags
    except ImportError:  # not there yet
        return ""
    flags = instruction_flags(
        (str(c.metadata.get("location") or c.metadata.get("section") or c.key), c.text)
        for c in chunks
    )
    return json.dumps(flags) if flags else ""


def _moment(iso: str) -> datetime:
    """An ISO time as an aware datetime; the distant past for none (oldest loses)."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _product_ids(chunks: Iterable[Chunk]) -> set[str]:
    return {
        str(c.metadata["product_id"])
        for c in chunks
        if c.metadata.get("kind") == "product" and c.metadata.get("product_id")
    }


def _counts_json(counts: dict[str, int]) -> str:
    return json.dumps(counts, sort_keys=True) if counts else ""


def _batches(items: Sequence[Chunk], size: int) -> Iterator[Sequence[Chunk]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[IngestResult]]:
    """Files to ingest, plus failures for paths that do not exist. Folders contribute their
    supported files; a file named explicitly is always tried (and may fail as unsupported)."""
    files: list[Path] = []
    missing: list[IngestResult] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in KIND_BY_SUFFIX
                    and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(
                IngestResult(
                    source=str(path), status="failed", error="No such file or folder."
                )
            )
    return files, missing
