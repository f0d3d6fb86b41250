"""Measure the query engines the service could embed: plain rdflib vs pyoxigraph (the one in use).

Loads build/hcc-kg.nq into each and times the service's SPARQL templates with bound values (the same text on both),
reporting load time and per-query p50/p95. Usage: python scripts/bench_store.py [--build-dir build] [--rounds 20]
"""
import argparse
import statistics
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset

from kg.queries import template
from kg.store import bind
from kg.vocab import HCC, fact_iri

# The templates the service runs: the catalog's and the answerer's loads at start-up, and the per-answer query.
QUERIES = {
    "page_facts (every fact with its quotes)": ("page_facts", {}),
    "page_concepts (every label)": ("page_concepts", {}),
    "lexicon (labels, families, glosses, examples)": ("lexicon", {}),
    "assess_rules (criteria rules)": ("assess_rules", {"p": [str(HCC.hasIndication), str(HCC.hasContraindication),
                                                             str(HCC.hasRelativeContraindication),
                                                             str(HCC.hasRecommendation), str(HCC.hasComparison)],
                                                       "partP": [str(HCC.hasContraindication),
                                                                 str(HCC.hasRelativeContraindication)]}),
    "facts_by_iri (an answer's facts)": ("facts_by_iri", {"fact": [str(fact_iri("TACE", "hasContraindication", o))
                                                                   for o in ("TACE_CI_ChildPughC",
                                                                             "TACE_CI_Cachexia")]}),
}


def timed(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    nq = Path(args.build_dir) / "hcc-kg.nq"

    t = time.perf_counter()
    oxs = ox.Store()
    oxs.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    ox_load = time.perf_counter() - t
    t = time.perf_counter()
    rds = Dataset(default_union=True)
    rds.parse(nq, format="nquads")
    rd_load = time.perf_counter() - t
    print(f"load {nq}: pyoxigraph {ox_load * 1000:.0f} ms, rdflib {rd_load * 1000:.0f} ms "
          f"(ratio {rd_load / ox_load:.1f}x)")
    print(f"{'query':<42} {'pyoxigraph p50/p95 ms':>22} {'rdflib p50/p95 ms':>20} {'ratio':>7}")
    for name, (tpl, values) in QUERIES.items():
        query = bind(template(tpl), **values) if values else template(tpl)
        n_ox = len(list(oxs.query(query, use_default_graph_as_union=True)))
        n_rd = len(list(rds.query(query)))
        a = timed(lambda: list(oxs.query(query, use_default_graph_as_union=True)), args.rounds)
        b = timed(lambda: list(rds.query(query)), max(3, args.rounds // 4))
        pa, pb = statistics.median(a), statistics.median(b)
        q95 = lambda xs: sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.95))]  # noqa: E731
        print(f"{name:<42} {pa:>10.2f} / {q95(a):<9.2f} {pb:>9.1f} / {q95(b):<8.1f} {pb / pa:>6.0f}x"
              + ("" if n_ox == n_rd else f"  (rows differ: {n_ox} vs {n_rd})"))


if __name__ == "__main__":
    main()
