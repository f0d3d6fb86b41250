"""The eligibility rule set as the graph states it, read once from the store: the findings criteria can test
(parameters), each concept's criteria, the rules (a modality's indications and contraindications, those of the
classes above it, and for a combination the contraindications of its parts) and the suggestions. kg/assess.py
evaluates a case against it.
"""
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from .corpus import Quote
from .errors import InputError
from .queries import template
from .store import GraphStore, bind
from .vocab import HCC, XSD

EFFECTS = {str(HCC.hasContraindication): "contraindication",
           str(HCC.hasRelativeContraindication): "relative_contraindication",
           str(HCC.hasIndication): "indication"}
SUGGESTION_RELATIONS = {str(HCC.hasRecommendation): "recommendation", str(HCC.hasComparison): "comparison"}
# Relations a combination therapy takes over from the modalities it combines.
PART_RELATIONS = [str(HCC.hasContraindication), str(HCC.hasRelativeContraindication)]
EFFECT_ORDER = {"contraindication": 0, "relative_contraindication": 1, "indication": 2}
_TYPES = {str(XSD.integer): "integer", str(XSD.decimal): "decimal", str(XSD.boolean): "boolean",
          str(XSD.string): "string"}


@dataclass(frozen=True)
class Parameter:
    """A patient finding criteria can test; `key` is its /assess field name."""
    key: str
    iri: str
    label: str
    datatype: str  # integer | decimal | boolean | string
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def parse(self, lexical: str):
        """A value as the graph writes it (a literal's lexical form) in this parameter's Python type."""
        if self.datatype == "integer":
            return int(lexical)
        if self.datatype == "decimal":
            return float(lexical)
        if self.datatype == "boolean":
            return lexical.strip().lower() in ("true", "1")
        return lexical

    @property
    def python_type(self):
        if self.allowed:
            return Literal[self.allowed]
        return {"integer": int, "decimal": float, "boolean": bool}.get(self.datatype, str)

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "datatype": self.datatype, "allowed": list(self.allowed),
                "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class Criterion:
    parameter: Parameter
    comparator: str  # <, <=, >, >=, =, in
    values: tuple
    unit: str | None

    def evaluate(self, findings: dict) -> str:
        finding = findings.get(self.parameter.key)
        if finding is None:
            return "unknown"
        c, v = self.comparator, self.values[0]
        if c == "in":
            ok = finding in self.values
        elif c == "=":
            ok = finding == v
        else:
            ok = {"<": finding < v, "<=": finding <= v, ">": finding > v, ">=": finding >= v}[c]
        return "met" if ok else "not_met"

    def as_dict(self, findings: dict) -> dict:
        return {"parameter": self.parameter.key, "comparator": self.comparator,
                "value": list(self.values) if self.comparator == "in" else self.values[0], "unit": self.unit,
                "outcome": self.evaluate(findings), "finding": findings.get(self.parameter.key)}


@dataclass
class Rule:
    """One fact whose concept has criteria: an indication, a (relative) contraindication or a suggestion."""
    fact: str
    kind: str  # an effect of EFFECTS or a kind of SUGGESTION_RELATIONS
    concept: str
    concept_label: str
    concept_note: str | None
    holder: str  # the modality the source states the fact for
    statement: str
    note: str | None
    criteria: tuple[Criterion, ...] = ()
    evidence: list[Quote] = field(default_factory=list)

    def evaluate(self, findings: dict) -> str:
        outcomes = [c.evaluate(findings) for c in self.criteria]
        if "not_met" in outcomes:
            return "not_met"
        return "unknown" if "unknown" in outcomes else "met"

    @cached_property
    def position(self) -> tuple:
        """Where the source states it (first evidence), for listing rules in reading order; read after loading."""
        return min(((e.document, e.start) for e in self.evidence), default=("", 0))


@dataclass
class Modality:
    iri: str
    label: str
    parent: str | None
    rules: list[Rule] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)  # concept IRIs of the suggestions that concern it


@dataclass
class Suggestion:
    """A recommendation or comparison concept with criteria, and the facts (one per modality stating it)."""
    concept: str
    label: str
    kind: str
    criteria: tuple[Criterion, ...]
    facts: list[Rule] = field(default_factory=list)

    @cached_property
    def position(self) -> tuple:
        return min(f.position for f in self.facts)


