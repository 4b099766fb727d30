"""The worker pool: results and errors come back, a hung or dead worker is replaced.

Worker functions are standard-library ones (time.sleep hangs, os._exit dies), so
the worker processes can import them whatever the test runner's import mode.
"""

from __future__ import annotations

import operator
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from services.cleaner.pool import ProcessPool, TaskTimedOut, WorkerDied


@pytest.fixture
def make_pool() -> Iterator[Callable[..., ProcessPool[Any, Any]]]:
    pools: list[ProcessPool[Any, Any]] = []

    def make(function: Callable[[Any], Any], **options: Any) -> ProcessPool[Any, Any]:
        settings = {"workers": 1, "timeout_s": 10.0, "max_tasks_per_worker": 100, **options}
        pool: ProcessPool[Any, Any] = ProcessPool(function, **settings)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def test_returns_the_result(make_pool: Callable[..., ProcessPool[Any, Any]]) -> None:
    pool = make_pool(operator.neg)

    assert [pool(n) for n in (1, 2, 3)] == [-1, -2, -3]


def test_reraises_the_task_error(make_pool: Callable[..., ProcessPool[Any, Any]]) -> None:
    pool = make_pool(int)

    with pytest.raises(ValueError, match="invalid literal"):
        pool("not a number")
    assert pool("42") == 42  # the worker survived


def test_a_hung_task_times_out_and_the_pool_goes_on(
    make_pool: Callable[..., ProcessPool[Any, Any]],
) -> None:
    pool = make_pool(time.sleep, timeout_s=0.5)
    started = time.monotonic()

    with pytest.raises(TaskTimedOut, match=r"timed out after 0\.5s"):
        pool(60)

    assert time.monotonic() - started < 30  # killed, not waited for
    assert pool(0) is None  # a fresh worker took over


def test_a_dead_worker_is_replaced(make_pool: Callable[..., ProcessPool[Any, Any]]) -> None:
    pool = make_pool(os._exit)

    with pytest.raises(WorkerDied, match="exit code 3"):
        pool(3)
    with pytest.raises(WorkerDied):  # a fresh worker, which dies again: no stale state
        pool(4)


def test_workers_are_recycled_after_max_tasks(
    make_pool: Callable[..., ProcessPool[Any, Any]],
) -> None:
    pool = make_pool(operator.call, max_tasks_per_worker=2)

    pids = [pool(os.getpid) for _ in range(5)]  # the worker calls os.getpid()

    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]


def test_a_worker_grown_too_large_is_replaced(
    make_pool: Callable[..., ProcessPool[Any, Any]],
) -> None:
    pool = make_pool(operator.call, max_worker_bytes=1)  # any real process is larger

    pids = [pool(os.getpid) for _ in range(3)]

    assert len(set(pids)) == 3


def test_runs_tasks_in_parallel_up_to_workers(
    make_pool: Callable[..., ProcessPool[Any, Any]],
) -> None:
    pool = make_pool(time.sleep, workers=2, timeout_s=1.0)
    errors: list[BaseException] = []

    def hang() -> None:
        try:
            pool(60)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=hang) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [type(error) for error in errors] == [TaskTimedOut, TaskTimedOut], errors
    assert pool(0) is None


def test_closed_pool_refuses_work(make_pool: Callable[..., ProcessPool[Any, Any]]) -> None:
    pool = make_pool(operator.neg)
    pool(1)
    pool.close()

    with pytest.raises(RuntimeError, match="closed"):
        pool(1)


def test_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="positive"):
        ProcessPool(operator.neg, workers=0, timeout_s=1, max_tasks_per_worker=1)
