"""Dereferenceable IRIs: /id/... answers for <base>id/... and /ontology for the ontology.

A browser gets a page (links rewritten to this service so they can be followed); RDF clients get
the resource's description: its triples, the labels of what it links to, and the links into it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

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


# -- the link map of a resource ----------------------------------------------------------------

TG = "https://w3id.org/treatygraph/ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# The links a map draws, in the order of its legend: (local name, words people read).
MAP_LINKS = (
    ("refersTo", "refers to"),
    ("cooperatesWith", "cooperates with"),
    ("implements", "implements"),
    ("recalls", "recalls"),
    ("supersedes", "supersedes"),
    ("amends", "amends"),
    ("requests", "requests"),
    ("adoptedBy", "adopted by"),
    ("versionOf", "version of"),
    ("previousVersion", "previous version"),
    ("adoptedAt", "adopted at"),
    ("jointWith", "adopted jointly with"),
    ("partOf", "part of"),
)
# The kinds of node, most specific first (a resource is drawn as the first of its classes).
MAP_NODES = (
    ("Paragraph", "paragraph"),
    ("Article", "article"),
    ("AnnexPart", "part of an annex"),
    ("Annex", "annex"),
    ("Convention", "convention"),
    ("Protocol", "protocol"),
    ("Amendment", "amendment"),
    ("Decision", "decision"),
    ("GuidelineVersion", "guideline version"),
    ("TechnicalGuideline", "technical guideline"),
    ("Meeting", "meeting"),
    ("ConferenceOfTheParties", "conference of the Parties"),
    ("Body", "other body"),
)
NODE_GROUPS = {  # kind -> the colour group of the legend
    "Paragraph": "provision",
    "Article": "provision",
    "AnnexPart": "provision",
    "Annex": "provision",
    "Convention": "instrument",
    "Protocol": "instrument",
    "Amendment": "instrument",
    "Decision": "decision",
    "GuidelineVersion": "guideline",
    "TechnicalGuideline": "guideline",
    "Meeting": "body",
    "ConferenceOfTheParties": "body",
    "Body": "body",
}
GROUP_NAMES = (
    ("instrument", "convention, protocol or amendment"),
    ("provision", "article, paragraph or annex"),
    ("decision", "decision"),
    ("guideline", "technical guideline or version"),
    ("body", "body or meeting"),
    ("other", "other"),
)
# The pages that show a link map, and those that offer a citation.
MAPPED = {
    "Article",
    "Paragraph",
    "Annex",
    "AnnexPart",
    "Decision",
    "TechnicalGuideline",
    "GuidelineVersion",
    "Convention",
}
CITED = {
    "Decision",
    "Article",
    "Paragraph",
    "Annex",
    "Meeting",
    "Convention",
    "TechnicalGuideline",
    "GuidelineVersion",
}
MAX_EDGES = 400

LINKMAP = """PREFIX tg: <https://w3id.org/treatygraph/ontology#>
SELECT DISTINCT ?s ?p ?o ?dir WHERE {
  VALUES ?p { {links} }
  {
    ?s tg:partOf* <{iri}> . GRAPH ?g { ?s ?p ?o } BIND("out" AS ?dir)
  } UNION {
    ?o tg:partOf* <{iri}> . GRAPH ?g { ?s ?p ?o } BIND("in" AS ?dir)
  } UNION {
    ?s tg:versionOf <{iri}> . GRAPH ?g { ?s ?p ?o } BIND("version" AS ?dir)
  }
  FILTER(?g != <{inferred}>)
}
LIMIT {max}"""
NODES = """PREFIX tg: <https://w3id.org/treatygraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?r (SAMPLE(?l) AS ?label) (SAMPLE(?sym) AS ?symbol)
       (GROUP_CONCAT(DISTINCT STR(?t); separator=" ") AS ?types)
WHERE {
  VALUES ?r { {iris} }
  OPTIONAL { ?r rdfs:label ?l }
  OPTIONAL { ?r tg:symbol ?sym }
  OPTIONAL { ?r a ?t FILTER(STRSTARTS(STR(?t), STR(tg:))) }
}
GROUP BY ?r"""


def legend() -> dict:
    """What the map's colours and lines mean (the page's legend; linkmap.js reads the colours
    from the legend's own styles, so the two always agree)."""
    return {
        "links": [{"kind": k, "label": label} for k, label in MAP_LINKS],
        "nodes": [{"group": g, "label": label} for g, label in GROUP_NAMES],
    }


