"""Staff: upload catalog files, see what the bot knows, delete or re-index documents, and
check what a question would retrieve."""

import streamlit as st

from pages.common import catalog_service, md_escape, require_staff
from shopbot.hidden_products import hidden_note, hidden_products, statuses_by_document
from shopbot.ingest import supported_suffixes
from shopbot.safety import parse_flags
from shopbot.store import format_time

require_staff()
service = catalog_service()
settings = service.settings

st.title("Catalog")
stats = service.stats()
left, middle, right = st.columns(3)
left.metric("Documents", stats["documents"])
middle.metric("Products", stats["products"])
right.metric("Searchable chunks", stats["chunks"])

# -- upload -----------------------------------------------------------------------------

st.subheader("Add or update files")
st.caption(
    "Store exports (CSV, XLSX, JSON), spec sheets (PDF), product pages (HTML), policies "
    f"(DOCX) and FAQs (Markdown, text), up to {settings.max_file_mb:g} MB each. A file with "
    "the same name as an existing document replaces it, and a product row replaces the "
    "record of the same SKU in other files (the latest upload wins), e.g. a price update."
)
uploads = st.file_uploader(
    "Catalog files",
    type=[suffix.lstrip(".") for suffix in supported_suffixes()],
    accept_multiple_files=True,
    key=f"uploads_{st.session_state.get('upload_round', 0)}",
)
if uploads and st.button("Ingest", type="primary", icon=":material/upload:"):
    # Queued for the background writer: this page (and every shopper's) stays responsive
    # however long a file takes; the progress below refreshes itself.
    jobs = [service.ingest_queue.submit(upload.name, upload.getvalue()) for upload in uploads]
    st.session_state.ingest_jobs = [job.id for job in jobs]
    st.session_state.upload_round = st.session_state.get("upload_round", 0) + 1
    st.rerun()


def _job_row(job) -> dict:
    result = job.result
    return {
        "file": job.source,
        "result": job.status,
        "products": result.products if result else None,
        "chunks": result.chunks if result else None,
        "replaced": result.replaced if result else None,
        "seconds": result.seconds if result else None,
        "reason": (result.error or " ".join(result.notes)) if result else job.message,
    }


@st.fragment(run_every=1)
def _ingest_progress(job_ids: list[str]) -> None:
    jobs = service.ingest_queue.jobs(job_ids)
    active = [job for job in jobs if job.active]
    if not active:
        st.rerun()  # the whole page: new counts and documents, and this refresh stops
    for job in active:
        if job.status == "queued":
            text = f"{job.source}: queued"
        elif job.message:
            text = f"{job.source}: {job.message}"
        elif job.chunks_total:
            text = f"{job.source}: {job.chunks_done:,} of {job.chunks_total:,} chunks stored"
        else:
            text = f"{job.source}: reading the file…"
        st.progress(job.fraction, text=md_escape(text))
    st.caption("You can leave this page: files are ingested in the background.")


job_ids = st.session_state.get("ingest_jobs") or []
jobs = service.ingest_queue.jobs(job_ids)
if any(job.active for job in jobs):
    _ingest_progress(job_ids)
elif jobs:
    rows = [_job_row(job) for job in jobs]
    failed = [r for r in rows if r["result"] == "failed"]
    (st.warning if failed else st.success)(
        f"{len(rows) - len(failed)} of {len(rows)} files ingested"
        + (f"; {len(failed)} failed (see the reason column)" if failed else "")
    )
    st.dataframe(rows, hide_index=True, width="stretch")

# -- documents ----------------------------------------------------------------------------

st.subheader("Documents")
documents = service.documents()
# Drafts, archived and unpublished products: stored and counted, never offered to shoppers.
hidden = hidden_products(service.store)
hidden_counts = statuses_by_document(hidden)
if not documents:
    st.info("No documents yet: upload some above.")
