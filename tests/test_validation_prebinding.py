"""Cross-event participation checks run through our validator (not only pyshacl), and SPARQL
constraints whose meaning depends on $this being pre-bound inside a sub-select are not compiled."""

from pathlib import Path

from treatygraph import validation
from treatygraph.sources import REPO_ROOT, user_sources

EVENTS = """
@base <https://w3id.org/treatygraph/id/> .
@prefix tg: <https://w3id.org/treatygraph/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<participation/test/ISR/basel/ratification> a tg:ParticipationEvent ;
    tg:party <party/ISR> ; tg:onInstrument <basel> ;
    tg:eventKind <participation-kind/ratification> ;
    tg:eventDate "1994-12-14"^^xsd:date ; prov:wasDerivedFrom <source/test> .
<participation/test/ISR/basel/entry-into-force> a tg:ParticipationEvent ;
    tg:party <party/ISR> ; tg:onInstrument <basel> ;
    tg:eventKind <participation-kind/entry-into-force> ;
    tg:eventDate "1994-12-01"^^xsd:date ; prov:wasDerivedFrom <source/test> .
"""


def test_entry_into_force_before_consent_is_reported(tmp_path: Path):
    events = tmp_path / "events.ttl"
    events.write_text(EVENTS)
    kinds = REPO_ROOT / "data" / "parties" / "participation-kinds.ttl"
    report = validation.validate_sources(
        validation.ontology_sources() + user_sources([kinds, events])
    )
    found = [
        r for r in report.results if r.shape.startswith("tgsh:EntryIntoForceAfterConsentShape")
    ]
    assert [str(r.value) for r in found] == [
        "https://w3id.org/treatygraph/id/participation/test/ISR/basel/entry-into-force"
    ]
    assert found[0].severity == "Warning"


def test_this_used_inside_a_sub_select_is_detected():
    nested = "SELECT $this ?v WHERE { { SELECT ?v WHERE { ?v ?p ?o FILTER(?o = $this) } } }"
    only_projected = (
        "SELECT $this ?v WHERE { { SELECT $this ?v WHERE { ?v ?p ?o } GROUP BY $this ?v } }"
    )
    flat = "SELECT $this ?v WHERE { $this ?p ?v FILTER(?v != $this) }"
    assert validation._this_in_subselect_body(nested)
    assert not validation._this_in_subselect_body(only_projected)
    assert not validation._this_in_subselect_body(flat)
