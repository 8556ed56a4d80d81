"""Short queries and repeated questions: what a request costs beyond the engine's own work.

Two mixes (`python -m bench --mixes short,questions`), sent to every system in turn:

- **short**: queries a linked-data client sends about one resource, each a few milliseconds of
  engine work: DESCRIBE of the resource; a star join on it with FILTER and OPTIONAL; a page (ORDER
  BY, LIMIT) of the resources linked to it; CONSTRUCT of its neighbourhood (its triples, and the
  triples pointing at it); ASK. Five resources of five kinds per query type, on the treaty graph
  (from the last copy of a grown graph) and on a generated product catalogue of another shape
  (bench/products.py). POSTed with `Cache-Control: no-cache`: every request is evaluated. The
  SELECTs say DISTINCT: with the union of the named graphs as default graph, Oxigraph gives a
  triple once per graph that holds it (an asserted triple that is also inferred: twice), where
  rdflib's union gives it once.
- **questions**: the named questions, sent as `GET /sparql?query=...` three ways:
  `questions-evaluated` with `Cache-Control: no-cache` (evaluated on every request, like the
  peers); `questions-repeated`, plain GETs (a service may answer a request it answered before from
  memory; treatygraph does, until the next write); `questions-conditional`, GETs that send back
  the ETag of the last answer (`If-None-Match`: a 304 without a body when unchanged). The last
  two are measured after one warm-up pass over the mix, on every system alike. The peers keep no
  answers and send no ETag: for them all three are the same work.

Cells alternate: for each round (`--rounds`), each client count, every system runs its cell in
turn (the order rotating from round to round), so that a change in what else runs on the machine
falls on every system alike; the rounds' cells are merged. Answers are checked against
treatygraph's first (as in the main mix); what a system cannot answer is left out of the mix it is
measured on, and said.

The engine's own time: each request's query is also run in this process with pyoxigraph on
treatygraph's store (read-only, union default graph as the services use), its answer serialized
to the same format, and the median of repeated runs is kept. A system's cost per query over the
engine is its p50 latency at one client minus that time.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx
import pyoxigraph as ox

from bench import loadgen, products, workload
from bench.workload import GRAPH_ACCEPT, SELECT_ACCEPT, Request
from treatygraph.namespaces import BASE

SHORT_KINDS = ("describe", "star", "page", "construct", "ask")
QUESTION_MIXES = ("questions-evaluated", "questions-repeated", "questions-conditional")
NO_CACHE = (("Cache-Control", "no-cache"),)
ID = BASE + "id/"
PREFIXES = """PREFIX tg: <https://w3id.org/treatygraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
# Resources of the treaty graph, one of each kind (paths under id/): a decision, an article, a
# meeting, a Party, a convention; all in every copy of a grown graph.
TREATY = {
    "decision": "decision/BC-14/12",
    "article": "basel/article/11",
    "meeting": "basel/meeting/cop-14",
    "party": "party/DEU",
    "convention": "minamata",
}


def _request(kind: str, label: str, sparql: str) -> Request:
    accept = GRAPH_ACCEPT if kind in ("describe", "construct") else SELECT_ACCEPT
    return Request(kind, label, sparql=sparql, accept=accept, headers=NO_CACHE)


def _neighbourhood(iri: str) -> str:
    return (
        f"CONSTRUCT {{ <{iri}> ?p ?o . ?s ?q <{iri}> }} "
        f"WHERE {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?q <{iri}> }} }}"
    )


