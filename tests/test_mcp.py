"""The MCP server driven by the real `mcp` SDK client over both transports: streamable HTTP at /mcp of the real
server, and stdio (`hcc-kg mcp`) as a desktop client starts it."""
import json
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from kg.config import ROOT
from tests.conftest import run_async

TOOLS = {"ask", "search", "sparql", "entity", "assess"}



def corpus_text(doc: str) -> str:
    return (ROOT / "corpus" / f"{doc}.txt").read_text(encoding="utf-8")


def over_http(url: str, session_fn):
    async def main():
        async with streamable_http_client(url) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await session_fn(session)
    return run_async(main)


async def tool(session, name: str, arguments: dict):
    return await session.call_tool(name, arguments)


def test_http_lists_the_tools_and_the_five_documents(live_server):
    async def go(s):
        return (await s.list_tools()).tools, (await s.list_resources()).resources
    tools, resources = over_http(live_server + "/mcp", go)
    assert {t.name for t in tools} == TOOLS
    assert all(t.annotations.read_only_hint for t in tools)
    docs = [r for r in resources if "/doc/" in str(r.uri)]
    assert len(docs) == 5 and all(r.mime_type == "text/plain" for r in docs)


def test_http_ask_returns_the_facts_of_ask_with_verbatim_quotes(live_server):
    import httpx

    q = "What are the contraindications of TACE?"

    async def go(s):
        return await tool(s, "ask", {"question": q})
    r = over_http(live_server + "/mcp", go)
    assert not r.is_error
    answer = r.structured_content
    assert answer["answered"] and answer["facts"]
    for fact in answer["facts"]:
        for e in fact["evidence"]:
            assert corpus_text(e["document"])[e["start"]:e["end"]] == e["quote"]
    ask = httpx.post(live_server + "/ask", json={"question": q}, timeout=60).json()
    assert [f["iri"] for f in answer["facts"]] == [f["iri"] for f in ask["facts"]]


def test_http_sparql_reads_and_refuses_updates(live_server):
    async def go(s):
        return (await tool(s, "sparql", {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}),
                await tool(s, "sparql", {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"}),
                await tool(s, "sparql", {"query": "SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }"}))
    update, select, service = over_http(live_server + "/mcp", go)
    assert update.is_error and "read-only" in update.content[0].text
    assert not select.is_error and len(select.structured_content["results"]["bindings"]) == 3
    assert service.is_error and "SERVICE" in service.content[0].text


def test_http_entity_assess_and_a_document_resource(live_server):
    async def go(s):
        resources = (await s.list_resources()).resources
        doc = next(r for r in resources if "/doc/" in str(r.uri))
        return (await tool(s, "entity", {"name": "RFA"}),
                await tool(s, "entity", {"name": "proton beam therapy"}),
                await tool(s, "assess", {"findings": {"child_pugh": "C", "tumor_count": 1}}),
                await tool(s, "assess", {"findings": {"child_pugh": "Z"}}),
                doc.name, (await s.read_resource(doc.uri)).contents[0].text)
    rfa, unknown, verdicts, bad, doc_id, text = over_http(live_server + "/mcp", go)
    assert rfa.structured_content["label"] == "radiofrequency ablation" and rfa.structured_content["fact_count"] > 20
    assert unknown.is_error and "search" in unknown.content[0].text
    compact = verdicts.structured_content
    assert len(json.dumps(compact)) < 20_000 and compact["modalities"]
    assert any(m["verdict"] == "contraindicated" and m["deciding"] for m in compact["modalities"])
    assert bad.is_error and "child_pugh" in bad.content[0].text
    assert text == corpus_text(doc_id)


def test_stdio_serves_the_same_tools(built):
    settings, _ = built
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "kg.cli", "--build-dir", str(settings.build_dir), "mcp"], cwd=str(ROOT))

    async def main():
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as s:
                await s.initialize()
                return ((await s.list_tools()).tools,
                        await tool(s, "ask", {"question": "What embolic agents are used in TACE?"}),
                        await tool(s, "sparql", {"query": "DELETE WHERE { ?s ?p ?o }"}))
    tools, ask, update = run_async(main)
    assert {t.name for t in tools} == TOOLS
    assert ask.structured_content["answered"] and ask.structured_content["facts"][0]["evidence"][0]["quote"]
    assert update.is_error and "read-only" in update.content[0].text


def test_assess_compact_keeps_the_verdicts_of_the_full_form(live_server):
    import httpx

    case = {"child_pugh": "B", "tumor_count": 2, "max_tumor_diameter_cm": 2.5, "extrahepatic_metastasis": False}
    full = httpx.post(live_server + "/assess", json=case, timeout=60).json()
    small = httpx.post(live_server + "/assess?view=compact", json=case, timeout=60)
    assert small.status_code == 200 and len(small.content) < len(json.dumps(full)) / 10
    assert [(m["modality"]["iri"], m["verdict"]) for m in small.json()["modalities"]] == \
        [(m["modality"]["iri"], m["verdict"]) for m in full["modalities"]]
