"""The bounds on what validation reads, the error that says a file is refused, and the checks
that run before a parser sees the bytes: nesting of JSON (JSON-LD) and of XML (RDF/XML), and DTDs.

See `inputs` for why each bound exists.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from xml.parsers import expat

from treatygraph.sources import SourceSyntaxError

MiB = 1024 * 1024


@dataclass(frozen=True)
class InputLimits:
    """Bounds on what validation reads."""

    max_file_bytes: int = 256 * MiB
    max_total_bytes: int = 1024 * MiB
    max_nesting: int = 100
    max_token_bytes: int = 16 * MiB
    max_triples: int = 5_000_000


DEFAULT_LIMITS = InputLimits()


class InputError(SourceSyntaxError):
    """A file (or folder) to validate cannot be used. `kind` says why, for machine-readable
    reports: "syntax", "unreadable", "too-large", "too-deep", "refused" or "empty"."""

    def __init__(
        self,
        path: Path,
        line: int | None,
        column: int | None,
        message: str,
        kind: str = "unreadable",
    ):
        super().__init__(path, line, column, " ".join(message.split()))
        self.kind = kind


def size_text(size: int) -> str:
    return f"{size // MiB} MiB" if size >= MiB and size % MiB == 0 else f"{size} bytes"


# -- nesting -------------------------------------------------------------------------------------

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPEN, _CLOSE = b"[{", b"]}"
# bytes.translate table: an opening bracket to 1, a closing one to 255 (-1 as a signed byte).
_STEPS = bytes(1 if b in _OPEN else 255 if b in _CLOSE else 0 for b in range(256))
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _OPEN + _CLOSE)


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest, counting the brackets outside JSON strings."""
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(accumulate(array("b", brackets.translate(_STEPS)))))


def check_json_nesting(path: Path, data: bytes, limit: int) -> None:
    if json_depth(data) <= limit:
        return
    depth = 0
    for match in _JSON_TOKEN.finditer(data):  # again, to say where
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                line, column = _position(data, match.start())
                raise InputError(
                    path, line, column,
                    f"JSON nested deeper than the limit of {limit} arrays and objects",
                    kind="too-deep",
                )  # fmt: skip
        elif token in (b"]", b"}"):
            depth -= 1


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


class _XmlRefused(Exception):
    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


def check_xml(path: Path, data: bytes, limit: int) -> None:
    """Refuse a DTD, and elements nested deeper than `limit`; report XML that is not well formed
    with expat's line and column."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = 0

    def start(name, attributes):
        nonlocal depth
        depth += 1
        if depth > limit:
            raise _XmlRefused(
                f"XML nested deeper than the limit of {limit} elements", kind="too-deep"
            )

    def end(name):
        nonlocal depth
        depth -= 1

    def doctype(*args):
        raise _XmlRefused(
            "RDF/XML with a document type declaration (<!DOCTYPE ...>, <!ENTITY ...>) is refused: "
            "entities can expand without bound; write the IRIs out, or use Turtle",
            kind="refused",
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.ExternalEntityRefHandler = doctype
    try:
        parser.Parse(data, True)
    except _XmlRefused as refused:
        line, column = parser.CurrentLineNumber, parser.CurrentColumnNumber + 1
        raise InputError(path, line, column, str(refused), kind=refused.kind) from None
    except expat.ExpatError as error:
        message = expat.errors.messages.get(error.code, str(error))
        raise InputError(path, error.lineno, error.offset + 1, message, kind="syntax") from None