def treaty_short_mix(scale: int) -> list[Request]:
    prefix = workload.copy_prefix(scale)
    r = {kind: f"{ID}{prefix}{path}" for kind, path in TREATY.items()}
    found = [
        _request("describe", f"DESCRIBE {kind}", f"DESCRIBE <{iri}>") for kind, iri in r.items()
    ]
    stars = {
        "decision": f"""SELECT DISTINCT ?symbol ?label ?meeting ?start ?topic ?description WHERE {{
  <{r["decision"]}> tg:symbol ?symbol ; rdfs:label ?label ; tg:adoptedAt ?meeting .
  ?meeting tg:startDate ?start .
  OPTIONAL {{ <{r["decision"]}> tg:topic ?topic }}
  OPTIONAL {{ <{r["decision"]}> dcterms:description ?description }}
  FILTER(?start >= "1990-01-01"^^xsd:date) }}""",
        "article": f"""SELECT DISTINCT ?label ?number ?heading ?instrument ?title WHERE {{
  <{r["article"]}> rdfs:label ?label ; tg:number ?number ; tg:instrument ?instrument .
  ?instrument rdfs:label ?title .
  OPTIONAL {{ <{r["article"]}> tg:heading ?heading }}
  FILTER(isIRI(?instrument)) }}""",
        "meeting": f"""SELECT DISTINCT ?label ?start ?end ?city ?country ?cluster WHERE {{
  <{r["meeting"]}> rdfs:label ?label ; tg:startDate ?start .
  OPTIONAL {{ <{r["meeting"]}> tg:endDate ?end }}
  OPTIONAL {{ <{r["meeting"]}> tg:city ?city ; tg:country ?country }}
  OPTIONAL {{ <{r["meeting"]}> tg:inCluster ?cluster }}
  FILTER(!BOUND(?end) || ?end >= ?start) }}""",
        "party": f"""SELECT DISTINCT ?label ?iso3 ?iso2 ?region ?same WHERE {{
  <{r["party"]}> rdfs:label ?label ; tg:iso3 ?iso3 .
  OPTIONAL {{ <{r["party"]}> tg:iso2 ?iso2 }}
  OPTIONAL {{ <{r["party"]}> tg:region ?region }}
  OPTIONAL {{ <{r["party"]}> skos:exactMatch ?same }}
  FILTER(STRLEN(?iso3) = 3) }}""",
        "convention": f"""SELECT DISTINCT ?label ?title ?adopted ?inForce ?homepage WHERE {{
  <{r["convention"]}> rdfs:label ?label ; tg:dateAdopted ?adopted .
  OPTIONAL {{ <{r["convention"]}> dcterms:title ?title }}
  OPTIONAL {{ <{r["convention"]}> tg:dateEntryIntoForce ?inForce }}
  OPTIONAL {{ <{r["convention"]}> <http://xmlns.com/foaf/0.1/homepage> ?homepage }}
  FILTER(?adopted < "2030-01-01"^^xsd:date) }}""",
    }
    found += [_request("star", f"star {k}", PREFIXES + q) for k, q in stars.items()]
    pages = {
        "decisions of a meeting": f"""SELECT DISTINCT ?decision ?symbol ?label WHERE {{
  ?decision tg:adoptedAt <{r["meeting"]}> ; tg:symbol ?symbol .
  OPTIONAL {{ ?decision rdfs:label ?label }} }} ORDER BY ?symbol ?decision LIMIT 10 OFFSET 5""",
        "articles of a convention": f"""SELECT DISTINCT ?article ?order ?label WHERE {{
  <{r["convention"]}> tg:hasPart ?article . ?article tg:order ?order ; rdfs:label ?label }}
  ORDER BY ?order ?article LIMIT 10 OFFSET 10""",
        "events of a Party": f"""SELECT DISTINCT ?event ?date ?instrument WHERE {{
  ?event tg:party <{r["party"]}> ; tg:onInstrument ?instrument ; tg:eventDate ?date }}
  ORDER BY DESC(?date) ?event LIMIT 10""",
        "links from a decision": f"""SELECT DISTINCT ?target ?label WHERE {{
  <{r["decision"]}> tg:linksTo ?target . OPTIONAL {{ ?target rdfs:label ?label }} }}
  ORDER BY ?label ?target LIMIT 10""",
        "parts linking to an article": f"""SELECT DISTINCT ?source ?label WHERE {{
  ?source tg:linksTo <{r["article"]}> . OPTIONAL {{ ?source rdfs:label ?label }} }}
  ORDER BY ?source LIMIT 10""",
    }
    found += [_request("page", f"page: {k}", PREFIXES + q) for k, q in pages.items()]
    found += [
        _request("construct", f"CONSTRUCT around {kind}", _neighbourhood(iri))
        for kind, iri in r.items()
        if kind != "convention"  # its neighbourhood grows with the graph (every event on it)
    ]
    found.append(
        _request(
            "construct",
            "CONSTRUCT around a guideline",
            _neighbourhood(f"{ID}{prefix}guideline/basel-mercury-wastes"),
        )
    )
    asks = {
        "decision adopted after 2000": f"""ASK {{ <{r["decision"]}> tg:adoptedAt ?m .
  ?m tg:startDate ?d FILTER(?d > "2000-01-01"^^xsd:date) }}""",
        "article has a heading": f"""ASK {{ <{r["article"]}> tg:heading ?h }}""",
        "meeting in Geneva": f"""ASK {{ <{r["meeting"]}> tg:city "Geneva" }}""",
        "Party ratified before 1990": f"""ASK {{ ?e tg:party <{r["party"]}> ;
  tg:eventDate ?d FILTER(?d < "1990-01-01"^^xsd:date) }}""",
        "convention in force": f"""ASK {{ <{r["convention"]}> tg:dateEntryIntoForce ?d }}""",
    }
    found += [_request("ask", f"ASK {k}", PREFIXES + q) for k, q in asks.items()]
    return found


