"""How likely a candidate fact answers a question part, and which facts make the answer.

A logistic model over a few features of (part, fact): closeness in meaning, the classifier's probability for the
fact's relation, how the fact is tied to what the part names, word overlap, a quoted phrase, a quantity asked and
given. Its weights, the threshold, the caps and the list and disjointness settings are fitted by scripts/fit_ranker.py on question
sets with gold answers (never on the set used to estimate the result) and read from ranker.json beside this file.
"""
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .candidates import LINK_BITS, LINK_KINDS, Candidate, FactIndex, Named
from .quantities import QuantityAsk, answers

WEIGHTS_FILE = Path(__file__).with_name("ranker.json")
RULE_RELATIONS = {"hasIndication", "hasContraindication", "hasRelativeContraindication"}
# The fact relations, each a feature of its own: how often a kind of fact answers, whatever the question.
RELATIONS = ("treats", "hasIndication", "hasContraindication", "hasRelativeContraindication", "hasMechanism",
             "hasAdverseEffect", "hasLimitation", "hasAdvantage", "hasOutcome", "usesDrug", "usesEmbolicAgent",
             "guidedBy", "hasRoute", "hasProcedureStep", "hasTechnicalRequirement", "evaluatedBy",
             "hasResponseCategory", "hasFollowUp", "hasRecommendation", "hasPrognosticFactor", "hasComparison",
             "combinedWith", "hasFinding", "hasSubtype", "hasDefinition")
FEATURES = ["bias", "cos", "cos_gap", "cos_rank", "p_kind", "p_gap", "p_top", *(f"link_{k}" for k in LINK_KINDS),
            "semantic_only", "lex", "q_given", "q_missing", "names_two", "p_x_own", "p_x_class",
            "p_eligibility", "p_x_cos", "lex_x_own", "cos_passage", "cos_object", "cos_passage_gap", "p_whole",
            "named_share", "best_of_kind"]


@dataclass
class PartView:
    """What the features need of one part."""
    cosines: np.ndarray          # cosine to every fact, by FactInfo.pos
    items: np.ndarray            # cosine to every item of the vector index (passages, concepts, facts)
    kinds: dict[str, float]      # P(kind | part)
    words: set[str]              # the part's content stems, minus the names of what it names
    idf: dict[str, float]
    phrases: tuple[str, ...]     # what it puts in quotes
    quantity: QuantityAsk | None
    named: Named
    whole: dict[str, float] = field(default_factory=dict)  # P(kind | whole question), for a part of several


