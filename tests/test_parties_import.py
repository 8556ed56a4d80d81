"""Parties and their dated participation: the IEADB and ECOLEX importers, the queries, the shapes.

What users rely on: the graph counts the same Parties per instrument as the source, a State's
events carry the source's dates, the importers give the same bytes every run, the known
disagreements between the two sources show up, and the shapes catch broken participation data.
Tests that read ../shared skip with a reason when it is absent.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import SH

from treatygraph import queries
from treatygraph.importers import ecolex, ieadb

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
PARTIES_DIR = REPO_ROOT / "data" / "parties"
ID = "https://w3id.org/treatygraph/id/"
TG = Namespace("https://w3id.org/treatygraph/ontology#")
TGSH = Namespace("https://w3id.org/treatygraph/shapes#")
IEADB_SOURCE = f"{ID}source/ieadb-2026-01"
CONVENTIONS = ("basel", "rotterdam", "stockholm", "minamata")

needs_shared = pytest.mark.skipif(
    not (SHARED / ieadb.MEMBERS_CSV).is_file(),
    reason=f"the shared datasets are not at {SHARED} (needed to rerun the importers)",
)

# States with entry into force per instrument, as the IEADB PROVENANCE.md counts them. Its
# Minamata count (150) includes IEADB's row for the convention's own entry into force, filed
# under the name "Agreement"; there are 149 Parties.
SOURCE_COUNTS = {
    "basel": 191,
    "basel/amendment/ban": 103,
    "rotterdam": 165,
    "stockholm": 186,
    "minamata": 149,
}


def _conventions_stub() -> Graph:
    """The four conventions as data/<convention>/ types them (another part of the graph)."""
    stub = Graph()
    for slug in CONVENTIONS:
        stub.add((URIRef(ID + slug), RDF.type, TG.Convention))
    return stub


@pytest.fixture(scope="module")
def graph() -> Graph:
    """The ontology and the files of data/parties/, with the four conventions typed."""
    g = Graph()
    g.parse(REPO_ROOT / "ontology" / "treatygraph.ttl")
    for path in sorted(PARTIES_DIR.glob("*.ttl")):
        g.parse(path)
    g += _conventions_stub()
    return g


@pytest.fixture(scope="module")
def store(graph: Graph) -> ox.Store:
    """The same triples in Oxigraph, the engine the service runs queries on."""
    oxstore = ox.Store()
    oxstore.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return oxstore


def _run_oxigraph(store: ox.Store, text: str) -> list[dict[str, str]]:
    solutions = store.query(text)
    names = [v.value for v in solutions.variables]
    return [{name: row[name].value for name in names if row[name] is not None} for row in solutions]


# -- counts --------------------------------------------------------------------------------------


def test_party_counts_equal_the_source_counts(graph: Graph) -> None:
    """queries/party-counts.rq, run with rdflib over the generated files, from IEADB."""
    query = queries.parse(REPO_ROOT / "queries" / "party-counts.rq")
    rows = graph.query(query.bind({"source": IEADB_SOURCE}))
    counts = {str(row.instrument).removeprefix(ID): int(row.parties) for row in rows}
    assert {path: counts.get(path) for path in SOURCE_COUNTS} == SOURCE_COUNTS


@needs_shared
def test_source_counts_are_read_from_the_csv() -> None:
    """The expected counts are the CSV's own: distinct States with an 'Entry into force' row."""
    names: dict[str, set[str]] = {}
    with (SHARED / ieadb.MEMBERS_CSV).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Action Type"] == "Entry into force":
                names.setdefault(row["Mitch ID"], set()).add(row["Country (official name)"])
    paths = ieadb.instrument_paths()
    states = {
        paths[n]: len(v - {"Agreement"}) for n, v in names.items() if paths[n] in SOURCE_COUNTS
    }
    assert states == SOURCE_COUNTS
    assert "Agreement" in names["4971"]  # why the PROVENANCE says 150 for Minamata


# -- single States against the CSV ---------------------------------------------------------------


def _events(graph: Graph, iso3: str, instrument: str, source: str = "ieadb") -> set[tuple]:
    found = set()
    for event in graph.subjects(TG.party, URIRef(f"{ID}party/{iso3}")):
        if graph.value(event, TG.onInstrument) != URIRef(ID + instrument):
            continue
        if f"/participation/{source}/" not in str(event):
            continue
        kind = str(graph.value(event, TG.eventKind)).rsplit("/", 1)[-1]
        found.add((kind, graph.value(event, TG.eventDate).toPython()))
    return found


def test_japan_minamata_events(graph: Graph) -> None:
    assert _events(graph, "JPN", "minamata") == {
        ("signature", date(2013, 10, 10)),
        ("acceptance", date(2016, 2, 2)),
        ("entry-into-force", date(2017, 8, 16)),
    }


