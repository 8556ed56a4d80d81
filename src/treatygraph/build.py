"""Build the graph: read the sources into the store, materialise inferences, export files.

Validation is its own step (treatygraph.validation); `build` runs it first unless told not to, and
refuses to write a store from data that violates a shape.

A rebuild replaces the curated graphs (one per source file, and the graphs derived from them) and
keeps the written data (every other named graph, and the store's default graph: what clients
wrote over HTTP) exactly as it was: see `treatygraph.write_policy` for the model. The new store is
made in a directory of its own with the written data carried over from the old one, then swapped
in; a build that fails at any point leaves the old store, written data and all, as it was. The
build record (`build.json`) lists the curated graphs and the file each comes from.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from treatygraph import catalogue, inference, ontology_doc, sources, write_policy
from treatygraph.namespaces import GRAPH
from treatygraph.store import Store

ONTOLOGY_GRAPH = GRAPH["ontology/treatygraph.ttl"]
MARKER = write_policy.MARKER
log = logging.getLogger("treatygraph.build")
# Export file extension -> media type. TriG and N-Quads keep the named graphs; Turtle and JSON-LD
# hold their union.
EXPORT_FORMATS = {
    "trig": "application/trig",
    "nq": "application/n-quads",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
}
_PROV = "http://www.w3.org/ns/prov#"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@dataclass(frozen=True)
class BuildResult:
    store_path: Path | None
    graphs: int
    quads: int
    inferred: int
    seconds: float
    fingerprint: str
    written: int = 0  # quads of written data carried over from the previous store


def fingerprint(source_list: list[sources.Source]) -> str:
    """A digest of every source file's path and bytes; the same files give the same digest."""
    digest = hashlib.sha256()
    for source in source_list:
        digest.update(str(source.graph_iri).encode())
        digest.update(source.path.read_bytes())
    for rule in inference.rules():
        digest.update(rule.read_bytes())
    return digest.hexdigest()


def fill(store: Store, source_list: list[sources.Source] | None = None) -> int:
    """Replace the store's content with the sources and their inferences; returns inferred count."""
    source_list = source_list if source_list is not None else sources.repo_sources()
    store.clear()
    sources.load_into(store, source_list)
    inferred = inference.infer(store)
    _stamp(store)
    store.flush()
    return inferred


def _stamp(store: Store) -> None:
    """Record when the store was built (PROV-O), in the provenance graph."""
    provenance = ox.NamedNode(str(sources.PROVENANCE_GRAPH))
    build = ox.NamedNode(str(GRAPH["build"]))
    now = ox.Literal(
        datetime.now(UTC).replace(microsecond=0).isoformat(),
        datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"),
    )
    store.add_quads(
        [
            ox.Quad(build, _RDF_TYPE, ox.NamedNode(_PROV + "Activity"), provenance),
            ox.Quad(build, ox.NamedNode(_PROV + "endedAtTime"), now, provenance),
        ]
    )


def build(
    store_path: Path | None, *, validate: bool = True, data: Path | None = None
) -> BuildResult:
    """Build the store at `store_path` (in memory if None) from the repository's sources (the
    data files from `data`, default: `sources.data_dir()`).

    The graph is built in memory, then written to a new on-disk store beside `store_path`, with
    the written data of the store there carried over, and swapped in: a failed build leaves the
    previous store as it was. Raises BuildRefused when the data violates a shape, StoreKept when
    the store cannot be rebuilt now without losing written data (it is left as it was).
    """
    started = time.perf_counter()
    # The lock first: a store that is being served is not rebuilt (see `store_lock`).
    with store_lock(store_path) if store_path is not None else nullcontext():
        source_list = sources.repo_sources(data=data)
        if validate:
            from treatygraph import validation  # the heavier step, only when asked for

            report = validation.validate_sources(source_list)
            if not report.conforms:
                raise BuildRefused(validation.render_text(report))
        memory = Store()
        inferred = fill(memory, source_list)
        result = BuildResult(
            store_path=store_path,
            graphs=len(memory.graphs()),
            quads=memory.count(),
            inferred=inferred,
            seconds=0.0,
            fingerprint=fingerprint(source_list),
        )
        if store_path is not None:
            made = curated(memory, source_list)
            result = replace(result, written=_write_on_disk(memory, store_path, result, made))
    ontology_doc.write_html()
    return replace(result, seconds=round(time.perf_counter() - started, 2))


def curated(store: Store, source_list: list[sources.Source]) -> dict[str, str]:
    """The curated graphs of a store just filled from `source_list`, each with where it comes
    from: a file (`data/basel/convention.ttl`), or the build (inferences, provenance)."""
    namespace = str(GRAPH)
    origins = {  # a file's graph is named by its path: `.../graph/data/basel/convention.ttl`
        s.graph_iri: s.graph_iri.removeprefix(namespace)
        if s.graph_iri.startswith(namespace + "data/")
        or s.graph_iri.startswith(namespace + "ontology/")
        else sources.display_path(s.path)
        for s in source_list
    }
    origins |= write_policy.DERIVED
    found = dict(origins)
    others = [g for g in store.graphs() if g not in found]
    if others:
        # Graphs named inside TriG / N-Quads files: each comes from the file that names it.
        for source in source_list:
            if source.format in sources.QUAD_FORMATS:
                named = {q.graph_name.value for q in sources.read_quads(source)}
                for graph in others:
                    if graph in named:
                        found.setdefault(graph, sources.display_path(source.path))
        for graph in others:
            found.setdefault(graph, "the build")
    return dict(sorted(found.items()))


