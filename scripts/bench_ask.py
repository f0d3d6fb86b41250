"""Benchmark /ask over loopback against the bare cost of embedding a question, as issue 3 asks.

Measures a running server (--url) or, with --start-server, one it spawns itself (`hcc-kg serve` on a free port),
whose start-up time and resident memory it then reports too. /ask and the in-process encode are timed in turn,
question by question, so that load from other processes on a shared machine weighs on both alike.

    .venv/bin/python scripts/bench_ask.py --url http://127.0.0.1:8766 --json bench.json
    .venv/bin/python scripts/bench_ask.py --start-server
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from kg.config import ROOT, Settings
from kg.search import SentenceTransformerEmbedder

MAX_RATIO = 3.0


def load_questions(path: Path) -> list[str]:
    items = json.loads(path.read_text(encoding="utf-8"))
    return [q["question"] if isinstance(q, dict) else q for q in items]


def percentiles_ms(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"n": len(ms), "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """Child processes (the SPARQL workers), found by their PPid in /proc (not every kernel has .../children)."""
    parents = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = next(line.split()[1] for line in status.read_text().splitlines() if line.startswith("PPid:"))
        except (OSError, StopIteration):
            continue
        parents.setdefault(int(ppid), []).append(int(status.parent.name))
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def memory(pid: int) -> dict:
    kids = descendants(pid)
    server = rss_kib(pid)
    return {"server_rss_mib": server / 1024, "children": len(kids),
            "with_children_rss_mib": (server + sum(rss_kib(k) for k in kids)) / 1024}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def spawned_server(build_dir: Path | None, timeout_s: float = 300):
    """`hcc-kg serve` on a free loopback port; yields (url, pid, seconds until /healthz answered 200)."""
    port = free_port()
    cli = Path(sys.executable).with_name("hcc-kg")
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "kg.cli"]
    if build_dir:
        cmd += ["--build-dir", str(build_dir)]
    cmd += ["serve", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}: {' '.join(cmd)}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() - t0 > timeout_s:
                raise SystemExit(f"server did not answer /healthz within {timeout_s:.0f} s")
            time.sleep(0.05)
        yield url, proc.pid, time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def ask(client: httpx.Client, question: str) -> float:
    t0 = time.perf_counter()
    r = client.post("/ask", json={"question": question})
    elapsed = time.perf_counter() - t0
    r.raise_for_status()
    return elapsed


def latency(url: str, questions: list[str], rounds: int, embedder) -> tuple[dict, dict]:
    """/ask and bare encode, each timed on every question of every round, after one warm-up round of both."""
    ask_s, encode_s = [], []
    with httpx.Client(base_url=url, timeout=60) as client:
        for q in questions:
            ask(client, q)
            embedder.embed(q)
        for _ in range(rounds):
            for q in questions:
                ask_s.append(ask(client, q))
                t0 = time.perf_counter()
                embedder.embed(q)
                encode_s.append(time.perf_counter() - t0)
    return percentiles_ms(ask_s), percentiles_ms(encode_s)


def throughput(url: str, questions: list[str], clients: int, seconds: float) -> dict:
    """Each of `clients` threads posts the questions in turn (from its own offset) until the time is up."""
    deadline = time.perf_counter() + seconds
    ok, errors, times, lock = [0], [], [], threading.Lock()

    def run(offset: int):
        with httpx.Client(base_url=url, timeout=60) as client:
            i = offset
            while time.perf_counter() < deadline:
                q = questions[i % len(questions)]
                i += 1
                try:
                    elapsed = ask(client, q)
                except (httpx.HTTPError, ValueError) as e:
                    with lock:
                        errors.append(f"{type(e).__name__}: {e}"[:200])
                    continue
                with lock:
                    ok[0] += 1
                    times.append(elapsed)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k * len(questions) // clients,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"clients": clients, "seconds": wall, "requests": ok[0], "errors": len(errors),
            "error_samples": sorted(set(errors))[:5], "requests_per_s": ok[0] / wall,
            "latency_under_load_ms": percentiles_ms(times) if times else None}


def machine() -> dict:
    return {"cpus": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()]}


def measure(args, url: str) -> dict:
    questions = load_questions(args.questions)
    embedder = SentenceTransformerEmbedder(Settings().embedding_model)
    out = {"url": url, "questions": len(questions), "rounds": args.rounds, "load_before": machine()}
    out["ask_ms"], out["encode_ms"] = latency(url, questions, args.rounds, embedder)
    out["ratio_ask_to_encode_p50"] = out["ask_ms"]["p50"] / out["encode_ms"]["p50"]
    out["throughput"] = throughput(url, questions, args.clients, args.seconds)
    out["load_after"] = machine()
    out["targets_met"] = {"ratio<=3": out["ratio_ask_to_encode_p50"] <= MAX_RATIO,
                          "0 errors": out["throughput"]["errors"] == 0}
    return out


def table(r: dict) -> str:
    a, e, t = r["ask_ms"], r["encode_ms"], r["throughput"]
    lines = [f"hcc-kg /ask benchmark: {r['url']}, {r['questions']} questions x {r['rounds']} rounds (+1 warm-up)",
             f"  machine: {r['load_before']['cpus']} CPUs, load average before "
             f"{' '.join(map(str, r['load_before']['loadavg']))}, after {' '.join(map(str, r['load_after']['loadavg']))}",
             "", f"  {'':<28}{'p50':>9}{'p95':>9}{'p99':>9}{'mean':>9}  (ms)"]
    for name, s in (("/ask over loopback", a), ("bare encode, in-process", e)):
        lines.append(f"  {name:<28}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['p99']:>9.1f}{s['mean']:>9.1f}")
    if t["latency_under_load_ms"]:
        s = t["latency_under_load_ms"]
        lines.append(f"  {'/ask with ' + str(t['clients']) + ' clients':<28}{s['p50']:>9.1f}{s['p95']:>9.1f}"
                     f"{s['p99']:>9.1f}{s['mean']:>9.1f}")
    lines += ["", f"  ratio /ask p50 : encode p50   {r['ratio_ask_to_encode_p50']:.2f}  (target <= {MAX_RATIO:g})",
              f"  throughput                   {t['requests_per_s']:.1f} requests/s with {t['clients']} clients "
              f"for {t['seconds']:.1f} s ({t['requests']} requests, {t['errors']} errors)"]
    lines += [f"    error: {x}" for x in t["error_samples"]]
    if "startup_s" in r:
        m = r["memory_after_start"], r["memory_after_load"]
        lines += [f"  server start-up              {r['startup_s']:.1f} s (spawn to /healthz 200)",
                  f"  server RSS (VmRSS)           {m[0]['server_rss_mib']:.0f} MiB after start-up, "
                  f"{m[1]['server_rss_mib']:.0f} MiB after the run; with its {m[1]['children']} child processes "
                  f"{m[1]['with_children_rss_mib']:.0f} MiB"]
    lines.append("  targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in r["targets_met"].items()))
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8000", help="server to measure (ignored with --start-server)")
    p.add_argument("--questions", type=Path, default=ROOT.parent / "shared" / "eval" / "questions-dev.json")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds over the questions, after one warm-up")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients for the throughput run")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the throughput run")
    p.add_argument("--start-server", action="store_true",
                   help="spawn `hcc-kg serve` on a free port; also report its start-up time and memory")
    p.add_argument("--build-dir", type=Path, help="graph for --start-server (default: the server's default)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args(argv)

    if args.start_server:
        with spawned_server(args.build_dir) as (url, pid, startup_s):
            after_start = memory(pid)
            result = measure(args, url)
            result.update(startup_s=startup_s, memory_after_start=after_start, memory_after_load=memory(pid))
    else:
        result = measure(args, args.url)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0 if all(result["targets_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
