"""With the graph in a remote store (`serve --store URL`), every request first makes sure the store is up and still
holds this build's graph version (kg.remote_store.VersionCheck, asked at most once a second while it answers):
otherwise a fast 503 whose detail names the store, and answers again by themselves once it is back.

A pure ASGI middleware on the event loop (the check is an async request, bounded by the store timeout), inside
CORS so that its refusals carry CORS headers. Static files and the API description need no graph.
"""
from starlette.responses import JSONResponse

from kg.errors import StoreUnavailable

EXEMPT = ("/static/", "/docs", "/openapi.json", "/favicon.ico")


class StoreCheck:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope["path"].startswith(EXEMPT):
            check = getattr(scope["app"].state, "version_check", None)
            if check is not None:
                try:
                    await check.ensure()
                except StoreUnavailable as e:
                    response = JSONResponse({"detail": str(e)}, status_code=503,
                                            headers={"Retry-After": str(e.retry_after_s)})
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
