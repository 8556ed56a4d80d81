"""Dereferenceable IRIs and pages: HTML for people, RDF for machines, links that work locally."""

from __future__ import annotations

import re

import pytest
import rdflib

ARTICLE = "https://w3id.org/treatygraph/id/minamata/article/11"


def test_a_browser_gets_a_page_with_local_links(http):
    answer = http.get("/id/minamata/article/11", headers={"Accept": "text/html,*/*;q=0.8"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "Mercury wastes" in answer.text
    hrefs = re.findall(r'href="([^"]+)"', answer.text)
    assert "/id/minamata" in hrefs
    assert not [h for h in hrefs if h.startswith("https://w3id.org/treatygraph/id/")]


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_rdf_clients_get_the_description(http, accept, fmt):
    answer = http.get("/id/minamata/article/11", headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(accept)
    assert "Accept" in answer.headers["vary"]
    graph = rdflib.Graph().parse(data=answer.content, format=fmt)
    article = rdflib.URIRef(ARTICLE)
    assert (article, rdflib.RDFS.label, None) in graph
    # labels of what it links to, and links into it
    part_of = rdflib.URIRef("https://w3id.org/treatygraph/ontology#partOf")
    assert (None, part_of, article) in graph
    convention = rdflib.URIRef("https://w3id.org/treatygraph/id/minamata")
    assert (convention, rdflib.RDFS.label, None) in graph


def test_format_parameter_and_link_header(http):
    answer = http.get("/id/minamata/article/11", params={"format": "nt"})
    assert answer.headers["content-type"].startswith("application/n-triples")
    assert 'rel="alternate"' in answer.headers["link"]


def test_the_iri_resolves_whatever_host_the_service_runs_on(http):
    answer = http.get(
        "/id/minamata/article/11",
        headers={"Accept": "text/turtle", "Host": "treaties.example:8080"},
    )
    assert answer.status_code == 200
    assert ARTICLE in answer.text


@pytest.mark.parametrize(
    "path",
    ["/id/minamata/article/999", "/id/", "/id/a%20b", "/id/%3Cx%3E", "/nowhere", "/api/nowhere"],
)
def test_unknown_resources_are_404(http, path):
    for accept in ("text/html", "text/turtle"):
        assert http.get(path, headers={"Accept": accept}).status_code == 404


def test_406_when_no_representation_fits(http):
    answer = http.get("/id/minamata/article/11", headers={"Accept": "image/png"})
    assert answer.status_code == 406


def test_the_ontology_as_rdf_and_as_documentation(http):
    turtle = http.get("/ontology", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    tg = rdflib.Namespace("https://w3id.org/treatygraph/ontology#")
    assert (tg.Article, rdflib.RDF.type, rdflib.OWL.Class) in graph
    page = http.get("/ontology", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'id="Article"' in page.text
    assert "eli:LegalResourceSubdivision" in page.text or "tg:Provision" in page.text
    assert "A numbered article" in page.text
    # The same documentation as ontology/treatygraph.html, with links into the service.
    assert 'href="/ontology#Provision"' in page.text
    assert 'href="http://data.europa.eu/eli/ontology#LegalResourceSubdivision"' in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/conventions",
        "/meetings",
        "/decisions",
        "/decisions?q=mercury&page=1",
        "/search?q=mercury",
        "/questions/api-links",
        "/static/style.css",
        "/docs",
    ],
)
def test_pages_for_people(http, path):
    answer = http.get(path)
    assert answer.status_code == 200, answer.text[:500]


def test_home_page_lists_the_questions_and_they_answer(http):
    home = http.get("/").text
    links = re.findall(r'href="(/questions/[^"]+)"', home)
    assert links
    for link in links[:3]:
        assert http.get(link).status_code in (200, 503)


def test_bad_page_parameters_are_not_500(http):
    assert http.get("/decisions", params={"page": "0"}).status_code == 422
    assert http.get("/decisions", params={"page": "x"}).status_code == 422
    assert http.get("/questions/nope").status_code == 404
    assert http.get("/questions/api-decisions", params={"year": "twenty"}).status_code == 422
