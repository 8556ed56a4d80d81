"""treatygraph: a linked-data knowledge graph of the chemicals-and-waste conventions."""

__version__ = "0.1.0"
