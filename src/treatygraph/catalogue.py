"""The catalogue: the JSON API's unfiltered lists and its search, kept in a SQLite file.

Why it exists: a page of `/api/decisions` is a slice of every decision in symbol order, and the
SPARQL engine re-sorts (and re-counts) all of them for each page; a search tests every label of
the graph for the text. On the real graph both take milliseconds; at a hundred times its size,
hundreds. The catalogue runs each list query once, when the store is made, and keeps its answer
rows in order, so a page is a slice read by position and its total a stored number; search reads
an SQLite FTS5 index with the trigram tokenizer, which answers "contains" without a scan.

It holds answers, never facts of its own: each list is the answer of the same named query
(`queries/api-*.rq`) that the service would otherwise run, and search indexes the values named by
`queries/api-search-index.rq` (the properties `api-search.rq` searches). A filtered list still asks
the store. The file lives beside the store (`<store>/catalogue.sqlite`); it is written whole under
another name and renamed into place, so a reader sees the old catalogue or the new one.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from treatygraph import queries
from treatygraph.store import Store, Term

FILE_NAME = "catalogue.sqlite"
# The list queries whose unfiltered answer is kept (each is used by page_of in the API).
LISTS = (
    "api-conventions",
    "api-meetings",
    "api-decisions",
    "api-links",
    "api-guidelines",
    "api-parties",
    "api-instruments",
)
SEARCH_INDEX_QUERY = "api-search-index"
SCHEMA = """
CREATE TABLE answers (query TEXT PRIMARY KEY, name TEXT NOT NULL, total INTEGER NOT NULL);
CREATE TABLE rows (query TEXT NOT NULL, position INTEGER NOT NULL, row TEXT NOT NULL,
                   PRIMARY KEY (query, position)) WITHOUT ROWID;
CREATE TABLE labels (resource TEXT PRIMARY KEY, label TEXT) WITHOUT ROWID;
CREATE TABLE types (resource TEXT PRIMARY KEY, type TEXT) WITHOUT ROWID;
"""
# The search index needs SQLite's FTS5 with the trigram tokenizer (SQLite 3.34, 2020); where the
# Python at hand lacks it, the catalogue keeps the lists only and search asks the store. Each
# searchable value is a row of `entries` (with its field, and the field's place in the order of
# fields); `search` indexes their folded text (an external-content FTS5 table over `entries`).
SEARCH_SCHEMA = """
CREATE TABLE entries (id INTEGER PRIMARY KEY, resource TEXT NOT NULL, folded TEXT NOT NULL,
                      matched TEXT NOT NULL, field_order INTEGER NOT NULL, field TEXT NOT NULL);
CREATE INDEX entries_by_resource ON entries (resource);
CREATE VIRTUAL TABLE search USING fts5(
    folded, content = 'entries', content_rowid = 'id', tokenize = 'trigram');
