"""Turtle files written by the importers: one prefix block, escaped terms, and resources
written in a fixed order, so that running an importer twice gives the same bytes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

PREFIX_BLOCK = """@base <https://w3id.org/treatygraph/id/> .
@prefix tg:      <https://w3id.org/treatygraph/ontology#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix foaf:    <http://xmlns.com/foaf/0.1/> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix dcat:    <http://www.w3.org/ns/dcat#> .
"""

Statement = tuple[str, str]  # (predicate as written, object as written)


def iri(value: str) -> str:
    """An IRI term: relative ones resolve against @base."""
    if re.search(r"[\s<>\"{}|^`\\]", value):
        raise ValueError(f"not a valid IRI: {value!r}")
    return f"<{value}>"


def string(value: str, lang: str | None = None) -> str:
    """A string literal, escaped for Turtle; with a language tag when given."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


def date_literal(value: str) -> str:
    return f'"{value}"^^xsd:date'


def resource_block(subject: str, statements: Iterable[Statement]) -> str:
    """One subject with its statements: rdf:type first, then by predicate and object."""
    by_predicate: dict[str, set[str]] = {}
    for predicate, obj in statements:
        by_predicate.setdefault(predicate, set()).add(obj)
    ordered = sorted(by_predicate, key=lambda p: (p != "a", p))
    parts = [f"{p} {', '.join(sorted(by_predicate[p]))}" for p in ordered]
    lines = [f"{iri(subject)} {parts[0]}"] + [f"    {part}" for part in parts[1:]]
    return " ;\n".join(lines) + " .\n"


def write_turtle(path: Path, header: str, blocks: Iterable[str]) -> Path:
    """Write a generated Turtle file: comment header, prefixes, then the blocks as given."""
    comment = "\n".join(f"# {line}".rstrip() for line in header.strip().splitlines())
    body = "\n".join(blocks)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{comment}\n\n{PREFIX_BLOCK}\n{body}", encoding="utf-8")
    return path
