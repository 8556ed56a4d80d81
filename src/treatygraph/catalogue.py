"""The catalogue: the JSON API's unfiltered lists and its search, kept in a SQLite file.

Why it exists: a page of `/api/decisions` is a slice of every decision in symbol order, and the
SPARQL engine re-sorts (and re-counts) all of them for each page; a search tests every label of
the graph for the text. On the real graph both take milliseconds; at a hundred times its size,
hundreds. The catalogue runs each list query once, when the store is made, and keeps its answer
rows in order, so a page is a slice read by position and its total a stored number; search reads
an SQLite FTS5 index with the trigram tokenizer, which answers "contains" without a scan.

Search at scale: a common word ("waste") is in a tenth of the graph, and ranking every match to
show twenty of them cost seconds at 1000x. So the index is laid out in the answer's own order.
Every searchable resource has a position: its place in the order the answer breaks ties by
(shorter label first, then label, then IRI). The FTS5 index holds one document per resource,
keyed by that position, with two columns (its names: symbol, label, title...; its descriptions),
each value between line breaks. A rank of the answer is one condition on one value (the whole
text as a name; the text as a phrase in a name; all the words in a name; then the same three in a
description), so each rank is one index query (`names : "<newline>text<newline>"`, `names :
"text"`, ...) whose matches come in position order: the page is read rank by rank, best first,
and reading stops once it is full. A resource met in a rank's query is checked against its
values (`entries`), which gives its exact rank, matched value and field; one whose rank is higher
was shown already, and only the page's own resources and those can be met before the page is
full. The total counts matches up to MAX_TOTAL and then says "more than that" (`Page.exact`).
Words under three characters are not in a trigram index: a text made only of such words is
answered by a scan of every value, as before.

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
"""
# The search index needs SQLite's FTS5 with the trigram tokenizer (SQLite 3.34, 2020); where the
# Python at hand lacks it, the catalogue keeps the lists only and search asks the store.
# `resources` numbers the searchable resources in the answer's order of ties (see the module);
# `entries` holds each searchable value with its field and the field's place in the order of
# fields, by resource position; `docs` indexes each resource's folded names and descriptions
# (contentless: the text is in `entries`), its rowid being the position.
SEARCH_SCHEMA = """
CREATE TABLE resources (position INTEGER PRIMARY KEY, resource TEXT NOT NULL, label TEXT,
                        type TEXT);
CREATE TABLE entries (position INTEGER NOT NULL, field_order INTEGER NOT NULL,
                      field TEXT NOT NULL, folded TEXT NOT NULL, matched TEXT NOT NULL);
CREATE VIRTUAL TABLE docs USING fts5(
    names, descriptions, content = '', columnsize = 0, tokenize = 'trigram');
"""
# The catalogue's layout (its SQLite user_version). A file of another layout (made by an older
# version) does not count as a catalogue (`Catalogue.exists` is False): the service then answers
# from the store and makes the catalogue anew when it starts.
LAYOUT = 2
# Below three characters the trigram index cannot help; such words are looked for by a scan.
TRIGRAM = 3
# Search looks for the first eight words of the text (as api-search.rq does).
MAX_WORDS = 8
# Fields 1 to 7 name a resource (symbol, label, title...); 8 and 9 describe it.
FIRST_DESCRIBING_FIELD = 8
# Search counts its matches up to this many, then says "more than" (Page.exact is False).
MAX_TOTAL = 10_000
# Values in a document of the index are separated (and the document begun and ended) by this,
# which no searched word or phrase contains (their white space is made single spaces).
SEPARATOR = "\n"


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
        db.execute(f"PRAGMA user_version = {LAYOUT}")
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
    that the catalogue is the same whatever order the store answers in); number the resources
    in the answer's order of ties, and index each one's names and descriptions (see the module)."""
    db.executescript(
        "CREATE TEMP TABLE all_entries (resource TEXT, folded TEXT, matched TEXT,"
        " field_order INTEGER, field TEXT);"
        "CREATE TEMP TABLE all_labels (resource TEXT, label TEXT);"
        "CREATE TEMP TABLE all_types (resource TEXT, type TEXT);"
    )
    batches: dict[str, list[tuple]] = {"all_entries": [], "all_labels": [], "all_types": []}
    sql = {
        "all_entries": "INSERT INTO temp.all_entries VALUES (?, ?, ?, ?, ?)",
        "all_labels": "INSERT INTO temp.all_labels VALUES (?, ?)",
        "all_types": "INSERT INTO temp.all_types VALUES (?, ?)",
    }
    # The query's variables, in order: ?resource ?matched ?order ?field ?label ?type.
    for resource, matched, order, field, label, type_ in store.value_rows(sparql):
        if matched is not None:
            batches["all_entries"].append((resource, matched.lower(), matched, int(order), field))
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
    first_describing = FIRST_DESCRIBING_FIELD
    db.executescript(
        f"""
        CREATE TEMP TABLE labels (resource TEXT PRIMARY KEY, label TEXT) WITHOUT ROWID;
        INSERT INTO temp.labels SELECT resource, MIN(label) FROM temp.all_labels GROUP BY resource;
        CREATE TEMP TABLE types (resource TEXT PRIMARY KEY, type TEXT) WITHOUT ROWID;
        INSERT INTO temp.types SELECT resource, MIN(type) FROM temp.all_types GROUP BY resource;
        -- Positions in the answer's order of ties: STRLEN(?label) ?label ?resource, where an
        -- unbound label sorts first (as NULL does here).
        INSERT INTO resources (position, resource, label, type)
            SELECT row_number() OVER (ORDER BY length(l.label), l.label, r.resource),
                   r.resource, l.label, t.type
            FROM (SELECT DISTINCT resource FROM temp.all_entries) AS r
            LEFT JOIN temp.labels AS l ON l.resource = r.resource
            LEFT JOIN temp.types AS t ON t.resource = r.resource;
        CREATE TEMP TABLE positions (resource TEXT PRIMARY KEY, position INTEGER) WITHOUT ROWID;
        INSERT INTO temp.positions SELECT resource, position FROM resources;
        INSERT INTO entries
            SELECT p.position, e.field_order, e.field, e.folded, e.matched
            FROM temp.all_entries AS e JOIN temp.positions AS p ON p.resource = e.resource
            ORDER BY p.position, e.field_order, e.field, e.matched;
        CREATE INDEX entries_by_position ON entries (position);
        INSERT INTO docs (rowid, names, descriptions)
            SELECT position,
                   char(10) || group_concat(
                       CASE WHEN field_order < {first_describing} THEN folded END, char(10))
                   || char(10),
                   char(10) || group_concat(
                       CASE WHEN field_order >= {first_describing} THEN folded END, char(10))
                   || char(10)
            FROM entries GROUP BY position;
        DROP TABLE temp.all_entries; DROP TABLE temp.all_labels; DROP TABLE temp.all_types;
        DROP TABLE temp.labels; DROP TABLE temp.types; DROP TABLE temp.positions;
        """
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
    # False when `total` is a lower bound: search stopped counting at MAX_TOTAL matches.
    exact: bool = True


class Catalogue:
    """Read access to one catalogue file (opened per call: a remade file is picked up at once)."""

    def __init__(self, path: Path):
        self.path = path
        self._checked: tuple[tuple[int, int, int], bool] | None = None

    def exists(self) -> bool:
        """The file is there, and of this version's layout (checked once per file)."""
        try:
            stat = self.path.stat()
        except OSError:
            return False
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._checked is None or self._checked[0] != key:
            try:
                db = self._connect()
                try:
                    layout = db.execute("PRAGMA user_version").fetchone()[0]
                finally:
                    db.close()
            except sqlite3.Error:
                layout = None
            self._checked = (key, layout == LAYOUT)
        return self._checked[1]

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
        that matched best and its field; None when this catalogue has no search index (or one of
        another layout: see LAYOUT). The total is exact up to MAX_TOTAL; past it, `exact` is
        False."""
        db = self._connect()
        try:
            indexed = db.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('docs', 'entries', 'resources')"
            ).fetchone()[0]
            if indexed != 3 or db.execute("PRAGMA user_version").fetchone()[0] != LAYOUT:
                return None
            query = _Search(db, text)
            if not query.indexed:
                return _scan(db, query, limit, offset)
            wanted = None if limit is None else offset + limit
            rows = []
            for hit in query.hits(first=wanted):
                rows.append(hit)
                if wanted is not None and len(rows) >= wanted:
                    break
            else:  # every hit was read: the total is their number
                return Page(total=len(rows), rows=[_hit(*r) for r in rows[offset:]])
            counted = query.count(MAX_TOTAL + 1)
            total, exact = (counted, True) if counted <= MAX_TOTAL else (MAX_TOTAL, False)
            return Page(total=total, rows=[_hit(*r) for r in rows[offset:]], exact=exact)
        finally:
            db.close()


class _Search:
    """One search text read against the index: the hits rank by rank, and their count."""

    # Each rank (best first): the column it is found in, and what the value holds: the whole
    # text, the text as a phrase, or all its words (see api-search.rq).
    RANKS = (
        (6, "names", "whole"),
        (5, "names", "phrase"),
        (4, "names", "words"),
        (3, "descriptions", "whole"),
        (2, "descriptions", "phrase"),
        (1, "descriptions", "words"),
        (0, None, "words"),
    )
    BATCH = 64
    MAX_BATCH = 1024

    def __init__(self, db: sqlite3.Connection, text: str):
        self.db = db
        self.phrase, self.words = terms(text)
        self.distinct = list(dict.fromkeys(self.words))
        # Words the trigram index can look up (the others are checked on the values).
        self.long_words = [w for w in self.distinct if len(w) >= TRIGRAM]
        self.indexed = bool(self.phrase) and bool(self.long_words)

    @staticmethod
    def _string(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    def _match(self, column: str | None, what: str) -> str:
        if what == "whole":
            found = self._string(SEPARATOR + self.phrase + SEPARATOR)
        elif what == "phrase":
            found = self._string(self.phrase)
        else:
            found = "(" + " AND ".join(self._string(w) for w in self.long_words) + ")"
        return f"{column} : {found}" if column else found

    def _positions(self, match: str, first: int | None = None):
        """Positions whose document matches, in order, read a batch at a time (the first of
        `first` positions, about what a page needs; then larger ones)."""
        cursor = self.db.execute(
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rowid", (match,)
        )
        size = max(8, min(first or self.BATCH, self.MAX_BATCH))
        while batch := cursor.fetchmany(size):
            yield [row[0] for row in batch]
            size = min(size * 2, self.MAX_BATCH)

    def _judged(self, positions: list[int]) -> dict[int, tuple[int, str] | None]:
        """Each position's rank and best value (as api-search.rq keys it), or None when the
        resource does not have every word."""
        marks = ",".join("?" * len(positions))
        values: dict[int, list[tuple]] = {p: [] for p in positions}
        for position, order, field, folded, matched in self.db.execute(
            "SELECT position, field_order, field, folded, matched FROM entries "
            f"WHERE position IN ({marks})",
            positions,
        ):
            values[position].append((order, field, folded, matched))
        return {position: self._judge(found) for position, found in values.items()}

    def _judge(self, values: list[tuple]) -> tuple[int, str] | None:
        phrase, words = self.phrase, self.words
        seen = [False] * len(words)
        rank, best = -1, None
        for order, field, folded, matched in values:
            has = [w in folded for w in words]
            if not any(has):
                continue
            seen = [a or b for a, b in zip(seen, has, strict=True)]
            if folded == phrase:
                score = 3
            elif phrase in folded:
                score = 2
            else:
                score = 1 if all(has) else 0
            value_rank = 0 if score == 0 else score + (3 if order < FIRST_DESCRIBING_FIELD else 0)
            key = f"{6 - value_rank}{order}{field}\t{matched}"
            rank = max(rank, value_rank)
            best = key if best is None or key < best else best
        if best is None or not all(seen):
            return None
        return rank, best

    def hits(self, first: int | None = None):
        """(resource, label, type, best, rank) of every hit, in the answer's order; `first`: how
        many the caller expects to read (a hint for the size of the first reads)."""
        single = len(self.words) == 1
        for rank, column, what in self.RANKS:
            if what == "words" and single:
                continue  # one word in a value is the text in it: found at a rank above
            for positions in self._positions(self._match(column, what), first):
                judged = self._judged(positions)
                shown = [p for p in positions if (j := judged[p]) is not None and j[0] == rank]
                if not shown:
                    continue
                marks = ",".join("?" * len(shown))
                described = {
                    row[0]: row[1:]
                    for row in self.db.execute(
                        "SELECT position, resource, label, type FROM resources "
                        f"WHERE position IN ({marks})",
                        shown,
                    )
                }
                for position in shown:
                    best = judged[position][1]
                    yield (*described[position], best, rank)

    def count(self, at_most: int) -> int:
        """How many resources have every word, counting up to `at_most`."""
        match = self._match(None, "words")
        if len(self.long_words) == len(self.distinct):
            # Every word is in the index: its matches are the resources.
            found = self.db.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM docs WHERE docs MATCH ? LIMIT ?)",
                (match, at_most),
            )
            return found.fetchone()[0]
        counted = 0
        for positions in self._positions(match):
            counted += sum(1 for j in self._judged(positions).values() if j is not None)
            if counted >= at_most:
                return at_most
        return counted


def _scan(db: sqlite3.Connection, query: _Search, limit: int | None, offset: int) -> Page:
    """Search by reading every value: for a text without a word of three characters."""
    arguments: dict[str, object] = {"phrase": query.phrase}
    for number, word in enumerate(query.words + [""] * (MAX_WORDS - len(query.words)), start=1):
        arguments[f"w{number}"] = word
    flags = ", ".join(f"instr(folded, :w{k}) > 0 AS h{k}" for k in range(1, MAX_WORDS + 1))
    some = " OR ".join(["h1"] + [f"(:w{k} <> '' AND h{k})" for k in range(2, MAX_WORDS + 1)])
    every = " AND ".join(f"h{k}" for k in range(1, MAX_WORDS + 1))
    found = " + ".join(f"MAX(h{k})" for k in range(1, MAX_WORDS + 1))
    hits = f"""
        WITH valued AS (
            SELECT position, matched, field_order, field, {flags},
                   CASE WHEN folded = :phrase THEN 3
                        WHEN instr(folded, :phrase) > 0 THEN 2 ELSE 0 END AS phrased
            FROM entries
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
        SELECT position, MAX(value_rank) AS rank,
               MIN((6 - value_rank) || field_order || field || char(9) || matched) AS best
        FROM ranked GROUP BY position HAVING {found} = {MAX_WORDS}"""
    sql = f"""
        WITH hits AS ({hits})
        SELECT r.resource, r.label, r.type, h.best, h.rank
        FROM hits AS h JOIN resources AS r ON r.position = h.position
        ORDER BY h.rank DESC, h.position
        LIMIT :limit OFFSET :offset"""
    arguments["limit"] = -1 if limit is None else limit
    arguments["offset"] = offset
    total = db.execute(f"WITH hits AS ({hits}) SELECT COUNT(*) FROM hits", arguments).fetchone()[0]
    rows = [_hit(*row) for row in db.execute(sql, arguments).fetchall()]
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
