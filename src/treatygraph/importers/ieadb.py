"""Import the IEADB membership rows: Parties, the amendment and protocol instruments, and events.

The International Environmental Agreements Database (IEADB) records one row per action of one
State on one instrument (signature, ratification, entry into force, objection...). This module
turns the shared extract (../shared/data/ieadb, see its PROVENANCE.md) into three generated files
under data/parties/:

- instruments.ttl: the amendments and the protocol of the four conventions, as instruments of their
  own, with the IEADB number of each (and of the four conventions, which are described elsewhere);
- participation-ieadb.ttl: one tg:ParticipationEvent per State row, and the dataset they come from;
- parties.ttl: through treatygraph.importers.countries.

Rows whose State cannot be matched to a country, rows that are not about a State ("Agreement"),
actions with no known kind and dates with no day or month are left out and listed in the report
that `write_ieadb_report` returns and `main` prints. Triples are written in a fixed order, so a
second run gives the same bytes.

Run it as `treatygraph import ieadb [--shared DIR] [--data DIR]`.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from treatygraph.importers.countries import (
    NOT_STATES,
    NameMatcher,
    load_countries,
    write_parties,
)
from treatygraph.importers.turtle import (
    Statement,
    date_literal,
    iri,
    resource_block,
    string,
    write_turtle,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SHARED = REPO_ROOT.parent / "shared"
DEFAULT_DATA = REPO_ROOT / "data"
MEMBERS_CSV = Path("data") / "ieadb" / "members.csv"
TREATIES_CSV = Path("data") / "ieadb" / "treaties.csv"

IEADB_SITE = "https://www.iea.ulaval.ca"
DATASET = "source/ieadb-2026-01"
CITATION = (
    "International Environmental Agreements Database Project, hosted by Université Laval, "
    "https://www.iea.ulaval.ca. Data described in: Ronald B. Mitchell, Liliana B. Andonova, "
    "Mark Axelrod, Jörg Balsiger, Thomas Bernauer, Jessica F. Green, James Hollway, "
    'Rakhyun E. Kim and Jean-Frédéric Morin (2020), "What We Know (and Could Know) About '
    'International Environmental Agreements", Global Environmental Politics 20(1): 103-121, '
    "https://doi.org/10.1162/glep_a_00544"
)
UNKNOWN_DATE = "1111-11-11"  # IEADB's "unknown / not in force"

CONVENTIONS = {"3042": "basel", "3289": "rotterdam", "3341": "stockholm", "4971": "minamata"}
CONVENTION_NAMES = {
    "basel": "Basel Convention",
    "rotterdam": "Rotterdam Convention",
    "stockholm": "Stockholm Convention",
    "minamata": "Minamata Convention",
}
# Several annex amendments leave AmendProtToA empty; their lineage says which convention they amend.
LINEAGE_CONVENTION = {
    "Hazardous Wastes": "3042",
    "Prior Informed Consent Chemicals and Pesticides": "3289",
    "Persistent Organic Pollutants": "3341",
    "Mercury": "4971",
}

BASEL = (
    "Convention on the Control of Transboundary Movements of Hazardous Wastes and their Disposal"
)
PIC = (
    "Convention on the Prior Informed Consent Procedure for Certain Hazardous Chemicals and "
    "Pesticides in International Trade"
)
POPS = "Stockholm Convention on Persistent Organic Pollutants"
MERCURY = "Minamata Convention on Mercury"
UNTC_BAN = "https://treaties.un.org/Pages/showDetails.aspx?objid=08000002800158c1&clang=_en"


@dataclass(frozen=True)
class Instrument:
    """An amendment or protocol: its IRI path, class, display label and title.

    Slugs: `annex-<x>-<year>` for an amendment to one annex, `annexes-<year>` for several, with
    the chemical appended where one meeting adopted several separate amendments. Titles follow
    the IEADB names, in sentence case, with two typing errors of the source corrected ("Annexex
    XIII" for "Annexes VIII", "perflurooctane").
    """

    path: str
    kind: str  # tg:Amendment or tg:Protocol
    label: str
    title: str
    extra_sources: tuple[str, ...] = ()


INSTRUMENTS: dict[str, Instrument] = {
    "3225": Instrument(
        "basel/amendment/ban",
        "tg:Amendment",
        "Ban Amendment to the Basel Convention",
        f"Amendment to the Basel {BASEL}",
        (UNTC_BAN,),
    ),
    "3313": Instrument(
        "basel/protocol/liability",
        "tg:Protocol",
        "Basel Protocol on Liability and Compensation",
        "Basel Protocol on Liability and Compensation for Damage Resulting from Transboundary "
        "Movements of Hazardous Wastes and their Disposal",
    ),
    "4352": Instrument(
        "basel/amendment/annexes-1998",
        "tg:Amendment",
        "1998 amendment to Annex I and new Annexes VIII and IX of the Basel Convention",
        f"Amendment to Annex I and adoption of additional Annexes VIII and IX to the {BASEL}",
    ),
    "5009": Instrument(
        "basel/amendment/annexes-2002",
        "tg:Amendment",
        "2002 amendments to Annexes VIII and IX of the Basel Convention",
        f"Amendments to Annexes VIII and IX to the {BASEL}",
    ),
    "5010": Instrument(
        "basel/amendment/annexes-2004",
        "tg:Amendment",
        "2004 amendments to Annexes VIII and IX of the Basel Convention",
        f"Amendments to Annexes VIII and IX to the {BASEL}",
    ),
    "5004": Instrument(
        "basel/amendment/annex-ix-2013",
        "tg:Amendment",
        "2013 amendments to Annex IX of the Basel Convention",
        f"Amendments to Annex IX to the {BASEL}",
    ),
    "8810": Instrument(
        "basel/amendment/annexes-2019",
        "tg:Amendment",
        "2019 amendments to Annexes II, VIII and IX of the Basel Convention",
        f"Amendments to Annexes II, VIII and IX to the {BASEL}",
    ),
    "4436": Instrument(
        "rotterdam/amendment/annex-vi-2004",
        "tg:Amendment",
        "2004 addition of Annex VI to the Rotterdam Convention",
        f"Addition of Annex VI to the {PIC}",
    ),
    "4437": Instrument(
        "rotterdam/amendment/annex-iii-2004",
        "tg:Amendment",
        "2004 amendments to Annex III of the Rotterdam Convention",
        f"Amendments to Annex III of the {PIC}",
    ),
    "4947": Instrument(
        "rotterdam/amendment/annex-iii-2008",
        "tg:Amendment",
        "2008 amendment to Annex III of the Rotterdam Convention (tributyltin)",
        f"Amendments to Annex III of the {PIC} (listing of tributyltin)",
    ),
    "4948": Instrument(
        "rotterdam/amendment/annex-iii-2011",
        "tg:Amendment",
        "2011 amendments to Annex III of the Rotterdam Convention",
        f"Amendments to Annex III of the {PIC}",
    ),
    "5000": Instrument(
        "rotterdam/amendment/annex-iii-2013-azinphos-methyl",
        "tg:Amendment",
        "2013 amendment to Annex III of the Rotterdam Convention (azinphos-methyl)",
        f"Amendments to Annex III of the {PIC} (listing of azinphos-methyl in Annex III)",
    ),
    "5001": Instrument(
        "rotterdam/amendment/annex-iii-2013-commercial-pentabromodiphenyl-ether",
        "tg:Amendment",
        "2013 amendment to Annex III of the Rotterdam Convention "
        "(commercial pentabromodiphenyl ether)",
        f"Amendments to Annex III of the {PIC} (listing of commercial pentabromodiphenyl ether)",
    ),
    "5002": Instrument(
        "rotterdam/amendment/annex-iii-2013-commercial-octabromodiphenyl-ether",
        "tg:Amendment",
        "2013 amendment to Annex III of the Rotterdam Convention "
        "(commercial octabromodiphenyl ether)",
        f"Amendments to Annex III of the {PIC} (listing of commercial octabromodiphenyl ether)",
    ),
    "5003": Instrument(
        "rotterdam/amendment/annex-iii-2013-pfos",
        "tg:Amendment",
        "2013 amendment to Annex III of the Rotterdam Convention (PFOS and related chemicals)",
        f"Amendments to Annex III of the {PIC} (listing of perfluorooctane sulfonic acid, "
        "perfluorooctane sulfonates, perfluorooctane sulfonamides and perfluorooctane sulfonyls)",
    ),
    "9055": Instrument(
        "rotterdam/amendment/annex-iii-2015",
        "tg:Amendment",
        "2015 amendment to Annex III of the Rotterdam Convention (methamidophos)",
        f"Amendments to Annex III of the {PIC} (listing of methamidophos)",
    ),
    "8839": Instrument(
        "rotterdam/amendment/annex-iii-2017",
        "tg:Amendment",
        "2017 amendments to Annex III of the Rotterdam Convention",
        f"2017 Amendments to Annex III of the {PIC} (listing of carbofuran, trichlorfon, "
        "short-chain chlorinated paraffins, and tributyltin)",
    ),
    "9056": Instrument(
        "rotterdam/amendment/annex-iii-2019",
        "tg:Amendment",
        "2019 amendments to Annex III of the Rotterdam Convention",
        f"Amendments to Annex III of the {PIC} (listing of hexabromocyclododecane and phorate)",
    ),
    "9057": Instrument(
        "rotterdam/amendment/annex-vii-2019",
        "tg:Amendment",
        "2019 addition of Annex VII (compliance) to the Rotterdam Convention",
        f"Annex VII of the Rotterdam {PIC} (procedures and mechanisms on compliance)",
    ),
    "4585": Instrument(
        "stockholm/amendment/annex-g-2005",
        "tg:Amendment",
        "2005 addition of Annex G to the Stockholm Convention",
        f"Amendment to add Annex G to the {POPS} (arbitration and conciliation procedures for "
        "settlement of disputes)",
    ),
    "4563": Instrument(
        "stockholm/amendment/annexes-2009",
        "tg:Amendment",
        "2009 amendments to Annexes A, B and C of the Stockholm Convention",
        f"Amendments to Annexes A, B and C to the {POPS}",
    ),
    "4966": Instrument(
        "stockholm/amendment/annex-a-2011",
        "tg:Amendment",
        "2011 amendment to Annex A of the Stockholm Convention (technical endosulfan)",
        f"Amendments to Annex A to the {POPS} (listing technical endosulfan)",
    ),
    "5032": Instrument(
        "stockholm/amendment/annex-a-2013",
        "tg:Amendment",
        "2013 amendment to Annex A of the Stockholm Convention (hexabromocyclododecane)",
        f"Amendments to Annex A to the {POPS} (listing hexabromocyclododecane)",
    ),
    "5055": Instrument(
        "stockholm/amendment/annexes-2015",
        "tg:Amendment",
        "2015 amendments to Annexes A and C of the Stockholm Convention",
        f"Amendments to Annexes A and C to the {POPS} (listing hexachlorobutadiene, "
        "pentachlorophenol and its salts and esters, and polychlorinated naphthalenes)",
    ),
    "8937": Instrument(
        "stockholm/amendment/annexes-2017",
        "tg:Amendment",
        "2017 amendments to Annexes A and C of the Stockholm Convention",
        f"Amendments to Annexes A and C to the {POPS} (listing of decabromodiphenyl ether, "
        "short-chain chlorinated paraffins, hexachlorobutadiene)",
    ),
    "8938": Instrument(
        "stockholm/amendment/annexes-2019",
        "tg:Amendment",
        "2019 amendments to Annexes A and B of the Stockholm Convention",
        f"Amendments to Annexes A and B to the {POPS} (listing of perfluorooctane sulfonic acid, "
        "perfluorooctane sulfonyl fluoride, dicofol, and perfluorooctanoic acid, and PFOA-related "
        "compounds)",
    ),
    "9115": Instrument(
        "stockholm/amendment/annex-a-2022",
        "tg:Amendment",
        "2022 amendment to Annex A of the Stockholm Convention (PFHxS)",
        f"Amendments to Annex A to the {POPS} (listing of perfluorohexane sulfonic acid (PFHxS), "
        "its salts and PFHxS-related compounds)",
    ),
    "9082": Instrument(
        "minamata/amendment/annexes-2022",
        "tg:Amendment",
        "2022 amendment of Annexes A and B of the Minamata Convention",
        f"Amendment of Annexes A and B to the {MERCURY}",
    ),
    "9752": Instrument(
        "minamata/amendment/annexes-2023",
        "tg:Amendment",
        "2023 amendments to Annexes A and B of the Minamata Convention",
        f"Amendments to Annexes A and B of the {MERCURY} (feasibility of mercury-free "
        "alternatives for manufacturing processes listed in Annex B)",
    ),
}

# IEADB dates that official records contradict, or that could not be confirmed; left out (and
# listed in the report). 5010: adopted at Basel COP-7, held 25-29 October 2004 (report
# UNEP/CHW.7/33); IEADB's 2004-08-29 falls outside the meeting. 5009: IEADB's 2002-12-09 could not
# be confirmed as the day of adoption at COP-6. 9056: adopted at RC COP-9 (29 April-10 May 2019)
# and in force for all Parties on 16 September 2019 (depositary notification
# C.N.397.2019.TREATIES-XXVII.14); IEADB gives 2019-08-19 and 2019-09-19.
LEFT_OUT_DATES: dict[str, frozenset[str]] = {
    "5009": frozenset({"adopted"}),
    "5010": frozenset({"adopted"}),
    "9056": frozenset({"adopted", "entry-into-force"}),
}

# IEADB "Action Type" -> participation kind (the slug of <participation-kind/...>).
ACTION_KINDS = {
    "Signature": "signature",
    "Ratification": "ratification",
    "Accession": "accession",
    "Acceptance": "acceptance",
    "Approval": "approval",
    "Succession": "succession",
    "Entry into force": "entry-into-force",
    "Withdrawal": "withdrawal",
    "Entry Into Force (Tacit Acceptance); Status based on pre-amendment agreement action of "
    "Entry into force": "entry-into-force-tacit-acceptance",
    "Entry Into Force (Tacit Acceptance); Status based on post-amendment agreement action of "
    "Entry into force": "entry-into-force-tacit-acceptance",
    "Entry Into Force (Tacit Acceptance) - Objection": "objection",
    "Entry Into Force (Tacit Acceptance) - Removal of Objection": "objection-withdrawn",
}
KIND_LABELS = {
    "signature": "signature",
    "ratification": "ratification",
    "accession": "accession",
    "acceptance": "acceptance",
    "approval": "approval",
    "succession": "succession",
    "consent": "consent to be bound",
    "entry-into-force": "entry into force",
    "entry-into-force-tacit-acceptance": "entry into force by tacit acceptance",
    "withdrawal": "withdrawal",
    "objection": "objection",
    "objection-withdrawn": "objection withdrawn",
}


@dataclass
class ImportReport:
    """What an import wrote and what it had to leave out, for people to check."""

    files: list[Path] = field(default_factory=list)
    events: int = 0
    unmatched_names: dict[str, int] = field(default_factory=dict)
    not_state_rows: int = 0
    incomplete_dates: list[str] = field(default_factory=list)
    unknown_actions: dict[str, int] = field(default_factory=dict)
    unknown_instruments: dict[str, int] = field(default_factory=dict)
    missing_countries: list[str] = field(default_factory=list)
    left_out_facts: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"wrote {path}" for path in self.files]
        out.append(f"{self.events} participation events")
        for name, count in sorted(self.unmatched_names.items()):
            out.append(f"unmatched State name (left out): {name!r} ({count} rows)")
        if self.not_state_rows:
            out.append(f"rows about the instrument itself, not a State: {self.not_state_rows}")
        for what in self.incomplete_dates:
            out.append(f"no full date (left out): {what}")
        for action, count in sorted(self.unknown_actions.items()):
            out.append(f"unknown action type (left out): {action!r} ({count} rows)")
        for ident, count in sorted(self.unknown_instruments.items()):
            out.append(f"unknown instrument (left out): {ident} ({count} rows)")
        for code in self.missing_countries:
            out.append(f"code not in the country table: {code}")
        out += [f"left out: {fact}" for fact in self.left_out_facts]
        return out


def instrument_paths() -> dict[str, str]:
    """IEADB number -> IRI path of every instrument this importer knows, conventions included."""
    return {**CONVENTIONS, **{number: inst.path for number, inst in INSTRUMENTS.items()}}


def instrument_labels() -> dict[str, str]:
    """IRI path -> display label, for the labels of events."""
    labels = {path: CONVENTION_NAMES[path] for path in CONVENTIONS.values()}
    labels.update({inst.path: inst.label for inst in INSTRUMENTS.values()})
    return labels


# ---------------------------------------------------------------------------------------------
# Events, shared with the ECOLEX importer
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Event:
    """One dated action of one Party on one instrument, as one source records it."""

    party: str  # ISO alpha-3 or EUE
    instrument: str  # IRI path
    kind: str
    when: date
    order: int = 0  # position in the source, to keep ties stable


def event_blocks(
    events: list[Event],
    source_slug: str,
    source_name: str,
    dataset: str,
    sources: Sequence[str],
    party_labels: dict[str, str],
) -> list[str]:
    """One Turtle block per event, IRIs `participation/<source>/<ISO3>/<instrument>/<kind>[-n]`."""
    labels = instrument_labels()
    grouped: dict[tuple[str, str, str], list[Event]] = defaultdict(list)
    for event in sorted(events):
        grouped[(event.party, event.instrument, event.kind)].append(event)
    blocks: dict[str, str] = {}
    for (party, instrument, kind), group in grouped.items():
        for number, event in enumerate(group, start=1):
            suffix = "" if number == 1 else f"-{number}"
            subject = f"participation/{source_slug}/{party}/{instrument}/{kind}{suffix}"
            label = (
                f"{party_labels.get(party, party)}: {KIND_LABELS[kind]}, "
                f"{labels[instrument]} ({source_name})"
            )
            statements: list[Statement] = [
                ("a", "tg:ParticipationEvent"),
                ("rdfs:label", string(label, "en")),
                ("tg:party", iri(f"party/{party}")),
                ("tg:onInstrument", iri(instrument)),
                ("tg:eventKind", iri(f"participation-kind/{kind}")),
                ("tg:eventDate", date_literal(event.when.isoformat())),
                ("prov:wasDerivedFrom", iri(dataset)),
            ]
            statements += [("dcterms:source", iri(url)) for url in sources]
            blocks[subject] = resource_block(subject, statements)
    return [blocks[subject] for subject in sorted(blocks)]


def party_labels(shared_dir: Path) -> dict[str, str]:
    labels = {code: country.label for code, country in load_countries(shared_dir).items()}
    labels["EUE"] = "European Union"
    return labels


# ---------------------------------------------------------------------------------------------
# Reading the IEADB files
# ---------------------------------------------------------------------------------------------


def read_events(shared_dir: Path, report: ImportReport) -> list[Event]:
    """The State rows of members.csv as events; everything left out is counted in `report`."""
    matcher = NameMatcher(shared_dir)
    paths = instrument_paths()
    events: list[Event] = []
    with (shared_dir / MEMBERS_CSV).open(encoding="utf-8", newline="") as handle:
        for position, row in enumerate(csv.DictReader(handle), start=2):
            name = row["Country (official name)"].strip()
            if name in NOT_STATES:
                report.not_state_rows += 1
                continue
            party = matcher.match(name)
            if party is None:
                report.unmatched_names[name] = report.unmatched_names.get(name, 0) + 1
                continue
            number = row["Mitch ID"].strip()
            if number not in paths:
                report.unknown_instruments[number] = report.unknown_instruments.get(number, 0) + 1
                continue
            action = row["Action Type"].strip()
            kind = ACTION_KINDS.get(action)
            if kind is None:
                report.unknown_actions[action] = report.unknown_actions.get(action, 0) + 1
                continue
            when = _row_date(row)
            if when is None:
                report.incomplete_dates.append(
                    f"line {position}: {name}, {action}, IEADB {number} "
                    f"({row['Year']}-{row['Month']}-{row['Day']})"
                )
                continue
            events.append(Event(party, paths[number], kind, when, position))
    return events


def _row_date(row: dict[str, str]) -> date | None:
    try:
        return date(int(row["Year"]), int(row["Month"]), int(row["Day"]))
    except (TypeError, ValueError):
        return None


def read_treaties(shared_dir: Path) -> dict[str, dict[str, str]]:
    with (shared_dir / TREATIES_CSV).open(encoding="utf-8", newline="") as handle:
        return {row["IEA#"].strip(): row for row in csv.DictReader(handle)}


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

INSTRUMENTS_HEADER = """\
The amendments and the protocol of the Basel, Rotterdam, Stockholm and Minamata conventions, each
an instrument of its own, with their IEADB numbers; and the IEADB numbers of the four conventions
(which are described in data/<convention>/).

GENERATED FILE: do not edit by hand. Made by treatygraph.importers.ieadb (`treatygraph import
ieadb`) from ../shared/data/ieadb/treaties.csv, the IEADB export of 2026-01-23
(https://www.iea.ulaval.ca; cite as in source/ieadb-2026-01). Labels are our own; titles follow
the IEADB names with two typing errors corrected. Dates of adoption and of entry into force are
IEADB's; 1111-11-11 ("unknown / not in force") is left out, and so are four dates that official
records contradict or that could not be confirmed (see LEFT_OUT_DATES in the importer)."""

EVENTS_HEADER = """\
Dated participation of each State in the four conventions and their amendments and protocol,
as recorded by the International Environmental Agreements Database (IEADB): one
tg:ParticipationEvent per action (signature, ratification, accession, acceptance, approval,
succession, entry into force, entry into force by tacit acceptance, objection, objection
withdrawn, withdrawal).

GENERATED FILE: do not edit by hand. Made by treatygraph.importers.ieadb (`treatygraph import
ieadb`) from ../shared/data/ieadb/members.csv, the IEADB export of 2026-01-23. IEADB is a
research dataset, not the depositary's record: the UN Treaty Collection is the legal authority on
dates. Cite IEADB as given in source/ieadb-2026-01 wherever this data is shown."""


def dataset_block() -> str:
    statements: list[Statement] = [
        ("a", "prov:Entity"),
        ("a", "dcat:Dataset"),
        ("rdfs:label", string("IEADB export of 2026-01-23 (four conventions)", "en")),
        (
            "dcterms:title",
            string("International Environmental Agreements Database: dataset export", "en"),
        ),
        (
            "dcterms:description",
            string(
                "The rows of the IEADB treaty and membership tables about the Basel, Rotterdam, "
                "Stockholm and Minamata conventions and their amendments and protocol, as "
                "exported by the database on 2026-01-23.",
                "en",
            ),
        ),
        ("dcterms:issued", date_literal("2026-01-23")),
        ("dcterms:bibliographicCitation", string(CITATION, "en")),
        ("dcterms:source", iri(IEADB_SITE)),
        ("rdfs:seeAlso", iri("https://doi.org/10.1162/glep_a_00544")),
    ]
    return resource_block(DATASET, statements)


def instrument_blocks(treaties: dict[str, dict[str, str]], report: ImportReport) -> list[str]:
    blocks: dict[str, str] = {}
    for number, path in CONVENTIONS.items():
        blocks[path] = resource_block(path, [("dcterms:identifier", string(f"IEADB:{number}"))])
    for number, inst in INSTRUMENTS.items():
        row = treaties.get(number)
        if row is None:
            report.left_out_facts.append(f"IEADB {number} is not in treaties.csv")
            continue
        amended = row["AmendProtToA"].strip() or LINEAGE_CONVENTION[row["Lineage"].strip()]
        statements: list[Statement] = [
            ("a", inst.kind),
            ("rdfs:label", string(inst.label, "en")),
            ("dcterms:title", string(inst.title, "en")),
            ("tg:amendsInstrument", iri(CONVENTIONS[amended])),
            ("dcterms:identifier", string(f"IEADB:{number}")),
            ("dcterms:source", iri(IEADB_SITE)),
        ]
        statements += [("dcterms:source", iri(url)) for url in inst.extra_sources]
        left_out = LEFT_OUT_DATES.get(number, frozenset())
        for key, column, predicate in (
            ("adopted", "Date IEA was concluded", "tg:dateAdopted"),
            ("entry-into-force", "Date IEA entered into force", "tg:dateEntryIntoForce"),
        ):
            value = row[column].strip()
            if not value or value == UNKNOWN_DATE:
                continue
            if key in left_out:
                report.left_out_facts.append(f"{inst.path}: IEADB {predicate} {value}")
                continue
            statements.append((predicate, date_literal(date.fromisoformat(value).isoformat())))
        blocks[inst.path] = resource_block(inst.path, statements)
    return [blocks[path] for path in sorted(blocks)]


def write_ieadb(shared_dir: Path, data_dir: Path) -> list[Path]:
    """Write parties.ttl, instruments.ttl and participation-ieadb.ttl; returns the files."""
    return write_ieadb_report(shared_dir, data_dir).files


def write_ieadb_report(shared_dir: Path, data_dir: Path) -> ImportReport:
    """Like write_ieadb, and also say what was left out and why."""
    report = ImportReport()
    parties_path, report.missing_countries = write_parties(shared_dir, data_dir)
    out = data_dir / "parties"
    instruments = instrument_blocks(read_treaties(shared_dir), report)
    instruments_path = write_turtle(out / "instruments.ttl", INSTRUMENTS_HEADER, instruments)
    events = read_events(shared_dir, report)
    report.events = len(events)
    blocks = [dataset_block()] + event_blocks(
        events, "ieadb", "IEADB", DATASET, [IEADB_SITE], party_labels(shared_dir)
    )
    events_path = write_turtle(out / "participation-ieadb.ttl", EVENTS_HEADER, blocks)
    report.files = [parties_path, instruments_path, events_path]
    return report


def main(argv: list[str] | None = None) -> int:
    """`treatygraph import ieadb [--shared DIR] [--data DIR]`."""
    parser = argparse.ArgumentParser(
        prog="treatygraph import ieadb",
        description="Regenerate data/parties/ (Parties, instruments, IEADB events) from IEADB.",
    )
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the data/ folder")
    args = parser.parse_args(argv)
    if not (args.shared / MEMBERS_CSV).is_file():
        print(f"error: {args.shared / MEMBERS_CSV} not found (give --shared)", file=sys.stderr)
        return 2
    report = write_ieadb_report(args.shared, args.data)
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
