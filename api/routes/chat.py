"""An OpenAI-compatible chat API under /v1, so chatbot front ends (Open WebUI, LibreChat, LangChain...) can plug in.

The last user message is answered by the same answerer as /ask, from the graph only: system prompts and
instructions inside messages change nothing it states. A follow-up is made whole from the earlier user
messages (kg/qa/conversation.py: "and its side effects?", "and for RFA?", "what about a 6 cm tumour?"). `content` is Markdown: the
answer with numbered citations, then the sources (document, quote, link to the highlighted span). Streaming sends
exactly the same text in chunks. The facts travel beside the text in `hcc_kg`; errors use OpenAI's error shape.
"""
import json
import time
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.pages.render import cite_href
from kg.qa.conversation import resolve

router = APIRouter(prefix="/v1", tags=["chat"])

MODEL = "hcc-kg"
MAX_MESSAGES = 100


def _error(status: int, message: str, kind: str = "invalid_request_error", param: str | None = None):
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": None}},
                        status_code=status)


@router.get("/models", summary="The one model: answers from the knowledge graph, with the graph version")
def models(request: Request) -> dict:
    s = request.app.state
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": int(s.built_at), "owned_by":
                                        "hcc-kg", "graph_version": s.graph_version}]}


def _messages(body) -> tuple[list[dict] | None, str | None]:
    if not isinstance(body, dict):
        return None, "the body must be a JSON object with `model` and `messages`"
    if "stream" in body and not isinstance(body["stream"], bool):
        return None, "`stream` must be true or false"
    if "model" in body and not isinstance(body["model"], str):
        return None, "`model` must be a string"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs or len(msgs) > MAX_MESSAGES:
        return None, f"`messages` must be a list of 1 to {MAX_MESSAGES} messages"
    out = []
    for m in msgs:
        if not isinstance(m, dict) or m.get("role") not in ("system", "developer", "user", "assistant", "tool"):
            return None, "each message needs a `role` of system, developer, user, assistant or tool"
        content = m.get("content")
        if content is not None and not isinstance(content, (str, list)):
            return None, "a message's `content` must be a string, a list of content parts or null"
        if isinstance(content, list):  # content parts: the text ones count
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
        out.append({"role": m["role"], "content": content if isinstance(content, str) else ""})
    return out, None


def markdown(answer: dict, catalog) -> str:
    """The answer text with its [n] citations, then each cited fact's quotes with links to the source reader."""
    if not answer.get("answered"):
        return answer["answer"]
    lines = [answer["answer"].strip(), "", "**Sources**", ""]
    for n, fact in enumerate(answer["facts"], 1):
        for e in fact["evidence"]:
            doc = catalog.documents.get(e["document"])
            title = doc.title if doc else e["document"]
            link = cite_href(e["document"], e["start"], e["end"])
            lines.append(f"[{n}] *{title}*: “{e['quote']}” ([source]({link}))")
    return "\n".join(lines)


def _usage(messages: list[dict], text: str) -> dict:
    prompt = sum(len(m["content"].split()) for m in messages)  # words, not model tokens: no language model here
    completion = len(text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


OPENAI_ERROR = {"content": {"application/json": {"schema": {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "object", "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                                                "param": {"type": ["string", "null"]}, "code": {}}}}}}}}
CHAT_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["messages"], "properties": {
        "model": {"type": "string", "enum": [MODEL]}, "stream": {"type": "boolean"},
        "messages": {"type": "array", "minItems": 1, "maxItems": MAX_MESSAGES, "items": {
            "type": "object", "required": ["role"], "properties": {
                "role": {"enum": ["system", "developer", "user", "assistant", "tool"]},
                "content": {"anyOf": [{"type": "string"}, {"type": "array"}, {"type": "null"}]}}}}}}}}}


@router.post("/chat/completions", summary="OpenAI-compatible chat completion, answered from the graph's facts",
             openapi_extra={"requestBody": CHAT_BODY},
             responses={200: {"content": {"application/json": {}, "text/event-stream": {}}},
                        400: {"description": "malformed body or messages (OpenAI error shape)", **OPENAI_ERROR},
                        404: {"description": "unknown model (OpenAI error shape)", **OPENAI_ERROR}})
async def chat(request: Request):
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _error(400, "the body is not valid JSON")
    messages, problem = _messages(body)
    if problem:
        return _error(400, problem, param="messages")
    if body.get("model", MODEL) != MODEL:
        return _error(404, f"the model {body.get('model')!r} does not exist; use {MODEL!r}", "invalid_request_error",
                      "model")
    s = request.app.state
    if any(m["role"] == "user" and m["content"].strip() for m in messages):
        question = resolve(s.answerer, [m["content"].strip() for m in messages
                                        if m["role"] == "user" and m["content"].strip()])
        answer = await run_in_threadpool(s.answerer.ask, question)
    else:  # nothing asked (a system prompt alone): the abstention /ask gives a non-question
        question, answer = "", {"answered": False, "reason": "not_a_question", "facts": [],
                                "answer": "There is no question to answer: send a user message."}
    answer["graph_version"] = s.graph_version
    text = markdown(answer, s.catalog)
    ident, created = "chatcmpl-" + uuid.uuid4().hex[:24], int(time.time())
    extra = {"question": question, "answered": answer["answered"], "reason": answer.get("reason"),
             "facts": answer["facts"], "graph_version": s.graph_version}
    if not body.get("stream"):
        return {"id": ident, "object": "chat.completion", "created": created, "model": MODEL,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": _usage(messages, text), "hcc_kg": extra}
    return StreamingResponse(_chunks(ident, created, text, extra, _usage(messages, text)),
                             media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def _chunks(ident: str, created: int, text: str, extra: dict, usage: dict):
    def event(delta: dict, finish: str | None = None, **more) -> str:
        chunk = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **more}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    for line in text.splitlines(keepends=True):
        yield event({"content": line})
    yield event({}, "stop", usage=usage, hcc_kg=extra)
    yield "data: [DONE]\n\n"
