"""Facts out of the graph through SPARQL templates (kg/queries/*.rq) with values bound by `store.bind`."""
from dataclasses import dataclass, field
from ..corpus import Quote
from ..queries import template
from ..store import GraphStore, bind
from ..vocab import HCC


@dataclass
class FactHit:
    iri: str
    subject: str  # the class or concept the fact is stated for
    predicate: str
    object: str
    statement: str
    note: str | None
    target: str  # the entity of the question that led here (differs from subject when inherited)
    evidence: list[Quote] = field(default_factory=list)
    score: float = 0.0


def _collect(rows) -> list[FactHit]:
    facts: dict[str, FactHit] = {}
    for r in rows:
        hit = facts.get(r["fact"])
        if hit is None:
            hit = facts[r["fact"]] = FactHit(r["fact"], r["holder"], r["p"], r["o"], r["statement"], r.get("note"),
                                             r["target"])
        ev = Quote(r["doc"], int(r["start"]), int(r["end"]), r["exact"])
        if ev not in hit.evidence:
            hit.evidence.append(ev)
    for hit in facts.values():
        hit.evidence.sort(key=lambda e: (e.document, e.start))
    return list(facts.values())


def facts_about(store: GraphStore, targets: list[str], relations: list[str]) -> tuple[list[FactHit], str]:
    """Facts of the given relations stated for the targets or inherited from their classes."""
    query = bind(template("facts_about"), target=targets, p=[str(HCC[r]) for r in relations])
    return _collect(store.select(query)), query


def facts_mentioning(store: GraphStore, concepts: list[str]) -> tuple[list[FactHit], str]:
    query = bind(template("facts_mentioning"), target=concepts)
    return _collect(store.select(query)), query


def comparisons(store: GraphStore, targets: list[str], others: list[str]) -> tuple[list[FactHit], str]:
    query = bind(template("comparisons"), target=targets, other=others)
    return _collect(store.select(query)), query


def facts_by_iri(store: GraphStore, facts: list[str]) -> tuple[list[FactHit], str]:
    query = bind(template("facts_by_iri"), fact=facts)
    return _collect(store.select(query)), query



def facts_below(store: GraphStore, targets: list[str]) -> tuple[list[FactHit], str]:
    """Facts stated for subclasses of the targets."""
    query = bind(template("facts_below"), target=targets)
    return _collect(store.select(query)), query
