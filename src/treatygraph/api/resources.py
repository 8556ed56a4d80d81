"""Dereferenceable IRIs: /id/... answers for <base>id/... and /ontology for the ontology.

A browser gets a page (links rewritten to this service so they can be followed); RDF clients get
the resource's description: its triples, the labels of what it links to, and the links into it.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from treatygraph.api import negotiation
from treatygraph.api.app import Service, service
from treatygraph.api.errors import ServiceError
from treatygraph.api.worker import Job
from treatygraph.build import ONTOLOGY_GRAPH
from treatygraph.inference import INFERRED_GRAPH

router = APIRouter(tags=["Linked data"])
OFFERED = [
    "text/html",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
]
ALIASES = {
    "application/xhtml+xml": "text/html",
    "application/x-turtle": "text/turtle",
    "application/json": "application/ld+json",
    "text/plain": "application/n-triples",
}
_SAFE_IRI = re.compile(r'^[^\s<>"{}|^`\\]+$')
MAX_INCOMING = 2000

DESCRIBE = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT { <{iri}> ?p ?o . ?o rdfs:label ?ol . ?s ?q <{iri}> . ?s rdfs:label ?sl . }
WHERE {
  { <{iri}> ?p ?o . OPTIONAL { ?o rdfs:label ?ol } }
  UNION { SELECT ?s ?q ?sl WHERE { ?s ?q <{iri}> . OPTIONAL { ?s rdfs:label ?sl } } LIMIT {max} }
}"""
EXISTS = "ASK { { <{iri}> ?p ?o } UNION { ?s ?q <{iri}> } }"
# For pages: asserted triples only (not the inferred super-properties), with labels.
FACTS = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?direction ?p ?pl ?o ?ol WHERE {
  {
    GRAPH ?g { <{iri}> ?p ?o } FILTER(?g != <{inferred}>) BIND("out" AS ?direction)
  } UNION {
    SELECT ?direction ?p ?o WHERE {
      GRAPH ?g { ?o ?p <{iri}> } FILTER(?g != <{inferred}>) BIND("in" AS ?direction)
    } LIMIT {max}
  }
  OPTIONAL { ?p rdfs:label ?pl }
  OPTIONAL { ?o rdfs:label ?ol }
}"""


def negotiate(request: Request) -> str:
    return negotiation.negotiate(
        request.query_params.get("format"), request.headers.get("accept"), OFFERED, ALIASES
    )


def _valid_iri(iri: str) -> bool:
    """True when the text is an IRI that can be written in a query (else nothing can match it)."""
    if not _SAFE_IRI.match(iri):
        return False
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True


def fill(template: str, **values) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", str(value))
    return template


@router.get("/id/{path:path}", summary="A resource of the graph (HTML, Turtle, JSON-LD, N-Triples)")
@router.head("/id/{path:path}", include_in_schema=False)
async def resource(request: Request, path: str) -> Response:
    svc = service(request)
    iri = svc.id_base + path
    if not path or not _valid_iri(iri):
        raise ServiceError(404, f"no resource <{iri}> in this dataset")
    chosen = negotiate(request)
    headers = _headers(request)
    if chosen == "text/html":
        from treatygraph.api.pages import resource_page

        return await resource_page(request, svc, iri, headers)
    exists = await svc.run(Job("rows", fill(EXISTS, iri=iri)))
    if not exists.value:
        raise ServiceError(404, f"no resource <{iri}> in this dataset")
    outcome = await svc.run(
        Job("query", fill(DESCRIBE, iri=iri, max=MAX_INCOMING), media_type=chosen)
    )
    body = b"" if request.method == "HEAD" else outcome.body
    return Response(body, media_type=chosen, headers=headers)


async def facts(svc: Service, iri: str) -> list[dict]:
    return await svc.rows(fill(FACTS, iri=iri, inferred=INFERRED_GRAPH, max=MAX_INCOMING))


@router.get("/ontology", summary="The treatygraph ontology (HTML documentation or RDF)")
@router.head("/ontology", include_in_schema=False)
async def ontology(request: Request) -> Response:
    svc = service(request)
    chosen = negotiate(request)
    headers = _headers(request)
    if chosen == "text/html":
        from treatygraph.api.pages import ontology_page

        return await ontology_page(request, svc, headers)
    outcome = await svc.run(Job("dump", media_type=chosen, graph=str(ONTOLOGY_GRAPH)))
    body = b"" if request.method == "HEAD" else outcome.body
    return Response(body, media_type=chosen, headers=headers)


def _headers(request: Request) -> dict[str, str]:
    here = request.url.path
    alternates = ", ".join(
        f'<{here}?format={name}>; rel="alternate"; type="{media}"'
        for name, media in (
            ("ttl", "text/turtle"),
            ("jsonld", "application/ld+json"),
            ("nt", "application/n-triples"),
        )
    )
    return {"Vary": "Accept", "Link": alternates}
