"""Answer a clinical question from the graph: link entities, read the intent, fetch facts by SPARQL, compose.

The answer states only facts the graph holds, each with its quotes; when the graph holds no fact of the kind
asked, the answer says the sources do not say so (answered: false) instead of guessing.
"""
import logging
import re
import time
from dataclasses import dataclass, field

import numpy as np

from ..linking import LabelIndex, Mention
from ..search import Embedder, VectorIndex
from ..store import GraphStore
from ..vocab import HCC, local_name
from . import intent as qi
from .retrieval import FactHit, comparisons, facts_about, facts_by_iri, facts_mentioning, is_subclass, template

log = logging.getLogger(__name__)

# Similarity (cosine, all-MiniLM-L6-v2) below which a question is not about this corpus at all.
OFF_TOPIC_BELOW = 0.30
# When facts are picked by meaning alone: keep those within MARGIN of the best and above FLOOR.
SEMANTIC_FLOOR = 0.42
SEMANTIC_MARGIN = 0.10
SEMANTIC_MAX = 6
GENERIC = {str(HCC.HCC), str(HCC.MetastaticLiverCancer)}

RELATION_LABELS = {
    "hasIndication": "indications", "hasContraindication": "contraindications",
    "hasRelativeContraindication": "relative contraindications", "hasMechanism": "mechanism of action",
    "hasAdverseEffect": "adverse effects", "hasLimitation": "limitations", "hasAdvantage": "advantages",
    "usesDrug": "drugs", "usesEmbolicAgent": "embolic agents", "guidedBy": "image guidance", "hasRoute": "routes",
    "hasProcedureStep": "procedure", "hasTechnicalRequirement": "technical requirements",
    "evaluatedBy": "response evaluation", "hasResponseCategory": "response categories", "hasFollowUp": "follow-up",
    "hasComparison": "comparisons", "combinedWith": "combinations", "hasDefinition": "definition",
    "hasSubtype": "types", "hasOutcome": "outcomes", "hasRecommendation": "recommendations",
    "hasFinding": "findings", "hasPrognosticFactor": "factors affecting efficacy", "treats": "diseases treated",
}


@dataclass
class Concept:
    iri: str
    label: str
    alts: list[str] = field(default_factory=list)
    types: set[str] = field(default_factory=set)
    is_modality: bool = False


