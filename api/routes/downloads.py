"""The dataset as files: the build's exports (TriG, N-Quads, Turtle ontology, JSON-LD, report) and GraphML."""
import time
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response

from api.pages import graphs
from api.pages.render import render

router = APIRouter(tags=["pages"])

GRAPHML = "hcc-kg.graphml"
# name -> (media type, format, what it holds); files other than GraphML come from the build directory.
FILES = {
    "hcc-kg.trig": ("application/trig", "TriG", "The whole dataset with its four named graphs (ontology, curated "
                    "facts with provenance, passages, inferred)."),
    "hcc-kg.nq": ("application/n-quads", "N-Quads", "The same dataset, one quad per line: easy to load or grep."),
    "ontology.ttl": ("text/turtle", "Turtle", "The ontology alone: classes, properties, the modality hierarchy."),
    "hcc-kg.jsonld": ("application/ld+json", "JSON-LD", "The whole dataset as JSON-LD."),
    GRAPHML: ("application/graphml+xml", "GraphML", "Concepts as nodes and facts as labelled edges, for network "
              "tools (Gephi, Cytoscape desktop, networkx, igraph)."),
    "report.json": ("application/json", "JSON", "The build report: counts per relation, coverage of the sources, "
                    "graph version."),
}


def _build_file(request: Request, name: str) -> Path:
    return Path(request.app.state.settings.build_dir) / name


@router.get("/downloads", summary="Downloads page", include_in_schema=False)
def downloads_page(request: Request):
    started = time.perf_counter()
    rows = []
    for name, (media, fmt, text) in FILES.items():
        path = _build_file(request, name)
        size = len(graphs.graphml(request.app)) if name == GRAPHML else (path.stat().st_size if path.exists() else None)
        rows.append({"name": name, "media": media, "format": fmt, "text": text, "size": size})
    return render(request, "downloads.html", {"files": rows}, started)


@router.get("/downloads/{name}", summary="Download the dataset in one format",
            responses={200: {"content": {media: {} for media, _, _ in FILES.values()}}})
def download(request: Request, name: str):
    if name not in FILES:
        raise HTTPException(404, f"no download {name!r}; available: {', '.join(FILES)}")
    media = FILES[name][0]
    headers = {"X-Graph-Version": request.app.state.graph_version}
    if name == GRAPHML:
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return Response(graphs.graphml(request.app), media_type=media, headers=headers)
    path = _build_file(request, name)
    if not path.exists():
        raise HTTPException(404, f"{name} is not in the build directory: run `hcc-kg build`")
    return FileResponse(path, media_type=media, filename=name, headers=headers)
