"""The facts that could answer a question part, and how each is tied to what the part names.

A fact becomes a candidate through what the part names (its own facts, a class's facts inherited, a family's
members', a subclass's, facts whose object or text names it) or by meaning alone (the facts closest to the
question). The ties are kept as link kinds, which the ranker weighs: an answer reads a modality's own facts
before its class's, and a family's members compete on what is asked.
"""
import bisect
from dataclasses import dataclass, field

import numpy as np

from ..catalog import Catalog, Fact
from ..search import VectorIndex
from ..vocab import local_name
from .entities import GENERIC, Link
from .quantities import KINDS, quantity_given
from .tables import fact_text
from .words import content_words

LINK_KINDS = ("own", "inherited", "class", "family", "below", "object", "mention", "generic", "semantic", "quoted")
SEMANTIC_TOP = 25  # facts closest in meaning joined to every part's candidates


@dataclass
class FactInfo:
    """What ranking needs of one fact, computed once."""
    fact: Fact
    pos: int                 # its position in FactIndex.order
    row: int                 # its row in the vector index
    relation: str
    words: set[str]          # content stems of statement, quotes and object label
    mentions: set[str]       # concepts its statement and quotes name (and a comparison's other side)
    gives: set[str]          # quantity kinds its quotes state
    text: str                # statement and quotes, lower case
    passage_rows: list[int] = field(default_factory=list)  # index rows of the sentences its quotes lie in
    object_row: int = -1     # index row of its object concept (-1: a literal, or not indexed)


@dataclass
class Candidate:
    info: FactInfo
    links: set[str] = field(default_factory=set)
    target: str | None = None  # the named modality or concept it answers for

    @property
    def iri(self) -> str:
        return self.info.fact.iri


@dataclass
class Named:
    """What one part names, sorted by role."""
    modalities: list[str]
    family: list[str]        # members of families named ("embolization" -> TACE, TAE)
    concepts: list[str]      # other concepts (drugs, conditions, findings...)
    generic: list[str]       # the disease itself ("liver cancer"): the context of every question

    @property
    def all(self) -> list[str]:
        return self.modalities + self.family + self.concepts + self.generic