def read_rules(store: GraphStore) -> tuple[dict[str, Parameter], list[Modality], list[Suggestion], dict[str, str]]:
    """The rule set of the graph in `store`: its parameters, its modalities with their rules (in the order of the
    hierarchy), its suggestions (in reading order) and the labels of the modalities named."""
    parameters = _load_parameters(store)
    holds_for: dict[tuple[str, str], list[str]] = {}  # (holder, relation) -> modalities its facts hold for
    for r in store.select(bind(template("assess_reach"), p=list(EFFECTS) + list(SUGGESTION_RELATIONS),
                               partP=PART_RELATIONS)):
        holds_for.setdefault((r["holder"], r["p"]), []).append(r["modality"])
    stated = store.select(bind(template("assess_rules"), p=sorted({p for _, p in holds_for})))
    rows = [dict(r, modality=m) for r in stated for m in sorted(holds_for.get((r["holder"], r["p"]), ()))]
    criteria = _load_criteria(store, parameters, sorted({r["concept"] for r in rows}))
    facts: dict[str, Rule] = {}
    reach: dict[str, list[str]] = {}  # modality -> facts that hold for it
    for r in rows:
        rule = facts.get(r["fact"])
        if rule is None:
            kind = EFFECTS.get(r["p"]) or SUGGESTION_RELATIONS[r["p"]]
            rule = facts[r["fact"]] = Rule(r["fact"], kind, r["concept"], r["conceptLabel"] or r["concept"],
                                           r["conceptNote"], r["holder"], r["statement"], r["note"],
                                           criteria[r["concept"]])
        ev = Quote(r["doc"], int(r["start"]), int(r["end"]), r["exact"])
        if ev not in rule.evidence:
            rule.evidence.append(ev)
        if r["fact"] not in reach.setdefault(r["modality"], []):
            reach[r["modality"]].append(r["fact"])
    for rule in facts.values():
        rule.evidence.sort(key=lambda e: (e.document, e.start))

    ruled = [m for m, fs in reach.items() if any(facts[f].kind in EFFECT_ORDER for f in fs)]
    labels, parents = _load_modalities(store, sorted(set(ruled) | {f.holder for f in facts.values()}))
    modalities = {m: Modality(m, labels.get(m, m), parents.get(m)) for m in ruled}
    suggestions: dict[str, Suggestion] = {}
    for m, fs in reach.items():
        for f in (facts[x] for x in fs):
            if f.kind in EFFECT_ORDER:
                modalities[m].rules.append(f)
                continue
            s = suggestions.setdefault(f.concept, Suggestion(f.concept, f.concept_label, f.kind, f.criteria))
            if f not in s.facts:
                s.facts.append(f)
            if m in modalities and f.concept not in modalities[m].suggestions:
                modalities[m].suggestions.append(f.concept)
    for s in suggestions.values():
        s.facts.sort(key=lambda f: f.position)
    for m in modalities.values():  # in the sources' order, whatever order the store gave the rows in
        m.rules.sort(key=lambda r: (EFFECT_ORDER[r.kind], r.position, r.concept))
        m.suggestions.sort(key=lambda c: (suggestions[c].position, c))
    return (parameters, _tree_order(modalities, parents), sorted(suggestions.values(), key=lambda s: s.position),
            labels)


def _load_parameters(store: GraphStore) -> dict[str, Parameter]:
    found: dict[str, dict] = {}
    for r in store.select(template("assess_parameters")):
        p = found.setdefault(r["key"], {"iri": r["parameter"], "label": r["label"] or r["key"],
                                        "datatype": _TYPES.get(r["datatype"], "string"), "allowed": [],
                                        "min": r["min"], "max": r["max"]})
        if r["allowed"] and r["allowed"] not in p["allowed"]:
            p["allowed"].append(r["allowed"])
    return {k: Parameter(k, p["iri"], p["label"], p["datatype"], tuple(sorted(p["allowed"])),
                         float(p["min"]) if p["min"] is not None else None,
                         float(p["max"]) if p["max"] is not None else None)
            for k, p in sorted(found.items())}


def _load_criteria(store: GraphStore, parameters: dict[str, Parameter],
                   concepts: list[str]) -> dict[str, tuple[Criterion, ...]]:
    raw: dict[str, dict[str, dict]] = {}
    for r in store.select(bind(template("assess_criteria"), concept=concepts)):
        c = raw.setdefault(r["concept"], {}).setdefault(r["criterion"], {"key": r["key"], "comparator": r["comparator"],
                                                                         "values": [], "unit": r["unit"]})
        if r["value"] not in c["values"]:
            c["values"].append(r["value"])
    out = {}
    for concept, crits in raw.items():
        built = []
        for iri in sorted(crits, key=_criterion_index):
            c = crits[iri]
            p = parameters[c["key"]]
            if c["comparator"] in ("<", "<=", ">", ">=") and p.datatype not in ("integer", "decimal"):
                raise InputError(f"{iri}: comparator {c['comparator']} on the non-numeric parameter {p.key}")
            values = tuple(sorted((p.parse(v) for v in c["values"]), key=_allowed_order(p)))
            built.append(Criterion(p, c["comparator"], values, c["unit"]))
        out[concept] = tuple(built)
    return out


def _criterion_index(iri: str) -> int:
    tail = iri.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _allowed_order(p: Parameter):
    return lambda v: (p.allowed.index(v) if v in p.allowed else len(p.allowed), str(v))


def _load_modalities(store: GraphStore, iris: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Labels, and each modality's direct parent in the hierarchy (its deepest superclass)."""
    labels: dict[str, str] = {}
    depth: dict[str, dict[str, int]] = {}
    for r in store.select(bind(template("assess_modalities"), modality=iris)):
        labels[r["modality"]] = r["label"] or r["modality"]
        if r["super"]:
            labels.setdefault(r["super"], r["superLabel"] or r["super"])
            depth.setdefault(r["modality"], {})[r["super"]] = int(r["depth"])
    parents = {m: max(sorted(ds), key=lambda s: ds[s]) for m, ds in depth.items()}
    return labels, parents


def _tree_order(modalities: dict[str, Modality], parents: dict[str, str]) -> list[Modality]:
    """Modalities in the order of the hierarchy (depth first, siblings by label), so classes precede their kinds."""
    def path(m: str) -> tuple:
        chain, seen = [], set()
        while m and m not in seen:
            seen.add(m)
            chain.append(modalities[m].label.lower() if m in modalities else m)
            m = parents.get(m)
        return tuple(reversed(chain))

    return sorted(modalities.values(), key=lambda m: path(m.iri))
