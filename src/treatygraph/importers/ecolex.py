"""Import the ECOLEX membership rows (as repackaged by manyenviron): a second, independent source.

ECOLEX (operated by FAO, IUCN and UNEP) gives, for each State and instrument, the dates of
signature, of consent to be bound ("Rat", whatever its form: ratification, accession,
acceptance, approval) and of entry into force for that State. The shared extract
(../shared/data/manyenviron, see its PROVENANCE.md) covers the four conventions, the Ban
Amendment and the Basel Protocol, with data as of about late 2018. This module writes
data/parties/participation-ecolex.ttl, one tg:ParticipationEvent per date, and refreshes
parties.ttl. Because ECOLEX does not say which form of consent a State used, its consents are of
the broader kind <participation-kind/consent>.

A code that is neither in the country table nor the European Union, an unknown instrument or an
unreadable date is left out and listed in the report that `main` prints. Output is written in a
fixed order, so a second run gives the same bytes.

Run it as `treatygraph import ecolex [--shared DIR] [--data DIR]`.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date
from pathlib import Path

from treatygraph.importers.countries import (
    EU_CODE,
    load_countries,
    write_parties,
)
from treatygraph.importers.ieadb import (
    DEFAULT_DATA,
    DEFAULT_SHARED,
    Event,
    ImportReport,
    event_blocks,
    party_labels,
)
from treatygraph.importers.turtle import (
    Statement,
    iri,
    resource_block,
    string,
    write_turtle,
)

MEMBERSHIPS_CSV = Path("data") / "manyenviron" / "memberships_ECOLEX_MEM.csv"
ECOLEX_SITE = "http://www.ecolex.org"
MANYENVIRON = "https://github.com/globalgov/manyenviron"
DATASET = "source/ecolex-manyenviron-2024"
CITATION = (
    "J. Hollway et al., manyenviron: Environmental agreements for manydata, Graduate Institute "
    "Geneva, https://github.com/globalgov/manyenviron (commit 48ab5977, 2024-04-05), CC BY 4.0; "
    "table ECOLEX_MEM, membership data from ECOLEX, operated by FAO, IUCN and UNEP (via "
    "Sommer 2020)"
)

# ECOLEX treaty identifier -> IRI path of the instrument.
INSTRUMENTS = {
    "TRE-001003": "basel",
    "TRE-001340": "basel/amendment/ban",
    "TRE-001341": "basel/protocol/liability",
    "TRE-001280": "rotterdam",
    "TRE-001338": "stockholm",
    "TRE-160007": "minamata",
}
# Column -> participation kind.
COLUMNS = {"stateSignature": "signature", "Rat": "consent", "Force": "entry-into-force"}

EVENTS_HEADER = """\
Dated participation of each State in the four conventions, the Ban Amendment and the Basel
Protocol, as recorded by ECOLEX: signature, consent to be bound (ECOLEX does not say whether by
ratification, accession, acceptance or approval) and entry into force for that State. A second,
independent source to set against IEADB (participation-ieadb.ttl); data as of about late 2018.

GENERATED FILE: do not edit by hand. Made by treatygraph.importers.ecolex (`treatygraph import
ecolex`) from ../shared/data/manyenviron/memberships_ECOLEX_MEM.csv, the ECOLEX_MEM table of the
manyenviron R package (https://github.com/globalgov/manyenviron, commit 48ab5977, CC BY 4.0),
which repackages ECOLEX (FAO, IUCN and UNEP). Known errors of the source are kept as they are and
reported by the shapes and the source-disagreements query (see that PROVENANCE.md)."""


def read_events(shared_dir: Path, report: ImportReport) -> list[Event]:
    """The dated cells of memberships_ECOLEX_MEM.csv as events; the rest counted in `report`."""
    known = set(load_countries(shared_dir)) | {EU_CODE}
    events: list[Event] = []
    with (shared_dir / MEMBERSHIPS_CSV).open(encoding="utf-8", newline="") as handle:
        for position, row in enumerate(csv.DictReader(handle), start=2):
            party = row["stateID"].strip()
            treaty = row["ecolexID"].strip()
            if party not in known:
                report.unmatched_names[party] = report.unmatched_names.get(party, 0) + 1
                continue
            if treaty not in INSTRUMENTS:
                report.unknown_instruments[treaty] = report.unknown_instruments.get(treaty, 0) + 1
                continue
            for column, kind in COLUMNS.items():
                value = row[column].strip()
                if not value:
                    continue
                try:
                    when = date.fromisoformat(value)
                except ValueError:
                    report.incomplete_dates.append(f"line {position}: {party} {treaty} {column}")
                    continue
                events.append(Event(party, INSTRUMENTS[treaty], kind, when, position))
    return events


def dataset_block() -> str:
    statements: list[Statement] = [
        ("a", "prov:Entity"),
        ("a", "dcat:Dataset"),
        ("rdfs:label", string("ECOLEX memberships, via manyenviron (2024)", "en")),
        ("dcterms:title", string("manyenviron: ECOLEX_MEM membership table", "en")),
        (
            "dcterms:description",
            string(
                "State-by-instrument dates of signature, consent to be bound and entry into "
                "force from ECOLEX, as repackaged by the manyenviron R package; the rows about "
                "the Basel, Rotterdam, Stockholm and Minamata conventions, the Ban Amendment and "
                "the Basel Protocol. Data as of about late 2018.",
                "en",
            ),
        ),
        ("dcterms:bibliographicCitation", string(CITATION, "en")),
        ("dcterms:license", iri("https://creativecommons.org/licenses/by/4.0/")),
        ("dcterms:source", iri(MANYENVIRON)),
        ("dcterms:source", iri(ECOLEX_SITE)),
    ]
    return resource_block(DATASET, statements)


def write_ecolex(shared_dir: Path, data_dir: Path) -> list[Path]:
    """Write parties.ttl and participation-ecolex.ttl; returns the files."""
    return write_ecolex_report(shared_dir, data_dir).files


def write_ecolex_report(shared_dir: Path, data_dir: Path) -> ImportReport:
    """Like write_ecolex, and also say what was left out and why."""
    report = ImportReport()
    parties_path, report.missing_countries = write_parties(shared_dir, data_dir)
    events = read_events(shared_dir, report)
    report.events = len(events)
    blocks = [dataset_block()] + event_blocks(
        events, "ecolex", "ECOLEX", DATASET, [ECOLEX_SITE, MANYENVIRON], party_labels(shared_dir)
    )
    path = write_turtle(data_dir / "parties" / "participation-ecolex.ttl", EVENTS_HEADER, blocks)
    report.files = [parties_path, path]
    return report


def main(argv: list[str] | None = None) -> int:
    """`treatygraph import ecolex [--shared DIR] [--data DIR]`."""
    parser = argparse.ArgumentParser(
        prog="treatygraph import ecolex",
        description="Regenerate data/parties/participation-ecolex.ttl from manyenviron's ECOLEX.",
    )
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the data/ folder")
    args = parser.parse_args(argv)
    if not (args.shared / MEMBERSHIPS_CSV).is_file():
        print(f"error: {args.shared / MEMBERSHIPS_CSV} not found (give --shared)", file=sys.stderr)
        return 2
    report = write_ecolex_report(args.shared, args.data)
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
