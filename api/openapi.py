"""The OpenAPI document as the server behaves: one error shape, every status the edge can answer, the real
/assess body.

FastAPI describes a 422 as a list of pydantic errors and knows nothing of the limits in api/limits.py; both are
corrected here, once, when the document is first asked for (after start-up, so the findings model built from the
served graph's parameters can stand as the /assess request body).
"""
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR = {"type": "object", "required": ["detail"], "additionalProperties": False,
         "properties": {"detail": {"type": "string", "description": "what is wrong and how to fix it"}}}
RETRY = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}
EDGE = {
    "400": "bad input: a path with control characters or non-characters, a body that is not UTF-8 or not JSON, "
           "a malformed parameter",
    "408": "the request body did not arrive in time",
    "413": "the request body is larger than this route accepts",
    "414": "the URL is too long",
    "429": "this client already has its share of requests in flight",
    "431": "the request headers are too large",
    "503": "the server is busy (or a query ran past its time limit); retry after Retry-After seconds",
}
UNLIMITED = {"/healthz"}


def install(app: FastAPI):
    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("ValidationError", None)
        schemas.pop("HTTPValidationError", None)
        schemas["Error"] = ERROR
        for path, item in doc.get("paths", {}).items():
            for op in item.values():
                _errors(op, path)
        assessor = getattr(app.state, "assessor", None)
        if assessor is not None and "/assess" in doc["paths"]:
            _assess_body(doc["paths"]["/assess"]["post"], assessor.request_model, schemas)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi


def _errors(op: dict, path: str):
    responses = op.setdefault("responses", {})
    for code, response in responses.items():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if code.startswith(("4", "5")) and (not schema or "ValidationError" in str(schema)):  # a route's own stays
            response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    if "422" in responses:
        responses["422"]["description"] = "invalid parameters or body: the detail names each field and the fix"
    if path in UNLIMITED:
        return
    for code, text in EDGE.items():
        response = responses.setdefault(code, {"description": text})
        response.setdefault("content", {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}})
        if code in ("429", "503"):
            response["headers"] = RETRY


def _assess_body(op: dict, model, schemas: dict):
    """The findings model itself: its fields, types, ranges, and that unknown fields are refused."""
    body = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in body.pop("$defs", {}).items():
        schemas[name] = sub
    content = op["requestBody"]["content"]["application/json"]
    examples = content["schema"].get("examples")
    content["schema"] = {**body, **({"examples": examples} if examples else {})}
