"""create_app(settings): the FastAPI application. Heavy resources load once, in lifespan, onto app.state."""
import ctypes
import json
import logging
import time
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from starlette.routing import Route

from kg.config import Settings

from . import affinity, errors, mcp_server, openapi
from .auth import ApiKeys
from .limits import EdgeLimits
from .store_check import StoreCheck
from .routes import ask, chat, health, search, sparql
from .routes import assess
from .routes import pages

log = logging.getLogger("hcc_kg.api")
M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
THREADS = 32

DOCS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>hcc-kg API</title><link rel="stylesheet" href="/static/vendor/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script><script src="/static/swagger-init.js"></script>
</body></html>
"""


def load_resources(app: FastAPI, settings: Settings):
    """Load the built graph and everything derived from it; fails clearly if the build is missing."""
    from kg.catalog import Catalog
    from kg.qa.answerer import Answerer
    from kg.qa.classifier import RelationClassifier
    from kg.qa.tables import Tables
    from kg.encoder import OnnxEmbedder
    from kg.search import VectorIndex
    from kg.store import EmbeddedGraphStore

    t0 = time.perf_counter()
    report_path = settings.build_dir / "report.json"
    if not report_path.exists():
        raise RuntimeError(f"{report_path} not found: run `hcc-kg build` first")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    app.state.version_check = None
    if settings.store_url:  # the graph from a SPARQL endpoint, checked to hold this build's version
        from kg.remote_store import VersionCheck, connect

        store = connect(settings.store_url, report["graph_version"], settings.store_timeout_s)
        app.state.version_check = VersionCheck(store, report["graph_version"])
        app.state.sparql = sparql.start_service(settings, store)
    else:
        app.state.sparql = sparql.start_service(settings)  # its processes load the graph while this one does
    try:
        app.state.settings = settings
        app.state.report = report
        app.state.built_at = report_path.stat().st_mtime
        app.state.graph_version = report["graph_version"]
        app.state.store = store if settings.store_url else EmbeddedGraphStore.from_build(settings.build_dir)
        app.state.index = VectorIndex.load(settings.build_dir)
        if app.state.index.model != settings.embedding_model:
            raise RuntimeError(f"build/ vectors were made with {app.state.index.model}, settings ask for "
                               f"{settings.embedding_model}: rebuild with `hcc-kg build`")
        app.state.embedder = OnnxEmbedder(settings.build_dir, settings.encoder_threads_per_process)
        app.state.catalog = Catalog(app.state.store, settings.corpus_dir)
        app.state.assessor = assess.load_assessor(app.state.store)
        app.state.answerer = Answerer(app.state.store, app.state.index, app.state.embedder, app.state.catalog,
                                      RelationClassifier.load(settings.build_dir), app.state.assessor,
                                      tables=Tables.read(settings.build_dir, app.state.graph_version))
        app.state.triples = len(app.state.store)  # a version's graph does not change: counted once, not per /healthz
        if settings.store_url:
            store.serving()
        t_wait = time.perf_counter()
        app.state.sparql.wait_ready()
        t_wait = time.perf_counter() - t_wait
    except BaseException:
        app.state.sparql.close()
        raise
    log.info("loaded graph %s (%d quads, %s) in %.2f s (%.2f s of it waiting for the SPARQL workers)",
             app.state.graph_version, app.state.triples, settings.store_url or "embedded",
             time.perf_counter() - t0, t_wait)


def bound_memory(threads: int = THREADS):
    """Keep RSS flat under load. glibc gives every thread its own malloc arena (up to 8 per core) and keeps what
    each held: with 40 threads RSS grew ~300 MB under load and stayed. Two arenas and a pool of `threads`
    (admission control in api/limits.py bounds the work in flight anyway) kept growth to ~5% over 60 s of load."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError):  # not glibc: nothing to bound
        pass
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        bound_memory()
        load_resources(app, settings)
        app.state.core_claim = affinity.pin_worker(settings.workers)  # after the SPARQL processes started
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(mcp_http.serve, app.state, settings.host)
                yield
                tasks.cancel_scope.cancel()
        finally:
            app.state.sparql.close()
            if app.state.version_check is not None:
                await app.state.version_check.aclose()
                app.state.store.close()

    mcp_http = mcp_server.HttpEndpoint()
    app = FastAPI(title="hcc-kg", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Knowledge graph of the interventional treatment of hepatocellular carcinoma: "
                              "questions answered with facts and the source quotes behind them. "
                              "Educational content drawn from the cited sources, not clinical advice.")
    app.add_middleware(StoreCheck)
    app.add_middleware(ApiKeys, keys=settings.api_keys)
    app.add_middleware(EdgeLimits, settings=settings)  # inside CORS, so that its refusals carry CORS headers
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                       allow_headers=["*"], expose_headers=["X-Result-Truncated", "X-Graph-Version"])
    errors.install(app)

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs():
        """Swagger UI from the npm package swagger-ui-dist, served locally (the page works offline, under the CSP)."""
        return DOCS_PAGE

    app.include_router(health.router)
    app.include_router(sparql.router)
    app.include_router(search.router)
    app.include_router(ask.router)
    app.include_router(assess.router)
    app.include_router(chat.router)
    app.include_router(pages.router)
    app.router.routes.append(Route("/mcp", mcp_http))
    openapi.install(app)
    return app


SETTINGS_ENV = "HCC_KG_SETTINGS"


def app_from_environment() -> FastAPI:
    """The app of one worker of `hcc-kg serve --workers N` (uvicorn's factory), from the settings the command
    put in the environment. A worker is a fresh interpreter: it logs as the command does."""
    import os

    from kg.cli import configure_logging

    configure_logging()
    return create_app(Settings.from_json(os.environ[SETTINGS_ENV]))
