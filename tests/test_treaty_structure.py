"""The treaty-structure importer: what it generates, that it is repeatable, and that the committed
files under data/ are exactly what it generates from the shared CSV.

Tests that need the shared CSV skip, with the reason, when the shared folder (next to the
repository, as in CI) is absent; the others run on small CSVs written here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from treatygraph.importers import treaty_structure
from treatygraph.importers.treaty_structure import StructureError, write_structure
from treatygraph.namespaces import ID, TG

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_CSV = (
    Path(REPO_ROOT).parent
    / "shared"
    / "data"
    / "treaty-structure"
    / "brs-minamata-articles-annexes.csv"
)
CONVENTIONS = ("basel", "rotterdam", "stockholm", "minamata")

needs_shared_csv = pytest.mark.skipif(
    not SHARED_CSV.is_file(),
    reason=f"the shared treaty-structure CSV is not at {SHARED_CSV} (CI has it at ../shared)",
)

HEADER = "convention,unit_type,number,heading,container,order,note\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Graph]:
    """One fresh run of the importer over the shared CSV, parsed per convention."""
    if not SHARED_CSV.is_file():
        pytest.skip(f"the shared treaty-structure CSV is not at {SHARED_CSV}")
    out = tmp_path_factory.mktemp("structure")
    paths = write_structure(SHARED_CSV, out)
    assert sorted(p.parent.name for p in paths) == sorted(CONVENTIONS)
    return {p.parent.name: Graph().parse(p) for p in paths}


def main_body_articles(graph: Graph, slug: str) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, TG.Article) if (s, TG.partOf, ID[slug]) in graph}


@needs_shared_csv
@pytest.mark.parametrize(
    ("slug", "count"), [("basel", 29), ("rotterdam", 30), ("stockholm", 30), ("minamata", 35)]
)
def test_every_main_body_article_is_generated(generated: dict[str, Graph], slug: str, count: int):
    articles = main_body_articles(generated[slug], slug)
    assert len(articles) == count
    assert {ID[f"{slug}/article/{n}"] for n in range(1, count + 1)} == articles


@needs_shared_csv
@pytest.mark.parametrize(
    ("slug", "annexes"),
    [
        ("basel", ["I", "II", "III", "IV", "VA", "VB", "VI", "VIII", "IX"]),
        ("rotterdam", ["I", "II", "III", "IV", "V", "VI"]),
        ("stockholm", ["A", "B", "C", "D", "E", "F", "G"]),
        ("minamata", ["A", "B", "C", "D", "E"]),
    ],
)
def test_annexes_are_generated_as_parts_of_the_convention(
    generated: dict[str, Graph], slug: str, annexes: list[str]
):
    graph = generated[slug]
    found = {s for s in graph.subjects(RDF.type, TG.Annex)}
    assert found == {ID[f"{slug}/annex/{n}"] for n in annexes}
    for annex in found:
        assert (annex, TG.partOf, ID[slug]) in graph
        assert (ID[slug], TG.hasPart, annex) in graph


@needs_shared_csv
def test_articles_of_arbitration_annexes_belong_to_their_annex_or_part(
    generated: dict[str, Graph],
):
    basel = generated["basel"]
    article = ID["basel/annex/VI/article/1"]
    assert (article, TG.partOf, ID["basel/annex/VI"]) in basel
    assert (article, TG.instrument, ID["basel"]) in basel
    minamata = generated["minamata"]
    part = ID["minamata/annex/E/part/II"]
    conciliation = set(minamata.subjects(TG.partOf, part))
    assert len(conciliation) == 11
    assert all((a, TG.instrument, ID["minamata"]) in minamata for a in conciliation)
    assert set(minamata.objects(part, TG.hasPart)) == conciliation


@needs_shared_csv
def test_labels_headings_and_sources_read_as_documented(generated: dict[str, Graph]):
    minamata = generated["minamata"]
    article = ID["minamata/article/11"]
    assert minamata.value(article, RDFS.label) == Literal(
        "Minamata Convention, Article 11: Mercury wastes", lang="en"
    )
    assert minamata.value(article, TG.number) == Literal("11")
    assert minamata.value(article, TG.order) == Literal(11)
    # Headings printed in capitals are given in sentence case.
    part = ID["minamata/annex/E/part/I"]
    assert minamata.value(part, TG.heading) == Literal("Arbitration procedure", lang="en")
    for slug, graph in generated.items():
        page = URIRef(treaty_structure.CONVENTIONS[slug.capitalize()].text_page)
        provisions = set(graph.subjects(TG.instrument, ID[slug]))
        assert provisions, slug
        assert all(
            (p, URIRef("http://purl.org/dc/terms/source"), page) in graph for p in provisions
        )


@needs_shared_csv
def test_sibling_orders_run_from_one_without_gaps(generated: dict[str, Graph]):
    for graph in generated.values():
        containers = set(graph.objects(None, TG.partOf))
        for container in containers:
            orders = sorted(
                int(graph.value(c, TG.order)) for c in graph.subjects(TG.partOf, container)
            )
            assert orders == list(range(1, len(orders) + 1)), container


@needs_shared_csv
def test_two_runs_write_identical_bytes(tmp_path: Path):
    first = write_structure(SHARED_CSV, tmp_path / "one")
    second = write_structure(SHARED_CSV, tmp_path / "two")
    assert [p.relative_to(tmp_path / "one") for p in first] == [
        p.relative_to(tmp_path / "two") for p in second
    ]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


@needs_shared_csv
def test_committed_structure_files_equal_a_fresh_run(tmp_path: Path):
    fresh = write_structure(SHARED_CSV, tmp_path)
    for path in fresh:
        committed = REPO_ROOT / "data" / path.parent.name / path.name
        assert committed.is_file(), f"{committed} is missing: run the treaty-structure importer"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} differs from a fresh run: it is generated, do not edit it by hand; "
            "rerun `python -m treatygraph.importers.treaty_structure`"
        )


def test_hand_curated_provisions_hang_on_generated_containers():
    """structure-later.ttl and the text references point at containers that really exist."""
    data = REPO_ROOT / "data"
    generated = [data / slug / "structure.ttl" for slug in CONVENTIONS]
    later = (data / slug / "structure-later.ttl" for slug in CONVENTIONS)
    curated = [p for p in later if p.is_file()]
    curated.append(data / "links" / "treaty-text-references.ttl")
    known = Graph()
    for path in generated + curated:
        known.parse(path)
    conventions = {ID[slug] for slug in CONVENTIONS}
    for path in curated:
        graph = Graph().parse(path)
        for provision, container in graph.subject_objects(TG.partOf):
            assert container in conventions or (container, RDF.type, None) in known, (
                f"{path.name}: {provision} is part of {container}, which is not described"
            )
            assert graph.value(provision, TG.instrument) in conventions


def test_paragraph_level_references_required_by_the_texts_are_recorded():
    graph = Graph().parse(REPO_ROOT / "data" / "links" / "treaty-text-references.ttl")
    paragraph = ID["minamata/article/11/paragraph/3"]
    assert (paragraph, TG.refersTo, ID["basel"]) in graph
    assert (paragraph, TG.refersTo, ID["guideline/basel-mercury-wastes"]) in graph
    assert (ID["minamata/article/11/paragraph/1"], TG.refersTo, ID["basel"]) in graph
    stockholm = ID["stockholm/article/6/paragraph/2"]
    assert (stockholm, TG.cooperatesWith, ID["basel/cop"]) in graph
    assert (stockholm, TG.cooperatesWith, ID["basel"]) in graph


def test_a_container_that_is_not_defined_above_is_reported_with_its_row(tmp_path: Path):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text(HEADER + "Basel,Article,1,,Annex VI,1,\n", encoding="utf-8")
    with pytest.raises(StructureError, match=r"row 1: container 'Annex VI' not defined above"):
        write_structure(csv_path, tmp_path / "out")


def test_an_unknown_convention_is_refused(tmp_path: Path):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text(HEADER + "Ramsar,Article,1,Definitions,,1,\n", encoding="utf-8")
    with pytest.raises(StructureError, match="unknown convention 'Ramsar'"):
        write_structure(csv_path, tmp_path / "out")


def test_a_small_csv_gives_a_small_file_in_document_order(tmp_path: Path):
    csv_path = tmp_path / "small.csv"
    csv_path.write_text(
        HEADER
        + "Basel,Annex,V A,Information to be provided on Notification,,2,\n"
        + "Basel,Article,1,Scope of the Convention,,1,\n",
        encoding="utf-8",
    )
    [path] = write_structure(csv_path, tmp_path / "out")
    assert path == tmp_path / "out" / "basel" / "structure.ttl"
    text = path.read_text(encoding="utf-8")
    assert text.index("<basel/article/1> a tg:Article") < text.index("<basel/annex/VA> a tg:Annex")
    graph = Graph().parse(path)
    annex = ID["basel/annex/VA"]
    assert graph.value(annex, TG.number) == Literal("V A")
    assert graph.value(annex, TG.order) == Literal(2)


def test_main_reports_a_missing_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    status = treaty_structure.main([str(tmp_path / "absent.csv"), "--data-dir", str(tmp_path)])
    assert status == 2
    assert "no such CSV" in capsys.readouterr().err
