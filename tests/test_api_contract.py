"""The OpenAPI document is the contract: one error body (a documented model) for every error of
the JSON API, each route's error statuses as it really answers them, the media types each route
really answers in, and parameter types as strict as the schema says.
"""

from __future__ import annotations

import re

import httpx
import pytest

JSON_API_ERRORS = {"400", "401", "403", "404", "406", "409", "413", "415", "422", "503"}
PROBLEM_REF = "#/components/schemas/Problem"


@pytest.fixture(scope="module")
def spec(http) -> dict:
    return http.get("/openapi.json").json()


def operations(spec: dict):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def assert_problem(answer: httpx.Response, status: int, parameter: str | None = None) -> dict:
    """The answer is the documented error body, with the status and (422) the parameter."""
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    for problem in body["errors"]:
        assert set(problem) == {"parameter", "in", "message"}
        assert problem["in"] in ("query", "path", "header", "cookie", "body", "request")
    if parameter is not None:
        assert parameter in [p["parameter"] for p in body["errors"]], body
    return body


# -- one error body, documented -----------------------------------------------------------------


def test_the_error_body_is_one_documented_model(spec):
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"detail"}
    assert set(problem["properties"]) == {"detail", "errors"}
    item = resolve(spec, problem["properties"]["errors"]["items"])
    assert set(item["properties"]) == {"parameter", "in", "message"}


def test_every_error_of_the_json_api_is_that_model(spec):
    for path, method, operation in operations(spec):
        if not path.startswith("/api/"):
            continue
        for status, answer in operation["responses"].items():
            if status.startswith("2"):
                continue
            assert status in JSON_API_ERRORS, (path, status)
            schema = answer["content"]["application/json"]["schema"]
            assert schema == {"$ref": PROBLEM_REF}, (path, method, status)
            if status == "503":
                assert "Retry-After" in answer["headers"], (path, status)


def test_no_route_documents_fastapis_validation_body(spec):
    text = str(spec)
    assert "HTTPValidationError" not in text
    assert "'loc'" not in text and "'msg'" not in text


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/decisions", {"limit": "0"}, "limit"),
        ("/api/decisions", {"convention": "a b>"}, "convention"),
        ("/api/search", {}, "q"),
        ("/api/instruments/basel/parties", {"at": "2024-13-01"}, "at"),
        ("/api/gaps", {"party-to": "basel"}, "not-party-to"),
        ("/api/parties/JP", {}, "code"),
        ("/api/provisions/a%20b/c", {}, "provision_id"),
    ],
)
def test_422_is_the_documented_body_naming_the_parameter(http, spec, path, params, parameter):
    assert_problem(http.get(path, params=params), 422, parameter)


def test_404_and_unknown_api_paths_are_the_same_body(http):
    assert_problem(http.get("/api/conventions/nowhere"), 404)
    assert_problem(http.get("/api/parties/XXX"), 404)
    assert_problem(http.get("/api/instruments/nothing/parties"), 404)
    assert_problem(http.get("/api/nowhere"), 404)
    assert_problem(http.get("/api/decisions", params={"convention": "http://a:port"}), 404)


def test_a_method_not_allowed_is_the_same_body(http):
    answer = http.request("PATCH", "/api/decisions")
    body = assert_problem(answer, 405)
    assert body["errors"] == []
    assert "GET" in answer.headers["allow"]


