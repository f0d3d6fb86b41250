"""Fit the answer ranker (kg/qa/ranker.json) on question sets with gold answers.

  .venv/bin/python scripts/fit_ranker.py tests/data/questions-train-a.json tests/data/questions-train-b.json ...

1. Every question is analysed once (links, parts, kinds, candidates, features) on the built graph. Questions that
   are also classifier examples (ontology/lexicon/questions.yaml) get the kinds of a classifier trained without
   them (5 folds), so the ranker learns how far to trust the classifier on questions it has not seen.
2. A candidate is a positive when its statement or quotes hold one of the question's gold phrases; logistic
   regression (scikit-learn) learns the feature weights, its regularisation chosen by cross-validation with the
   questions kept whole in their folds.
3. The selection settings (threshold, caps, floor, list completion, disjoint relations) are chosen by coordinate
   ascent on the same training questions, scoring whole answers as the evaluation does (recall + exact/2 +
   abstain/2 - violations/2, each set weighing the same), with every set's facts_mean <= --max-facts.
With --cv it also refits without each fifth of the questions and answers that fifth, per set: the figures to
expect on questions not fitted on. Never pass the set you will report as the estimate: it must stay unseen.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.build import load_inputs  # noqa: E402
from kg.config import Settings  # noqa: E402
from kg.evaluation import load_questions, norm, score_one, summarise  # noqa: E402
from kg.qa.answerer import Answerer  # noqa: E402
from kg.qa.classifier import RelationClassifier  # noqa: E402
from kg.qa.ranker import FEATURES, WEIGHTS_FILE, Ranker, features  # noqa: E402
from kg.search import CACHE, embed_with_cache  # noqa: E402

C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
# Selection settings and the values tried for each, by coordinate ascent from the first value of each.
GRID = {"threshold": (0.1, 0.04, 0.06, 0.08, 0.12, 0.15, 0.2, 0.25, 0.3),
        "per_part": (6, 3, 4, 5, 8, 10), "total": (12, 8, 10, 14),
        "floor": (0.05, 0.0, 0.02, 0.1, 0.2), "relative": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6),
        "list_min": (3, 2, 4, 99), "list_p": (0.3, 0.2, 0.4, 0.5, 0.7),
        "list_cap": (16, 10, 12, 20), "disjoint_ratio": (0.0, 0.2, 0.4, 0.7), "strict": (1.1, 0.4, 0.5, 0.6, 0.7, 0.8),
        "beside_patient": (6, 0, 2, 4, 8, 12), "patient_p": (0.4, 0.2, 0.3, 0.5, 0.6),
        "patient_elig": (0.45, 0.25, 0.35, 0.55, 0.65)}
SWEEPS = 3


def labelled(questions: list[dict], analyses) -> list:
    """Per candidate: (question index, features, label)."""
    rows = []
    for qi, (q, a) in enumerate(zip(questions, analyses)):
        if not q["answerable"] or a.refusal:
            continue
        gold = [norm(alt) for group in q.get("must_include", []) for alt in group]
        for pa in a.parts:
            for c, x in zip(pa.candidates, pa.x):
                text = norm(c.info.fact.statement + " " + " ".join(e.quote for e in c.info.fact.evidence))
                rows.append((qi, x, float(any(g in text for g in gold))))
    return rows


def out_of_fold_kinds(answerer: Answerer, settings: Settings, questions: list[dict], analyses, folds: int = 5):
    """Replace the kinds of every question the classifier was trained on by those of a classifier trained
    without it, and recompute the features."""
    lexicon = load_inputs(settings)[3]
    cues = {k.name: k.cues for k in lexicon.kinds.values()}
    examples = lexicon.training_examples()
    key = lambda s: " ".join(s.lower().split())  # noqa: E731
    trained = {key(q) for q, _ in lexicon.questions}
    inside = [i for i, q in enumerate(questions) if key(q["question"]) in trained]
    gloss = answerer.wording.with_clinical_words  # as the build embeds the examples
    embed = lambda texts: embed_with_cache(answerer.embedder, [gloss(x) for x in texts],  # noqa: E731
                                           settings.build_dir / CACHE)
    for fold in range(folds):
        held = [i for n, i in enumerate(inside) if n % folds == fold]
        held_keys = {key(questions[i]["question"]) for i in held}
        model = RelationClassifier.train([e for e in examples if key(e[0]) not in held_keys], cues, embed,
                                         c_grid=(answerer.classifier.c,))
        for i in held:
            whole = model.predict(analyses[i].vector, analyses[i].question)
            for pa in analyses[i].parts:
                pa.view.kinds = model.predict(pa.vector, pa.text)
                pa.view.whole = whole
                pa.x = features(pa.candidates, pa.view, answerer.facts)
    return len(inside)


def fit_weights(rows, c_grid=C_GRID) -> tuple[np.ndarray, float, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    groups = np.array([r[0] for r in rows])
    x = np.stack([r[1] for r in rows])
    y = np.array([r[2] for r in rows])
    best = (c_grid[0], float("nan"))
    for c in c_grid if len(c_grid) > 1 else ():
        losses = []
        for train, test in GroupKFold(n_splits=5).split(x, y, groups):
            m = LogisticRegression(C=c, fit_intercept=False, max_iter=5000).fit(x[train], y[train])
            p = np.clip(m.predict_proba(x[test])[:, 1], 1e-6, 1 - 1e-6)
            losses.append(-np.mean(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p)))
        if not best[1] <= np.mean(losses):
            best = (c, float(np.mean(losses)))
    model = LogisticRegression(C=best[0], fit_intercept=False, max_iter=5000).fit(x, y)
    return model.coef_[0], best[0], best[1]


def search_settings(answerer, questions, analyses, sets, weights, max_facts: float, log=print) -> tuple[dict, dict]:
    """Coordinate ascent over GRID. Each set weighs the same (a set written like real users counts as much as a
    large easy one), and no set's mean answer may run over max_facts facts."""
    def objective(values: dict) -> tuple[float, dict]:
        s, per_set = evaluate(answerer, questions, analyses, Ranker(weights, **values), sets)
        if any(p["facts_mean"] is None or p["facts_mean"] > max_facts for p in per_set):
            return -1.0, s
        return float(np.mean([p["recall"] + 0.5 * p["exact"] + 0.5 * p["abstain"] - 0.5 * p["violations"]
                              for p in per_set])), s

    now = {k: v[0] for k, v in GRID.items()}
    best_key, best_s = objective(now)
    for _ in range(SWEEPS):
        for name, values in GRID.items():
            for v in values:
                trial = {**now, name: v}
                key, s = objective(trial)
                if key > best_key + 1e-9:
                    best_key, best_s, now = key, s, trial
        log(f"  sweep: {json.dumps(now)} -> {json.dumps(best_s)}")
    return now, best_s


