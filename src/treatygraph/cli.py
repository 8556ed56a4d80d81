"""The `treatygraph` command: build | validate | query | export | stats | serve | import | load.

Each command is a thin shell over the package's functions; none holds logic of its own.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import json
import os
import re
import sys
from pathlib import Path

from treatygraph import build as builder
from treatygraph import coverage, guard, parameters, queries, reports
from treatygraph.settings import Settings
from treatygraph.sources import REPO_ROOT, SourceSyntaxError
from treatygraph.store import QuerySyntaxError, ResultTooLarge, Store

IMPORTERS = {
    "treaty-structure": "treatygraph.importers.treaty_structure",
    "ieadb": "treatygraph.importers.ieadb",
    "ecolex": "treatygraph.importers.ecolex",
}


EXIT_USAGE = 2  # a usage or input error: the command line, a file, a query
EXIT_INTERNAL = 3  # a failure of ours (a bug): reported in one line, the traceback on request
DEBUG_ENV = "TREATYGRAPH_DEBUG"


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every error is one line on stderr and an exit code, never a traceback
    (set TREATYGRAPH_DEBUG=1 to see the traceback of an internal error)."""
    try:
        parser = _parser()
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            fail(f"give a command: {', '.join(COMMANDS)} (see treatygraph --help)")
            return EXIT_USAGE
        return args.run(args)
    except BrokenPipeError:  # the reader (`| head`) stopped early: not an error of ours
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:
        fail("interrupted")
        return 130
    except SourceSyntaxError as error:  # a data file of the repository cannot be read
        fail(f"cannot read {' '.join(str(error).split())}")
        return EXIT_USAGE
    except MemoryError:
        fail("out of memory")
        return EXIT_INTERNAL
    except Exception as error:  # the last resort: one line, not a traceback
        if os.environ.get(DEBUG_ENV):
            raise
        message = " ".join(str(error).split()) or "(no message)"
        fail(f"internal error: {type(error).__name__}: {message} (set {DEBUG_ENV}=1 for details)")
        return EXIT_INTERNAL


def fail(message: str) -> None:
    """One line on stderr."""
    print(f"treatygraph: error: {message}", file=sys.stderr)


