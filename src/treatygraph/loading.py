"""Bulk loading of RDF files into a store directory: `treatygraph load FILE...`.

Files are N-Triples, N-Quads, Turtle or TriG (by their extension: .nt, .nq, .ttl, .trig; each may
end in .gz). The triples of a triple file go to the named graph given (`graph`), or to the store's
default graph; the quads of a quad file keep their own graphs. Everything loaded is written data
(see `treatygraph.write_policy`): a file whose triples would go to a curated graph, or whose quads
name one, is refused before anything is loaded, and so are the other files of the same command.

How it is fast: each file goes through Oxigraph's bulk loader (`Store.bulk_load`), which parses
and sorts without transactions and writes the store's files directly, as `oxigraph load` does.
What this module adds costs little beside it: the check of a quad file's graphs reads the file
once more, but looks at the text of a line only when its last IRI could name a curated graph (or
it has an escape), so that only those lines are parsed; the progress on stderr counts the bytes
the loader has read.

The store's lock is held while loading (a running service, or a build, makes the load refuse),
and the catalogue beside the store, made from the store as it was, is removed: the service makes
it anew when it starts (or `remake_catalogue` here, with `treatygraph load --catalogue`).
"""

from __future__ import annotations

import gzip
import io
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from treatygraph import write_policy

FORMATS = {
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
}
QUAD_FORMATS = {ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG}
CHUNK = 8 * 1024 * 1024
# Seconds between two progress lines.
PROGRESS_EVERY = 2.0


class LoadRefused(ValueError):
    """Nothing is loaded: the command line or a file is wrong, or a target is curated."""


class StoreBusy(RuntimeError):
    """The store is held by another process (a running service, or a build)."""


@dataclass(frozen=True)
class Item:
    """One file to load, and how."""

    path: Path
    format: ox.RdfFormat
    compressed: bool
    graph: str | None  # triple formats: the named graph (None: the default graph)

    @property
    def quads(self) -> bool:
        return self.format in QUAD_FORMATS


@dataclass
class Loaded:
    """What one file's load did."""

    path: Path
    bytes_read: int
    seconds: float