def _write_on_disk(memory: Store, store_path: Path, result: BuildResult, curated: dict) -> int:
    """Write the new store beside `store_path`, with the old store's written data, and swap it
    in; returns the number of written quads carried over."""
    _recover(store_path)
    fresh = store_path.with_name(store_path.name + ".building")
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        disk = Store(fresh)
        disk.bulk_copy_from(memory)
        old = store_path.is_dir() and any(store_path.iterdir())  # an empty directory: no store
        written = _carry_written(store_path, disk, curated) if old else 0
        disk.flush()
        # The catalogue is made from the new store as it will be served: written data included.
        catalogue.make(disk, catalogue.path_for(fresh))
        del disk  # closes the store before it is moved
        marker = {
            "fingerprint": result.fingerprint,
            "quads": result.quads,
            "written_quads": written,
            "curated": curated,
        }
        (fresh / MARKER).write_text(json.dumps(marker, indent=2))
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    previous = store_path.with_name(store_path.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if store_path.exists():
        store_path.rename(previous)
    fresh.rename(store_path)
    shutil.rmtree(previous, ignore_errors=True)
    return written


def _recover(store_path: Path) -> None:
    """A swap that was cut short (between its two renames) left the old store under its
    `.previous` name: put it back, so that its written data is carried over, not deleted."""
    previous = store_path.with_name(store_path.name + ".previous")
    if not store_path.exists() and (previous / MARKER).is_file():
        previous.rename(store_path)


def _carry_written(store_path: Path, disk: Store, curated: dict) -> int:
    """Copy the written data of the store at `store_path` into `disk`: its default graph, and
    every named graph that was not curated when it was built (a curated graph whose file is gone
    is dropped with it). Returns the number of quads copied."""
    old = Store(store_path, read_only=True)
    recorded = write_policy.curated_for(store_path)
    was_curated = {
        g for g in old.graphs() if g in recorded or write_policy.origin_of(g, {}) is not None
    }
    written_graphs = [g for g in old.graphs() if g not in was_curated]
    clashes = [g for g in written_graphs if g in curated]
    if clashes:
        names = ", ".join(f"<{g}> (now from {curated[g]})" for g in clashes[:5])
        raise StoreKept(
            f"the store at {store_path} was not rebuilt: written graphs have the names of "
            f"curated graphs: {names}. Name another graph in that file, or serve the store as it "
            "is (`treatygraph serve --no-build`), move the written data to another graph, and "
            "build again"
        )
    _check_curated_untouched(store_path, old, was_curated)
    count = 0

    def written() -> Iterator:
        nonlocal count
        for quad in old.default_graph_quads():
            count += 1
            yield quad
        for graph in written_graphs:
            for quad in old.quads(graph):
                count += 1
                yield quad

    disk.bulk_add(written())
    return count


def _check_curated_untouched(store_path: Path, old: Store, was_curated: set[str]) -> None:
    """Say so when the old store's curated graphs hold other quads than its build made: they
    were changed outside the service's rules (by a version without them), and are replaced."""
    try:
        built = json.loads((store_path / MARKER).read_text()).get("quads")
    except (OSError, ValueError, AttributeError):
        return
    if not isinstance(built, int):
        return
    found = sum(old.count(g) for g in was_curated)
    if found != built:
        log.warning(
            "the curated graphs of %s held %d quads, the build that made them %d: changes made "
            "to curated graphs outside data/ are replaced by the rebuild",
            store_path,
            found,
            built,
        )


@contextmanager
def store_lock(store_path: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the store's lock: exclusive to build it, shared to serve it. A build never runs
    while a service serves the store (the writes it took meanwhile would be lost with the old
    store), nor two builds at once. Raises StoreKept when the lock is held elsewhere."""
    handle = hold_store(store_path, shared=shared)
    try:
        yield
    finally:
        handle.close()


def hold_store(store_path: Path, *, shared: bool):
    """Take the store's lock (see `store_lock`) and return the open lock file: the lock is held
    until it is closed (or the process ends)."""
    lock = store_path.with_name(store_path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    handle = lock.open("a")
    try:
        fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        doing = "serve it" if shared else "build it"
        raise StoreKept(
            f"cannot {doing}: the store at {store_path} is in use by another process (a running "
            "`treatygraph serve`, or a build); stop it first"
        ) from None
    return handle


def is_fresh(store_path: Path, data: Path | None = None) -> bool:
    """True when the store at `store_path` was built from the sources as they are now (by a
    build that recorded its curated graphs)."""
    marker = store_path / MARKER
    if not marker.is_file():
        return False
    recorded = json.loads(marker.read_text())
    if not isinstance(recorded.get("curated"), dict):
        return False
    return recorded.get("fingerprint") == fingerprint(sources.repo_sources(data=data))


def export(store: Store, directory: Path, formats: list[str]) -> list[Path]:
    """Write the graph in each format: TriG and N-Quads with named graphs, the others as a union."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for extension in formats:
        media_type = EXPORT_FORMATS[extension]
        target = directory / f"treatygraph.{extension}"
        target.write_bytes(store.dump(media_type))
        written.append(target)
    return written


class BuildRefused(RuntimeError):
    """The data violates the shapes; the message is the validation report."""


class StoreKept(RuntimeError):
    """The store was not rebuilt, and is as it was: rebuilding it now would lose written data
    (it is in use, or written graphs have the names of curated ones). The message says why."""
