"""GET /healthz: on the event loop (it only reads app.state), so it answers even when every worker thread is busy."""
from fastapi import APIRouter, Request

router = APIRouter(tags=["service"])


@router.get("/healthz", summary="Liveness and graph figures")
async def healthz(request: Request) -> dict:
    s = request.app.state
    return {"status": "ok", "triples": s.triples, "documents": s.report["documents"],
            "facts": sum(s.report["facts_per_relation"].values()), "graph_version": s.graph_version}
