"""Match the State names of the participation sources to ISO 3166 countries, and write parties.ttl.

The IEADB names States its own way ("Korea, Republic of", "Congo, Republic of the"); ECOLEX (via
manyenviron) already uses ISO alpha-3 codes. Both are matched against the shared country-codes
table (ISO 3166, UN M49, UNTERM names, Wikidata), first by normalised name, then through a small
explicit alias table for the known differences. A name that matches nothing is reported, never
dropped silently. The European Union is not in ISO 3166-1; it is described by hand in
data/parties/eu.ttl and only recognised here (code EUE).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from treatygraph.importers.turtle import Statement, iri, resource_block, string, write_turtle

COUNTRY_CODES_CSV = Path("data") / "country-codes" / "country-codes.csv"
COUNTRY_CODES_SOURCE = "https://github.com/datasets/country-codes"
EU_CODE = "EUE"

# IEADB name -> ISO alpha-3, for the names the normalised comparison cannot match.
ALIASES: dict[str, str] = {
    "Congo, Democratic Republic of": "COD",
    "Congo, Republic of the": "COG",
    "Côte d'Ivoire": "CIV",
    "European Union": EU_CODE,
    "Korea, Democratic People's Republic": "PRK",
    "Korea, Republic of": "KOR",
    "Palestine, Occupied Territories": "PSE",
    "United Kingdom": "GBR",
    "United States": "USA",
}

# Names in the IEADB "Country" column that are not States: IEADB records events of the
# instrument itself (adoption, general entry into force) under the name "Agreement".
NOT_STATES = frozenset({"Agreement"})

# The country-codes table lacks the UNTERM names of two States (they changed name or spelling
# at the UN) and the Wikidata item of one; filled in from the UN names and Wikidata.
UN_NAMES: dict[str, tuple[str, str]] = {
    "CIV": ("Côte d'Ivoire", "the Republic of Côte d'Ivoire"),
    "TUR": ("Türkiye", "the Republic of Türkiye"),
}
WIKIDATA: dict[str, str] = {"NAM": "Q1030"}

_FOOTNOTE = re.compile(r"\s*\*+\s*$")


@dataclass(frozen=True)
class Country:
    """One row of the country-codes table, the fields a tg:Party carries."""

    iso3: str
    iso2: str
    label: str
    formal_name: str
    m49: str
    region: str
    wikidata: str


def strip_footnote(name: str) -> str:
    """'State of Palestine (the) *' -> 'State of Palestine (the)'."""
    return _FOOTNOTE.sub("", name).strip()


def normalise(name: str) -> str:
    """A comparison key: no accents, case, footnote markers, '(the)', apostrophes or punctuation."""
    text = unicodedata.normalize("NFKD", strip_footnote(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"\(the\)", " ", text)
    text = re.sub(r"^the\s+", "", text)
    text = re.sub(r"['’`]", "", text)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def load_countries(shared_dir: Path) -> dict[str, Country]:
    """The country-codes table by ISO alpha-3 code."""
    countries: dict[str, Country] = {}
    with (shared_dir / COUNTRY_CODES_CSV).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            iso3 = row["ISO3166-1-Alpha-3"].strip()
            if not iso3:
                continue
            short, formal = UN_NAMES.get(
                iso3, (row["UNTERM English Short"], row["UNTERM English Formal"])
            )
            qid = row["wikidata_id"].rstrip("/").rsplit("/", 1)[-1] if row["wikidata_id"] else ""
            countries[iso3] = Country(
                iso3=iso3,
                iso2=row["ISO3166-1-Alpha-2"].strip(),
                label=strip_footnote(short or row["official_name_en"]),
                formal_name=strip_footnote(formal),
                m49=row["M49"].strip().zfill(3) if row["M49"].strip() else "",
                region=row["Region Name"].strip(),
                wikidata=qid or WIKIDATA.get(iso3, ""),
            )
    return countries


class NameMatcher:
    """Find the ISO alpha-3 code of a State name, or None."""

    NAME_COLUMNS = (
        "UNTERM English Short",
        "UNTERM English Formal",
        "official_name_en",
        "CLDR display name",
    )

    def __init__(self, shared_dir: Path):
        self._index: dict[str, set[str]] = {}
        with (shared_dir / COUNTRY_CODES_CSV).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                iso3 = row["ISO3166-1-Alpha-3"].strip()
                for column in self.NAME_COLUMNS:
                    if row[column].strip():
                        self._index.setdefault(normalise(row[column]), set()).add(iso3)

    def match(self, name: str) -> str | None:
        if name in ALIASES:
            return ALIASES[name]
        found = self._index.get(normalise(name), set())
        return next(iter(found)) if len(found) == 1 else None


# ---------------------------------------------------------------------------------------------
# parties.ttl
# ---------------------------------------------------------------------------------------------

PARTIES_HEADER = """\
The States that take part in the Basel, Rotterdam, Stockholm and Minamata conventions and their
amendments and protocols, as one tg:Party each (IRI party/<ISO 3166-1 alpha-3>).

