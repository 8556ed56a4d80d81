"""Content negotiation: pick the best media type an Accept header allows, with q-values.

A `format` parameter (for browsers and links) overrides Accept: a short name or a media type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from treatygraph.api.errors import ServiceError

# Short names for the `format` parameter, and aliases some clients send in Accept.
FORMAT_NAMES = {
    "json": "application/sparql-results+json",
    "srj": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "srx": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "n-triples": "application/n-triples",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "rdf+xml": "application/rdf+xml",
    "rdf": "application/rdf+xml",
    # SPARQLWrapper's N3: a Turtle document is N3, so N3 readers read it.
    "n3": "text/turtle",
    "text/n3": "text/turtle",
    "trig": "application/trig",
    "nq": "application/n-quads",
    "nquads": "application/n-quads",
    "html": "text/html",
}
SOLUTION_TYPES = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
]
SOLUTION_ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
}
GRAPH_TYPES = [
    "text/turtle",
    "application/n-triples",
    "application/ld+json",
    "application/rdf+xml",
    "application/trig",
    "application/n-quads",
]
GRAPH_ALIASES = {
    # Some clients (roqet, rdflib's SPARQLStore) ask for a results format whatever the query form:
    # a graph is then answered in the RDF syntax of the same family.
    "application/sparql-results+xml": "application/rdf+xml",
    "application/sparql-results+json": "application/ld+json",
    "application/x-turtle": "text/turtle",
    "text/plain": "application/n-triples",
    "application/json": "application/ld+json",
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
}


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    q: float
    params: int

    def matches(self, media_type: str) -> int:
        """Specificity of the match (3 exact, 2 type/*, 1 */*), or 0 for none."""
        main, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type != main:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == sub else 0


def parse_accept(header: str | None) -> list[_Range]:
    ranges = []
    for part in (header or "").split(","):
        pieces = [p.strip() for p in part.split(";")]
        main, _, sub = pieces[0].lower().partition("/")
        if not main or not sub:
            continue
        q = 1.0
        params = 0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
            else:
                params += 1
        ranges.append(_Range(main, sub, q, params))
    return ranges


def choose(
    accept: str | None, offered: Sequence[str], aliases: dict[str, str] | None = None
) -> str | None:
    """The offered type the client prefers most (ties: the server's order); None when none fits.

    `aliases` maps other names of an offered type (application/json...) to it, so a client that
    asks for the alias gets the offered type.
    """
    ranges = parse_accept(accept)
    if not ranges:
        return offered[0] if offered else None
    names = {t: [t] for t in offered}
    for alias, target in (aliases or {}).items():
        if target in names:
            names[target].append(alias)
    best, best_q = None, 0.0
    for media_type in offered:
        q = _quality(ranges, names[media_type])
        if q > best_q:
            best, best_q = media_type, q
    return best


def _quality(ranges: list[_Range], names: list[str]) -> float:
    """q of the most specific range matching any name of the type (0 when none matches)."""
    found_q, found_spec = 0.0, 0
    for name in names:
        for accept in ranges:
            spec = accept.matches(name)
            # An exact match of the proper name outranks an alias or a wildcard.
            key = spec * 2 + (1 if name == names[0] else 0)
            if spec and key > found_spec:
                found_q, found_spec = accept.q, key
    return found_q


def from_format(value: str | None, offered: Sequence[str]) -> str | None:
    """The media type a `format` parameter names, if it is one of `offered`."""
    if not value:
        return None
    name = value.strip().lower()
    for candidate in (FORMAT_NAMES.get(name, name), GRAPH_FORMAT_NAMES.get(name)):
        if candidate in offered:
            return candidate
    return None


# What a short name means for graph results (SPARQLWrapper sends format=xml for RDF/XML).
GRAPH_FORMAT_NAMES = {"xml": "application/rdf+xml", "json": "application/ld+json"}


def negotiate(
    fmt: str | None, accept: str | None, offered: Sequence[str], aliases: dict | None = None
) -> str:
    """The media type to answer with: the `format` parameter when given (for browsers), else the
    best match for the Accept header; a 406 naming what is available when nothing fits.

    Clients such as SPARQLWrapper send a `format` beside a correct Accept header, sometimes a
    name that fits another query form (format=csv for a CONSTRUCT); a format that is not
    available here then yields to an Accept header that names something that is."""
    if fmt:
        chosen = from_format(fmt, offered)
        if chosen is not None:
            return chosen
        explicit = [r for r in parse_accept(accept) if r.type != "*" and r.q > 0]
        fallback = choose(accept, offered, aliases or {}) if explicit else None
        if fallback is None:
            raise ServiceError(406, f"format {fmt!r} is not available here; use one of {offered}")
        return fallback
    chosen = choose(accept, offered, aliases or {})
    if chosen is None:
        raise ServiceError(
            406, "none of the media types in Accept is available; available: " + ", ".join(offered)
        )
    return chosen
