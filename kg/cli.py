"""The hcc-kg command line: thin wrappers that parse arguments, call kg, and print."""
import argparse
import logging
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