def features(cands: list[Candidate], view: PartView, facts: FactIndex) -> np.ndarray:
    """One row per candidate, one column per FEATURES name (built column by column from `facts`' indexes: a part
    has hundreds; every value is the one computed a candidate at a time, in the same precision and order)."""
    n = len(cands)
    x = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if not n:
        return x
    col = {f: i for i, f in enumerate(FEATURES)}
    infos = [c.info for c in cands]
    rels = [i.relation for i in infos]
    names = sorted(set(rels))
    index_of = {r: k for k, r in enumerate(names)}
    rel = np.array([index_of[r] for r in rels])
    pos = np.fromiter((i.pos for i in infos), dtype=np.intp, count=n)
    cos = view.cosines[pos]
    ranks = np.empty(n)
    ranks[np.argsort(-cos)] = np.arange(n)
    top_kind = max(view.kinds, key=view.kinds.get) if view.kinds else None
    p_max = max(view.kinds.values(), default=1.0)
    log_max = math.log(p_max + 1e-4)
    kinds_whole = view.whole or view.kinds
    by_rel = np.array([[view.kinds.get(r, 0.0), math.log(view.kinds.get(r, 0.0) + 1e-4) - log_max,
                        float(r == top_kind), float(r in RULE_RELATIONS), kinds_whole.get(r, 0.0)] for r in names])
    p = by_rel[rel, 0]
    masks = np.fromiter((c.mask for c in cands), dtype=np.int64, count=n)
    for k, bit in LINK_BITS.items():
        x[:, col[f"link_{k}"]] = (masks & bit) != 0
    link = {k: x[:, col[f"link_{k}"]] for k in LINK_KINDS}
    own = np.maximum(link["own"], link["family"])
    x[:, col["bias"]] = 1.0
    x[:, col["cos"]] = cos
    x[:, col["cos_gap"]] = cos - cos.max()
    x[:, col["cos_rank"]] = 1.0 / (1.0 + ranks)
    x[:, col["p_kind"]] = p
    x[:, col["p_gap"]] = by_rel[rel, 1]
    x[:, col["p_top"]] = by_rel[rel, 2]
    x[:, col["semantic_only"]] = masks == LINK_BITS["semantic"]
    word_mass = sum(view.idf.get(w, 1.0) for w in view.words)
    if word_mass:
        x[:, col["lex"]] = _lex(view, facts, infos, pos, word_mass)
    if view.quantity:
        given = np.array([float(gives(c, view.quantity)) for c in cands])
        x[:, col["q_given"]] = given
        x[:, col["q_missing"]] = 1.0 - given
    modalities = set(view.named.modalities) | set(view.named.family)
    if len(modalities) >= 2:
        x[:, col["names_two"]] = _naming(facts, modalities)[pos] >= 2
    x[:, col["p_x_own"]] = p * own
    x[:, col["p_x_class"]] = p * np.maximum(link["inherited"], link["class"])
    x[:, col["p_eligibility"]] = view.kinds.get("eligibility", 0.0) * by_rel[rel, 3]
    x[:, col["p_x_cos"]] = p.astype(cos.dtype) * cos  # in the cosines' precision, as the fitted weights saw it
    x[:, col["lex_x_own"]] = x[:, col["lex"]] * own
    x[:, col["cos_passage"]] = facts.passage_cosines(view.items, pos)
    x[:, col["cos_object"]] = facts.object_cosines(view.items, pos)
    x[:, col["p_whole"]] = by_rel[rel, 4]
    named = set(view.named.all)
    if named:
        x[:, col["named_share"]] = _naming(facts, named)[pos] / len(named)
    x[:, col["cos_passage_gap"]] = x[:, col["cos_passage"]] - x[:, col["cos_passage"]].max()
    best = np.full(len(names), -1.0, dtype=cos.dtype)
    np.maximum.at(best, rel, cos)
    x[:, col["best_of_kind"]] = cos >= best[rel]
    return x


def _lex(view: PartView, facts: FactIndex, infos, pos: np.ndarray, word_mass: float) -> np.ndarray:
    """The idf mass of the part's words each fact holds, as a share. Summed word by word over the index; a sum of
    three or more terms is taken again in the order of the set intersection, as the ranker was fitted on."""
    count, total = np.zeros(len(facts.order), dtype=np.intp), np.zeros(len(facts.order))
    for w in view.words:
        at = facts.with_word.get(w)
        if at is not None:
            count[at] += 1
            total[at] += view.idf.get(w, 1.0)
    lex = total[pos] / word_mass
    for k in np.flatnonzero(count[pos] >= 3):  # two terms add up the same in either order, three may not
        lex[k] = sum(view.idf.get(w, 1.0) for w in view.words & infos[k].words) / word_mass
    return lex


def _naming(facts: FactIndex, concepts: set[str]) -> np.ndarray:
    """How many of `concepts` each fact mentions."""
    count = np.zeros(len(facts.order), dtype=np.intp)
    for c in concepts:
        at = facts.mentioning.get(c)
        if at is not None:
            count[at] += 1
    return count


def gives(c: Candidate, ask: QuantityAsk) -> bool:
    """One of the fact's quotes states a quantity of the kind asked, about what was asked."""
    return ask.kind in c.info.gives and any(answers(ask, e.quote) for e in c.info.fact.evidence)


