"""The app's concept graph (kg.graphview) and its whole-graph layouts, built on first use and kept.

The spring layout of the whole graph takes about a second, so it is computed once per app, not per request.
"""
import threading

import networkx as nx

from kg import graphview

_lock = threading.Lock()


def _cached(app, name: str, make):
    value = getattr(app.state, name, None)
    if value is None:
        with _lock:
            value = getattr(app.state, name, None)
            if value is None:
                value = make()
                setattr(app.state, name, value)
    return value


def concept_graph(app) -> nx.MultiDiGraph:
    return _cached(app, "page_graph", lambda: graphview.load_graph(app.state.store))


def overview(app, modalities_only: bool) -> tuple[nx.MultiDiGraph, graphview.Layout]:
    """(graph, layout) of the whole graph or of the modalities alone."""
    g = concept_graph(app)
    if modalities_only:
        sub = _cached(app, "page_graph_modalities", lambda: graphview.modality_graph(g))
        return sub, _cached(app, "page_graph_modalities_layout", lambda: graphview.spring_layout(sub, size=1000))
    return g, _cached(app, "page_graph_layout", lambda: graphview.overview_layout(g))


def graphml(app) -> bytes:
    return _cached(app, "page_graphml", lambda: graphview.graphml(concept_graph(app)))
