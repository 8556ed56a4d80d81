"""The `treatygraph` command: build | validate | query | export | stats | serve | import.

Each command is a thin shell over the package's functions; none holds logic of its own.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from treatygraph import build as builder
from treatygraph import queries, reports
from treatygraph.settings import Settings
from treatygraph.sources import REPO_ROOT
from treatygraph.store import QuerySyntaxError, Store

IMPORTERS = {
    "treaty-structure": "treatygraph.importers.treaty_structure",
    "ieadb": "treatygraph.importers.ieadb",
    "ecolex": "treatygraph.importers.ecolex",
}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except BrokenPipeError:  # the reader (`| head`) stopped early: not an error of ours
        sys.stderr.close()
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="treatygraph",
        description="A knowledge graph of the Basel, Rotterdam, Stockholm and Minamata treaties.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = commands.add_parser("build", help="validate data/ and build the embedded store")
    p.add_argument("--store", type=Path, help="store directory (default: var/store)")
    p.add_argument("--no-validate", action="store_true", help="skip the SHACL validation step")
    p.set_defaults(run=cmd_build)

    p = commands.add_parser("validate", help="validate data/ (or the given files) against shapes/")
    p.add_argument("paths", nargs="*", type=Path, help="Turtle/TriG/JSON-LD files or folders")
    p.add_argument("--format", choices=["text", "json", "junit"], default="text")
    p.set_defaults(run=cmd_validate)

    p = commands.add_parser("query", help="run a named question, a query file or a query string")
    p.add_argument("query", nargs="?", help="a named query, a .rq file, or SPARQL text")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--list", action="store_true", help="list the named queries")
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
    return parser


# -- commands ------------------------------------------------------------------------------------


def cmd_build(args) -> int:
    settings = Settings.from_env(store_path=args.store)
    try:
        result = builder.build(settings.store_path, validate=not args.no_validate)
    except builder.BuildRefused as refused:
        print(refused, file=sys.stderr)
        print("build refused: the data violates the shapes (see above)", file=sys.stderr)
        return 1
    print(
        f"built {result.store_path}: {result.quads} quads in {result.graphs} graphs "
        f"({result.inferred} inferred) in {result.seconds} s"
    )
    return 0


def cmd_validate(args) -> int:
    from treatygraph import validation

    code, output = validation.run(args.paths, args.format)
    stream = sys.stdout if code in (0, 1) else sys.stderr
    print(output, file=stream, end="" if output.endswith("\n") else "\n")
    return code


def cmd_query(args) -> int:
    if args.list:
        for query in queries.load_all().values():
            params = " ".join(f"{p.name}={p.type}" for p in query.params.values())
            print(f"{query.name:40} {query.title}" + (f"  [{params}]" if params else ""))
        return 0
    if not args.query:
        print("give a named query, a .rq file or SPARQL text (see --list)", file=sys.stderr)
        return 2
    try:
        text = _query_text(args.query, args.param)
    except (queries.BadParameter, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    store = open_store(args.store)
    try:
        result = store.query(text)
        print(render_result(result, args.format))
    except QuerySyntaxError as error:
        print(f"error: the query is not valid SPARQL: {error}", file=sys.stderr)
        return 2
    return 0


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
    instrument = args.instrument
    if instrument and ":" not in instrument:
        instrument = "https://w3id.org/treatygraph/id/" + instrument.strip("/")
    try:
        text = queries.get("source-disagreements").bind({"instrument": instrument})
    except queries.BadParameter as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = open_store(None).query(text)
    if args.format != "text":
        print(render_result(result, args.format))
        return 0
    report = reports.disagreements(result)
    print(reports.render_disagreements(report))
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
    )
    return serve(settings, build=not args.no_build)


def cmd_import(args) -> int:
    import importlib

    module = importlib.import_module(IMPORTERS[args.source])
    return module.main(args.rest)


# -- helpers -------------------------------------------------------------------------------------


def open_store(path: Path | None) -> Store:
    """The built store at `path` (or the default one) when fresh; else the data, in memory."""
    settings = Settings.from_env(store_path=path)
    if settings.store_path.is_dir() and builder.is_fresh(settings.store_path):
        return Store(settings.store_path, read_only=True)
    store = Store()
    builder.fill(store)
    return store


def _query_text(query: str, raw_params: list[str]) -> str:
    params = {}
    for item in raw_params:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--param takes NAME=VALUE, got {item!r}")
        params[name.strip().lstrip("?")] = value
    named = queries.load_all()
    if query in named:
        return named[query].bind(params)
    if params:
        raise ValueError("--param applies to named queries only")
    path = Path(query)
    if query.endswith(".rq") and path.is_file():
        return path.read_text(encoding="utf-8")
    if query.endswith(".rq"):
        raise ValueError(f"no such query file: {query}")
    return query


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
