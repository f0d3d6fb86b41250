"""Answer a clinical question from the graph, stating only facts it holds, each with its quotes.

  question -> refusal checks (positive evidence only) -> linked concepts and families -> parts
           -> per part: kinds asked (classifier), candidate facts, features -> fitted ranker -> chosen facts
           -> quantity asked but not given? -> answer grouped by subject and kind      (kg/qa/*.py, one job each)
A patient described in the question is judged by the graph's criteria (kg/qa/vignette.py). When the sources do
not answer, the answer says so (answered: false) with one of the contract's reasons.
"""
import json
import logging
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from ..assess import Assessor
from ..catalog import Catalog
from ..queries import template
from ..search import Embedder, VectorIndex
from ..store import GraphStore, bind
from ..vocab import local_name
from . import compose
from .candidates import Candidate, FactIndex, Named
from .classifier import RelationClassifier
from .entities import Link, Linker
from .parts import Part, split_question
from .quantities import NAMES, quantity_asked
from .ranker import PartView, Ranker, features, gives
from .refusal import Refusal, Refuser
from .tables import Tables
from .vignette import answer_patient, patient_findings
from .words import content_words, idf_weights, tokens
from .wording import Wording

log = logging.getLogger(__name__)
PASSAGES_SHOWN = 3
PATIENT_KINDS = ("eligibility", "hasIndication", "hasContraindication", "hasRelativeContraindication")


@dataclass
class PartAnalysis:
    part: Part
    links: list[Link]
    named: Named
    view: PartView
    candidates: list[Candidate]
    x: np.ndarray
    vector: np.ndarray  # the part's embedding (what the classifier read)
    text: str


@dataclass
class Analysis:
    question: str
    links: list[Link]
    parts: list[PartAnalysis]
    passages: list[dict]
    refusal: Refusal | None = None
    vector: np.ndarray | None = None  # the whole question's embedding


