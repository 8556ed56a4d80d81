"""Generate each convention's articles, annexes and annex parts from the treaty-structure CSV.

The CSV (`brs-minamata-articles-annexes.csv`, see its PROVENANCE.md) is an index derived from the
authentic English texts: one row per article, annex or annex part, with its number, heading, direct
container and document order. This module turns it into `data/<conv>/structure.ttl`, one file per
convention, written as Turtle text in a fixed order so that running it twice gives identical bytes
(the files are committed and reviewed as diffs, so they must not churn).

Run it as `python -m treatygraph.importers.treaty_structure [CSV] [--data-dir DIR]`; the CLI can
expose the same `main(argv)` as `treatygraph import treaty-structure [CSV]`.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from treatygraph.importers.turtle import PREFIX_BLOCK, string

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CSV = (
    REPO_ROOT.parent / "shared" / "data" / "treaty-structure" / "brs-minamata-articles-annexes.csv"
)
DEFAULT_DATA_DIR = REPO_ROOT / "data"
OUTPUT_NAME = "structure.ttl"
SNAPSHOT = "91556a80a25a3da4234c8039945c6aeef4108d00"  # laws-markdown HEAD the CSV was made from


@dataclass(frozen=True)
class ConventionInfo:
    """What the importer needs to know about a convention beyond the CSV."""

    slug: str
    short_name: str
    text_page: str
    text_version: str


# The official page of each convention's text (the source of every generated provision), and the
# version of the text the CSV was derived from (PROVENANCE.md of the CSV).
CONVENTIONS: dict[str, ConventionInfo] = {
    "Basel": ConventionInfo(
        "basel",
        "Basel Convention",
        "https://www.basel.int/TheConvention/Overview/TextoftheConvention/tabid/1275/Default.aspx",
        "laws-markdown blob 6dfebe59, text version of 2014-08-18",
    ),
    "Rotterdam": ConventionInfo(
        "rotterdam",
        "Rotterdam Convention",
        "https://www.pic.int/TheConvention/Overview/TextoftheConvention/tabid/1048/language/en-US/Default.aspx",
        "laws-markdown blob 142b2384, text version of 2014-05-05",
    ),
    "Stockholm": ConventionInfo(
        "stockholm",
        "Stockholm Convention",
        "https://chm.pops.int/TheConvention/Overview/TextoftheConvention/tabid/2232/Default.aspx",
        "laws-markdown blob fe22e786, text version of 2015-03-25",
    ),
    "Minamata": ConventionInfo(
        "minamata",
        "Minamata Convention",
        "https://mercuryconvention.org/en/resources/minamata-convention-mercury-text-and-annexes",
        "laws-markdown blob b3fce1db, text version of 2015-01-08",
    ),
}

UNIT_CLASSES = {"Article": "tg:Article", "Annex": "tg:Annex", "Part": "tg:AnnexPart"}


class StructureError(ValueError):
    """The CSV does not describe a structure the importer can write; says which row and why."""

    def __init__(self, row_number: int, message: str):
        self.row_number = row_number
        super().__init__(f"row {row_number}: {message}")


@dataclass
class Provision:
    """One article, annex or annex part, with the facts that will be written about it."""

    unit_type: str
    number: str
    heading: str
    note: str
    iri: str
    label: str
    container: str
    order: int = 0
    children: list[str] = field(default_factory=list)


def number_slug(number: str) -> str:
    """The IRI segment for a printed number: Basel's "V A" becomes "VA"."""
    return "".join(number.split())


def clean_heading(heading: str) -> str:
    """Headings printed in capitals ("ARBITRATION PROCEDURE") are given in sentence case."""
    heading = " ".join(heading.split())
    if heading.isupper():
        return heading.capitalize()
    return heading


