"""Benchmark serving against the bare cost of encoding a question (issue 11's table), in one run.

It spawns `hcc-kg serve` on a free loopback port (start-up to /healthz 200, RSS after warm-up, whether torch is
loaded, /ask latency one client at a time) and then `hcc-kg serve --workers 2` (throughput with 8 clients). The
encode floor is the faster of stock sentence-transformers and a plain ONNX export of the model, one thread each,
measured in this process question by question in turn with /ask, so that load from other processes on a shared
machine weighs on all alike; /ask latency is reported as a ratio to it. The machine's speed drifts within minutes,
so throughput is compared with the floor measured between the windows of its run (the server idle meanwhile).
Requests go over http.client: the load generator shares the two cores with the server.

    .venv/bin/python scripts/bench_ask.py [--json bench.json] [--rounds 5] [--seconds 20]
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from kg.config import ROOT, Settings
from kg.search import SentenceTransformerEmbedder

MAX_RATIO = 1.5
WINDOWS = 4  # the throughput run, in windows with the floor measured before, between and after them


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


def children(pid: int) -> list[int]:
    return _parents().get(pid, [])


def _parents() -> dict[int, list[int]]:
    parents: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = next(line.split()[1] for line in status.read_text().splitlines() if line.startswith("PPid:"))
        except (OSError, StopIteration):
            continue
        parents.setdefault(int(ppid), []).append(int(status.parent.name))
    return parents


def descendants(pid: int) -> list[int]:
    """Child processes (the SPARQL workers), found by their PPid in /proc (not every kernel has .../children)."""
    parents = _parents()
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
def spawned_server(build_dir: Path | None, *flags: str, timeout_s: float = 300):
    """`hcc-kg serve` on a free loopback port; yields (url, pid, seconds until /healthz answered 200)."""
    port = free_port()
    cli = Path(sys.executable).with_name("hcc-kg")
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "kg.cli"]
    if build_dir:
        cmd += ["--build-dir", str(build_dir)]
    cmd += ["serve", "--host", "127.0.0.1", "--port", str(port), *flags]
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
            time.sleep(0.02)
        yield url, proc.pid, time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def torch_loaded(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


class Client:
    """One keep-alive connection with the standard library's http.client: the load generator shares the server's two
    cores, and httpx cost 1.3 ms of this process's CPU a request (0.14 of a core at 108 /s), taken from the server."""

    def __init__(self, url: str, timeout: float = 60):
        host, port = url.removeprefix("http://").split(":")
        self._connection = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def ask(self, question: str) -> float:
        """Seconds until the whole answer is read; raises on an error status."""
        body = json.dumps({"question": question})
        t0 = time.perf_counter()
        self._connection.request("POST", "/ask", body=body, headers={"Content-Type": "application/json"})
        response = self._connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - t0
        if response.status != 200:
            raise ValueError(f"HTTP {response.status}: {data[:120]!r}")
        return elapsed

    def close(self):
        self._connection.close()


def latency(url: str, questions: list[str], rounds: int, encoders: dict) -> tuple[dict, dict]:
    """/ask and each bare encoder, timed in turn on every question of every round, after one warm-up round."""
    ask_s, encode_s = [], {name: [] for name in encoders}
    client = Client(url)
    try:
        for q in questions:
            client.ask(q)
            for e in encoders.values():
                e.embed(q)
        for _ in range(rounds):
            for q in questions:
                ask_s.append(client.ask(q))
                for name, e in encoders.items():
                    t0 = time.perf_counter()
                    e.embed(q)
                    encode_s[name].append(time.perf_counter() - t0)
    finally:
        client.close()
    return percentiles_ms(ask_s), {name: percentiles_ms(v) for name, v in encode_s.items()}


def encode_times(encoders: dict, questions: list[str]) -> dict[str, list[float]]:
    """Seconds each bare encoder takes on each question, in turn, with the server idle."""
    out = {name: [] for name in encoders}
    for q in questions:
        for name, e in encoders.items():
            t0 = time.perf_counter()
            e.embed(q)
            out[name].append(time.perf_counter() - t0)
    return out


