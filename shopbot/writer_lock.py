"""One writer at a time per store, across processes (and, with a Chroma server, machines).

Two implementations behind one interface, picked by where the store lives:

- **Embedded store** (``data/chroma``): an OS file lock (``flock`` through the ``filelock``
  package) on ``<store dir>/writer.lock``. The kernel releases it the instant the holder
  dies, ``kill -9`` included, so a crashed writer never blocks the next one. A sidecar
  ``writer.json`` says who holds it (pid, command, since when) for the waiting message.
- **Chroma server** (``SHOPBOT_CHROMA_HOST``): a lease kept *in the store itself*, as one
  entry of the ``<collection>_meta`` collection, because the Chroma server is the one thing
  every replica already shares (the feedback database may be a per-replica SQLite file, and a
  file lock does not cross machines). Chroma has no compare-and-swap, but it has the two
  pieces one needs: ``add`` of an existing id is ignored (the first writer wins), and
  ``delete(ids=..., where={"owner": X})`` deletes only if the entry is still X's. So:

  1. ``add`` the lease with a fresh owner token; read it back: ours -> acquired.
  2. Someone else's and not renewed for ``lease_seconds`` (its holder died) -> delete it on
     the condition that it still carries that owner token, and go to 1.
  3. Else wait (polling) until it is free or ``wait_seconds`` pass.

  While held, a thread renews the lease every ``lease_seconds / 4``; a holder that finds the
  lease is no longer its own (it stalled for longer than the lease) stops writing at its next
  commit point (:meth:`WriterLock.check`). A killed holder blocks writers for at most
  ``lease_seconds``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)

LEASE_ID = "writer-lease"
_POLL_SECONDS = 0.2


class StoreBusy(RuntimeError):
    """Another process held the store's writer lock for longer than we were willing to wait."""


class LeaseLost(RuntimeError):
    """This process's writer lease expired and another writer took it: stop writing."""


def describe_self() -> dict[str, Any]:
    """Who is writing, for the message a waiting writer shows."""
    command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:4]))
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command[:200],
        "since": time.time(),
    }


def holder_text(holder: dict[str, Any] | None) -> str:
    """"pid 1234 on host-a (shopbot ingest catalog/), writing for 12 s", or "another process"."""
    if not holder:
        return "another process"
    since = holder.get("since")
    held = f", writing for {max(0, int(time.time() - float(since)))} s" if since else ""
    command = f" ({holder['command']})" if holder.get("command") else ""
    return f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}{command}{held}"


def _busy(holder: dict[str, Any] | None, waited: float) -> StoreBusy:
    return StoreBusy(
        f"The catalog store is being written by {holder_text(holder)}; waited {waited:.0f} s. "
        "Only one process writes at a time: try again when it has finished, or raise "
        "SHOPBOT_WRITER_WAIT_SECONDS to wait longer."
    )


class WriterLock(ABC):
    """What a store needs of its writer lock, whatever keeps it."""

    @abstractmethod
    def acquire(self, wait_seconds: float, on_wait: Callable[[str], None] | None = None) -> None:
        """Take the lock, waiting up to ``wait_seconds`` (``on_wait`` is told who holds it);
        raise StoreBusy when it stays taken."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock back."""

    @abstractmethod
    def holder(self) -> dict[str, Any] | None:
        """Who holds it (pid, host, command, since), as far as known."""

    def check(self) -> None:
        """Raise LeaseLost if this process no longer holds the lock (never for a file lock:
        the kernel keeps it for as long as the process lives)."""


class ProcessOnlyLock(WriterLock):
    """No lock beyond the store's own in-process one: for a store built by hand on a client
    that nothing else opens (:meth:`CatalogStore.open` picks a real lock)."""

    def acquire(self, wait_seconds: float, on_wait: Callable[[str], None] | None = None) -> None:
        return None

    def release(self) -> None:
        return None

    def holder(self) -> dict[str, Any] | None:
        return None