def read_rows(csv_path: Path) -> list[dict[str, str]]:
    """The CSV rows, with their 1-based data row number kept for error messages."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = {"convention", "unit_type", "number", "heading", "container", "order", "note"}
    if rows and not expected <= set(rows[0]):
        missing = ", ".join(sorted(expected - set(rows[0])))
        raise StructureError(0, f"missing columns: {missing}")
    return rows


def build_provisions(rows: Iterable[dict[str, str]]) -> dict[str, list[Provision]]:
    """Group rows by convention and resolve each provision's IRI, container and sibling order.

    Returns, per convention name, its provisions in document order (the CSV `order` column).
    """
    by_convention: dict[str, list[tuple[int, int, dict[str, str]]]] = {}
    for row_number, row in enumerate(rows, start=1):
        name = row["convention"].strip()
        if name not in CONVENTIONS:
            raise StructureError(row_number, f"unknown convention {name!r}")
        if row["unit_type"].strip() not in UNIT_CLASSES:
            raise StructureError(row_number, f"unknown unit_type {row['unit_type']!r}")
        try:
            order = int(row["order"])
        except ValueError:
            raise StructureError(row_number, f"order is not an integer: {row['order']!r}") from None
        by_convention.setdefault(name, []).append((order, row_number, row))
    return {
        name: _resolve(CONVENTIONS[name], sorted(entries, key=lambda e: e[0]))
        for name, entries in by_convention.items()
    }


def _resolve(
    info: ConventionInfo, entries: list[tuple[int, int, dict[str, str]]]
) -> list[Provision]:
    provisions: list[Provision] = []
    by_container_key: dict[str, Provision] = {}  # "Annex VI", "Annex G Part I" -> provision
    iris: set[str] = set()
    children_of: dict[str, list[str]] = {info.slug: []}
    for _, row_number, row in entries:
        unit_type = row["unit_type"].strip()
        number = row["number"].strip()
        container_key = " ".join(row["container"].split())
        if not number:
            raise StructureError(row_number, "empty number")
        if container_key:
            parent = by_container_key.get(container_key)
            if parent is None:
                raise StructureError(row_number, f"container {container_key!r} not defined above")
            container_iri, container_label = parent.iri, parent.label.split(": ")[0]
        else:
            container_iri, container_label = info.slug, info.short_name
        if unit_type == "Annex" and container_key:
            raise StructureError(row_number, "an annex must belong to the convention itself")
        if unit_type == "Part" and not container_key:
            raise StructureError(row_number, "a part must belong to an annex")
        segment = {"Article": "article", "Annex": "annex", "Part": "part"}[unit_type]
        iri = f"{container_iri}/{segment}/{number_slug(number)}"
        if iri in iris:
            raise StructureError(row_number, f"duplicate provision {iri}")
        iris.add(iri)
        heading = clean_heading(row["heading"])
        label = f"{container_label}, {unit_type} {number}"
        if heading:
            label += f": {heading}"
        provision = Provision(
            unit_type=unit_type,
            number=number,
            heading=heading,
            note=" ".join(row["note"].split()),
            iri=iri,
            label=label,
            container=container_iri,
        )
        siblings = children_of.setdefault(container_iri, [])
        siblings.append(iri)
        provision.order = len(siblings)
        children_of[iri] = provision.children
        if unit_type != "Article":
            key = f"Annex {number}" if unit_type == "Annex" else f"{container_key} Part {number}"
            by_container_key[key] = provision
        provisions.append(provision)
    return provisions


def render(info: ConventionInfo, provisions: Sequence[Provision], csv_path: Path) -> str:
    """The Turtle text of one convention's structure, in document order."""
    lines = [
        f"# The structure of the {info.short_name}: its articles, annexes, annex parts and the",
        "# articles of its arbitration and conciliation annexes, with their numbers and headings.",
        "#",
        "# GENERATED FILE: do not edit by hand. Made by the importer",
        f"# treatygraph.importers.treaty_structure from {csv_path.name}",
        "# (shared data, folder treaty-structure), an index derived from the authentic English",
        "# text as mirrored by the GitHub repository statengeneraal/laws-markdown (the Dutch",
        f"# Basis Wettenbestand / Tractatenblad), snapshot {SNAPSHOT[:8]},",
        f"# {info.text_version}. See the CSV's PROVENANCE.md.",
        "# Only numbers and short headings are kept, never the treaty text. Provisions added after",
        "# that text version, where confirmed, are in structure-later.ttl (curated by hand).",
        "# Each provision's dcterms:source is the convention's official text page.",
        "",
        PREFIX_BLOCK,
    ]
    top = [p.iri for p in provisions if p.container == info.slug]
    lines.append(f"<{info.slug}> tg:hasPart")
    lines.append(",\n".join(f"    <{iri}>" for iri in top) + " .")
    lines.append("")
    for provision in provisions:
        lines.extend(_render_provision(info, provision))
        lines.append("")
    return "\n".join(lines)


def _render_provision(info: ConventionInfo, provision: Provision) -> list[str]:
    statements = [
        f"rdfs:label {string(provision.label)}@en",
        f"tg:number {string(provision.number)}",
    ]
    if provision.heading:
        statements.append(f"tg:heading {string(provision.heading)}@en")
    statements += [
        f"tg:order {provision.order}",
        f"tg:partOf <{provision.container}>",
        f"tg:instrument <{info.slug}>",
    ]
    if provision.children:
        parts = ",\n        ".join(f"<{iri}>" for iri in provision.children)
        statements.append(f"tg:hasPart {parts}")
    if provision.note:
        statements.append(f"skos:editorialNote {string(provision.note)}@en")
    statements.append(f"dcterms:source <{info.text_page}>")
    head = f"<{provision.iri}> a {UNIT_CLASSES[provision.unit_type]} ;"
    body = [f"    {statement} ;" for statement in statements]
    body[-1] = body[-1][:-2] + " ."
    return [head, *body]


def write_structure(csv_path: Path, data_dir: Path) -> list[Path]:
    """Write `<data_dir>/<conv>/structure.ttl` for every convention in the CSV; return the paths.

    Output is deterministic: the same CSV always gives byte-identical files.
    """
    provisions = build_provisions(read_rows(csv_path))
    written: list[Path] = []
    for name in sorted(provisions, key=lambda n: CONVENTIONS[n].slug):
        info = CONVENTIONS[name]
        target = data_dir / info.slug / OUTPUT_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        text = render(info, provisions[name], csv_path)
        target.write_bytes(text.encode("utf-8"))
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: `treaty_structure [CSV] [--data-dir DIR]`; returns an exit status."""
    parser = argparse.ArgumentParser(
        prog="treatygraph import treaty-structure",
        description="Generate data/<conv>/structure.ttl from the treaty-structure CSV.",
    )
    parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV, help="the CSV to read")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the data folder to write into"
    )
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(f"error: no such CSV: {args.csv}", file=sys.stderr)
        return 2
    try:
        paths = write_structure(args.csv, args.data_dir)
    except StructureError as error:
        print(f"error: {args.csv}: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
