"""Named questions: the `.rq` files under queries/, loaded by name, run with parameters.

A named query starts with a header of comment lines:

    # name: minamata-articles-referring-to-basel
    # title: Articles of the Minamata Convention that refer to the Basel Convention
    # description: ...
    # param: ?convention iri  The convention (default: Basel)

Each parameter is bound in the query body by exactly one line `VALUES ?name { default }`, so the
file runs as it stands (in YASGUI, in Jena...) with its defaults. To run it with other values the
line's braces are refilled with the given value, or with UNDEF when an optional value is absent.
Values are checked against their declared type first, so nothing a user sends is pasted as SPARQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from treatygraph.sources import REPO_ROOT

QUERY_DIR = REPO_ROOT / "queries"
_HEADER = re.compile(r"^#\s*(name|title|description|param):\s*(.*)$")
_PARAM = re.compile(r"^\?(\w+)\s+(iri|date|integer|string|year)\b\s*(.*)$")
_IRI_SAFE = re.compile(r"^[^\s<>\"{}|\\^`]+:[^\s<>\"{}|\\^`]*$")


class UnknownQuery(KeyError):
    """No named query of that name."""


class BadParameter(ValueError):
    """A parameter value does not fit its declared type (or the parameter is unknown)."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    text: str
    path: Path
    params: dict[str, Param] = field(default_factory=dict)

    def bind(self, values: dict[str, str | None] | None = None) -> str:
        """The query text with the given parameter values (others keep their defaults)."""
        values = values or {}
        unknown = set(values) - set(self.params)
        if unknown:
            known = ", ".join(sorted(self.params)) or "none"
            raise BadParameter(
                f"query '{self.name}' has no parameter {', '.join(sorted(unknown))} "
                f"(parameters: {known})"
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
    """Check one value against its type and write it as a SPARQL term."""
    raw = raw.strip()
    if param.type == "iri":
        if not _IRI_SAFE.match(raw):
            raise BadParameter(f"parameter '{param.name}' must be an absolute IRI, got {raw!r}")
        return f"<{raw}>"
    if param.type == "date":
        try:
            return (
                f'"{date.fromisoformat(raw).isoformat()}"^^<http://www.w3.org/2001/XMLSchema#date>'
            )
        except ValueError:
            message = f"parameter '{param.name}' must be a date YYYY-MM-DD, got {raw!r}"
            raise BadParameter(message) from None
    if param.type in ("integer", "year"):
        if not re.fullmatch(r"-?\d{1,9}", raw):
            raise BadParameter(f"parameter '{param.name}' must be a whole number, got {raw!r}")
        return raw
    escaped = raw.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{escaped}"'


def parse(path: Path) -> NamedQuery:
    header: dict[str, str] = {}
    params: dict[str, Param] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
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
            params[pname] = Param(pname, ptype, pdesc.strip())
        else:
            header[key] = value.strip()
    return NamedQuery(
        name=header.get("name", path.stem),
        title=header.get("title", path.stem),
        description=header.get("description", ""),
        text=path.read_text(encoding="utf-8"),
        path=path,
        params=params,
    )


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
