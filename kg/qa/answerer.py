"""Answer a clinical question from the graph: link entities, read the intent, fetch facts by SPARQL, compose.

The answer states only facts the graph holds, each with its quotes; when the graph holds no fact of the kind
asked, the answer says the sources do not say so (answered: false) instead of guessing.
"""
import bisect
import logging
import re
import time
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from ..linking import LabelIndex, Mention
from ..search import Embedder, VectorIndex
from ..store import GraphStore, bind
from ..vocab import HCC, local_name
from . import intent as qi
from .retrieval import (FactHit, comparisons, facts_about, facts_below, facts_by_iri, facts_mentioning,
                        template)
from .words import content_words, label_variants, vocabulary_of

log = logging.getLogger(__name__)

# Similarity (cosine, all-MiniLM-L6-v2) below which a question is not about this corpus at all.
OFF_TOPIC_BELOW = 0.30
# When facts are picked by meaning alone: keep those within MARGIN of the best and above FLOOR.
SEMANTIC_FLOOR = 0.42
SEMANTIC_MARGIN = 0.10
SEMANTIC_MAX = 6
RELATIVE_MARGIN = 0.12
ABSTAIN_OPENING = "The sources do not answer this question."
QUANTITY_NAMES = {"dose": "dose", "temperature": "temperature", "rate": "rate or percentage",
                  "radiation": "isotope or radiation dose", "duration": "duration", "cost": "cost",
                  "device_size": "device size"}
MAX_COMPARISON_FACTS = 16
COMPARISON_MARGIN = 0.15
COMPARATIVE = ["hasAdvantage", "hasLimitation", "hasRecommendation", "hasOutcome", "hasMechanism", "combinedWith"]
RELATION_BONUS = 0.06
LIST_MARGIN = 0.12   # a list relation answers when its best fact is this close to the best fact overall
CLOSE_MARGIN = 0.03  # facts of other kinds that nearly tie with the best are kept beside a list
BELOW_PENALTY = 0.02  # facts of a subclass (MWA for "ablation") rank a little below the class's own
OWN_FIRST = {"hasProcedureStep", "hasTechnicalRequirement"}
QUANTITY_WORDS = {"rate", "percent", "percentage", "long", "much", "many", "dose", "dosage", "temperature", "degree",
                  "duration", "time", "number", "level", "amount", "value", "often", "cost", "price"}
QUOTED_BONUS = 0.3  # a fact holding a phrase the question quotes
LEXICAL_WEIGHT = 0.15  # share of the question's own content words found in a fact's statement or quotes
LIST_INTENTS = {"indication", "contraindication", "absolute_contraindication", "relative_contraindication", "drug",
                "embolic_agent", "guidance", "route", "adverse_effect", "limitation", "mechanism", "subtypes",
                "follow_up", "response", "prognostic", "procedure", "definition", "rationale", "options"}
GENERIC = {str(HCC.HCC), str(HCC.MetastaticLiverCancer)}
CONDITION_TYPES = {"Indication", "Contraindication"}
SINGLE_WORD_TYPES = {"Drug", "EmbolicAgent", "ImagingModality", "ApproachRoute", "AdverseEffect", "Disease"}

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
ALL_RELATIONS = list(RELATION_LABELS)


@dataclass
class _Query:
    """What ranking needs of one question: its cosine to every indexed item, and its own content words."""
    cosine: np.ndarray
    words: set[str]
    seen: dict = field(default_factory=dict)  # every candidate fact ranked so far, by IRI
    phrases: tuple[str, ...] = ()  # what the question puts in quotes ('sniper rifle'): to be found verbatim


@dataclass
class Concept:
    iri: str
    label: str
    alts: list[str] = field(default_factory=list)
    types: set[str] = field(default_factory=set)
    is_modality: bool = False