def _quiet_stdout() -> None:
    """After a broken pipe: send what Python still flushes at exit nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (argparse prints the usage first), exit code 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


COMMANDS = (
    "build", "validate", "query", "export", "stats", "disagreements", "serve", "import", "load"
)  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="treatygraph",
        description="A knowledge graph of the Basel, Rotterdam, Stockholm and Minamata treaties.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = commands.add_parser("build", help="validate data/ and build the embedded store")
    p.add_argument("--store", type=Path, help="store directory (default: var/store)")
    p.add_argument("--no-validate", action="store_true", help="skip the SHACL validation step")
    p.add_argument("--store-url", help="load a SPARQL 1.1 engine instead (TREATYGRAPH_STORE_URL)")
    p.set_defaults(run=cmd_build)

    p = commands.add_parser("validate", help="validate data/ (or the given files) against shapes/")
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="RDF files or folders (Turtle, TriG, N-Triples, N-Quads, JSON-LD, RDF/XML); "
        "validated together with data/ as context, reporting only their own problems",
    )
    p.add_argument("--format", choices=["text", "json", "junit"], default="text")
    p.add_argument(
        "--standalone",
        action="store_true",
        help="validate the given files alone (with the ontology), without data/ as context",
    )
    p.set_defaults(run=cmd_validate)

    p = commands.add_parser("query", help="run a named question, a query file or a query string")
    p.add_argument("query", nargs="?", help="a named query, a .rq file, or SPARQL text")
    p.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of a named question; a resource by short id (minamata, JPN, "
        "BC-16/21), id:name, IRI or name",
    )
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--list", action="store_true", help="list the named questions")
    p.add_argument(
        "--all", action="store_true", help="with --list: also the JSON API's own api-* queries"
    )
    p.add_argument("--store", type=Path, help="query this store instead of building in memory")
    p.set_defaults(run=cmd_query)

    p = commands.add_parser("export", help="write the graph as TriG, N-Quads, Turtle and JSON-LD")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "var" / "export")
    p.add_argument(
        "--formats", default="trig,nq,ttl,jsonld", help="comma-separated: trig,nq,ttl,jsonld"
    )
    p.set_defaults(run=cmd_export)

    p = commands.add_parser("stats", help="counts of resources, and decision coverage per meeting")
    p.add_argument("--coverage", action="store_true", help="decisions in the graph per meeting")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(run=cmd_stats)

    p = commands.add_parser(
        "disagreements", help="dates on which the two party-status sources (IEADB, ECOLEX) differ"
    )
    p.add_argument("--instrument", help="only this instrument (IRI or short id, e.g. basel)")
    p.add_argument("--format", choices=["text", "json", "csv"], default="text")
    p.set_defaults(run=cmd_disagreements)

    p = commands.add_parser("serve", help="serve SPARQL, JSON, linked data and pages over HTTP")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--store", type=Path, dest="store_path")
    p.add_argument("--store-url", help="serve a SPARQL 1.1 engine (TREATYGRAPH_STORE_URL)")
    p.add_argument("--base-iri")
    p.add_argument("--query-timeout", type=float, help="seconds a query may run (default 10)")
    p.add_argument("--max-rows", type=int, help="rows or triples a query may return")
    p.add_argument("--max-result-bytes", type=int, help="bytes a serialized result may take")
    p.add_argument("--max-body-bytes", type=int, help="bytes a request body may take")
    p.add_argument("--query-workers", type=int, help="worker processes running queries")
    p.add_argument("--write-token", help="enables SPARQL Update and Graph Store writes")
    p.add_argument(
        "--no-build",
        action="store_true",
        help="serve the store as it is, never (re)building it from data/ (e.g. a generated graph)",
    )
    p.set_defaults(run=cmd_serve)

    p = commands.add_parser("import", help="regenerate data/ files from an external dataset")
    p.add_argument("source", choices=sorted(IMPORTERS))
    p.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the importer")
    p.set_defaults(run=cmd_import)

    p = commands.add_parser(
        "load", help="bulk-load N-Triples, N-Quads, Turtle or TriG files (.gz too) into the store"
    )
    p.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="RDF files, by extension: .nt .nq .ttl .trig, each optionally .gz",
    )
    p.add_argument(
        "--graph",
        metavar="IRI",
        help="the named graph for the triples of N-Triples and Turtle files (default: the "
        "store's default graph); N-Quads and TriG keep their own graphs",
    )
    p.add_argument("--store", type=Path, help="store directory (default: var/store)")
    p.add_argument(
        "--catalogue",
        action="store_true",
        help="remake the catalogue (JSON lists, search) now, rather than when the service starts",
    )
    p.set_defaults(run=cmd_load)
    return parser


# -- commands ------------------------------------------------------------------------------------


def cmd_build(args) -> int:
    settings = Settings.from_env(store_path=args.store, store_url=args.store_url)
    if settings.store_url:
        return _build_remote(settings)
    try:
        result = builder.build(settings.store_path, validate=not args.no_validate)
    except builder.BuildRefused as refused:
        print(refused, file=sys.stderr)
        print("build refused: the data violates the shapes (see above)", file=sys.stderr)
        return 1
    except builder.StoreKept as kept:
        print(f"build refused: {kept}", file=sys.stderr)
        return 1
    print(
        f"built {result.store_path}: {result.quads} quads in {result.graphs} graphs "
        f"({result.inferred} inferred) in {result.seconds} s; kept {result.written} quads of "
        "written data"
    )
    return 0


def cmd_validate(args) -> int:
    from treatygraph import validation

    outcome = validation.run(args.paths, args.format, standalone=args.standalone)
    if outcome.output:
        sys.stdout.write(outcome.output)
        sys.stdout.flush()
    if outcome.error:
        print(outcome.error, file=sys.stderr)
    return outcome.code


def cmd_query(args) -> int:
    if args.list:
        for query in queries.load_all().values():
            if query.internal and not args.all:
                continue
            params = " ".join(_shown_param(p) for p in query.params.values())
            print(f"{query.name:40} {query.title}" + (f"  [{params}]" if params else ""))
        return 0
    if not args.query:
        fail("give a named query, a .rq file or SPARQL text (see --list)")
        return EXIT_USAGE
    own = _OwnGraphs(args.store)
    try:
        named, values = _question(args.query, args.param, own)
        text = named.bind(values) if named is not None else _query_text(args.query, args.param)
    except (queries.BadParameter, ValueError) as error:
        fail(" ".join(str(error).split()))
        return EXIT_USAGE
    refused = _refusal(text, own)
    if refused is not None:
        fail(f"refused ({refused.clause}): {' '.join(str(refused).split())}")
        return EXIT_USAGE
    store = own.store()
    try:
        result = store.query(text)
        output = render_result(result, args.format)
    except QuerySyntaxError as error:
        fail(f"the query is not valid SPARQL: {' '.join(str(error).split())}")
        return EXIT_USAGE
    except ResultTooLarge as error:
        fail(f"{error} (narrow the query, or add LIMIT)")
        return 1
    except (OSError, RuntimeError, ValueError) as error:  # raised by the engine while running
        fail(f"the query failed: {' '.join(str(error).split())}")
        return 1
    print(output)
    if named is not None and named.coverage:
        # A list of decisions says how complete it is: under the table, or (so that CSV and JSON
        # stay machine-readable) on stderr.
        note = "Coverage: " + _coverage(named, values, store).sentence()
        if args.format == "table":
            print(note)
        else:
            print(f"treatygraph: note: {note}", file=sys.stderr)
    return 0


def _shown_param(param: queries.Param) -> str:
    default = param.shown_default
    return f"{param.name}={param.type}" + (f" (default {default})" if default else "")


def _question(query: str, raw_params: list[str], own) -> tuple[queries.NamedQuery | None, dict]:
    """The named question `query` is, with its parameter values resolved (resources looked up in
    the store: short id, id:name, IRI or name); (None, {}) when `query` is not a question's name."""
    named = queries.load_all().get(query)
    if named is None:
        return None, {}
    values = _params(raw_params)

    def run(sparql: str):
        return own.store().solutions(sparql)

    return named, parameters.resolve_all(named, values, run)


