"""Patient eligibility: a case's findings evaluated against every modality's criteria in the graph, rule by rule.

Rules are data. A rule is a fact `modality hasIndication | hasContraindication | hasRelativeContraindication concept`
whose concept carries machine-readable criteria (hcc:hasCriterion: parameter, comparator, value(s), unit; all of a
concept's criteria must hold). The rule set is read from the graph once (kg/queries/assess_*.rq: a modality's own
facts, those of a class above it whose facts apply to subclasses, and for a combination therapy the
contraindications of its parts) and evaluated here the same way for every modality, so adding a criterion to the
curated facts changes verdicts with no code change.

Evaluation is three-valued: a criterion is `met`, `not_met`, or `unknown` when the finding is absent; a rule is
`not_met` if any criterion is, `met` if all are, `unknown` otherwise. A modality's verdict is the first that holds:

  contraindicated             an (absolute) contraindication is met
  relatively_contraindicated  a relative contraindication is met
  indicated                   an indication is met that the source states without a qualifier
  possible                    only indications are met that the source qualifies (the fact's hcc:note, which the
                              ontology defines as "a qualifier or caveat the source attaches": palliative use,
                              "sometimes", "depending on liver function"...)
  undetermined                no indication is met: findings are missing, or the sources do not cover the case

A contraindication whose finding is absent does not block an indication: it is listed under `missing`, the
findings that could still change the verdict.

Suggestions are the places where the sources order treatments (surgery first for <= 5 cm when tolerated,
embolization before ablation, ablation abandoned after two incomplete ablations): facts of hcc:hasRecommendation
or hcc:hasComparison whose concept has criteria. A suggestion `applies` when its criteria are met and is
`conditional` when some are met and the rest unknown; it is left out when a criterion is not met. Each names the
verdicts of the modalities it is stated for (the order stands even when one of them is contraindicated: "abandon
ablation after two incomplete ablations").

The findings a vignette states ("62-year-old, Child-Pugh C, single 3 cm tumour") are read by kg/findings.py, so a
question can be answered with the same evaluation.
"""
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Annotated, Iterable, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

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
VERDICTS = ("contraindicated", "relatively_contraindicated", "indicated", "possible", "undetermined")
OUTCOME_ORDER = {"met": 0, "unknown": 1, "not_met": 2}
EFFECT_ORDER = {"contraindication": 0, "relative_contraindication": 1, "indication": 2}
_TYPES = {str(XSD.integer): "integer", str(XSD.decimal): "decimal", str(XSD.boolean): "boolean",
          str(XSD.string): "string"}


# ---------------------------------------------------------------------------------------------- the rule set

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