def format_of(path: Path) -> tuple[ox.RdfFormat, bool]:
    """The format of a file by its extension (and whether it is gzip-compressed)."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        known = ", ".join(f"{s}[.gz]" for s in FORMATS)
        raise LoadRefused(f"{path}: cannot tell its format from its name (one of {known})")
    return fmt, compressed


def plan(
    paths: list[Path], graph: str | None, curated: Mapping[str, str], *, scan: bool = True
) -> list[Item]:
    """Check everything before loading anything: each file is there and of a known format,
    the graph is an IRI and not curated, and no quad file names a curated graph (`scan`)."""
    if not paths:
        raise LoadRefused("give one or more files to load")
    if graph is not None:
        try:
            ox.NamedNode(graph)
        except ValueError as error:
            raise LoadRefused(f"--graph {graph!r} is not an IRI: {error}") from None
        origin = write_policy.origin_of(graph, curated)
        if origin is not None:
            raise LoadRefused(
                f"{write_policy.sentence(graph, origin)} (load into a graph of your own)"
            )
    items = []
    for path in paths:
        if not path.is_file():
            raise LoadRefused(f"{path}: no such file")
        fmt, compressed = format_of(path)
        if fmt in QUAD_FORMATS and graph is not None:
            raise LoadRefused(
                f"{path}: --graph applies to triple files (N-Triples, Turtle); the quads of an "
                "N-Quads or TriG file go to the graphs the file names"
            )
        items.append(Item(path, fmt, compressed, graph))
    if scan:
        for item in items:
            if item.quads:
                check_graphs(item, curated)
    return items


def _open(item: Item):
    return gzip.open(item.path, "rb") if item.compressed else item.path.open("rb")


def check_graphs(item: Item, curated: Mapping[str, str]) -> None:
    """Refuse a quad file that names a curated graph (see write_policy.origin_of)."""
    if item.format == ox.RdfFormat.N_QUADS:
        _check_nquads(item, curated)
        return
    # TriG: prefixes and relative IRIs can spell any graph name, so the file is parsed.
    seen: set[str] = set()
    try:
        with _open(item) as data:
            for quad in ox.parse(data, format=item.format, lenient=True):
                name = quad.graph_name
                if isinstance(name, ox.NamedNode) and name.value not in seen:
                    seen.add(name.value)
                    _refuse_if_curated(item, name.value, curated)
    except SyntaxError as error:
        raise LoadRefused(f"{item.path}: {' '.join(str(error).split())}") from None


def _refuse_if_curated(item: Item, iri: str, curated: Mapping[str, str], line: int = 0) -> None:
    origin = write_policy.origin_of(iri, curated)
    if origin is not None:
        where = f"{item.path}" + (f" line {line}" if line else "")
        raise LoadRefused(
            f"{where}: {write_policy.sentence(iri, origin)} (load quads into graphs of your own)"
        )


def _suspects(curated: Mapping[str, str]) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """What makes a line of N-Quads worth parsing: its last IRI, before the final dot, is one of
    the curated graphs or under the names kept for curated files; or it has an escape
    (`\\u0067raph` spells `graph`). Other lines cannot name a curated graph."""
    kept = list(write_policy.CURATED_NAMESPACES)
    exact = sorted(
        {*curated, *write_policy.DERIVED} - {g for g in curated if g.startswith(tuple(kept))}
    )
    alternatives = [re.escape(n.encode("utf-8")) + rb"[^<>\n]*" for n in kept]
    alternatives += [re.escape(n.encode("utf-8")) for n in exact]
    tail = re.compile(
        rb"<(?:" + b"|".join(alternatives) + rb")>[ \t]*\.[ \t]*(?:#[^\n]*)?\r?$", re.MULTILINE
    )
    return tail, re.compile(rb"\\[uU]")


def _check_nquads(item: Item, curated: Mapping[str, str]) -> None:
    patterns = _suspects(curated)
    line_base = 0  # lines before the current chunk
    rest = b""
    with _open(item) as data:
        while True:
            block = data.read(CHUNK)
            text = rest + block
            if block:
                cut = text.rfind(b"\n") + 1
                text, rest = text[:cut], text[cut:]
            starts = sorted(
                {text.rfind(b"\n", 0, m.start()) + 1 for p in patterns for m in p.finditer(text)}
            )
            for start in starts:
                end = text.find(b"\n", start)
                line = text[start : end if end >= 0 else len(text)]
                try:
                    names = [q.graph_name for q in ox.parse(line, format=item.format, lenient=True)]
                except SyntaxError:
                    continue  # the loader reports it, with its place
                for name in names:
                    if isinstance(name, ox.NamedNode):
                        number = line_base + text.count(b"\n", 0, start) + 1
                        _refuse_if_curated(item, name.value, curated, number)
            line_base += text.count(b"\n")
            if not block:
                break


class _Progress(io.RawIOBase):
    """A reader that tells, every few seconds, how far the loader has read a file."""

    def __init__(self, item: Item, report: Callable[[str], None], every: float | None = None):
        self.item = item
        self.raw = item.path.open("rb")
        self.stream = gzip.GzipFile(fileobj=self.raw, mode="rb") if item.compressed else self.raw
        self.size = item.path.stat().st_size
        self.report = report
        self.every = PROGRESS_EVERY if every is None else every
        self.began = time.perf_counter()
        self.last = self.began
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.stream.readinto(buffer)
        self.read_bytes += count
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            self.report(self.line(now))
        return count

    def line(self, now: float) -> str:
        done = self.raw.tell()  # compressed bytes for a .gz file: its share of the file
        share = f" ({100 * done / self.size:.0f}%)" if self.size else ""
        rate = self.read_bytes / max(now - self.began, 1e-9) / 1e6
        return (
            f"{self.item.path.name}: {done / 1e6:,.0f} of {self.size / 1e6:,.0f} MB{share}, "
            f"{now - self.began:,.0f} s, {rate:,.0f} MB/s of text"
        )

    def close(self) -> None:
        if self.stream is not self.raw:
            self.stream.close()
        self.raw.close()
        super().close()


def load(
    items: list[Item], store_path: Path, report: Callable[[str], None] | None = None
) -> list[Loaded]:
    """Bulk-load the planned files into the store at `store_path` (made when missing), holding
    its lock; removes the catalogue made from the store as it was. Raises StoreBusy when another
    process holds the store, LoadRefused (naming the file and the place) on a syntax error."""
    from treatygraph import build, catalogue

    report = report or (lambda message: None)
    try:
        lock = build.hold_store(store_path, shared=False)
    except build.StoreKept:
        raise StoreBusy(
            f"cannot load into {store_path}: it is in use by another process (a running "
            "`treatygraph serve`, or a build); stop it first"
        ) from None
    try:
        store_path.mkdir(parents=True, exist_ok=True)
        # The catalogue answers lists and search from the store as it was: it goes first.
        catalogue.path_for(store_path).unlink(missing_ok=True)
        store = ox.Store(str(store_path))
        done = []
        for item in items:
            began = time.perf_counter()
            reader = _Progress(item, report)
            where = f" into <{item.graph}>" if item.graph else ""
            report(f"{item.path.name}: loading{where} ...")
            try:
                options = {"to_graph": ox.NamedNode(item.graph)} if item.graph else {}
                store.bulk_load(reader, format=item.format, **options)
            except SyntaxError as error:
                raise LoadRefused(
                    f"{item.path}: {' '.join(str(error).split())}; the quads before it may be "
                    "in the store (a bulk load is not rolled back): fix the file and load it "
                    "again (quads already in the store are not added twice)"
                ) from None
            finally:
                reader.close()
            seconds = time.perf_counter() - began
            done.append(Loaded(item.path, reader.read_bytes, seconds))
            report(
                f"{item.path.name}: loaded {reader.read_bytes / 1e6:,.1f} MB of text in "
                f"{seconds:,.1f} s"
            )
        store.flush()
        del store
        return done
    finally:
        lock.close()


def remake_catalogue(store_path: Path) -> Path:
    """Make the catalogue of the store at `store_path` now (the service would at its start)."""
    from treatygraph import catalogue
    from treatygraph.store import Store

    store = Store(store_path, read_only=True)
    return catalogue.make(store, catalogue.path_for(store_path))


def stderr_report(message: str) -> None:
    print(f"treatygraph: {message}", file=sys.stderr, flush=True)
