"""One way to name a thing, everywhere: the kinds of a question's parameters, and how a value a
person types becomes the term the question runs with.

A question (`queries/*.rq`) declares each parameter once, in its header, with its kind:

    # param: ?from convention  The convention whose articles are listed (default: Minamata)

Kinds of value (checked, never looked up): `year`, `date`, `integer`, `string`, and `iri` (any
absolute IRI, or a prefixed name `id:...` / `tg:...`). Kinds of resource (looked up in the graph):
`convention`, `instrument` (conventions, amendments, protocols), `party`, `meeting`, `decision`,
`topic`, `guideline` and `source`. A resource may be named, ignoring case, by

- its short id: the path under the id base (`minamata`, `basel/meeting/cop-16`, `party/JPN`), or
  that path without its kind's folder (`JPN`, `BC-16/21`, `mercury-waste`, `ieadb-2026-01`);
- its prefixed name, as the command line prints it (`id:minamata`, `id:party/JPN`);
- its full IRI (with or without angle brackets);
- its code (a decision's symbol, a Party's ISO 3166 alpha-3 or alpha-2 code) or, when no
  identifier matches, one of its names (label, short name, preferred label; `Japan`, `BC COP-16`).

An unknown value is an error naming the parameter and the nearest valid values (`difflib` over the
identifiers and names of that kind). Nothing here knows a web framework: the command line and the
pages use it alike, and so can the JSON API. The lookup needs a way to run SPARQL: either give
`resolve` a function from a query to its rows, or run `lookup_query(kind)` yourself (e.g. through
an asynchronous service) and hand the rows to `candidates(kind, rows)`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from treatygraph.queries import NamedQuery

ID = "https://w3id.org/treatygraph/id/"
TG = "https://w3id.org/treatygraph/ontology#"
PREFIXED = {"id:": ID, "tg:": TG}
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
_IRI_SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")

Rows = Iterable[Mapping[str, Any]]
Runner = Callable[[str], Rows]


class BadParameter(ValueError):
    """A parameter value does not fit its declared kind (or the parameter is unknown)."""

    def __init__(self, message: str, parameter: str = "", suggestions: Iterable[str] = ()):
        super().__init__(message)
        self.parameter = parameter
        self.suggestions = list(suggestions)


class UnknownValue(BadParameter):
    """A value names no resource of the parameter's kind (or names several)."""


class BadParameters(BadParameter):
    """Several parameters are wrong: each error is in `errors`; the message joins them."""

    def __init__(self, errors: list[BadParameter]):
        super().__init__("; ".join(str(e) for e in errors), errors[0].parameter if errors else "")
        self.errors = errors


@dataclass(frozen=True)
class Kind:
    """A kind of parameter: the SPARQL term it becomes, and for resources the class whose members
    are its valid values and the folder its ids sit in under the id base."""

    name: str
    term: str  # "iri", "date", "integer" or "string"
    cls: str | None = None
    folder: str = ""
    noun: str = ""

    @property
    def looked_up(self) -> bool:
        return self.cls is not None


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("string", "string"),
        Kind("integer", "integer"),
        Kind("year", "integer"),
        Kind("date", "date"),
        Kind("iri", "iri"),
        Kind("convention", "iri", TG + "Convention", noun="convention"),
        Kind("instrument", "iri", TG + "Instrument", noun="instrument"),
        Kind("party", "iri", TG + "Party", "party/", "Party"),
        Kind("meeting", "iri", TG + "Meeting", noun="meeting"),
        Kind("decision", "iri", TG + "Decision", "decision/", "decision"),
        Kind("topic", "iri", TG + "Topic", "topic/", "topic"),
        Kind("guideline", "iri", TG + "TechnicalGuideline", "guideline/", "technical guideline"),
        Kind("source", "iri", "http://www.w3.org/ns/dcat#Dataset", "source/", "source"),
    )
}


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind of parameter {name!r} ({', '.join(KINDS)})") from None


# -- values --------------------------------------------------------------------------------------


def expand(raw: str) -> str:
    """A prefixed name of our own (`id:minamata`, `tg:Article`) as its IRI; `<IRI>` unwrapped."""
    value = raw.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    for prefix, namespace in PREFIXED.items():
        if value[: len(prefix)].lower() == prefix:
            return namespace + value[len(prefix) :]
    return value


def to_sparql(kind: Kind, raw: str, parameter: str) -> str:
    """Check one value against its kind and write it as a SPARQL term. A resource must already be
    an IRI here (see `resolve`): nothing a person types is pasted into the query."""
    raw = raw.strip()
    if kind.term == "iri":
        iri = expand(raw)
        if not _IRI_SAFE.match(iri):
            what = f"a {kind.noun}" if kind.noun else "an absolute IRI"
            raise BadParameter(
                f"parameter '{parameter}' must be {what} (a short id, id:name or IRI), got {raw!r}",
                parameter,
            )
        return f"<{iri}>"
    if kind.term == "date":
        try:
            return f'"{date.fromisoformat(raw).isoformat()}"^^<{XSD_DATE}>'
        except ValueError:
            message = f"parameter '{parameter}' must be a date YYYY-MM-DD, got {raw!r}"
            raise BadParameter(message, parameter) from None
    if kind.name == "year":
        if not re.fullmatch(r"\d{4}", raw):
            raise BadParameter(
                f"parameter '{parameter}' must be a year, a whole number such as 2023, got {raw!r}",
                parameter,
            )
        return raw
    if kind.term == "integer":
        if not re.fullmatch(r"-?\d{1,9}", raw):
            raise BadParameter(
                f"parameter '{parameter}' must be a whole number, got {raw!r}", parameter
            )
        return raw
    escaped = raw.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{escaped}"'


