"""Uploaded RDF, read safely: bounds checked before and while parsing, in a sandboxed worker.

The parsers recurse per level of nesting and RDF/XML expands DTD entities, so a small body can
overflow a stack or grow a literal far past the body limit. Before parsing: JSON-LD nesting
depth (counted outside JSON strings, which JSON lexes unambiguously) and any DTD in RDF/XML are
refused. While parsing: the number of triples and the length of every literal and IRI. Each
refusal names the limit. The service runs `read` in a query worker, so a parser that still
failed hard would take down only that worker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from treatygraph.store import RDF_FORMATS

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class UploadLimits:
    max_depth: int = 64
    max_triples: int = 500_000
    max_term_bytes: int = 1024 * 1024


class UploadRefused(ValueError):
    """The upload passes a bound (status 413) or is not valid RDF (status 400)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def json_depth(data: bytes, limit: int) -> None:
    """Refuse JSON nested deeper than `limit` (arrays and objects), before any parser sees it."""
    depth = 0
    in_string = escaped = False
    for position, byte in enumerate(data):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                raise UploadRefused(
                    f"the JSON-LD nests deeper than the limit of {limit} levels "
                    f"(at byte {position})",
                    413,
                )
        elif byte in (0x5D, 0x7D):
            depth -= 1


def precheck(data: bytes, media_type: str, limits: UploadLimits) -> None:
    """The checks made before parsing."""
    if media_type == "application/ld+json":
        json_depth(data, limits.max_depth)
    elif media_type == "application/rdf+xml":
        found = _DTD.search(data)
        if found:
            raise UploadRefused(
                f"RDF/XML with a document type declaration or entities is not accepted "
                f"(<!{found.group(1).decode().upper()} at byte {found.start()}): entity "
                "expansion could make a small upload huge",
            )


def read(data: bytes, media_type: str, base: str, limits: UploadLimits) -> bytes:
    """Parse an upload within the bounds; the triples as N-Triples (relative IRIs resolved)."""
    if media_type not in RDF_FORMATS:
        raise UploadRefused(f"unsupported media type {media_type}", 415)
    precheck(data, media_type, limits)
    triples = []
    try:
        for count, triple in enumerate(
            ox.parse(data, format=RDF_FORMATS[media_type], base_iri=base), start=1
        ):
            if count > limits.max_triples:
                raise UploadRefused(
                    f"the upload has more than the limit of {limits.max_triples} triples", 413
                )
            for term in (triple.subject, triple.predicate, triple.object):
                if len(term.value) > limits.max_term_bytes:
                    raise UploadRefused(
                        f"a term of the upload (triple {count}) is longer than the limit of "
                        f"{limits.max_term_bytes} bytes",
                        413,
                    )
            triples.append(triple)
    except (SyntaxError, ValueError) as error:
        if isinstance(error, UploadRefused):
            raise
        raise UploadRefused(f"the graph is not valid {media_type}: {error}") from None
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