GENERATED FILE: do not edit by hand. Made by treatygraph.importers.countries (run through
`treatygraph import ieadb` or `treatygraph import ecolex`). A State is listed when it appears in
the IEADB membership rows (../shared/data/ieadb/members.csv) or the ECOLEX membership rows
(../shared/data/manyenviron/memberships_ECOLEX_MEM.csv). Codes, UN short and formal names
(UNTERM, footnote markers removed), M49 codes and regions and Wikidata items come from the
country-codes table of https://github.com/datasets/country-codes (ODC-PDDL-1.0), commit caa72d1e;
the names of CIV and TUR and the Wikidata item of NAM, missing there, were added from the UN
names and Wikidata. The European Union is described by hand in eu.ttl."""


def party_statements(country: Country) -> list[Statement]:
    statements: list[Statement] = [
        ("a", "tg:Party"),
        ("tg:iso3", string(country.iso3)),
        ("rdfs:label", string(country.label, "en")),
        ("dcterms:source", iri(COUNTRY_CODES_SOURCE)),
    ]
    if country.iso2:
        statements.append(("tg:iso2", string(country.iso2)))
    if country.formal_name:
        statements.append(("tg:formalName", string(country.formal_name, "en")))
    if country.m49:
        statements.append(("tg:m49", string(country.m49)))
    if country.region:
        statements.append(("tg:region", string(country.region, "en")))
    if country.wikidata:
        statements.append(
            ("skos:exactMatch", iri(f"http://www.wikidata.org/entity/{country.wikidata}"))
        )
    return statements


def ieadb_state_codes(shared_dir: Path) -> tuple[set[str], list[str]]:
    """ISO codes of the States named in the IEADB rows, and the names that matched nothing."""
    from treatygraph.importers.ieadb import MEMBERS_CSV  # the IEADB importer owns the file name

    matcher = NameMatcher(shared_dir)
    codes: set[str] = set()
    unmatched: set[str] = set()
    with (shared_dir / MEMBERS_CSV).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name = row["Country (official name)"].strip()
            if name in NOT_STATES:
                continue
            code = matcher.match(name)
            if code:
                codes.add(code)
            else:
                unmatched.add(name)
    return codes, sorted(unmatched)


def ecolex_state_codes(shared_dir: Path) -> set[str]:
    """ISO codes (or EUE) of the States named in the ECOLEX rows."""
    from treatygraph.importers.ecolex import MEMBERSHIPS_CSV

    with (shared_dir / MEMBERSHIPS_CSV).open(encoding="utf-8", newline="") as handle:
        return {row["stateID"].strip() for row in csv.DictReader(handle) if row["stateID"].strip()}


def write_parties(shared_dir: Path, data_dir: Path) -> tuple[Path, list[str]]:
    """Write data_dir/parties/parties.ttl; returns the file and the codes with no country row."""
    countries = load_countries(shared_dir)
    ieadb_codes, _ = ieadb_state_codes(shared_dir)
    codes = (ieadb_codes | ecolex_state_codes(shared_dir)) - {EU_CODE}
    missing = sorted(code for code in codes if code not in countries)
    blocks = [
        resource_block(f"party/{code}", party_statements(countries[code]))
        for code in sorted(codes)
        if code in countries
    ]
    path = write_turtle(data_dir / "parties" / "parties.ttl", PARTIES_HEADER, blocks)
    return path, missing