def test_each_route_documents_the_errors_it_really_answers(http, spec):
    """A route that can answer 404 or 422 documents it; one that cannot does not."""
    documented = {
        (path, method): set(operation["responses"]) for path, method, operation in operations(spec)
    }
    assert {"404", "422", "503"} <= documented[("/api/conventions/{convention_id}", "get")]
    assert {"404", "422", "503"} <= documented[("/api/parties/{code}", "get")]
    assert "404" not in documented[("/api/conventions", "get")]
    assert "404" not in documented[("/api/search", "get")]
    assert documented[("/api/context.jsonld", "get")] == {"200"}
    assert {"400", "406", "503"} <= documented[("/sparql", "get")]
    assert {"400", "403", "413", "415"} <= documented[("/sparql", "post")]
    assert {"404", "406"} <= documented[("/id/{path}", "get")]
    # ...and each of them is answered as documented.
    assert http.get("/sparql", params={"query": "SELECT nonsense"}).status_code == 400
    assert http.get("/id/minamata", headers={"Accept": "image/png"}).status_code == 406
    assert (
        http.get("/id/minamata/article/999", headers={"Accept": "text/turtle"}).status_code == 404
    )
    too_large = http.post(
        "/sparql",
        content=b"x" * 200_000,
        headers={"Content-Type": "application/sparql-query"},
    )
    assert too_large.status_code == 413
    wrong_type = http.post("/sparql", content=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    assert wrong_type.headers["content-type"].startswith("text/plain")


def test_a_read_only_service_documents_its_writes_as_refused(http, spec):
    assert "writeToken" not in spec["components"].get("securitySchemes", {})
    for path, method in [
        ("/update", "post"),
        ("/rdf-graphs/service", "put"),
        ("/rdf-graphs/service", "post"),
        ("/rdf-graphs/service", "delete"),
    ]:
        responses = spec["paths"][path][method]["responses"]
        assert "403" in responses and "401" not in responses, (path, method)
        assert "security" not in spec["paths"][path][method]
    answer = http.post(
        "/update",
        content=b"INSERT DATA { <a:b> <a:c> <a:d> }",
        headers={"Content-Type": "application/sparql-update"},
    )
    assert answer.status_code == 403


def test_a_writable_service_documents_the_write_token(writable_server):
    with writable_server.client() as client:
        spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["writeToken"]["scheme"] == "bearer"
    update = spec["paths"]["/update"]["post"]
    assert update["security"] == [{"writeToken": []}]
    assert {"401", "403"} <= set(update["responses"])
    assert {} in spec["paths"]["/sparql"]["post"]["security"]  # queries need no token


# -- media types --------------------------------------------------------------------------------


def test_routes_declare_the_media_types_they_answer_in(spec):
    def media(path: str, method: str = "get", status: str = "200") -> set[str]:
        return set(spec["paths"][path][method]["responses"][status].get("content", {}))

    rdf = {"text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"}
    assert media("/api/context.jsonld") == {"application/ld+json"}
    assert media("/id/{path}") == rdf | {"text/html"}
    assert media("/ontology") == rdf | {"text/html"}
    assert rdf <= media("/.well-known/void")
    assert rdf <= media("/rdf-graphs/service")
    assert {"application/sparql-results+json", "text/csv", "text/html"} | rdf <= media("/sparql")
    assert media("/sparql", "get", "400") == {"text/plain"}
    for path, method, operation in operations(spec):
        if not path.startswith("/api/"):
            assert "application/json" not in str(operation["responses"]), (path, method)


@pytest.mark.parametrize(
    ("path", "accept", "expected"),
    [
        ("/id/minamata", "text/turtle", "text/turtle"),
        ("/id/minamata", "application/ld+json", "application/ld+json"),
        ("/id/minamata", "text/html", "text/html"),
        ("/ontology", "application/n-triples", "application/n-triples"),
        ("/.well-known/void", "text/turtle", "text/turtle"),
        ("/api/context.jsonld", "*/*", "application/ld+json"),
        ("/api/conventions", "*/*", "application/json"),
    ],
)
def test_the_media_type_answered_is_a_declared_one(http, spec, path, accept, expected):
    answer = http.get(path, headers={"Accept": accept})
    assert answer.status_code == 200
    media_type = answer.headers["content-type"].split(";")[0]
    assert media_type == expected
    template = path if path in spec["paths"] else "/id/{path}"
    assert media_type in spec["paths"][template]["get"]["responses"]["200"]["content"]


# -- strict parameter types ---------------------------------------------------------------------


def test_a_date_is_documented_as_a_date(spec):
    parameters = spec["paths"]["/api/instruments/{instrument_id}/parties"]["get"]["parameters"]
    at = next(p for p in parameters if p["name"] == "at")
    assert at["schema"]["type"] == "string" and at["schema"]["format"] == "date"


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        # A date is YYYY-MM-DD: not a number (pydantic reads one as a Unix time), not a datetime.
        ("/api/instruments/basel/parties", {"at": "3.07e-305"}, "at"),
        ("/api/instruments/basel/parties", {"at": "1700000000"}, "at"),
        ("/api/instruments/basel/parties", {"at": "2024-01-01T00:00"}, "at"),
        ("/api/gaps", {"party-to": "basel", "not-party-to": "minamata", "at": "20240101"}, "at"),
        # An integer is digits: not 1.0, not " 5" (a `+` in a query string), not 1_0.
        ("/api/decisions", {"limit": "1.0"}, "limit"),
        ("/api/decisions", {"limit": "+5"}, "limit"),
        ("/api/decisions", {"limit": "1_0"}, "limit"),
        ("/api/decisions", {"offset": "0.0"}, "offset"),
        ("/api/meetings", {"year": "2000.0"}, "year"),
        # An enumeration is its values, as written.
        ("/api/instruments/basel/parties", {"source": "IEADB"}, "source"),
        # Ids and text: no spaces or controls.
        ("/api/links", {"type": "<bad>"}, "type"),
        ("/api/decisions", {"q": "a\x01b"}, "q"),
    ],
)
def test_values_of_another_form_are_refused(http, path, params, parameter):
    assert_problem(http.get(path, params=params), 422, parameter)


def test_every_query_parameter_is_typed(spec):
    """No parameter of the JSON API is a bare string: each has a pattern, an enum, a format,
    a length bound or is not a string."""
    for path, _, operation in operations(spec):
        if not path.startswith("/api/"):
            continue
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            assert "anyOf" not in schema, (path, parameter["name"])  # no `null` in a query string
            if schema.get("type") == "string":
                bounded = {"pattern", "enum", "format", "maxLength"} & set(schema)
                assert bounded, (path, parameter["name"])
            if "pattern" in schema:
                re.compile(schema["pattern"])
