"""Which kinds of fact a question asks for: a distribution over question kinds, learned from the lexicon's examples.

Multinomial logistic regression over the question's sentence embedding (the same vector retrieval uses, so
classifying costs one matrix product) and one binary feature per kind: whether any of its cue wordings occurs
in the question. The cues are features, never the decision. Trained at build time (scikit-learn, deterministic:
lbfgs, folds fixed by seed), the regularisation chosen by cross-validation on the examples; served from
build/relation-classifier.npz with numpy alone.
"""
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_FILE = "relation-classifier.npz"
C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern | None:
    if not cues:
        return None
    alts = sorted((re.escape(c.lower()) for c in cues), key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(alts) + r")(?:s|es)?(?![\w])")  # "contraindications" too


@dataclass
class RelationClassifier:
    kinds: list[str]
    coef: np.ndarray        # (kinds, dim + kinds)
    intercept: np.ndarray   # (kinds,)
    cues: dict[str, tuple[str, ...]]
    cv_accuracy: float = 0.0
    c: float = 1.0

    def __post_init__(self):
        self._patterns = [_cue_pattern(tuple(self.cues.get(k, ()))) for k in self.kinds]

    def cue_hits(self, text: str) -> np.ndarray:
        low = " ".join(text.lower().split())
        return np.array([1.0 if p is not None and p.search(low) else 0.0 for p in self._patterns], dtype=np.float32)

    def features(self, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        return np.hstack([vectors, np.stack([self.cue_hits(t) for t in texts])])

    def predict(self, vector: np.ndarray, text: str) -> dict[str, float]:
        """P(kind | question) for every kind."""
        x = self.features(vector[None, :], [text])[0]
        z = self.coef @ x + self.intercept
        p = np.exp(z - z.max())
        p /= p.sum()
        return {k: float(v) for k, v in zip(self.kinds, p)}

    # ------------------------------------------------------------------------------------------ training
    @classmethod
    def train(cls, examples: list[tuple[str, str, float]], cues: dict[str, tuple[str, ...]], embed,
              c_grid: tuple[float, ...] = C_GRID) -> "RelationClassifier":
        """examples: (text, kind, weight); embed: texts -> unit vectors (the serving embedder); the
        regularisation is the best of c_grid by 5-fold cross-validation (a single value skips it)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        kinds = sorted({k for _, k, _ in examples})
        texts = [t for t, _, _ in examples]
        y = np.array([kinds.index(k) for _, k, _ in examples])
        w = np.array([wt for _, _, wt in examples])
        shell = cls(kinds, np.zeros((0, 0)), np.zeros(0), cues)
        unique = sorted(set(texts))
        vecs = dict(zip(unique, embed(unique)))
        x = shell.features(np.stack([vecs[t] for t in texts]), texts)
        folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(x, y))
        best_c, best_acc = c_grid[0], -1.0
        for c in c_grid if len(c_grid) > 1 else ():
            hits = total = 0.0
            for train, test in folds:
                m = LogisticRegression(C=c, max_iter=3000).fit(x[train], y[train], sample_weight=w[train])
                hits += float(np.sum(w[test] * (m.predict(x[test]) == y[test])))
                total += float(np.sum(w[test]))
            if hits / total > best_acc + 1e-9:
                best_c, best_acc = c, hits / total
        model = LogisticRegression(C=best_c, max_iter=3000).fit(x, y, sample_weight=w)
        log.info("relation classifier: %d kinds, %d examples, C=%s, 5-fold accuracy %.3f",
                 len(kinds), len(unique), best_c, best_acc)
        return cls(kinds, model.coef_.astype(np.float32), model.intercept_.astype(np.float32), cues,
                   float(best_acc), float(best_c))

    def save(self, build_dir: Path):
        np.savez(build_dir / MODEL_FILE, coef=self.coef, intercept=self.intercept,
                 meta=np.array(json.dumps({"kinds": self.kinds, "cues": {k: list(v) for k, v in self.cues.items()},
                                           "cv_accuracy": self.cv_accuracy, "c": self.c})))

    @classmethod
    def load(cls, build_dir: Path) -> "RelationClassifier":
        with np.load(build_dir / MODEL_FILE) as data:
            meta = json.loads(str(data["meta"]))
            return cls(meta["kinds"], data["coef"], data["intercept"],
                       {k: tuple(v) for k, v in meta["cues"].items()}, meta["cv_accuracy"], meta["c"])