def _coverage(named: queries.NamedQuery, values: dict, store: Store) -> coverage.Coverage:
    rows = store.solutions(queries.get(coverage.QUERY).bind())
    return coverage.for_question(named, values, rows) or coverage.Coverage("", ())


def _refusal(text: str, own) -> guard.Refused | None:
    """Why the guard refuses the query (SERVICE, LOAD, FROM of a graph not ours...), or None.

    An update such as `LOAD <...>` is not a query: the guard then says it cannot parse it, so the
    text is also read as an update, to name the clause that would fetch."""
    try:
        guard.check_query(text, own)
        return None
    except guard.Refused as refused:
        try:
            guard.check_update(text)
        except guard.Refused as as_update:
            if as_update.clause in ("SERVICE", "LOAD"):
                return as_update
        return refused


class _OwnGraphs:
    """The store's named graphs, for the guard's FROM check: the store is opened (or built) only
    when a query names a graph, or when the query runs."""

    def __init__(self, path: Path | None):
        self._path = path
        self._store: Store | None = None

    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self._path)
        return self._store

    def __contains__(self, iri: object) -> bool:
        if not isinstance(iri, str):
            return False
        store = self.store()
        if hasattr(store, "has_graph"):
            return store.has_graph(iri)
        return iri in store.graphs()


