"""Optional API keys: with keys set, /v1 and /mcp need `Authorization: Bearer <key>` (401 otherwise), driven by the
real `openai` and `mcp` clients; the rest of the service stays open."""
import httpx
import httpx2
import openai
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import run_async, running_server

KEY = "test-key-7f3a"



@pytest.fixture(scope="module")
def keyed_server(built):
    settings, _ = built
    with running_server(settings.build_dir, api_keys=(KEY, "another-key")) as base:
        yield base


def test_chat_without_the_key_is_401_in_the_openai_shape(keyed_server):
    for key in ("wrong", ""):
        client = openai.OpenAI(base_url=keyed_server + "/v1", api_key=key or "x", max_retries=0, timeout=60)
        with pytest.raises(openai.AuthenticationError) as e:
            client.models.list()
        assert e.value.status_code == 401 and e.value.code == "invalid_api_key"
    r = httpx.post(keyed_server + "/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_chat_with_the_key_answers(keyed_server):
    client = openai.OpenAI(base_url=keyed_server + "/v1", api_key=KEY, max_retries=0, timeout=60)
    r = client.chat.completions.create(model="hcc-kg", messages=[{"role": "user", "content": "What is TACE?"}])
    assert r.model_extra["hcc_kg"]["answered"]


def test_mcp_needs_the_key_and_the_rest_stays_open(keyed_server):
    r = httpx.post(keyed_server + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                   headers={"Accept": "application/json, text/event-stream"})
    assert r.status_code == 401 and "detail" in r.json()

    async def listed():
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as http:
            async with streamable_http_client(keyed_server + "/mcp", http_client=http) as (read, write, *_):
                async with ClientSession(read, write) as s:
                    await s.initialize()
                    return [t.name for t in (await s.list_tools()).tools]
    assert "ask" in run_async(listed)
    assert httpx.post(keyed_server + "/ask", json={"question": "What is TACE?"}, timeout=60).status_code == 200
    assert httpx.get(keyed_server + "/healthz").status_code == 200