@needs_shared
@pytest.mark.parametrize(
    ("iso3", "name", "number"),
    [
        ("JPN", "Japan", "4971"),
        ("BRA", "Brazil", "3042"),
        ("KEN", "Kenya", "3341"),
        ("DEU", "Germany", "3289"),
        ("FJI", "Fiji", "3341"),
        ("FJI", "Fiji", "4563"),
        ("EUE", "European Union", "4971"),
        ("EUE", "European Union", "3042"),
    ],
)
def test_state_events_match_the_csv_rows(graph: Graph, iso3: str, name: str, number: str) -> None:
    expected = set()
    with (SHARED / ieadb.MEMBERS_CSV).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Mitch ID"] == number and row["Country (official name)"] == name:
                when = date(int(row["Year"]), int(row["Month"]), int(row["Day"]))
                expected.add((ieadb.ACTION_KINDS[row["Action Type"]], when))
    assert expected, f"no CSV rows for {name} on IEADB {number}"
    assert _events(graph, iso3, ieadb.instrument_paths()[number]) == expected


def test_the_european_union_is_a_party_to_all_four_conventions(store: ox.Store) -> None:
    query = queries.parse(REPO_ROOT / "queries" / "parties-at-date.rq")
    for slug in CONVENTIONS:
        text = query.bind({"instrument": ID + slug, "date": "2025-01-01"})
        parties = {row["party"] for row in _run_oxigraph(store, text)}
        assert f"{ID}party/EUE" in parties, slug


def test_objection_keeps_an_annex_amendment_out_of_force(store: ox.Store) -> None:
    """Argentina objected to the 2009 Stockholm amendments and lifted it on 2011-11-09."""
    query = queries.parse(REPO_ROOT / "queries" / "parties-at-date.rq")
    instrument = ID + "stockholm/amendment/annexes-2009"
    before = query.bind({"instrument": instrument, "date": "2011-01-01"})
    after = query.bind({"instrument": instrument, "date": "2012-01-01"})
    argentina = f"{ID}party/ARG"
    assert argentina not in {row["party"] for row in _run_oxigraph(store, before)}
    assert argentina in {row["party"] for row in _run_oxigraph(store, after)}


def test_party_gaps_is_the_difference_of_two_party_lists(store: ox.Store) -> None:
    """Basel Parties not bound by the Ban Amendment = one list minus the other; the defaults
    (Basel against Minamata) likewise."""
    at_date = queries.parse(REPO_ROOT / "queries" / "parties-at-date.rq")

    def bound(instrument: str) -> set[str]:
        text = at_date.bind({"instrument": ID + instrument, "date": "2024-01-01"})
        return {row["party"] for row in _run_oxigraph(store, text)}

    gaps_query = queries.parse(REPO_ROOT / "queries" / "party-gaps.rq")
    ban = gaps_query.bind({"other": ID + "basel/amendment/ban", "date": "2024-01-01"})
    gaps = {row["party"] for row in _run_oxigraph(store, ban)}
    assert gaps == bound("basel") - bound("basel/amendment/ban")
    assert len(gaps) == 191 - 103
    defaults = gaps_query.bind({"date": "2024-01-01"})
    assert {row["party"] for row in _run_oxigraph(store, defaults)} == bound("basel") - bound(
        "minamata"
    )


# -- repeatability -------------------------------------------------------------------------------


