"""Concepts, classes, relations, facts with evidence and documents, read from the built graph once and kept in memory.

Shared by the pages and the question answerer, so both see the same graph the same way.

Why a catalog rather than a query per page: the graph never changes while the app runs (one build, one
graph_version), it is small (hundreds of concepts and facts), and a page that needs a concept's facts, its
inherited facts, its classes and the labels of everything it links to would otherwise make a dozen queries.
Loaded with the kg/queries/page_*.rq templates (no user values); pages then only look things up, which keeps
the largest entity page well under the 200 ms budget.
"""
from collections import defaultdict
from dataclasses import dataclass, field

from .corpus import Quote, load_corpus
from .queries import template
from .store import GraphStore
from .vocab import HCC, local_name

TREATMENT_MODALITY = str(HCC.TreatmentModality)
ROOT_CLASS = str(HCC.Concept)


@dataclass
class Fact:
    iri: str
    subject: str
    predicate: str
    object: str
    object_is_literal: bool
    statement: str
    note: str | None
    evidence: list[Quote] = field(default_factory=list)

    @property
    def relation(self) -> str:
        return local_name(self.predicate)


@dataclass(frozen=True)
class Relation:
    iri: str
    label: str
    comment: str | None
    inheritable: bool

    @property
    def name(self) -> str:
        return local_name(self.iri)


@dataclass
class Criterion:
    key: str
    parameter: str
    comparator: str
    values: list[str]
    unit: str | None


@dataclass
class ClassInfo:
    iri: str
    label: str
    comment: str | None
    supers: set[str] = field(default_factory=set)  # the closure: every class above
    facts_apply_to_subclasses: bool = False


@dataclass
class Concept:
    iri: str
    label: str
    alts: list[str] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    compared_with: list[str] = field(default_factory=list)
    combination_of: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    criteria: list[Criterion] = field(default_factory=list)
    is_modality: bool = False

    @property
    def local(self) -> str:
        return local_name(self.iri)


@dataclass(frozen=True)
class SourceDocument:
    id: str
    title: str
    text: str


_LIST_KEYS = {"alt": "alts", "definition": "definitions", "note": "notes", "correction": "corrections",
              "outcome": "outcomes", "comparedWith": "compared_with", "combinationOf": "combination_of"}


