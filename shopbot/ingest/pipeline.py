"""File -> chunks -> vectors -> Chroma, idempotently.

The order of writes is what keeps the store safe:

1. an unchanged file (same content hash, same parser version) is skipped before parsing;
2. a file is parsed completely before anything is written, so a bad file changes nothing;
3. new chunks are written under ids that include the new content hash, and only when all of
   them are stored are the previous version's chunks deleted and the registry updated.

A crash between 3's steps leaves the old version searchable and the registry pointing at it;
ingesting the file again finishes the job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopbot.ingest.documents import parse_document
from shopbot.ingest.errors import IngestError
from shopbot.ingest.files import (
    KIND_BY_SUFFIX,
    TABLE_KINDS,
    check_content,
    check_size,
    content_hash,
    document_id,
    kind_of,
)
from shopbot.ingest.tabular import products_from_tables, read_csv, read_json, read_xlsx
from shopbot.store import DocumentRecord

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.settings import Settings
    from shopbot.store import CatalogStore

log = logging.getLogger(__name__)

# Bump when parsing changes what is stored, so unchanged files are indexed again once.
PARSER_VERSION = 2
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

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ProgressCallback = Callable[[int, int], None]


class Ingestor:
    """Turns files into stored chunks. Thread-safe: one file is written at a time."""

    def __init__(self, settings: Settings, store: CatalogStore, embeddings: Embeddings) -> None:
        self.settings = settings
        self.store = store
        self.embeddings = embeddings
        self._write_lock = threading.Lock()

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
    ) -> IngestResult:
        """Ingest one file's content under the name ``source`` (its file name). ``force``
        parses and embeds it again even when it has not changed (re-index)."""
        started = time.perf_counter()
        doc_id = document_id(source)
        result = IngestResult(source=source, status="failed", doc_id=doc_id)
        try:
            result.kind = kind_of(source)
            check_size(len(data), self.settings.max_file_bytes)
            digest = content_hash(data)
            with self._write_lock:
                previous = self.store.get_document(doc_id)
                if (
                    not force
                    and previous is not None
                    and previous.content_hash == digest
                    and previous.parser_version == PARSER_VERSION
                ):
                    result.status = "unchanged"
                    result.products, result.chunks = previous.products, previous.chunks
                    return result
                check_content(result.kind, data)
                version = f"{digest[:16]}p{PARSER_VERSION}"
                title, chunks, products = self._parse(result.kind, data, source, doc_id, digest)
                for chunk in chunks:
                    chunk.metadata["version"] = version
                result.embedded = self._store(doc_id, version, chunks, on_chunks)
                self.store.delete_chunks(doc_id, keep_version=version)
                self.store.put_document(
                    DocumentRecord(
                        doc_id=doc_id,
                        source=source,
                        kind=result.kind,
                        content_hash=digest,
                        products=products,
                        chunks=len(chunks),
                        ingested_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        size_bytes=len(data),
                        title=title,
                        parser_version=PARSER_VERSION,
                    )
                )
            result.status = "updated" if previous is not None else "added"
            result.products, result.chunks = products, len(chunks)
            self._keep_original(source, data)
        except IngestError as exc:
            result.error = str(exc)
        except Exception as exc:
            log.exception("ingesting %s failed", source)
            result.error = f"Unexpected error while ingesting ({type(exc).__name__}: {exc})."
        finally:
            result.seconds = round(time.perf_counter() - started, 3)
        log.info("ingest %s: %s %s", source, result.status, result.error)
        return result

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
            }[kind]()
            chunks = [
                Chunk(
                    key=f"row{number:06d}",
                    text=record.to_text(),
                    metadata={**base, **record.to_metadata(), "kind": "product", "location": where},
                )
                for number, (record, where) in enumerate(
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
        )
        product_meta = parsed.product.to_metadata() if parsed.product else {}
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

    def _store(
        self,
        doc_id: str,
        version: str,
        chunks: Sequence[Chunk],
        on_chunks: ProgressCallback | None,
    ) -> int:
        """Embed and write chunks in batches, writing one batch while the next is embedded.
        On any failure the chunks of this version are removed again; ``version`` differs from
        the stored version's (else the file was unchanged), so the old chunks stay."""
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
            self.store.delete_version(doc_id, version)
            raise
        return done


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
