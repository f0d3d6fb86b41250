"""One error shape for every failure: {"detail": "<what is wrong and how to fix it>"}; never a stack trace."""
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg.errors import HccKgError, InputError, Overloaded, QueryError, QueryRefused, QueryTimeout, StoreUnavailable

log = logging.getLogger("hcc_kg.api")

STATUS = {QueryTimeout: 503, StoreUnavailable: 503, QueryRefused: 400, QueryError: 400, InputError: 400}
MAX_LISTED = 10  # validation errors named in a 422 detail; the rest are counted


def status_of(exc: HccKgError) -> int:
    if isinstance(exc, Overloaded):
        return exc.status
    return next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)


def _validation_message(exc: RequestValidationError) -> str:
    parts, errors = [], exc.errors()
    for err in errors[:MAX_LISTED]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query"))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field: not accepted here"
        if err.get("type") == "json_invalid":
            parts.append(f"the body is not valid JSON ({(err.get('ctx') or {}).get('error', 'decode error')} at "
                         f"character {loc or 0}); send e.g. {{\"question\": \"...\"}}")
            continue
        ctx = err.get("ctx") or {}
        if "expected" in ctx:
            msg += f" (allowed: {ctx['expected']})"
        parts.append(f"{loc}: {msg}" if loc else msg)
    more = f"; and {len(errors) - MAX_LISTED} more" if len(errors) > MAX_LISTED else ""
    return "; ".join(parts) + more or "invalid request"


def install(app: FastAPI):
    @app.exception_handler(HccKgError)
    async def domain_error(request: Request, exc: HccKgError):
        retry = getattr(exc, "retry_after_s", None)  # Overloaded, StoreUnavailable
        headers = {"Retry-After": str(retry)} if retry else None
        return JSONResponse({"detail": str(exc)}, status_code=status_of(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # every method the path takes, not only those of the first route matched
            allow = allowed_methods(request.app, request.scope)
            headers["Allow"] = ", ".join(allow)
            detail = f"{request.method} is not allowed on {request.url.path}: it takes {', '.join(allow)}"
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: FastAPI, scope) -> list[str]:
    """The methods some route takes at this path (routers nest, so each method is tried on the whole app)."""
    from starlette.routing import Match

    return [m for m in METHODS
            if any(r.matches({**scope, "method": m})[0] == Match.FULL for r in app.router.routes)] or ["GET", "HEAD"]
