"""Label questions with the kinds of fact their gold answers hold, as examples for the relation classifier.

  .venv/bin/python scripts/label_questions.py tests/data/questions-train-a.json ... > ontology/lexicon/questions.yaml

A question's kinds are the relations of the facts whose statement or quotes hold one of its gold phrases (at most
four, each with at least a third of the most frequent one's facts), plus `eligibility` for a patient vignette. The output is data: review it, correct it, extend it.
Never label the set you will report as the estimate.
"""
import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.catalog import Catalog  # noqa: E402
from kg.config import Settings  # noqa: E402
from kg.evaluation import load_questions, norm  # noqa: E402
from kg.lexicon import ELIGIBILITY  # noqa: E402
from kg.store import EmbeddedGraphStore  # noqa: E402
from kg.vocab import local_name  # noqa: E402

MAX_KINDS = 4


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("questions", nargs="+")
    args = ap.parse_args()
    settings = Settings()
    catalog = Catalog(EmbeddedGraphStore.from_build(settings.build_dir), settings.corpus_dir)
    texts = {f.iri: (local_name(f.predicate), norm(f.statement + " " + " ".join(e.quote for e in f.evidence)))
             for f in catalog.facts.values()}
    out, seen = [], set()
    for path in args.questions:
        for q in load_questions(Path(path)):
            key = " ".join(q["question"].lower().split())
            if not q["answerable"] or key in seen:
                continue
            seen.add(key)
            gold = [norm(alt) for group in q.get("must_include", []) for alt in group]
            counts = Counter(rel for rel, text in texts.values() if any(g in text for g in gold))
            top = max(counts.values(), default=0)
            kinds = [k for k, n in counts.most_common(MAX_KINDS) if n * 3 >= top]
            if q.get("type") == "vignette":
                kinds = [ELIGIBILITY] + kinds[:MAX_KINDS - 1]
            if kinds:
                out.append({"question": q["question"], "kinds": kinds})
    print("# Questions as users typed them, with the kinds of fact their answers hold: examples for the relation\n"
          "# classifier beside relations.yaml. Labelled by scripts/label_questions.py from the gold answers of\n"
          f"# {', '.join(Path(p).name for p in args.questions)}; review and extend freely.")
    print(yaml.safe_dump(out, allow_unicode=True, sort_keys=False, width=120))


if __name__ == "__main__":
    main()