def merged(windows: list[dict]) -> dict:
    """One throughput result from several windows."""
    seconds, requests = sum(w["seconds"] for w in windows), sum(w["requests"] for w in windows)
    times = [t for w in windows for t in w["times"]]
    return {"clients": windows[0]["clients"], "windows": len(windows), "seconds": seconds, "requests": requests,
            "errors": sum(w["errors"] for w in windows),
            "error_samples": sorted({e for w in windows for e in w["error_samples"]})[:5],
            "requests_per_s": requests / seconds, "latency_under_load_ms": percentiles_ms(times) if times else None}


def throughput(url: str, questions: list[str], clients: int, seconds: float) -> dict:
    """Each of `clients` threads posts the questions in turn (from its own offset) until the time is up."""
    deadline = time.perf_counter() + seconds
    ok, errors, times, lock = [0], [], [], threading.Lock()

    def run(offset: int):
        client = Client(url)
        i = offset
        while time.perf_counter() < deadline:
            q = questions[i % len(questions)]
            i += 1
            try:
                elapsed = client.ask(q)
            except (OSError, http.client.HTTPException, ValueError) as e:
                with lock:
                    errors.append(f"{type(e).__name__}: {e}"[:200])
                client.close()
                client = Client(url)
                continue
            with lock:
                ok[0] += 1
                times.append(elapsed)
        client.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k * len(questions) // clients,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"clients": clients, "seconds": wall, "requests": ok[0], "errors": len(errors),
            "error_samples": sorted(set(errors))[:5], "requests_per_s": ok[0] / wall, "times": times,
            "latency_under_load_ms": percentiles_ms(times) if times else None}


def machine() -> dict:
    return {"cpus": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()]}


class PlainOnnx:
    """The floor's ONNX candidate: a plain `torch.onnx.export` of the installed model (eager attention, one text a run,
    onnxruntime's default graph optimizations, one thread): the export the server used before packing."""

    def __init__(self, model: str, folder: Path):
        import onnxruntime as ort
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModel

        from kg.search import resolve_model_path

        source = Path(resolve_model_path(model))
        bert = AutoModel.from_pretrained(str(source), attn_implementation="eager", local_files_only=True).eval()
        sample = torch.tensor([[101, 2054, 2003, 102]])
        names = ["input_ids", "attention_mask", "token_type_ids"]
        class LastHidden(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(LastHidden(bert), (sample, torch.ones_like(sample), torch.zeros_like(sample)),
                              str(folder / "plain.onnx"), input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names}, opset_version=17,
                              dynamo=False)
        self._tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(256)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self._session = ort.InferenceSession(str(folder / "plain.onnx"), options, providers=["CPUExecutionProvider"])

    def embed(self, text: str) -> np.ndarray:
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                          "token_type_ids": np.zeros_like(ids)})[0][0].mean(axis=0)
        return hidden / np.linalg.norm(hidden)


