"""GET /assess/case: the "Assess a case" page, the web twin of POST /assess (issue 5).

The form is built from the served graph's parameters (app.state.assessor.parameters), so a parameter added to
ontology/parameters.ttl appears here with no template change: numbers get number inputs with their unit,
enumerations a select, booleans a tri-state select (unknown / yes / no; unknown is left out of the findings).
An optional vignette is read with kg.findings.findings_from_text to pre-fill what the fields leave empty. The
result is exactly what POST /assess returns, laid out per modality with numbered citations to the source quotes.
Bad values come back next to their fields with status 422, never a 500.
"""
import re
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError

from api.pages.render import entity_href, render
from kg.assess import Assessor
from kg.rules import Parameter
from kg.findings import findings_from_text
from kg.errors import InputError

router = APIRouter(tags=["pages"], include_in_schema=False)

MAX_VIGNETTE = 4000
VERDICT_TEXT = {"contraindicated": "contraindicated", "relatively_contraindicated": "relatively contraindicated",
                "indicated": "indicated", "possible": "possible", "undetermined": "undetermined"}
EFFECT_TEXT = {"contraindication": "contraindication", "relative_contraindication": "relative contraindication",
               "indication": "indication"}
OUTCOME_TEXT = {"met": "fired", "not_met": "passed", "unknown": "not evaluated"}
COMPARATOR_TEXT = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}
BOOLEAN_CHOICES = [("", "unknown"), ("true", "yes"), ("false", "no")]
EXAMPLE_VIGNETTE = "62-year-old man, Child-Pugh C, single 3 cm tumour, no portal vein thrombus."


def form_fields(assessor: Assessor) -> list[dict]:
    """One field per parameter: key, label, control (number | select) with its choices, unit, bounds.

    The unit comes from the criteria that test the parameter (hcc:unit); the label's trailing "(unit)" is then
    moved out of the label to stand after the input.
    """
    units: dict[str, str] = {}
    for m in assessor.modalities:
        for r in m.rules:
            for c in r.criteria:
                if c.unit:
                    units.setdefault(c.parameter.key, c.unit)
    fields = []
    for p in assessor.parameters.values():
        label, unit = p.label, None
        tail = re.match(r"(.*\S)\s*\(([^()]*)\)$", p.label)
        if p.key in units:
            label, unit = (tail.group(1), tail.group(2)) if tail else (p.label, units[p.key])
        field = {"key": p.key, "label": label[0].upper() + label[1:], "unit": unit, "datatype": p.datatype}
        if p.allowed:
            field.update(control="select", choices=[("", "unknown")] + [(v, v.replace("_", " ")) for v in p.allowed])
        elif p.datatype == "boolean":
            field.update(control="select", choices=BOOLEAN_CHOICES)
        elif p.datatype in ("integer", "decimal"):
            field.update(control="number", step="1" if p.datatype == "integer" else "any",
                         min=_plain(p.minimum), max=_plain(p.maximum))
        else:
            field.update(control="text")
        fields.append(field)
    return fields


def _plain(x: float | None):
    return None if x is None else int(x) if x == int(x) else x


def as_form_value(value) -> str:
    """A finding as the form writes it back ("true", "3", "2.5", "C")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def field_errors(e: ValidationError, parameters: dict[str, Parameter]) -> dict[str, str]:
    """Pydantic's errors per field, worded for a person ("Input should be ..." -> "should be ...")."""
    out: dict[str, str] = {}
    for err in e.errors():
        key = str(err.get("loc", ("",))[0])
        msg = err.get("msg", "invalid")
        if err.get("type") in ("int_parsing", "float_parsing", "int_from_float"):
            msg = "a whole number" if parameters[key].datatype == "integer" else "a number"
            msg = f"Input should be {msg}"
        elif err.get("type") == "bool_parsing":
            msg = "Input should be yes, no or unknown"
        out.setdefault(key, re.sub(r"^Input should", "should", msg))
    return out


def cite_sources(result: dict) -> list[dict]:
    """Number every quote in the order the page shows it; each rule and suggestion fact gets its `cites`."""
    numbers: dict[tuple, int] = {}
    sources: list[dict] = []

    def number(evidence: list[dict]) -> list[int]:
        nums = []
        for e in evidence:
            key = (e["document"], e["start"], e["end"])
            if key not in numbers:
                numbers[key] = len(sources) + 1
                sources.append(e)
            nums.append(numbers[key])
        return nums

    for m in result["modalities"]:
        for r in m["rules"]:
            r["cites"] = number(r["evidence"])
    for s in result["suggestions"]:
        for f in s["facts"]:
            f["cites"] = number(f["evidence"])
    return sources


