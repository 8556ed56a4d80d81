"""Our runner for the W3C SPARQL 1.1 endpoint tests (protocol, graph store protocol, service
description, JSON and CSV/TSV result formats) against a running treatygraph service.

The manifests (in /work/shared/conformance/w3c-sparql11, i.e. ../shared from the repository root)
describe HTTP requests and expected responses; request paths starting /sparql/ map to /sparql,
/gsp to /rdf-graphs/service. Test data is loaded through the Graph Store Protocol, so the service
needs a write token. Tests that cannot apply are reported with the reason (NOT_APPLICABLE).

Run alone:  python -m conformance.runner --url http://127.0.0.1:8000 --token TOKEN   (from tests/)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import rdflib
from rdflib import RDF, RDFS, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic

SUITE_ROOT = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "w3c-sparql11"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
STATUS_CODES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}
RESULT_TYPES = {"application/sparql-results+json", "application/sparql-results+xml"}
TABULAR_TYPES = RESULT_TYPES | {"text/csv", "text/tab-separated-values"}

# Tests that cannot apply to this service, with the reason (also in NOT-APPLICABLE.md).
NOT_APPLICABLE = {
    "graph-store-protocol/manifest-direct.ttl": (
        "direct graph identification: the service names graphs indirectly "
        "(/rdf-graphs/service?graph=IRI); its graph IRIs are not URLs of the service"
    ),
}

# Tests that fail because of the query engine (Oxigraph), not of the service, with the reason.
# Reported as known failures; one that starts passing is reported as a failure, so the list stays
# true.
KNOWN_ENGINE_FAILURES = {
    "csv03 - CSV Result Format": (
        'Oxigraph stores "1.0E6"^^xsd:double as a number and writes it back as 1000000, so the '
        "lexical form differs from the one loaded"
    ),
    "tsv03 - TSV Result Format": (
        'Oxigraph writes "1.0E6"^^xsd:double back as "1000000"^^xsd:double and '
        '"-3"^^xsd:negativeInteger as the bare number -3 (which TSV reads as xsd:integer)'
    ),
}


@dataclass
class Result:
    """The outcome of one test: passed, failed (with why), or not applicable (with why)."""

    suite: str
    name: str
    status: str  # passed | failed | known-failure | not-applicable
    detail: str = ""


class Runner:
    def __init__(self, url: str, token: str, root: Path = SUITE_ROOT):
        self.url = url.rstrip("/")
        self.root = root
        self.headers = {"Authorization": f"Bearer {token}"}
        self.client = httpx.Client(base_url=self.url, timeout=30)
        self.loaded: set[str] = set()

    def close(self) -> None:
        self.client.close()

    # -- entry point ---------------------------------------------------------------------------

    def run(self) -> list[Result]:
        results: list[Result] = []
        results += self.http_suite("protocol/manifest.ttl")
        results += self.http_suite("graph-store-protocol/manifest-indirect.ttl")
        for manifest, reason in NOT_APPLICABLE.items():
            graph = self.manifest(manifest)
            for test in self.entries(graph):
                results.append(Result(manifest, str(graph.value(test, MF.name)),
                                      "not-applicable", reason))  # fmt: skip
        results += self.service_description()
        results += self.result_format_suite("json-res/manifest.ttl")
        results += self.result_format_suite("csv-tsv-res/manifest.ttl")
        return [known(result) for result in results]

    def manifest(self, relative: str) -> rdflib.Graph:
        path = self.root / relative
        return rdflib.Graph().parse(path, format="turtle", publicID=path.as_uri())

    def entries(self, graph: rdflib.Graph) -> list:
        manifest = next(graph.subjects(RDF.type, MF.Manifest))
        return list(Collection(graph, graph.value(manifest, MF.entries)))

    # -- suites of HTTP exchanges (protocol, graph store) ----------------------------------------

    def http_suite(self, relative: str) -> list[Result]:
        graph = self.manifest(relative)
        results = []
        for test in self.entries(graph):
            name = str(graph.value(test, MF.name))
            try:
                if relative.startswith("graph-store-protocol"):
                    self.reset_gsp_graphs()
                self.load_graph_data(graph, test, relative)
                problem = self.exchange(graph, test)
            except Exception as error:  # noqa: BLE001 - a crash is a failed test, not a crash
                problem = f"{type(error).__name__}: {error}"
            results.append(Result(relative, name, "failed" if problem else "passed", problem or ""))
        return results

    def load_graph_data(self, graph: rdflib.Graph, test, relative: str) -> None:
        for data in graph.objects(test, UT.graphData):
            path = Path(str(graph.value(data, UT.graph)).removeprefix("file://"))
            name = str(graph.value(data, RDFS.label))
            self.put(name, path.read_bytes(), "application/n-triples")

    def reset_gsp_graphs(self) -> None:
        """Each graph store test starts from no test graphs (and an empty default graph)."""
        answer = self.client.get(
            "/sparql",
            params={
                "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                'FILTER(STRSTARTS(STR(?g), "http://www.example/") '
                '|| STRSTARTS(STR(?g), "https://w3id.org/treatygraph/graph/uploaded/")) }'
            },
        )
        graphs = [b["g"]["value"] for b in answer.json()["results"]["bindings"]]
        update = " ; ".join(["CLEAR DEFAULT"] + [f"DROP GRAPH <{g}>" for g in graphs])
        self.client.post("/update", data={"update": update}, headers=self.headers)

    def put(self, graph_iri: str, data: bytes, media_type: str) -> None:
        answer = self.client.put(
            "/rdf-graphs/service",
            params={"graph": graph_iri},
            content=data,
            headers={**self.headers, "Content-Type": media_type},
        )
        if answer.status_code not in (201, 204):
            raise RuntimeError(f"loading {graph_iri} failed: {answer.status_code} {answer.text}")

    def exchange(self, graph: rdflib.Graph, test) -> str | None:
        """Send the test's requests in order; the first unmet expectation, or None."""
        action = graph.value(test, MF.action)
        variables: dict[str, str] = {}
        for number, request in enumerate(Collection(graph, graph.value(action, HT.requests)), 1):
            path = self.map_path(str(graph.value(request, HT.absolutePath)), variables)
            method = str(graph.value(request, HT.methodName))
            headers = dict(self.headers)
            for header in self.headers_of(graph, request):
                headers[header[0]] = header[1]
            body = graph.value(request, HT.body)
            content = None
            if body is not None:
                chars = str(graph.value(body, CNT.chars))
                for key, value in variables.items():
                    chars = chars.replace(key, value)
                content = chars.encode("utf-8")
            answer = self.client.request(method, path, headers=headers, content=content)
            problem = self.check(graph, graph.value(request, HT.resp), answer, variables)
            if problem:
                return f"request {number} ({method} {path[:80]}): {problem}"
        return None

    def map_path(self, path: str, variables: dict[str, str]) -> str:
        for key, value in variables.items():
            path = path.replace(key, quote(value, safe=""))
        if path.startswith("/sparql/"):
            return "/sparql" + path[len("/sparql/") :]
        if path.startswith("/gsp"):
            return "/rdf-graphs/service" + path[len("/gsp") :]
        return path

    def headers_of(self, graph: rdflib.Graph, node) -> list[tuple[str, str]]:
        headers = graph.value(node, HT.headers)
        if headers is None:
            return []
        return [
            (str(graph.value(h, HT.fieldName)), str(graph.value(h, HT.fieldValue)))
            for h in Collection(graph, headers)
        ]

    def check(self, graph: rdflib.Graph, response, answer: httpx.Response, variables) -> str | None:
        if response is None:
            return None
        expected = [self.status_range(s) for s in graph.objects(response, MF.expectedStatus)]
        if expected and not any(low <= answer.status_code <= high for low, high in expected):
            return f"status {answer.status_code}, expected one of {expected}: {answer.text[:200]}"
        media_type = answer.headers.get("content-type", "").split(";")[0].strip()
        fmt = graph.value(response, MF.expectedFormat)
        if fmt is not None:
            allowed = {"boolean": RESULT_TYPES, "tabular": TABULAR_TYPES,
                       "RDF": set(RDF_TYPES)}[str(fmt)]  # fmt: skip
            if media_type not in allowed:
                return f"content type {media_type!r} is not a {fmt} format"
        boolean = graph.value(response, MF.expectedBoolean)
        if boolean is not None and read_boolean(answer) != boolean.toPython():
            return f"boolean answer is not {boolean}: {answer.text[:200]}"
        for name, value in self.headers_of(graph, response):
            if name.lower() == "content-type" and media_type != value.split(";")[0].strip():
                return f"content type {media_type!r}, expected {value!r}"
        body = graph.value(response, HT.body)
        if body is not None and answer.status_code == 200:
            expected_graph = rdflib.Graph().parse(
                data=str(graph.value(body, CNT.chars)), format="turtle"
            )
            got = rdflib.Graph().parse(
                data=answer.content, format=RDF_TYPES.get(media_type, "turtle")
            )
            if not isomorphic(expected_graph, got):
                return f"the graph returned differs from the one expected: {answer.text[:300]}"
        location = graph.value(response, MF.expectedLocation)
        if location is not None:
            if "location" not in answer.headers:
                return "no Location header"
            variables[str(location)] = answer.headers["location"]
        return None

    @staticmethod
    def status_range(status: URIRef) -> tuple[int, int]:
        name = str(status).rsplit("#", 1)[-1]
        match = re.fullmatch(r"StatusCode(\d)xx", name)
        if match:
            low = int(match.group(1)) * 100
            return low, low + 99
        code = STATUS_CODES[name]
        return code, code

    # -- service description -------------------------------------------------------------------

    def service_description(self) -> list[Result]:
        suite = "service-description/manifest.ttl"
        graph = self.manifest(suite)
        names = {
            str(t).rsplit("#", 1)[-1]: str(graph.value(t, MF.name)) for t in self.entries(graph)
        }
        answer = self.client.get("/sparql")
        media_type = answer.headers.get("content-type", "").split(";")[0]
        results = []
        described = None
        if answer.status_code == 200 and media_type in RDF_TYPES:
            try:
                described = rdflib.Graph().parse(data=answer.content, format=RDF_TYPES[media_type])
            except Exception as error:  # noqa: BLE001
                results.append(Result(suite, names["returns-rdf"], "failed", str(error)))
        ok = described is not None
        results.append(Result(suite, names["returns-rdf"], "passed" if ok else "failed",
                              "" if ok else f"{answer.status_code} {media_type}"))  # fmt: skip
        endpoint = URIRef(self.url + "/sparql")
        has = ok and (None, SD.endpoint, endpoint) in described
        results.append(Result(suite, names["has-endpoint-triple"], "passed" if has else "failed",
                              "" if has else f"no sd:endpoint <{endpoint}>"))  # fmt: skip
        problems = []
        if ok:
            services = list(described.subjects(RDF.type, SD.Service))
            if len(services) != 1:
                problems.append(f"{len(services)} sd:Service resources")
            for service in services:
                for needed in (SD.endpoint, SD.supportedLanguage, SD.resultFormat):
                    if described.value(service, needed) is None:
                        problems.append(f"no {needed}")
                dataset = described.value(service, SD.defaultDataset)
                if dataset is not None and (dataset, RDF.type, SD.Dataset) not in described:
                    problems.append("sd:defaultDataset is not an sd:Dataset")
        conforms = ok and not problems
        results.append(Result(suite, names["conforms-to-schema"],
                              "passed" if conforms else "failed", "; ".join(problems)))  # fmt: skip
        return results

    # -- result formats --------------------------------------------------------------------------

    def result_format_suite(self, relative: str) -> list[Result]:
        graph = self.manifest(relative)
        results = []
        for test in self.entries(graph):
            name = str(graph.value(test, MF.name))
            action = graph.value(test, MF.action)
            query = Path(str(graph.value(action, QT.query)).removeprefix("file://"))
            data = Path(str(graph.value(action, QT.data)).removeprefix("file://"))
            expected = Path(str(graph.value(test, MF.result)).removeprefix("file://"))
            try:
                problem = self.result_format(relative, query, data, expected)
            except Exception as error:  # noqa: BLE001
                problem = f"{type(error).__name__}: {error}"
            results.append(Result(relative, name, "failed" if problem else "passed", problem or ""))
        return results

    def result_format(self, suite: str, query: Path, data: Path, expected: Path) -> str | None:
        graph_iri = f"urn:x-conformance:{suite.split('/')[0]}/{data.name}"
        if graph_iri not in self.loaded:
            self.put(graph_iri, data.read_bytes(), "text/turtle")
            self.loaded.add(graph_iri)
        accept = {".srj": "application/sparql-results+json", ".csv": "text/csv",
                  ".tsv": "text/tab-separated-values"}[expected.suffix]  # fmt: skip
        answer = self.client.get(
            "/sparql",
            params={"query": query.read_text(), "default-graph-uri": graph_iri},
            headers={"Accept": accept},
        )
        if answer.status_code != 200:
            return f"status {answer.status_code}: {answer.text[:200]}"
        if answer.headers["content-type"].split(";")[0] != accept:
            return f"content type {answer.headers['content-type']}, expected {accept}"
        if expected.suffix == ".srj":
            got, want = json.loads(answer.content), json.loads(expected.read_text())
            if "boolean" in want:
                return None if got.get("boolean") == want["boolean"] else "boolean differs"
            # SELECT * projects the set of in-scope variables: their order is not defined.
            if sorted(got["head"]["vars"]) != sorted(want["head"]["vars"]):
                return f"variables {got['head']['vars']} != {want['head']['vars']}"
            if bindings(got) != bindings(want):
                return f"bindings differ: {answer.text[:300]}"
            return None
        separator = "," if expected.suffix == ".csv" else "\t"
        got, want = table(answer.text, separator), table(expected.read_text(), separator)
        if sorted(got[0]) != sorted(want[0]):
            return f"columns {got[0]} != {want[0]}"
        if got[1] != want[1]:
            return f"rows differ:\n{answer.text}\nexpected:\n{expected.read_text()}"
        return None