def floor_encoders(folder: Path) -> dict:
    """The encode floor's candidates, one thread each: stock sentence-transformers and a plain ONNX export."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # torch's idle threads must not spin beside the server
    import torch

    torch.set_num_threads(1)
    model = Settings().embedding_model
    return {"sentence-transformers": SentenceTransformerEmbedder(model), "onnx export": PlainOnnx(model, folder)}


def measure(args, encoders: dict | None = None) -> dict:
    """The issue-11 table: one server for start-up, memory and latency, one with --workers 2 for throughput.
    `encoders`: the floor's, from floor_encoders(), when several runs share them."""
    questions = load_questions(args.questions)
    if encoders is None:
        scratch = tempfile.TemporaryDirectory(prefix="hcc-kg-floor-")
        encoders = floor_encoders(Path(scratch.name))
    out = {"questions": len(questions), "rounds": args.rounds, "load_before": machine()}
    with spawned_server(args.build_dir) as (url, pid, startup_s):
        out["startup_s"] = startup_s
        out["ask_ms"], out["encode_ms"] = latency(url, questions, args.rounds, encoders)
        out["memory_after_warmup"] = memory(pid)
        out["torch_loaded"] = torch_loaded(pid)
    out["floor_ms"] = min(e["p50"] for e in out["encode_ms"].values())
    out["ratio_ask_to_floor_p50"] = out["ask_ms"]["p50"] / out["floor_ms"]
    cores = min(2, os.cpu_count() or 1)
    with spawned_server(args.build_dir, "--workers", str(args.workers), "--client-limit", "0") as (url, pid, _):
        throughput(url, questions, args.clients, 3)  # warm-up
        floor_s = encode_times(encoders, questions)
        windows = []
        for _ in range(WINDOWS):
            windows.append(throughput(url, questions, args.clients, args.seconds / WINDOWS))
            for name, times in encode_times(encoders, questions).items():
                floor_s[name] += times
        out["throughput"] = merged(windows)
        workers = [k for k in children(pid) if "resource_tracker" not in _cmdline(k)]
        out["worker_rss_mib"] = [rss_kib(k) / 1024 for k in workers]
    # the machine's speed drifts within a minute: capacity from the floor measured between the run's windows
    out["throughput_floor_ms"] = min(percentiles_ms(times)["p50"] for times in floor_s.values())
    out["capacity_per_s"] = cores * 1000 / out["throughput_floor_ms"]
    out["throughput_share"] = out["throughput"]["requests_per_s"] / out["capacity_per_s"]
    out["load_after"] = machine()
    out["targets_met"] = {
        "start-up <= 3 s": out["startup_s"] <= 3.0, "torch not loaded": not out["torch_loaded"],
        "RSS <= 400 MB": out["memory_after_warmup"]["server_rss_mib"] <= 400
        and all(r <= 400 for r in out["worker_rss_mib"]),
        "p50 <= 1.5x floor": out["ratio_ask_to_floor_p50"] <= MAX_RATIO,
        "throughput >= 0.6": out["throughput_share"] >= 0.6, "0 errors": out["throughput"]["errors"] == 0}
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def table(r: dict) -> str:
    a, t = r["ask_ms"], r["throughput"]
    lines = [f"hcc-kg /ask benchmark: {r['questions']} questions x {r['rounds']} rounds (+1 warm-up), loopback",
             f"  machine: {r['load_before']['cpus']} CPUs, load average before "
             f"{' '.join(map(str, r['load_before']['loadavg']))}, after {' '.join(map(str, r['load_after']['loadavg']))}",
             "", f"  {'':<40}{'p50':>9}{'p95':>9}{'mean':>9}  (ms)"]
    for name, e in r["encode_ms"].items():
        lines.append(f"  {'encode, 1 thread: ' + name:<40}{e['p50']:>9.2f}{e['p95']:>9.2f}{e['mean']:>9.2f}")
    lines.append(f"  {'/ask, one client':<40}{a['p50']:>9.2f}{a['p95']:>9.2f}{a['mean']:>9.2f}")
    if t["latency_under_load_ms"]:
        s = t["latency_under_load_ms"]
        lines.append(f"  {'/ask, ' + str(t['clients']) + ' clients, --workers 2':<40}{s['p50']:>9.2f}{s['p95']:>9.2f}"
                     f"{s['mean']:>9.2f}")
    m = r["memory_after_warmup"]
    lines += ["",
              f"  encode floor (the faster, p50)          {r['floor_ms']:.2f} ms",
              f"  start-up, spawn to /healthz 200         {r['startup_s']:.2f} s",
              f"  torch loaded while serving              {'yes' if r['torch_loaded'] else 'no'}",
              f"  RSS after warm-up                       {m['server_rss_mib']:.0f} MiB (with its {m['children']} "
              f"SPARQL processes {m['with_children_rss_mib']:.0f} MiB); --workers 2: "
              + ", ".join(f"{x:.0f}" for x in r["worker_rss_mib"]) + " MiB a worker",
              f"  /ask p50 : floor                        {r['ratio_ask_to_floor_p50']:.2f}x  (target <= {MAX_RATIO:g})",
              f"  throughput                              {t['requests_per_s']:.1f} /s = {r['throughput_share']:.2f} of "
              f"{r['capacity_per_s']:.0f} /s (2 cores encoding at the floor, {r['throughput_floor_ms']:.2f} ms between the "
              f"run's windows); {t['requests']} requests, "
              f"{t['errors']} errors"]
    lines += [f"    error: {x}" for x in t["error_samples"]]
    lines.append("  targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in r["targets_met"].items()))
    return "\n".join(lines)


def arguments(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=Path, default=ROOT.parent / "shared" / "eval" / "questions-dev.json")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds over the questions, after one warm-up")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients for the throughput run")
    p.add_argument("--workers", type=int, default=2, help="server processes for the throughput run")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the throughput run")
    p.add_argument("--build-dir", type=Path, help="graph to serve (default: ./build)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = arguments(argv)
    result = measure(args)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0 if all(result["targets_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