class FactIndex:
    def __init__(self, catalog: Catalog, index: VectorIndex, fact_mentions: dict[str, list[str]]):
        """fact_mentions: the concepts linked in each fact's text (kg/qa/tables.py)."""
        self.catalog = catalog
        rows = {it.iri: i for i, it in enumerate(index.items) if it.kind == "fact"}
        self.infos: dict[str, FactInfo] = {}
        for pos, f in enumerate(catalog.facts.values()):
            quotes = " | ".join(e.quote for e in f.evidence)
            obj = f.object if f.object_is_literal else catalog.label(f.object)
            text = fact_text(f)
            mentions = set(fact_mentions[f.iri]) | {f.subject}
            if not f.object_is_literal:
                mentions |= {f.object, *catalog.concepts.get(f.object).compared_with} \
                    if f.object in catalog.concepts else {f.object}
            self.infos[f.iri] = FactInfo(f, pos, rows[f.iri], local_name(f.predicate), content_words(f"{text} {obj}"),
                                         mentions, {k for k in KINDS if quantity_given(k, quotes)}, text.lower())
        by_document: dict[str, list[tuple[int, int, int]]] = {}  # document -> (start, end, row), by start
        for i, it in enumerate(index.items):
            if it.kind == "passage":
                by_document.setdefault(it.document, []).append((it.start, it.end, i))
        for spans in by_document.values():
            spans.sort()
        concepts = {it.iri: i for i, it in enumerate(index.items) if it.kind == "concept"}
        for info in self.infos.values():
            f = info.fact
            info.passage_rows = sorted({row for e in f.evidence for row in _passages_at(by_document.get(e.document, []),
                                                                                          e.start)})
            info.object_row = -1 if f.object_is_literal else concepts.get(f.object, -1)
        self.rows = np.array([i.row for i in self.infos.values()])
        self.order = list(self.infos.values())
        self.descendants = {c: self._below(c) for c in catalog.classes}
        self.combinations = {c.iri: set(c.combination_of) for c in catalog.concepts.values() if c.combination_of}

    def _below(self, cls: str) -> set[str]:
        out, todo = set(), list(self.catalog.children.get(cls, []))
        while todo:
            c = todo.pop()
            if c not in out:
                out.add(c)
                todo += self.catalog.children.get(c, [])
        return out

    def fact_cosines(self, item_scores: np.ndarray) -> np.ndarray:
        """The question's cosine to every fact, in self.order."""
        return item_scores[self.rows]

    # ------------------------------------------------------------------------------------------ named things
    def named(self, links: list[Link]) -> Named:
        modalities, family, concepts, generic = [], [], [], []
        for link in links:
            if link.members:
                family += [m for m in link.members if m not in family]
            elif link.iri in GENERIC:
                generic.append(link.iri)
            elif self.catalog.concepts.get(link.iri) and self.catalog.concepts[link.iri].is_modality:
                modalities.append(link.iri)
            else:
                concepts.append(link.iri)
        # a combination named through its parts ("RFA + TACE") is named itself
        both = set(modalities) | set(family)
        for combo, parts in self.combinations.items():
            if len(both) >= 2 and parts <= self._with_ancestors(both) and combo not in modalities:
                modalities.append(combo)
        return Named(modalities, [f for f in family if f not in modalities], concepts, generic)

    def _with_ancestors(self, iris: set[str]) -> set[str]:
        out = set(iris)
        for i in iris:
            out |= set(self.catalog.ancestors(i))
        return out

    # ------------------------------------------------------------------------------------------ candidates
    def candidates(self, named: Named, cosines: np.ndarray, phrases: tuple[str, ...] = ()) -> list[Candidate]:
        out: dict[str, Candidate] = {}

        def add(fact: Fact, link: str, target: str | None):
            c = out.get(fact.iri)
            if c is None:
                c = out[fact.iri] = Candidate(self.infos[fact.iri], target=target)
            c.links.add(link)
            if c.target is None:
                c.target = target

        cat = self.catalog
        for role, iris in (("own", named.modalities), ("family", named.family)):
            for m in iris:
                for f in cat.facts_out.get(m, []):
                    add(f, role, m)
                for f, _holder in cat.inherited_facts(m):
                    add(f, "inherited", m)
                for holder in cat.ancestors(m):
                    for f in cat.facts_out.get(holder, []):
                        add(f, "class", m)
                for sub in self.descendants.get(m, ()):
                    for f in cat.facts_out.get(sub, []):
                        add(f, "below", m)
        for c in named.concepts:
            for f in cat.facts_out.get(c, []):
                add(f, "own", c)
        for c in named.modalities + named.family + named.concepts:
            for f in cat.facts_in.get(c, []):
                add(f, "object", c)
        wanted = set(named.modalities + named.family + named.concepts)
        if wanted:
            for info in self.order:
                if info.mentions & wanted:
                    add(info.fact, "mention", min(info.mentions & wanted))
        for g in named.generic:
            for f in cat.facts_out.get(g, []):
                add(f, "generic", g)
        for i in np.argsort(-cosines)[:SEMANTIC_TOP]:
            add(self.order[i].fact, "semantic", None)
        for info in self.order if phrases else ():
            if any(ph in info.text for ph in phrases):  # what the question quotes is looked up verbatim
                add(info.fact, "quoted", None)
        return list(out.values())


def _passages_at(spans: list[tuple[int, int, int]], offset: int) -> list[int]:
    """The row of the passage (spans sorted by start) that holds `offset`, by bisection: passages are a document's
    sentences, which do not overlap, so it is the last one starting at or before the offset."""
    i = bisect.bisect_right(spans, (offset, float("inf"), 0))
    return [spans[i - 1][2]] if i and offset < spans[i - 1][1] else []
