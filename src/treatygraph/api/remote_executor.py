"""The service in front of an existing SPARQL 1.1 engine: jobs run against a `RemoteStore`.

The same jobs as the embedded store's worker pool (`executor.Executor`), the same guard before
the engine sees a client's text, the same upload bounds; the engine itself bounds and evaluates.
Each job runs on a thread (the remote store's HTTP client is blocking), within the query bound;
a store that is down or slow answers 503 naming the URL and the reason.

Several `serve` instances may stand in front of one engine. A write through one instance is not
seen by the caches of another, so in this mode answers are remembered for at most
`remember_seconds` (the version changes with each write here and with each period).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from treatygraph import guard, uploads
from treatygraph.api.executor import Busy, QueryTimeout
from treatygraph.api.worker import STATS, Job, Outcome, change
from treatygraph.stores import base
from treatygraph.stores.remote import RemoteStore


class RemoteExecutor:
    """`run` and `write` as `executor.Executor` has them, against a remote SPARQL engine."""

    catalogue = False  # the catalogue is made from the embedded store only

    def __init__(
        self,
        store: RemoteStore,
        *,
        timeout: float,
        concurrency: int = 8,
        remember_seconds: float = 5.0,
        query_guard: bool = True,
    ):
        self.store = store
        self.timeout = timeout
        self.query_guard = query_guard
        self.remember_seconds = remember_seconds
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._writes = 0
        self._write_lock = asyncio.Lock()

    @property
    def generation(self) -> int:
        """Changes with every write through this instance and every `remember_seconds`."""
        period = int(time.time() // self.remember_seconds) if self.remember_seconds > 0 else 0
        return self._writes * 1_000_003 + period

    async def start(self) -> None:
        try:
            await asyncio.to_thread(self.store.query, "ASK {}")
        except base.StoreUnavailable as error:
            raise RuntimeError(f"the store is not reachable: {error}") from None

    async def close(self) -> None:
        await asyncio.to_thread(self.store.close)

    async def run(self, job: Job, timeout: float | None = None) -> Outcome:
        limit = self.timeout if timeout is None else timeout
        try:
            await asyncio.wait_for(self._slots.acquire(), limit)
        except TimeoutError:
            raise Busy("the service is busy: every connection to the store is in use", 1) from None
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._do, job), limit)
        except TimeoutError:
            raise QueryTimeout(
                f"the store did not answer within the {limit:g} s time limit"
            ) from None
        finally:
            self._slots.release()

    async def write(self, job: Job, timeout: float | None = None) -> Outcome:
        async with self._write_lock:
            outcome = await self.run(job, max(self.timeout, 60.0) if timeout is None else timeout)
            if outcome.error is None:
                self._writes += 1
            return outcome

    # -- one job ---------------------------------------------------------------------------------

    def _do(self, job: Job) -> Outcome:
        try:
            return self._job(job)
        except guard.Refused as refused:
            return Outcome(error=str(refused), error_kind="refused", value=refused.clause)
        except uploads.UploadRefused as refused:
            return Outcome(error=str(refused), error_kind="upload", value=refused.status)
        except base.QuerySyntaxError as error:
            return Outcome(error=str(error), error_kind="syntax")
        except base.ResultTooLarge as error:
            return Outcome(error=str(error), error_kind="too_large")
        except (base.DataSyntaxError, base.UnsupportedMediaType) as error:
            return Outcome(error=str(error), error_kind="bad_data")
        except base.StoreUnavailable as error:
            return Outcome(error=f"the store is unavailable: {error}", error_kind="unavailable")
        except base.StoreError as error:
            return Outcome(error=f"the store refused the request: {error}", error_kind="store")

    def _job(self, job: Job) -> Outcome:
        store = self.store
        if job.op in ("query", "rows"):
            if job.guard and self.query_guard:
                guard.check_query(job.sparql, guard.GraphNames(store.has_graph))
            result = store.query(
                job.sparql,
                default_graphs=list(job.default_graphs) or None,
                named_graphs=list(job.named_graphs) or None,
            )
            if job.op == "query":
                return Outcome(kind=result.kind, body=result.serialize(job.media_type or ""))
            if result.kind == "ask":
                return Outcome(kind="ask", value=result.boolean)
            if result.kind == "graph":
                rows = [
                    {"s": base.Term.of(t.subject), "p": base.Term.of(t.predicate),
                     "o": base.Term.of(t.object)}
                    for t in result.triples
                ]  # fmt: skip
                return Outcome(kind="graph", rows=rows)
            return Outcome(kind="select", variables=result.variables, rows=result.rows)
        changed = change(store, job if self.query_guard else replace(job, guard=False))
        if changed is not None:
            return changed
        if job.op == "dump":
            media_type = job.media_type or "text/turtle"
            return Outcome(kind="graph", body=store.dump(media_type, job.graph))
        elif job.op == "graphs":
            return Outcome(value=store.graphs())
        elif job.op == "stats":
            counts = {
                row["g"].value: int(row["n"].value) for row in store.query(STATS).rows if "g" in row
            }
            return Outcome(value=counts | {"": sum(counts.values())})
        return Outcome(error=f"{job.op} is not available on a remote store", error_kind="store")