else:
    # Text that reads like instructions to an AI, found at ingest (shopbot.safety): the
    # assistant never repeats it, but staff should fix it in the file.
    flags = {d.doc_id: parse_flags(getattr(d, "flags", "")) for d in documents}
    st.dataframe(
        [
            {
                "source": d.source,
                "review": "Needs review" if flags[d.doc_id] else "",
                "kind": d.kind,
                "products": d.products,
                # "3 hidden: 1 draft, 1 archived, 1 not visible": counted, never offered.
                "hidden": hidden_note(hidden_counts.get(d.doc_id)),
                "chunks": d.chunks,
                "updated": format_time(d.last_updated),
                "superseded": d.superseded_note(),
                "id": d.doc_id,
            }
            for d in documents
        ],
        hide_index=True,
        width="stretch",
    )
    if hidden:
        with st.expander(f"Hidden from shoppers ({len(hidden)})", icon=":material/visibility_off:"):
            st.caption(
                "Drafts, archived products and products not published to the shop: the "
                "assistant never offers them. Change their status in the shop and upload "
                "the export again to offer them."
            )
            st.dataframe(
                [
                    {"product": p.title, "id": p.id, "status": p.status_word, "document": p.source}
                    for p in hidden
                ],
                hide_index=True,
                width="stretch",
                key="hidden_products",
            )
    flagged = [d for d in documents if flags[d.doc_id]]
    if flagged:
        st.warning(
            f"{len(flagged)} document{'s need' if len(flagged) > 1 else ' needs'} review: "
            "some of its text reads like instructions to an AI (e.g. \"ignore previous "
            "instructions\"). The assistant never repeats such text; fix the file and upload "
            "it again.",
            icon=":material/flag:",
        )
        for d in flagged:
            count = len(flags[d.doc_id])
            passages = f"{count} passage{'s' if count > 1 else ''}"
            with st.expander(f"Needs review: {md_escape(d.source)} ({passages})"):
                # As plain text: the snippets are exactly what the file says.
                st.text("\n".join(f"{f['location']}: {f['text']}" for f in flags[d.doc_id]))
    by_id = {d.doc_id: d for d in documents}
    chosen = st.selectbox(
        "Document", list(by_id), format_func=lambda doc_id: by_id[doc_id].source, key="doc_choice"
    )
    delete, reindex = st.columns(2)
    confirm = delete.checkbox(f"Yes, delete {by_id[chosen].source} and everything learnt from it")
    if delete.button("Delete document", icon=":material/delete:", disabled=not confirm):
        outcome = service.remove_document(chosen)
        st.toast(f"Deleted {by_id[chosen].source}")
        for restored in outcome.restored:
            if restored.ok:
                st.toast(f"Restored the products it had replaced in {restored.source}")
            else:
                st.toast(f"{restored.source}: {restored.error}")
        st.rerun()
    outdated = service.outdated_documents()
    if outdated:
        reindex.warning(
            f"{len(outdated)} document(s) were read by an older version of shopbot; re-index "
            "them to get what the new version reads (products with their variants)."
        )
    if reindex.button("Re-index all documents", icon=":material/refresh:"):
        bar = st.progress(0.0, text="Re-indexing…")
        results = service.reindex_all(
            on_file=lambda r, done, total: bar.progress(done / total, text=f"{r.source}")
        )
        failed = [r for r in results if not r.ok]
        for result in failed:
            st.warning(f"{result.source}: {result.error}")
        st.success(f"Re-indexed {len(results) - len(failed)} of {len(results)} documents.")

# -- what would the bot retrieve ----------------------------------------------------------

st.subheader("What would the bot retrieve?")
probe = st.text_input("A shopper's question", key="probe", placeholder="e.g. waterproof tent for two")
if probe:
    hits = service.search(probe, k=settings.retrieval_k)
    if not hits:
        st.info("Nothing in the catalog matches.")
    st.dataframe(
        [
            {
                "rank": rank,
                "score": round(hit.score, 3),
                "title": hit.title,
                "price": hit.price,
                "source": hit.source,
                "section": hit.section,
                "snippet": hit.snippet,
            }
            for rank, hit in enumerate(hits, start=1)
        ],
        hide_index=True,
        width="stretch",
    )
