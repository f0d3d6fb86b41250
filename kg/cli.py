"""The hcc-kg command line: thin wrappers that parse arguments, call kg, and print."""
import argparse
import json
import logging
import os
import re
import shutil
from dataclasses import replace
import sys
from pathlib import Path

from .config import Settings
from .errors import BuildError, HccKgError


def _settings(args) -> Settings:
    kw = {}
    for name in ("corpus_dir", "ontology_dir", "build_dir"):
        if getattr(args, name, None):
            kw[name] = Path(getattr(args, name))
    return Settings(**kw)


def cmd_check(args) -> int:
    """Verify the curated facts against the corpus without building."""
    from .build import load_inputs
    settings = _settings(args)
    _, _, curation, lexicon = load_inputs(settings)
    print(f"ok: {len(curation.facts)} facts, {len(curation.concepts)} concepts verified against the corpus; "
          f"lexicon: {lexicon.example_count} example questions of {len(lexicon.kinds)} kinds, "
          f"{len(lexicon.families)} families, {len(lexicon.glosses)} glosses")
    return 0


def cmd_build(args) -> int:
    from .build import build
    report = build(_settings(args), progress=not args.quiet)
    print(report.summary())
    return 0


def cmd_serve(args) -> int:
    """Serve the API and pages (the graph must be built)."""
    from api.affinity import claims_folder
    from api.app import SETTINGS_ENV, create_app
    from api.auth import keys_from
    from api.server import serve

    settings = _settings(args)
    if args.cors:
        settings = replace(settings, cors_origins=tuple(o.strip() for o in args.cors.split(",") if o.strip()))
    settings = replace(settings, client_in_flight=args.client_limit, compute_in_flight=args.in_flight,
                       sparql_workers=args.sparql_workers, host=args.host,
                       sparql_client_queries=settings.sparql_client_queries if args.client_limit else 0,
                       api_keys=keys_from(args.api_key, os.environ.get("HCC_KG_API_KEYS")),
                       store_url=args.store or "", store_timeout_s=args.store_timeout)
    if settings.store_url:  # refuse here, with the reason, rather than as a failed start-up of every worker
        from .remote_store import connect

        connect(settings.store_url, _built_version(settings), settings.store_timeout_s).close()
    if settings.api_keys:
        logging.getLogger("hcc_kg.api").info("/v1 and /mcp require one of %d API keys", len(settings.api_keys))
    if args.workers > 1:  # each worker process builds its own app, with its share of the machine (kg/config.py)
        os.environ[SETTINGS_ENV] = replace(settings, workers=args.workers).to_json()
        try:
            serve("api.app:app_from_environment", host=args.host, port=args.port, workers=args.workers)
        finally:
            shutil.rmtree(claims_folder(os.getpid()), ignore_errors=True)
    else:
        serve(create_app(settings), host=args.host, port=args.port)
    return 0


