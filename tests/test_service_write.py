"""Writes with the token: SPARQL Update and the Graph Store Protocol, persisted across restarts."""

from __future__ import annotations

import rdflib
from conftest import WRITE_TOKEN

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
GRAPH = "http://example.org/test-graph"
TURTLE = "<http://example.org/s> <http://example.org/p> <http://example.org/o> ."
ASK_S = "ASK { <http://example.org/s> <http://example.org/p> ?o }"


def test_updates_need_the_right_token(writable_server):
    with writable_server.client() as client:
        missing = client.post("/sparql", data={"update": "CLEAR ALL"})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = client.post(
            "/sparql", data={"update": "CLEAR ALL"}, headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 403
        still = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        assert still.json()["boolean"] is True


def test_update_by_form_direct_and_update_endpoint(writable_server):
    with writable_server.client() as client:
        insert = f"INSERT DATA {{ GRAPH <{GRAPH}> {{ {TURTLE} }} }}"
        assert client.post("/sparql", data={"update": insert}, headers=AUTH).status_code == 204
        assert client.get("/sparql", params={"query": ASK_S}).json()["boolean"] is True
        delete = f"DELETE DATA {{ GRAPH <{GRAPH}> {{ {TURTLE} }} }}"
        headers = {**AUTH, "Content-Type": "application/sparql-update"}
        assert client.post("/sparql", content=delete, headers=headers).status_code == 204
        assert client.get("/sparql", params={"query": ASK_S}).json()["boolean"] is False
        assert client.post("/update", data={"update": insert}, headers=AUTH).status_code == 204
        assert client.get("/sparql", params={"query": ASK_S}).json()["boolean"] is True
        bad = client.post("/update", data={"update": "INSERT DATA { oops }"}, headers=AUTH)
        assert bad.status_code == 400
        load = client.post("/update", data={"update": "LOAD <http://127.0.0.1:9/>"}, headers=AUTH)
        assert load.status_code == 400


def test_graph_store_protocol_and_persistence_across_restarts(writable_server):
    service = "/rdf-graphs/service"
    with writable_server.client() as client:
        headers = {**AUTH, "Content-Type": "text/turtle"}
        created = client.put(service, params={"graph": GRAPH}, content=TURTLE, headers=headers)
        assert created.status_code == 201
        replaced = client.put(service, params={"graph": GRAPH}, content=TURTLE, headers=headers)
        assert replaced.status_code == 204
        more = "<http://example.org/s2> <http://example.org/p> 2 ."
        assert client.post(service, params={"graph": GRAPH}, content=more, headers=headers)
        got = client.get(service, params={"graph": GRAPH}, headers={"Accept": "text/turtle"})
        assert got.status_code == 200
        assert len(rdflib.Graph().parse(data=got.text, format="turtle")) == 2
        head = client.head(service, params={"graph": GRAPH})
        assert head.status_code == 200 and head.content == b""
        bad = client.put(service, params={"graph": GRAPH}, content="not turtle <", headers=headers)
        assert bad.status_code == 400
        assert client.get(service, params={"graph": "http://example.org/none"}).status_code == 404
        relative = client.put(
            service, params={"graph": GRAPH + "/relative"}, content="<a> <b> <c> .", headers=headers
        )
        assert relative.status_code == 201
        default = client.put(service, params={"default": ""}, content=TURTLE, headers=headers)
        assert default.status_code in (200, 204)
        got = client.get(
            service, params={"default": ""}, headers={"Accept": "application/n-triples"}
        )
        assert len(rdflib.Graph().parse(data=got.text, format="nt")) == 1
    writable_server.stop()
    writable_server.start()
    with writable_server.client() as client:
        got = client.get(service, params={"graph": GRAPH}, headers={"Accept": "text/turtle"})
        assert len(rdflib.Graph().parse(data=got.text, format="turtle")) == 2
        deleted = client.delete(service, params={"graph": GRAPH}, headers=AUTH)
        assert deleted.status_code == 204
        assert client.get(service, params={"graph": GRAPH}).status_code == 404
        assert client.delete(service, params={"graph": GRAPH}, headers=AUTH).status_code == 404


def test_json_answers_reflect_a_write_at_once(writable_server):
    """The JSON API remembers answers between writes; a write makes it answer afresh."""
    party = "https://w3id.org/treatygraph/id/party/ZZZ"
    with writable_server.client() as client:
        assert client.get("/api/parties", params={"q": "zzz"}).json()["total"] == 0
        assert client.get("/api/parties", params={"q": "zzz"}).json()["total"] == 0  # remembered
        insert = f"""INSERT DATA {{ GRAPH <{GRAPH}> {{
            <{party}> a <https://w3id.org/treatygraph/ontology#Party> ;
                <http://www.w3.org/2000/01/rdf-schema#label> "Zzzland" ;
                <https://w3id.org/treatygraph/ontology#iso3> "ZZZ" }} }}"""
        assert client.post("/update", data={"update": insert}, headers=AUTH).status_code == 204
        page = client.get("/api/parties", params={"q": "zzz"}).json()
        assert [item["iri"] for item in page["items"]] == [party]