def node_kind(types: list[str]) -> str:
    local = {t.removeprefix(TG) for t in types}
    for kind, _ in MAP_NODES:
        if kind in local:
            return kind
    return ""


def short_name(label: str | None, symbol: str | None, fallback: str, kind: str = "") -> str:
    """A node's caption: a decision's symbol, `Minamata Art. 11(3)`, `Basel COP`, a meeting's
    abbreviation; other labels cut at 40 characters (the full label is in `full`)."""
    if symbol:
        return symbol
    if not label:
        return fallback
    year = re.search(r"\((\d{4})\)\s*$", label)
    if kind == "GuidelineVersion" and year:
        return f"version {year.group(1)}"
    provision = re.match(
        r"^(\w+) Convention[^,]*, (Article|Annex) ([^,:]+)(?:, paragraph ([^,:]+))?"
        r"(?:, part ([^,:]+))?",
        label,
    )
    if provision:
        convention, what, number, paragraph, part = provision.groups()
        text = f"{convention} {'Art.' if what == 'Article' else 'Annex'} {number}"
        text += f"({paragraph})" if paragraph else ""
        return text + (f", part {part}" if part else "")
    body = re.match(r"^Conference of the Parties to the (\w+) Convention", label)
    if body:
        return f"{body.group(1)} COP"
    abbreviation = re.search(r"\(([^()]{2,20})\)\s*$", label)
    if abbreviation and "meeting" in label.lower():
        return abbreviation.group(1)
    return label if len(label) <= 40 else label[:38].rstrip() + "…"


@router.get("/linkmap/{path:path}", include_in_schema=False)
async def linkmap(request: Request, path: str) -> Response:
    """The typed links into and out of a resource (and its parts; for a guideline, its
    versions'), as Cytoscape.js elements with a legend: the data of the resource page's map."""
    from fastapi.responses import JSONResponse

    from treatygraph.api.app import safe_href

    svc = service(request)
    iri = svc.id_base + path
    if not path or not _valid_iri(iri):
        raise ServiceError(404, f"no resource <{iri}> in this dataset")
    links = " ".join(f"tg:{k}" for k, _ in MAP_LINKS if k != "partOf")
    rows = await svc.rows(
        fill(LINKMAP, iri=iri, links=links, inferred=INFERRED_GRAPH, max=MAX_EDGES)
    )
    if not rows and not (await svc.run(Job("rows", fill(EXISTS, iri=iri)))).value:
        raise ServiceError(404, f"no resource <{iri}> in this dataset")
    edges: dict[tuple[str, str, str], dict] = {}
    nodes: dict[str, None] = {iri: None}
    for row in rows:
        s, p, o = row["s"], row["p"].value.removeprefix(TG), row["o"]
        if s.type != "uri" or o.type != "uri":
            continue
        nodes.setdefault(s.value)
        nodes.setdefault(o.value)
        edges[(s.value, p, o.value)] = {"source": s.value, "target": o.value, "kind": p}
        # A part of the resource drawn on its map hangs from it.
        for end, direction in ((s.value, "out"), (o.value, "in")):
            if row["dir"].value == direction and end != iri:
                edges[(end, "partOf", iri)] = {"source": end, "target": iri, "kind": "partOf"}
    facts_of: dict[str, dict] = {}
    wanted = list(nodes)
    for start in range(0, len(wanted), 500):
        chunk = " ".join(f"<{n}>" for n in wanted[start : start + 500])
        for row in await svc.rows(NODES.replace("{iris}", chunk)):
            facts_of[row["r"].value] = row
    words = dict(MAP_LINKS)
    elements = []
    for node in nodes:
        row = facts_of.get(node, {})
        label = row["label"].value if row.get("label") else None
        symbol = row["symbol"].value if row.get("symbol") else None
        kind = node_kind((row["types"].value if row.get("types") else "").split())
        elements.append(
            {
                "data": {
                    "id": node,
                    "label": short_name(label, symbol, svc.short_id(node), kind),
                    "full": label or symbol or node,
                    "kind": kind,
                    "group": NODE_GROUPS.get(kind, "other"),
                    "href": safe_href(svc.local(node)),
                    "center": node == iri,
                }
            }
        )
    for (s, p, o), edge in edges.items():
        elements.append({"data": {"id": f"{s} {p} {o}", **edge, "label": words.get(p, p)}})
    return JSONResponse({"center": iri, "elements": elements, "legend": legend()})