def known(result: Result) -> Result:
    """Mark the engine's known failures; flag one that passes so the list gets updated."""
    reason = KNOWN_ENGINE_FAILURES.get(result.name)
    if reason is None:
        return result
    if result.status == "failed":
        return Result(result.suite, result.name, "known-failure", reason)
    return Result(
        result.suite, result.name, "failed", "passes now: remove it from the known failures"
    )


def read_boolean(answer: httpx.Response) -> bool | None:
    media_type = answer.headers.get("content-type", "").split(";")[0]
    if media_type == "application/sparql-results+json":
        return answer.json().get("boolean")
    if media_type == "application/sparql-results+xml":
        node = ET.fromstring(answer.content).find("{http://www.w3.org/2005/sparql-results#}boolean")
        return None if node is None else node.text.strip() == "true"
    return None


def bindings(document: dict) -> Counter:
    """Solutions as a multiset, blank node labels ignored (they are local to a document)."""

    def term(value: dict) -> tuple:
        value = dict(value)
        if value.get("type") == "bnode":
            value["value"] = "_"
        if value.get("type") == "typed-literal":
            value["type"] = "literal"
        return tuple(sorted(value.items()))

    return Counter(
        tuple(sorted((k, term(v)) for k, v in b.items())) for b in document["results"]["bindings"]
    )


