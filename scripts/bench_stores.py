"""/ask, entity pages and /sparql over the embedded store and over each remote store, in one run.

Starts an Oxigraph server (with and without --union-default-graph) and, when installed, Virtuoso, each loaded with
build/hcc-kg.nq in a temporary folder, then `hcc-kg serve` over the embedded store and over each of them, and
times, one client on loopback: start-up to /healthz 200, /ask on the dev questions, the Turtle view of an entity
(read from the store on every request) and a SPARQL lookup (passed through to the store).

    .venv/bin/python scripts/bench_stores.py [--rounds 3] [--json F]
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from bench_ask import load_questions, memory, percentiles_ms, spawned_server  # noqa: E402
from bench_scale import LOOKUP  # noqa: E402
from kg.config import ROOT, Settings  # noqa: E402
from tests.stores import OxigraphServer, VirtuosoServer, virtuoso_installed  # noqa: E402


def timed(client: httpx.Client, method: str, path: str, **kwargs) -> float:
    t = time.perf_counter()
    client.request(method, path, **kwargs).raise_for_status()
    return time.perf_counter() - t


def measure(name: str, build_dir: Path, questions: list[str], rounds: int, *flags: str) -> dict:
    with spawned_server(build_dir, *flags) as (url, pid, startup_s):
        with httpx.Client(base_url=url, timeout=60) as c:
            for q in questions:  # warm-up
                timed(c, "POST", "/ask", json={"question": q})
            ask, page, sparql = [], [], []
            for _ in range(rounds):
                for q in questions:
                    ask.append(timed(c, "POST", "/ask", json={"question": q}))
                    page.append(timed(c, "GET", "/id/TACE", headers={"Accept": "text/turtle"}))
                    sparql.append(timed(c, "GET", "/sparql", params={"query": LOOKUP}))
        return {"store": name, "startup_s": round(startup_s, 2), "ask_ms": percentiles_ms(ask),
                "entity_ms": percentiles_ms(page), "sparql_ms": percentiles_ms(sparql), "memory": memory(pid)}


def table(rows: list[dict]) -> str:
    head = "| store | start-up | /ask p50 / p95 | entity Turtle p50 | SPARQL lookup p50 | RSS |\n|---|---|---|---|---|---|"
    lines = [f"| {r['store']} | {r['startup_s']:.2f} s | {r['ask_ms']['p50']:.1f} / {r['ask_ms']['p95']:.1f} ms | "
             f"{r['entity_ms']['p50']:.1f} ms | {r['sparql_ms']['p50']:.1f} ms | {r['memory']['server_rss_mib']:.0f} MiB |"
             for r in rows]
    return "\n".join([head, *lines])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    build_dir = Settings().build_dir
    nq = build_dir / "hcc-kg.nq"
    questions = load_questions(ROOT / "tests" / "data" / "questions-dev.json")
    rows = [measure("embedded", build_dir, questions, args.rounds)]
    print(table(rows), file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        stores = [("Oxigraph, --union-default-graph", OxigraphServer(nq, Path(tmp) / "ox-union").start()),
                  ("Oxigraph, graphs named per query", OxigraphServer(nq, Path(tmp) / "ox-plain",
                                                                    union_default_graph=False).start())]
        if virtuoso_installed():
            stores.append(("Virtuoso 7", VirtuosoServer(nq, Path(tmp) / "virtuoso")))
        try:
            for name, store in stores:
                rows.append(measure(name, build_dir, questions, args.rounds, "--store", store.url))
                print(table(rows[-1:]).splitlines()[-1], file=sys.stderr)
        finally:
            for _, store in stores:
                store.stop()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
