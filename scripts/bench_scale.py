"""How the costs grow with the graph: build time, start-up, RSS, /ask p50 and SPARQL lookup latency at 1x, 10x,
100x the curated facts, on synthetic corpora made from the real one in a temporary folder.

Copy k of the corpus is every document again under the id `<id>-x<k>`; copy k of the curated facts is every facts
file again with its document renamed and every concept it defines renamed (`<id>_x<k>`, label + " (copy k)"),
so each copy adds as many facts, quotes, passages and concepts as the original; the shared vocabulary and the
ontology's classes and modalities stay one, so the copies' facts hang on the same modalities (a modality has k
times the facts). Statements and passages repeat the original texts, so the embedding cache serves them: build
time here under-counts embedding new text (about 5 ms a text with sentence-transformers on these cores).

    .venv/bin/python scripts/bench_scale.py --scales 1 10 100 [--json scale.json] [--keep DIR]
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ask import memory, percentiles_ms, spawned_server  # noqa: E402

from kg.config import ROOT  # noqa: E402

SHARED = "shared-vocabulary.yaml"
PROSE = {"quote", "quotes", "statement", "label", "alt", "note", "definition", "sentence", "text", "title", "comment"}
LOOKUP = ("PREFIX hcc: <https://w3id.org/hcc-kg/> SELECT ?p ?o WHERE { hcc:TACE ?p ?o } LIMIT 100")


def synthesize(scale: int, out: Path):
    """corpus/ and ontology/ under `out` holding `scale` copies of the real ones."""
    shutil.copytree(ROOT / "ontology", out / "ontology")
    shutil.copytree(ROOT / "corpus", out / "corpus")
    manifest = json.loads((ROOT / "corpus" / "manifest.json").read_text(encoding="utf-8"))
    files = [p for p in sorted((ROOT / "ontology" / "facts").glob("*.yaml")) if p.name != SHARED]
    defined = set()
    for p in files:
        defined |= {c["id"] for c in (yaml.safe_load(p.read_text(encoding="utf-8")).get("concepts") or [])}
    docs = list(manifest["documents"])
    for k in range(2, scale + 1):
        for d in docs:
            shutil.copyfile(ROOT / "corpus" / f"{d['id']}.txt", out / "corpus" / f"{d['id']}-x{k}.txt")
            manifest["documents"].append({**d, "id": f"{d['id']}-x{k}", "title": f"{d['title']} (copy {k})"})
        for p in files:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
            data["document"] = f"{data['document']}-x{k}"
            for c in data.get("concepts") or []:
                c["label"] = f"{c['label']} (copy {k})"
                c.pop("alt", None)  # alternative labels would name two concepts alike
            text = yaml.safe_dump(renamed(data, defined, f"_x{k}"), allow_unicode=True, sort_keys=False)
            (out / "ontology" / "facts" / f"{p.stem}-x{k}.yaml").write_text(text, encoding="utf-8")
    (out / "corpus" / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def renamed(node, ids: set[str], suffix: str, key: str | None = None):
    """`node` with every reference to a concept of `ids` renamed; prose (quotes, statements, labels) untouched."""
    if isinstance(node, dict):
        return {k: renamed(v, ids, suffix, k) for k, v in node.items()}
    if isinstance(node, list):
        return [renamed(v, ids, suffix, key) for v in node]
    if isinstance(node, str) and key not in PROSE and node in ids:
        return node + suffix
    return node


def measure(scale: int, work: Path, questions: list[str], rounds: int) -> dict:
    synthesize(scale, work)
    build_dir = work / "build"
    if (ROOT / "build" / "embedding-cache.npz").exists():  # texts already embedded need not be again
        build_dir.mkdir()
        shutil.copyfile(ROOT / "build" / "embedding-cache.npz", build_dir / "embedding-cache.npz")
    cli = [str(Path(sys.executable).with_name("hcc-kg")), "--corpus-dir", str(work / "corpus"),
           "--ontology-dir", str(work / "ontology"), "--build-dir", str(build_dir)]
    t0 = time.perf_counter()
    subprocess.run(cli + ["build", "--quiet"], check=True, stdout=subprocess.DEVNULL)
    build_s = time.perf_counter() - t0
    report = json.loads((build_dir / "report.json").read_text(encoding="utf-8"))
    out = {"scale": scale, "facts": sum(report["facts_per_relation"].values()),
           "triples": sum(report["triples_per_graph"].values()), "build_s": build_s}
    with spawned_server(build_dir) as (url, pid, startup_s):
        out["startup_s"] = startup_s
        with httpx.Client(base_url=url, timeout=120) as client:
            ask_s, sparql_s = [], []
            for i in range(rounds + 1):
                for q in questions:
                    t = time.perf_counter()
                    client.post("/ask", json={"question": q}).raise_for_status()
                    if i:
                        ask_s.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    client.get("/sparql", params={"query": LOOKUP}).raise_for_status()
                    if i:
                        sparql_s.append(time.perf_counter() - t)
            facts = [len(client.post("/ask", json={"question": q}).json()["facts"]) for q in questions]
        out.update(ask_ms=percentiles_ms(ask_s), sparql_ms=percentiles_ms(sparql_s), memory=memory(pid),
                   facts_per_answer=statistics.mean(facts))
    return out


def table(rows: list[dict]) -> str:
    lines = [f"{'scale':>6}{'facts':>8}{'triples':>10}{'build s':>9}{'start s':>9}{'RSS MiB':>9}{'+SPARQL':>9}"
             f"{'ask p50':>9}{'ask p95':>9}{'sparql p50':>11}{'facts/ans':>10}"]
    for r in rows:
        m = r["memory"]
        lines.append(f"{r['scale']:>5}x{r['facts']:>8}{r['triples']:>10}{r['build_s']:>9.0f}{r['startup_s']:>9.2f}"
                     f"{m['server_rss_mib']:>9.0f}{m['with_children_rss_mib']:>9.0f}{r['ask_ms']['p50']:>9.1f}"
                     f"{r['ask_ms']['p95']:>9.1f}{r['sparql_ms']['p50']:>11.1f}{r['facts_per_answer']:>10.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    p.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "questions-dev.json")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument("--keep", type=Path, help="build the synthetic corpora under DIR and keep them")
    args = p.parse_args(argv)
    questions = [q["question"] for q in json.loads(args.questions.read_text(encoding="utf-8"))]
    rows = []
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix=f"hcc-kg-x{scale}-") as tmp:
            work = (args.keep / f"x{scale}") if args.keep else Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            rows.append(measure(scale, work, questions, args.rounds))
            print(table(rows[-1:]) if len(rows) > 1 else table(rows), flush=True)
    print("\n" + table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
