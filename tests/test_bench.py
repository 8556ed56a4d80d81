"""The benchmark's own code, checked at a tiny size (no timing is asserted).

- the scale-up generator is deterministic, grows every class by the scale, and its 2x output
  still conforms to the shapes (checked on a small slice of the real data, for speed);
- each peer (rdflib-endpoint, the Oxigraph server) gives the same answers as treatygraph to the
  workload's SPARQL requests, on the same generated data: otherwise the throughput ratios would
  compare different work. Skipped, with the reason, when a peer is not installed
  (`pip install oxigraph rdflib-endpoint`, or bench/work/venv-peers; see bench/README.md).
"""

from __future__ import annotations

import http.server
import shutil
import sys
import threading
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from treatygraph import build, inference, sources, validation
from treatygraph.store import Store

# `bench` is a folder at the repository root, not part of the installed package.
if str(sources.REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(sources.REPO_ROOT))

from bench import generate, loadgen, workload  # noqa: E402
from bench.runner import probe  # noqa: E402
from bench.systems import (  # noqa: E402
    OxigraphServer,
    RdflibEndpoint,
    Treatygraph,
    find_executable,
)

# The slice: everything but participation, plus the participation of a few Parties.
KEPT_PARTIES = ("DEU", "FRA", "JPN", "BRA", "ZAF", "EUU")
PARTICIPATION = ("participation-ieadb.ttl", "participation-ecolex.ttl")
TG = "https://w3id.org/treatygraph/ontology#"


def _slice_sources(tmp: Path) -> list[sources.Source]:
    """The repository's sources, with the participation files cut down to a few Parties."""
    kept = []
    for source in sources.repo_sources():
        if source.path.name not in PARTICIPATION:
            kept.append(source)
            continue
        quads = ox.parse(path=str(source.path), format=ox.RdfFormat.TURTLE)
        small = [
            q
            for q in quads
            if "/participation/" not in q.subject.value
            or any(f"/{code}/" in q.subject.value for code in KEPT_PARTIES)
        ]
        target = tmp / (source.path.stem + ".nt")
        target.write_bytes(ox.serialize(small, format=ox.RdfFormat.N_TRIPLES) or b"")
        kept.append(sources.Source(target, source.graph_iri))
    return kept


@pytest.fixture(scope="module")
def small_real(tmp_path_factory) -> Store:
    store = Store()
    build.fill(store, _slice_sources(tmp_path_factory.mktemp("slice")))
    return store


def _asserted_as_ntriples(store: Store, target: Path) -> Path:
    """The union of the asserted graphs (no inferences, no provenance), as one N-Triples file."""
    skip = {str(inference.INFERRED_GRAPH), str(sources.PROVENANCE_GRAPH)}
    triples = {q.triple for q in store._store if q.graph_name.value not in skip}
    target.write_bytes(ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES))
    return target


def _class_counts(store: Store) -> dict[str, int]:
    query = (
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) "
        f"WHERE {{ ?s a ?c FILTER STRSTARTS(STR(?c), '{TG}') }} GROUP BY ?c"
    )
    rows = store.query(query).rows()
    return {r["c"].value: int(r["n"].value) for r in rows}


def test_generator_is_deterministic_and_seeded(small_real):
    first = set(generate.generate(3, seed=7, real=small_real)._store)
    again = set(generate.generate(3, seed=7, real=small_real)._store)
    other = set(generate.generate(3, seed=8, real=small_real)._store)
    assert first == again
    # The seed only decides which links are rewired across copies: same size, other links.
    assert len(other) == len(first) and other != first


def test_generator_grows_every_class_by_the_scale(small_real):
    one = _class_counts(generate.generate(1, real=small_real))
    three = _class_counts(generate.generate(3, real=small_real))
    assert one, "the slice has typed resources"
    for cls, count in one.items():
        if cls.startswith(TG) and count:
            # Ontology-level resources (kept once) may add to a class; copies triple the rest.
            assert three[cls] >= 3 * count - 10, cls


