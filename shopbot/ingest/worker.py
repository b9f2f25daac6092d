"""The parser worker: documents are parsed by unstructured in a separate process, under a
memory cap and a time budget, and the process is killed when a parse runs over either.

Why a process. The pre-checks (:mod:`shopbot.ingest.limits`) only estimate what unstructured
will do with a file; the guard must hold whatever it does, including inside C code (lxml,
zlib, pdfminer's decoders), and Python can neither interrupt a thread nor cap its memory.
A process can be capped (``RLIMIT_AS``, set by the worker itself around each parse: the
address space it has after loading its libraries plus ``SHOPBOT_MAX_PARSE_MEMORY_MB``) and
killed (``SHOPBOT_MAX_PARSE_SECONDS``), and its parent goes on.

Why one long-lived worker. Starting one costs about 2.5 s of imports here (unstructured and
the spaCy model; the PDF partitioner is imported the first time a PDF comes), about as much
as parsing the whole demo catalog's 19 documents. So one worker per process serves every parse, one at a time (the parse
was serialised by a lock before too), and is replaced only after it was killed or ran out of
memory, or when it has been idle for :data:`IDLE_EXIT_S` (it then exits by itself and gives
its memory back; the next parse starts a new one). Libraries are imported before the cap is
set, so their size never counts against a parse.

The worker talks to its parent over a socket pair with :class:`multiprocessing.connection.
Connection` (pickles of plain data: the request, a ParsedDocument or an error message).
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from shopbot.ingest.errors import IngestError

log = logging.getLogger(__name__)

START_TIMEOUT_S = 300.0  # imports and the spaCy model, on a busy machine
IDLE_EXIT_S = 600.0
MB = 1024 * 1024

_LABELS = {"pdf": "PDF", "docx": "DOCX", "html": "HTML", "md": "Markdown", "txt": "text"}


class ParseWorker:
    """The parent's handle on one worker process (started on first use)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._owner = os.getpid()
        self.starts = 0  # worker processes started so far (for tests and diagnostics)

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs (for tests and diagnostics)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def parse(self, request: dict[str, Any], *, seconds: float, memory_mb: int) -> Any:
        """Run :func:`shopbot.ingest.documents.parse_here` (``request`` are its keyword
        arguments) in the worker; raise :class:`IngestError` when it is refused or runs over
        a limit."""
        label = _LABELS.get(request.get("kind", ""), str(request.get("kind", "")).upper())
        with self._lock:
            for attempt in (1, 2):
                conn = self._ensure_started()
                sent = time.monotonic()
                try:
                    conn.send((memory_mb, request))
                    if not conn.poll(seconds):
                        self._stop()
                        raise IngestError(
                            f"Reading this {label} file took longer than the "
                            f"{seconds:g}-second time budget (SHOPBOT_MAX_PARSE_SECONDS) and "
                            "was stopped. Split it into smaller files, or raise "
                            "SHOPBOT_MAX_PARSE_SECONDS."
                        )
                    status, payload = conn.recv()
                except (EOFError, OSError) as exc:
                    code = self._stop()
                    if attempt == 1 and code == 0 and time.monotonic() - sent < 1:
                        continue  # it had just exited on its idle timeout: start another
                    raise IngestError(
                        f"The document parser stopped while reading this {label} file (exit "
                        f"status {code}). Files that need more than the {memory_mb:,} MB "
                        "memory limit (SHOPBOT_MAX_PARSE_MEMORY_MB) can do this: split the "
                        "file, or raise SHOPBOT_MAX_PARSE_MEMORY_MB."
                    ) from exc
                break
            if status == "ok":
                return payload
            if status == "memory":
                self._stop()
                raise IngestError(
                    f"Reading this {label} file needed more than the {memory_mb:,} MB memory "
                    "limit (SHOPBOT_MAX_PARSE_MEMORY_MB) and was stopped. It may be a "
                    "decompression bomb; if it is a real document, split it into smaller "
                    "files, or raise SHOPBOT_MAX_PARSE_MEMORY_MB."
                )
            if status == "ingest_error":
                raise IngestError(payload)
            raise RuntimeError(f"the parser failed: {payload}")

    def close(self) -> None:
        with self._lock:
            self._stop()

    # -- process ---------------------------------------------------------------------------

    def _ensure_started(self) -> Connection:
        if self._owner != os.getpid():  # a forked child: the worker is its parent's
            self._process, self._conn, self._owner = None, None, os.getpid()
        if self._process is not None and self._process.poll() is None and self._conn:
            return self._conn
        self._stop()
        parent_end, child_end = socket.socketpair()
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        # Fewer malloc arenas: less address space reserved per thread, so the cap measures
        # what a parse uses.
        env.setdefault("MALLOC_ARENA_MAX", "2")
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys; from shopbot.ingest.worker import serve; serve(int(sys.argv[1]))",
                    str(child_end.fileno()),
                ],
                pass_fds=(child_end.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        except OSError as exc:
            parent_end.close()
            raise IngestError(f"Cannot start the document parser ({exc}).") from exc
        finally:
            child_end.close()
        conn = Connection(parent_end.detach())
        self._process, self._conn = process, conn
        self.starts += 1
        started = time.monotonic()
        try:
            ready = conn.poll(START_TIMEOUT_S)
            status, payload = conn.recv() if ready else ("timeout", None)
        except (EOFError, OSError):
            status, payload = "died", process.poll()
        if status != "ready":
            self._stop()
            if status == "ingest_error":
                raise IngestError(payload)
            raise IngestError(
                f"The document parser could not start ({status}: {payload}); see the log. "
                "Run `bash .ci/setup` or `pip install -r requirements.txt` if a package is "
                "missing."
            )
        log.info("parser worker %s ready in %.1fs", process.pid, time.monotonic() - started)
        return conn

    def _stop(self) -> int | None:
        """End the worker (ours, by its own process id) and return its exit status."""
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a kill that did not land
            return None


_shared: ParseWorker | None = None
_shared_lock = threading.Lock()


def shared_worker() -> ParseWorker:
    """This process's worker (one per process; started on first parse)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ParseWorker()
            atexit.register(_shared.close)
        return _shared


# -- the worker side -------------------------------------------------------------------------


def _address_space() -> int | None:
    """This process's address space in bytes (VmSize), or None where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _looks_like_memory(exc: BaseException) -> bool:
    """C libraries report a failed allocation in their own words (lxml: "Memory allocation
    failed", others: "Cannot allocate memory", std::bad_alloc)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError):
            return True
        text = str(seen).lower()
        if "memory" in text and ("alloc" in text or "out of" in text) or "bad_alloc" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def serve(fd: int) -> None:
    """The worker's loop: warm up, say ready, then answer parse requests until the parent
    closes the connection (or goes away) or nothing comes for :data:`IDLE_EXIT_S`."""
    import resource

    # What runs here (unstructured's text-only paths: PDF strategy "fast", and spaCy's small
    # English pipeline, which runs on numpy) needs no torch, yet thinc imports it when it is
    # installed: measured 1.2 s more start-up and 180 MB more memory per worker, with
    # byte-identical passages for the demo catalog either way. Something that did need it
    # would fail with ImportError, reported per file as "Could not read this ... file".
    sys.modules.setdefault("torch", None)  # type: ignore[arg-type]
    from shopbot.ingest import documents

    conn = Connection(fd)
    try:
        documents.prepare(None)
    except IngestError as exc:
        conn.send(("ingest_error", str(exc)))
        return
    conn.send(("ready", os.getpid()))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    while True:
        try:
            if not conn.poll(IDLE_EXIT_S):
                return
            memory_mb, request = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            documents.prepare(request.get("kind"))  # imports, outside the cap
        except IngestError as exc:
            conn.send(("ingest_error", str(exc)))
            continue
        gc.collect()
        base = _address_space()
        if base is not None:
            cap = base + int(memory_mb) * MB
            if hard != resource.RLIM_INFINITY:
                cap = min(cap, hard)
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        try:
            reply: tuple[str, Any] = ("ok", documents.parse_here(**request))
        except MemoryError:
            reply = ("memory", None)
        except IngestError as exc:
            reply = ("memory", None) if _looks_like_memory(exc) else ("ingest_error", str(exc))
        except Exception as exc:  # returned to the parent as "Unexpected error ..."
            reply = (
                ("memory", None)
                if _looks_like_memory(exc)
                else ("error", f"{type(exc).__name__}: {exc}")
            )
        finally:
            if base is not None:
                resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        try:
            conn.send(reply)
        except (OSError, EOFError):
            return
        except Exception as exc:  # a result that cannot be pickled
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        if reply[0] == "memory":
            return  # memory may be fragmented or a library left half-done: start afresh
        del reply
