"""Property-based tests of the whole OpenAPI document against a live server (schemathesis 4).

Every operation of /openapi.json is exercised against a live read-only server on loopback, with
every check schemathesis has (no server error, status codes, content types, response
schemas and headers, schema-valid data accepted, invalid data rejected, missing headers,
unsupported methods, Allow headers, auth...), in the examples, coverage and fuzzing phases, and
then as a stateful run. Generation is bounded (examples per operation, steps per stateful run)
and seeded, so a run is repeatable and takes about a minute or two.

The run has a server of its own (read-only, as the session's, with a longer query bound: see
`fuzzed_server`). Nothing is excluded from generation. The write operations (SPARQL Update,
Graph Store PUT/POST/DELETE) are exercised too: the server has no write token, and the OpenAPI
document of such a read-only service says so (every write answers 403), so what is checked is
that each write route refuses any input cleanly, never that data changes.

One allowance, per operation: the SPARQL Protocol and Graph Store routes take a query or an
RDF document whose validity no JSON Schema can state (a random string is "schema-valid" but
rarely SPARQL; `?graph=` and `?default` exclude each other), so for them a 400 (and for
/sparql a 406: a `format` that does not fit the query's form) also counts as accepting
schema-valid data. Everything else is checked as schemathesis does by default.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.conftest import MAX_RESULT_BYTES, Server, _copy

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import engine  # noqa: E402
from schemathesis.engine import events  # noqa: E402

MAX_EXAMPLES = 25  # per operation and phase
TIME_BUDGET = 600.0  # seconds for the whole run (about two minutes on two shared cores)
STATEFUL_STEPS = 8
SEED = 20240601
PROTOCOL_ROUTES = r"^/(sparql|update|rdf-graphs/service)$"
CONFIG = f"""
seed = {SEED}
request-timeout = 30
workers = 1
suppress-health-check = ["too_slow"]

[generation]
max-examples = {MAX_EXAMPLES}
database = ":memory:"

[checks]
enabled = true

[phases.stateful]
max-steps = {STATEFUL_STEPS}

[[operations]]
include-path-regex = "{PROTOCOL_ROUTES}"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "406", "409", "429", "5xx"
]
"""


@dataclass
class Run:
    """What one schemathesis run saw: every answer's status, the failed checks, the errors."""

    statuses: list[tuple[str, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)
    phases: set[str] = field(default_factory=set)

    def record(self, phase, recorder) -> None:
        self.phases.add(str(phase.value if hasattr(phase, "value") else phase))
        self.operations.add(recorder.label)
        for interaction in recorder.interactions.values():
            if interaction.response is not None:
                request = interaction.request
                where = f"{request.method} {request.uri}"
                self.statuses.append((where, interaction.response.status_code))
        for checks in recorder.checks.values():
            for check in checks:
                if check.failure_info is not None:
                    failure = check.failure_info.failure
                    self.failures.append(
                        f"{recorder.label}: {check.name}: {failure.title}: {failure.message}"
                        f"\n  {check.failure_info.code_sample}"
                    )


@pytest.fixture(scope="module")
def fuzzed_server(built_store, tmp_path_factory) -> Iterator[Server]:
    """A read-only server like the session's, but with a generous query bound: the run loads a
    machine of two shared cores, on which the session server's 4 s bound would turn a heavy
    but correct query (source disagreements, about 1 s idle) into a 503 now and then."""
    store = _copy(built_store, tmp_path_factory.mktemp("fuzzed") / "store")
    running = Server(
        store,
        store.parent / "server.log",
        query_timeout=60,
        max_result_bytes=MAX_RESULT_BYTES,
        max_body_bytes=100_000,
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def run(fuzzed_server) -> Run:
    """One seeded, bounded run of every phase (examples, coverage, fuzzing, stateful)."""
    config = schemathesis.Config.from_str(CONFIG)
    url = f"{fuzzed_server.url}/openapi.json"
    schema = schemathesis.openapi.from_url(url, config=config)
    seen = Run()
    stream = engine.from_schema(schema).execute()
    deadline = time.monotonic() + TIME_BUDGET
    for event in stream:
        if deadline is not None and time.monotonic() > deadline:
            stream.stop()  # the engine winds down and reports what it ran
            seen.errors.append(f"the run took longer than {TIME_BUDGET:g} s")
            deadline = None
        if isinstance(event, events.ScenarioFinished):
            seen.record(event.phase, event.recorder)
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            seen.errors.append(f"{getattr(event, 'label', '')}: {event!r}")
    return seen


def test_every_operation_was_exercised(run, fuzzed_server):
    with fuzzed_server.client() as http:
        spec = http.get("/openapi.json").json()
    operations = {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}
    assert operations <= run.operations
    assert len(run.statuses) > 20 * len(operations)
    assert {"examples", "coverage", "fuzzing", "stateful"} <= {p.lower() for p in run.phases}
    assert any(status == 200 for _, status in run.statuses)


def test_no_server_errors(run):
    server_errors = [(where, status) for where, status in run.statuses if status >= 500]
    assert server_errors == []


def test_every_check_passes(run):
    """Status codes, media types, bodies and headers as documented; schema-valid input
    accepted, invalid input rejected; missing headers, other methods and Allow as they should."""
    assert run.failures == [], "\n".join(run.failures[:20])


def test_no_errors_while_testing(run):
    """No schema error, health check or transport failure, and the run ended within its time."""
    assert run.errors == []
