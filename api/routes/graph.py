"""The graph view: a concept's neighbourhood (/graph/X) and the whole-graph overview (/graph), drawn by
cytoscape.js from positions that kg.graphview computes with networkx. Every link is also listed as plain HTML
under the drawing, for keyboards, screen readers and browsers without JavaScript."""
import time
from collections import defaultdict

from fastapi import APIRouter, Request

from api.pages import graphs
from api.pages.render import BASE, render
from kg import graphview

from .assets import vendor_path

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/graph")
def overview(request: Request, view: str = "all"):
    started = time.perf_counter()
    modalities_only = view == "modalities"
    g, layout = graphs.overview(request.app, modalities_only)
    return render(request, "graph.html", {
        "focus": None, "view": "modalities" if modalities_only else "all",
        "elements": graphview.cytoscape_elements(g, layout), "relations": graphview.relations_in(g),
        "types": _type_labels(request, graphview.types_in(g)), "nodes": len(g), "edges": g.number_of_edges(), "links": None,
        "vendor_ok": vendor_path(request, "cytoscape.min.js") is not None}, started)


@router.get("/graph/{local:path}")
def neighbourhood(request: Request, local: str):
    started = time.perf_counter()
    g = graphs.concept_graph(request.app)
    iri = BASE + local
    if iri not in g:
        return render(request, "error.html", {"title": "Not in the graph view", "message":
                      f"{iri} is not a concept of the graph.", "hint_browse": True}, started, status=404)
    sub = graphview.neighbourhood(g, iri)
    layout = graphview.focus_layout(sub, iri)
    catalog = request.app.state.catalog
    links = defaultdict(list)  # the focus's own links, as a list: (direction, relation label) -> neighbours
    for _, o, d in sub.out_edges(iri, data=True):
        links[("out", d["label"])].append(o)
    for s, _, d in sub.in_edges(iri, data=True):
        links[("in", d["label"])].append(s)
    listed = [(direction, label, [(n, catalog.label(n)) for n in sorted(set(nodes), key=catalog.sort_key)])
              for (direction, label), nodes in sorted(links.items())]
    return render(request, "graph.html", {
        "focus": {"iri": iri, "label": g.nodes[iri]["label"], "local": local}, "view": "focus",
        "elements": graphview.cytoscape_elements(sub, layout, iri), "relations": graphview.relations_in(sub),
        "types": _type_labels(request, graphview.types_in(sub)), "nodes": len(sub), "edges": sub.number_of_edges(), "links": listed,
        "vendor_ok": vendor_path(request, "cytoscape.min.js") is not None}, started)


def _type_labels(request: Request, counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """(type local name, its label, count) for the legend."""
    catalog = request.app.state.catalog
    return [(t, catalog.label(BASE + t), n) for t, n in counts.items()]