def cross_validate(answerer, questions, analyses, sets, rows, c, max_facts, folds=5) -> list[dict]:
    """Weights and settings fitted without each fifth of the questions, that fifth answered: the figures a set
    not fitted on can expect (per set, out of fold)."""
    answers = [None] * len(questions)
    for fold in range(folds):
        held = {i for i in range(len(questions)) if i % folds == fold}
        keep = [i for i in range(len(questions)) if i not in held]
        weights, _, _ = fit_weights([r for r in rows if r[0] not in held], c_grid=(c,))
        values, _ = search_settings(answerer, [questions[i] for i in keep], [analyses[i] for i in keep],
                                    [sets[i] for i in keep], weights, max_facts, log=lambda *_: None)
        ranker = Ranker(weights, **values)
        for i in held:
            answers[i] = score_one(questions[i], answerer.answer(questions[i]["question"], analyses[i], ranker))
    return [summarise([r for r, s in zip(answers, sets) if s == k]) for k in sorted(set(sets))]


def evaluate(answerer: Answerer, questions, analyses, ranker: Ranker, sets: list[int]) -> tuple[dict, list[dict]]:
    """The figures over all questions, and per set (sets[i] is question i's set)."""
    rows = [score_one(q, answerer.answer(q["question"], a, ranker)) for q, a in zip(questions, analyses)]
    per_set = [summarise([r for r, s in zip(rows, sets) if s == k]) for k in sorted(set(sets))]
    return summarise(rows), per_set


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("questions", nargs="+", help="training question sets (JSON, the shared eval format)")
    ap.add_argument("--max-facts", type=float, default=9.0, help="bound on every set's facts_mean in the search")
    ap.add_argument("--out", default=str(WEIGHTS_FILE))
    ap.add_argument("--cv", action="store_true", help="also report 5-fold out-of-fold figures per set (slower)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    loaded = [load_questions(Path(path)) for path in args.questions]
    questions = [q for qs in loaded for q in qs]
    sets = [i for i, qs in enumerate(loaded) for _ in qs]
    placeholder = Ranker(np.zeros(len(FEATURES)), 0.5, 8, 12, 0.1)
    settings = Settings()
    answerer = Answerer.from_build(settings, ranker=placeholder)
    analyses = [answerer.analyse(q["question"]) for q in questions]
    n_inside = out_of_fold_kinds(answerer, settings, questions, analyses)
    print(f"{n_inside} of the questions are classifier examples: their kinds come from 5 folds without them")
    rows = labelled(questions, analyses)
    weights, c, loss = fit_weights(rows)
    print(f"{len(questions)} questions, {len(rows)} candidate rows, {sum(r[2] for r in rows):.0f} positives; "
          f"C={c}, cross-validated log-loss {loss:.4f} ({time.perf_counter() - t0:.0f} s)")
    for f, w in sorted(zip(FEATURES, weights), key=lambda fw: -abs(fw[1])):
        print(f"  {f:<16} {w:+.3f}")
    values, s = search_settings(answerer, questions, analyses, sets, weights, args.max_facts)
    best = (Ranker(weights, **values), s)
    cv = None
    if args.cv:
        cv = cross_validate(answerer, questions, analyses, sets, rows, c, args.max_facts)
        for path, fig in zip(args.questions, cv):
            print(f"  out of fold, {Path(path).name}: {json.dumps(fig)}")
    ranker, s = best
    ranker.fitted = {"sets": [Path(p).name for p in args.questions], "questions": len(questions),
                     "candidates": len(rows), "c": c, "cv_log_loss": round(loss, 4), "training_figures": s,
                     "max_facts": args.max_facts,
                     **({"out_of_fold": {Path(p).name: f for p, f in zip(args.questions, cv)}} if cv else {})}
    ranker.save(Path(args.out))
    print(f"settings {json.dumps({k: getattr(ranker, k) for k in Ranker.SETTINGS})}: on the training questions "
          f"{json.dumps(s)}")
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
