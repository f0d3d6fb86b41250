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
LINK_BITS = {k: 1 << i for i, k in enumerate(LINK_KINDS)}
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
    mask: int = 0              # the links as LINK_BITS, for the ranker's columns

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
        # each fact's passage rows, padded with a row past the index (read as -inf), and its object's row
        width = max([len(i.passage_rows) for i in self.order] + [1])
        self._passages = np.full((len(self.order), width), len(index.items), dtype=np.intp)
        for info in self.order:
            self._passages[info.pos, :len(info.passage_rows)] = info.passage_rows
        self._objects = np.array([info.object_row for info in self.order], dtype=np.intp)
        self.descendants = {c: self._below(c) for c in catalog.classes}
        self.combinations = {c.iri: set(c.combination_of) for c in catalog.concepts.values() if c.combination_of}
        self.mentioning: dict[str, list[int]] = {}  # concept -> positions of the facts that mention it
        self.with_word: dict[str, list[int]] = {}  # content stem -> positions of the facts whose words hold it
        for info in self.order:
            for c in info.mentions:
                self.mentioning.setdefault(c, []).append(info.pos)
            for w in info.words:
                self.with_word.setdefault(w, []).append(info.pos)
        self._tie_cache: dict[tuple[str, str], list[tuple[FactInfo, str]]] = {}

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

    def passage_cosines(self, item_scores: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """The best cosine of the facts at `pos` among the index rows of the sentences each quotes (0 for none)."""
        best = np.concatenate([item_scores, [-np.inf]]).astype(item_scores.dtype)[self._passages[pos]].max(axis=1)
        return np.where(np.isinf(best), 0.0, best)

    def object_cosines(self, item_scores: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """The cosine of the facts at `pos` to each one's object concept's index row (0 for a literal or an
        unindexed one)."""
        objects = self._objects[pos]
        return np.where(objects >= 0, item_scores[objects], 0.0)

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
        """Every fact tied to what the part names, with how, in the order they are first found."""
        out: dict[int, Candidate] = {}

        def add(ties, target: str | None):
            for info, link in ties:
                c = out.get(info.pos)
                if c is None:
                    out[info.pos] = Candidate(info, {link}, target, LINK_BITS[link])
                else:
                    c.links.add(link)
                    c.mask |= LINK_BITS[link]
                    if c.target is None:
                        c.target = target

        for role, iris in (("own", named.modalities), ("family", named.family)):
            for m in iris:
                add(self._ties(m, role), m)
        for c in named.concepts:
            add(self._facts_of(self.catalog.facts_out, c, "own"), c)
        for c in named.modalities + named.family + named.concepts:
            add(self._facts_of(self.catalog.facts_in, c, "object"), c)
        wanted = set(named.modalities + named.family + named.concepts)
        for p in sorted({p for c in wanted for p in self.mentioning.get(c, ())}):
            info = self.order[p]
            add([(info, "mention")], min(info.mentions & wanted))
        for g in named.generic:
            add(self._facts_of(self.catalog.facts_out, g, "generic"), g)
        add([(self.order[i], "semantic") for i in np.argsort(-cosines)[:SEMANTIC_TOP]], None)
        if phrases:  # what the question quotes is looked up verbatim
            add([(info, "quoted") for info in self.order if any(ph in info.text for ph in phrases)], None)
        return list(out.values())

    def _facts_of(self, facts: dict[str, list[Fact]], iri: str, link: str) -> list[tuple[FactInfo, str]]:
        return [(self.infos[f.iri], link) for f in facts.get(iri, [])]

    def _ties(self, m: str, role: str) -> list[tuple[FactInfo, str]]:
        """A named modality's facts (role: own or family), its classes' (inherited, class) and its subclasses'
        (below), in that order; the same for every question, so computed once."""
        key = (m, role)
        if key not in self._tie_cache:
            cat = self.catalog
            ties = self._facts_of(cat.facts_out, m, role)
            ties += [(self.infos[f.iri], "inherited") for f, _holder in cat.inherited_facts(m)]
            for holder in cat.ancestors(m):
                ties += self._facts_of(cat.facts_out, holder, "class")
            for sub in sorted(self.descendants.get(m, ())):  # a set: sorted, or the order varies by process
                ties += self._facts_of(cat.facts_out, sub, "below")
            self._tie_cache[key] = ties
        return self._tie_cache[key]


def _passages_at(spans: list[tuple[int, int, int]], offset: int) -> list[int]:
    """The row of the passage (spans sorted by start) that holds `offset`, by bisection: passages are a document's
    sentences, which do not overlap, so it is the last one starting at or before the offset."""
    i = bisect.bisect_right(spans, (offset, float("inf"), 0))
    return [spans[i - 1][2]] if i and offset < spans[i - 1][1] else []