@needs_shared
def test_importers_are_repeatable_and_the_committed_files_are_current(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for target in (first, second):
        ieadb.write_ieadb(SHARED, target)
        ecolex.write_ecolex(SHARED, target)
    generated = sorted(p.name for p in (first / "parties").glob("*.ttl"))
    assert generated == [
        "instruments.ttl",
        "participation-ecolex.ttl",
        "participation-ieadb.ttl",
        "parties.ttl",
    ]
    for name in generated:
        data = (first / "parties" / name).read_bytes()
        assert data == (second / "parties" / name).read_bytes(), name
        assert data == (PARTIES_DIR / name).read_bytes(), f"{name} is stale: rerun the importer"


@needs_shared
def test_every_state_name_is_matched(tmp_path: Path) -> None:
    report = ieadb.write_ieadb_report(SHARED, tmp_path)
    assert report.unmatched_names == {}
    assert report.not_state_rows == 49  # IEADB's rows about the instruments themselves
    assert report.missing_countries == []
    assert ecolex.write_ecolex_report(SHARED, tmp_path).unmatched_names == {}


# -- the two sources side by side ----------------------------------------------------------------


def test_known_disagreements_between_ieadb_and_ecolex(store: ox.Store) -> None:
    """The errors manyenviron's PROVENANCE.md lists in ECOLEX show up as disagreements."""
    text = queries.parse(REPO_ROOT / "queries" / "source-disagreements.rq").text
    found = {
        (row["iso3"], row["instrument"].removeprefix(ID), row["kind"].rsplit("/", 1)[-1]): (
            row["ieadbDate"],
            row["ecolexDate"],
        )
        for row in _run_oxigraph(store, text)
    }
    assert found[("AFG", "basel", "entry-into-force")] == ("2013-06-23", "2013-03-25")
    assert ("ISR", "basel", "entry-into-force") in found
    assert ("MOZ", "stockholm", "entry-into-force") in found
    assert ("NGA", "minamata", "entry-into-force") in found
    assert ("JPN", "minamata", "entry-into-force") not in found  # both say 2017-08-16


# -- shapes --------------------------------------------------------------------------------------


def _validate(data: Graph) -> tuple[bool, Graph]:
    shapes = Graph().parse(REPO_ROOT / "shapes" / "parties.ttl")
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
    return conforms, report


def _failing_shapes(report: Graph, severity: URIRef = SH.Violation) -> set[str]:
    return {
        str(report.value(result, SH.sourceShape)).removeprefix(str(TGSH))
        for result in report.subjects(RDF.type, SH.ValidationResult)
        if report.value(result, SH.resultSeverity) == severity
    }


def test_generated_data_passes_the_shapes(graph: Graph) -> None:
    conforms, report = _validate(graph)
    assert conforms, _failing_shapes(report)
    # Only warnings: the three ECOLEX rows whose entry into force precedes consent.
    warned = {
        str(report.value(result, SH.value)).removeprefix(ID)
        for result in report.subjects(RDF.type, SH.ValidationResult)
    }
    assert warned == {
        "participation/ecolex/ISR/basel/entry-into-force",
        "participation/ecolex/MOZ/stockholm/entry-into-force",
        "participation/ecolex/NGA/minamata/entry-into-force",
    }


BROKEN = """
@base <https://w3id.org/treatygraph/id/> .
@prefix tg:   <https://w3id.org/treatygraph/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<source/test> a prov:Entity .
<party/XXA> a tg:Party ; rdfs:label "Test State"@en ; tg:iso3 "XXA" ; tg:m49 "12" ;
    dcterms:source <https://example.org/> .
<party/NOSOURCE> a tg:Party ; rdfs:label "No source"@en ; tg:iso3 "xx" .

<e/ratification> a tg:ParticipationEvent ; tg:party <party/XXA> ; tg:onInstrument <basel> ;
    tg:eventKind <participation-kind/ratification> ; tg:eventDate "2000-05-01"^^xsd:date ;
    prov:wasDerivedFrom <source/test> ; dcterms:source <https://example.org/> .
<e/accession> a tg:ParticipationEvent ; tg:party <party/XXA> ; tg:onInstrument <basel> ;
    tg:eventKind <participation-kind/accession> ; tg:eventDate "2001-05-01"^^xsd:date ;
    prov:wasDerivedFrom <source/test> ; dcterms:source <https://example.org/> .
<e/early> a tg:ParticipationEvent ; tg:party <party/XXA> ; tg:onInstrument <basel> ;
    tg:eventKind <participation-kind/entry-into-force> ; tg:eventDate "1999-01-01"^^xsd:date ;
    prov:wasDerivedFrom <source/test> ; dcterms:source <https://example.org/> .
<e/bad> a tg:ParticipationEvent ; tg:party <party/NOWHERE> ; tg:onInstrument <nothing> ;
    tg:eventKind <participation-kind/adhesion> ; tg:eventDate "2001-02-30"^^xsd:date ;
    prov:wasDerivedFrom <source/test> .
"""


def test_broken_fixture_fails_with_the_right_shapes() -> None:
    data = Graph().parse(REPO_ROOT / "ontology" / "treatygraph.ttl")
    data.parse(data=BROKEN, format="turtle")
    data += _conventions_stub()
    conforms, report = _validate(data)
    assert not conforms
    assert _failing_shapes(report) == {
        "PartyShape-iso3",  # "xx"
        "PartyShape-m49",  # "12"
        "PartyShape-source",
        "ParticipationEventShape-party",  # <party/NOWHERE> is not a Party
        "ParticipationEventShape-instrument",  # <nothing> is not an instrument
        "ParticipationEventShape-kind",  # "adhesion" is not in the scheme
        "ParticipationEventShape-date",  # 30 February
        "ParticipationEventShape-source",
        "OneConsentShape-unique",  # a ratification and an accession
    }
    assert _failing_shapes(report, SH.Warning) == {"EntryIntoForceAfterConsentShape-order"}