class FileWriterLock(WriterLock):
    """flock on ``<directory>/writer.lock``: released by the kernel when the holder dies."""

    def __init__(self, directory: Path) -> None:
        from filelock import FileLock

        directory.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(directory / "writer.lock"))
        self._info = directory / "writer.json"

    def acquire(self, wait_seconds: float, on_wait: Callable[[str], None] | None = None) -> None:
        from filelock import Timeout

        started = time.monotonic()
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            holder = self.holder()
            if on_wait:
                on_wait(f"Waiting for {holder_text(holder)} to finish writing the catalog…")
            log.info("writer lock held by %s; waiting up to %.0f s", holder_text(holder),
                     wait_seconds)
            try:
                self._lock.acquire(timeout=max(0.0, wait_seconds), poll_interval=_POLL_SECONDS)
            except Timeout:
                raise _busy(self.holder(), time.monotonic() - started) from None
        partial = self._info.with_name(f"writer.{os.getpid()}.partial")
        partial.write_text(json.dumps(describe_self()))
        partial.replace(self._info)

    def release(self) -> None:
        self._lock.release()

    def holder(self) -> dict[str, Any] | None:
        try:
            return json.loads(self._info.read_text())
        except (OSError, ValueError):
            return None


class LeaseWriterLock(WriterLock):
    """A renewed lease in a Chroma collection (see the module docstring)."""

    def __init__(self, meta: Collection, lease_seconds: float = 30.0) -> None:
        self.meta = meta
        self.lease_seconds = lease_seconds
        self._owner: str | None = None
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _read(self) -> dict[str, Any] | None:
        found = self.meta.get(ids=[LEASE_ID], include=["metadatas"])
        return dict(found["metadatas"][0]) if found["ids"] else None

    def _entry(self, owner: str) -> dict[str, Any]:
        me = describe_self()
        return {**me, "owner": owner, "renewed": time.time()}

    def acquire(self, wait_seconds: float, on_wait: Callable[[str], None] | None = None) -> None:
        started = time.monotonic()
        owner = uuid.uuid4().hex
        told = False
        while True:
            self.meta.add(ids=[LEASE_ID], metadatas=[self._entry(owner)], embeddings=[[1.0]])
            current = self._read()
            if current is not None and current.get("owner") == owner:
                break
            if current is not None:
                # Judged by our clock against the holder's last renewal: keep lease_seconds
                # well above the clock skew between replicas.
                age = time.time() - float(current.get("renewed", 0.0))
                if age > self.lease_seconds:
                    log.warning("writer lease of %s expired %.0f s ago; taking it over",
                                holder_text(current), age - self.lease_seconds)
                    self.meta.delete(ids=[LEASE_ID], where={"owner": current["owner"]})
                    continue
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise _busy(current, waited)
            if not told:
                told = True
                log.info("writer lease held by %s; waiting", holder_text(current))
                if on_wait:
                    on_wait(f"Waiting for {holder_text(current)} to finish writing the catalog…")
            time.sleep(_POLL_SECONDS)  # polling a remote lease: there is nothing to wait on
        self._owner = owner
        self._lost.clear()
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew, name="shopbot-writer-lease", daemon=True
        )
        self._renewer.start()

    def _renew(self) -> None:
        owner = self._owner
        while not self._stop.wait(self.lease_seconds / 4):
            try:
                current = self._read()
                if current is None or current.get("owner") != owner:
                    log.error("writer lease lost to %s", holder_text(current))
                    self._lost.set()
                    return
                self.meta.update(ids=[LEASE_ID], metadatas=[{**current, "renewed": time.time()}])
            except Exception:  # noqa: BLE001 - a network blip; the next round retries
                log.warning("renewing the writer lease failed", exc_info=True)

    def check(self) -> None:
        # Read now, not only what the renewing thread last saw: a holder that stalled past
        # its lease must not commit over the writer that took it over.
        if not self._lost.is_set() and self._owner is not None:
            current = self._read()
            if current is None or current.get("owner") != self._owner:
                self._lost.set()
        if self._lost.is_set():
            raise LeaseLost(
                "This process's writer lease expired (it stalled for over "
                f"{self.lease_seconds:.0f} s) and another writer took it; the ingest stopped "
                "before committing. Run it again."
            )

    def release(self) -> None:
        owner, self._owner = self._owner, None
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if owner is not None:
            self.meta.delete(ids=[LEASE_ID], where={"owner": owner})

    def holder(self) -> dict[str, Any] | None:
        return self._read()
