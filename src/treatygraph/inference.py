"""The few inferences the API and consumers rely on, materialised into one graph of their own.

The rules are SPARQL updates in queries/rules/*.ru, run in file-name order on the store:
1. tg:partOf / tg:hasPart (every owl:inverseOf pair) stated both ways;
2. every typed link also stated with its super-properties, so a consumer asking for eli:cites or
   dcterms:references finds tg:refersTo links;
3. every resource also typed with the super-classes of its class.
They read their rules from the ontology's graph, so adding a sub-property there is enough.
"""

from __future__ import annotations

from pathlib import Path

from treatygraph.namespaces import GRAPH
from treatygraph.sources import REPO_ROOT
from treatygraph.store import Store

INFERRED_GRAPH = GRAPH["inferred"]
RULES_DIR = REPO_ROOT / "queries" / "rules"


def rules(directory: Path = RULES_DIR) -> list[Path]:
    return sorted(directory.glob("*.ru"))


def infer(store: Store) -> int:
    """Recompute the inferred graph; returns the number of inferred triples."""
    store.drop_graph(str(INFERRED_GRAPH))
    for rule in rules():
        store.update(rule.read_text(encoding="utf-8"))
    return store.count(str(INFERRED_GRAPH))
