"""Scale-up generator: the real graph grown N times, keeping its shape, deterministically.

Copy 0 is the real graph. Copy k (1..N-1) is the real graph with every IRI minted by the project
moved under `id/x<k>/` (and every named graph under `graph/x<k>/`): so each copy adds the same
number of instruments, articles, meetings, decisions, Parties, participation events and links, in
the same proportions. Links between texts (tg:linksTo and its sub-properties) then get a seeded
chance of pointing at the same target in another copy, so that the graph is not N disconnected
islands. The ontology and the participation-kind scheme (whose IRIs the shapes pin) are kept once,
and the inferences are recomputed with the project's own rules, so every system under test is
served exactly the same quads.

How it is fast: the quads that need no per-quad decision are written once as N-Quads text and each
copy is made by moving the IRIs with two string replacements (done in C, not in a Python loop over
quads); only the link quads (which may be rewired) and the rare quad whose text could be moved
wrongly by a plain replacement go through Python one by one. `write` streams the copies to a file
with their inferences (the plain quads' inferred once and moved like them), so that 1000x needs
the memory and time of one copy's special quads per copy, not of the whole graph.
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pyoxigraph as ox

from treatygraph import build, inference, sources
from treatygraph.namespaces import BASE
from treatygraph.store import Store

ID_BASE = BASE + "id/"
GRAPH_BASE = BASE + "graph/"
LINK_PREDICATES = {
    BASE + "ontology#" + name
    for name in (
        "refersTo",
        "implements",
        "recalls",
        "amends",
        "supersedes",
        "requests",
        "cooperatesWith",
    )
}
# The share of cross-text links that point into another copy.
REWIRE_SHARE = 0.1
SEED = 20261124
# Shared vocabularies the shapes pin to fixed IRIs: kept once, and never moved into a copy.
FIXED = (ID_BASE + "participation-kind",)
KEEP_ONCE = {
    str(build.ONTOLOGY_GRAPH),
    str(sources.graph_iri_for(sources.REPO_ROOT / "data" / "parties" / "participation-kinds.ttl")),
}
DROP = {str(inference.INFERRED_GRAPH), str(sources.PROVENANCE_GRAPH)}
NQUADS = ox.RdfFormat.N_QUADS


def _moved(term, copy: int, base: str):
    if (
        copy
        and isinstance(term, ox.NamedNode)
        and term.value.startswith(base)
        and not term.value.startswith(FIXED)
    ):
        return ox.NamedNode(f"{base}x{copy}/{term.value[len(base) :]}")
    return term


def real_graph() -> Store:
    """The repository's graph, as the build makes it (without validation)."""
    store = Store()
    build.fill(store)
    return store


def _text_safe(quad: ox.Quad) -> bool:
    """True when moving this quad by replacing IRI prefixes in its text is exactly `_moved`.

    That holds when only the subject and object can be under `id/`, only the graph under
    `graph/`, and no literal contains text that looks like one of our IRIs.
    """
    if quad.predicate.value in LINK_PREDICATES:
        return False
    if not isinstance(quad.graph_name, ox.NamedNode):
        return False
    for term in (quad.subject, quad.object):
        if isinstance(term, ox.NamedNode) and term.value.startswith(GRAPH_BASE):
            return False
        if isinstance(term, ox.Literal) and (BASE in term.value or BASE in term.datatype.value):
            return False
    return not quad.predicate.value.startswith((ID_BASE, GRAPH_BASE)) and not (
        quad.graph_name.value.startswith(ID_BASE)
    )


def _nquads(quads) -> str:
    return (ox.serialize(quads, format=NQUADS) or b"").decode("utf-8")


def _move_text(text: str, copy: int) -> str:
    """Move a copy's N-Quads text: resources under id/x<copy>/, graphs under graph/x<copy>/."""
    return (
        _move_ids(text, copy).replace("<" + GRAPH_BASE, f"<{GRAPH_BASE}x{copy}/") if copy else text
    )


