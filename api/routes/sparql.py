"""GET/POST /sparql: the SPARQL 1.1 Protocol query operation over the built graph, read-only.

Parameters are read from the raw query string and body rather than through FastAPI's parsing, because the
protocol cares about what that parsing hides: a repeated `query`, bytes that are not UTF-8, an `update` field.
The query itself is guarded and run by kg.sparql (worker processes with a time limit and a result cap).
"""
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from api.limits import client_of
from kg.errors import InputError, QueryRefused
from kg.sparql import FORMAT_PARAM, MEDIA_FORMAT, READ_ONLY, NotAcceptable, start_service

__all__ = ["router", "start_service"]

router = APIRouter(tags=["sparql"])

FORM, DIRECT, UPDATE = "application/x-www-form-urlencoded", "application/sparql-query", "application/sparql-update"
EXAMPLE = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
           "SELECT ?s ?label WHERE { ?s skos:prefLabel ?label } LIMIT 10")

_GRAPHS = {"type": "array", "items": {"type": "string", "format": "iri"}}
_FIELDS = {
    "query": ({"type": "string", "minLength": 1, "pattern": "\\S"},
              "the SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE); updates are refused"),
    "default-graph-uri": (_GRAPHS, "graphs forming the default graph (instead of the union of all graphs); only "
                                   "this dataset's graphs, https://w3id.org/hcc-kg/graph/..."),
    "named-graph-uri": (_GRAPHS, "graphs available to GRAPH patterns; only this dataset's graphs"),
    "format": ({"type": "string", "enum": list(FORMAT_PARAM)}, "result format, overriding Accept (for downloads)"),
}
PARAMETERS = [{"name": name, "in": "query", "required": name == "query", "schema": schema, "description": text}
              | ({"example": EXAMPLE} if name == "query" else {}) for name, (schema, text) in _FIELDS.items()]
REQUEST_BODY = {"required": True, "content": {
    FORM: {"schema": {"type": "object", "required": ["query"], "properties": {
        name: {**schema, "description": text} for name, (schema, text) in _FIELDS.items()}}},
    DIRECT: {"schema": {"type": "string"}, "example": EXAMPLE}}}
RESPONSES = {
    200: {"description": "SELECT/ASK results (default application/sparql-results+json) or a CONSTRUCT/DESCRIBE "
                         "graph (default text/turtle), by Accept or `format`. `X-Result-Truncated: true` when the "
                         "result was cut at the configured maximum.",
          "content": {media: {} for media in MEDIA_FORMAT}},
    400: {"description": "missing, repeated or malformed query (the parser's message), an update, SERVICE, a "
                         "graph outside the dataset, or a body that is not UTF-8"},
    406: {"description": "no offered media type fits Accept; the detail lists them"},
    415: {"description": "POST body that is neither a form nor application/sparql-query"},
    429: {"description": "this client already has a query running; retry after Retry-After seconds"},
    503: {"description": "the query ran past the time limit, or every worker is busy (then with Retry-After)"},
}
DESCRIPTION = ("SPARQL 1.1 Protocol query operation, read-only. The default graph is the union of the dataset's "
               "graphs unless FROM or `default-graph-uri` names some of them.")


@router.get("/sparql", summary="Run a SPARQL query (GET)", description=DESCRIPTION, response_class=Response,
            responses=RESPONSES, openapi_extra={"parameters": PARAMETERS})
async def sparql_get(request: Request) -> Response:
    return await _answer(request, _url_params(request))


@router.post("/sparql", summary="Run a SPARQL query (POST: form or application/sparql-query body)",
             description=DESCRIPTION + " Dataset and format parameters of a direct POST go in the URL.",
             response_class=Response, responses=RESPONSES,
             openapi_extra={"parameters": PARAMETERS[1:], "requestBody": REQUEST_BODY})
async def sparql_post(request: Request) -> Response:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    params = _url_params(request)
    if media == FORM:
        params += _parse(await request.body(), "form body")
    elif media == DIRECT:
        params.append(("query", _utf8(await request.body(), "query body")))
    elif media == UPDATE:
        raise QueryRefused(READ_ONLY)
    else:
        raise HTTPException(415, f"POST /sparql takes {FORM} or {DIRECT}, not {media or 'a body without Content-Type'}")
    return await _answer(request, params)


async def _answer(request: Request, params: list[tuple[str, str]]) -> Response:
    if any(name == "update" for name, _ in params):
        raise QueryRefused(READ_ONLY)
    values = {name: [v for k, v in params if k == name] for name in _FIELDS}
    if len(values["query"]) > 1:
        raise InputError(f"{len(values['query'])} queries given: send exactly one `query`")
    if not values["query"] or not values["query"][0].strip():
        raise InputError(f"missing query: pass `query` as a URL parameter or form field, or POST it as {DIRECT}")
    if len(values["format"]) > 1:
        raise InputError("give `format` at most once")
    service = request.app.state.sparql
    try:
        result = await run_in_threadpool(service.run, values["query"][0], request.headers.get("accept"),
                                         values["default-graph-uri"], values["named-graph-uri"],
                                         (values["format"] or [None])[0], client_of(request.scope))
    except NotAcceptable as e:
        raise HTTPException(406, str(e)) from None
    headers = {"Vary": "Accept", "X-Graph-Version": request.app.state.graph_version}
    if result.truncated:
        headers["X-Result-Truncated"] = "true"
    return Response(result.body, media_type=result.media_type, headers=headers)


def _url_params(request: Request) -> list[tuple[str, str]]:
    return _parse(request.scope["query_string"], "query string")


def _parse(raw: bytes, where: str) -> list[tuple[str, str]]:
    """URL-encoded pairs, every one kept (so a repeated `query` is seen), strictly UTF-8."""
    try:
        return parse_qsl(_utf8(raw, where), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InputError(f"the {where} is not valid UTF-8") from None


def _utf8(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"the {where} is not valid UTF-8") from None
