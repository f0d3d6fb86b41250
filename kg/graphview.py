"""The concept graph as networkx sees it: for the interactive graph view and the GraphML download.

Why networkx: one graph object serves the browser view (a concept's neighbourhood, the whole-graph overview)
and the export for network tools (Gephi, Cytoscape desktop). Layouts are computed here, deterministically, so
the browser only draws them (cytoscape's `preset` layout) and the same page always looks the same.

Nodes are concepts (IRI keys; label, type, modality flag); edges are facts between two concepts (key = the
fact's IRI, relation = the property's local name) plus the direct subclass links (the transitive reduction of
the inferred rdfs:subClassOf closure). Facts whose object is text (definitions) are not edges.
"""
import io
import math
from collections import defaultdict

import networkx as nx

from .qa.retrieval import template
from .store import GraphStore
from .vocab import RDFS, local_name

SUBCLASS = str(RDFS.subClassOf)
SUBCLASS_RELATION = "subClassOf"

# Neighbourhood layout: nodes sit on staggered rings around the focus, grouped by relation so that all of a
# modality's contraindications (say) form one sector.
RING_BASE = 260.0
RING_STEP = 70.0
MIN_GAP = 80.0  # the arc length wanted between two nodes on the same ring


def load_graph(store: GraphStore) -> nx.MultiDiGraph:
    """The concept graph from the built store (two SPARQL templates, no user values)."""
    g = nx.MultiDiGraph()
    for r in store.select(template("page_graph_nodes")):
        iri = r["concept"]
        modality = r["isModality"] == "true"
        kind = local_name(r["type"]) if r["type"] else ("TreatmentModality" if modality else "Concept")
        if iri in g and g.nodes[iri]["type"] != "Concept":
            continue  # a concept with two specific types keeps the first
        g.add_node(iri, iri=iri, label=r["label"], type=kind, modality=modality)
    subclass = nx.DiGraph()
    for r in store.select(template("page_graph_edges")):
        s, o = r["s"], r["o"]
        if s not in g or o not in g:
            continue
        if r["p"] == SUBCLASS:
            subclass.add_edge(s, o)
        else:
            g.add_edge(s, o, key=r["fact"], relation=local_name(r["p"]), label=r["label"] or local_name(r["p"]),
                       fact=r["fact"])
    direct = nx.transitive_reduction(subclass) if nx.is_directed_acyclic_graph(subclass) else subclass
    for s, o in direct.edges:
        g.add_edge(s, o, key=f"{s} subClassOf {o}", relation=SUBCLASS_RELATION, label="subclass of", fact="")
    return g


def neighbourhood(g: nx.MultiDiGraph, focus: str, radius: int = 1) -> nx.MultiDiGraph:
    """The focus, every concept within `radius` links of it (either direction), and the links among them."""
    return g.subgraph(nx.ego_graph(g, focus, radius=radius, undirected=True).nodes).copy()


def modality_graph(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Only the treatment modalities and the links among them: the class tree and the combinations."""
    return g.subgraph([n for n, d in g.nodes(data=True) if d["modality"]]).copy()


def focus_layout(g: nx.MultiDiGraph, focus: str) -> dict[str, tuple[float, float]]:
    """The focus at the centre; the others around it in sectors by their relation to the focus."""
    def relation_to_focus(n: str) -> str:
        """Sort key: facts from the focus first, then facts pointing at it, then second-hand neighbours."""
        out = sorted(d["relation"] for d in (g.get_edge_data(focus, n) or {}).values())
        inc = sorted(d["relation"] for d in (g.get_edge_data(n, focus) or {}).values())
        return ("1" + out[0]) if out else ("2" + inc[0]) if inc else "3"

    others = sorted((n for n in g if n != focus), key=lambda n: (relation_to_focus(n), g.nodes[n]["label"].lower()))
    pos = {focus: (0.0, 0.0)}
    if not others:
        return pos
    rings = max(1, math.ceil(len(others) * MIN_GAP / (2 * math.pi * RING_BASE)))
    for i, n in enumerate(others):
        angle = 2 * math.pi * i / len(others) - math.pi / 2
        r = RING_BASE + (i % rings) * RING_STEP
        pos[n] = (round(r * math.cos(angle), 1), round(r * math.sin(angle), 1))
    return pos


def spring_layout(g: nx.MultiDiGraph, size: float = 2400.0, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Force-directed positions (networkx), fixed seed, scaled to a square of `size` pixels."""
    if len(g) == 0:
        return {}
    simple = nx.Graph(g.to_undirected())
    pos = nx.spring_layout(simple, seed=seed, iterations=80, k=1.6 / math.sqrt(max(len(simple), 1)))
    return {n: (round(float(x) * size / 2, 1), round(float(y) * size / 2, 1)) for n, (x, y) in pos.items()}


def cytoscape_elements(g: nx.MultiDiGraph, pos: dict[str, tuple[float, float]], focus: str | None = None) -> list[dict]:
    """Nodes and edges in cytoscape.js's element format, positions included."""
    degree = dict(g.degree())
    elements = []
    for n, d in g.nodes(data=True):
        x, y = pos.get(n, (0.0, 0.0))
        elements.append({"group": "nodes", "data": {
            "id": n, "local": local_name(n), "label": d["label"], "type": d["type"], "modality": d["modality"],
            "focus": n == focus, "degree": degree.get(n, 0)}, "position": {"x": x, "y": y}})
    for s, o, key, d in g.edges(keys=True, data=True):
        elements.append({"group": "edges", "data": {
            "id": key, "source": s, "target": o, "relation": d["relation"], "label": d["label"]}})
    return elements


def relations_in(g: nx.MultiDiGraph) -> dict[str, str]:
    """relation local name -> label, for a legend."""
    out: dict[str, str] = {}
    for _, _, d in g.edges(data=True):
        out.setdefault(d["relation"], d["label"])
    return dict(sorted(out.items(), key=lambda kv: kv[1]))


def types_in(g: nx.MultiDiGraph) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for _, d in g.nodes(data=True):
        counts[d["type"]] += 1
    return dict(sorted(counts.items()))


def graphml(g: nx.MultiDiGraph) -> bytes:
    """GraphML for network tools: node ids are IRIs; every attribute a plain string, number or boolean."""
    buf = io.BytesIO()
    nx.write_graphml(g, buf, named_key_ids=True)
    return buf.getvalue()
