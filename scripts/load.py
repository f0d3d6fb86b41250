"""Bounded mixed load on a running server, its memory sampled alongside: figures for the reliability issue's notes.

Clients (threads) send requests back to back for --seconds (after --warmup seconds that are not measured); each
request picks a route by the --mix weights and a varied input (dev questions, small SPARQL SELECTs, findings, entity
pages, searches). Timeouts and connection errors are counted, never fatal. RSS of the listening process and its
children (--pid, or found from the URL's port) is sampled every second: before, after warm-up, peak, end, idle.

    .venv/bin/python scripts/load.py --url http://127.0.0.1:8000 --clients 50 --seconds 60 \
        --mix ask=6,sparql=2,assess=1,entity=1,search=1,health=1 [--warmup 10] [--idle 30] [--pid PID] [--json out.json]
"""
import argparse
import json
import math
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kg.evaluation import load_questions  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
QUESTION_FILES = ("questions-dev.json", "questions-dev2.json")
PREFIX = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
SMALL_SPARQL = [PREFIX + q for q in (
    "SELECT ?s ?l WHERE { ?s skos:prefLabel ?l } LIMIT %(limit)d OFFSET %(offset)d",
    "SELECT ?s ?l WHERE { ?s skos:altLabel ?l } LIMIT %(limit)d",
    "SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n) LIMIT %(limit)d",
    'SELECT ?s ?l WHERE { ?s skos:prefLabel ?l FILTER(CONTAINS(LCASE(STR(?l)), "%(term)s")) } LIMIT %(limit)d',
    "ASK { ?s skos:prefLabel ?l }",
)]
SLOW_SPARQL = PREFIX + ("SELECT (COUNT(*) AS ?n) WHERE { ?a skos:prefLabel ?x . ?b skos:prefLabel ?y . "
                        "?c skos:prefLabel ?z }")
TERMS = ["ablation", "tace", "portal vein", "child-pugh", "sorafenib", "resection", "radiotherapy", "thrombus",
         "microwave", "ethanol injection", "transplant", "recurrence", "ascites", "bilirubin", "embolization"]
ENTITIES = ["TACE", "RFA", "MWA", "PEI"]
ENTITY_FORMATS = [None, "json", "turtle", "jsonld"]
LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms", "max_ms")  # over all answers, and p95 over 2xx answers only:
TABLE_KEYS = LATENCY_KEYS + ("ok_p95_ms",)
KINDS = ("ask", "sparql", "slow_sparql", "assess", "entity", "search", "health")


def question_texts() -> list[str]:
    return [q["question"] for name in QUESTION_FILES for q in load_questions(DATA / name)]


def parse_mix(text: str) -> dict[str, float]:
    mix = {k: float(w or 1) for k, _, w in (p.strip().partition("=") for p in text.split(",") if p.strip())}
    if unknown := sorted(set(mix) - set(KINDS)):
        raise SystemExit(f"unknown kind(s) {', '.join(unknown)} in --mix; use {', '.join(KINDS)}")
    if sum(mix.values()) <= 0:
        raise SystemExit("--mix needs at least one positive weight")
    return mix


def make_request(kind: str, rng: random.Random, questions: list[str]) -> tuple[str, str, dict]:
    """(method, path, httpx keyword arguments) for one request of the kind, with a varied input."""
    if kind == "ask":
        return "POST", "/ask", {"json": {"question": rng.choice(questions)}}
    if kind in ("sparql", "slow_sparql"):
        query = SLOW_SPARQL if kind == "slow_sparql" else rng.choice(SMALL_SPARQL) % {
            "limit": rng.choice([5, 10, 20, 50]), "offset": rng.randrange(0, 200), "term": rng.choice(TERMS)}
        return "GET", "/sparql", {"params": {"query": query}, "headers": {"Accept": "application/sparql-results+json"}}
    if kind == "assess":
        findings = {"child_pugh": rng.choice("AABC"), "tumor_count": rng.randint(1, 5),
                    "max_tumor_diameter_cm": round(rng.uniform(0.8, 12), 1),
                    "portal_vein_thrombus": rng.choice(["none", "none", "branch", "trunk_partial"]),
                    "ecog": rng.randint(0, 3), "fit_for_surgery": rng.random() < 0.5}
        return "POST", "/assess", {"json": dict(rng.sample(sorted(findings.items()), rng.randint(3, len(findings))))}
    if kind == "entity":
        fmt = rng.choice(ENTITY_FORMATS)
        return "GET", "/id/" + rng.choice(ENTITIES), {"params": {"format": fmt} if fmt else {}}
    if kind == "search":
        q = rng.choice(TERMS) if rng.random() < 0.5 else rng.choice(questions)
        return "GET", "/search", {"params": {"q": q, "k": rng.choice([5, 10])}}
    return "GET", "/healthz", {}