class Assessor:
    """The rule set of one built graph, loaded once; `assess(findings)` evaluates a case against it."""

    def __init__(self, parameters: dict[str, Parameter], modalities: list[Modality],
                 suggestions: list[Suggestion], labels: dict[str, str]):
        self.parameters = parameters
        self.modalities = modalities
        self.suggestions = suggestions
        self._labels = labels
        self._by_iri = {m.iri: m for m in modalities}

    # ------------------------------------------------------------------------------------------ loading
    @classmethod
    def from_store(cls, store: GraphStore) -> "Assessor":
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
        return cls(parameters, _tree_order(modalities, parents), sorted(suggestions.values(), key=lambda s: s.position),
                   labels)

    # ------------------------------------------------------------------------------------------ findings
    @cached_property
    def request_model(self) -> type[BaseModel]:
        """The findings as JSON clients send them, built from the graph's parameters: unknown fields refused, numbers
        JSON numbers (not true, not "3"), finite and within the parameter's range, booleans only true or false."""
        return self._findings_model(strict=True)

    @cached_property
    def form_model(self) -> type[BaseModel]:
        """The same findings from a form or the findings reader: strings such as "3" are read as numbers."""
        return self._findings_model(strict=False)

    def _findings_model(self, strict: bool) -> type[BaseModel]:
        def typed(p: Parameter):
            if p.python_type in (int, float):
                number = Annotated[p.python_type, Field(ge=p.minimum, le=p.maximum, allow_inf_nan=False)]
                what = "an integer" if p.python_type is int else "a number"
                return Annotated[number, BeforeValidator(partial(_json_number, what))] if strict else number
            return Annotated[bool, Field(strict=strict)] if p.python_type is bool else p.python_type

        fields = {p.key: (typed(p) | None, Field(default=None, description=p.label)) for p in self.parameters.values()}
        return create_model("Findings", __config__=ConfigDict(extra="forbid"), **fields)

    def validate(self, findings: dict) -> dict:
        """The findings checked and typed (absent ones dropped); InputError names each bad field."""
        try:
            model = self.form_model.model_validate(findings)
        except ValidationError as e:
            raise InputError(validation_message(e)) from None
        return model.model_dump(exclude_none=True)

    # ------------------------------------------------------------------------------------------ evaluation
    def assess(self, findings: dict, modalities: Iterable[str] | None = None) -> dict:
        """The verdict for every modality with criteria (or only the given modality IRIs), rule by rule.

        `findings` maps /assess field names to values; they are validated first (InputError when invalid).
        """
        findings = self.validate(findings)
        wanted = set(modalities) if modalities is not None else None
        if wanted is not None and not wanted <= set(self._by_iri):
            unknown = sorted(wanted - set(self._by_iri))
            raise InputError(f"no criteria in the graph for {', '.join(unknown)}; modalities with criteria: "
                             + ", ".join(m.iri for m in self.modalities))
        seen: dict[str, tuple[str, dict]] = {}  # fact -> (outcome, rule dict): a class's rules recur in its kinds
        results = [self._assess_modality(m, findings, seen) for m in self.modalities]
        verdicts = {r["modality"]["iri"]: r["verdict"] for r in results}
        suggestions = self._suggestions(findings, verdicts)
        shown = {s["recommendation"]["iri"] for s in suggestions}
        applying = {s["recommendation"]["iri"]: s for s in suggestions if s["outcome"] == "applies"}
        for r, m in zip(results, self.modalities):
            r["suggestions"] = [s for s in m.suggestions if s in shown]
            # what the sources recommend for this very case belongs with the verdict ("ablation alone is not
            # recommended for lesions >5 cm"), not only in the list of suggestions
            r["recommendations"] = [{"iri": s, "label": applying[s]["recommendation"]["label"],
                                     "statement": applying[s]["facts"][0]["statement"]}
                                    for s in r["suggestions"] if s in applying]
            if r["recommendations"]:
                r["reason"] += " The sources recommend for this case: " + "; ".join(
                    x["statement"].rstrip(".") for x in r["recommendations"]) + "."
        if wanted is not None:
            results = [r for r in results if r["modality"]["iri"] in wanted]
            keep = {s for r in results for s in r["suggestions"]}
            suggestions = [s for s in suggestions if s["recommendation"]["iri"] in keep]
        return {"findings": findings, "modalities": results, "suggestions": suggestions}

    def _assess_modality(self, m: Modality, findings: dict, seen: dict[str, tuple[str, dict]]) -> dict:
        for rule in m.rules:
            if rule.fact not in seen:
                outcome = rule.evaluate(findings)
                seen[rule.fact] = outcome, self._rule_dict(rule, outcome, findings)
        outcomes = [(rule, seen[rule.fact][0]) for rule in m.rules]
        met = {k: [r for r, o in outcomes if o == "met" and r.kind == k] for k in EFFECT_ORDER}
        unknown = {k: [r for r, o in outcomes if o == "unknown" and r.kind == k] for k in EFFECT_ORDER}
        if met["contraindication"]:
            verdict, could_change = "contraindicated", []
        elif met["relative_contraindication"]:
            verdict, could_change = "relatively_contraindicated", ["contraindication"]
        elif any(r.note is None for r in met["indication"]):
            verdict, could_change = "indicated", ["contraindication", "relative_contraindication"]
        elif met["indication"]:
            verdict, could_change = "possible", ["indication", "contraindication", "relative_contraindication"]
        else:
            verdict, could_change = "undetermined", ["indication", "contraindication", "relative_contraindication"]
        missing = []
        for kind in could_change:
            for rule in unknown[kind]:
                missing += [c["parameter"] for c in seen[rule.fact][1]["criteria"]
                            if c["outcome"] == "unknown" and c["parameter"] not in missing]
        rules = sorted(outcomes, key=lambda ro: (OUTCOME_ORDER[ro[1]], EFFECT_ORDER[ro[0].kind], ro[0].position))
        return {"modality": {"iri": m.iri, "label": m.label},
                "broader": {"iri": m.parent, "label": self._labels.get(m.parent, m.parent)} if m.parent else None,
                "verdict": verdict,
                "reason": _reason(verdict, met, unknown, missing, m.rules),
                "rules": [seen[rule.fact][1] for rule, _ in rules],
                "missing": missing}

    def _rule_dict(self, rule: Rule, outcome: str, findings: dict) -> dict:
        criteria = [c.as_dict(findings) for c in rule.criteria]
        decisive = next((c for c in criteria if c["outcome"] == outcome), criteria[0])
        return {"effect": rule.kind, "outcome": outcome,
                "criterion": {k: decisive[k] for k in ("parameter", "comparator", "value", "unit")},
                "criteria": criteria,
                "concept": {"iri": rule.concept, "label": rule.concept_label},
                "stated_for": {"iri": rule.holder, "label": self._labels.get(rule.holder, rule.holder)},
                "fact": rule.fact, "statement": rule.statement, "note": rule.note,
                "curation_note": rule.concept_note,
                "evidence": [vars(e).copy() for e in rule.evidence]}

    def _suggestions(self, findings: dict, verdicts: dict[str, str]) -> list[dict]:
        out = []
        for s in self.suggestions:
            criteria = [c.as_dict(findings) for c in s.criteria]
            outcomes = {c["outcome"] for c in criteria}
            if "not_met" in outcomes or "met" not in outcomes:
                continue
            holders = list(dict.fromkeys(f.holder for f in s.facts))
            out.append({"recommendation": {"iri": s.concept, "label": s.label}, "kind": s.kind,
                        "outcome": "applies" if outcomes == {"met"} else "conditional",
                        "modalities": [{"iri": h, "label": self._labels.get(h, h), "verdict": verdicts.get(h)}
                                       for h in holders],
                        "criteria": criteria,
                        "missing": [c["parameter"] for c in criteria if c["outcome"] == "unknown"],
                        "facts": [{"iri": f.fact,
                                   "subject": {"iri": f.holder, "label": self._labels.get(f.holder, f.holder)},
                                   "statement": f.statement, "note": f.note,
                                   "evidence": [vars(e).copy() for e in f.evidence]} for f in s.facts]})
        out.sort(key=lambda s: s["outcome"] != "applies")  # stable: source order within each group
        return out


