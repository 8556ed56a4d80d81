"""Importers turn external tabular sources into the Turtle files kept under data/."""
