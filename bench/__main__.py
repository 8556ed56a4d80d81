"""`python -m bench`: measure treatygraph against rdflib-endpoint and the Oxigraph server.

Writes bench/results/latest.md (tables, ratios, targets), latest.json (raw figures) and
latest.png (chart). Peers are found on PATH, through TG_BENCH_OXIGRAPH / TG_BENCH_RDFLIB_ENDPOINT,
or in bench/work/venv-peers; a missing peer is reported as "not run", never silently skipped.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from bench import report, runner
from bench.systems import REPO, SYSTEMS

MIXES = ("sparql", "web", "short", "questions", "load", "search")


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def merged_scales(results: dict, earlier: dict) -> list[dict]:
    """This run's scales, plus those of an earlier run it did not measure (labelled)."""
    measured = {scale["scale"] for scale in results.get("scales", [])}
    added = [
        scale | {"from_run": f"{earlier['started']} → {earlier.get('finished', '?')}"}
        for scale in earlier.get("scales", [])
        if scale["scale"] not in measured
    ]
    return sorted(results.get("scales", []) + added, key=lambda scale: scale["scale"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=_ints, default=[1, 10, 100, 1000])
    parser.add_argument("--clients", type=_ints, default=[1, 8, 32])
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per cell")
    parser.add_argument("--max-requests", type=int, default=2000, help="requests per cell")
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--probe-timeout", type=float, default=30.0)
    parser.add_argument("--load-timeout", type=float, default=2700.0)
    parser.add_argument("--generate-timeout", type=float, default=1800.0)
    parser.add_argument("--validate-timeout", type=float, default=900.0)
    parser.add_argument("--memory-limit-gb", type=float, default=16.0)
    parser.add_argument(
        "--mixes",
        default="sparql,web",
        help="what to measure, comma-separated: sparql (named questions and DESCRIBEs, every "
        "system), web (treatygraph's JSON API and pages), short (short queries, beside the "
        "engine's own time), questions (named questions as GETs: evaluated, repeated, "
        "conditional), load (`treatygraph load` beside `oxigraph load`), search (JSON search "
        "at scale, treatygraph); see bench/README.md",
    )
    parser.add_argument(
        "--datasets",
        default="treaty,products",
        help="datasets of the short mix: treaty (the grown graph), products (a generated "
        "catalogue of another shape, bench/products.py)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds of alternating cells in the short, questions and load mixes",
    )
    parser.add_argument("--no-validate", action="store_true", help="skip timing the validation")
    parser.add_argument(
        "--reuse-stores",
        action="store_true",
        help="serve a treatygraph store built by an earlier run from the same data file (its "
        "recorded build time is reported) instead of building it again",
    )
    parser.add_argument(
        "--validation-from", type=Path, help="take the validation time from an earlier results JSON"
    )
    parser.add_argument(
        "--scales-from",
        type=Path,
        help="add the scales of an earlier results JSON that this run does not measure (each "
        "is labelled with the time of its run), e.g. a 1000x run made on its own",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: rewrite the report from OUT/NAME.json (with --scales-from merged)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--name", default="latest", help="file name stem of the results")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work")
    args = parser.parse_args(argv)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown or "treatygraph" not in systems:
        parser.error(f"systems are {', '.join(SYSTEMS)} (treatygraph required)")
    mixes = tuple(m.strip() for m in args.mixes.split(",") if m.strip())
    unknown_mixes = set(mixes) - set(MIXES)
    if unknown_mixes or not mixes:
        parser.error(f"mixes are {', '.join(MIXES)}")
    datasets = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    if set(datasets) - {"treaty", "products"}:
        parser.error("datasets are treaty, products")
    options = runner.Options(
        scales=args.scales,
        clients=args.clients,
        systems=systems,
        duration=args.duration,
        max_requests=args.max_requests,
        request_timeout=args.request_timeout,
        probe_timeout=args.probe_timeout,
        load_timeout=args.load_timeout,
        generate_timeout=args.generate_timeout,
        validate_timeout=args.validate_timeout,
        memory_limit=int(args.memory_limit_gb * 1024**3),
        work=args.work,
        validate=not args.no_validate,
        reuse_stores=args.reuse_stores,
        mixes=mixes,
        datasets=datasets,
        rounds=max(1, args.rounds),
    )
    if args.report_only:
        results = json.loads((args.out / f"{args.name}.json").read_text())
    else:
        # A terminated run still stops the servers it started (the runner's `finally` blocks).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        results = runner.run(options, lambda partial: report.write(partial, args.out, args.name))
    if args.scales_from:
        results["scales"] = merged_scales(results, json.loads(args.scales_from.read_text()))
    if args.validation_from:
        earlier = json.loads(args.validation_from.read_text())
        if earlier.get("validation"):
            results["validation"] = earlier["validation"] | {"from": str(args.validation_from)}
    for path in report.write(results, args.out, args.name):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
