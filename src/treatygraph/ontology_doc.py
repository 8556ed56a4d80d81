"""Render the ontology as one HTML documentation page: classes, then properties, each with its
label, definition, alignments (sub-class / sub-property / inverse), domain and range.

`treatygraph build` writes it to ontology/treatygraph.html; the service serves the same page at the
ontology's IRI for browsers.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from treatygraph.namespaces import ONTOLOGY_IRI, PREFIXES, TG
from treatygraph.sources import REPO_ROOT

ONTOLOGY_FILE = REPO_ROOT / "ontology" / "treatygraph.ttl"
HTML_FILE = REPO_ROOT / "ontology" / "treatygraph.html"
PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty)

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1d232a; }
h1 { margin-bottom: 0; } .meta { color: #555; }
section.term { border-top: 1px solid #ddd; padding: .5rem 0; }
code { background: #f3f4f6; padding: 0 .25rem; border-radius: 3px; }
dl { display: grid; grid-template-columns: 10rem 1fr; gap: .25rem 1rem; margin: .5rem 0; }
dt { color: #555; } dd { margin: 0; }
nav a { margin-right: .5rem; }
"""


def curie(term: URIRef) -> str:
    """`tg:Article`, `eli:cites`... for the vocabularies we know, else the full IRI."""
    for prefix, namespace in PREFIXES.items():
        if str(term).startswith(str(namespace)):
            return f"{prefix}:{str(term)[len(str(namespace)) :]}"
    return str(term)


def _link(term) -> str:
    if not isinstance(term, URIRef):
        return escape(str(term))
    if str(term).startswith(str(TG)):
        return f'<a href="#{escape(curie(term)[3:])}"><code>{escape(curie(term))}</code></a>'
    return f'<a href="{escape(str(term))}"><code>{escape(curie(term))}</code></a>'


def _links(graph: Graph, term: URIRef, predicate: URIRef) -> str:
    return ", ".join(_link(o) for o in sorted(graph.objects(term, predicate)))


def _term_section(graph: Graph, term: URIRef) -> str:
    local = curie(term)[3:]
    label = graph.value(term, RDFS.label)
    rows = [("IRI", f"<code>{escape(str(term))}</code>")]
    rows.append(("Definition", escape(str(graph.value(term, SKOS.definition) or ""))))
    for title, predicate in (
        ("Sub-class of", RDFS.subClassOf),
        ("Sub-property of", RDFS.subPropertyOf),
        ("Inverse of", OWL.inverseOf),
        ("Domain", RDFS.domain),
        ("Range", RDFS.range),
    ):
        value = _links(graph, term, predicate)
        if value:
            rows.append((title, value))
    kinds = [curie(k) for k in graph.objects(term, RDF.type) if k != OWL.Class]
    if kinds:
        rows.append(("Kind", ", ".join(f"<code>{escape(k)}</code>" for k in sorted(kinds))))
    body = "".join(f"<dt>{t}</dt><dd>{v}</dd>" for t, v in rows)
    return (
        f'<section class="term" id="{escape(local)}"><h3>{escape(str(label))} '
        f"<code>{escape(curie(term))}</code></h3><dl>{body}</dl></section>"
    )


def render_html(graph: Graph) -> str:
    """The whole documentation page for the ontology in `graph`."""
    ontology = URIRef(ONTOLOGY_IRI)
    classes = sorted(t for t in graph.subjects(RDF.type, OWL.Class) if str(t).startswith(str(TG)))
    properties = sorted(
        {t for kind in PROPERTY_KINDS for t in graph.subjects(RDF.type, kind)},
        key=lambda t: curie(t),
    )
    title = escape(str(graph.value(ontology, RDFS.label)))
    meta = [
        ("Version", graph.value(ontology, OWL.versionInfo)),
        ("Licence", graph.value(ontology, URIRef("http://purl.org/dc/terms/license"))),
        ("Creator", graph.value(ontology, URIRef("http://purl.org/dc/terms/creator"))),
        ("Namespace", str(TG)),
    ]
    meta_html = " · ".join(f"{k}: {escape(str(v))}" for k, v in meta if v is not None)
    description = escape(str(graph.value(ontology, URIRef("http://purl.org/dc/terms/description"))))
    index = " ".join(f'<a href="#{escape(curie(t)[3:])}">{escape(curie(t))}</a>' for t in classes)
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{title}</title><style>{STYLE}</style></head><body>",
            f"<h1>{title}</h1>",
            f'<p class="meta">{meta_html}</p>',
            f"<p>{description}</p>",
            f"<nav><strong>Classes:</strong> {index}</nav>",
            f"<h2>Classes ({len(classes)})</h2>",
            *(_term_section(graph, t) for t in classes),
            f"<h2>Properties ({len(properties)})</h2>",
            *(_term_section(graph, t) for t in properties),
            "</body></html>",
            "",
        ]
    )


def write_html(source: Path = ONTOLOGY_FILE, target: Path = HTML_FILE) -> Path:
    """Render the ontology file to its HTML page; returns the page's path."""
    graph = Graph().parse(source)
    target.write_text(render_html(graph), encoding="utf-8")
    return target
