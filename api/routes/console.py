"""The SPARQL console (/query): an editor, example queries, results as a table with linked IRIs, downloads in
the endpoint's formats (links to /sparql?format=...), and the endpoint's errors shown as readable messages."""
import time

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.errors import status_of
from api.limits import client_of
from api.pages import console
from api.pages.render import render
from kg.errors import HccKgError

router = APIRouter(tags=["pages"], include_in_schema=False)

MAX_QUERY = 20_000


@router.get("/query")
async def query_page(request: Request, query: str | None = None, example: str | None = None):
    started = time.perf_counter()
    catalog = request.app.state.catalog
    examples = console.examples(catalog)
    chosen = next((e for e in examples if e.id == example), None) if example else None
    if chosen is not None:
        query = chosen.query
    context = {"examples": examples, "query": query, "example": chosen, "result": None, "error": None,
               "downloads": [], "truncated": False}
    status = 200
    if example and chosen is None:
        context["error"], status = f"no example {example!r}; pick one from the list", 404
    elif query is not None and len(query) > MAX_QUERY:
        context["error"], status = f"the query is {len(query)} characters long; the console takes {MAX_QUERY}", 400
    elif query and query.strip():
        try:
            result = await run_in_threadpool(request.app.state.sparql.run, query, console.ACCEPT,
                                             client=client_of(request.scope))
        except HccKgError as e:
            context["error"], status = str(e), status_of(e)
        else:
            context["result"] = console.result_table(result.media_type, result.body)
            context["downloads"] = console.DOWNLOADS[result.media_type]
            context["truncated"] = result.truncated
    if query is None:  # an empty editor teaches nothing: start from an example, not yet run
        context["query"] = next(e.query for e in examples if e.id == console.DEFAULT_EXAMPLE)
    return render(request, "query.html", context, started, status=status)
