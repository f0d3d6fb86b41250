"""Chat front ends' latency: a chat completion against /ask for the same question, and the time to the first
streamed chunk, over loopback against a running server. Requests alternate question by question, so that load
from other processes weighs on each alike. Prints a multi-turn transcript with --transcript.

    .venv/bin/python scripts/bench_chat.py --url http://127.0.0.1:8000 [--rounds 3] [--transcript]
"""
import argparse
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ask import percentiles_ms  # noqa: E402

from kg.config import ROOT  # noqa: E402

CONVERSATION = ["Is RFA suitable for a patient with Child-Pugh A cirrhosis and a single 3 cm tumour?",
                "what about for a 6 cm tumour?", "What are the contraindications of microwave ablation?",
                "and for RFA?", "and its side effects?"]


def p50_ms(seconds: list[float]) -> float:
    return percentiles_ms(seconds)["p50"]


def first_chunk(client: httpx.Client, question: str) -> tuple[float, float]:
    """(seconds to the first content chunk, seconds to [DONE]) of a streamed completion."""
    t0, first = time.perf_counter(), None
    body = {"model": "hcc-kg", "stream": True, "messages": [{"role": "user", "content": question}]}
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        for line in r.iter_lines():
            if first is None and line.startswith("data: {") and '"content"' in line:
                first = time.perf_counter() - t0
            if line == "data: [DONE]":
                break
    return first, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--questions", default=str(ROOT / "tests" / "data" / "questions-dev.json"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--transcript", action="store_true", help="also print a multi-turn conversation")
    args = ap.parse_args()
    questions = [q["question"] for q in json.loads(Path(args.questions).read_text(encoding="utf-8"))]
    ask, chat, ttfc, stream, same = [], [], [], [], 0
    with httpx.Client(base_url=args.url, timeout=60) as client:
        for q in questions[:5]:  # warm-up
            client.post("/ask", json={"question": q})
        for _ in range(args.rounds):
            for q in questions:
                t0 = time.perf_counter()
                a = client.post("/ask", json={"question": q}).json()
                ask.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                c = client.post("/v1/chat/completions", json={"model": "hcc-kg", "messages": [
                    {"role": "user", "content": q}]}).json()
                chat.append(time.perf_counter() - t0)
                same += [f["iri"] for f in a["facts"]] == [f["iri"] for f in c["hcc_kg"]["facts"]]
                first, whole = first_chunk(client, q)
                ttfc.append(first)
                stream.append(whole)
        n = len(ask)
        print(f"{len(questions)} questions x {args.rounds} rounds, one client, loopback")
        print(f"/ask p50                      {p50_ms(ask):7.1f} ms")
        print(f"chat completion p50           {p50_ms(chat):7.1f} ms  ({p50_ms(chat) / p50_ms(ask):.2f}x /ask)")
        print(f"streamed: first chunk p50     {p50_ms(ttfc):7.1f} ms  ({p50_ms(ttfc) / p50_ms(ask):.2f}x /ask)")
        print(f"streamed: [DONE] p50          {p50_ms(stream):7.1f} ms")
        print(f"same facts as /ask            {same}/{n}")
        if args.transcript:
            messages = []
            for u in CONVERSATION:
                messages.append({"role": "user", "content": u})
                r = client.post("/v1/chat/completions", json={"model": "hcc-kg", "messages": messages}).json()
                text = r["choices"][0]["message"]["content"]
                print(f"\n> user: {u}\n  (asked as: {r['hcc_kg']['question']})\n")
                print("\n".join("  " + line for line in text.split("\n**Sources**")[0].strip().splitlines()))
                messages.append({"role": "assistant", "content": text})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
