"""Time-bounded SPARQL execution in a small pool of worker processes.

pyoxigraph cannot cancel a running query, so every query runs in a worker process that opens the
on-disk store read-only; a worker that overruns the time bound is killed and replaced, and the
client gets a clear error. The event loop only waits on a pipe (in a thread), so a slow query never
blocks other requests. Writes are rare (they need the write token): they wait for the running
queries, stop the readers, run in a read-write worker of their own, then start fresh readers, which
see the new data.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from treatygraph.api import worker
from treatygraph.api.worker import Job, Outcome
from treatygraph.store import Limits

log = logging.getLogger("treatygraph.executor")
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["treatygraph.api.worker"])
START_TIMEOUT = 60.0


class QueryTimeout(RuntimeError):
    """The query ran past the time bound and was stopped."""


class WorkerFailed(RuntimeError):
    """A worker died or could not start; the request could not be answered."""


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: object

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        """Ask the worker to close its store and exit; kill it if it does not."""
        try:
            self.conn.send(None)
            if self.conn.poll(10):
                self.conn.recv()
        except (OSError, EOFError):
            pass
        self.process.join(10)
        self.kill()


_MAIN_LOCK = threading.Lock()


def _start(path: Path, read_only: bool, limits: Limits) -> _Worker:
    parent, child = _CONTEXT.Pipe()
    process = _CONTEXT.Process(
        target=worker.main, args=(child, str(path), read_only, limits), daemon=True
    )
    # A new process re-imports the parent's __main__ (here the CLI, with rdflib and the build)
    # unless __main__ has no file or spec to import; the worker needs none of it, so hide them
    # while the process starts: a worker then starts in tens of milliseconds.
    main = sys.modules["__main__"]
    with _MAIN_LOCK:
        saved = {k: main.__dict__.pop(k) for k in ("__file__", "__spec__") if k in main.__dict__}
        main.__spec__ = None
        try:
            process.start()
        finally:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)
    child.close()
    handle = _Worker(process, parent)
    if not parent.poll(START_TIMEOUT):
        handle.kill()
        raise WorkerFailed("a query worker did not start in time")
    try:
        ready = parent.recv()
    except EOFError:
        handle.kill()
        raise WorkerFailed("a query worker exited while starting") from None
    if ready.error:
        handle.kill()
        raise WorkerFailed(ready.error)
    return handle


def _exchange(handle: _Worker, job: Job, timeout: float) -> Outcome | None:
    """Send a job and wait for its outcome (None when the time bound passes). Runs in a thread."""
    handle.conn.send(job)
    if not handle.conn.poll(timeout):
        return None
    return handle.conn.recv()


async def _exchange_async(handle: _Worker, job: Job, timeout: float) -> Outcome | None:
    """Like `_exchange`, but waits for the answer on the event loop (no thread hop per query)."""
    loop = asyncio.get_running_loop()
    handle.conn.send(job)
    ready = loop.create_future()
    fd = handle.conn.fileno()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await asyncio.wait_for(ready, timeout)
    except TimeoutError:
        return None
    finally:
        loop.remove_reader(fd)
    return handle.conn.recv()


class Executor:
    """A pool of read-only query workers over the store at `path`, plus exclusive writes."""

    def __init__(self, path: Path, *, workers: int, timeout: float, limits: Limits):
        self.path = path
        self.size = max(1, workers)
        self.timeout = timeout
        self.limits = limits
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._write_lock = asyncio.Lock()
        self.generation = 0  # bumped after every write, so caches know to refresh

    async def start(self) -> None:
        handles = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        for handle in handles:
            self._idle.put_nowait(handle)

    async def close(self) -> None:
        for handle in list(self._all):
            await asyncio.to_thread(handle.stop)
        self._all.clear()

    async def _spawn(self, read_only: bool = True) -> _Worker:
        handle = await asyncio.to_thread(_start, self.path, read_only, self.limits)
        if read_only:
            self._all.add(handle)
        return handle

    async def _replace(self, handle: _Worker) -> None:
        self._all.discard(handle)
        await asyncio.to_thread(handle.kill)
        try:
            self._idle.put_nowait(await self._spawn())
        except WorkerFailed:
            log.exception("could not replace a query worker")

    async def run(self, job: Job, timeout: float | None = None) -> Outcome:
        """Run a read job on an idle worker within the time bound."""
        limit = self.timeout if timeout is None else timeout
        handle = await self._acquire(limit)
        try:
            outcome = await _exchange_async(handle, job, limit)
        except (EOFError, OSError, BrokenPipeError):
            asyncio.get_running_loop().create_task(self._replace(handle))
            raise WorkerFailed("the query worker stopped unexpectedly") from None
        except asyncio.CancelledError:
            # The request went away mid-query: the worker's answer would be read by nobody.
            asyncio.get_running_loop().create_task(self._replace(handle))
            raise
        if outcome is None:
            # Stop the overrunning worker now; a fresh one joins the pool when it is ready.
            asyncio.get_running_loop().create_task(self._replace(handle))
            raise QueryTimeout(f"the query exceeded the {limit:g} s time limit and was stopped")
        self._idle.put_nowait(handle)
        return outcome

    async def _acquire(self, wait: float) -> _Worker:
        """An idle worker; a request waits at most `wait` seconds for one (else: busy)."""
        try:
            return await asyncio.wait_for(self._idle.get(), wait)
        except TimeoutError:
            raise WorkerFailed(
                f"the service is busy: no query worker was free within {wait:g} s"
            ) from None

    async def write(self, job: Job, timeout: float | None = None) -> Outcome:
        """Run a write job alone: wait for the readers, stop them, write, start fresh readers.

        Shielded: a client that goes away does not leave the pool half stopped."""
        limit = max(self.timeout, 60.0) if timeout is None else timeout
        return await asyncio.shield(self._write(job, limit))

    async def _write(self, job: Job, limit: float) -> Outcome:
        async with self._write_lock:
            readers: list[_Worker] = []
            try:
                for _ in range(self.size):
                    readers.append(await self._acquire(self.timeout * 2 + 10))
            except WorkerFailed:
                for handle in readers:
                    self._idle.put_nowait(handle)
                raise
            for handle in readers:
                self._all.discard(handle)
            await asyncio.gather(*(asyncio.to_thread(h.stop) for h in readers))
            try:
                writer = await self._spawn(read_only=False)
                outcome = None
                try:
                    outcome = await asyncio.to_thread(_exchange, writer, job, limit)
                finally:
                    # An overrunning writer is killed: its transaction is never committed.
                    await asyncio.to_thread(writer.kill if outcome is None else writer.stop)
                if outcome is None:
                    raise QueryTimeout(
                        f"the update exceeded the {limit:g} s time limit and was stopped"
                    )
                self.generation += 1
                return outcome
            finally:
                for handle in await asyncio.gather(*(self._spawn() for _ in range(self.size))):
                    self._idle.put_nowait(handle)
