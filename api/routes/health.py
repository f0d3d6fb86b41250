from fastapi import APIRouter, Request

router = APIRouter(tags=["service"])


@router.get("/healthz", summary="Liveness and graph figures")
def healthz(request: Request) -> dict:
    s = request.app.state
    return {"status": "ok", "triples": len(s.store), "documents": s.report["documents"],
            "facts": sum(s.report["facts_per_relation"].values()), "graph_version": s.graph_version}