@dataclass
class Ranker:
    weights: np.ndarray
    threshold: float
    per_part: int
    total: int
    floor: float            # below this, a part's best fact does not answer it
    relative: float = 0.0   # a fact scoring under this share of its part's best fact does not join it
    list_min: int = 99      # a (subject, relation) group with this many facts chosen is a list: complete it
    list_p: float = 1.0     # ... when the part asks for that relation with at least this probability
    list_cap: int = 16      # ... up to this many facts
    disjoint_ratio: float = 0.0  # of two disjoint relations, drop the one asked for less than this times the other
    strict: float = 1.1     # a kind asked with this probability that the modality lacks: the sources do not say
    beside_patient: int = 6  # at most this many facts beside the assessment of a patient the question describes
    patient_p: float = 0.4   # two findings make a patient case when the question asks this much for rules
    patient_elig: float = 0.45  # one finding does when the question reads this much as a patient case
    fitted: dict = field(default_factory=dict)  # what it was fitted on, and how well

    SETTINGS = ("threshold", "per_part", "total", "floor", "relative", "list_min", "list_p", "list_cap",
                "disjoint_ratio", "strict", "beside_patient", "patient_p", "patient_elig")

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> "Ranker":
        data = json.loads(path.read_text(encoding="utf-8"))
        w = data["weights"]
        missing = [f for f in FEATURES if f not in w]
        if missing:
            raise RuntimeError(f"{path} lacks weights for {missing}: refit with scripts/fit_ranker.py")
        return cls(np.array([w[f] for f in FEATURES]), **{k: data[k] for k in cls.SETTINGS if k in data},
                   fitted=data.get("fitted", {}))

    def save(self, path: Path = WEIGHTS_FILE):
        data = {"weights": {f: round(float(v), 5) for f, v in zip(FEATURES, self.weights)},
                **{k: getattr(self, k) for k in self.SETTINGS}, "fitted": self.fitted}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    def scores(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ self.weights)))

    def select(self, parts: list[tuple[PartView, list[tuple[Candidate, float]]]],
               disjoint: dict[str, set[str]]) -> list[tuple[int, Candidate, float]]:
        """Each part's facts above the threshold (its best one alone when none passes but it clears the floor),
        the facts holding a phrase it quotes, its lists completed, of two disjoint relations the one it asks for;
        in part order, each fact once."""
        cap = self.per_part if len(parts) == 1 else min(self.per_part, max(2, math.ceil(self.total / len(parts))))
        chosen, seen = [], set()
        for i, (view, scored) in enumerate(parts):
            ranked = sorted(scored, key=lambda cs: -cs[1])
            bar = max(self.threshold, self.relative * ranked[0][1]) if ranked else 1.0
            keep = [cs for cs in ranked if cs[1] >= bar][:cap]
            if not keep and ranked and ranked[0][1] >= self.floor:
                keep = ranked[:1]
            keep += [cs for cs in ranked if "quoted" in cs[0].links and cs not in keep]
            keep = self._complete_lists(keep, ranked, view)
            keep = self._apart(keep, view, disjoint)
            for c, s in keep:
                if c.iri not in seen and len(chosen) < self.total + self.list_cap:
                    seen.add(c.iri)
                    chosen.append((i, c, s))
        return chosen

    def _complete_lists(self, keep, ranked, view: PartView):
        groups: dict[tuple[str, str], int] = {}
        for c, _ in keep:
            if c.links & {"own", "family", "inherited", "generic"}:  # lists of what the part names, not of the disease at large
                key = (c.info.fact.subject, c.info.relation)
                groups[key] = groups.get(key, 0) + 1
        for (subject, rel), n in groups.items():
            if n >= self.list_min and view.kinds.get(rel, 0.0) >= self.list_p:
                more = [cs for cs in ranked if cs[0].info.fact.subject == subject and cs[0].info.relation == rel
                        and cs not in keep]
                keep = keep + more[:max(0, self.list_cap - n)]
        return keep

    def _apart(self, keep, view: PartView, disjoint: dict[str, set[str]]):
        rels = {c.info.relation for c, _ in keep}
        drop = {d for r in rels for d in disjoint.get(r, ()) if d in rels
                and view.kinds.get(d, 0.0) < self.disjoint_ratio * view.kinds.get(r, 0.0)}
        return [cs for cs in keep if cs[0].info.relation not in drop]