# -- citations ---------------------------------------------------------------------------------

DCT = "http://purl.org/dc/terms/"
OFFICIAL_HOSTS = (
    "basel.int",
    "pic.int",
    "pops.int",
    "mercuryconvention.org",
    "brsmeas.org",
    "treaties.un.org",
    "un.org",
    "unep.org",
)


@dataclass
class Citation:
    iri: str
    kind: str  # Decision, Article, Meeting...
    title: str
    author: str
    number: str | None
    issued: str | None  # YYYY-MM-DD (or YYYY)
    place: str | None
    container: str | None
    source: str | None  # the official page or document
    sources: list[str]

    def text(self) -> str:
        parts = [self.author] if self.author else []
        parts.append(self.title)
        if self.container:
            parts.append(self.container)
        if self.place:
            parts.append(self.place)
        if self.issued:
            parts.append(self.issued)
        line = ", ".join(p for p in parts if p) + "."
        line += f" treatygraph, {self.iri}."
        if self.source:
            line += f" Official source: {self.source}."
        return line

    def bibtex(self) -> str:
        key = re.sub(r"[^A-Za-z0-9]+", "-", self.iri.rsplit("/id/", 1)[-1]).strip("-")
        fields = [("title", self.title)]
        if self.author:
            fields.append(("author", "{" + _bib(self.author) + "}"))
        if self.number:
            fields.append(("number", self.number))
        if self.issued:
            fields.append(("year", self.issued[:4]))
            fields.append(("date", self.issued))
        if self.container:
            fields.append(("howpublished", self.container))
        if self.place:
            fields.append(("address", self.place))
        fields.append(("url", self.source or self.iri))
        note = f"Stable identifier: {self.iri}"
        fields.append(("note", note))
        lines = [f"@misc{{treatygraph-{key},"]
        for name, value in fields:
            shown = value if name in ("url", "author") else _bib(value)
            lines.append(f"  {name} = {{{shown}}},")
        lines.append("}")
        return "\n".join(lines)

    def csl(self) -> dict:
        kinds = {
            "Decision": "legislation",
            "Article": "legislation",
            "Paragraph": "legislation",
            "Annex": "legislation",
            "Convention": "treaty",
            "Meeting": "event",
            "TechnicalGuideline": "document",
            "GuidelineVersion": "document",
        }
        item = {
            "id": self.iri,
            "type": kinds.get(self.kind, "document"),
            "title": self.title,
            "URL": self.source or self.iri,
            "note": f"Stable identifier: {self.iri}",
        }
        if self.author:
            item["author"] = [{"literal": self.author}]
        if self.number:
            item["number"] = self.number
        if self.container:
            item["container-title"] = self.container
        if self.place:
            item["event-place" if self.kind == "Meeting" else "publisher-place"] = self.place
        if self.issued:
            item["issued"] = {"date-parts": [[int(x) for x in self.issued.split("-")]]}
        return item


def _bib(value: str) -> str:
    """Text as BibTeX reads it: its special characters escaped."""
    value = value.replace("\\", "\\textbackslash{}")
    for char in "{}%&$#_":
        value = value.replace(char, "\\" + char)
    return value.replace("~", "\\textasciitilde{}").replace("^", "\\textasciicircum{}")


MEETING_DATE = """PREFIX tg: <https://w3id.org/treatygraph/ontology#>
SELECT ?date WHERE { <{iri}> tg:adoptedAt ?m . ?m tg:endDate|tg:startDate ?date }
ORDER BY DESC(?date) LIMIT 1"""


async def citation_for(svc: Service, iri: str, rows: list[dict], kinds: set[str]) -> Citation:
    """The citation of a resource; a decision without its own date is dated by its meeting."""
    found = citation(svc, iri, rows, kinds)
    if found.issued is None and kinds & {"Decision", "GuidelineVersion"}:
        dated = await svc.rows(fill(MEETING_DATE, iri=iri))
        if dated and re.fullmatch(r"\d{4}-\d{2}-\d{2}", dated[0]["date"].value):
            found.issued = dated[0]["date"].value
    return found


