"""Score question sets in process (no server): the figures of ../shared/eval/score.py, faster to iterate with.

  .venv/bin/python scripts/score_questions.py ../shared/eval/questions-dev2.json [--failures]
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.config import Settings  # noqa: E402
from kg.evaluation import load_questions, score_one, summarise  # noqa: E402
from kg.qa.answerer import Answerer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("questions", nargs="+")
    ap.add_argument("--failures", action="store_true", help="print every question not fully right")
    args = ap.parse_args()
    answerer = Answerer.from_build(Settings())
    for path in args.questions:
        rows = []
        for q in load_questions(Path(path)):
            result = answerer.ask(q["question"])
            row = score_one(q, result)
            rows.append(row)
            wrong = row["answered"] != q["answerable"] or row["missing"] or row["violations"]
            if args.failures and wrong:
                print(f"{row['id']}: answered={row['answered']} (gold {q['answerable']}) {result.get('reason', '')}"
                      f" recall={row['recall']:.2f} missing={row['missing']} violations={row['violations']}"
                      f" facts={row['facts']} | {q['question']}")
        print(f"{Path(path).name}: {json.dumps(summarise(rows))}")


if __name__ == "__main__":
    main()
