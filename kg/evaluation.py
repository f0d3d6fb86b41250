"""Scoring answers against gold question sets, the way ../shared/eval/score.py does it over HTTP.

A question's response text is its answer plus every fact's statement and quotes, NFKC-normalised, lower case,
white space collapsed; a gold group is matched when any of its alternatives occurs in it. Used by the fitting
script (scripts/fit_ranker.py) and the tests, so that both measure what the evaluation measures.
"""
import json
import re
import statistics
import unicodedata
from pathlib import Path


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip().lower()


def response_text(result: dict) -> str:
    parts = [result.get("answer") or ""]
    for fact in result.get("facts") or []:
        parts.append(fact.get("statement") or "")
        parts += [ev.get("quote") or "" for ev in fact.get("evidence") or []]
    return norm(" \n ".join(parts))


def load_questions(path: Path) -> list[dict]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def score_one(q: dict, result: dict) -> dict:
    text = response_text(result)
    hits = [any(norm(alt) in text for alt in group) for group in q.get("must_include", [])]
    bad = [g[0] for g in q.get("must_not_include", []) if any(norm(alt) in text for alt in g)]
    return {"id": q.get("id"), "answerable": q["answerable"], "answered": bool(result.get("answered")),
            "recall": sum(hits) / len(hits) if hits else 1.0,
            "missing": [g[0] for g, h in zip(q.get("must_include", []), hits) if not h], "violations": bad,
            "facts": len(result.get("facts") or [])}


def summarise(rows: list[dict]) -> dict:
    ans = [r for r in rows if r["answerable"]]
    answered = [r for r in ans if r["answered"]]
    return {"questions": len(rows),
            "recall": round(statistics.mean(r["recall"] for r in ans), 3) if ans else None,
            "exact": round(sum(1 for r in ans if not r["missing"] and not r["violations"]) / len(ans), 3)
            if ans else None,
            "violations": round(sum(1 for r in ans if r["violations"]) / len(ans), 3) if ans else None,
            "abstain": round(sum(1 for r in rows if r["answered"] == r["answerable"]) / len(rows), 3) if rows else None,
            "facts_mean": round(statistics.mean(r["facts"] for r in answered), 1) if answered else None}
