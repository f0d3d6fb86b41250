"""Limits at the edge: what one request may cost before any route runs, and how many run at once.

- Sizes: a URL over MAX_URL bytes answers 414, headers over MAX_HEADERS 431, a body over its route's limit 413: from
  Content-Length before anything is read, or as soon as a chunked body passes the limit. The body is read here
  (small by then, and within BODY_TIMEOUT_S), so no route ever parses more than its limit.
- Admission: requests in flight are bounded per route class (the encoder and rules, SPARQL, pages) and per client
  (its address, or its API key when it sends one). Past a bound the answer is an immediate 503 (the server is busy)
  or 429 (this client has its share), with Retry-After, instead of a queue without end: the requests that are
  admitted keep their latency under overload. /healthz is never held back.
- Headers: HTML responses carry a Content-Security-Policy that allows only this origin (the pages use no CDN and no
  inline script), frame-ancestors 'none' and X-Frame-Options; every response carries X-Content-Type-Options.

A pure ASGI middleware: it runs on the event loop and never blocks it (counters need no lock there).
"""
import asyncio
import hashlib
import json
import logging
import re
from collections import Counter
from urllib.parse import unquote_to_bytes

from kg.config import Settings

log = logging.getLogger("hcc_kg.api")

MAX_URL = 8 * 1024
MAX_HEADERS = 32 * 1024
BODY_TIMEOUT_S = 10.0
KIB = 1024
# (path prefix, body limit in bytes, route class); the first matching prefix applies.
ROUTES = (
    ("/healthz", 0, None),
    ("/ask", 32 * KIB, "compute"),
    ("/search", 0, "compute"),
    ("/assess", 64 * KIB, "compute"),
    ("/v1", 1024 * KIB, "compute"),
    ("/mcp", 1024 * KIB, "compute"),
    ("/sparql", 256 * KIB, "sparql"),
    ("/query", 256 * KIB, "sparql"),
)
DEFAULT_BODY = 64 * KIB
# No page or IRI of the graph holds these: control characters, surrogates, Unicode non-characters.
NOT_IN_PATHS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" +
                          "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17)) + "]")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
ALWAYS = [(b"x-content-type-options", b"nosniff")]
HTML_ONLY = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
             (b"referrer-policy", b"same-origin")]


def route_of(path: str) -> tuple[int, str | None]:
    """(body limit, route class) of a path; class None is never held back."""
    for prefix, limit, klass in ROUTES:
        if path == prefix or path.startswith(prefix + "/"):
            return limit, klass
    return DEFAULT_BODY, "pages"


def client_of(scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization" and value:
            return "key:" + hashlib.sha256(value).hexdigest()[:16]
    client = scope.get("client")
    return client[0] if client else "unknown"


class EdgeLimits:
    def __init__(self, app, settings: Settings):
        self.app = app
        self.capacity = {"compute": settings.compute_in_flight, "sparql": max(settings.compute_in_flight,
                         settings.sparql_processes * 4), "pages": settings.pages_in_flight}
        self.per_client = settings.client_in_flight
        self.in_flight: Counter[str] = Counter()
        self.by_client: Counter[str] = Counter()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        send = _with_headers(send)
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string") or b"")
        if url_bytes > MAX_URL:
            return await reply(send, 414, f"the URL is {url_bytes} bytes long; at most {MAX_URL} are accepted "
                                          "(send long SPARQL queries by POST)")
        header_bytes = sum(len(k) + len(v) + 4 for k, v in scope["headers"])
        if header_bytes > MAX_HEADERS:
            return await reply(send, 431, f"the request headers are {header_bytes} bytes; at most {MAX_HEADERS} "
                                          "are accepted")
        bad = _bad_path(scope)
        if bad:
            return await reply(send, 400, bad)
        limit, klass = route_of(scope["path"])
        length = _content_length(scope)
        if length == -1:
            return await reply(send, 400, "Content-Length is not a number")
        if length is not None and length > limit:
            return await reply(send, 413, _too_large(limit))
        if klass is None:
            return await self.app(scope, receive, send)
        client = client_of(scope)
        if self.per_client and self.by_client[client] >= self.per_client:
            return await reply(send, 429, f"this client already has {self.per_client} requests in flight; wait for "
                                          "them, or retry after a second", retry_after=1)
        if self.in_flight[klass] >= self.capacity[klass]:
            log.warning("busy: %d %s requests in flight, refused %s %s", self.in_flight[klass], klass,
                        scope["method"], scope["path"])
            return await reply(send, 503, f"the server is busy ({self.in_flight[klass]} {klass} requests in "
                                          "flight); retry after a second", retry_after=1)
        self.in_flight[klass] += 1
        self.by_client[client] += 1
        try:
            body = await _read_body(receive, limit)
            if isinstance(body, tuple):
                return await reply(send, *body)
            if body is not None:
                await self.app(scope, _replay(body, receive), send)
        finally:
            self.in_flight[klass] -= 1
            self.by_client[client] -= 1
            if not self.by_client[client]:
                del self.by_client[client]


async def reply(send, status: int, detail: str, retry_after: int | None = None):
    headers = [(b"content-type", b"application/json")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    if status in (413, 431, 400):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})


def _with_headers(send):
    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            media = next((v for k, v in headers if k.lower() == b"content-type"), b"")
            names = {k.lower() for k, _ in headers}
            extra = ALWAYS + (HTML_ONLY if media.startswith(b"text/html") else [])
            message = {**message, "headers": headers + [(k, v) for k, v in extra if k not in names]}
        await send(message)
    return wrapped


def _bad_path(scope) -> str | None:
    raw = scope.get("raw_path") or scope["path"].encode()
    try:
        path = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return "the path is not valid UTF-8 once percent-decoded"
    if NOT_IN_PATHS.search(path):
        return "the path holds a control character or a Unicode non-character: no page or IRI here has one"
    return None


def _content_length(scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else -1
    return None


def _too_large(limit: int) -> str:
    return f"the request body is larger than the {limit // KIB} KiB this route accepts" if limit else \
        "this route takes no request body"


async def _read_body(receive, limit: int) -> bytes | tuple | None:
    """The whole body; (status, detail) to refuse it; None when the client went away."""
    chunks, size = [], 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    return 413, _too_large(limit)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        return 408, f"the request body did not arrive within {BODY_TIMEOUT_S:g} s"


def _replay(body: bytes, receive):
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()
    return replayed