class Catalog:
    def __init__(self, store: GraphStore, corpus_dir):
        self.classes = self._load_classes(store)
        rows = store.select(template("page_relations"))
        self.relations = {r["p"]: Relation(r["p"], r["label"] or local_name(r["p"]), r["comment"],
                                           r["inheritable"] == "true") for r in rows}
        self.disjoint: dict[str, set[str]] = defaultdict(set)  # relation -> relations it never shares a fact with
        for r in rows:
            if r["disjoint"]:
                self.disjoint[r["p"]].add(r["disjoint"])
        self.concepts = self._load_concepts(store)
        self.facts = self._load_facts(store)
        self.facts_out: dict[str, list[Fact]] = defaultdict(list)
        self.facts_in: dict[str, list[Fact]] = defaultdict(list)
        self.by_relation: dict[str, list[Fact]] = defaultdict(list)
        self.evidence_by_document: dict[str, list[tuple[Quote, Fact]]] = defaultdict(list)
        for f in self.facts.values():
            self.facts_out[f.subject].append(f)
            self.by_relation[f.predicate].append(f)
            if not f.object_is_literal:
                self.facts_in[f.object].append(f)
            for ev in f.evidence:
                self.evidence_by_document[ev.document].append((ev, f))
        for spans in self.evidence_by_document.values():
            spans.sort(key=lambda pair: (pair[0].start, pair[0].end))
        self.parents, self.children = self._direct_links()
        titles = {r["id"]: r["title"] for r in store.select(template("page_documents"))}
        corpus = load_corpus(corpus_dir)
        self.documents = {d.id: SourceDocument(d.id, titles.get(d.id, d.title), d.text) for d in corpus.values()}

    # ------------------------------------------------------------------------------------------ loading
    @staticmethod
    def _load_classes(store: GraphStore) -> dict[str, ClassInfo]:
        out: dict[str, ClassInfo] = {}
        for r in store.select(template("page_classes")):
            c = out.setdefault(r["cls"], ClassInfo(r["cls"], r["label"] or local_name(r["cls"]), r["comment"]))
            if r["super"]:
                c.supers.add(r["super"])
            c.facts_apply_to_subclasses = c.facts_apply_to_subclasses or r["applies"] == "true"
        return out

    def _load_concepts(self, store: GraphStore) -> dict[str, Concept]:
        out: dict[str, Concept] = {}
        for r in store.select(template("page_concepts")):
            iri, key, value = r["concept"], r["key"], r["value"]
            c = out.setdefault(iri, Concept(iri, local_name(iri)))
            if key == "label":
                c.label = value
            elif value not in getattr(c, _LIST_KEYS[key]):
                getattr(c, _LIST_KEYS[key]).append(value)
        for r in store.select(template("page_concept_types")):
            c = out.get(r["concept"])
            if c is not None and r["type"] not in c.types:
                c.types.append(r["type"])
        for c in out.values():
            info = self.classes.get(c.iri)
            c.is_modality = info is not None and TREATMENT_MODALITY in info.supers
            if c.is_modality:
                c.types = [TREATMENT_MODALITY]
            c.alts.sort(key=str.lower)
        criteria: dict[tuple[str, str], Criterion] = {}
        for r in store.select(template("page_criteria")):
            if r["concept"] not in out:
                continue
            crit = criteria.get((r["concept"], r["criterion"]))
            if crit is None:
                crit = criteria[(r["concept"], r["criterion"])] = Criterion(
                    r["key"], r["parameter"] or r["key"], r["comparator"], [], r["unit"])
                out[r["concept"]].criteria.append(crit)
            if r["value"] not in crit.values:
                crit.values.append(r["value"])
        return out

    @staticmethod
    def _load_facts(store: GraphStore) -> dict[str, Fact]:
        facts: dict[str, Fact] = {}
        for r in store.select(template("page_facts")):
            f = facts.get(r["fact"])
            if f is None:
                f = facts[r["fact"]] = Fact(r["fact"], r["s"], r["p"], r["o"], r["literal"] == "true",
                                            r["statement"], r["note"])
            ev = Quote(r["doc"], int(r["start"]), int(r["end"]), r["exact"])
            if ev not in f.evidence:
                f.evidence.append(ev)
        for f in facts.values():
            f.evidence.sort(key=lambda e: (e.document, e.start))
        return facts

    def _direct_links(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Direct super- and subclasses: the transitive reduction of the inferred closure."""
        parents: dict[str, list[str]] = {}
        children: dict[str, list[str]] = defaultdict(list)
        for iri, info in self.classes.items():
            above = info.supers
            direct = [s for s in above if not any(s in self.classes.get(o, ClassInfo(o, o, None)).supers
                                                  for o in above if o != s)]
            parents[iri] = sorted(direct, key=self.sort_key)
            for p in direct:
                children[p].append(iri)
        for p in children:
            children[p].sort(key=self.sort_key)
        return parents, dict(children)

    # ------------------------------------------------------------------------------------------ lookups
    def label(self, iri: str) -> str:
        if iri in self.concepts:
            return self.concepts[iri].label
        if iri in self.classes:
            return self.classes[iri].label
        if iri in self.relations:
            return self.relations[iri].label
        return local_name(iri)

    def sort_key(self, iri: str) -> str:
        return self.label(iri).lower()

    def ancestors(self, iri: str) -> list[str]:
        """Every class above, nearest first (a class with more classes above it is nearer)."""
        info = self.classes.get(iri)
        if info is None:
            return []
        return sorted(info.supers, key=lambda s: (-len(self.classes[s].supers) if s in self.classes else 0,
                                                  self.sort_key(s)))

    def inherited_facts(self, iri: str) -> list[tuple[Fact, str]]:
        """Facts stated for a class above whose facts apply to its subclasses, of inheritable relations."""
        out = []
        for holder in self.ancestors(iri):
            info = self.classes.get(holder)
            if not (info and info.facts_apply_to_subclasses):
                continue
            for f in self.facts_out.get(holder, []):
                rel = self.relations.get(f.predicate)
                if rel and rel.inheritable:
                    out.append((f, holder))
        return out

    def modalities(self) -> list[Concept]:
        return sorted((c for c in self.concepts.values() if c.is_modality), key=lambda c: c.label.lower())

    def type_label(self, type_iri: str) -> str:
        return self.label(type_iri)

    def concepts_by_type(self) -> dict[str, list[Concept]]:
        """Type IRI -> its concepts, types ordered by label; a concept with two types is listed under both."""
        groups: dict[str, list[Concept]] = defaultdict(list)
        for c in self.concepts.values():
            for t in c.types or [ROOT_CLASS]:
                groups[t].append(c)
        return {t: sorted(groups[t], key=lambda c: c.label.lower())
                for t in sorted(groups, key=self.sort_key)}

    def instances_of(self, class_iri: str) -> list[Concept]:
        return sorted((c for c in self.concepts.values() if class_iri in c.types), key=lambda c: c.label.lower())

    def modality_tree(self, root: str = TREATMENT_MODALITY) -> list[dict]:
        """Nested [{iri, label, children: [...]}] from the direct subclass links below `root`."""
        def node(iri: str, seen: frozenset) -> dict:
            kids = [k for k in self.children.get(iri, []) if k not in seen]
            return {"iri": iri, "label": self.label(iri), "facts": len(self.facts_out.get(iri, [])),
                    "children": [node(k, seen | {k}) for k in kids]}
        return node(root, frozenset({root}))["children"]
