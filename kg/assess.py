"""Patient eligibility: a case's findings evaluated against every modality's criteria in the graph, rule by rule.

Rules are data. A rule is a fact `modality hasIndication | hasContraindication | hasRelativeContraindication concept`
whose concept carries machine-readable criteria (hcc:hasCriterion: parameter, comparator, value(s), unit; all of a
concept's criteria must hold). The rule set is read from the graph once (kg/rules.py with kg/queries/assess_*.rq: a
modality's own facts, those of a class above it whose facts apply to subclasses, and for a combination therapy the
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
from functools import cached_property, partial
from typing import Annotated, Iterable

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from .errors import InputError
from .rules import EFFECT_ORDER, Modality, Parameter, Rule, Suggestion, read_rules
from .store import GraphStore

VERDICTS = ("contraindicated", "relatively_contraindicated", "indicated", "possible", "undetermined")
OUTCOME_ORDER = {"met": 0, "unknown": 1, "not_met": 2}


class Assessor:
    """The rule set of one built graph, loaded once; `assess(findings)` evaluates a case against it."""

    def __init__(self, parameters: dict[str, Parameter], modalities: list[Modality],
                 suggestions: list[Suggestion], labels: dict[str, str]):
        self.parameters = parameters
        self.modalities = modalities
        self.suggestions = suggestions
        self._labels = labels
        self._by_iri = {m.iri: m for m in modalities}

    @classmethod
    def from_store(cls, store: GraphStore) -> "Assessor":
        return cls(*read_rules(store))

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
