"""The ontology's documentation: classes, then properties, each with its label, definition,
alignments (sub-class / sub-property / inverse), domain, range and kind.

One model (`document`) and one set of templates serve both places the documentation appears:
`treatygraph build` writes the standalone page ontology/treatygraph.html (links to other terms
are anchors, to other vocabularies their IRIs), and the service shows the same sections inside
its site at the ontology's IRI (links go to the service's own pages). Only the link function
differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from treatygraph.namespaces import ONTOLOGY_IRI, PREFIXES, TG
from treatygraph.sources import REPO_ROOT

ONTOLOGY_FILE = REPO_ROOT / "ontology" / "treatygraph.ttl"
HTML_FILE = REPO_ROOT / "ontology" / "treatygraph.html"
TEMPLATES = Path(__file__).resolve().parent / "templates"
KINDS = (
    (OWL.Class, "Classes"),
    (OWL.ObjectProperty, "Object properties"),
    (OWL.DatatypeProperty, "Datatype properties"),
)
RELATIONS = (
    ("Sub-class of", RDFS.subClassOf),
    ("Sub-property of", RDFS.subPropertyOf),
    ("Inverse of", OWL.inverseOf),
    ("Domain", RDFS.domain),
    ("Range", RDFS.range),
)


@dataclass(frozen=True)
class Link:
    text: str  # a CURIE such as tg:Article or eli:cites
    href: str


@dataclass
class TermDoc:
    iri: str
    anchor: str  # the local name, e.g. Article
    curie: str
    label: str
    definition: str
    relations: list[tuple[str, list[Link]]] = field(default_factory=list)


@dataclass
class OntologyDoc:
    iri: str
    title: str
    description: str
    meta: list[tuple[str, str]]
    groups: dict[str, list[TermDoc]]


def curie(term: str) -> str:
    """`tg:Article`, `eli:cites`... for the vocabularies we know, else the full IRI."""
    for prefix, namespace in PREFIXES.items():
        if term.startswith(str(namespace)):
            return f"{prefix}:{term[len(str(namespace)) :]}"
    return term


def anchor_href(iri: str) -> str:
    """Links of the standalone page: our terms are anchors on the page, others their IRIs."""
    return "#" + iri[len(str(TG)) :] if iri.startswith(str(TG)) else iri


def document(graph: Graph, href: Callable[[str], str] = anchor_href) -> OntologyDoc:
    """The documentation model of the ontology in `graph`; `href` makes each link's target."""
    ontology = URIRef(ONTOLOGY_IRI)

    def links(term: URIRef, predicate: URIRef) -> list[Link]:
        found = sorted(str(o) for o in graph.objects(term, predicate) if isinstance(o, URIRef))
        return [Link(curie(o), href(o)) for o in found]

    groups: dict[str, list[TermDoc]] = {}
    for kind, heading in KINDS:
        terms = sorted(str(t) for t in graph.subjects(RDF.type, kind) if str(t).startswith(str(TG)))
        groups[heading] = []
        for iri in terms:
            term = URIRef(iri)
            relations = [(title, links(term, p)) for title, p in RELATIONS]
            others = sorted(str(k) for k in graph.objects(term, RDF.type) if k != kind)
            relations.append(("Kind", [Link(curie(k), href(k)) for k in others]))
            groups[heading].append(
                TermDoc(
                    iri=iri,
                    anchor=iri[len(str(TG)) :],
                    curie=curie(iri),
                    label=str(graph.value(term, RDFS.label) or ""),
                    definition=str(graph.value(term, SKOS.definition) or ""),
                    relations=[(title, found) for title, found in relations if found],
                )
            )
    meta = [
        ("Version", graph.value(ontology, OWL.versionInfo)),
        ("Licence", graph.value(ontology, DCTERMS.license)),
        ("Creator", graph.value(ontology, DCTERMS.creator)),
        ("Namespace", str(TG)),
    ]
    return OntologyDoc(
        iri=ONTOLOGY_IRI,
        title=str(graph.value(ontology, RDFS.label) or graph.value(ontology, DCTERMS.title)),
        description=str(graph.value(ontology, DCTERMS.description) or ""),
        meta=[(name, str(value)) for name, value in meta if value is not None],
        groups=groups,
    )


def render_html(graph: Graph) -> str:
    """The standalone documentation page (no site around it)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, keep_trailing_newline=True
    )
    return environment.get_template("ontology_standalone.html").render(doc=document(graph))


def write_html(source: Path = ONTOLOGY_FILE, target: Path = HTML_FILE) -> Path:
    """Render the ontology file to its HTML page; returns the page's path."""
    graph = Graph().parse(source)
    target.write_text(render_html(graph), encoding="utf-8")
    return target
