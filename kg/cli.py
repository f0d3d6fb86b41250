"""The hcc-kg command line: thin wrappers that parse arguments, call kg, and print."""
import argparse
import json
import logging
from dataclasses import replace
import sys
from pathlib import Path

from .config import Settings
from .errors import HccKgError


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
    _, _, curation = load_inputs(settings)
    print(f"ok: {len(curation.facts)} facts, {len(curation.concepts)} concepts verified against the corpus")
    return 0


def cmd_build(args) -> int:
    from .build import build
    report = build(_settings(args), progress=not args.quiet)
    print(report.summary())
    return 0


def cmd_serve(args) -> int:
    """Serve the API and pages (the graph must be built)."""
    import uvicorn

    from api.app import create_app

    settings = _settings(args)
    if args.cors:
        settings = replace(settings, cors_origins=tuple(o.strip() for o in args.cors.split(",") if o.strip()))
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def _answerer(settings: Settings):
    from .qa.answerer import Answerer
    from .search import SentenceTransformerEmbedder, VectorIndex
    from .store import EmbeddedGraphStore

    return Answerer(EmbeddedGraphStore.from_build(settings.build_dir), VectorIndex.load(settings.build_dir),
                    SentenceTransformerEmbedder(settings.embedding_model))


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
    service = start_service(_settings(args))
    try:
        result = service.run(text, fmt=args.format)
    finally:
        service.close()
    sys.stdout.write(result.body.decode("utf-8"))
    if result.truncated:
        print("\n(truncated: the result cap was reached)", file=sys.stderr)
    return 0


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
    p.set_defaults(func=cmd_serve)
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

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except HccKgError as e:
        print(f"hcc-kg {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
