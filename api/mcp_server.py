"""The Model Context Protocol server (the `mcp` SDK): the graph's questions, search, SPARQL, concepts and
assessment as tools, the five source documents as resources.

One server object serves both transports: stdio (`hcc-kg mcp`, for desktop clients) and streamable HTTP at /mcp
of the API (stateless, JSON responses: any replica can answer any request). The tools read the same loaded
resources as the HTTP routes (`state` is app.state), so they state exactly what /ask, /search, /sparql, /id and
/assess state; SPARQL goes through the same guard, worker processes, time limit and result cap.
"""
import asyncio
import json
import logging
from typing import Any

import anyio.to_thread
from pydantic import ValidationError

from api.pages import entity as entity_pages
from api.pages.render import BASE, DOC_PREFIX
from api.routes.search import search_results
from kg.assess import validation_message
from kg.errors import HccKgError
from kg.verdicts import compact

log = logging.getLogger("hcc_kg.api")
MAX_QUESTION = 2000
INSTRUCTIONS = ("Answers about the interventional treatment of hepatocellular carcinoma from a knowledge graph "
                "built from five clinical source documents. Every fact comes with the verbatim source quote and "
                "its character offsets; when the sources do not answer, `ask` says so (answered: false). Quote "
                "the sources rather than adding to them. Educational content, not clinical advice.")


def build_server(state, client: str = "mcp"):
    """The MCP server over loaded resources (`state` as app.state after api.app.load_resources)."""
    # the SDK is imported here, not at module level: it takes ~0.7 s, which the HTTP server spends after start-up
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.server.mcpserver.resources import TextResource
    from mcp_types import ToolAnnotations

    READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
    server = MCPServer(name="hcc-kg", title="hcc-kg: HCC interventional treatment knowledge graph",
                       instructions=INSTRUCTIONS, version=state.graph_version)

    def guarded(call, *args):
        try:
            return call(*args)
        except HccKgError as e:
            raise ToolError(str(e)) from None
        except ValidationError as e:
            raise ToolError(validation_message(e)) from None

    @server.tool(annotations=READ_ONLY)
    def ask(question: str) -> dict[str, Any]:
        """Answer a clinical question about HCC treatment from the graph: the answer text with [n] citations and
        the facts behind it, each with its verbatim source quotes. `answered` is false (with a `reason`) when the
        sources do not answer; then nothing is stated."""
        if not question.strip() or len(question) > MAX_QUESTION:
            raise ToolError(f"the question must be 1 to {MAX_QUESTION} characters")
        return {**guarded(state.answerer.ask, question), "graph_version": state.graph_version}

    @server.tool(annotations=READ_ONLY)
    def search(query: str, k: int = 10) -> dict[str, Any]:
        """Embedding search over the source passages and the graph's concepts (k from 1 to 100)."""
        if not query.strip() or len(query) > MAX_QUESTION or not 1 <= k <= 100:
            raise ToolError(f"the query must be 1 to {MAX_QUESTION} characters and k from 1 to 100")
        return search_results(state, query, k)

    @server.tool(annotations=READ_ONLY)
    def sparql(query: str) -> dict[str, Any]:
        """Run a read-only SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE) over the graph, under the same
        guard, time limit and result cap as /sparql; updates and SERVICE are refused. SELECT/ASK give SPARQL JSON
        results, CONSTRUCT/DESCRIBE Turtle. Prefixes hcc:, skos:, prov:, oa:, dcterms: are predeclared."""
        result = guarded(state.sparql.run, query, "application/sparql-results+json, text/turtle", (), (), None,
                         client)
        body = result.body.decode("utf-8")
        out = json.loads(body) if result.media_type.endswith("json") else {"turtle": body}
        return {**out, "truncated": result.truncated, "graph_version": state.graph_version}

    @server.tool(annotations=READ_ONLY)
    def entity(name: str) -> dict[str, Any]:
        """A concept of the graph by name, abbreviation or IRI (e.g. "RFA", "TACE", "portal vein tumour
        thrombus"): its labels, definitions, classes, criteria and every fact in and out, with quotes."""
        iri = name.strip() if name.strip().startswith(BASE) else None
        if iri is None:
            links = state.answerer.linker.link(name[:MAX_QUESTION])
            iri = links[0].iri if links else None
        data = entity_pages.view(state.catalog, iri) if iri else None
        if data is None:
            raise ToolError(f"no concept of the graph is named {name!r}; `search` finds the nearest ones")
        return {**data, "graph_version": state.graph_version}

    @server.tool(annotations=READ_ONLY)
    def assess(findings: dict[str, Any]) -> dict[str, Any]:
        """Evaluate a patient's findings against every modality's indications and contraindications: the verdicts,
        the rules that decide them with their quotes, the recommendations that apply, and the findings that could
        change a verdict. Findings are keyed by parameter (e.g. {"child_pugh": "B", "tumor_count": 2,
        "max_tumor_diameter_cm": 2.5}); the resource hcc-kg://parameters lists them all."""
        valid = guarded(state.assessor.request_model.model_validate, findings)
        result = guarded(state.assessor.assess, valid.model_dump(exclude_none=True))
        return {"graph_version": state.graph_version, **compact(result)}

    for doc in state.catalog.documents.values():
        server.add_resource(TextResource(uri=BASE + DOC_PREFIX + doc.id, name=doc.id, title=doc.title,
                                         description="source document; evidence offsets index this text",
                                         mime_type="text/plain", text=doc.text))
    server.add_resource(TextResource(
        uri="hcc-kg://parameters", name="parameters", title="Findings the assess tool accepts",
        mime_type="application/json",
        text=json.dumps([p.as_dict() for p in state.assessor.parameters.values()], ensure_ascii=False)))
    return server


class HttpEndpoint:
    """/mcp of the API: the server's streamable-HTTP app (stateless, JSON responses: any replica answers any request).

    It starts once the rest of the service is up (`serve`, run beside the app's lifespan), so that importing the SDK
    does not delay start-up; a request that comes before waits for it. Bound to loopback, the SDK's DNS-rebinding
    protection admits only loopback Host and Origin headers.
    """

    def __init__(self):
        self._ready = asyncio.Event()
        self._app = None
        self._failure: str | None = None

    async def serve(self, state, host: str):
        try:
            server = await anyio.to_thread.run_sync(build_server, state)
            http = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True,
                                              host=host)
            self._app = http.routes[0].app
            manager = server.session_manager
        except Exception as e:  # the rest of the service goes on; /mcp says why it cannot
            log.exception("the MCP endpoint could not start")
            self._failure = f"the MCP endpoint could not start: {e}"
            self._ready.set()
            return
        async with manager.run():
            self._ready.set()
            log.info("MCP endpoint ready at /mcp")
            await anyio.sleep_forever()

    async def __call__(self, scope, receive, send):
        await self._ready.wait()
        if self._failure:
            body = json.dumps({"detail": self._failure}).encode()
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]})
            await send({"type": "http.response.body", "body": body})
            return
        await self._app(scope, receive, send)


def run_stdio(settings):
    """`hcc-kg mcp`: load the built graph and speak MCP on stdin/stdout (logs go to stderr)."""
    from types import SimpleNamespace

    from api.app import load_resources

    holder = SimpleNamespace(state=SimpleNamespace())
    load_resources(holder, settings)
    try:
        build_server(holder.state, client="mcp-stdio").run("stdio")
    finally:
        holder.state.sparql.close()