SHOP_PREFIXES = f"""PREFIX shop: <{products.VOCAB}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dc: <{products.DC}>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


def products_short_mix(scale: int) -> list[Request]:
    shop = products.SHOP
    product = products.sample(scale, "products")
    producer = products.sample(scale, "producers")
    vendor = products.sample(scale, "vendors")
    p = [f"{shop}product/{i}" for i in product]
    resources = {
        "product": p[0],
        "offer": f"{shop}offer/{product[1]}-0",
        "review": f"{shop}review/{product[2]}-0",
        "producer": f"{shop}producer/{producer[0]}",
        "vendor": f"{shop}vendor/{vendor[0]}",
    }
    found = [
        _request("describe", f"DESCRIBE {kind}", f"DESCRIBE <{iri}>")
        for kind, iri in resources.items()
    ]
    stars = {
        "product": f"""SELECT DISTINCT ?label ?producer ?country ?n1 ?n3 ?comment WHERE {{
  <{p[0]}> rdfs:label ?label ; shop:producer ?producer ; shop:numeric1 ?n1 .
  ?producer shop:country ?country .
  OPTIONAL {{ <{p[0]}> shop:numeric3 ?n3 }}
  OPTIONAL {{ <{p[0]}> rdfs:comment ?comment FILTER(LANGMATCHES(LANG(?comment), "en")) }}
  FILTER(?n1 > 0) }}""",
        "product features": f"""SELECT DISTINCT ?feature ?label ?type WHERE {{
  <{p[1]}> shop:feature ?feature ; a ?type . ?feature rdfs:label ?label .
  FILTER(?type != shop:Product) }}""",
        "offer": f"""SELECT DISTINCT ?product ?vendor ?price ?days ?from ?to WHERE {{
  <{resources["offer"]}> shop:product ?product ; shop:vendor ?vendor ; shop:priceCents ?price .
  OPTIONAL {{ <{resources["offer"]}> shop:deliveryDays ?days }}
  OPTIONAL {{ <{resources["offer"]}> shop:validFrom ?from ; shop:validTo ?to }}
  FILTER(?price > 0) }}""",
        "review": f"""SELECT DISTINCT ?title ?reviewer ?name ?r1 ?r2 WHERE {{
  <{resources["review"]}> dc:title ?title ; shop:reviewer ?reviewer ; shop:rating1 ?r1 .
  OPTIONAL {{ ?reviewer <http://xmlns.com/foaf/0.1/name> ?name }}
  OPTIONAL {{ <{resources["review"]}> shop:rating2 ?r2 }}
  FILTER(?r1 >= 1) }}""",
        "producer": f"""SELECT DISTINCT ?label ?country ?homepage WHERE {{
  <{resources["producer"]}> rdfs:label ?label .
  OPTIONAL {{ <{resources["producer"]}> shop:country ?country }}
  OPTIONAL {{ <{resources["producer"]}> <http://xmlns.com/foaf/0.1/homepage> ?homepage }} }}""",
    }
    found += [_request("star", f"star {k}", SHOP_PREFIXES + q) for k, q in stars.items()]
    pages = {
        "cheapest offers of a product": f"""SELECT DISTINCT ?offer ?price ?vendor WHERE {{
  ?offer shop:product <{p[2]}> ; shop:priceCents ?price ; shop:vendor ?vendor }}
  ORDER BY ?price ?offer LIMIT 3""",
        "latest reviews of a product": f"""SELECT DISTINCT ?review ?date ?title WHERE {{
  ?review shop:reviewFor <{p[3]}> ; dc:date ?date ; dc:title ?title }}
  ORDER BY DESC(?date) ?review LIMIT 5""",
        "products of a producer": f"""SELECT DISTINCT ?product ?label WHERE {{
  ?product shop:producer <{resources["producer"]}> ; rdfs:label ?label }}
  ORDER BY ?label ?product LIMIT 10 OFFSET 5""",
        "offers of a vendor": f"""SELECT DISTINCT ?offer ?price WHERE {{
  ?offer shop:vendor <{resources["vendor"]}> ; shop:priceCents ?price }}
  ORDER BY DESC(?price) ?offer LIMIT 10""",
        "reviews by a person": f"""SELECT DISTINCT ?review ?product ?rating WHERE {{
  ?review shop:reviewer ?person ; shop:reviewFor ?product ; shop:rating1 ?rating .
  <{resources["review"]}> shop:reviewer ?person }} ORDER BY DESC(?rating) ?review LIMIT 10""",
    }
    found += [_request("page", f"page: {k}", SHOP_PREFIXES + q) for k, q in pages.items()]
    found += [
        _request("construct", f"CONSTRUCT around {kind}", _neighbourhood(iri))
        for kind, iri in resources.items()
    ]
    asks = {
        "product has a cheap offer": f"""ASK {{ ?o shop:product <{p[4]}> ;
  shop:priceCents ?price FILTER(?price < 100000) }}""",
        "review rated high": f"""ASK {{ <{resources["review"]}> shop:rating1 ?r
  FILTER(?r > 5) }}""",
        "producer in Germany": f"""ASK {{ <{resources["producer"]}> shop:country "DE" }}""",
        "product has feature 7": f"""ASK {{ <{p[0]}> shop:feature <{products.SHOP}feature/7> }}""",
        "offer delivered in a week": f"""ASK {{ <{resources["offer"]}> shop:deliveryDays ?d
  FILTER(?d <= 7) }}""",
    }
    found += [_request("ask", f"ASK {k}", SHOP_PREFIXES + q) for k, q in asks.items()]
    return found


def short_mix(dataset: str, scale: int) -> list[Request]:
    return treaty_short_mix(scale) if dataset == "treaty" else products_short_mix(scale)


def question_mixes() -> dict[str, list[Request]]:
    """The named questions as GETs, three ways (see the module)."""
    questions = workload.question_requests()
    mixes = {}
    for name, headers, conditional in (
        ("questions-evaluated", NO_CACHE, False),
        ("questions-repeated", (), False),
        ("questions-conditional", (), True),
    ):
        mixes[name] = [
            Request(
                "question",
                q.label,
                sparql=q.sparql,
                accept=q.accept,
                method="GET",
                headers=headers,
                conditional=conditional,
            )
            for q in questions
        ]
    return mixes


# -- the engine's own time -----------------------------------------------------------------------


def engine_times(
    store_path: Path, requests: list[Request], budget: float = 0.3, most: int = 200
) -> dict[str, float]:
    """Median seconds of each request's query run in this process by pyoxigraph on the store
    (read-only; the union of the graphs as default graph), its answer serialized as the services
    serialize it (SPARQL JSON results; N-Triples for graphs). Each query runs until `budget`
    seconds are spent (at least three times, at most `most`)."""
    store = ox.Store.read_only(str(store_path))
    found = {}
    for request in requests:
        times = []
        spent = 0.0
        while len(times) < 3 or (spent < budget and len(times) < most):
            began = time.perf_counter()
            result = store.query(request.sparql, use_default_graph_as_union=True)
            if isinstance(result, ox.QueryTriples):
                ox.serialize(result, format=ox.RdfFormat.N_TRIPLES)
            else:
                result.serialize(format=ox.QueryResultsFormat.JSON)
            elapsed = time.perf_counter() - began
            times.append(elapsed)
            spent += elapsed
        found[request.label] = statistics.median(times)
    del store
    return found


# -- measuring -----------------------------------------------------------------------------------


def _merge(cells: list[loadgen.Cell]) -> loadgen.Cell:
    merged = loadgen.Cell(clients=cells[0].clients)
    for cell in cells:
        merged.seconds += cell.seconds
        merged.ok += cell.ok
        merged.not_modified += cell.not_modified
        merged.errors += cell.errors
        merged.timeouts += cell.timeouts
        for label, values in cell.latencies.items():
            merged.latencies[label].extend(values)
        merged.error_samples += cell.error_samples[: 5 - len(merged.error_samples)]
    merged.load_average = cells[-1].load_average
    return merged


def _warm(system, requests: list[Request], timeout: float) -> None:
    """One pass over the mix, one client (a service that remembers answers now has them)."""
    with loadgen.LightClient(timeout=timeout) as client:
        for request in requests:
            try:
                loadgen.send(client, system, request, timeout)
            except httpx.HTTPError:
                pass


def measure_mixes(running: list, mixes: dict[str, list[Request]], options, log) -> dict:
    """Probe, then measure every mix on every running system in alternating cells."""
    from bench.runner import cell_summary, probe

    out: dict = {}
    base = next(iter(mixes.values()))
    checked = probe(running, base, options.probe_timeout, max_timeouts=len(base))
    answers = checked["rows"]
    # A system the check gave up on, and could not restart cheaply, is not measured.
    stopped = [s.name for s in running if s.process is None]
    running = [s for s in running if s.process is not None]
    failed = {
        name: set(labels) for name, labels in checked["failed"].items() if name not in stopped
    }
    for name, requests in mixes.items():
        # The mix every system answered (the peers' failures are said, and left out for all).
        excluded = sorted({label for labels in failed.values() for label in labels})
        mix = [r for r in requests if r.label not in excluded]
        entry: dict = {"requests": [r.label for r in mix], "excluded": excluded, "cells": {}}
        out[name] = entry
        if stopped:
            entry["not_measured"] = [
                f"{n}: gave up in the answer check (timed out, and restarting is slow)"
                for n in stopped
            ]
        if not mix or not running:
            continue
        kind_of = {r.label: r.kind for r in mix}
        cells: dict[str, dict[int, list[loadgen.Cell]]] = {}
        if name in ("questions-repeated", "questions-conditional"):
            for system in running:
                _warm(system, mix, options.request_timeout)
        for round_number in range(options.rounds):
            turn = round_number % len(running)
            order = running[turn:] + running[:turn]
            for clients in options.clients:
                for system in order:
                    cell = loadgen.run_cell(
                        system,
                        mix,
                        clients,
                        options.duration,
                        options.max_requests,
                        options.request_timeout,
                    )
                    cells.setdefault(system.name, {}).setdefault(clients, []).append(cell)
                    log(
                        f"  {name} {system.name} x{clients} (round {round_number + 1}): "
                        f"{cell.throughput:.1f} req/s ({cell.ok} ok, {cell.errors} errors, "
                        f"{cell.timeouts} timeouts), load {cell.load_average[0]:.2f}"
                    )
        for system_name, by_clients in cells.items():
            entry["cells"][system_name] = {
                str(clients): cell_summary(_merge(parts), kind_of)
                | {"round_throughputs": [round(c.throughput, 2) for c in parts]}
                for clients, parts in by_clients.items()
            }
    return {"mixes": out, "answers": answers, "not_measured": stopped}


def overhead(result: dict, engine: dict[str, float], mix_name: str) -> dict:
    """Per system and kind of request: p50 at one client, the engine's median for the same
    requests, and the difference (the cost per query beyond the engine's own)."""
    entry = result["mixes"].get(mix_name) or {}
    out: dict = {}
    for system, by_clients in (entry.get("cells") or {}).items():
        cell = by_clients.get("1")
        if not cell:
            continue
        kinds: dict[str, dict] = {}
        per_request = cell["by_request"]
        for kind, values in cell["by_kind"].items():
            labels = [label for label in per_request if result["kind_of"].get(label) == kind]
            engine_ms = [engine[label] * 1000 for label in labels if label in engine]
            if not engine_ms or values["p50_ms"] is None:
                continue
            engine_p50 = statistics.median(engine_ms)
            over = [
                per_request[label]["p50_ms"] - engine[label] * 1000
                for label in labels
                if label in engine and per_request[label]["p50_ms"] is not None
            ]
            kinds[kind] = {
                "p50_ms": values["p50_ms"],
                "engine_ms": round(engine_p50, 3),
                "over_engine_ms": round(statistics.median(over), 3),
            }
        out[system] = kinds
    return out


def measure(running: list, dataset: str, scale: int, options) -> dict:
    """Both mixes (as options.mixes asks) on the running systems of one dataset and scale."""
    from bench.runner import log

    mixes: dict[str, list[Request]] = {}
    if "short" in options.mixes:
        mixes["short"] = short_mix(dataset, scale)
    result: dict = {"dataset": dataset, "mixes": {}, "answers": {}, "engine_ms": {}}
    kind_of = {}
    if mixes:
        log(f"{dataset} {scale}x: short queries ({len(mixes['short'])}) ...")
        measured = measure_mixes(running, mixes, options, log)
        result["mixes"] |= measured["mixes"]
        result["answers"]["short"] = measured["answers"]
        kind_of |= {r.label: r.kind for r in mixes["short"]}
    if "questions" in options.mixes and dataset == "treaty":
        questions = question_mixes()
        log(f"{dataset} {scale}x: named questions as GETs ...")
        measured = measure_mixes(running, questions, options, log)
        result["mixes"] |= measured["mixes"]
        result["answers"]["questions"] = measured["answers"]
        kind_of |= {r.label: r.kind for r in questions["questions-evaluated"]}
    result["kind_of"] = kind_of
    ours = next((s for s in running if s.name == "treatygraph"), None)
    if ours is not None:
        log(f"{dataset} {scale}x: the engine's own time, in process ...")
        engine = {}
        if "short" in mixes:
            engine |= engine_times(ours.store, mixes["short"])
        if "questions" in options.mixes and dataset == "treaty":
            engine |= engine_times(
                ours.store, question_mixes()["questions-evaluated"], budget=1.0, most=20
            )
        result["engine_ms"] = {label: round(s * 1000, 3) for label, s in engine.items()}
        result["overhead"] = {
            name: overhead(result, engine, name)
            for name in ("short", "questions-evaluated")
            if name in result["mixes"]
        }
    return result


def products_data(scale: int, options) -> dict:
    """The catalogue's N-Quads at a scale (cached under work/data, keyed by the generator)."""
    import hashlib
    import json

    digest = hashlib.sha256(Path(products.__file__).read_bytes())
    digest.update(f"{scale}/{products.SEED}".encode())
    key = digest.hexdigest()[:16]
    target = options.work / "data" / f"products-{scale}-{key}.nq"
    meta_path = target.with_name(f"products-{scale}-{key}.json")
    if target.exists() and meta_path.exists():
        return json.loads(meta_path.read_text()) | {"path": str(target), "cached": True}
    for stale in (options.work / "data").glob(f"products-{scale}-*"):
        stale.unlink()
    began = time.perf_counter()
    products.write(scale, target)
    with target.open("rb") as data:
        quads = sum(chunk.count(b"\n") for chunk in iter(lambda: data.read(1 << 24), b""))
    meta = {
        "scale": scale,
        "quads": quads,
        "bytes": target.stat().st_size,
        "generate_seconds": round(time.perf_counter() - began, 2),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta | {"path": str(target), "cached": False}


def run_products(scale: int, options) -> dict:
    """The short mix on the product catalogue at a scale: its own servers, started and stopped."""
    from bench.runner import log, start_systems, stop_systems

    result: dict = {"dataset": "products", "scale": scale, "systems": {}}
    data = products_data(scale, options)
    result["data"] = {k: v for k, v in data.items() if k != "path"}
    log(f"products {scale}x: {data['quads']} quads")
    work = options.work / f"products-{scale}"
    # The catalogue's load and memory rates are its own, not the treaty graph's.
    saved = (dict(options.load_rates), dict(options.memory_rates), dict(options.disk_rates))
    options.load_rates.clear(), options.memory_rates.clear(), options.disk_rates.clear()
    running = []
    try:
        running = start_systems(
            options.systems, Path(data["path"]), data["quads"], work, options, result
        )
        if running:
            result["short"] = measure(running, "products", scale, options)
    finally:
        stop_systems(running, result, data["quads"], options)
        options.load_rates.clear(), options.memory_rates.clear(), options.disk_rates.clear()
        options.load_rates.update(saved[0])
        options.memory_rates.update(saved[1])
        options.disk_rates.update(saved[2])
    return result
