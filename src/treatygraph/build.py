"""Build the graph: read the sources into the store, materialise inferences, export files.

Validation is its own step (treatygraph.validation); `build` runs it first unless told not to, and
refuses to write a store from data that violates a shape.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from treatygraph import catalogue, inference, ontology_doc, sources
from treatygraph.namespaces import GRAPH
from treatygraph.store import Store

ONTOLOGY_GRAPH = GRAPH["ontology/treatygraph.ttl"]
MARKER = "build.json"
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


def build(store_path: Path | None, *, validate: bool = True) -> BuildResult:
    """Build the store at `store_path` (in memory if None) from the repository's sources.

    The graph is built in memory, then written to a new on-disk store beside `store_path` and
    swapped in, so a failed build leaves the previous store as it was.
    """
    started = time.perf_counter()
    source_list = sources.repo_sources()
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
        _write_on_disk(memory, store_path, result)
    ontology_doc.write_html()
    return replace(result, seconds=round(time.perf_counter() - started, 2))


def _write_on_disk(memory: Store, store_path: Path, result: BuildResult) -> None:
    fresh = store_path.with_name(store_path.name + ".building")
    shutil.rmtree(fresh, ignore_errors=True)
    disk = Store(fresh)
    disk.bulk_copy_from(memory)
    disk.flush()
    del disk  # closes the store before it is moved
    catalogue.make(memory, catalogue.path_for(fresh))
    marker = {"fingerprint": result.fingerprint, "quads": result.quads}
    (fresh / MARKER).write_text(json.dumps(marker, indent=2))
    previous = store_path.with_name(store_path.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if store_path.exists():
        store_path.rename(previous)
    fresh.rename(store_path)
    shutil.rmtree(previous, ignore_errors=True)


def is_fresh(store_path: Path) -> bool:
    """True when the store at `store_path` was built from the sources as they are now."""
    marker = store_path / MARKER
    if not marker.is_file():
        return False
    recorded = json.loads(marker.read_text()).get("fingerprint")
    return recorded == fingerprint(sources.repo_sources())


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
