"""Build the graph: read the sources, materialise inferences, write the store, export files.

Validation is a separate step (treatygraph.validation); `build` runs it first unless told not to,
and refuses to write a store from data that violates a shape.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset

from treatygraph import inference, sources
from treatygraph.namespaces import GRAPH, PREFIXES
from treatygraph.store import Store

ONTOLOGY_GRAPH = GRAPH["ontology/treatygraph.ttl"]
MARKER = "build.json"
EXPORT_FORMATS = {
    "trig": "trig",
    "nq": "nquads",
    "ttl": "turtle",
    "jsonld": "json-ld",
}


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
    return digest.hexdigest()


def load_dataset(source_list: list[sources.Source] | None = None) -> Dataset:
    """The repository's sources as one dataset, with the inferred graph added."""
    source_list = source_list if source_list is not None else sources.repo_sources()
    dataset = sources.load(source_list)
    inference.infer(dataset, ONTOLOGY_GRAPH)
    return dataset


def write_store(dataset: Dataset, store: Store) -> int:
    """Replace the store's content with the dataset's named graphs; returns the number of quads."""
    store.clear()
    data = dataset.serialize(format="nquads", encoding="utf-8")
    store.load(data, "application/n-quads", str(GRAPH["unused"]))
    store.flush()
    return store.count()


def build(store_path: Path | None, *, validate: bool = True) -> BuildResult:
    """Build the store at `store_path` (in memory if None) from the repository's sources."""
    started = time.perf_counter()
    source_list = sources.repo_sources()
    if validate:
        from treatygraph import validation  # imported here: validation is the heavier step

        report = validation.validate_sources(source_list)
        if not report.conforms:
            raise BuildRefused(validation.render_text(report))
    dataset = load_dataset(source_list)
    store = Store(store_path)
    quads = write_store(dataset, store)
    result = BuildResult(
        store_path=store_path,
        graphs=len(store.graphs()),
        quads=quads,
        inferred=len(dataset.graph(inference.INFERRED_GRAPH)),
        seconds=round(time.perf_counter() - started, 2),
        fingerprint=fingerprint(source_list),
    )
    if store_path is not None:
        marker = {"fingerprint": result.fingerprint, "quads": quads, "graphs": result.graphs}
        (store_path / MARKER).write_text(json.dumps(marker, indent=2))
    return result


def is_fresh(store_path: Path) -> bool:
    """True when the store at `store_path` was built from the sources as they are now."""
    marker = store_path / MARKER
    if not marker.is_file():
        return False
    recorded = json.loads(marker.read_text()).get("fingerprint")
    return recorded == fingerprint(sources.repo_sources())


def export(dataset: Dataset, directory: Path, formats: list[str]) -> list[Path]:
    """Write the dataset as TriG, N-Quads (all graphs) and Turtle, JSON-LD (their union)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for extension in formats:
        rdflib_format = EXPORT_FORMATS[extension]
        target = directory / f"treatygraph.{extension}"
        if rdflib_format in ("trig", "nquads"):
            for prefix, namespace in PREFIXES.items():
                dataset.bind(prefix, namespace)
            dataset.serialize(destination=target, format=rdflib_format)
        else:
            union = dataset_union(dataset)
            union.serialize(destination=target, format=rdflib_format)
        written.append(target)
    return written


def dataset_union(dataset: Dataset):
    from rdflib import Graph

    union = Graph()
    for prefix, namespace in PREFIXES.items():
        union.bind(prefix, namespace)
    for graph in dataset.graphs():
        for triple in graph:
            union.add(triple)
    return union


class BuildRefused(RuntimeError):
    """The data violates the shapes; the message is the validation report."""
