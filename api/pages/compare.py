"""Modalities side by side: one row per aspect, one column per modality, each item with numbered citations.

Cells hold a modality's own facts and those it inherits from a class whose facts apply to its subclasses (marked
with that class), exactly as its entity page does. Citations are numbered once for the whole table, so the
table and its source list can go on a slide together.
"""
from dataclasses import dataclass, field

from kg.corpus import Quote
from kg.vocab import HCC

from kg.catalog import Catalog, Fact

ROWS = [("Indications", ["hasIndication"]),
        ("Contraindications", ["hasContraindication", "hasRelativeContraindication"]),
        ("Mechanisms", ["hasMechanism"]),
        ("Adverse effects", ["hasAdverseEffect"]),
        ("Limitations", ["hasLimitation"]),
        ("Advantages", ["hasAdvantage"])]
RELATIVE = str(HCC.hasRelativeContraindication)
DEFAULT = ["TACE", "RFA"]
MAX_COLUMNS = 6


@dataclass
class Item:
    fact: Fact
    label: str
    object: str | None
    relative: bool
    inherited_from: str | None
    citations: list[int] = field(default_factory=list)


@dataclass
class Table:
    modalities: list[str]
    rows: list[tuple[str, list[list[Item]]]]
    sources: list[Quote]
    comparisons: list[tuple[Fact, list[int]]]


def compare(catalog: Catalog, modalities: list[str]) -> Table:
    numbers: dict[Quote, int] = {}
    sources: list[Quote] = []

    def cite(fact: Fact) -> list[int]:
        out = []
        for ev in fact.evidence:
            if ev not in numbers:
                numbers[ev] = len(sources) + 1
                sources.append(ev)
            out.append(numbers[ev])
        return out

    rows = []
    for title, names in ROWS:
        predicates = {str(HCC[n]) for n in names}
        cells = []
        for m in modalities:
            pairs = [(f, None) for f in catalog.facts_out.get(m, [])] + catalog.inherited_facts(m)
            items = []
            for fact, holder in pairs:
                if fact.predicate not in predicates:
                    continue
                label = fact.object if fact.object_is_literal else catalog.label(fact.object)
                items.append(Item(fact, label, None if fact.object_is_literal else fact.object,
                                  fact.predicate == RELATIVE, holder))
            items.sort(key=lambda it: (it.inherited_from is not None, it.relative, it.label.lower()))
            for it in items:
                it.citations = cite(it.fact)
            cells.append(items)
        rows.append((title, cells))
    comparisons = [(f, cite(f)) for f in _comparisons(catalog, modalities)]
    return Table(modalities, rows, sources, comparisons)


def abbreviation(concept) -> str | None:
    """The short name a modality goes by (TACE, RFA), if it has one: its own id when that is a synonym."""
    if concept.local in concept.alts:
        return concept.local
    return next((a for a in concept.alts if a.isupper() and len(a) <= 8), None)


def _comparisons(catalog: Catalog, modalities: list[str]) -> list[Fact]:
    """Facts comparing or combining two of the chosen modalities (or classes above them)."""
    lineage = {m: {m, *catalog.ancestors(m)} for m in modalities}
    out: list[Fact] = []
    for m in modalities:
        others = set().union(*(lineage[o] for o in modalities if o != m)) - lineage[m]
        for holder in lineage[m]:
            for f in catalog.facts_out.get(holder, []):
                if f.object_is_literal or f in out:
                    continue
                compared = catalog.concepts.get(f.object)
                partners = set(compared.compared_with) if compared else set()
                if f.relation == "combinedWith":
                    partners.add(f.object)
                if f.relation in ("hasComparison", "combinedWith") and partners & others:
                    out.append(f)
    return out
