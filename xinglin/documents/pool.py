"""The pool that runs background documents: `settings.DOCUMENT_WORKERS` threads (default 2),
each a django-tasks-db worker loop, in one process of the machine.

Nothing has to be started by hand, on SQLite as on PostgreSQL:
- `xinglin serve` starts `xinglin document_worker` beside gunicorn (a separate process, so
  rendering never competes with page requests for a web worker's interpreter lock); it
  stops when the server stops.
- Without it (`runserver`, a test server), the first process that enqueues a job starts the
  threads itself.
Which process runs the pool is decided by an exclusive lock on `var/documents/pool.lock`:
whoever holds it runs the pool, the others only enqueue; if its holder dies, the next enqueue
takes it over. So the bound holds across processes. Tests use django-tasks' immediate backend
(the task runs inside the request), set in the root conftest.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connections
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

logger = logging.getLogger("xinglin.documents")


def folder() -> Path:
    """The folder of generated documents and of the pool's lock (settings.DOCUMENT_CACHE_DIR)."""
    path = Path(settings.DOCUMENT_CACHE_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


_lock = threading.Lock()
_handle = None  # the open lock file while this process runs the pool
_threads: list[threading.Thread] = []
_stopping = threading.Event()


def ensure_running() -> bool:
    """Start the pool in this process unless another process runs it (or the tasks backend
    runs tasks itself). True when this process runs it."""
    if not _uses_database_backend():
        return False
    with _lock:
        if _handle is not None:
            return True
        if not _take_lock():
            return False
        threading.Thread(target=_preload, daemon=True, name="xinglin-documents-preload").start()
        for number in range(settings.DOCUMENT_WORKERS):
            thread = threading.Thread(target=_loop, args=(number,), daemon=True,
                                      name=f"xinglin-documents-{number}")  # fmt: skip
            thread.start()
            _threads.append(thread)
        return True


def run_forever(parent: int | None = None) -> None:
    """The `document_worker` command: wait for the lock, run the pool, stop when `parent`
    (the server's process) is gone."""
    while not ensure_running():
        if parent is not None and os.getppid() != parent:
            return
        time.sleep(1)
    while parent is None or os.getppid() == parent:
        time.sleep(1)


def _preload() -> None:
    """Import the renderers (WeasyPrint, python-docx, matplotlib and its CJK font: seconds)
    before the first job needs them."""
    try:
        from xinglin.documents import charts  # noqa: PLC0415 — matplotlib and the formats load in the worker process only
        from xinglin.documents.formats import docx, pdf, xlsx  # noqa: F401, PLC0415

        charts.cjk_font()
    except Exception:  # a missing font is reported by the job that needs it
        logger.exception("preloading the document renderers failed")


def _uses_database_backend() -> bool:
    return isinstance(_backend(), DatabaseBackend)


def _backend():
    return task_backends["default"]


def _take_lock() -> bool:
    global _handle  # noqa: PLW0603 — the lock file is held for the process's life

    handle = open(folder() / "pool.lock", "a")  # noqa: SIM115 (held for the process's life)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False
    _handle = handle
    return True


def _loop(number: int) -> None:
    if sys.platform.startswith("linux"):
        # on Linux a thread's priority is its own: generation yields the processor to pages
        os.nice(settings.DOCUMENT_NICE)

    worker = Worker(queue_names=["default"], interval=0.5, batch=False, backend_name="default",
                    startup_delay=False, max_tasks=None, excluded_queue_names=[],
                    worker_id=f"xinglin-{os.getpid()}-{number}")  # fmt: skip
    _workers.append(worker)
    while not _stopping.is_set():
        try:
            worker.run()
        except Exception:  # a lost connection must not end the pool
            logger.exception("document worker %s failed; restarting", number)
            close_old_connections()
            time.sleep(1)
    connections.close_all()  # this thread's own connections


_workers: list = []


def stop() -> None:
    """Stop this process's pool (tests; a server just exits) and release the lock."""
    global _handle  # noqa: PLW0603 — the lock file is held for the process's life
    with _lock:
        _stopping.set()
        for worker in _workers:
            worker.running = False
        for thread in _threads:
            thread.join(timeout=10)
        _threads.clear()
        _workers.clear()
        _stopping.clear()
        if _handle is not None:
            _handle.close()
            _handle = None
