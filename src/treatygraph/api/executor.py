"""Time-bounded SPARQL execution in a small pool of sandboxed worker processes, shared fairly.

pyoxigraph cannot cancel a running query, so every query runs in a worker process that opens the
on-disk store read-only; a worker that overruns the time bound is killed and replaced, and the
client gets a clear error. Workers cannot open sockets and have a memory bound (`sandbox`). The
event loop only waits on a pipe, so a slow query never blocks other requests.

Fairness: a client's query that runs longer than `long_after` seconds becomes *long*: its worker
leaves the pool (a fresh one takes its place, so short requests keep every pooled worker) and
drops to the lowest CPU priority; at most `max_long` long queries run at once. A query that
becomes long while that many already run is stopped at once (503 with Retry-After), and its
shape (the text with comments, variables, strings and numbers made alike) is remembered as heavy
for a while: a query of a heavy shape waits for a long slot before it takes any worker, for a
bounded time. No request waits for a worker longer than `queue_wait` seconds (then 503 with
Retry-After).

Writes are rare (they need the write token): they wait for the running queries, stop the
readers, run in a read-write worker of their own, then start fresh readers, which see the new
data.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from treatygraph import guard
from treatygraph.api import worker
from treatygraph.api.worker import Confinement, Job, Outcome
from treatygraph.store import Limits

log = logging.getLogger("treatygraph.executor")
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["treatygraph.api.worker"])
START_TIMEOUT = 60.0


class QueryTimeout(RuntimeError):
    """The query ran past the time bound and was stopped."""


class WorkerFailed(RuntimeError):
    """A worker died or could not start; the request could not be answered."""


class Busy(RuntimeError):
    """No worker (or no slot for a long query) could be had in time; try again later."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Sharing:
    """How the workers are shared among requests (see the module's docstring)."""

    queue_wait: float = 5.0
    long_after: float = 0.5
    max_long: int = 1
    heavy_memory: float = 120.0  # seconds a text that ran long is treated as heavy


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


