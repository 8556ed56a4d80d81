"""Query safety: refuse what would make the server fetch anything, decided on a real parse.

Oxigraph would contact a remote endpoint for `SERVICE` and fetch a document for `LOAD`; `FROM` and
`FROM NAMED` may only name the dataset's own graphs. This is the first of two independent layers
(the second, `treatygraph.sandbox`, keeps the evaluating processes off the network whatever the
query says).

How the decision is made, and why it cannot be fooled by lexical tricks:
1. A query can only say SERVICE, LOAD or FROM by spelling the keyword. If neither the text nor
   its `\\uXXXX`-decoded form contains one of these letter sequences anywhere (in any case, even
   inside strings, IRIs or comments), no parser can find the clause: the query passes without a
   parse. This test over-approximates (a string that says "service" triggers it), which is safe.
2. Otherwise the query is parsed with rdflib's SPARQL 1.1 grammar, and the parse tree is walked
   for `ServiceGraphPattern`, `Load` and the dataset clause. A text the parser cannot read is
   refused: what cannot be checked does not run.
The old hand tokenizer (kept below, for the non-security jobs of telling the query form and
adding USING clauses) read `<'>` as an IRI where the engine reads `<` then a string; a parse tree
has no such blind spot.

Nesting is bounded before anything parses (deeply nested text overflows the engine's stack).
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from functools import lru_cache

_MENTIONS = re.compile(r"service|load|from", re.IGNORECASE)
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
MAX_NESTING = 128  # brackets ( { [ open at once; the engine's parser recurses per level
_PARSE_STACK = 64 * 1024 * 1024  # the parser thread's stack: enough for MAX_NESTING levels
_PARSE_RECURSION = 50_000


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
    """What the guard learnt: the query form (select, ask, construct, describe or None), whether
    the text has relative IRIs (resolved against the endpoint's own IRI), and whether the query
    names its own dataset (FROM / FROM NAMED), which then replaces the service's default."""

    form: str | None
    relative: bool = False
    names_dataset: bool = False


# -- the decision, on a parse -------------------------------------------------------------------


def check_query(text: str, own_graphs: Container[str] = frozenset()) -> Checked:
    """Refuse SERVICE, LOAD and FROM (NAMED) of a graph that is not in `own_graphs`."""
    check_nesting(text)
    dataset = False
    if _mentions(text):
        tree = _parse(text, update=False)
        _refuse_fetches(tree)
        dataset = _check_dataset(tree, own_graphs)
    return Checked(query_form(text), has_relative_iri(text), dataset)


def check_update(text: str) -> Checked:
    """Refuse SERVICE and LOAD anywhere in an update."""
    check_nesting(text)
    if _mentions(text):
        _refuse_fetches(_parse(text, update=True))
    return Checked(None, has_relative_iri(text))


@lru_cache(maxsize=4096)
def names_dataset(text: str) -> bool:
    """True when the query has its own FROM or FROM NAMED (then the query's dataset applies).

    Not a security decision (`check_query` makes that one), so the tokenizer may say "no FROM
    keyword here" without a parse: "from" in a comment, `?from` or `prov:wasDerivedFrom` no
    longer cost an rdflib parse on every query the service runs for itself."""
    if not any(t.kind == "word" and t.text.upper() == "FROM" for t in tokens(text)):
        return False
    try:
        tree = _parse(text, update=False)
    except Refused:
        return False
    return bool(_dataset_clauses(tree))


def check_nesting(text: str) -> None:
    """Refuse text with more than MAX_NESTING brackets open at once (strings and comments aside)."""
    depth = deepest = 0
    for token in tokens(text):
        if token.kind != "other":
            continue
        if token.text in "({[":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    raise Refused(
                        "nesting",
                        f"the query nests more than {MAX_NESTING} brackets deep "
                        f"(at character {token.start}); write it flatter",
                    )
        elif token.text in ")}]":
            depth = max(0, depth - 1)


def _mentions(text: str) -> bool:
    return any(_MENTIONS.search(variant) for variant in _variants(text))


def _parse(text: str, *, update: bool):
    """rdflib's parse tree of the text, on a thread with room for MAX_NESTING levels."""
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    parse = parseUpdate if update else parseQuery
    # rdflib decodes \uXXXX escapes everywhere before it lexes; Oxigraph decodes them only as
    # content of strings and IRIs. So `"\u005C"` is one string to Oxigraph and an escaped quote
    # that swallows what follows to rdflib, and a SERVICE after it would hide. Each escape is
    # therefore replaced by a plain letter first: inside a string or IRI that is content for both
    # parsers alike; anywhere else Oxigraph refuses the escape, and a letter cannot make a
    # keyword out of nothing (the text was searched for the keywords with escapes decoded).
    text = _ESCAPE.sub("x", text)
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(parse(text))
        except RecursionError:
            outcome.append(Refused("nesting", "the query is nested too deeply to be checked"))
        except Exception as error:  # noqa: BLE001 - any parse failure refuses the text
            message = " ".join(str(error).split())[:300]
            outcome.append(
                Refused(
                    "parse",
                    "the text mentions SERVICE, LOAD or FROM and the guard's SPARQL parser "
                    f"could not read it, so it is not run: {message}",
                )
            )

    on_parser_stack(run)
    if isinstance(outcome[0], Refused):
        raise outcome[0]
    return outcome[0]


_PARSE_LOCK = threading.Lock()  # the stack size is set for the whole process: one at a time


def on_parser_stack(work: Callable[[], None]) -> None:
    """Run `work` on a thread with a deep stack and a high recursion limit, and wait for it:
    rdflib's SPARQL parser recurses per level of nesting (MAX_NESTING levels fit)."""
    with _PARSE_LOCK:
        limit = sys.getrecursionlimit()
        previous = threading.stack_size(_PARSE_STACK)
        try:
            sys.setrecursionlimit(max(limit, _PARSE_RECURSION))
            thread = threading.Thread(target=work, name="sparql-parse")
            thread.start()
            thread.join()
        finally:
            threading.stack_size(previous)
            sys.setrecursionlimit(limit)


def _walk(node) -> Iterator:
    """Every parse-tree node below `node` (CompValues, lists, ParseResults), depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple) or type(item).__name__ == "ParseResults":
            stack.extend(item)


def _refuse_fetches(tree) -> None:
    for node in _walk(tree):
        name = getattr(node, "name", None)
        if name == "ServiceGraphPattern":
            raise Refused(
                "SERVICE", "SERVICE is not allowed: this endpoint never queries other endpoints"
            )
        if name == "Load":
            raise Refused("LOAD", "LOAD is not allowed: this endpoint never fetches documents")


def _dataset_clauses(tree) -> list[tuple[str, str]]:
    """The query's FROM / FROM NAMED IRIs, resolved against its prologue: (clause, iri)."""
    from rdflib.plugins.sparql.algebra import translatePrologue

    prologue_node, query = tree[0], tree[1]
    # (a CompValue's .get answers the key itself when it is missing: test membership)
    clauses = query["datasetClause"] if isinstance(query, dict) and "datasetClause" in query else []
    if not clauses:
        return []
    prologue = translatePrologue(prologue_node, None)
    found = []
    for clause in clauses:
        key, label = ("named", "FROM NAMED") if "named" in clause else ("default", "FROM")
        found.append((label, str(prologue.absolutize(clause[key]))))
    return found


def _check_dataset(tree, own_graphs: Container[str]) -> bool:
    clauses = _dataset_clauses(tree)
    for label, iri in clauses:
        if iri not in own_graphs:
            raise Refused(
                label,
                f"{label} <{iri}> is not allowed: {label} may only name one of this "
                "dataset's graphs (see the service description), and nothing is fetched",
            )
    return bool(clauses)


# -- lexical helpers (not security decisions) ----------------------------------------------------


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


def query_form(text: str) -> str | None:
    """The first query-form keyword (select, ask, construct, describe), for content negotiation:
    a wrong guess is corrected by the answer's own kind."""
    for token in tokens(text):
        if token.kind == "word" and token.text.upper() in QUERY_FORMS:
            return token.text.lower()
    return None


def has_relative_iri(text: str) -> bool:
    return any(t.kind == "iri" and ":" not in t.text for t in tokens(text))


def add_using(update: str, using: list[str], using_named: list[str]) -> str:
    """Give every DELETE/INSERT ... WHERE operation the protocol's using-(named-)graph-uri graphs.

    The protocol forbids them together with USING or WITH in the update itself: that is refused.
    """
    items = list(tokens(update))
    for token in items:
        if token.kind == "word" and token.text.upper() in ("USING", "WITH"):
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


class GraphNames:
    """`in` over a callable that tells whether a named graph exists (so the whole list of
    graphs, slow on a large store, is never read)."""

    def __init__(self, exists: Callable[[str], bool]):
        self._exists = exists

    def __contains__(self, iri: object) -> bool:
        return isinstance(iri, str) and self._exists(iri)


__all__ = [
    "Checked",
    "GraphNames",
    "MAX_NESTING",
    "Refused",
    "on_parser_stack",
    "add_using",
    "check_nesting",
    "check_query",
    "check_update",
    "decode_escapes",
    "has_relative_iri",
    "names_dataset",
    "query_form",
    "tokens",
]
