"""Render times of the web pages: server time (the Server-Timing header) and time seen by the client.

Finds the largest entity pages first (every concept's JSON view, ranked by facts in and out, inherited included),
then times each page --repeat times after one warm-up request (the first request of an app builds the page
catalog and the graph layouts once). Exits 1 when the largest entity page's median server time exceeds --budget-ms.

    .venv/bin/python scripts/bench_pages.py --url http://127.0.0.1:8000
    .venv/bin/python scripts/bench_pages.py --url http://127.0.0.1:8000 --repeat 50 --json pages.json
"""
import argparse
import json
import re
import statistics
import sys
import time

import httpx

HCC = "https://w3id.org/hcc-kg/"
CONCEPTS = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT DISTINCT ?c WHERE { ?c a skos:Concept }"
OTHER_PAGES = ["/", "/browse", "/compare?m=TACE&m=RFA", "/compare?m=TACE&m=RFA&m=MWA&m=PEI&m=TAE&m=HIFU",
               "/documents", "/documents/nonsurgical-treatment-guideline",
               "/documents/nonsurgical-treatment-guideline?start=15244&end=15300", "/graph", "/graph?view=modalities",
               "/graph/TACE", "/query", "/query?example=quotes", "/downloads", "/id/Contraindication",
               "/id/hasIndication"]


def server_ms(response: httpx.Response) -> float | None:
    m = re.search(r"dur=([\d.]+)", response.headers.get("server-timing", ""))
    return float(m.group(1)) if m else None


def largest_entities(client: httpx.Client, top: int) -> list[tuple[str, int]]:
    rows = client.get("/sparql", params={"query": CONCEPTS},
                      headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    sizes = []
    for row in rows:
        local = row["c"]["value"][len(HCC):]
        data = client.get(f"/id/{local}", headers={"Accept": "application/json"}).json()
        sizes.append((local, data["fact_count"] + data["facts_in_count"]))
    return sorted(sizes, key=lambda kv: -kv[1])[:top]


def time_page(client: httpx.Client, path: str, repeat: int) -> dict:
    client.get(path)  # warm-up
    server, total = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = client.get(path)
        total.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{path} answered {r.status_code}")
        if (ms := server_ms(r)) is not None:
            server.append(ms)
    return {"path": path, "bytes": len(r.content),
            "server_ms": {"median": statistics.median(server), "max": max(server)} if server else None,
            "client_ms": {"median": statistics.median(total), "max": max(total)}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of a running hcc-kg server")
    ap.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    ap.add_argument("--top", type=int, default=5, help="how many of the largest entity pages to time")
    ap.add_argument("--budget-ms", type=float, default=200.0, help="limit for the largest entity page (median)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)

    with httpx.Client(base_url=args.url, timeout=120) as client:
        biggest = largest_entities(client, args.top)
        results = []
        print(f"{'page':<70} {'KiB':>7} {'server p50':>11} {'max':>8} {'client p50':>11}")
        for path in [f"/id/{local}" for local, _ in biggest] + OTHER_PAGES:
            res = time_page(client, path, args.repeat)
            results.append(res)
            s = res["server_ms"] or {"median": float("nan"), "max": float("nan")}
            print(f"{path:<70} {res['bytes'] / 1024:7.1f} {s['median']:9.1f}ms {s['max']:6.1f}ms "
                  f"{res['client_ms']['median']:9.1f}ms")
    largest = results[0]
    verdict = largest["server_ms"]["median"] <= args.budget_ms
    print(f"\nlargest entity page: {largest['path']} ({biggest[0][1]} facts in and out): median "
          f"{largest['server_ms']['median']:.1f} ms server time; budget {args.budget_ms:.0f} ms: "
          f"{'within' if verdict else 'OVER'}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"largest": biggest, "pages": results, "budget_ms": args.budget_ms, "within": verdict}, fh,
                      indent=2)
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
