"""Query safety: refuse what would make the server fetch anything, before anything runs.

Oxigraph would contact a remote endpoint for `SERVICE` and fetch a document for `LOAD`; `FROM` and
`FROM NAMED` may only name the dataset's own graphs. A small tokenizer skips comments, strings and
IRIs, so the words inside them are never mistaken for keywords, and keyword case does not matter.
SPARQL lets `\\uXXXX` escapes stand for any character of the query, so the text is checked both as
sent and with those escapes decoded.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
  | (?P<pname>(?:[^\W\d_][\w.\-]*)?:(?:[\w\-:%]|\\.|\.(?=[\w\-:%\\]))*)
  | (?P<bnode>_:[\w.\-]*)
  | (?P<word>[^\W\d][\w]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


class Refused(ValueError):
    """The request asks for something the service does not do; the message names the clause."""

    def __init__(self, clause: str, message: str):
        super().__init__(message)
        self.clause = clause


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int = 0


@dataclass(frozen=True)
class Checked:
    """What the guard learnt: the query form (select, ask, construct, describe or None), and
    whether the text has relative IRIs (resolved against the endpoint's own IRI)."""

    form: str | None
    relative: bool = False


def tokens(text: str) -> Iterator[Token]:
    """The significant tokens of SPARQL text (no spaces, no comments)."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            yield Token(kind, match.group(), match.start())


def decode_escapes(text: str) -> str:
    def char(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group()

    return _ESCAPE.sub(char, text)


def check_query(text: str, own_graphs: Container[str]) -> Checked:
    """Refuse SERVICE, LOAD and FROM of a graph that is not ours; return the query form."""
    form = None
    for variant in _variants(text):
        found = _scan(variant, own_graphs, update=False)
        form = form or found
    return Checked(form, has_relative_iri(text))


def check_update(text: str) -> Checked:
    """Refuse SERVICE and LOAD in an update."""
    for variant in _variants(text):
        _scan(variant, (), update=True)
    return Checked(None, has_relative_iri(text))


def has_relative_iri(text: str) -> bool:
    return any(t.kind == "iri" and ":" not in t.text for t in tokens(text))


def add_using(update: str, using: list[str], using_named: list[str]) -> str:
    """Give every DELETE/INSERT ... WHERE operation the protocol's using-(named-)graph-uri graphs.

    The protocol forbids them together with USING or WITH in the update itself: that is refused.
    """
    items = list(tokens(update))
    words = [t for t in items if t.kind == "word"]
    for token in words:
        if token.text.upper() in ("USING", "WITH"):
            raise Refused(
                token.text.upper(),
                "using-graph-uri and using-named-graph-uri cannot be combined with USING or WITH "
                "in the update",
            )
    clause = "".join(f"USING <{g}> " for g in using) + "".join(
        f"USING NAMED <{g}> " for g in using_named
    )
    depth, inserts, previous = 0, [], None
    for token in items:
        if token.text == "{":
            depth += 1
        elif token.text == "}":
            depth -= 1
        elif depth == 0 and token.kind == "word" and token.text.upper() == "WHERE":
            if previous is None or previous.text.upper() != "DELETE":
                inserts.append(token.start)
        if token.kind != "other" or token.text in "{}":
            previous = token
    for position in reversed(inserts):
        update = update[:position] + clause + update[position:]
    return update


def _variants(text: str) -> list[str]:
    decoded = decode_escapes(text)
    return [text] if decoded == text else [text, decoded]


def _scan(text: str, own_graphs: Container[str], *, update: bool) -> str | None:
    prefixes: dict[str, str] = {}
    base = ""
    form = None
    items = list(tokens(text))
    for index, token in enumerate(items):
        if token.kind != "word":
            continue
        word = token.text.upper()
        following = items[index + 1 : index + 4]
        if word == "SERVICE":
            raise Refused(
                "SERVICE",
                "SERVICE is not allowed: this endpoint never queries other endpoints",
            )
        if word == "LOAD":
            raise Refused("LOAD", "LOAD is not allowed: this endpoint never fetches documents")
        if word == "PREFIX" and len(following) >= 2 and following[0].kind == "pname":
            prefixes[following[0].text[:-1]] = _resolve(following[1], prefixes, base) or ""
        elif word == "BASE" and following and following[0].kind == "iri":
            base = _resolve(following[0], prefixes, base) or ""
        elif word in QUERY_FORMS and form is None:
            form = word.lower()
        elif word == "FROM" and not update:
            clause = "FROM"
            target = following[0] if following else None
            if target is not None and target.kind == "word" and target.text.upper() == "NAMED":
                clause = "FROM NAMED"
                target = following[1] if len(following) > 1 else None
            iri = _resolve(target, prefixes, base) if target is not None else None
            if iri is not None and iri not in own_graphs:
                raise Refused(
                    clause,
                    f"{clause} <{iri}> is not allowed: {clause} may only name one of this "
                    "dataset's graphs (see the service description), and nothing is fetched",
                )
    return form


def _resolve(token: Token, prefixes: dict[str, str], base: str) -> str | None:
    """The IRI a token stands for (an IRI reference or a prefixed name), or None."""
    if token.kind == "iri":
        return urljoin(base, token.text[1:-1]) if base else token.text[1:-1]
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
        return token.text
    return None