def test_doubled_graph_conforms_to_the_shapes(small_real, tmp_path):
    baseline = _asserted_as_ntriples(small_real, tmp_path / "slice.nt")
    report = validation.validate_sources(sources.user_sources([baseline]))
    assert report.conforms, validation.render_text(report)
    doubled = _asserted_as_ntriples(generate.generate(2, real=small_real), tmp_path / "x2.nt")
    report = validation.validate_sources(sources.user_sources([doubled]))
    assert report.conforms, validation.render_text(report)
    assert report.counts["resources_checked"] > 0


def test_written_nquads_are_what_generate_holds(small_real, tmp_path):
    path = generate.write(2, tmp_path / "x2.nq", real=small_real)
    written = set(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    assert written == set(generate.generate(2, real=small_real)._store)


def test_answers_compare_as_sets_of_rows():
    a = b'{"head":{"vars":["x","n"]},"results":{"bindings":[{"x":{"type":"uri","value":"u:1"},"n":{"type":"literal","value":"2","datatype":"http://www.w3.org/2001/XMLSchema#integer"}},{"x":{"type":"bnode","value":"b0"}}]}}'
    b = b'{"head":{"vars":["x","n"]},"results":{"bindings":[{"x":{"type":"bnode","value":"zz"}},{"n":{"type":"typed-literal","value":"2","datatype":"http://www.w3.org/2001/XMLSchema#integer"},"x":{"type":"uri","value":"u:1"}}]}}'
    c = b'{"head":{"vars":["x","n"]},"results":{"bindings":[{"x":{"type":"uri","value":"u:1"}}]}}'
    assert workload.difference(workload.normalise_select(a), workload.normalise_select(b)) == ""
    assert "2 vs 1 rows" in workload.difference(
        workload.normalise_select(a), workload.normalise_select(c)
    )


def test_percentile_is_nearest_rank():
    values = [float(x) for x in range(1, 101)]
    assert loadgen.percentile(values, 0.5) == 50.0
    assert loadgen.percentile(values, 0.99) == 99.0
    assert loadgen.percentile([], 0.5) is None


def test_mix_holds_every_named_question_and_no_api_query():
    labels = [r.label for r in workload.sparql_mix(1) if r.kind == "question"]
    stems = sorted(
        p.stem
        for p in (Path(sources.REPO_ROOT) / "queries").glob("*.rq")
        if not p.stem.startswith("api-")
    )
    assert len(labels) == len(stems)
    assert not any(label.startswith("api-") for label in labels)
    assert all(r.sparql.startswith("DESCRIBE <") for r in workload.sparql_mix(3)[len(labels) :])
    assert "/x2/" in workload.sparql_mix(3)[-1].sparql


# -- the peers give treatygraph's answers -------------------------------------------------------


@pytest.fixture(scope="module")
def peer_data(small_real, tmp_path_factory) -> Path:
    return generate.write(2, tmp_path_factory.mktemp("peers") / "x2.nq", real=small_real)


# rdflib-endpoint takes minutes over some questions even at this size; it is restarted after a
# timeout (it cannot cancel a query), and what it does answer must match.
PEER_TIMEOUT = 20.0
SLOW = ("timed out", "not sent")


def _running(system, nquads: Path):
    system.prepare(nquads, timeout=300)
    system.figures.cold_start_seconds = system.start()
    return system


@pytest.mark.parametrize("peer_class", [OxigraphServer, RdflibEndpoint], ids=lambda c: c.name)
def test_peer_answers_the_workload_like_treatygraph(peer_class, peer_data, tmp_path):
    executable = {"oxigraph": "oxigraph", "rdflib-endpoint": "rdflib-endpoint"}[peer_class.name]
    env = {"oxigraph": "TG_BENCH_OXIGRAPH", "rdflib-endpoint": "TG_BENCH_RDFLIB_ENDPOINT"}
    if not find_executable(executable, env[peer_class.name]):
        pytest.skip(
            f"{peer_class.name} is not installed: pip install oxigraph rdflib-endpoint "
            f"(or set {env[peer_class.name]})"
        )
    ours = _running(Treatygraph(tmp_path / "tg"), peer_data)
    peer = _running(peer_class(tmp_path / "peer"), peer_data)
    try:
        # The main mix and the short queries (bench/short.py) alike.
        from bench import short

        mix = workload.sparql_mix(2) + short.short_mix("treaty", 2)
        checked = probe([ours, peer], mix, timeout=PEER_TIMEOUT, max_timeouts=len(mix))
    finally:
        peer.stop()
        ours.stop()
        shutil.rmtree(tmp_path, ignore_errors=True)
    problems = []
    sizes = Counter()
    too_slow = []
    for row in checked["rows"]:
        mine, theirs = row["systems"]["treatygraph"], row["systems"][peer_class.name]
        if peer_class is RdflibEndpoint and theirs.get("status", "").startswith(SLOW):
            too_slow.append(row["label"])  # rdflib is that slow; the bench reports it
        elif mine.get("status") != "ok" or theirs.get("status") != "ok":
            problems.append(f"{row['label']}: {mine.get('status')} / {theirs.get('status')}")
        elif not theirs.get("same_as_treatygraph"):
            problems.append(f"{row['label']}: {theirs.get('difference')}")
        else:
            sizes[row["kind"]] += mine["size"]
    assert not problems, "\n".join(problems)
    # The check compares real answers, not empty ones, and most of the mix.
    assert sizes["question"] > 0 and sizes["describe"] > 0
    assert sizes["star"] > 0 and sizes["page"] > 0 and sizes["construct"] > 0
    assert len(too_slow) <= len(mix) // 2, f"rdflib-endpoint timed out on {too_slow}"


@pytest.mark.parametrize("peer_class", [OxigraphServer, RdflibEndpoint], ids=lambda c: c.name)
def test_peer_answers_the_short_queries_on_the_catalogue_like_treatygraph(peer_class, tmp_path):
    from bench import products, short

    executable = {"oxigraph": "oxigraph", "rdflib-endpoint": "rdflib-endpoint"}[peer_class.name]
    env = {"oxigraph": "TG_BENCH_OXIGRAPH", "rdflib-endpoint": "TG_BENCH_RDFLIB_ENDPOINT"}
    if not find_executable(executable, env[peer_class.name]):
        pytest.skip(f"{peer_class.name} is not installed: pip install oxigraph rdflib-endpoint")
    data = products.write(1, tmp_path / "products.nq")
    ours = _running(Treatygraph(tmp_path / "tg"), data)
    peer = _running(peer_class(tmp_path / "peer"), data)
    try:
        mix = short.short_mix("products", 1)
        checked = probe([ours, peer], mix, timeout=PEER_TIMEOUT, max_timeouts=len(mix))
    finally:
        peer.stop()
        ours.stop()
    problems = [
        f"{row['label']}: {row['systems'][peer_class.name].get('difference')}"
        f" / {row['systems'][peer_class.name].get('status')}"
        for row in checked["rows"]
        if not row["systems"][peer_class.name].get("same_as_treatygraph")
    ]
    assert not problems, "\n".join(problems)


# -- the short mixes, the product catalogue, the light client, load and profile summaries -------

from bench import loadtime, products, report, short  # noqa: E402
from bench import profile as bench_profile  # noqa: E402


def test_product_catalogue_is_deterministic_and_grows_with_the_scale(tmp_path):
    one = products.write(1, tmp_path / "a.nq").read_bytes()
    assert products.write(1, tmp_path / "b.nq").read_bytes() == one
    assert products.write(1, tmp_path / "c.nq", seed=products.SEED + 1).read_bytes() != one
    quads = list(ox.parse(one, format=ox.RdfFormat.N_QUADS))
    assert 100_000 < len(quads) < 140_000  # about the real treaty graph's size
    assert all(isinstance(q.graph_name, ox.NamedNode) for q in quads)
    two = products.write(2, tmp_path / "d.nq").read_bytes()
    assert 1.9 < two.count(b"\n") / one.count(b"\n") < 2.1


def _answers(store: ox.Store, request) -> int:
    result = store.query(request.sparql, use_default_graph_as_union=True)
    return int(bool(result)) if isinstance(result, ox.QueryBoolean) else len(list(result))


def test_every_short_query_has_an_answer_on_both_datasets(small_real, tmp_path):
    """Each short query finds something (ASKs may say false), so the mix measures real work;
    and each kind has five queries, each request a distinct label."""
    treaty = ox.Store()
    treaty.extend(generate.generate(2, real=small_real)._store)
    catalogue = ox.Store()
    catalogue.load(path=str(products.write(1, tmp_path / "p.nq")), format=ox.RdfFormat.N_QUADS)
    mixes = ((treaty, short.short_mix("treaty", 2)), (catalogue, short.short_mix("products", 1)))
    for store, mix in mixes:
        assert Counter(r.kind for r in mix) == {kind: 5 for kind in short.SHORT_KINDS}
        assert len({r.label for r in mix}) == len(mix)
        assert all(dict(r.headers) == {"Cache-Control": "no-cache"} for r in mix)
        empty = [r.label for r in mix if r.kind != "ask" and _answers(store, r) == 0]
        assert not empty, empty
    # On a grown graph the resources are those of its last copy.
    assert all("/x1/" in r.sparql for r in short.short_mix("treaty", 2) if r.kind == "describe")


def test_question_mixes_are_gets_evaluated_repeated_and_conditional():
    mixes = short.question_mixes()
    assert set(mixes) == set(short.QUESTION_MIXES)
    labels = [r.label for r in workload.question_requests()]
    for mix in mixes.values():
        assert [r.label for r in mix] == labels
        assert all(r.method == "GET" for r in mix)
    assert all(
        dict(r.headers) == {"Cache-Control": "no-cache"} for r in mixes["questions-evaluated"]
    )
    assert not any(r.headers or r.conditional for r in mixes["questions-repeated"])
    assert all(r.conditional and not r.headers for r in mixes["questions-conditional"])


class _Tagged(http.server.BaseHTTPRequestHandler):
    """Answers every GET with an ETag, and 304 to If-None-Match naming it."""

    protocol_version = "HTTP/1.1"
    seen: list[dict] = []

    def do_GET(self):  # noqa: N802 - the handler's name
        _Tagged.seen.append(dict(self.headers))
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"head":{},"boolean":true}'
        self.send_response(200)
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_conditional_requests_send_the_last_etag_and_count_304s():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tagged)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Peer(OxigraphServer):
        sparql_path = "/query"

    peer = Peer(Path("/nonexistent"))
    peer.port = server.server_address[1]
    _Tagged.seen.clear()
    try:
        mix = short.question_mixes()["questions-conditional"][:2]
        cell = loadgen.run_cell(peer, mix, clients=1, duration=0.2, max_requests=6, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert (cell.ok, cell.errors) == (6, 0)
    # The first request of each label has no ETag to send; every later one does (and gets 304).
    assert cell.not_modified == 4
    assert [("If-None-Match" in h) for h in _Tagged.seen] == [False, False, True, True, True, True]
    assert all(h.get("Cache-Control") is None for h in _Tagged.seen)


def test_engine_time_is_measured_for_every_request(tmp_path):
    store_path = tmp_path / "store"
    store = ox.Store(str(store_path))
    store.bulk_load(path=str(products.write(1, tmp_path / "p.nq")), format=ox.RdfFormat.N_QUADS)
    del store
    mix = short.short_mix("products", 1)
    times = short.engine_times(store_path, mix, budget=0.01)
    assert set(times) == {r.label for r in mix}
    assert all(0 < seconds < 1 for seconds in times.values())


def test_the_load_file_names_no_curated_graph_and_treatygraph_loads_it(tmp_path):
    from treatygraph import loading

    source = tmp_path / "x.nq"
    source.write_text(
        '<https://w3id.org/treatygraph/id/a> <http://example.org/p> "1" '
        "<https://w3id.org/treatygraph/graph/data/basel/convention.ttl> .\n"
        '<https://w3id.org/treatygraph/id/b> <http://example.org/p> "2" '
        "<https://w3id.org/treatygraph/graph/inferred> .\n"
    )
    with pytest.raises(loading.LoadRefused):
        loading.plan([source], None, {})
    files = loadtime.loadable_copies(source, tmp_path / "work")
    for path in files.values():
        items = loading.plan([path], None, {})  # not refused
        assert items[0].quads
    import gzip as gz

    plain = files["nq"].read_bytes()
    assert gz.decompress(files["nq.gz"].read_bytes()) == plain
    assert plain.count(b"graph/bench/") == 2 and plain.count(b"\n") == 2


def test_the_report_shows_the_short_mixes_the_load_and_their_targets():
    def cell(throughput, not_modified=0):
        return {
            "throughput": throughput, "p50_ms": 1.0, "p99_ms": 2.0, "not_modified": not_modified,
            "by_kind": {"describe": {"n": 3, "p50_ms": 1.0, "p99_ms": 2.0}},
            "by_request": {"DESCRIBE x": {"n": 3, "p50_ms": 1.0}}, "load_average": [1.5, 1, 1],
        }  # fmt: skip

    def mixes(ours, theirs, names=("short", "questions-repeated")):
        return {
            name: {"requests": ["DESCRIBE x"], "excluded": [], "cells": {
                "treatygraph": {"1": cell(ours)}, "oxigraph": {"1": cell(theirs)}}}
            for name in names
        }  # fmt: skip

    overhead = {
        "treatygraph": {"describe": {"p50_ms": 1.0, "engine_ms": 0.1, "over_engine_ms": 0.9}}
    }
    results = {
        "started": "t0", "finished": "t1",
        "machine": {"cpus": 2, "python": "3", "load_average_at_start": [1, 1, 1]},
        "options": {"clients": [1], "duration_seconds": 1, "max_requests": 10,
                    "request_timeout_seconds": 5, "mixes": ["short", "questions", "load"],
                    "rounds": 2},
        "scales": [{
            "scale": 1, "data": {"quads": 10, "bytes": 100}, "systems": {},
            "short": {"mixes": mixes(400.0, 100.0), "overhead": {"short": overhead}},
            "products": {"data": {"quads": 5}, "systems": {},
                         "short": {"mixes": mixes(50.0, 100.0, ("short",))}},
            "load": {"quads": 10, "files": {"nq": {"name": "f.nq", "bytes": 100}},
                     "runs": [{"command": c, "form": "nq", "seconds": s, "cpu_seconds": s,
                               "peak_rss_bytes": 2**20, "load_average": [1.0, 1, 1]}
                              for c, s in (("treatygraph", 3.0), ("oxigraph", 2.5))],
                     "median_seconds": {"nq": {"treatygraph": 3.0, "oxigraph": 2.5}}},
        }],
    }  # fmt: skip
    rows = {target: (measured, verdict) for target, measured, verdict in report.targets(results)}
    repeated = next(k for k in rows if k.startswith("repeated named questions"))
    assert rows[repeated] == ("4.00×", "met")
    load = next(k for k in rows if "treatygraph load" in k)
    assert rows[load] == ("3.0 s vs 2.5 s: 1.20×", "met")
    text = report.markdown(results)
    assert "Short queries, product catalogue 1x" in text and "Bulk load, 1x" in text
    assert "| describe | 0.100 | 1.00; +0.90 |" in text
    assert "0.50×" in text  # products: treatygraph / Oxigraph


def test_profile_summary_splits_processes_and_layers():
    server = 'process 1:"python -m treatygraph.cli serve"'
    worker = ['process 2:"forkserver"', 'process 3:"worker"']
    engine = ["main (treatygraph/api/worker.py:1)", "query (treatygraph/store.py:9)"]
    stacks = [
        ([server, "run (uvicorn/main.py:1)", "select (selectors.py:1)"], 6),
        ([server, *worker, *engine], 3),
        ([server, "run (uvicorn/main.py:1)", "h (h11/_util.py:1)"], 1),
    ]  # fmt: skip
    figures = bench_profile.summary(stacks)
    assert figures["samples"] == 10
    assert dict(figures["processes"]) == {"server (1 deep)": 7, "worker (3 deep)": 3}
    layers = dict(figures["layers"])
    assert layers["worker: engine (pyoxigraph query, serialization)"] == 3
    assert layers["server: HTTP server (uvicorn, h11, httptools)"] == 1
    assert figures["leaves"][0] == ("select (selectors.py:1)", 6)
