"""Ingestion into real Chroma, embedded and server: idempotency, replacement, deletion,
restarts and bad input. Every test runs against both stores (see `store_settings`)."""

from __future__ import annotations

import io
import zipfile

from docx import Document

from shopbot.service import CatalogService

PRODUCTS_CSV = (
    "SKU,Title,Price,Brand,Category,Description\n"
    'TNT-1,Alpine 2 Tent,$349.00,Ridgeline,Camping | Tents,"Two-person tent, 3000 mm fly"\n'
    "BAG-1,Glacier -10 Sleeping Bag,$289.00,Ridgeline,Camping | Sleeping Bags,Down bag rated to -10 C\n"
    "STV-1,Trail Stove,$59.00,Emberline,Camp Kitchen,Boils a litre in three minutes\n"
)


class CountingEmbeddings:
    """The real model, counting how many texts it was asked to embed."""

    def __init__(self, inner, fail_after_calls: int | None = None):
        self.inner = inner
        self.texts = 0
        self.calls = 0
        self.fail_after_calls = fail_after_calls

    def embed_documents(self, texts):
        self.calls += 1
        if self.fail_after_calls is not None and self.calls > self.fail_after_calls:
            raise RuntimeError("simulated crash while embedding")
        self.texts += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def snapshot(service: CatalogService):
    """Everything a user could notice about the store's contents."""
    chunks = service.store.chunks.get(include=["documents", "metadatas"])
    return (
        sorted(zip(chunks["ids"], chunks["documents"])),
        [d.to_dict() for d in service.documents()],
    )


def top(service, query):
    hits = service.search(query, k=1)
    return hits[0] if hits else None


def test_added_then_unchanged_does_no_embedding_work(store_settings, embeddings, tmp_path):
    counting = CountingEmbeddings(embeddings)
    service = CatalogService(store_settings, embeddings=counting)
    path = write(tmp_path / "in" / "products.csv", PRODUCTS_CSV)

    (first,) = service.ingest([path])
    assert (first.status, first.products, first.chunks) == ("added", 3, 3)
    assert counting.texts == 3
    before = snapshot(service)

    (again,) = service.ingest([path])
    assert (again.status, again.products, again.embedded) == ("unchanged", 3, 0)
    assert counting.texts == 3, "an unchanged file must not be embedded again"
    assert snapshot(service) == before

    hit = top(service, "tent for two people")
    assert (hit.id, hit.title, hit.price, hit.currency) == ("TNT-1", "Alpine 2 Tent", 349.0, "USD")
    assert hit.source == "products.csv"


def test_changed_file_replaces_its_chunks(service, tmp_path):
    path = write(tmp_path / "products.csv", PRODUCTS_CSV)
    service.ingest([path])
    write(path, PRODUCTS_CSV.replace("$349.00", "$299.00").replace("STV-1,Trail Stove", "STV-2,Trail Stove"))

    (result,) = service.ingest([path])
    assert result.status == "updated"
    assert service.store.count_chunks() == 3, "old chunks must be gone"
    assert top(service, "Alpine 2 Tent").price == 299.0
    assert top(service, "Trail Stove").id == "STV-2"
    (doc,) = service.documents()
    assert doc.products == 3


def test_crash_mid_ingest_keeps_the_previous_version(store_settings, embeddings, tmp_path, monkeypatch):
    from shopbot.ingest import pipeline

    monkeypatch.setattr(pipeline, "EMBED_BATCH", 2)  # several batches for a 3-row file
    path = write(tmp_path / "products.csv", PRODUCTS_CSV)
    CatalogService(store_settings, embeddings=embeddings).ingest([path])

    crashing = CountingEmbeddings(embeddings, fail_after_calls=1)
    service = CatalogService(store_settings, embeddings=crashing)
    before = snapshot(service)
    write(path, PRODUCTS_CSV.replace("$349.00", "$199.00"))
    (result,) = service.ingest([path])
    assert result.status == "failed"
    assert "simulated crash" in result.error
    assert snapshot(service) == before
    assert top(service, "Alpine 2 Tent").price == 349.0

    # once the cause is gone the new version goes in
    (retry,) = CatalogService(store_settings, embeddings=embeddings).ingest([path])
    assert retry.status == "updated"
    assert top(service, "Alpine 2 Tent").price == 199.0


def test_delete_by_document(service, tmp_path):
    csv_path = write(tmp_path / "products.csv", PRODUCTS_CSV)
    md_path = write(
        tmp_path / "faq.md",
        "# FAQ\n\n## Returns\n\nUnused items can be returned within 30 days for a full refund.\n",
    )
    service.ingest([csv_path, md_path])
    docs = {d.source: d for d in service.documents()}
    assert set(docs) == {"products.csv", "faq.md"}

    assert service.delete_document(docs["products.csv"].doc_id) is True
    assert [d.source for d in service.documents()] == ["faq.md"]
    assert {h.source for h in service.search("Alpine 2 Tent", k=5)} == {"faq.md"}
    assert service.delete_document(docs["products.csv"].doc_id) is False