@router.get("/assess/case")
def assess_case_page(request: Request, vignette: str = "",
                     m: Annotated[list[str], Query()] = []):  # noqa: B006 (FastAPI reads it)
    started = time.perf_counter()
    assessor: Assessor = request.app.state.assessor
    catalog = request.app.state.catalog
    fields = form_fields(assessor)
    params = request.query_params
    given = {f["key"]: params[f["key"]].strip() for f in fields if params.get(f["key"], "").strip()}
    submitted = bool(given) or bool(vignette.strip()) or any(k in params for k in ("vignette", "m"))
    modalities = [{"local": x.iri.rsplit("/", 1)[-1], "iri": x.iri, "label": x.label} for x in assessor.modalities]
    by_local = {x["local"]: x["iri"] for x in modalities}
    chosen = list(dict.fromkeys(m))
    context = {"fields": fields, "values": dict(given), "vignette": vignette, "read": {}, "errors": {},
               "message": None, "result": None, "sources": [], "modalities": modalities, "chosen": chosen,
               "example_vignette": EXAMPLE_VIGNETTE, "labels": {f["key"]: f["label"] for f in fields}, "units": {f["key"]: f["unit"] for f in fields},
               "verdict_text": VERDICT_TEXT, "effect_text": EFFECT_TEXT, "outcome_text": OUTCOME_TEXT,
               "criterion_text": lambda c: criterion_text(c, assessor.parameters), "as_form_value": as_form_value,
               "titles": {d.id: d.title for d in catalog.documents.values()}, "entity_href": entity_href}
    if not submitted:
        return render(request, "assess.html", context, started)

    if len(vignette) > MAX_VIGNETTE:
        context["message"] = f"The case description is {len(vignette)} characters long; use at most {MAX_VIGNETTE}."
        return render(request, "assess.html", context, started, status=422)
    read = {k: v for k, v in findings_from_text(vignette).items() if k not in given} if vignette.strip() else {}
    context["read"] = read
    raw = {**{k: as_form_value(v) for k, v in read.items()}, **given}
    context["values"] = raw
    unknown = [x for x in chosen if x not in by_local]
    try:
        findings = assessor.form_model.model_validate(raw).model_dump(exclude_none=True)
    except ValidationError as e:
        context["errors"] = field_errors(e, assessor.parameters)
        context["message"] = "Some findings are not valid; correct the fields marked below."
        return render(request, "assess.html", context, started, status=422)
    if unknown:
        context["message"] = f"Not a modality with criteria in the graph: {', '.join(unknown)}."
        return render(request, "assess.html", context, started, status=422)
    if not findings:
        context["message"] = ("No findings given: enter at least one, or describe the case in words"
                              + (" (nothing could be read from the description)." if vignette.strip() else "."))
        return render(request, "assess.html", context, started)
    try:
        result = assessor.assess(findings, [by_local[x] for x in chosen] or None)
    except InputError as e:  # the same check the API makes; kept so a page never answers 500 for input
        context["message"] = str(e)
        return render(request, "assess.html", context, started, status=422)
    context["sources"] = cite_sources(result)
    context["result"] = result
    return render(request, "assess.html", context, started)


def criterion_text(c: dict, parameters: dict[str, Parameter]) -> str:
    """A criterion in words: "Child-Pugh grade is C", "maximum tumour diameter ≤ 3 cm", "cachexia: yes"."""
    p = parameters.get(c["parameter"])
    label = p.label if p else c["parameter"]
    value, comparator = c["value"], c["comparator"]
    if comparator == "in":
        values = [str(v).replace("_", " ") for v in value]
        return f"{label} is {values[0]}" if len(values) == 1 else f"{label} is one of {', '.join(values)}"
    if isinstance(value, bool):
        return f"{label}: {'yes' if value else 'no'}"
    if comparator == "=":
        return f"{label} is {str(value).replace('_', ' ')}"
    unit = f" {c['unit']}" if c.get("unit") else ""
    if p and unit and re.search(r"\(([^()]*)\)$", p.label):
        label = re.sub(r"\s*\(([^()]*)\)$", "", p.label)
    shown = int(value) if isinstance(value, float) and value == int(value) else value
    return f"{label} {COMPARATOR_TEXT.get(comparator, comparator)} {shown}{unit}"
