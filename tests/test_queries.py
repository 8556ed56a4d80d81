"""Named queries: every file parses, runs, and takes only well-typed parameter values."""

import pytest

from treatygraph import queries
from treatygraph.store import Store

ALL = queries.load_all()


def test_there_are_named_queries():
    assert {"articles-referring-to-convention", "cooperation-decisions-in-year"} <= set(ALL)


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_named_query_has_a_header_and_runs_with_its_defaults(name):
    query = ALL[name]
    assert query.title and query.title != query.path.stem, f"{query.path} has no '# title:' line"
    assert query.description, f"{query.path} has no '# description:' line"
    Store().query(query.bind())  # raises on a syntax error


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_declared_parameter_has_one_values_line(name):
    query = ALL[name]
    for param in query.params:
        # Binding to UNDEF must find exactly one VALUES line for the parameter, else it raises.
        Store().query(query.bind({param: None}))


def test_parameter_values_are_substituted_as_typed_terms():
    text = ALL["cooperation-decisions-in-year"].bind(
        {"year": "2019", "partner": "https://w3id.org/treatygraph/id/basel"}
    )
    assert "VALUES ?year { 2019 }" in text
    assert "VALUES ?partner { <https://w3id.org/treatygraph/id/basel> }" in text


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("year", "2019 } ?s ?p ?o {"),
        ("year", "twenty"),
        ("partner", "not an iri"),
        ("partner", "http://e/> } DROP ALL #"),
    ],
)
def test_values_that_do_not_fit_their_type_are_refused(param, value):
    with pytest.raises(queries.BadParameter, match=param):
        ALL["cooperation-decisions-in-year"].bind({param: value})


def test_unknown_parameter_is_refused_naming_the_known_ones():
    with pytest.raises(queries.BadParameter, match="parameters: partner, year"):
        ALL["cooperation-decisions-in-year"].bind({"yaer": "2019"})


def test_string_values_are_escaped():
    param = queries.Param("text", "string", "")
    assert queries.to_sparql(param, 'a "quoted" \\ value') == '"a \\"quoted\\" \\\\ value"'


def test_unknown_query_name():
    with pytest.raises(queries.UnknownQuery):
        queries.get("no-such-query")


def test_a_header_declares_each_parameters_kind_and_the_coverage(tmp_path):
    file = tmp_path / "q.rq"
    file.write_text(
        "# name: q\n# title: T\n# description: D\n"
        "# param: ?c convention  The convention (default: Basel)\n"
        "# param: ?y year  The year\n"
        "# coverage: year ?y except ?c\n"
        "SELECT * WHERE { VALUES ?c { <https://w3id.org/treatygraph/id/basel> }\n"
        "  VALUES ?y { UNDEF } }"
    )
    query = queries.parse(file)
    assert (query.params["c"].type, query.params["y"].type) == ("convention", "year")
    assert query.params["c"].default == "https://w3id.org/treatygraph/id/basel"
    assert query.params["y"].default is None
    assert query.coverage == "year ?y except ?c"


@pytest.mark.parametrize(
    "line", ["# param: ?c country  A kind that does not exist", "# coverage: sometimes"]
)
def test_a_header_line_that_cannot_be_read_is_an_error(tmp_path, line):
    file = tmp_path / "q.rq"
    file.write_text(f"# name: q\n{line}\nSELECT * WHERE {{ }}")
    with pytest.raises(ValueError, match="cannot read"):
        queries.parse(file)


def test_the_apis_own_queries_are_marked_internal():
    assert ALL["api-search"].internal and not ALL["party-gaps"].internal