class Answerer:
    def __init__(self, store: GraphStore, index: VectorIndex, embedder: Embedder, assessor=None):
        """assessor (kg.assess.Assessor), when given, answers vignettes: a patient's findings and a modality."""
        self.store, self.index, self.embedder, self.assessor = store, index, embedder, assessor
        self.concepts = self._load_concepts()
        labels = []
        for c in self.concepts.values():
            for text in [c.label, *c.alts]:
                labels += [(c.iri, v) for v in label_variants(text) if self._linkable(c, v)]
        self.labels = LabelIndex(labels)
        self.known_words = {v.lower() for _, v in labels}
        self._fact_rows = {it.iri: i for i, it in enumerate(index.items) if it.kind == "fact"}
        self._passage_rows = np.array([i for i, it in enumerate(index.items) if it.kind == "passage"])
        self.vocabulary = vocabulary_of(index) | {w for _, v in labels for w in re.findall(r"[a-z]+", v.lower())}
        self._vocabulary_list = sorted(self.vocabulary)
        self.ancestors = self._load_ancestors()
        self.fact_mentions = self._load_fact_mentions()
        self.combination_parts: dict[str, set[str]] = {}
        for r in self.store.select(template("combinations")):
            self.combination_parts.setdefault(r["combination"], set()).add(r["part"])
        self.sentence_starts: dict[str, list[int]] = {}
        for it in sorted((it for it in index.items if it.kind == "passage"), key=lambda it: it.start):
            self.sentence_starts.setdefault(it.document, []).append(it.start)

    def _load_ancestors(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for r in self.store.select(template("ancestors")):
            out.setdefault(r["cls"], set()).add(r["ancestor"])
        return out

    def _load_fact_mentions(self) -> dict[str, set[str]]:
        """Which concepts each fact's statement and quotes name (to find facts that name two modalities)."""
        texts: dict[str, list[str]] = {}
        for r in self.store.select(template("fact_texts")):
            texts.setdefault(r["fact"], []).append(r["text"])
        self.fact_words = {f: content_words(" ".join(t)) for f, t in texts.items()}
        self.fact_texts = {f: " | ".join(t).lower() for f, t in texts.items()}
        return {f: {m.iri for m in self.labels.mentions(" | ".join(t))} for f, t in texts.items()}

    @staticmethod
    def _linkable(c: "Concept", label: str) -> bool:
        """One ordinary word ("safe", "fever") names a thing only for concrete kinds: an advantage called "safe"
        would otherwise capture every question about safety."""
        if " " in label.strip() or c.is_modality or label.isupper():
            return True
        return bool(c.types & SINGLE_WORD_TYPES)

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
        q = qi.with_clinical_terms(" ".join(question.split()))
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
        unknown = [w for w in qi.unknown_drug_names(q, self.known_words) if w.lower() not in self.vocabulary] + \
            qi.unknown_drug_classes(q, self.vocabulary)
        focus = qi.unknown_focus(q, self.vocabulary)
        if focus and not self._is_typo(focus):
            unknown.append(focus)
        if unknown:
            return self._abstain(base, "not_in_sources", f"The sources do not mention {', '.join(unknown)}.",
                                 entities=entities)

        vignette = self._vignette(q, entities)
        if vignette:
            return {**base, **vignette}

        detected = qi.detect_intents(q)
        intents = detected.all
        relations = qi.relations_for(intents)
        ctx = _Query(scores, content_words(q) - self._label_words(entities), phrases=_quoted(q))
        facts, sparql = self._select_facts(q, entities, detected, relations, ctx)
        if ctx.phrases and facts:  # every candidate holding a phrase the question quotes belongs to the answer
            chosen = {f.iri for f in facts}
            facts += [f for f in ctx.seen.values() if f.iri not in chosen
                      and any(p in self.fact_texts.get(f.iri, "") for p in ctx.phrases)]
        quantity = qi.quantity_asked(q)
        if quantity:
            # "how long do side effects last": only facts that state a duration, about what was asked, can answer
            topic = ctx.words - QUANTITY_WORDS
            giving = [f for f in _dedupe(facts + list(ctx.seen.values()))
                      if any(qi.quantity_given(quantity, e.quote) for e in f.evidence)
                      and topic & self.fact_words.get(f.iri, set())]
            facts = self._cut(sorted(giving, key=lambda f: -f.score), floor=0.35, limit=4)
        if not facts:
            reason = "not_in_sources" if (entities or best_passage >= OFF_TOPIC_BELOW) else "out_of_scope"
            about = ", ".join(self.concepts[e].label for e in entities)
            msg = (f"They give no {QUANTITY_NAMES.get(quantity, quantity)} for it." if quantity else
                   f"They state nothing of the kind asked about {about}." if about else
                   "They state nothing of the kind asked.")
            return self._abstain(base, reason, msg, entities=entities, intents=intents, sparql=sparql)
        body = self._compose(q, entities, intents, facts)
        retrieval = sparql
        sparql = bind(template("facts_by_iri"), fact=[f.iri for f in facts])
        log.debug("answered in %.1f ms: %d facts", (time.perf_counter() - t0) * 1000, len(facts))
        return {**base, "answered": True, "answer": body, "intent": _main_intent(facts, intents),
                "intents": intents, "entities": self._entity_json(entities),
                "facts": [self._fact_json(f) for f in facts], "sparql": sparql, "retrieval_sparql": retrieval}

    # ------------------------------------------------------------------------------------------ vignettes
    def _vignette(self, q: str, entities: list[str]) -> dict | None:
        """'62-year-old, Child-Pugh C, single 3 cm tumour: can he have RFA?': the findings the question states,
        judged against the graph's criteria for the modality it names (every modality when it names none)."""
        if self.assessor is None or not qi.describes_patient(q):
            return None
        from ..assess import findings_from_text

        findings = findings_from_text(q)
        if not findings or (len(findings) < 2 and not qi.asks_eligibility(q)):
            return None
        known = {m.iri for m in self.assessor.modalities}
        named = [e for e in entities if e in known]
        result = self.assessor.assess(findings, named or None)
        entries = [e for e in result["modalities"] if any(r["outcome"] == "met" for r in e["rules"])]
        if not named:  # no modality named: the ones the findings speak for
            entries = [e for e in entries if e["verdict"] in ("indicated", "possible")]
        if not entries:
            return None
        facts: list[dict] = []
        groups: list[dict] = []  # entries with the same verdict from the same rules are told once
        for entry in entries:
            met = [r for r in entry["rules"] if r["outcome"] == "met"]
            key = (entry["verdict"], frozenset(r["fact"] for r in met))
            same = next((g for g in groups if g["key"] == key), None)
            if same:
                same["also"].append(entry["modality"]["label"])
                continue
            groups.append({"key": key, "entry": entry, "met": met, "also": []})
        lines = ["Findings read from the question: " + ", ".join(f"{k} = {v}" for k, v in result["findings"].items())
                 + "."]
        for g in groups:
            entry = g["entry"]
            name = entry["modality"]["label"]
            also = f" (likewise {', '.join(g['also'])})" if g["also"] else ""
            parts = []
            for rule in g["met"]:
                facts.append(_rule_fact(rule))
                parts.append(f"{rule['statement']} [{len(facts)}]")
            line = f"{name[0].upper()}{name[1:]}{also}: {entry['verdict'].replace('_', ' ')}. " + " ".join(parts)
            if entry["missing"] and entry["verdict"] in ("undetermined", "possible", "indicated"):
                shown = entry["missing"][:5]
                more = f" and {len(entry['missing']) - 5} more" if len(entry["missing"]) > 5 else ""
                line += f" Not yet known, and able to change this: {', '.join(shown)}{more}."
            lines.append(line)
        for s in result["suggestions"]:
            if s["outcome"] == "applies":
                lines.append(f"The sources also say: {s['facts'][0]['statement']}")
        lines.append("This applies the sources' criteria to the findings given; it is not clinical advice.")
        return {"answered": True, "answer": "\n".join(lines), "intent": "eligibility", "intents": ["eligibility"],
                "entities": self._entity_json(entities), "facts": facts, "assessment": result,
                "sparql": bind(template("facts_by_iri"), fact=[f["iri"] for f in facts])}

    # ------------------------------------------------------------------------------------------ understanding
    def _link(self, q: str) -> list[Mention]:
        exact = self.labels.mentions(q)
        covered = [(m.start, m.end) for m in exact]
        fuzzy = [m for m in self.labels.fuzzy_mentions(q)
                 if not any(s < m.end and m.start < e for s, e in covered)]
        # overlapping fuzzy hits: the longest span wins, then the closer match
        kept: list[Mention] = []
        for m in sorted(fuzzy, key=lambda m: (-(m.end - m.start), -m.score)):
            if not any(k.start < m.end and m.start < k.end and (k.start, k.end) != (m.start, m.end) for k in kept) \
                    and not any((k.start, k.end) == (m.start, m.end) and k.score > m.score for k in kept):
                kept.append(m)
        return exact + kept

    def _entities(self, mentions: list[Mention]) -> list[str]:
        seen: list[str] = []
        for m in mentions:
            if m.iri in self.concepts and m.iri not in seen:
                seen.append(m.iri)
        return seen

    def _label_words(self, entities: list[str]) -> set[str]:
        """Words of the entities' names: every candidate fact shares them, so they tell nothing apart."""
        words: set[str] = set()
        for e in entities:
            c = self.concepts[e]
            for label in [c.label, *c.alts]:
                words |= content_words(label)
        return words

    def _is_typo(self, word: str) -> bool:
        """A word close to one the sources use ("contraindicatons") is a typo, not an unknown thing."""
        return bool(process.extractOne(word, self._vocabulary_list, scorer=fuzz.ratio, score_cutoff=85))

    def _gibberish(self, q: str) -> bool:
        words = re.findall(r"[A-Za-z]+", q.lower())
        if not words:
            return True
        known = sum(1 for w in words if w in self.vocabulary)
        return known / len(words) < 0.5

    # ------------------------------------------------------------------------------------------ fact selection
    def _select_facts(self, q, entities, detected: qi.Intents, relations, scores) -> tuple[list[FactHit], str]:
        """Gather the facts about what the question names, then keep those that answer what it asks."""
        intents = detected.all
        modalities = self._focus_modalities([e for e in entities if self.concepts[e].is_modality])
        concepts = [e for e in entities if not self.concepts[e].is_modality and e not in GENERIC]
        generic = [e for e in entities if e in GENERIC]
        strong = qi.relations_for([i for i in detected.strong if i in LIST_INTENTS])
        weak = [[r for r in qi.INTENTS[i][2] if r not in strong] for i in detected.weak if i in LIST_INTENTS]
        if "definition" in detected.strong and modalities and not (set(intents) & LIST_INTENTS - {"definition"}):
            strong += ["hasMechanism", "hasProcedureStep"]  # "what is X": what it is, how it works, how it is done
        # "for multiple lesions, should ablation...", "options for middle and late stage liver cancer": a patient
        # condition is context that ranks facts, not the thing asked about
        conditions = [e for e in concepts if self.concepts[e].types & CONDITION_TYPES]
        concepts = [e for e in concepts if e not in conditions]

        boost: list[str] = conditions
        if concepts:
            pool, sparql = facts_mentioning(self.store, concepts)
            named = [f for f, cs in self.fact_mentions.items() if set(concepts) & cs]
            pool += facts_by_iri(self.store, named)[0] if named else []
            if modalities:
                lineage = self._lineage(modalities)
                pool = [f for f in pool if f.subject in lineage or f.object in lineage or f.subject in concepts] or pool
            kinds = {local_name(f.predicate) for f in pool if f.subject not in concepts}
            related = [f for f in pool if f.object in concepts and f.subject in self._lineage(modalities)]
            if modalities and not related:
                # "maximum tumour size for PEI": the concept (a factor of TACE) is not something PEI has
                boost, pool = boost + concepts, []
            elif modalities and strong and "definition" not in detected.strong and not kinds & set(strong):
                # "how often is CT repeated after TACE", where no follow-up fact names CT: the modality and the
                # kind asked lead, and CT only ranks
                boost, pool = boost + concepts, []
            if pool:
                pool += self._context_facts(pool, modalities or [f.subject for f in pool])
                ranked = self._rank(pool, scores, relations)
                chosen = self._choose(ranked, strong, weak, strict=False)
                own = [f for f in ranked if f.subject in concepts and f not in chosen]  # what the thing itself is
                return chosen + own[:4], sparql

        if len(modalities) >= 2 and "comparison" in intents:
            chosen, sparql = comparisons(self.store, modalities, modalities)
            if chosen:
                return self._with_comparison_context(chosen, modalities, relations, scores), sparql

        targets = modalities + generic if modalities else generic
        if targets:
            pool, sparql = facts_about(self.store, targets, ALL_RELATIONS)
            if "hasDefinition" in strong and modalities and not any(f.predicate == str(HCC.hasDefinition) for f in pool):
                # no definition of its own: what kind of treatment the sources say it is
                kinds = [f for f in facts_mentioning(self.store, modalities)[0]
                         if f.object in modalities and f.predicate == str(HCC.hasSubtype)]
                pool += kinds
                strong = strong + ["hasSubtype"] if kinds else strong
            if not modalities:
                pool += self._closest_facts(scores)[0]
            ranked = self._rank(pool, scores, relations, boost=boost)
            return self._choose(ranked, strong, weak, strict=bool(modalities) and self._strict(detected.strong),
                                wider=lambda: self._rank(self._around(modalities), scores, relations,
                                                         penalty=BELOW_PENALTY)), sparql
        pool, sparql = self._closest_facts(scores)
        return self._choose(self._rank(pool, scores, relations, boost=boost), strong, weak, strict=False), sparql

    def _around(self, modalities: list[str]) -> list[FactHit]:
        """Facts of the subclasses of the named modalities, of statements about them, and of combinations built
        on them: read only when facts are picked by meaning."""
        if not modalities:
            return []
        out = facts_below(self.store, modalities)[0]
        # what other statements say about it ("local ablation includes cryoablation")
        out += [f for f in facts_mentioning(self.store, modalities)[0] if f.object in modalities]
        containing = [c for c, parts in self.combination_parts.items() if parts & set(modalities)]
        if containing:  # "after microwave ablation...": what combinations built on MWA say
            out += facts_about(self.store, containing, ALL_RELATIONS)[0]
        return out

    def _choose(self, ranked: list[FactHit], strong: list[str], weak: list[list[str]], strict: bool,
                wider=lambda: []) -> list[FactHit]:
        """All facts of the kinds a list question asks for, else the few closest in meaning.

        A kind the question names outright (strong) is answered whenever the pool holds it; a kind it only
        suggests (weak) only when its facts are about as close in meaning as the best fact.
        strict: no fact of a kind named outright means the sources do not say.
        wider: a callable giving facts around what was named, called only when picking by meaning."""
        ranked = _dedupe(ranked)
        if not ranked:
            return []
        best = ranked[0].score
        rel_best: dict[str, float] = {}
        for f in ranked:
            rel_best.setdefault(local_name(f.predicate), f.score)
        primary = [r for r in strong if r in rel_best]
        for group in weak:
            if max((rel_best.get(r, -1.0) for r in group), default=-1.0) >= best - LIST_MARGIN:
                primary += [r for r in group if r in rel_best and r not in primary]
        if primary:
            chosen = self._own_first([f for f in ranked if local_name(f.predicate) in primary])
            if any(r in strong for r in primary):
                return self._order(chosen, primary)
            close = [f for f in ranked if local_name(f.predicate) not in primary and f.score >= best - CLOSE_MARGIN]
            return self._order(chosen, primary) + close[:3]
        if strict and strong and not any(r in rel_best for r in strong):
            below = [f for f in wider() if local_name(f.predicate) in strong]
            return self._order(below, strong) if below else []
        return self._cut(sorted(_dedupe(ranked + list(wider())), key=lambda f: -f.score))

    @staticmethod
    def _own_first(facts: list[FactHit]) -> list[FactHit]:
        """How-to facts stated for the modality itself replace the general ones it inherits."""
        own = {local_name(f.predicate) for f in facts if f.subject == f.target}
        return [f for f in facts if f.subject == f.target or local_name(f.predicate) not in (own & OWN_FIRST)]

    def _focus_modalities(self, modalities: list[str]) -> list[str]:
        """A combination (TACE + RFA) named outright, or through all its parts, is the subject; the parts are not."""
        named = set(modalities)
        for combo, parts in self.combination_parts.items():
            covered = all(p in named or self.ancestors.get(p, set()) & named for p in parts)
            if len(named) >= 2 and parts and covered and combo not in named:
                modalities = modalities + [combo]
        parts = set()
        for m in modalities:
            parts |= self.combination_parts.get(m, set())
        return [m for m in modalities if m not in parts]

    def _context_facts(self, facts: list[FactHit], subjects: list[str]) -> list[FactHit]:
        """Facts stated in the same or the next sentence as the given facts, by the same subjects: the sources
        often name a thing once and explain it in the sentence that follows."""
        near = set()
        for f in facts:
            for e in f.evidence:
                doc, start = self._sentence_of(e.document, e.start)
                near.add((doc, start))
                near.add(self._next_sentence(doc, start))
        pool, _ = facts_about(self.store, list(dict.fromkeys(subjects)), ALL_RELATIONS)
        seen = {f.iri for f in facts}
        return [f for f in pool if f.iri not in seen
                and any(self._sentence_of(e.document, e.start) in near for e in f.evidence)]

    def _next_sentence(self, document: str, start: int) -> tuple[str, int]:
        starts = self.sentence_starts.get(document, [])
        i = bisect.bisect_right(starts, start)
        return document, starts[i] if i < len(starts) else start

    @staticmethod
    def _strict(intents: list[str]) -> bool:
        """Intents precise enough that no fact of that kind means the sources do not say it."""
        return bool(set(intents) & {"mechanism", "drug", "embolic_agent", "indication", "contraindication",
                                    "absolute_contraindication", "relative_contraindication", "adverse_effect",
                                    "guidance", "route", "follow_up"})

    def _lineage(self, modalities: list[str]) -> set[str]:
        """The modalities and the classes above them."""
        out = set(modalities)
        for m in modalities:
            out |= self.ancestors.get(m, set())
        return out

    def _with_comparison_context(self, comps, modalities, relations, scores) -> list[FactHit]:
        """A comparison's facts, plus the comparative facts (advantages, limitations, recommendations...) of
        either modality stated in the same or next sentence, naming both, or about as close in meaning."""
        sentences = {self._sentence_of(e.document, e.start) for f in comps for e in f.evidence}
        sentences |= {self._next_sentence(*key) for key in sentences}
        comps = self._rank(comps, scores, relations)
        floor = comps[0].score - COMPARISON_MARGIN if comps else 1.0
        pool = self._rank(facts_about(self.store, modalities, COMPARATIVE)[0], scores, relations)
        seen = {f.iri for f in comps}
        extra = []
        for f in pool:
            if f.iri in seen:
                continue
            same_sentence = any(self._sentence_of(e.document, e.start) in sentences for e in f.evidence)
            names_both = len(self.fact_mentions.get(f.iri, set()) & self._lineage(modalities)) >= 2
            if same_sentence or names_both or f.score >= floor:
                extra.append((not (same_sentence or names_both), -f.score, f))
                seen.add(f.iri)
        return (comps + [f for *_, f in sorted(extra, key=lambda x: x[:2])])[:MAX_COMPARISON_FACTS]

    def _sentence_of(self, document: str, offset: int) -> tuple[str, int]:
        starts = self.sentence_starts.get(document, [])
        i = bisect.bisect_right(starts, offset) - 1
        return document, starts[i] if i >= 0 else 0

    def _rank(self, facts: list[FactHit], scores: np.ndarray, relations: list[str] = (),
              penalty: float = 0.0, boost: list[str] = ()) -> list[FactHit]:
        """Order by meaning (cosine of question and statement), nudged towards the relations asked for, the
        concepts named in passing, and the question's own words found in the quote."""
        words = scores.words
        for f in facts:
            scores.seen.setdefault(f.iri, f)
            row = self._fact_rows.get(f.iri)
            f.score = (float(scores.cosine[row]) if row is not None else 0.0) - penalty
            if local_name(f.predicate) in relations:
                f.score += RELATION_BONUS
            if boost and set(boost) & (self.fact_mentions.get(f.iri, set()) | {f.subject, f.object}):
                f.score += RELATION_BONUS
            if words:
                f.score += LEXICAL_WEIGHT * len(words & self.fact_words.get(f.iri, set())) / len(words)
            if scores.phrases and any(p in self.fact_texts.get(f.iri, "") for p in scores.phrases):
                f.score += QUOTED_BONUS
        return sorted(facts, key=lambda f: -f.score)

    @staticmethod
    def _order(facts: list[FactHit], relations: list[str]) -> list[FactHit]:
        """Lists read in source order, own facts before inherited ones."""
        rank = {r: i for i, r in enumerate(relations)}
        return sorted(facts, key=lambda f: (rank.get(local_name(f.predicate), 99), f.subject != f.target,
                                            f.evidence[0].document, f.evidence[0].start))

    @staticmethod
    def _cut(facts: list[FactHit], floor: float = SEMANTIC_FLOOR, margin: float = SEMANTIC_MARGIN,
             limit: int = SEMANTIC_MAX) -> list[FactHit]:
        """Keep the best-scoring facts: within `margin` of the best, above `floor`, at most `limit`."""
        if not facts or facts[0].score < floor:
            return []
        best = facts[0].score
        margin = max(margin, RELATIVE_MARGIN * best)  # a strong best match leaves room for its neighbours
        return [f for f in facts if f.score >= max(floor, best - margin)][:limit]

    def _closest_facts(self, scores: "_Query", n: int = 20) -> tuple[list[FactHit], str]:
        """No entity named: the facts closest in meaning to the question."""
        rows = sorted(self._fact_rows.items(), key=lambda kv: -scores.cosine[kv[1]])[:n]
        return facts_by_iri(self.store, [iri for iri, _ in rows])

    # ------------------------------------------------------------------------------------------ composition
    def _inherited(self, f: FactHit) -> bool:
        """A fact stated for a class of modalities that answers for one of its subclasses."""
        t, s = self.concepts.get(f.target), self.concepts.get(f.subject)
        return bool(t and s and t.is_modality and s.is_modality and f.subject != f.target
                    and local_name(f.predicate) != "hasComparison")

    def _label(self, iri: str) -> str:
        c = self.concepts.get(iri)
        return c.label if c else local_name(iri)

    def _compose(self, q: str, entities: list[str], intents: list[str], facts: list[FactHit]) -> str:
        named = [e for e in entities if e not in GENERIC] or entities  # "liver cancer" is the context of all
        labels = [self._label(e) for e in named[:3]]
        names = " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels) or "this question"
        rels = []
        for f in facts:
            lbl = RELATION_LABELS.get(local_name(f.predicate), local_name(f.predicate))
            if lbl not in rels:
                rels.append(lbl)
        kinds = ", ".join(rels[:3]) if len(rels) <= 3 else ", ".join(rels[:3]) + " and more"
        head = f"What the sources say on the {kinds} of {names}:" if rels else f"On {names}, the sources say:"
        lines = [head]
        for i, f in enumerate(facts, start=1):
            line = f"[{i}] {f.statement}"
            if self._inherited(f):
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
        if self._inherited(f):
            out["inherited_from"] = {"iri": f.subject, "label": self._label(f.subject)}
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
        answer = f"{ABSTAIN_OPENING} {message} The graph covers the {covered}."
        return {**base, "answered": False, "reason": reason, "answer": answer,
                "intent": intents[0] if intents else None, "intents": list(intents),
                "entities": self._entity_json(list(entities)), "facts": [], "sparql": sparql}


EFFECT_WORDS = {"indication": "indications", "contraindication": "contraindications",
                "relative_contraindication": "relative contraindications"}
EFFECT_PREDICATES = {"indication": "hasIndication", "contraindication": "hasContraindication",
                     "relative_contraindication": "hasRelativeContraindication"}


def _rule_fact(rule: dict) -> dict:
    """An assessment rule that fired, in the shape of an /ask fact."""
    pred = EFFECT_PREDICATES[rule["effect"]]
    return {"iri": rule["fact"], "subject": rule["stated_for"],
            "predicate": {"iri": str(HCC[pred]), "label": _predicate_label(pred)},
            "object": rule["concept"], "statement": rule["statement"], "evidence": rule["evidence"],
            "criteria": rule["criteria"], "outcome": rule["outcome"]}


def _quoted(question: str) -> tuple[str, ...]:
    """Phrases the question puts in quotes, lower-cased."""
    found = re.findall(r"(?:^|(?<=[\s(]))[\"“‘']([^\"”’']{3,60})[\"”’'](?=[\s.,;:?!)]|$)", question)
    return tuple(p.strip().lower() for p in found if p.strip())


def _main_intent(facts: list[FactHit], intents: list[str]) -> str:
    """The intent the answer's facts actually answer (the first one asked whose relation they carry)."""
    preds = {local_name(f.predicate) for f in facts}
    for name in intents:
        if set(qi.INTENTS[name][2]) & preds:
            return name
    return intents[0] if intents else "lookup"


def _dedupe(facts: list[FactHit]) -> list[FactHit]:
    """One fact per statement (inherited copies of the same fact reach us once per target)."""
    seen, out = set(), []
    for f in facts:
        if f.iri not in seen:
            seen.add(f.iri)
            out.append(f)
    return out


def _predicate_label(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
