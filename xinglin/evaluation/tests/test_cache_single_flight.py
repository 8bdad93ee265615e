"""One computation per key at a time: threads asking for a key being computed wait for it
(month-end: twenty viewers on the same scorecards, issue 25's W7)."""

from __future__ import annotations

import threading
import time

import pytest

from xinglin.core import generation
from xinglin.evaluation import cache


@pytest.fixture(autouse=True)
def _fixed_generation(monkeypatch):
    """The cache's own behaviour, apart from the database's generation counter (tested in
    test_cache.py): one generation throughout."""
    monkeypatch.setattr(generation, "current", lambda scope=None: 7)
    cache.clear()
    yield
    cache.clear()


def _in_threads(count: int, target) -> tuple[list[threading.Thread], list]:
    found: list = [None] * count
    threads = [
        threading.Thread(target=lambda n=n: found.__setitem__(n, target())) for n in range(count)
    ]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    return threads, found


def test_threads_asking_for_a_key_being_computed_wait_for_it_and_share_the_value():
    calls, release = [], threading.Event()

    def compute():
        calls.append(threading.get_ident())
        release.wait(10)
        return {"figure": len(calls)}

    joined = cache.stats()["joined"]
    threads, found = _in_threads(4, lambda: cache.cached(("card", "640323"), compute))
    time.sleep(0.5)  # the other three are waiting now
    assert len(calls) == 1
    release.set()
    for thread in threads:
        thread.join(10)
    assert len(calls) == 1
    assert all(value is found[0] for value in found) and found[0] == {"figure": 1}
    assert cache.stats()["joined"] - joined == 3


def test_a_value_not_kept_is_computed_again_by_each_waiting_thread():
    calls, release = [], threading.Event()

    def compute():
        calls.append(1)
        release.wait(10)
        return len(calls)

    threads, found = _in_threads(
        3, lambda: cache.cached(("big",), compute, keep=lambda value: False)
    )
    time.sleep(0.3)
    assert len(calls) == 1
    release.set()
    for thread in threads:
        thread.join(10)
    assert len(calls) == 3
    assert sorted(found) == [1, 2, 3]  # the first thread's, then each waiter's own


def test_a_thread_asking_again_for_the_key_it_computes_computes_it_without_waiting():
    def outer():
        return cache.cached(("self",), lambda: "inner") + "+outer"

    started = time.monotonic()
    assert cache.cached(("self",), outer) == "inner+outer"
    assert time.monotonic() - started < 5


def test_different_keys_are_computed_side_by_side():
    both_running = threading.Barrier(2, timeout=5)

    def compute(name):
        both_running.wait()  # raises BrokenBarrierError if the other key waited for this one
        return name

    threads, found = [], {}
    for name in ("a", "b"):
        thread = threading.Thread(
            target=lambda n=name: found.__setitem__(n, cache.cached((n,), lambda: compute(n)))
        )
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join(10)
    assert found == {"a": "a", "b": "b"}