def citation(svc: Service, iri: str, rows: list[dict], kinds: set[str]) -> Citation:
    """How to cite a resource, from its facts (the rows of FACTS): its title, who adopted it,
    when and where, its stable IRI and its official source."""
    out: dict[str, list] = {}
    for row in rows:
        if row["direction"].value == "out":
            out.setdefault(row["p"].value, []).append(row)

    def first(prop: str, labelled: bool = False) -> str | None:
        found = out.get(prop) or []
        if not found:
            return None
        row = found[0]
        if labelled and row.get("ol") is not None:
            return row["ol"].value
        return row["o"].value

    kind = next((k for k, _ in MAP_NODES if k in kinds), None) or next(iter(sorted(kinds)))
    if "Meeting" in kinds:
        kind = "Meeting"
    label = first(RDFS_LABEL) or svc.short_id(iri)
    title = first(DCT + "title") or label
    symbol = first(TG + "symbol")
    if symbol and not title.startswith(symbol):
        title = f"Decision {symbol}: {title}"
    elif symbol:
        title = "Decision " + title
    convention = first(TG + "convention", labelled=True) or first(TG + "instrument", labelled=True)
    author = ""
    container = None
    if kind == "Decision" and convention:
        author = f"Conference of the Parties to the {convention}"
        meeting = first(TG + "adoptedAt", labelled=True)
        container = meeting
    elif kind in ("Article", "Paragraph", "Annex", "AnnexPart") and convention:
        container = None if label.startswith(convention) else convention
    elif kind in ("TechnicalGuideline", "GuidelineVersion") and convention:
        author = f"Conference of the Parties to the {convention}"
    issued = first(TG + "dateAdopted") or first(TG + "startDate") or first(DCT + "issued") or None
    if issued and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", issued):
        issued = None
    place = ", ".join(x for x in (first(TG + "city"), first(TG + "country")) if x) or None
    if kind != "Meeting":
        place = first(TG + "placeOfAdoption") or None
    sources = sorted({r["o"].value for r in out.get(DCT + "source", []) if r["o"].type == "uri"})
    official = (
        [s for s in sources if any(h in s.split("/")[2:3][0] for h in OFFICIAL_HOSTS)]
        if (sources)
        else []
    )
    source = (official or sources or [None])[0]
    if source is not None and not re.match(r"https?://", source):
        source = None
    return Citation(
        iri=iri,
        kind=kind,
        title=title,
        author=author,
        number=symbol,
        issued=issued,
        place=place,
        container=container,
        source=source,
        sources=sources,
    )


@router.get("/cite/{path:path}", include_in_schema=False)
async def cite(request: Request, path: str, format: str = "text") -> Response:
    """A resource's citation: plain text, BibTeX (`format=bibtex`) or CSL-JSON (`format=csl`)."""
    svc = service(request)
    iri = svc.id_base + path
    if not path or not _valid_iri(iri):
        raise ServiceError(404, f"no resource <{iri}> in this dataset")
    if format not in ("text", "bibtex", "csl"):
        raise ServiceError(422, "format must be text, bibtex or csl")
    rows = await facts(svc, iri)
    kinds = {
        r["o"].value.removeprefix(TG)
        for r in rows
        if r["direction"].value == "out"
        and r["p"].value == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
        and r["o"].value.startswith(TG)
    }
    if not rows:
        raise ServiceError(404, f"no resource <{iri}> in this dataset")
    found = await citation_for(svc, iri, rows, kinds or {"Resource"})
    name = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")
    if format == "bibtex":
        return Response(
            found.bibtex() + "\n",
            media_type="application/x-bibtex; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="{name}.bib"'},
        )
    if format == "csl":
        return Response(
            json.dumps([found.csl()], ensure_ascii=False, indent=2),
            media_type="application/vnd.citationstyles.csl+json",
            headers={"Content-Disposition": f'inline; filename="{name}.json"'},
        )
    return Response(found.text() + "\n", media_type="text/plain; charset=utf-8")