def configure_logging(verbose: bool = False):
    """How the command logs, and so the worker processes of `serve --workers N` (fresh interpreters) too."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:  # one line per store request is detail, not news
        logging.getLogger("httpx").setLevel(logging.WARNING)


def _built_version(settings) -> str:
    report = Path(settings.build_dir) / "report.json"
    if not report.exists():
        raise BuildError(f"{report} not found: run `hcc-kg build` first")
    return json.loads(report.read_text(encoding="utf-8"))["graph_version"]


def cmd_mcp(args) -> int:
    """Speak MCP on stdin/stdout (for desktop clients such as Claude Desktop)."""
    from api.mcp_server import run_stdio

    run_stdio(_settings(args))
    return 0


def _answerer(settings: Settings):
    from .qa.answerer import Answerer

    return Answerer.from_build(settings)


def cmd_ask(args) -> int:
    """Answer a question from the graph, with numbered citations."""
    result = _answerer(_settings(args)).ask(" ".join(args.question))
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return 0
    print(result["answer"])
    if result["answered"]:
        print("\nSources:")
        for i, fact in enumerate(result["facts"], start=1):
            for ev in fact["evidence"]:
                print(f"  [{i}] {ev['document']} [{ev['start']}:{ev['end']}] \"{ev['quote']}\"")
    else:
        print(f"(not answered: {result['reason']})")
    return 0


def cmd_sparql(args) -> int:
    """Run a SPARQL query (a file or the query text) against the built graph, read-only."""
    from .sparql import start_service

    text = Path(args.query).read_text(encoding="utf-8") if Path(args.query).is_file() else args.query
    service = start_service(_settings(args)).wait_ready()
    try:
        # a table for SELECT/ASK and Turtle for graphs unless a format is asked for
        result = service.run(text, accept=None if args.format else "text/csv, text/turtle", fmt=args.format)
    finally:
        service.close()
    sys.stdout.write(result.body.decode("utf-8"))
    if result.truncated:
        print("\n(truncated: the result cap was reached)", file=sys.stderr)
    return 0


def cmd_assess(args) -> int:
    """Evaluate a case against every modality's criteria: a verdict table with the rules and quotes behind it."""
    from .assess import Assessor
    from .verdicts import describe
    from .findings import findings_from_text
    from .store import EmbeddedGraphStore

    assessor = Assessor.from_store(EmbeddedGraphStore.from_build(_settings(args).build_dir))
    if args.parameters:
        for prm in assessor.parameters.values():
            allowed = f" {{{', '.join(prm.allowed)}}}" if prm.allowed else ""
            print(f"--{prm.key.replace('_', '-'):34} {prm.datatype}{allowed}: {prm.label}")
        return 0
    findings = findings_from_text(args.text) if args.text else {}
    findings.update(_findings_from_flags(assessor, args.findings))
    wanted = [m.iri for m in assessor.modalities if not args.modality or
              {m.iri.rsplit("/", 1)[-1].lower(), m.label.lower()} & {x.lower() for x in args.modality}]
    result = assessor.assess(findings, modalities=wanted)
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return 0
    print("findings: " + (", ".join(f"{k}={v}" for k, v in result["findings"].items()) or "(none)") + "\n")
    sources: list = []
    for entry in result["modalities"]:
        print(f"{entry['modality']['label'][:50]:50} {entry['verdict'].upper()}")
        for rule in (r for r in entry["rules"] if r["outcome"] == "met"):
            refs = "".join(f"[{_cite(sources, ev)}]" for ev in rule["evidence"])
            print(f"    {rule['effect'].replace('_', ' ')}: {rule['concept']['label']} {refs}")
        if entry["missing"]:
            print(f"    missing: {', '.join(entry['missing'])}")
    for s in result["suggestions"]:
        refs = "".join(f"[{_cite(sources, ev)}]" for f in s["facts"] for ev in f["evidence"])
        cond = f" (if {', '.join(s['missing'])})" if s["missing"] else ""
        print(f"\nsuggestion{cond}: {s['recommendation']['label']} {refs}")
    if args.explain:
        print("\n" + "\n\n".join(describe(e) for e in result["modalities"]))
    print("\nSources:")
    for i, ev in enumerate(sources, start=1):
        print(f"  [{i}] {ev['document']} [{ev['start']}:{ev['end']}] \"{ev['quote']}\"")
    return 0


def _cite(sources: list, evidence: dict) -> int:
    if evidence not in sources:
        sources.append(evidence)
    return sources.index(evidence) + 1