def _move_ids(text: str, copy: int) -> str:
    """Move only the resources (inferred quads stay in the one inferred graph)."""
    if not copy:
        return text
    text = text.replace("<" + ID_BASE, f"<{ID_BASE}x{copy}/")
    for fixed in FIXED:
        text = text.replace(f"<{ID_BASE}x{copy}/{fixed[len(ID_BASE) :]}", "<" + fixed)
    return text


def _inferred(ontology: list[ox.Quad], text: str) -> str:
    """The N-Quads of what the project's rules infer from `text` (beside the ontology)."""
    piece = Store()
    piece._store.extend(ontology)
    piece._store.load(text.encode("utf-8"), format=NQUADS)
    inference.infer(piece)
    return _nquads(piece.quads(str(inference.INFERRED_GRAPH)))


def scaled_chunks(real: Store, scale: int, seed: int = SEED, with_inferences: bool = False):
    """Yield the N-Quads text of the graph grown `scale` times: the shared quads, then one chunk
    per copy. With `with_inferences`, each chunk also holds what the rules infer from it: every
    rule reads one quad (and the ontology), so inferring chunk by chunk gives the whole graph's
    inferences; the plain quads' inferences are computed once and moved like the quads."""
    rng = random.Random(seed)
    base_quads = sorted(
        (q for q in real._store if q.graph_name.value not in DROP), key=lambda q: str(q)
    )
    ontology = [q for q in base_quads if q.graph_name.value == str(build.ONTOLOGY_GRAPH)]
    shared = _nquads([q for q in base_quads if q.graph_name.value in KEEP_ONCE])
    yield shared + (_inferred(ontology, shared) if with_inferences else "")
    data = [q for q in base_quads if q.graph_name.value not in KEEP_ONCE]
    plain = _nquads([q for q in data if _text_safe(q)])
    plain_inferred = _inferred(ontology, plain) if with_inferences else ""
    special = [q for q in data if not _text_safe(q)]
    for copy in range(scale):
        moved = []
        for quad in special:
            target_copy = copy
            is_link = quad.predicate.value in LINK_PREDICATES
            if scale > 1 and is_link and rng.random() < REWIRE_SHARE:
                target_copy = rng.randrange(scale)
            moved.append(
                ox.Quad(
                    _moved(quad.subject, copy, ID_BASE),
                    quad.predicate,
                    _moved(quad.object, target_copy, ID_BASE),
                    _moved(quad.graph_name, copy, GRAPH_BASE),
                )
            )
        special_text = _nquads(moved)
        chunk = _move_text(plain, copy) + special_text
        if with_inferences:
            inferred = _move_ids(plain_inferred, copy)
            known = set(inferred.splitlines())
            more = [q for q in _inferred(ontology, special_text).splitlines() if q not in known]
            chunk += inferred + "".join(line + "\n" for line in more)
        yield chunk


def generate(scale: int, seed: int = SEED, real: Store | None = None) -> Store:
    """An in-memory store holding the graph grown `scale` times, with inferences materialised
    over the whole graph at once (the reference `write` is tested against)."""
    real = real or real_graph()
    store = Store()
    for chunk in scaled_chunks(real, scale, seed):
        if chunk:
            store._store.load(chunk.encode("utf-8"), format=NQUADS)
    inference.infer(store)
    return store


def write(scale: int, target: Path, seed: int = SEED, real: Store | None = None) -> Path:
    """Write the scaled graph, with its inferences, as N-Quads to `target` (gzip-compressed,
    at the fastest level, when its name ends in .gz); returns the path. Streams copy by copy,
    so memory stays that of one copy whatever the scale; no quad is written twice (a copy's
    quads have that copy's subjects, and its two sets of inferences are merged)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    real = real or real_graph()
    partial = target.with_name(target.name + ".partial")
    if target.name.endswith(".gz"):
        out = gzip.open(partial, "wb", compresslevel=1)
    else:
        out = open(partial, "wb")  # noqa: SIM115 - closed below
    with out:
        for chunk in scaled_chunks(real, scale, seed, with_inferences=True):
            out.write(chunk.encode("utf-8"))
    partial.rename(target)
    return target
