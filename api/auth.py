"""Optional API keys for the chatbot surfaces. With keys configured (`hcc-kg serve --api-key`, or HCC_KG_API_KEYS,
comma-separated), /v1 and /mcp require `Authorization: Bearer <key>` and answer 401 otherwise; the pages, /ask
and /sparql stay open for students and educators. Without keys everything is open.

A pure ASGI middleware; keys are compared in constant time. CORS preflights pass (they carry no credentials).
"""
import hmac
import json

PROTECTED = ("/v1", "/mcp")


def protected(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PROTECTED)


class ApiKeys:
    def __init__(self, app, keys: tuple[str, ...]):
        self.app = app
        self.keys = [k.encode() for k in keys if k]

    async def __call__(self, scope, receive, send):
        if (not self.keys or scope["type"] != "http" or scope["method"] == "OPTIONS"
                or not protected(scope["path"]) or self._allowed(scope)):
            return await self.app(scope, receive, send)
        message = "a valid API key is required: send `Authorization: Bearer <key>`"
        if scope["path"].startswith("/v1"):  # OpenAI clients read their own error shape
            body = {"error": {"message": message, "type": "invalid_request_error", "param": None,
                              "code": "invalid_api_key"}}
        else:
            body = {"detail": message}
        raw = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
            (b"www-authenticate", b'Bearer realm="hcc-kg"')]})
        await send({"type": "http.response.body", "body": raw})

    def _allowed(self, scope) -> bool:
        auth = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, token = auth.partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        token = token.strip()
        return any(hmac.compare_digest(token, k) for k in self.keys)


def keys_from(flag_keys: list[str] | None, env_value: str | None) -> tuple[str, ...]:
    """Keys from repeated --api-key flags and the comma-separated environment variable, in that order."""
    keys = list(flag_keys or []) + [k.strip() for k in (env_value or "").split(",")]
    return tuple(dict.fromkeys(k for k in keys if k))
