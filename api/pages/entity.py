"""What a resource's page shows, as plain data: the HTML page renders it and the JSON view returns it as is.

A concept page holds its labels, definition, classes, subclasses, criteria and every fact in and out, grouped
by relation, each fact with its quotes. Facts a concept holds because its class states them for all its
subclasses (contraindications of local ablation hold for RFA) are listed with the class they come from.
"""
import pyoxigraph as ox

from kg.queries import template
from kg.store import bind
from kg.vocab import PREFIXES, local_name

from kg.catalog import Catalog, Fact

# The order a reader expects: what it is, who it is for, who it is not for, how it works, what goes wrong...
RELATION_ORDER = ["hasDefinition", "hasSubtype", "treats", "hasIndication", "hasContraindication",
                  "hasRelativeContraindication", "hasMechanism", "hasAdverseEffect", "hasLimitation", "hasAdvantage",
                  "hasOutcome", "usesDrug", "usesEmbolicAgent", "guidedBy", "hasRoute", "hasProcedureStep",
                  "hasTechnicalRequirement", "evaluatedBy", "hasResponseCategory", "hasFollowUp",
                  "hasPrognosticFactor", "hasComparison", "combinedWith", "hasRecommendation", "hasFinding"]
_RANK = {name: i for i, name in enumerate(RELATION_ORDER)}

RDF_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}


def ref(catalog: Catalog, iri: str) -> dict:
    return {"iri": iri, "label": catalog.label(iri)}


def fact_view(catalog: Catalog, fact: Fact, inherited_from: str | None = None) -> dict:
    obj = {"value": fact.object} if fact.object_is_literal else ref(catalog, fact.object)
    return {
        "iri": fact.iri, "subject": ref(catalog, fact.subject), "predicate": ref(catalog, fact.predicate),
        "object": obj, "statement": fact.statement, "note": fact.note,
        "evidence": [{"document": e.document, "title": _title(catalog, e.document), "start": e.start, "end": e.end,
                      "quote": e.quote} for e in fact.evidence],
        "inherited_from": ref(catalog, inherited_from) if inherited_from else None,
    }


def _title(catalog: Catalog, doc: str) -> str:
    d = catalog.documents.get(doc)
    return d.title if d else doc


def _grouped(catalog: Catalog, items: list[tuple[Fact, str | None]]) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for fact, holder in items:
        groups.setdefault(fact.predicate, []).append(fact_view(catalog, fact, holder))
    for facts in groups.values():
        # own facts first, then inherited ones; within each, by statement
        facts.sort(key=lambda f: (f["inherited_from"] is not None, f["statement"].lower()))
    order = sorted(groups, key=lambda p: (_RANK.get(local_name(p), len(_RANK)), catalog.label(p)))
    return [{"relation": ref(catalog, p), "name": local_name(p), "facts": groups[p],
             "inherited": sum(1 for f in groups[p] if f["inherited_from"])} for p in order]


def concept_view(catalog: Catalog, iri: str) -> dict:
    c = catalog.concepts[iri]
    own = [(f, None) for f in catalog.facts_out.get(iri, [])]
    out = _grouped(catalog, own + catalog.inherited_facts(iri))
    incoming = _grouped(catalog, [(f, None) for f in catalog.facts_in.get(iri, [])])
    quoted = {f.object for f in catalog.facts_out.get(iri, []) if f.object_is_literal}
    return {
        "kind": "concept", "iri": iri, "local": c.local, "label": c.label, "alt_labels": c.alts,
        "definitions": [d for d in c.definitions if d not in quoted],
        "notes": c.notes, "corrections": c.corrections, "outcomes": c.outcomes,
        "types": [ref(catalog, t) for t in c.types], "is_modality": c.is_modality,
        "superclasses": [ref(catalog, p) for p in catalog.parents.get(iri, []) if p != iri],
        "subclasses": [ref(catalog, k) for k in catalog.children.get(iri, [])],
        "compared_with": [ref(catalog, x) for x in c.compared_with],
        "combination_of": [ref(catalog, x) for x in c.combination_of],
        "criteria": [{"parameter": cr.parameter, "key": cr.key, "comparator": cr.comparator, "values": cr.values,
                      "unit": cr.unit} for cr in c.criteria],
        "facts": out, "facts_in": incoming,
        "fact_count": sum(len(g["facts"]) for g in out), "inherited_count": sum(g["inherited"] for g in out),
        "facts_in_count": sum(len(g["facts"]) for g in incoming),
    }


def class_view(catalog: Catalog, iri: str) -> dict:
    info = catalog.classes[iri]
    return {"kind": "class", "iri": iri, "label": info.label, "comment": info.comment,
            "superclasses": [ref(catalog, p) for p in catalog.parents.get(iri, [])],
            "subclasses": [ref(catalog, k) for k in catalog.children.get(iri, [])],
            "instances": [ref(catalog, c.iri) for c in catalog.instances_of(iri)]}


def relation_view(catalog: Catalog, iri: str) -> dict:
    rel = catalog.relations[iri]
    facts = sorted(catalog.by_relation.get(iri, []), key=lambda f: (catalog.sort_key(f.subject), f.statement))
    return {"kind": "relation", "iri": iri, "local": rel.name, "label": rel.label, "comment": rel.comment,
            "inherited_by_subclasses": rel.inheritable, "facts": [fact_view(catalog, f) for f in facts]}


def fact_page_view(catalog: Catalog, iri: str) -> dict:
    return {"kind": "fact", **fact_view(catalog, catalog.facts[iri]), "label": catalog.facts[iri].statement}


def view(catalog: Catalog, iri: str) -> dict | None:
    """The view of any resource the catalog knows, or None."""
    if iri in catalog.concepts:
        return concept_view(catalog, iri)
    if iri in catalog.facts:
        return fact_page_view(catalog, iri)
    if iri in catalog.relations:
        return relation_view(catalog, iri)
    if iri in catalog.classes:
        return class_view(catalog, iri)
    return None


def describe(store, iri: str) -> list[ox.Triple]:
    """The resource's bounded description (page_describe.rq, the IRI bound as a VALUES term)."""
    return store.construct(bind(template("page_describe"), x=[iri]))


def serialize(triples: list[ox.Triple], fmt: str) -> bytes:
    return ox.serialize(triples, format=RDF_FORMATS[fmt], prefixes={k: str(v) for k, v in PREFIXES.items()})


def named_graphs(store) -> set[str]:
    return set(store.graph_sizes())


def graph_size(store, iri: str) -> int:
    return store.graph_sizes().get(iri, 0)