def _findings_from_flags(assessor, tokens: list[str]) -> dict:
    """One flag per graph parameter (--child-pugh B, --portal-collaterals / --no-portal-collaterals), plus the
    key without its unit (--leukocytes) and the short names --tumours and --max-diameter."""
    parser = argparse.ArgumentParser(prog="hcc-kg assess", add_help=False,
                                     usage="hcc-kg assess [--FINDING VALUE ...]; `hcc-kg assess --parameters` lists them")
    short = {"tumor_count": ["--tumours", "--tumors"], "max_tumor_diameter_cm": ["--max-diameter", "--diameter"]}
    for prm in assessor.parameters.values():
        names = [f"--{prm.key.replace('_', '-')}"] + short.get(prm.key, [])
        bare = re.sub(r"_(cm|mm|pct|months|1e9_per_l)$", "", prm.key)
        names += [f"--{bare.replace('_', '-')}"] if bare != prm.key else []
        if prm.datatype == "boolean":
            parser.add_argument(*names, dest=prm.key, action=argparse.BooleanOptionalAction, help=prm.label)
        else:
            kind = {"integer": int, "decimal": float}.get(prm.datatype, str)
            parser.add_argument(*names, dest=prm.key, type=kind, choices=prm.allowed or None, help=prm.label)
    try:
        parsed = parser.parse_args(tokens)
    except SystemExit:
        raise HccKgError("bad finding flags; `hcc-kg assess --parameters` lists them") from None
    return {k: v for k, v in vars(parsed).items() if v is not None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="hcc-kg", description=__doc__.splitlines()[0] + "\n\n"
                                     "Knowledge graph of the interventional treatment of hepatocellular carcinoma.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus-dir", dest="corpus_dir", help="corpus directory (default: ./corpus)")
    parser.add_argument("--ontology-dir", dest="ontology_dir", help="ontology directory (default: ./ontology)")
    parser.add_argument("--build-dir", dest="build_dir", help="where the graph is written (default: ./build)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="verify the curated facts' quotes against the corpus (no output files)")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("build", help="build the graph into build/: verify, assemble, validate, infer, export")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", help="serve the JSON API, SPARQL endpoint and web pages")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--cors", help="comma-separated allowed origins (default: *)")
    d = Settings()
    p.add_argument("--client-limit", type=int, default=d.client_in_flight, metavar="N",
                   help=f"requests one client may have in flight, beyond which it gets 429 (default "
                        f"{d.client_in_flight}; 0: no per-client limit, on requests or SPARQL queries, for load "
                        "tests from one address)")
    p.add_argument("--in-flight", type=int, default=d.compute_in_flight, metavar="N",
                   help=f"/ask, /search and /assess requests in flight, beyond which 503 "
                        f"(default {d.compute_in_flight})")
    p.add_argument("--sparql-workers", type=int, default=d.sparql_workers, metavar="N",
                   help=f"SPARQL query processes on the machine, divided among --workers (default {d.sparql_workers})")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="server processes (default 1); each has its own graph and encoder, with the cores and the "
                        "SPARQL processes shared among them")
    p.add_argument("--api-key", action="append", metavar="KEY",
                   help="require `Authorization: Bearer KEY` on /v1 and /mcp (repeatable; also HCC_KG_API_KEYS, "
                        "comma-separated); without keys they are open")
    p.add_argument("--store", metavar="URL",
                   help="read the graph from this SPARQL 1.1 query endpoint (holding build/hcc-kg.nq, e.g. an "
                        "Oxigraph server's http://HOST:7878/query) instead of the embedded store; it must hold "
                        "build/'s graph version (README, Deployment)")
    p.add_argument("--store-timeout", type=float, default=d.store_timeout_s, metavar="S",
                   help=f"seconds a store request may take before the request answers 503 (default "
                        f"{d.store_timeout_s:g}; /sparql queries have their own limit)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("mcp", help="serve the Model Context Protocol on stdio (for Claude Desktop and other "
                                   "desktop clients); over HTTP, `serve` offers it at /mcp")
    p.set_defaults(func=cmd_mcp)
    p = sub.add_parser("ask", help="answer a clinical question, with numbered citations")
    p.add_argument("question", nargs="+")
    p.add_argument("--json", action="store_true", help="print the full JSON answer")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("sparql", help="run a read-only SPARQL query (a file or the query text)")
    p.add_argument("query")
    p.add_argument("--format", default=None,
                   help="json, xml, csv, tsv (SELECT/ASK); turtle, ntriples, jsonld (CONSTRUCT/DESCRIBE); "
                        "default: csv for SELECT, turtle for graphs")
    p.set_defaults(func=cmd_sparql)

    p = sub.add_parser("assess", help="evaluate a case against every modality's criteria, with citations",
                       description="Findings are flags named after the graph's parameters, e.g. --child-pugh B "
                                   "--tumours 2 --max-diameter 2.5 --no-extrahepatic-metastasis; "
                                   "--parameters lists them all.")
    p.add_argument("--text", help="a vignette to read findings from (flags override it)")
    p.add_argument("--modality", action="append", help="only this modality (name or label; repeatable)")
    p.add_argument("--parameters", action="store_true", help="list the finding flags and exit")
    p.add_argument("--explain", action="store_true", help="add a paragraph per modality")
    p.add_argument("--json", action="store_true", help="print the full JSON result")
    p.set_defaults(func=cmd_assess)

    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "assess":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.findings = extra
    configure_logging(args.verbose)
    try:
        return args.func(args)
    except HccKgError as e:
        print(f"hcc-kg {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
