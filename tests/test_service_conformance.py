"""The W3C SPARQL 1.1 protocol, graph store, service description and result-format tests, run by
our runner (tests/conformance/runner.py) against a real server with the write token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conformance.runner import SUITE_ROOT, Runner, render
from conftest import WRITE_TOKEN, Server

from treatygraph import build as builder
from treatygraph.store import Store

NOT_APPLICABLE_FILE = Path(__file__).parent / "conformance" / "NOT-APPLICABLE.md"


@pytest.fixture(scope="module")
def conformance_server(tmp_path_factory):
    """A server on a store of written data only: the suite's updates (CLEAR ALL, DROP ALL...)
    would change the curated graphs of a built store, which the service refuses (409)."""
    if not SUITE_ROOT.is_dir():
        pytest.skip(f"the W3C test suite is not at {SUITE_ROOT} (../shared of the repository)")
    directory = tmp_path_factory.mktemp("conformance")
    store = directory / "store"
    Store(store).flush()
    # A build record with no curated graphs (the Server marks it fresh, so it is not rebuilt).
    record = {"fingerprint": "", "quads": 0, "written_quads": 0, "curated": {}}
    (store / builder.MARKER).write_text(json.dumps(record))
    running = Server(store, directory / "server.log", write_token=WRITE_TOKEN).start()
    yield running
    running.stop()


def test_w3c_sparql11_endpoint_tests(conformance_server):
    runner = Runner(conformance_server.url, WRITE_TOKEN)
    try:
        results = runner.run()
    finally:
        runner.close()
    report = render(results)
    print(report)
    failed = [r for r in results if r.status == "failed"]
    assert not failed, report
    # every test the runner could not apply is listed, with its reason, in NOT-APPLICABLE.md
    documented = NOT_APPLICABLE_FILE.read_text()
    for result in results:
        if result.status in ("not-applicable", "known-failure"):
            assert result.name in documented
    assert sum(r.status == "passed" for r in results) >= 40