def from_sparql(term: str) -> str | None:
    """The plain value of a term as written in a VALUES line (None for UNDEF)."""
    term = term.strip()
    if not term or term == "UNDEF":
        return None
    if term.startswith("<") and term.endswith(">"):
        return term[1:-1]
    match = re.fullmatch(r'"((?:[^"\\]|\\.)*)"(?:\^\^\S+|@[\w-]+)?', term)
    if match:
        return re.sub(r"\\(.)", r"\1", match.group(1))
    return expand(term) if re.match(r"^\w*:", term) else term


def short(kind: Kind, iri: str) -> str:
    """How a resource of this kind is written for people: `minamata`, `JPN`, `BC-16/21`,
    `basel/meeting/cop-16`; an IRI outside the id base as it is."""
    if not iri.startswith(ID):
        return iri
    local = iri[len(ID) :]
    if kind.folder and local.startswith(kind.folder):
        return local[len(kind.folder) :]
    return local


# -- looking resources up ------------------------------------------------------------------------

CODES = (TG + "symbol", TG + "iso3", TG + "iso2")
NAMES = (
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/alternative",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
)


def lookup_query(kind: Kind) -> str | None:
    """The SPARQL that lists the valid values of a kind of resource, with their codes and names
    (one per row: ?resource, and ?code or ?name); None for kinds of value."""
    if not kind.looked_up:
        return None
    codes = "|".join(f"<{p}>" for p in CODES)
    names = "|".join(f"<{p}>" for p in NAMES)
    return (
        "SELECT ?resource ?code ?name WHERE {\n"
        f"  ?resource a <{kind.cls}> .\n"
        "  FILTER(isIRI(?resource))\n"
        f"  {{ BIND(1 AS ?only) }} UNION {{ ?resource {codes} ?code }}"
        f" UNION {{ ?resource {names} ?name }}\n"
        "}"
    )


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _value(cell: Any) -> str | None:
    if cell is None:
        return None
    return getattr(cell, "value", cell)


@dataclass
class Candidates:
    """The valid values of one kind of resource, found by identifier first, then by name."""

    kind: Kind
    ids: dict[str, set[str]] = field(default_factory=dict)  # folded identifier -> IRIs
    names: dict[str, set[str]] = field(default_factory=dict)  # folded name -> IRIs
    labels: dict[str, str] = field(default_factory=dict)  # IRI -> a name to show

    def add_id(self, key: str, iri: str) -> None:
        self.ids.setdefault(_fold(key), set()).add(iri)

    def add_name(self, name: str, iri: str) -> None:
        self.names.setdefault(_fold(name), set()).add(iri)
        if iri not in self.labels or (len(name), name) < (len(self.labels[iri]), self.labels[iri]):
            self.labels[iri] = name

    def shown(self, iri: str) -> str:
        label = self.labels.get(iri)
        name = short(self.kind, iri)
        return f"{name} ({label})" if label and _fold(label) != _fold(name) else name

    def match(self, raw: str, parameter: str) -> str:
        """The IRI `raw` names, or UnknownValue with the nearest valid values."""
        key = _fold(expand(raw))
        for table in (self.ids, self.names):
            found = table.get(key) or table.get(_fold(raw))
            if found and len(found) == 1:
                return next(iter(found))
            if found:
                listed = ", ".join(sorted(self.shown(i) for i in found))
                raise UnknownValue(
                    f"parameter '{parameter}': {raw.strip()!r} names several "
                    f"{self.kind.noun}s: {listed}; give one of their ids",
                    parameter,
                    sorted(short(self.kind, i) for i in found),
                )
        raise self.unknown(raw, parameter)

    def unknown(self, raw: str, parameter: str) -> UnknownValue:
        key = _fold(raw)
        keys = {**self.names, **self.ids}
        close = difflib.get_close_matches(key, list(keys), n=8, cutoff=0.6)
        if not close and "/" in key:  # a path: compare its last part with the last parts
            tail = key.rsplit("/", 1)[-1]
            tails: dict[str, set[str]] = {}
            for k, iris in self.ids.items():
                tails.setdefault(k.rsplit("/", 1)[-1], set()).update(iris)
            close_tails = difflib.get_close_matches(tail, list(tails), n=8, cutoff=0.6)
            keys = {**keys, **{t: tails[t] for t in close_tails}}
            close = close_tails
        suggested: list[str] = []
        for k in close:
            for iri in sorted(keys[k]):
                if iri not in suggested:
                    suggested.append(iri)
        suggested = suggested[:3]
        every = sorted({i for iris in self.ids.values() for i in iris})
        if suggested:
            hint = "did you mean: " + ", ".join(self.shown(i) for i in suggested) + "?"
        elif len(every) <= 12:
            hint = "valid values: " + ", ".join(short(self.kind, i) for i in every)
        else:
            examples = ", ".join(short(self.kind, i) for i in every[:4])
            hint = f"no {self.kind.noun} has a similar id or name; ids look like {examples}"
        return UnknownValue(
            f"parameter '{parameter}': no {self.kind.noun} {raw.strip()!r} ({hint})",
            parameter,
            [short(self.kind, i) for i in (suggested or every[:12])],
        )