class Answerer:
    def __init__(self, store: GraphStore, index: VectorIndex, embedder: Embedder, catalog: Catalog,
                 classifier: RelationClassifier, assessor: Assessor | None = None, ranker: Ranker | None = None,
                 tables: Tables | None = None):
        self.store, self.index, self.embedder, self.catalog = store, index, embedder, catalog
        self.classifier, self.assessor = classifier, assessor
        self.ranker = ranker if ranker is not None else Ranker.load()
        self.wording = Wording.from_store(store)
        self.linker = Linker(catalog, self.wording)
        self.tables = tables or Tables.compute("", catalog, self.linker)
        self.facts = FactIndex(catalog, index, self.tables.fact_mentions)
        self.idf = idf_weights([i.words for i in self.facts.order])
        corpus_words = {w for it in index.items if it.kind == "passage" for w in tokens(it.text)}
        vocabulary = corpus_words | {w for it in index.items for w in tokens(it.text)}
        vocabulary |= {w for _, label in self.linker.labels for w in tokens(label)}
        vocabulary |= {w for ex in self.wording.examples for w in tokens(ex)}
        self.refuser = Refuser(vocabulary, corpus_words, self.wording, self.tables.common_words)
        self._passage_rows = np.array([i for i, it in enumerate(index.items) if it.kind == "passage"])
        self.disjoint = {local_name(r): {local_name(d) for d in ds} for r, ds in catalog.disjoint.items()}

    @classmethod
    def from_build(cls, settings, ranker: Ranker | None = None) -> "Answerer":
        """Everything from settings.build_dir, for the CLI, scripts and tests (the app shares its own parts)."""
        from ..encoder import OnnxEmbedder
        from ..store import EmbeddedGraphStore

        store = EmbeddedGraphStore.from_build(settings.build_dir)
        version = json.loads((settings.build_dir / "report.json").read_text(encoding="utf-8"))["graph_version"]
        return cls(store, VectorIndex.load(settings.build_dir), OnnxEmbedder(settings.build_dir, settings.encoder_threads_per_process),
                   Catalog(store, settings.corpus_dir), RelationClassifier.load(settings.build_dir),
                   Assessor.from_store(store), ranker, Tables.read(settings.build_dir, version))

    # ------------------------------------------------------------------------------------------ understanding
    def analyse(self, question: str) -> Analysis:
        """Everything the ranker needs to choose facts, and any refusal found on the way."""
        q = " ".join(unicodedata.normalize("NFKC", question).split())
        refusal = self.refuser.before_linking(q)
        links = self.linker.link(q) if refusal is None else []
        if refusal is None:
            refusal = self.refuser.after_linking(q, [(k.start, k.end) for k in links])
        parts = split_question(q)
        texts = [self.wording.with_clinical_words(q)]
        topic = " ".join(q[k.start:k.end] for k in links)
        for p in parts if len(parts) > 1 else []:
            own = any(p.start <= k.start < p.end for k in links)
            texts.append(self.wording.with_clinical_words(p.text if own or not topic else f"{p.text} ({topic})"))
        vectors = self.embedder.embed_batch(texts)
        whole = self.index.scores(vectors[0])
        analysis = Analysis(q, links, [], self._passages(whole), refusal, vectors[0])
        if refusal is not None:
            return analysis
        whole_kinds = self.classifier.predict(vectors[0], q)
        for i, p in enumerate(parts):
            scores = whole if len(parts) == 1 else self.index.scores(vectors[i + 1])
            own = [k for k in links if p.start <= k.start < p.end]
            plinks = own or links
            named = self.facts.named(plinks)
            entity_words = content_words(" ".join(q[k.start:k.end] for k in plinks))
            text = p.text if len(parts) > 1 else q
            vector = vectors[0 if len(parts) == 1 else i + 1]
            alone = len(parts) == 1  # the part is the question: its kinds and clinical wording are the whole's
            view = PartView(self.facts.fact_cosines(scores), scores,
                            whole_kinds if alone else self.classifier.predict(vector, text),
                            content_words(text) - entity_words, self.idf, _quoted(text),
                            quantity_asked(texts[0] if alone else self.wording.with_clinical_words(text),
                                           entity_words), named, whole_kinds)
            cands = self.facts.candidates(named, view.cosines, view.phrases)
            x = features(cands, view, self.facts)
            analysis.parts.append(PartAnalysis(p, plinks, named, view, cands, x, vector, text))
        return analysis

    # ------------------------------------------------------------------------------------------ answering
    def ask(self, question: str) -> dict:
        return self.answer(question, self.analyse(question))

    def answer(self, question: str, a: Analysis, ranker: Ranker | None = None) -> dict:
        """The answer from an analysis (scripts/fit_ranker.py tries rankers on the same analyses)."""
        ranker = ranker or self.ranker
        base = {"question": question, "graph_version": None, "passages": a.passages}
        entities = [{"iri": k.iri, "label": self._label(k.iri)} for k in a.links]
        if a.refusal:
            return self._abstain(base, a.refusal.reason, a.refusal.message, entities)
        kinds = {k: max(pa.view.kinds.get(k, 0.0) for pa in a.parts) for k in self.classifier.kinds}
        patient = self._patient(a, kinds, ranker)
        scored = [list(zip(pa.candidates, ranker.scores(pa.x))) for pa in a.parts]
        chosen, gaps = self._choose(a, scored, ranker)
        if patient is not None:
            listed = {f["iri"] for f in patient["facts"]}
            chosen = sorted((t for t in chosen if t[1].iri not in listed), key=lambda t: -t[2])[:ranker.beside_patient]
        if patient is None and not chosen:
            return self._abstain(base, "not_in_sources", " ".join(gaps) or "They state nothing that answers it.",
                                 entities)
        groups = compose.order_facts(self.catalog, chosen)
        facts = [self._fact_json(c) for _, group in groups for c in group]
        text = compose.compose(self.catalog, groups)
        if gaps:
            text += ("\n" if text else "") + "For the rest of the question: " + " ".join(gaps)
        main = intent_name(max(kinds, key=kinds.get))
        if patient is not None:
            facts = patient["facts"] + facts
            text = patient["answer"] + ("\n" + _renumber(text, len(patient["facts"])) if text else "")
            main = "eligibility"
        iris = [f["iri"] for f in facts]
        out = {**base, "answered": True, "answer": text, "intent": main,
               "intents": [intent_name(k) for k in sorted(kinds, key=lambda k: -kinds[k]) if kinds[k] >= 0.1],
               "entities": entities, "facts": facts, "sparql": bind(template("facts_by_iri"), fact=iris)}
        if patient is not None:
            out["assessment"] = patient["assessment"]
        return out

    def _choose(self, a: Analysis, scored, ranker: Ranker) -> tuple[list[tuple[int, Candidate, float]], list[str]]:
        """The ranker's choice, and what the sources do not say: a part asking for a quantity takes only facts that
        state one; a part asking outright for a kind of fact the modality it names has none of gets none."""
        special = {i: (pa.view.quantity, self._missing_kind(pa, ranker.strict)) for i, pa in enumerate(a.parts)}
        special = {i: am for i, am in special.items() if am != (None, None)}
        # a special part chooses nothing the general way, so the facts it passes over stay free for the other parts
        chosen = ranker.select([(pa.view, [] if i in special else s)
                                for i, (pa, s) in enumerate(zip(a.parts, scored))], self.disjoint)
        gaps = []
        for i, (ask, missing) in special.items():
            if missing:
                gaps.append(missing)
                continue
            giving = sorted(((c, s) for c, s in scored[i] if gives(c, ask) and s >= ranker.floor),
                            key=lambda cs: -cs[1])[:ranker.per_part]
            if not giving:
                gaps.append(f"They give no {NAMES[ask.kind]} for it.")
            seen = {t[1].iri for t in chosen}
            chosen += [(i, c, s) for c, s in giving if c.iri not in seen]
        return chosen, list(dict.fromkeys(gaps))

    def _missing_kind(self, pa: PartAnalysis, strict: float) -> str | None:
        """The kind of fact the part asks for outright (probability >= strict), when no modality it names has a fact
        of that kind, of its own or from a class above it ("how does HIFU work?": the sources do not say)."""
        kind = max(pa.view.kinds, key=pa.view.kinds.get)
        if pa.view.kinds[kind] < strict or kind == "eligibility" or not pa.named.modalities:
            return None
        tied = {"own", "inherited", "class", "family"}
        if any(c.info.relation == kind and c.links & tied for c in pa.candidates):
            return None
        names = " or ".join(self.catalog.label(m) for m in pa.named.modalities)
        return f"They state no {compose.KIND_LABELS.get(kind, kind)} for {names}."

    def _patient(self, a: Analysis, kinds: dict[str, float], ranker: Ranker) -> dict | None:
        if self.assessor is None or all(pa.view.quantity for pa in a.parts):
            return None
        findings = patient_findings(a.question, kinds.get("eligibility", 0.0),
                                    sum(kinds.get(k, 0.0) for k in PATIENT_KINDS), ranker)
        if not findings:
            return None
        modalities = []
        for pa in a.parts:
            modalities += [m for m in pa.named.modalities + pa.named.family if m not in modalities]
        return answer_patient(self.assessor, findings, modalities)

    # ------------------------------------------------------------------------------------------ output
    def _label(self, iri: str) -> str:
        fam = self.wording.families.get(iri)
        return fam.labels[0] if fam else self.catalog.label(iri)

    def _fact_json(self, c: Candidate) -> dict:
        f = c.info.fact
        obj = {"iri": None, "label": f.object} if f.object_is_literal else {"iri": f.object,
                                                                              "label": self.catalog.label(f.object)}
        out = {"iri": f.iri, "subject": {"iri": f.subject, "label": self.catalog.label(f.subject)},
               "predicate": {"iri": f.predicate, "label": compose.predicate_label(c.info.relation)},
               "object": obj, "statement": f.statement,
               "evidence": [{"document": e.document, "start": e.start, "end": e.end, "quote": e.quote}
                            for e in f.evidence]}
        below = compose.inherited_by(self.catalog, c)
        if below:
            out["inherited_from"] = {"iri": f.subject, "label": self.catalog.label(f.subject)}
            out["inherited_by"] = {"iri": below, "label": self.catalog.label(below)}
        if f.note:
            out["note"] = f.note
        return out

    def _passages(self, scores: np.ndarray) -> list[dict]:
        if self._passage_rows.size == 0:
            return []
        sub = scores[self._passage_rows]
        out = []
        for i in np.argsort(-sub)[:PASSAGES_SHOWN]:
            it = self.index.items[self._passage_rows[i]]
            out.append({"document": it.document, "start": it.start, "end": it.end, "text": it.text,
                        "score": round(float(sub[i]), 4)})
        return out

    @staticmethod
    def _abstain(base: dict, reason: str, message: str, entities: list[dict]) -> dict:
        return {**base, "answered": False, "reason": reason, "answer": compose.abstention(message),
                "intent": None, "intents": [], "entities": entities, "facts": [], "sparql": ""}


def intent_name(kind: str) -> str:
    """A question kind as the contract's intent: hasContraindication -> contraindication, usesDrug -> drug."""
    name = re.sub(r"^(?:has|uses)(?=[A-Z])", "", kind)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _quoted(question: str) -> tuple[str, ...]:
    """Phrases the question puts in quotes, lower-cased ('sniper rifle')."""
    found = re.findall(r"(?:^|(?<=[\s(]))[\"“‘']([^\"”’']{3,60})[\"”’'](?=[\s.,;:?!)]|$)", question)
    return tuple(p.strip().lower() for p in found if p.strip())


def _renumber(text: str, offset: int) -> str:
    """Citations [n] of a text that follows `offset` cited facts."""
    return re.sub(r"^\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", text, flags=re.MULTILINE)
