from typing import Annotated

from fastapi import APIRouter, Query, Request

router = APIRouter(tags=["search"])


def search_results(state, q: str, k: int) -> dict:
    """Passages and concepts nearest to `q` (also the MCP `search` tool)."""
    results = []
    for item, score in state.index.search(state.embedder.embed(q), k=k, kinds=("passage", "concept")):
        r = {"kind": item.kind, "score": round(score, 4), "text": item.text}
        if item.kind == "passage":
            r.update(document=item.document, start=item.start, end=item.end)
        else:
            r.update(iri=item.iri, label=item.label)
        results.append(r)
    return {"query": q, "results": results}


@router.get("/search", summary="Embedding search over corpus passages and graph concepts")
def search(request: Request,
           q: Annotated[str, Query(min_length=1, max_length=2000, pattern=r"\S", description="free text")],
           k: Annotated[int, Query(ge=1, le=100, description="number of results")] = 10) -> dict:
    return search_results(request.app.state, q, k)