_ABBREVIATION = re.compile(r"\(([^()]+)\)\s*$")


def candidates(kind: Kind, rows: Rows) -> Candidates:
    """The valid values of `kind` from the rows of `lookup_query(kind)` (cells may be plain
    strings or terms with a `.value`)."""
    found = Candidates(kind)
    for row in rows:
        iri = _value(row.get("resource"))
        if not iri:
            continue
        found.add_id(iri, iri)
        if iri.startswith(ID):
            local = iri[len(ID) :]
            found.add_id(local, iri)
            found.add_id("id:" + local, iri)
            if kind.folder and local.startswith(kind.folder):
                found.add_id(local[len(kind.folder) :], iri)
            if kind.name == "source":  # `ieadb`, `ecolex`: the dataset without its date
                found.add_id(local.removeprefix(kind.folder).split("-", 1)[0], iri)
        code = _value(row.get("code"))
        if code:
            found.add_id(code, iri)
        name = _value(row.get("name"))
        if name:
            found.add_name(name, iri)
            abbreviation = _ABBREVIATION.search(name)  # "... Basel Convention (BC COP-16)"
            if abbreviation and kind.name == "meeting":
                found.add_name(abbreviation.group(1), iri)
    return found


def resolve(kind: Kind | str, raw: str, run: Runner, *, parameter: str) -> str:
    """The term value for one parameter value: the IRI of the resource `raw` names (looked up
    with `run`, a function from a SPARQL query to its rows), or the checked value itself."""
    kind = kind_of(kind) if isinstance(kind, str) else kind
    if not kind.looked_up:
        return check(kind, raw, parameter)
    return candidates(kind, run(lookup_query(kind) or "")).match(raw, parameter)


def check(kind: Kind, raw: str, parameter: str) -> str:
    """A value of a kind that is not looked up, checked (BadParameter when it does not fit); for
    `iri`, a short id (a path such as `minamata/article/11`) is taken as under the id base."""
    value = expand(raw) if kind.term == "iri" else raw.strip()
    if kind.term == "iri" and re.fullmatch(r"[\w.~-]+(/[\w.~-]+)*", value):
        value = ID + value
    to_sparql(kind, value, parameter)
    return value


# -- a question's parameters ---------------------------------------------------------------------


def lookups(query: NamedQuery, values: Mapping[str, str | None]) -> dict[str, str]:
    """The lookup queries the given values need, by kind name (run them, then `resolve_with`)."""
    needed = {}
    for name, raw in values.items():
        param = query.params.get(name)
        if param is None or raw is None or not raw.strip():
            continue
        kind = kind_of(param.type)
        if kind.looked_up:
            needed[kind.name] = lookup_query(kind) or ""
    return needed


def resolve_with(
    query: NamedQuery, values: Mapping[str, str | None], answers: Mapping[str, Rows]
) -> dict[str, str | None]:
    """Every given value of a question made a term value (IRIs for resources); all the errors
    at once (BadParameters) when some do not fit. `answers` holds the rows of `lookups`."""
    unknown = sorted(set(values) - set(query.params))
    if unknown:
        known = ", ".join(sorted(query.params)) or "none"
        raise BadParameter(
            f"query '{query.name}' has no parameter {', '.join(unknown)} (parameters: {known})",
            unknown[0],
        )
    resolved: dict[str, str | None] = {}
    errors: list[BadParameter] = []
    found = {name: candidates(kind_of(name), rows) for name, rows in answers.items()}
    for name, raw in values.items():
        if raw is None or not raw.strip():
            resolved[name] = None
            continue
        kind = kind_of(query.params[name].type)
        try:
            if kind.looked_up:
                resolved[name] = found[kind.name].match(raw, name)
            else:
                resolved[name] = check(kind, raw, name)
        except BadParameter as error:
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BadParameters(errors)
    return resolved


def resolve_all(
    query: NamedQuery, values: Mapping[str, str | None], run: Runner
) -> dict[str, str | None]:
    """`resolve_with`, running the lookups with `run` (a function from SPARQL to rows)."""
    answers = {kind: list(run(text)) for kind, text in lookups(query, values).items()}
    return resolve_with(query, values, answers)


def shown_default(kind_name: str, value: str | None) -> str:
    """A parameter's default as a person would type it (`minamata`, `2023`), '' when none."""
    if value is None:
        return ""
    return short(kind_of(kind_name), value) if kind_of(kind_name).term == "iri" else value
