"""A small process pool that can kill one task: a hard time limit per page.

trafilatura has no time limit as a library, and a pathological page can keep it busy
for minutes or grow its memory without bound. ``concurrent.futures`` pools cannot stop
one running task, so each worker here is a process of its own behind a pipe: a task
that overruns its time limit gets its worker killed and replaced, a worker that dies
is replaced, and a worker is retired after a number of tasks so that whatever memory
the parser leaks or fragments is given back to the system.

Calls block; the service runs them in threads (one per worker), the CLI and the
benchmark directly.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import threading
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

__all__ = ["ProcessPool", "TaskTimedOut", "WorkerDied"]

Arg = TypeVar("Arg")
Result = TypeVar("Result")


_STOP_GRACE_S = 2.0  # a retiring worker finishes its loop in far less
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class TaskTimedOut(Exception):
    """The task ran longer than the pool's time limit; its worker was killed."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"timed out after {timeout_s:g}s")
        self.timeout_s = timeout_s


class WorkerDied(Exception):
    """The worker process ended during the task (killed by the OOM killer, a crash...)."""

    def __init__(self, exitcode: int | None) -> None:
        super().__init__(f"worker process died (exit code {exitcode})")
        self.exitcode = exitcode


class _RemoteError(Exception):
    """An unpicklable exception raised in a worker, carried back as its traceback."""


def _resident_bytes() -> int:
    """This process's resident memory (Linux); 0 where /proc is not available."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def _serve(function: Callable[[Any], Any], connection: Connection) -> None:
    """A worker's loop: call ``function`` on each argument received until told to stop."""
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if message is None:
            return
        try:
            reply: tuple[bool, Any, int] = (True, function(message), _resident_bytes())
        except Exception as error:  # every error goes back to the caller
            reply = (False, error, _resident_bytes())
        try:
            connection.send(reply)
        except Exception:  # the result or the error does not pickle
            connection.send((False, _RemoteError(traceback.format_exc()), _resident_bytes()))


class _Worker:
    def __init__(self, context: BaseContext, function: Callable[[Any], Any]) -> None:
        self.connection, child = context.Pipe()
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(function, child), daemon=True
        )
        self.process.start()
        child.close()
        self.tasks = 0

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.connection.close()

    def retire(self) -> None:
        with contextlib.suppress(OSError):  # already dead: nothing to tell it
            self.connection.send(None)
        self.process.join(_STOP_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


class ProcessPool(Generic[Arg, Result]):
    """``workers`` processes running ``function``, each call limited to ``timeout_s``.

    ``function`` and its arguments and results must pickle (a module-level function).
    A worker is replaced after ``max_tasks_per_worker`` calls, or as soon as its
    resident memory exceeds ``max_worker_bytes`` after a call. Workers start lazily,
    on the first call that finds none idle, up to ``workers``. ``preload`` names
    modules for a fork server to import once for all workers.
    """

    def __init__(
        self,
        function: Callable[[Arg], Result],
        *,
        workers: int,
        timeout_s: float,
        max_tasks_per_worker: int,
        max_worker_bytes: int | None = None,
        start_method: str = "forkserver",
        preload: Sequence[str] = (),
    ) -> None:
        if workers < 1 or timeout_s <= 0 or max_tasks_per_worker < 1:
            raise ValueError("workers, timeout_s and max_tasks_per_worker must be positive")
        self._function = function
        self.workers = workers
        self.timeout_s = timeout_s
        self.max_tasks_per_worker = max_tasks_per_worker
        self.max_worker_bytes = max_worker_bytes
        self._context = multiprocessing.get_context(start_method)
        if preload and start_method == "forkserver":
            # Modules the fork server imports once, so that a new worker (after a
            # timeout or a recycling) starts in milliseconds instead of re-importing.
            # Process-wide, and only until the fork server starts.
            self._context.set_forkserver_preload(list(preload))
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._slots = threading.BoundedSemaphore(workers)  # calls in progress
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._closed = False

    def _checkout(self) -> _Worker:
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            if worker.process.is_alive():
                return worker
            self._discard(worker, kill=True)  # died while idle (the OOM killer): reap it
        worker = _Worker(self._context, self._function)
        with self._lock:
            self._all.add(worker)
        return worker

    def _discard(self, worker: _Worker, *, kill: bool) -> None:
        with self._lock:
            self._all.discard(worker)
        if kill:
            worker.kill()
        else:
            worker.retire()

    def _checkin(self, worker: _Worker, resident_bytes: int) -> None:
        worker.tasks += 1
        oversized = self.max_worker_bytes is not None and resident_bytes > self.max_worker_bytes
        if oversized or worker.tasks >= self.max_tasks_per_worker or self._closed:
            self._discard(worker, kill=False)
        else:
            self._idle.put(worker)

    def __call__(self, argument: Arg) -> Result:
        """Run ``function(argument)`` in a worker; raises what it raised, or
        :class:`TaskTimedOut` / :class:`WorkerDied`."""
        if self._closed:
            raise RuntimeError("the pool is closed")
        with self._slots:
            worker = self._checkout()
            try:
                worker.connection.send(argument)
                if not worker.connection.poll(self.timeout_s):
                    self._discard(worker, kill=True)
                    raise TaskTimedOut(self.timeout_s)
                succeeded, value, resident_bytes = worker.connection.recv()
            except (EOFError, OSError) as error:
                self._discard(worker, kill=True)
                raise WorkerDied(worker.process.exitcode) from error
            self._checkin(worker, resident_bytes)
        if succeeded:
            return value  # type: ignore[no-any-return]
        raise value

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for monitoring)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def close(self) -> None:
        """Stop every worker; calls in progress are cut short with :class:`WorkerDied`."""
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.kill()

    def __enter__(self) -> ProcessPool[Arg, Result]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