def server_pid(url: str) -> int | None:
    """The process listening on the URL's port (the topmost one if several share the socket)."""
    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
    listening = set()
    for proc in psutil.process_iter(["pid"]):
        try:
            if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in proc.net_connections("tcp")):
                listening.add(proc.pid)
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
    tops = [p for p in listening if psutil.Process(p).ppid() not in listening]
    return min(tops) if tops else None


def rss_or_zero(proc: psutil.Process) -> int:
    try:
        return proc.memory_info().rss
    except psutil.NoSuchProcess:  # a worker that exited since it was listed
        return 0


class RssSampler(threading.Thread):
    """RSS of the server process and of all its descendants (SPARQL workers...), every second until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop, self.t0 = pid, [], threading.Event(), time.perf_counter()

    def sample(self) -> dict | None:
        """Appends and returns one sample; None once the server process is gone."""
        try:
            main = psutil.Process(self.pid)
            main_rss, kids = main.memory_info().rss, main.children(recursive=True)
        except psutil.NoSuchProcess:
            return None
        total = main_rss + sum(rss_or_zero(k) for k in kids)
        s = {"t_s": round(time.perf_counter() - self.t0, 2), "main_mib": round(main_rss / 2**20, 1),
             "total_mib": round(total / 2**20, 1), "children": len(kids)}
        self.samples.append(s)
        return s

    def run(self):
        while not self.stop.wait(1.0) and self.sample():
            pass


def run_load(args, mix: dict, questions: list[str], on_warm) -> tuple[list[tuple], float]:
    """Records (kind, status or error name, seconds, Retry-After present) of requests started after the warm-up."""
    records, lock = [], threading.Lock()
    kinds, weights = list(mix), list(mix.values())
    # built before the clock starts: 50 TLS contexts take seconds on a busy machine
    https = [httpx.Client(base_url=args.url, timeout=args.timeout) for _ in range(args.clients)]
    start = time.perf_counter()
    measure_from, deadline = start + args.warmup, start + args.warmup + args.seconds

    def client(k: int):
        rng = random.Random(args.seed * 1000 + k)
        with https[k] as http:
            while (t0 := time.perf_counter()) < deadline:
                kind = rng.choices(kinds, weights)[0]
                method, path, kw = make_request(kind, rng, questions)
                try:
                    r = http.request(method, path, **kw)
                    outcome, retry_after = r.status_code, "retry-after" in r.headers
                except httpx.TimeoutException:
                    outcome, retry_after = "timeout", False
                except httpx.TransportError as e:
                    outcome, retry_after = f"conn:{type(e).__name__}", False
                    time.sleep(0.1)  # a refused connection returns at once: do not spin
                except Exception as e:  # a load generator must not stop on one odd answer
                    outcome, retry_after = f"error:{type(e).__name__}", False
                if t0 >= measure_from:
                    with lock:
                        records.append((kind, outcome, time.perf_counter() - t0, retry_after))

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(args.clients)]
    for t in threads:
        t.start()
    if args.warmup:
        time.sleep(max(0.0, measure_from - time.perf_counter()))
        on_warm()
    for t in threads:
        t.join(5.0)
        while t.is_alive():
            print(f"  {time.perf_counter() - measure_from:5.0f} s measured, {len(records)} requests", file=sys.stderr)
            t.join(5.0)
    return records, time.perf_counter() - measure_from


def pct(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    return sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)]


def summarize(records: list[tuple], wall_s: float) -> dict:
    by_kind = {kind: [r for r in records if r[0] == kind] for kind in KINDS if any(r[0] == kind for r in records)}
    by_kind["TOTAL"] = records
    out = {}
    for kind, recs in by_kind.items():
        ms = sorted(s * 1000 for _, o, s, _ in recs if isinstance(o, int))
        ok_ms = sorted(s * 1000 for _, o, s, _ in recs if isinstance(o, int) and 200 <= o < 300)
        outcomes = Counter(str(o) for _, o, _, _ in recs)
        throttled = [ra for _, o, _, ra in recs if o in (429, 503)]
        out[kind] = {"count": len(recs), "requests_per_s": round(len(recs) / wall_s, 2),
                     **{k: round(pct(ms, p), 1) if ms else None for k, p in zip(LATENCY_KEYS, (50, 95, 99, 100))},
                     "ok_p95_ms": round(pct(ok_ms, 95), 1) if ok_ms else None,
                     "outcomes": dict(sorted(outcomes.items())),
                     "errors": sum(n for o, n in outcomes.items() if not o.isdigit()),
                     "throttled": len(throttled), "retry_after": sum(throttled)}
    return out


def table(result: dict) -> str:
    tail = result["measured_s"] - result["seconds"]
    lines = [f"load on {result['url']}: {result['clients']} clients, {result['seconds']:g} s measured (+{tail:.1f} s "
             f"for requests in flight) after {result['warmup_s']:g} s warm-up, timeout {result['timeout_s']:g} s",
             f"  mix {result['mix']}", "",
             f"  {'route':<12}{'count':>7}{'req/s':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}{'2xx p95':>9}"
             f"{'errors':>8}{'R-A':>13}  outcomes (status: count)"]
    for kind, s in result["routes"].items():
        if kind == "TOTAL":
            lines.append("  " + "-" * 99)
        cells = "".join(f"{s[k]:>9.1f}" if s[k] is not None else f"{'-':>9}" for k in TABLE_KEYS)
        retry_after = f"{s['retry_after']}/{s['throttled']}"
        lines.append(f"  {kind:<12}{s['count']:>7}{s['requests_per_s']:>8.1f}{cells}{s['errors']:>8}{retry_after:>13}"
                     f"  {' '.join(f'{o}:{n}' for o, n in s['outcomes'].items())}")
    lines.append("  (ms over answered requests, 2xx p95 over 2xx only; req/s over the measured time and its tail; "
                 "R-A = 429/503 with Retry-After / all 429/503)")
    if rss := result.get("rss"):
        lines += ["", f"  {'server RSS (MiB), pid ' + str(rss['pid']):<29}{'main':>8}{'+children':>11}"]
        for label in ("before", "after_warmup", "peak", "end", "idle"):
            if s := rss.get(label):
                kids = f"  ({s['children']} children)" if "children" in s else ""
                lines.append(f"    {label.replace('_', ' '):<27}{s['main_mib']:>8.0f}{s['total_mib']:>11.0f}{kids}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8000", help="running server to load")
    p.add_argument("--clients", type=int, default=50, help="concurrent client threads")
    p.add_argument("--seconds", type=float, default=60.0, help="measured length of the load")
    p.add_argument("--warmup", type=float, default=0.0, help="seconds of load before measuring")
    p.add_argument("--mix", default="ask=6,sparql=2,assess=1,entity=1,search=1,health=1",
                   help=f"relative weights of kinds: {', '.join(KINDS)}")
    p.add_argument("--timeout", type=float, default=30.0, help="client timeout per request, seconds")
    p.add_argument("--pid", type=int, help="server process for RSS (default: the one listening on the URL's port)")
    p.add_argument("--idle", type=float, default=0.0, help="also take RSS after this many idle seconds")
    p.add_argument("--seed", type=int, default=1, help="seed of the inputs' choice")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args(argv)

    mix, questions = parse_mix(args.mix), question_texts()
    pid = args.pid or server_pid(args.url)
    sampler = RssSampler(pid) if pid else None
    rss = {"pid": pid, "before": sampler.sample()} if sampler else None
    if rss and not rss["before"]:
        raise SystemExit(f"no process {pid}")
    if sampler:
        sampler.start()
    else:
        print(f"no server process found for {args.url}; RSS not sampled (give --pid)", file=sys.stderr)
    on_warm = (lambda: rss.update(after_warmup=sampler.sample())) if sampler else (lambda: None)
    print(f"loading {args.url} for {args.warmup:g}+{args.seconds:g} s with {args.clients} clients...", file=sys.stderr)
    records, wall_s = run_load(args, mix, questions, on_warm)
    if sampler:
        sampler.stop.set()
        sampler.join()
        rss["end"] = sampler.sample()
        rss["peak"] = {k: max(s[k] for s in sampler.samples) for k in ("main_mib", "total_mib")}
        if args.idle:
            print(f"idle for {args.idle:g} s...", file=sys.stderr)
            time.sleep(args.idle)
            rss["idle"] = sampler.sample()
        rss["samples"] = sampler.samples
    result = {"url": args.url, "clients": args.clients, "warmup_s": args.warmup, "seconds": args.seconds,
              "measured_s": wall_s, "timeout_s": args.timeout, "mix": args.mix,
              "routes": summarize(records, wall_s), "rss": rss}
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