def cmd_export(args) -> int:
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in builder.EXPORT_FORMATS]
    if unknown:
        print(f"error: unknown export format(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    store = open_store(None)
    for path in builder.export(store, args.out, formats):
        print(path)
    return 0


def cmd_stats(args) -> int:
    store = open_store(None)
    report = reports.coverage(store) if args.coverage else reports.counts(store)
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        print(reports.render_coverage(report) if args.coverage else reports.render_counts(report))
    return 0


def cmd_disagreements(args) -> int:
    store = open_store(None)
    question = queries.get("source-disagreements")
    try:
        values = parameters.resolve_all(
            question, {"instrument": args.instrument}, lambda sparql: store.solutions(sparql)
        )
        text = question.bind(values)
    except queries.BadParameter as error:
        fail(" ".join(str(error).split()).replace("parameter 'instrument'", "--instrument"))
        return EXIT_USAGE
    result = store.query(text)
    if args.format != "text":
        print(render_result(result, args.format))
        return 0
    report = reports.disagreements(result)
    print(reports.render_disagreements(report))
    return 0


def _build_remote(settings: Settings) -> int:
    """Load the curated graph into a SPARQL engine: one named graph per source file, each
    replaced whole (atomically where the engine allows); graphs clients wrote are left alone."""
    from treatygraph import stores

    store = stores.open_store(
        settings.store_url,
        engine=settings.store_engine,
        user=settings.store_user,
        password=settings.store_password,
        timeout=max(settings.query_timeout, 300.0),
    )
    try:
        report = stores.load_sources(store)
    except stores.base.StoreError as error:
        print(f"treatygraph: build: {error}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(
        f"loaded {sum(report.graphs.values())} triples in {len(report.graphs)} graphs into "
        f"{settings.store_url} ({report.inferred} inferred; {len(report.dropped)} graphs dropped) "
        f"in {report.seconds:.1f} s"
    )
    return 0


def cmd_serve(args) -> int:
    from treatygraph.api.server import serve

    settings = Settings.from_env(
        host=args.host,
        port=args.port,
        store_path=args.store_path,
        base_iri=args.base_iri,
        query_timeout=args.query_timeout,
        max_rows=args.max_rows,
        max_result_bytes=args.max_result_bytes,
        max_body_bytes=args.max_body_bytes,
        query_workers=args.query_workers,
        write_token=args.write_token,
        store_url=args.store_url,
    )
    return serve(settings, build=not args.no_build)


def cmd_import(args) -> int:
    import importlib

    module = importlib.import_module(IMPORTERS[args.source])
    return module.main(args.rest)


def cmd_load(args) -> int:
    import time

    from treatygraph import loading, write_policy

    settings = Settings.from_env(store_path=args.store)
    began = time.perf_counter()
    try:
        curated = write_policy.curated_for(settings.store_path)
        items = loading.plan(args.files, args.graph, curated)
        loaded = loading.load(items, settings.store_path, loading.stderr_report)
    except loading.LoadRefused as refused:
        fail(" ".join(str(refused).split()))
        return EXIT_USAGE
    except loading.StoreBusy as busy:
        fail(str(busy))
        return 1
    text = sum(item.bytes_read for item in loaded)
    print(
        f"loaded {len(loaded)} file{'s' if len(loaded) != 1 else ''} ({text / 1e6:,.1f} MB of "
        f"text) into {settings.store_path} in {time.perf_counter() - began:,.1f} s"
    )
    if args.catalogue:
        loading.stderr_report("remaking the catalogue ...")
        loading.remake_catalogue(settings.store_path)
    else:
        loading.stderr_report(
            "the catalogue (JSON lists and search) is remade when the service starts"
        )
    return 0


# -- helpers -------------------------------------------------------------------------------------


def open_store(path: Path | None) -> Store:
    """The built store at `path` (or the default one) when fresh; else the data, in memory."""
    settings = Settings.from_env(store_path=path)
    if settings.store_path.is_dir() and builder.is_fresh(settings.store_path):
        return Store(settings.store_path, read_only=True)
    store = Store()
    builder.fill(store)
    return store


def _params(raw_params: list[str]) -> dict[str, str]:
    params = {}
    for item in raw_params:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--param takes NAME=VALUE, got {item!r}")
        params[name.strip().lstrip("?")] = value
    return params


def _query_text(query: str, raw_params: list[str]) -> str:
    """The SPARQL text of a query file or a query string (a named question: see _question)."""
    params = _params(raw_params)
    named = queries.load_all()
    path = Path(query)
    is_file_name = path.suffix.lower() in QUERY_FILE_SUFFIXES
    if is_file_name and not path.is_file():
        raise ValueError(f"no such query file: {query}")
    if not is_file_name and _NAME_LIKE.fullmatch(query):
        raise ValueError(f"no such question: {query}{_suggest(query, named)}")
    if params:
        raise ValueError("--param applies to named queries only")
    if is_file_name:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise ValueError(f"cannot read query file {query}: {reason}") from None
    return query


QUERY_FILE_SUFFIXES = (".rq", ".sparql")
# A bare word such as `party-gapz` cannot be SPARQL (a query has braces, spaces or <IRIs>): it is
# meant as the name of a question.
_NAME_LIKE = re.compile(r"[\w.-]+")


def _suggest(name: str, named: dict) -> str:
    """` (did you mean: a, b?)`, from the named questions closest to `name`; else a pointer."""
    close = difflib.get_close_matches(name, list(named), n=3, cutoff=0.6)
    if close:
        return f" (did you mean: {', '.join(close)}?)"
    return " (see treatygraph query --list)"


def render_result(result, fmt: str) -> str:
    if result.kind == "ask":
        return json.dumps({"boolean": result.boolean}) if fmt == "json" else str(result.boolean)
    if result.kind == "graph":
        return result.serialize("text/turtle").decode()
    rows = [{k: v.value for k, v in row.items()} for row in result.rows()]
    columns = result.variables
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    cells = [[_cut(_short(row.get(c, ""))) for c in columns] for row in rows]
    return reports.table(columns, cells)


TABLE_CELL_WIDTH = 48


def _cut(value: str) -> str:
    """Long values shortened for a terminal table (CSV and JSON keep them whole)."""
    return value if len(value) <= TABLE_CELL_WIDTH else value[: TABLE_CELL_WIDTH - 1] + "…"


SHORT_PREFIXES = {
    "https://w3id.org/treatygraph/id/": "id:",
    "https://w3id.org/treatygraph/ontology#": "tg:",
}


def _short(value: str) -> str:
    """IRIs under our own namespaces, shortened for a readable table."""
    for namespace, prefix in SHORT_PREFIXES.items():
        if value.startswith(namespace):
            return prefix + value[len(namespace) :]
    return value


if __name__ == "__main__":
    sys.exit(main())