def table(text: str, separator: str) -> tuple[list[str], Counter]:
    """A CSV or TSV result: its columns, and its rows as a multiset of {column: value} with blank
    node labels ignored. Columns are matched by name: SELECT * does not define their order."""
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    lines = [line for line in reader if line]
    header = lines[0] if lines else []
    rows = Counter(
        tuple(
            sorted(
                (name, re.sub(r"^_:.*", "_:", value))
                for name, value in zip(header, line, strict=True)
            )
        )
        for line in lines[1:]
    )
    return header, rows


def render(results: list[Result]) -> str:
    lines = []
    for result in results:
        mark = {"passed": "PASS", "failed": "FAIL", "known-failure": "KNOWN",
                "not-applicable": "N/A "}[result.status]  # fmt: skip
        line = f"{mark} {result.suite}: {result.name}"
        if result.detail:
            line += f"\n     {result.detail}"
        lines.append(line)
    counts = Counter(r.status for r in results)
    lines.append(
        f"{counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['known-failure']} known engine failures, "
        f"{counts['not-applicable']} not applicable"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--suite", type=Path, default=SUITE_ROOT)
    args = parser.parse_args(argv)
    runner = Runner(args.url, args.token, args.suite)
    try:
        results = runner.run()
    finally:
        runner.close()
    print(render(results))
    return 1 if any(r.status == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
