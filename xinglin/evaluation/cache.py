"""An in-process cache for evaluations and the figures built from them, valid for one data
generation (xinglin.core.generation): any write to the data an entry was computed from
makes it unreachable at once, so a changed value shows on the next page.

An entry may name its `scope` (the years and the branch of the tree it reads,
`generation.Scope`): it is then kept while that scope's generation holds, so a save of 2026
data or of another county leaves it valid (decision 0019). Without a scope, any write to
the data makes it unreachable.

Cached values are shared between requests: callers must treat them as read-only.
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

_entries: OrderedDict[tuple[object, ...], object] = OrderedDict()
_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}
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
            _entries.move_to_end(full)
            _stats["hits"] += 1
            return _entries[full]  # type: ignore[return-value]
    value, keepable = _compute(compute)
    _stats["misses"] += 1
    # a write committed while computing: the value may mix generations, so do not keep it
    if keepable and (keep is None or keep(value)) and generation.current(scope=scope) == before:
        with _lock:
            _entries[full] = value
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()


def stats() -> dict[str, int]:
    return {**_stats, "entries": len(_entries)}