def test_record_of_what_is_indexed_survives_a_restart(store_settings, embeddings, tmp_path):
    path = write(tmp_path / "products.csv", PRODUCTS_CSV)
    CatalogService(store_settings, embeddings=embeddings).ingest([path])

    counting = CountingEmbeddings(embeddings)
    restarted = CatalogService(store_settings, embeddings=counting)
    (doc,) = restarted.documents()
    assert (doc.source, doc.kind, doc.products, doc.chunks) == ("products.csv", "csv", 3, 3)
    assert doc.ingested_at
    (result,) = restarted.ingest([path])
    assert result.status == "unchanged"
    assert counting.texts == 0


def corrupt_docx() -> bytes:
    buffer = io.BytesIO()
    Document().save(buffer)
    data = bytearray(buffer.getvalue())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\x00" * 64
    return bytes(data)


def zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a spreadsheet")
    return buffer.getvalue()


BAD_FILES = {
    "empty.csv": (b"", "empty"),
    "blank.md": (b"  \n\n ", "empty"),
    "picture.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "Unsupported file type"),
    "legacy.xls": (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "save it as .xlsx"),
    "renamed.pdf": (b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4, "not a PDF"),
    "corrupt.docx": (corrupt_docx(), "damaged"),
    "corrupt.xlsx": (zip_without_workbook(), "damaged or not a real XLSX"),
    "stats.csv": (b"date,visitors\n2026-01-01,10\n", "No product columns recognised"),
    "header_only.csv": (b"SKU,Title,Price\n", "header row but no product rows"),
    "binary.csv": (b"SKU,Title\x00\x01\x02" * 50, "binary file"),
}


def test_bad_files_fail_clearly_and_leave_the_store_as_it_was(service, tmp_path):
    good = write(tmp_path / "batch" / "a_products.csv", PRODUCTS_CSV)
    service.ingest([good])
    before = snapshot(service)
    bad_paths = [write(tmp_path / "batch" / name, data) for name, (data, _) in BAD_FILES.items()]

    results = {r.source: r for r in service.ingest(bad_paths)}
    for name, (_, message) in BAD_FILES.items():
        assert results[name].status == "failed", name
        assert message in results[name].error, (name, results[name].error)
    assert snapshot(service) == before


def test_a_batch_goes_on_past_failures(service, tmp_path):
    folder = tmp_path / "batch"
    write(folder / "broken.pdf", b"this is plain text pretending to be a PDF")
    write(folder / "products.csv", PRODUCTS_CSV)
    write(folder / "notes" / "shipping.md", "# Shipping\n\nStandard shipping takes 3-5 business days.\n")
    write(folder / "readme.exe", b"MZ")  # folders only pick up supported types

    results = service.ingest([folder, tmp_path / "missing.csv"])
    status = {r.source: r.status for r in results}
    assert status == {
        "broken.pdf": "failed",
        "products.csv": "added",
        "shipping.md": "added",
        str(tmp_path / "missing.csv"): "failed",
    }
    assert {d.source for d in service.documents()} == {"products.csv", "shipping.md"}


def test_file_over_the_size_cap_is_refused(store_settings, embeddings, tmp_path):
    settings = store_settings.model_copy(update={"max_file_mb": 0.001})
    service = CatalogService(settings, embeddings=embeddings)
    path = write(tmp_path / "big.csv", PRODUCTS_CSV * 10)
    (result,) = service.ingest([path])
    assert result.status == "failed"
    assert "over the 1.0 KB limit" in result.error
    assert "SHOPBOT_MAX_FILE_MB" in result.error
    assert service.documents() == []


def test_same_name_twice_in_one_batch_is_refused(service, tmp_path):
    first = write(tmp_path / "a" / "products.csv", PRODUCTS_CSV)
    second = write(tmp_path / "b" / "products.csv", PRODUCTS_CSV)
    results = service.ingest([first, second])
    assert [r.status for r in results] == ["added", "failed"]
    assert "same name" in results[1].error


def test_reindex_all_parses_again_from_the_kept_copies(store_settings, embeddings, tmp_path):
    counting = CountingEmbeddings(embeddings)
    service = CatalogService(store_settings, embeddings=counting)
    path = write(tmp_path / "upload" / "products.csv", PRODUCTS_CSV)
    service.ingest([path])
    path.unlink()  # the clerk's copy is gone; the store kept its own
    before = counting.texts

    (result,) = service.reindex_all()
    assert (result.status, result.products) == ("updated", 3)
    assert counting.texts == before + 3, "re-index embeds again even though nothing changed"
    assert top(service, "Alpine 2 Tent").price == 349.0
    assert service.store.count_chunks() == 3

    (doc,) = service.documents()
    service.delete_document(doc.doc_id)
    assert not service.ingestor.original_path("products.csv").exists()
