"""Uploads ingested in the background, one at a time, with progress.

The app hands uploaded files to an :class:`IngestQueue` and returns at once, so the staff
member's page (and every shopper's) stays responsive however big the file; the page polls
:meth:`IngestQueue.jobs` to draw progress. One worker thread per process writes, in order;
writes from other processes wait for the store's writer lock (the job says so meanwhile).
Jobs live in this process's memory: a restart forgets queued uploads (nothing was stored for
them: the store only ever holds committed versions), and the staff member uploads again.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopbot.ingest.pipeline import Ingestor, IngestResult

log = logging.getLogger(__name__)

KEEP_FINISHED = 200  # finished jobs remembered for the page, oldest forgotten first


@dataclass
class IngestJob:
    id: str
    source: str
    size_bytes: int
    status: str = "queued"  # queued | running | added | updated | unchanged | failed
    chunks_done: int = 0
    chunks_total: int = 0
    message: str = ""  # e.g. waiting for another process that writes the store
    submitted: float = field(default_factory=time.time)
    finished: float | None = None
    result: IngestResult | None = None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def fraction(self) -> float:
        if not self.active:
            return 1.0
        return self.chunks_done / self.chunks_total if self.chunks_total else 0.0


class IngestQueue:
    """Thread-safe; the worker thread starts with the first job and stays for the process."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self._jobs: OrderedDict[str, IngestJob] = OrderedDict()
        self._pending: queue.Queue[tuple[IngestJob, bytes]] = queue.Queue()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._worker: threading.Thread | None = None

    def submit(self, source: str, data: bytes) -> IngestJob:
        job = IngestJob(id=f"job{next(self._ids)}", source=source, size_bytes=len(data))
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._run, name="shopbot-ingest", daemon=True
                )
                self._worker.start()
        self._pending.put((job, data))
        return job

    def jobs(self, ids: list[str] | None = None) -> list[IngestJob]:
        with self._lock:
            if ids is None:
                return list(self._jobs.values())
            return [self._jobs[i] for i in ids if i in self._jobs]

    def wait(self, ids: list[str], timeout: float) -> list[IngestJob]:
        """The jobs once none of them is active (or ``timeout`` passed): for the CLI/tests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.jobs(ids)
            if not any(j.active for j in jobs):
                return jobs
            time.sleep(0.05)  # polled under the deadline
        return self.jobs(ids)

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if not j.active]
        for job_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job_id]

    def _run(self) -> None:
        while True:
            job, data = self._pending.get()
            job.status = "running"

            def progress(done: int, total: int, job: IngestJob = job) -> None:
                job.chunks_done, job.chunks_total = done, total
                job.message = ""

            def waiting(message: str, job: IngestJob = job) -> None:
                job.message = message

            try:
                result = self.ingestor.ingest_bytes(
                    job.source, data, on_chunks=progress, on_wait=waiting
                )
            except Exception as exc:  # noqa: BLE001 - ingest_bytes reports; this is a bug
                log.exception("background ingest of %s failed", job.source)
                from shopbot.ingest.pipeline import IngestResult

                result = IngestResult(source=job.source, status="failed",
                                      error=f"Unexpected error ({type(exc).__name__}).")
            job.result, job.status, job.message = result, result.status, ""
            job.finished = time.time()
            del data