class Answerer:
    def __init__(self, store: GraphStore, index: VectorIndex, embedder: Embedder):
        self.store, self.index, self.embedder = store, index, embedder
        self.concepts = self._load_concepts()
        labels = []
        for c in self.concepts.values():
            for text in [c.label, *c.alts]:
                labels += [(c.iri, v) for v in _label_variants(text)]
        self.labels = LabelIndex(labels)
        self.known_words = {v.lower() for _, v in labels}
        self._fact_rows = {it.iri: i for i, it in enumerate(index.items) if it.kind == "fact"}
        self._passage_rows = np.array([i for i, it in enumerate(index.items) if it.kind == "passage"])
        self.vocabulary = _vocabulary(index)

    def _load_concepts(self) -> dict[str, Concept]:
        out: dict[str, Concept] = {}
        for r in self.store.select(template("concepts")):
            c = out.setdefault(r["concept"], Concept(r["concept"], r["label"]))
            if r["alt"] and r["alt"] not in c.alts:
                c.alts.append(r["alt"])
            if r["type"]:
                c.types.add(local_name(r["type"]))
            c.is_modality = c.is_modality or r["isModality"] in ("true", "1")
        return out

    # ------------------------------------------------------------------------------------------ main entry
    def ask(self, question: str) -> dict:
        t0 = time.perf_counter()
        q = " ".join(question.split())
        qvec = self.embedder.embed(q)
        scores = self.index.scores(qvec)
        passages = self._passages(scores)
        base = {"question": question, "graph_version": None, "passages": passages}

        if qi.is_injection(q):
            return self._abstain(base, "not_a_question", "This looks like an instruction rather than a question "
                                 "about liver cancer treatment; I only answer questions from the sources.")
        mentions = self._link(q)
        entities = self._entities(mentions)
        best_passage = max((p["score"] for p in passages), default=0.0)
        if not entities and self._gibberish(q):
            return self._abstain(base, "not_a_question", "I could not read a question in this text.")
        disease = qi.other_disease(q)
        if disease and not qi.mentions_liver(q):
            return self._abstain(base, "out_of_scope", f"The sources cover liver cancer (hepatocellular carcinoma) "
                                 f"only, not {disease}.")
        if not entities and best_passage < OFF_TOPIC_BELOW:
            return self._abstain(base, "out_of_scope", "This question is outside what the sources cover: the "
                                 "interventional treatment of primary liver cancer.")
        unknown = qi.unknown_drug_names(q, self.known_words)
        if unknown:
            return self._abstain(base, "not_in_sources", f"The sources do not mention {', '.join(unknown)}.",
                                 entities=entities)

        intents = qi.detect_intents(q)
        relations = qi.relations_for(intents)
        facts, sparql = self._select_facts(q, entities, intents, relations, scores)
        quantity = qi.quantity_asked(q)
        if facts and quantity and not any(qi.quantity_given(quantity, e.quote) for f in facts for e in f.evidence):
            facts = []
        if not facts:
            what = qi.QUANTITIES and quantity
            reason = "not_in_sources" if (entities or best_passage >= OFF_TOPIC_BELOW) else "out_of_scope"
            msg = (f"The sources do not give this ({what})." if what else
                   "The sources do not say this" + (f" about {', '.join(self.concepts[e].label for e in entities)}."
                                                     if entities else "."))
            return self._abstain(base, reason, msg, entities=entities, intents=intents, sparql=sparql)
        body = self._compose(q, entities, intents, facts)
        log.debug("answered in %.1f ms: %d facts", (time.perf_counter() - t0) * 1000, len(facts))
        return {**base, "answered": True, "answer": body, "intent": intents[0] if intents else "lookup",
                "intents": intents, "entities": self._entity_json(entities),
                "facts": [self._fact_json(f) for f in facts], "sparql": sparql}

    # ------------------------------------------------------------------------------------------ understanding
    def _link(self, q: str) -> list[Mention]:
        exact = self.labels.mentions(q)
        covered = [(m.start, m.end) for m in exact]
        fuzzy = [m for m in self.labels.fuzzy_mentions(q)
                 if not any(s < m.end and m.start < e for s, e in covered)]
        # keep the best fuzzy hit per span
        best: dict[tuple[int, int], Mention] = {}
        for m in fuzzy:
            if (m.start, m.end) not in best or m.score > best[(m.start, m.end)].score:
                best[(m.start, m.end)] = m
        return exact + list(best.values())

    def _entities(self, mentions: list[Mention]) -> list[str]:
        seen: list[str] = []
        for m in mentions:
            if m.iri in self.concepts and m.iri not in seen:
                seen.append(m.iri)
        specific = [e for e in seen if e not in GENERIC]
        return specific or seen

    def _gibberish(self, q: str) -> bool:
        words = re.findall(r"[A-Za-z]+", q.lower())
        if not words:
            return True
        known = sum(1 for w in words if w in self.vocabulary)
        return known / len(words) < 0.5

    # ------------------------------------------------------------------------------------------ fact selection
    def _select_facts(self, q, entities, intents, relations, scores) -> tuple[list[FactHit], str]:
        modalities = [e for e in entities if self.concepts[e].is_modality]
        others = [e for e in entities if not self.concepts[e].is_modality and e not in GENERIC]
        sparql = ""
        facts: list[FactHit] = []

        if others:
            facts, sparql = facts_mentioning(self.store, others)
            if relations:
                narrowed = [f for f in facts if local_name(f.predicate) in relations]
                facts = narrowed or facts
            if modalities:
                scoped = [f for f in facts if f.subject in modalities or f.object in modalities
                          or any(self._is_ancestor(f.subject, m) for m in modalities)]
                facts = scoped or facts
            facts = self._rank(facts, scores)
            if facts and not relations:
                facts = self._semantic_cut(facts)
            if facts:
                return facts, sparql

        if len(modalities) >= 2 and ({"comparison", "combination", "advantage"} & set(intents) or not intents):
            facts, sparql = comparisons(self.store, modalities, modalities)
            if facts:
                extra, _ = facts_about(self.store, modalities, ["hasRecommendation", "hasAdvantage", "hasOutcome"])
                facts += [f for f in self._semantic_cut(self._rank(extra, scores), floor=0.5)
                          if f.iri not in {x.iri for x in facts}]
                return self._rank(facts, scores), sparql

        targets = modalities or [e for e in entities if e in GENERIC]
        if targets and relations:
            facts, sparql = facts_about(self.store, targets, relations)
            if facts:
                return self._order(self._rank(facts, scores), relations), sparql
        if targets and not relations or (targets and not facts and not self._strict(intents)):
            everything = [r for r in RELATION_LABELS]
            facts, sparql = facts_about(self.store, targets, everything)
            return self._semantic_cut(self._rank(facts, scores)), sparql
        if not targets and not others:
            return self._semantic_all(scores), sparql
        return [], sparql

    @staticmethod
    def _strict(intents: list[str]) -> bool:
        """Intents precise enough that no fact of that kind means the sources do not say it."""
        return bool(set(intents) & {"mechanism", "drug", "embolic_agent", "indication", "contraindication",
                                    "absolute_contraindication", "relative_contraindication", "adverse_effect",
                                    "guidance", "route", "follow_up"})

    def _is_ancestor(self, cls: str, of: str) -> bool:
        return is_subclass(self.store, of, cls)

    def _rank(self, facts: list[FactHit], scores: np.ndarray) -> list[FactHit]:
        for f in facts:
            row = self._fact_rows.get(f.iri)
            f.score = float(scores[row]) if row is not None else 0.0
        return sorted(facts, key=lambda f: -f.score)

    @staticmethod
    def _order(facts: list[FactHit], relations: list[str]) -> list[FactHit]:
        rank = {r: i for i, r in enumerate(relations)}
        return sorted(facts, key=lambda f: (rank.get(local_name(f.predicate), 99), f.inherited,
                                            f.evidence[0].document, f.evidence[0].start))

    @staticmethod
    def _semantic_cut(facts: list[FactHit], floor: float = SEMANTIC_FLOOR) -> list[FactHit]:
        if not facts:
            return []
        best = facts[0].score
        return [f for f in facts if f.score >= max(floor, best - SEMANTIC_MARGIN)][:SEMANTIC_MAX]

    def _semantic_all(self, scores: np.ndarray) -> list[FactHit]:
        """No entity named: the facts closest in meaning, if close enough."""
        rows = sorted(self._fact_rows.items(), key=lambda kv: -scores[kv[1]])[:SEMANTIC_MAX]
        if not rows or scores[rows[0][1]] < SEMANTIC_FLOOR + 0.08:
            return []
        keep = [iri for iri, row in rows if scores[row] >= scores[rows[0][1]] - SEMANTIC_MARGIN / 2]
        facts, _ = facts_by_iri(self.store, keep)
        return self._rank(facts, scores)

    # ------------------------------------------------------------------------------------------ composition
    def _label(self, iri: str) -> str:
        c = self.concepts.get(iri)
        return c.label if c else local_name(iri)

    def _compose(self, q: str, entities: list[str], intents: list[str], facts: list[FactHit]) -> str:
        names = ", ".join(self._label(e) for e in entities[:3]) or "this question"
        rels = []
        for f in facts:
            lbl = RELATION_LABELS.get(local_name(f.predicate), local_name(f.predicate))
            if lbl not in rels:
                rels.append(lbl)
        head = f"What the sources say on {' and '.join(rels[:3])} of {names}:" if rels else f"On {names}, the sources say:"
        lines = [head]
        for i, f in enumerate(facts, start=1):
            line = f"[{i}] {f.statement}"
            if f.inherited:
                line += f" (stated for {self._label(f.subject)}, which includes {self._label(f.target)})"
            if f.note:
                line += f" Note: {f.note}"
            lines.append(line)
        return "\n".join(lines)

    def _fact_json(self, f: FactHit) -> dict:
        pred = local_name(f.predicate)
        obj = ({"iri": f.object, "label": self._label(f.object)} if f.object.startswith(str(HCC))
               else {"iri": None, "label": f.object})
        out = {"iri": f.iri,
               "subject": {"iri": f.subject, "label": self._label(f.subject)},
               "predicate": {"iri": f.predicate, "label": _predicate_label(pred)},
               "object": obj, "statement": f.statement,
               "evidence": [e.__dict__ for e in f.evidence], "score": round(f.score, 4)}
        if f.inherited:
            out["inherited_by"] = {"iri": f.target, "label": self._label(f.target)}
        if f.note:
            out["note"] = f.note
        return out

    def _entity_json(self, entities: list[str]) -> list[dict]:
        return [{"iri": e, "label": self._label(e)} for e in entities]

    def _passages(self, scores: np.ndarray, k: int = 3) -> list[dict]:
        if self._passage_rows.size == 0:
            return []
        sub = scores[self._passage_rows]
        top = np.argsort(-sub)[:k]
        out = []
        for i in top:
            it = self.index.items[self._passage_rows[i]]
            out.append({"document": it.document, "start": it.start, "end": it.end, "text": it.text,
                        "score": round(float(sub[i]), 4)})
        return out

    def _abstain(self, base: dict, reason: str, message: str, entities=(), intents=(), sparql: str = "") -> dict:
        covered = "indications, contraindications, mechanisms, adverse effects, limitations, drugs, embolic agents, " \
                  "guidance, procedure, follow-up and comparisons of RFA, MWA, PEI, TACE/TAE/TAI, radioactive seeds " \
                  "and related treatments of liver cancer"
        answer = f"{message} The graph covers the {covered}."
        return {**base, "answered": False, "reason": reason, "answer": answer,
                "intent": intents[0] if intents else None, "intents": list(intents),
                "entities": self._entity_json(list(entities)), "facts": [], "sparql": sparql}


def _predicate_label(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def _label_variants(text: str) -> list[str]:
    """'computed tomography (CT)' is also found as 'computed tomography' and 'CT'."""
    out = [text]
    m = re.match(r"^(.*?)\s*\(([^)]+)\)\s*$", text)
    if m:
        out += [m.group(1), m.group(2)]
    return [v for v in out if v.strip()]


def _vocabulary(index: VectorIndex) -> set[str]:
    words = set()
    for it in index.items:
        words.update(re.findall(r"[a-z]+", it.text.lower()))
    words.update(STOPWORDS)
    return words


STOPWORDS = set("""a about above after again against all am an and any are as at be because been before being below
between both but by can cannot could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours yourself yourselves tell explain give list name please know want need much
many get got use used using patient patients doctor treatment treatments therapy therapies cancer tumor tumour liver
best good bad okay ok yes difference mean means""".split())