def _json_number(what: str, value):
    """A JSON number and nothing else: true and "3" are no count (1.0 is the integer 1, as JSON Schema reads it)."""
    if isinstance(value, (bool, str)):
        given = "a boolean" if isinstance(value, bool) else "a string"
        raise ValueError(f"must be {what} (a JSON number), not {given}")
    return value


def validation_message(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        msg = "unknown field" if err.get("type") == "extra_forbidden" else err.get("msg", "invalid")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def _reason(verdict: str, met: dict, unknown: dict, missing: list[str], rules: list[Rule]) -> str:
    def labels(rs):
        return "; ".join(r.concept_label for r in rs)

    if verdict == "contraindicated":
        return f"Contraindicated: {labels(met['contraindication'])}."
    if verdict == "relatively_contraindicated":
        also = f" Indication also met: {labels(met['indication'])}." if met["indication"] else ""
        return f"Relative contraindication: {labels(met['relative_contraindication'])}.{also}"
    if verdict == "indicated":
        return f"Indicated: {labels(r for r in met['indication'] if r.note is None)}."
    if verdict == "possible":
        return "Possible under the sources' conditions: " + "; ".join(
            f"{r.concept_label} ({r.note.rstrip('.')})" for r in met["indication"]) + "."
    if not any(r.kind == "indication" for r in rules):
        return "Undetermined: the sources give this modality no indication with criteria; none of its contraindications is met."
    if unknown["indication"]:
        return "Undetermined: no indication is met with the findings given; needed: " + ", ".join(missing) + "."
    return "Undetermined: none of the sources' indications is met and none of their contraindications: the sources do not decide this case."


# ---------------------------------------------------------------------------------------------- loading helpers

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
