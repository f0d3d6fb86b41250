"""Running the app under uvicorn, the one way the CLI and the tests both use.

uvicorn answers a request its HTTP parser cannot take (a URL past 64 KiB, which httptools' URL parser cannot
index; malformed bytes) with a plain-text 400 before the app sees it. JsonRefusals answers those in the
contract's shape instead, with the status that says why: 414 for the URL, 431 for headers, 400 otherwise.
"""
import json

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .limits import MAX_HEADERS, MAX_URL


class JsonRefusals(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        if len(getattr(self, "url", b"")) > MAX_URL:
            status, reason, detail = 414, b"URI Too Long", f"the URL is longer than the {MAX_URL} bytes accepted"
        elif sum(len(k) + len(v) for k, v in getattr(self, "headers", [])) > MAX_HEADERS:
            status, reason, detail = 431, b"Request Header Fields Too Large", "the request headers are too large"
        else:
            status, reason, detail = 400, b"Bad Request", "not a valid HTTP/1.1 request"
        body = json.dumps({"detail": detail}).encode()
        head = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body),
                 b"connection: close\r\n\r\n"]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def serve(app, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info", workers: int = 1):
    """`app`: the application, or with workers > 1 the import string of a factory (each worker process builds
    its own, from the settings in the environment: see api.app.app_from_environment)."""
    uvicorn.run(app, host=host, port=port, log_level=log_level, http=JsonRefusals, workers=workers,
                factory=workers > 1)