def _start(path: Path, read_only: bool, limits: Limits, confinement: Confinement) -> _Worker:
    parent, child = _CONTEXT.Pipe()
    process = _CONTEXT.Process(
        target=worker.main, args=(child, str(path), read_only, limits, confinement), daemon=True
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


def _fingerprint(job: Job) -> str:
    """The shape of a query: its tokens without comments, with every variable, string and
    number made alike, and its dataset. Texts that differ only in those (as an attacker's
    copies of one runaway query would) share a fingerprint."""
    shape = []
    for token in guard.tokens(job.sparql):
        if token.kind == "var":
            shape.append("?")
        elif token.kind == "string":
            shape.append('""')
        elif token.kind == "other" and token.text.isdigit():
            shape.append("0")
        else:
            shape.append(token.text.upper() if token.kind == "word" else token.text)
    key = "\x00".join([" ".join(shape), *job.default_graphs, "\x01", *job.named_graphs])
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def _lower_priority(handle: _Worker) -> None:
    """Run a long query's worker only on CPU time nobody else wants: Linux's SCHED_IDLE policy
    (weaker than nice 19), for each of its threads; nice 19 where that is not allowed."""
    pid = handle.process.pid
    if pid is None:
        return
    try:
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        threads = [pid]
    for tid in threads:
        try:
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        except (OSError, AttributeError):
            try:
                os.setpriority(os.PRIO_PROCESS, tid, 19)
            except OSError:
                pass  # not allowed here: the worker keeps its priority


def _exchange(handle: _Worker, job: Job, timeout: float) -> Outcome | None:
    """Send a job and wait for its outcome (None when the time bound passes). Runs in a thread."""
    handle.conn.send(job)
    if not handle.conn.poll(timeout):
        return None
    return handle.conn.recv()


class Executor:
    """A pool of read-only query workers over the store at `path`, plus exclusive writes."""

    def __init__(
        self,
        path: Path,
        *,
        workers: int,
        timeout: float,
        limits: Limits,
        confinement: Confinement | None = None,
        sharing: Sharing | None = None,
    ):
        self.path = path
        self.size = max(1, workers)
        self.timeout = timeout
        self.limits = limits
        self.confinement = confinement or Confinement()
        self.sharing = sharing or Sharing()
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._write_lock = asyncio.Lock()
        self._long_slots = asyncio.Semaphore(max(1, self.sharing.max_long))
        self._heavy: dict[str, float] = {}  # fingerprint of a heavy shape -> until when
        self._detached: set[_Worker] = set()  # workers running a long query, out of the pool
        self.generation = 0  # bumped after every write, so caches know to refresh

    async def start(self) -> None:
        handles = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        for handle in handles:
            self._idle.put_nowait(handle)

    async def close(self) -> None:
        for handle in list(self._all):
            await asyncio.to_thread(handle.stop)
        for handle in list(self._detached):
            await asyncio.to_thread(handle.kill)
        self._all.clear()
        self._detached.clear()

    async def _spawn(self, read_only: bool = True) -> _Worker:
        handle = await asyncio.to_thread(
            _start, self.path, read_only, self.limits, self.confinement
        )
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
        """Run a read job on an idle worker within the time bound, sharing the pool fairly."""
        limit = self.timeout if timeout is None else timeout
        if not job.client:
            return await self._run(job, limit, await self._acquire(limit))
        fingerprint = _fingerprint(job)
        if not self._is_heavy(fingerprint):
            handle = await self._acquire(self.sharing.queue_wait)
            return await self._run(job, limit, handle, fingerprint=fingerprint)
        # A query of this shape ran long lately: it waits for a long slot before it takes a
        # worker, so that it never holds one that short queries need.
        try:
            await asyncio.wait_for(self._long_slots.acquire(), self.sharing.queue_wait)
        except TimeoutError:
            raise Busy(
                "the service is busy: a query of this shape ran long lately, and the slots for "
                f"long queries stayed taken for {self.sharing.queue_wait:g} s",
                retry_after=max(1, round(limit)),
            ) from None
        try:
            handle = await self._acquire(self.sharing.queue_wait)
            self._detach(handle)
            return await self._run(job, limit, handle, fingerprint=fingerprint, detached=True)
        finally:
            self._long_slots.release()

    async def _run(
        self,
        job: Job,
        limit: float,
        handle: _Worker,
        *,
        fingerprint: str | None = None,
        detached: bool = False,
    ) -> Outcome:
        """Send the job and wait for its outcome. A client's query still running after
        `long_after` leaves the pool (a fresh worker takes its place) for a long slot at low
        priority, or is stopped when none is free; a detached worker is ended after its job."""
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        held = False  # whether this call took a long slot while it ran
        try:
            handle.conn.send(job)
            ready = loop.create_future()
            fd = handle.conn.fileno()
            loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
            try:
                if job.client and not detached:
                    done, _ = await asyncio.wait({ready}, timeout=self.sharing.long_after)
                    if not done:
                        self._remember_heavy(fingerprint)
                        if self._long_slots.locked():
                            loop.create_task(self._replace(handle))
                            raise Busy(
                                f"the query ran past {self.sharing.long_after:g} s while "
                                f"{self.sharing.max_long} long queries were running, and was "
                                "stopped so that other requests are served; retry later",
                                retry_after=max(1, round(limit)),
                            )
                        await self._long_slots.acquire()
                        held = detached = True
                        self._detach(handle)
                remaining = max(0.0, limit - (time.monotonic() - started))
                await asyncio.wait_for(asyncio.shield(ready), remaining)
            except TimeoutError:
                self._remember_heavy(fingerprint)
                loop.create_task(self._end(handle) if detached else self._replace(handle))
                raise QueryTimeout(
                    f"the query exceeded the {limit:g} s time limit and was stopped"
                ) from None
            finally:
                loop.remove_reader(fd)
            outcome = handle.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            loop.create_task(self._end(handle) if detached else self._replace(handle))
            raise WorkerFailed(self._death(handle)) from None
        except asyncio.CancelledError:
            # The request went away mid-query: the worker's answer would be read by nobody.
            loop.create_task(self._end(handle) if detached else self._replace(handle))
            raise
        finally:
            if held:
                self._long_slots.release()
        if detached:
            loop.create_task(self._end(handle))
        else:
            self._idle.put_nowait(handle)
        return outcome

    def _detach(self, handle: _Worker) -> None:
        """Take a worker out of the pool for a long query: lowest CPU priority, and a fresh
        worker in its place."""
        self._all.discard(handle)
        self._detached.add(handle)
        _lower_priority(handle)
        asyncio.get_running_loop().create_task(self._add())

    async def _add(self) -> None:
        try:
            self._idle.put_nowait(await self._spawn())
        except WorkerFailed:
            log.exception("could not start a query worker")

    async def _end(self, handle: _Worker) -> None:
        self._detached.discard(handle)
        await asyncio.to_thread(handle.kill)

    def _death(self, handle: _Worker) -> str:
        """Why a worker ended mid-job, as far as its exit tells."""
        handle.process.join(1)
        code = handle.process.exitcode
        bound = self.confinement.memory_mb
        if bound and code in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGKILL):
            return (
                f"the query needed more memory than the bound of {bound} MiB per query "
                "(or crashed the engine) and was stopped"
            )
        return f"the query worker stopped unexpectedly (exit code {code})"

    def _is_heavy(self, fingerprint: str) -> bool:
        until = self._heavy.get(fingerprint)
        if until is None:
            return False
        if until < time.monotonic():
            del self._heavy[fingerprint]
            return False
        return True

    def _remember_heavy(self, fingerprint: str | None) -> None:
        if fingerprint is None:
            return
        if len(self._heavy) > 10_000:
            now = time.monotonic()
            self._heavy = {k: v for k, v in self._heavy.items() if v >= now}
        self._heavy[fingerprint] = time.monotonic() + self.sharing.heavy_memory

    async def _acquire(self, wait: float) -> _Worker:
        """An idle worker; a request waits at most `wait` seconds for one (else: busy)."""
        try:
            return await asyncio.wait_for(self._idle.get(), wait)
        except TimeoutError:
            raise Busy(
                f"the service is busy: no query worker was free within {wait:g} s",
                retry_after=max(1, round(wait)),
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
            except Busy:
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
