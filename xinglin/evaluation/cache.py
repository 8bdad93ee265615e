"""An in-process cache for evaluations and the figures built from them, valid for one data
generation (xinglin.core.generation): any write to the data an entry was computed from
makes it unreachable at once, so a changed value shows on the next page.

An entry may name its `scope` (the years and the branch of the tree it reads,
`generation.Scope`): it is then kept while that scope's generation holds, so a save of 2026
data or of another county leaves it valid (decision 0019). Without a scope, any write to
the data makes it unreachable.

Cached values are shared between requests: callers must treat them as read-only (the one
exception, a scorecard's rendered tables kept beside its rows, is decision 0003's).

One computation per key at a time: a thread asking for a key another thread of the process
is computing waits for that value instead of computing it again (at month-end twenty viewers
opening the same scorecards would otherwise each evaluate them, decision 0019).
"""

from __future__ import annotations

import contextvars
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from xinglin.core import generation

T = TypeVar("T")
MAX_ENTRIES = 256  # per process; a county's evaluation is a few hundred results
WAIT_SECONDS = 120.0  # how long a thread waits for another's computation of the same key

_entries: OrderedDict[tuple[object, ...], object] = OrderedDict()
_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0, "joined": 0}
# keys being computed now, and the event their computation sets when it is done
_under_way: dict[tuple[object, ...], tuple[threading.Event, int]] = {}
# the computations under way in this thread: a list each, marked by `dont_keep`
_computing: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "computing", default=None
)


def dont_keep() -> None:
    """Called while a value is computed: it (and every cached value built from it) must not
    be kept, e.g. figures read from a warehouse copy that lags the database (decision 0014)."""
    marks = _computing.get()
    if marks is not None:
        marks.append(True)


def keepable(compute: Callable[[], T]) -> tuple[T, bool]:
    """compute(), and whether what it built may be kept by any cache (nothing inside called
    `dont_keep`): for caches outside this one, such as the generated documents' files."""
    return _compute(compute)


def _compute(compute: Callable[[], T]) -> tuple[T, bool]:
    """compute(), and whether it may be kept (no `dont_keep` inside)."""
    outer = _computing.get()
    marks: list[bool] = []
    token = _computing.set(marks)
    try:
        value = compute()
    finally:
        _computing.reset(token)
    if marks and outer is not None:
        outer.append(True)  # a value built from this one may not be kept either
    return value, not marks


def cached(
    key: tuple[object, ...],
    compute: Callable[[], T],
    *,
    keep: Callable[[T], bool] | None = None,
    scope: generation.Scope | None = None,
) -> T:
    """`compute()`, or its value from an earlier call with the same key in the same data
    generation of `scope` (default: of everything). `scope` must hold everything `compute`
    reads of the per-year, per-unit tables (generation.SCOPED). `keep(value)` false: do not
    store it (too large). Without a readable generation nothing is cached."""
    before = generation.current(scope=scope)
    if before is None:
        return _compute(compute)[0]
    full = (before, scope, *key)
    with _lock:
        if full in _entries:
            return _kept(full, "hits")  # type: ignore[return-value]
        under_way = _under_way.get(full)
        if under_way is None:
            done = threading.Event()
            _under_way[full] = (done, threading.get_ident())
    if under_way is not None:
        return _join(full, compute, *under_way)
    try:
        value, keepable = _compute(compute)
        _stats["misses"] += 1
        # a write committed while computing: the value may mix generations, so do not keep it
        if keepable and (keep is None or keep(value)) and generation.current(scope=scope) == before:
            with _lock:
                _entries[full] = value
                while len(_entries) > MAX_ENTRIES:
                    _entries.popitem(last=False)
    finally:
        with _lock:
            _under_way.pop(full, None)
        done.set()
    return value


def _join(
    full: tuple[object, ...], compute: Callable[[], T], done: threading.Event, owner: int
) -> T:
    """The value another thread of this process is computing for `full`, once it is done;
    computed here if it was not kept (too large, or the data moved meanwhile), if it takes
    longer than WAIT_SECONDS, or if this thread is the one computing it."""
    if owner != threading.get_ident() and done.wait(WAIT_SECONDS):
        with _lock:
            if full in _entries:
                return _kept(full, "joined")  # type: ignore[return-value]
    return _compute(compute)[0]


def _kept(full: tuple[object, ...], counted: str) -> object:
    """The kept entry, as the most recently used (under `_lock`), counted as a hit or a join."""
    _entries.move_to_end(full)
    _stats[counted] += 1
    return _entries[full]


def clear() -> None:
    with _lock:
        _entries.clear()


def stats() -> dict[str, int]:
    return {**_stats, "entries": len(_entries)}
