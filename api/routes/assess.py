"""POST /assess: a patient's findings evaluated against every modality's criteria, rule by rule, with sources.

The findings' fields come from the served graph's parameters (ontology/parameters.ttl), so the API accepts
exactly what the criteria can test; GET /assess/parameters lists them (the JSON twin of a case form).
"""
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from kg.assess import Assessor
from kg.verdicts import compact
from kg.store import GraphStore

router = APIRouter(tags=["assessment"])

EXAMPLE = {"child_pugh": "A", "tumor_count": 1, "max_tumor_diameter_cm": 4, "portal_vein_thrombus": "none"}


def load_assessor(store: GraphStore) -> Assessor:
    """The rule set of the served graph, loaded once at start-up (app.state.assessor)."""
    return Assessor.from_store(store)


@router.post("/assess", summary="Evaluate a patient's findings against every modality's criteria, with sources",
             description="Every field is optional; unknown fields are refused with 422. Fields, types and allowed "
                         "values: GET /assess/parameters. `view=compact` gives the verdicts, the rules that decide "
                         "them with their quotes, and the recommendations that apply (a few KB, for chat clients); "
                         "the default lists every rule. Educational use of the cited sources, not clinical advice.")
def assess(request: Request,
           findings: Annotated[dict[str, Any], Body(examples=[EXAMPLE],
                                                    description="patient findings keyed by parameter")],
           view: Annotated[Literal["full", "compact"], Query(description="full (every rule) or compact")] = "full"
           ) -> dict:
    s = request.app.state
    try:
        valid = s.assessor.request_model.model_validate(findings)
    except ValidationError as e:
        raise RequestValidationError(e.errors(include_url=False)) from None
    result = s.assessor.assess(valid.model_dump(exclude_none=True))
    return {"graph_version": s.graph_version, **(compact(result) if view == "compact" else result)}


@router.get("/assess/parameters", summary="The findings /assess accepts: names, types, units, allowed values")
def parameters(request: Request) -> dict:
    s = request.app.state
    return {"graph_version": s.graph_version,
            "parameters": [p.as_dict() for p in s.assessor.parameters.values()]}