"""
# Below three characters the trigram index cannot help; such words are looked for by a scan.
TRIGRAM = 3
# Search looks for the first eight words of the text (as api-search.rq does).
MAX_WORDS = 8
# Fields 1 to 7 name a resource (symbol, label, title...); 8 and 9 describe it.
FIRST_DESCRIBING_FIELD = 8


def path_for(store_path: Path) -> Path:
    return store_path / FILE_NAME


def normalized(sparql: str) -> str:
    """The query text with runs of white space made one space: the key of a kept answer."""
    return re.sub(r"\s+", " ", sparql).strip()


# -- making ------------------------------------------------------------------------------------


def make(store: Store, target: Path, named: dict[str, queries.NamedQuery] | None = None) -> Path:
    """Write the catalogue of `store` to `target` (replacing any there); returns `target`."""
    named = named or queries.load_all()
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial)
    try:
        # Written whole, then renamed into place: no journal is needed, and a failed make is
        # simply discarded.
        db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -200000;"
        )
        db.executescript(SCHEMA)
        for name in LISTS:
            _keep_list(db, store, named[name].bind({}), name)
        if _has_trigram_index(db):
            db.executescript(SEARCH_SCHEMA)
            _index_search(db, store, named[SEARCH_INDEX_QUERY].bind({}))
        db.commit()
    finally:
        db.close()
    os.replace(partial, target)
    return target


def _has_trigram_index(db: sqlite3.Connection) -> bool:
    try:
        db.execute("CREATE VIRTUAL TABLE temp.probe USING fts5(x, tokenize = 'trigram')")
        db.execute("DROP TABLE temp.probe")
        return True
    except sqlite3.OperationalError:
        return False


def _keep_list(db: sqlite3.Connection, store: Store, sparql: str, name: str) -> None:
    key = normalized(sparql)
    total = 0
    batch: list[tuple[str, int, str]] = []
    for position, row in enumerate(store.solutions(sparql)):
        batch.append((key, position, _row_json(row)))
        total = position + 1
        if len(batch) >= 10_000:
            db.executemany("INSERT INTO rows VALUES (?, ?, ?)", batch)
            batch.clear()
    db.executemany("INSERT INTO rows VALUES (?, ?, ?)", batch)
    db.execute("INSERT INTO answers VALUES (?, ?, ?)", (key, name, total))


def _index_search(db: sqlite3.Connection, store: Store, sparql: str) -> None:
    """Index every searchable value; keep one label and one type per resource (the least, so
    that the catalogue is the same whatever order the store answers in)."""
    db.executescript(
        "CREATE TEMP TABLE all_labels (resource TEXT, label TEXT);"
        "CREATE TEMP TABLE all_types (resource TEXT, type TEXT);"
    )
    batches: dict[str, list[tuple]] = {"search": [], "all_labels": [], "all_types": []}
    sql = {
        "search": "INSERT INTO entries (resource, folded, matched, field_order, field) "
        "VALUES (?, ?, ?, ?, ?)",
        "all_labels": "INSERT INTO temp.all_labels VALUES (?, ?)",
        "all_types": "INSERT INTO temp.all_types VALUES (?, ?)",
    }
    # The query's variables, in order: ?resource ?matched ?order ?field ?label ?type.
    for resource, matched, order, field, label, type_ in store.value_rows(sparql):
        if matched is not None:
            batches["search"].append((resource, matched.lower(), matched, int(order), field))
        if label is not None:
            batches["all_labels"].append((resource, label))
        if type_ is not None:
            batches["all_types"].append((resource, type_))
        for table, batch in batches.items():
            if len(batch) >= 50_000:
                db.executemany(sql[table], batch)
                batch.clear()
    for table, batch in batches.items():
        db.executemany(sql[table], batch)
    db.executescript(
        "INSERT INTO labels SELECT resource, MIN(label) FROM temp.all_labels GROUP BY resource;"
        "INSERT INTO types SELECT resource, MIN(type) FROM temp.all_types GROUP BY resource;"
        "DROP TABLE temp.all_labels; DROP TABLE temp.all_types;"
        "INSERT INTO search (search) VALUES ('rebuild');"
    )


def _row_json(row: dict[str, Term]) -> str:
    return json.dumps(
        {name: [t.type, t.value, t.datatype, t.lang] for name, t in row.items()},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _row_terms(text: str) -> dict[str, Term]:
    return {name: Term(*fields) for name, fields in json.loads(text).items()}


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[dict[str, Term]]


class Catalogue:
    """Read access to one catalogue file (opened per call: a remade file is picked up at once)."""

    def __init__(self, path: Path):
        self.path = path

    def exists(self) -> bool:
        return self.path.is_file()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)

    def page(self, sparql: str, limit: int, offset: int) -> Page | None:
        """A page of a kept answer, or None when this query's answer is not kept."""
        key = normalized(sparql)
        db = self._connect()
        try:
            found = db.execute("SELECT total FROM answers WHERE query = ?", (key,)).fetchone()
            if found is None:
                return None
            rows = db.execute(
                "SELECT row FROM rows WHERE query = ? AND position >= ? AND position < ? "
                "ORDER BY position",
                (key, offset, offset + limit),
            ).fetchall()
        finally:
            db.close()
        return Page(total=found[0], rows=[_row_terms(r[0]) for r in rows])

    def search(self, text: str, limit: int | None, offset: int = 0) -> Page | None:
        """Resources with every word of `text` (its first eight; ignoring case) in one of their
        searchable values: the answer of `api-search.rq`, in its order, each hit with the value
        that matched best and its field; None when this catalogue has no search index."""
        phrase, words = terms(text)
        arguments: dict[str, object] = {"phrase": phrase}
        for number, word in enumerate(words + [""] * (MAX_WORDS - len(words)), start=1):
            arguments[f"w{number}"] = word
        # Candidates: the resources that have every word of three characters or more somewhere
        # (read from the trigram index); shorter words are checked on their values.
        indexed = [w for w in dict.fromkeys(words) if len(w) >= TRIGRAM]
        for number, word in enumerate(indexed):
            arguments[f"m{number}"] = '"' + word.replace('"', '""') + '"'
        candidates = " INTERSECT ".join(
            f"SELECT e.resource FROM search JOIN entries AS e ON e.id = search.rowid "
            f"WHERE search MATCH :m{number}"
            for number in range(len(indexed))
        )
        where = f"WHERE resource IN ({candidates})" if candidates else ""
        flags = ", ".join(f"instr(folded, :w{k}) > 0 AS h{k}" for k in range(1, MAX_WORDS + 1))
        some = " OR ".join(["h1"] + [f"(:w{k} <> '' AND h{k})" for k in range(2, MAX_WORDS + 1)])
        every = " AND ".join(f"h{k}" for k in range(1, MAX_WORDS + 1))
        found = " + ".join(f"MAX(h{k})" for k in range(1, MAX_WORDS + 1))
        hits = f"""
            WITH valued AS (
                SELECT resource, matched, field_order, field, {flags},
                       CASE WHEN folded = :phrase THEN 3
                            WHEN instr(folded, :phrase) > 0 THEN 2 ELSE 0 END AS phrased
                FROM entries {where}
            ), scored AS (
                SELECT *, CASE WHEN phrased > 0 THEN phrased WHEN {every} THEN 1 ELSE 0 END
                          AS score
                FROM valued WHERE {some}
            ), ranked AS (
                SELECT *, CASE WHEN score = 0 THEN 0
                               ELSE score + (CASE WHEN field_order < {FIRST_DESCRIBING_FIELD}
                                             THEN 3 ELSE 0 END) END AS value_rank
                FROM scored
            )
            SELECT resource, MAX(value_rank) AS rank,
                   MIN((6 - value_rank) || field_order || field || char(9) || matched) AS best
            FROM ranked GROUP BY resource HAVING {found} = {MAX_WORDS}"""
        sql = f"""
            WITH hits AS ({hits})
            SELECT h.resource, l.label, t.type, h.best, h.rank
            FROM hits AS h
            LEFT JOIN labels AS l ON l.resource = h.resource
            LEFT JOIN types AS t ON t.resource = h.resource
            ORDER BY h.rank DESC, length(l.label), l.label, h.resource
            LIMIT :limit OFFSET :offset"""
        arguments["limit"] = -1 if limit is None else limit
        arguments["offset"] = offset
        db = self._connect()
        try:
            # A catalogue without the index (or made by an older version, without `entries`)
            # leaves search to the store.
            indexed_tables = db.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                "AND name IN ('search', 'entries')"
            ).fetchone()[0]
            if indexed_tables != 2:
                return None
            total = db.execute(f"WITH hits AS ({hits}) SELECT COUNT(*) FROM hits", arguments)
            total = total.fetchone()[0]
            rows = [_hit(*row) for row in db.execute(sql, arguments).fetchall()]
        finally:
            db.close()
        return Page(total=total, rows=rows)


def terms(text: str) -> tuple[str, list[str]]:
    """The text as search reads it: white space made single spaces, lower case; and its first
    eight words (as api-search.rq reads it)."""
    phrase = " ".join(text.split()).lower()
    return phrase, phrase.split(" ")[:MAX_WORDS] if phrase else [""]


def _hit(resource: str, label: str | None, type_: str | None, best: str, rank: int) -> dict:
    field, _, matched = best[2:].partition("\t")
    row = {"resource": Term("uri", resource)}
    if label is not None:
        row["label"] = Term("literal", label)
    if type_ is not None:
        row["type"] = Term("uri", type_)
    row["matched"] = Term("literal", matched)
    row["field"] = Term("literal", field)
    row["rank"] = Term("literal", str(rank), "http://www.w3.org/2001/XMLSchema#integer")
    return row
