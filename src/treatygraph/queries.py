"""Named questions: the `.rq` files under queries/, loaded by name, run with parameters.

A named query starts with a header of comment lines:

    # name: minamata-articles-referring-to-basel
    # title: Articles of the Minamata Convention that refer to the Basel Convention
    # description: ...
    # param: ?convention convention  The convention (default: Basel)
    # coverage: year ?year

A parameter's kind (after its name) is declared there once: a kind of value (`year`, `date`,
`integer`, `string`, `iri`) or of resource (`convention`, `instrument`, `party`, `meeting`,
`decision`, `topic`, `guideline`, `source`); `treatygraph.parameters` says what each accepts and
turns a short id, prefixed name, IRI or name into the IRI the question runs with. A question that
lists decisions says which meetings its answer draws on (`# coverage: all`, `year ?year`,
`since ?from`, optionally `except ?partner` to leave out a convention's own meetings), so that its
answer can say how many decisions are recorded against how many were adopted
(`treatygraph.coverage`).

Each parameter is bound in the query body by exactly one line `VALUES ?name { default }`, so the
file runs as it stands (in YASGUI, in Jena...) with its defaults. To run it with other values the
line's braces are refilled with the given value, or with UNDEF when an optional value is absent.
Values are checked against their declared kind first, so nothing a user sends is pasted as SPARQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from treatygraph import parameters
from treatygraph.parameters import BadParameter
from treatygraph.sources import REPO_ROOT

QUERY_DIR = REPO_ROOT / "queries"
_HEADER = re.compile(r"^#\s*(name|title|description|param|coverage):\s*(.*)$")
_PARAM = re.compile(r"^\?(\w+)\s+(" + "|".join(parameters.KINDS) + r")\b\s*(.*)$")
_COVERAGE = re.compile(r"^(all|year \?\w+|since \?\w+)(?: except \?\w+)?$")
# The API's own queries (api-*.rq) are not questions people ask.
INTERNAL_PREFIX = "api-"

__all__ = ["BadParameter", "NamedQuery", "Param", "UnknownQuery", "get", "load_all", "parse"]


class UnknownQuery(KeyError):
    """No named query of that name."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # the kind: see treatygraph.parameters.KINDS
    description: str
    default: str | None = None  # the value of its VALUES line (an IRI, a number...), None: UNDEF

    @property
    def kind(self) -> parameters.Kind:
        return parameters.kind_of(self.type)

    @property
    def shown_default(self) -> str:
        """The default as a person types it (`minamata`, `2023`); '' when there is none."""
        return parameters.shown_default(self.type, self.default)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    text: str
    path: Path
    params: dict[str, Param] = field(default_factory=dict)
    coverage: str | None = None  # which meetings a list of decisions draws on (see above)

    @property
    def internal(self) -> bool:
        """One of the JSON API's own queries, not a question people ask."""
        return self.name.startswith(INTERNAL_PREFIX)

    def defaults(self) -> dict[str, str | None]:
        """Each parameter's default value (None: none)."""
        return {name: param.default for name, param in self.params.items()}

    def bind(self, values: dict[str, str | None] | None = None) -> str:
        """The query text with the given parameter values (others keep their defaults)."""
        values = values or {}
        unknown = set(values) - set(self.params)
        if unknown:
            known = ", ".join(sorted(self.params)) or "none"
            raise BadParameter(
                f"query '{self.name}' has no parameter {', '.join(sorted(unknown))} "
                f"(parameters: {known})",
                sorted(unknown)[0],
            )
        text = self.text
        for name, raw in values.items():
            term = "UNDEF" if raw is None or raw == "" else to_sparql(self.params[name], raw)
            pattern = re.compile(r"(VALUES\s+\?" + name + r"\s*\{)[^}]*(\})")
            text, count = pattern.subn(lambda m, t=term: f"{m.group(1)} {t} {m.group(2)}", text)
            if count != 1:
                raise RuntimeError(f"{self.path}: expected one 'VALUES ?{name} {{...}}' line")
        return text


def to_sparql(param: Param, raw: str) -> str:
    """Check one value against its kind and write it as a SPARQL term (a resource must be given
    as an IRI or prefixed name here: `treatygraph.parameters.resolve_all` looks names up)."""
    return parameters.to_sparql(param.kind, raw, param.name)


def parse(path: Path) -> NamedQuery:
    header: dict[str, str] = {}
    params: dict[str, Param] = {}
    text = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "param":
            param = _PARAM.match(value.strip())
            if not param:
                raise ValueError(f"{path}: cannot read parameter line {line!r}")
            pname, ptype, pdesc = param.groups()
            params[pname] = Param(pname, ptype, pdesc.strip(), _default(text, pname))
        elif key == "coverage":
            if not _COVERAGE.match(value.strip()):
                raise ValueError(f"{path}: cannot read coverage line {line!r}")
            header[key] = value.strip()
        else:
            header[key] = value.strip()
    return NamedQuery(
        name=header.get("name", path.stem),
        title=header.get("title", path.stem),
        description=header.get("description", ""),
        text=text,
        path=path,
        params=params,
        coverage=header.get("coverage"),
    )


def _default(text: str, name: str) -> str | None:
    """The value on a parameter's `VALUES ?name { ... }` line (None for UNDEF or no line)."""
    match = re.search(r"VALUES\s+\?" + name + r"\s*\{([^}]*)\}", text)
    return parameters.from_sparql(match.group(1)) if match else None


def load_all(directory: Path = QUERY_DIR) -> dict[str, NamedQuery]:
    """Every named query in `directory`, by name."""
    found = {}
    for path in sorted(directory.glob("*.rq")):
        query = parse(path)
        found[query.name] = query
    return found


def get(name: str, directory: Path = QUERY_DIR) -> NamedQuery:
    queries = load_all(directory)
    if name not in queries:
        raise UnknownQuery(name)
    return queries[name]
