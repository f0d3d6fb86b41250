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
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import networkx as nx

from .queries import template
from .store import GraphStore
from .vocab import RDFS, local_name

SUBCLASS = str(RDFS.subClassOf)
SUBCLASS_RELATION = "subClassOf"

# Neighbourhood layout: nodes sit on staggered rings around the focus, grouped by relation so that all of a
# modality's contraindications (say) form one sector.
RING_BASE = 260.0
RING_STEP = 70.0
MIN_GAP = 80.0  # the arc length wanted between two nodes on the same ring
PETALS = (45.0, 22.0, 14.0)  # overview: base radius, ring step, gap of the concepts around each modality
MIN_HALO = 150.0  # overview: room kept around each modality, so that names (drawn at screen size) do not collide


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


@dataclass
class Layout:
    """Node positions, plus the captions of the sectors the nodes are grouped in (drawn as text only)."""
    positions: dict[str, tuple[float, float]]
    captions: list[dict] = field(default_factory=list)  # {"label", "x", "y", "count"}


def _relation_groups(g: nx.MultiDiGraph, centre: str, nodes: list[str]) -> list[tuple[str, list[str]]]:
    """The nodes grouped by their link to `centre`: its facts first (by relation), then facts pointing at it,
    then nodes linked only through others; each group ordered by label."""
    groups: dict[tuple[int, str], list[str]] = defaultdict(list)
    for n in nodes:
        out = sorted(d["label"] for d in (g.get_edge_data(centre, n) or {}).values())
        inc = sorted(d["label"] for d in (g.get_edge_data(n, centre) or {}).values())
        key = (0, out[0]) if out else (1, "← " + inc[0]) if inc else (2, "linked through others")
        groups[key].append(n)
    return [(key[1], sorted(members, key=lambda n: g.nodes[n]["label"].lower()))
            for key, members in sorted(groups.items())]


def _rings(count: int, base: float, gap: float) -> int:
    return max(1, math.ceil(count * gap / (2 * math.pi * base)))


def _outer_radius(count: int, base: float, step: float, gap: float) -> float:
    return base + (_rings(count, base, gap) - 1) * step


def _place_around(centre: tuple[float, float], groups: list[tuple[str, list[str]]], base: float, step: float,
                  gap: float, min_share: int) -> tuple[dict[str, tuple[float, float]], list[dict], float]:
    """Nodes on staggered rings around `centre`, each group in its own sector (at least `min_share` nodes
    wide, so a small group's caption has room); -> (positions, captions, outer radius)."""
    total = sum(len(m) for _, m in groups)
    if not total:
        return {}, [], 0.0
    rings = _rings(total, base, gap)
    weights = [max(len(m), min_share) for _, m in groups]
    outer = _outer_radius(total, base, step, gap)
    cx, cy = centre
    pos, captions, angle = {}, [], -math.pi / 2
    for (label, members), weight in zip(groups, weights):
        span = 2 * math.pi * weight / sum(weights)
        for i, n in enumerate(members):
            a = angle + span * (i + 0.5) / len(members)
            r = base + (i % rings) * step
            pos[n] = (round(cx + r * math.cos(a), 1), round(cy + r * math.sin(a), 1))
        mid = angle + span / 2
        away = outer + 70 + 50 * (len(captions) % 3)  # staggered, so neighbouring captions do not collide
        captions.append({"label": label, "count": len(members), "x": round(cx + away * math.cos(mid), 1),
                         "y": round(cy + away * math.sin(mid), 1)})
        angle += span
    return pos, captions, outer


def focus_layout(g: nx.MultiDiGraph, focus: str) -> Layout:
    """The focus at the centre, the others around it in sectors by their relation to it, each sector captioned."""
    groups = _relation_groups(g, focus, [n for n in g if n != focus])
    pos, captions, _ = _place_around((0.0, 0.0), groups, RING_BASE, RING_STEP, MIN_GAP, min_share=4)
    return Layout({focus: (0.0, 0.0), **pos}, captions)


def overview_layout(g: nx.MultiDiGraph, seed: int = 7) -> Layout:
    """The whole graph as 'flowers': the modalities (and diseases) spread out by a force-directed layout
    (networkx) of the links among them, each with the concepts it is most linked to around it like petals."""
    centres = [n for n, d in g.nodes(data=True) if d["modality"] or d["type"] == "Disease"]
    chosen = set(centres)
    owner: dict[str, list[str]] = defaultdict(list)
    for n in g:
        if n in chosen:
            continue
        links = Counter(m for m in nx.all_neighbors(g, n) if m in chosen)
        best = max(links, key=lambda m: (links[m], g.degree(m), m)) if links else ""
        owner[best].append(n)
    halo = {m: max(_outer_radius(len(owner.get(m, [])), *PETALS) + 40, MIN_HALO) for m in centres}
    skeleton = nx.Graph()
    skeleton.add_nodes_from(centres)
    skeleton.add_edges_from((s, o) for s, o in g.edges() if s in chosen and o in chosen and s != o)
    hub = "_hub"  # ties the separate parts of the skeleton together, so none drifts away
    for part in list(nx.connected_components(skeleton)):
        skeleton.add_edge(hub, max(part, key=lambda m: (g.degree(m), m)))
    raw = nx.spring_layout(skeleton, seed=seed, iterations=300, k=2.0 / math.sqrt(len(skeleton)))
    scale = 4 * max(halo.values(), default=MIN_HALO)
    spots = {m: [float(raw[m][0]) * scale, float(raw[m][1]) * scale] for m in centres}
    _separate(spots, halo)
    positions: dict[str, tuple[float, float]] = {m: (round(x, 1), round(y, 1)) for m, (x, y) in spots.items()}
    for m in centres:
        pos, _, _ = _place_around(positions[m], [("", owner.get(m, []))], *PETALS, min_share=1)
        positions.update(pos)
    if owner.get(""):
        low = max((y for _, y in positions.values()), default=0.0) + 200
        pos, _, _ = _place_around((0.0, low), [("", owner[""])], *PETALS, min_share=1)
        positions.update(pos)
    return Layout(positions)


def _separate(centres: dict[str, list[float]], radius: dict[str, float], rounds: int = 200):
    """Push apart modality centres whose petal rings would overlap (a few hundred cheap passes)."""
    names = list(centres)
    for _ in range(rounds):
        moved = False
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                (ax, ay), (bx, by) = centres[a], centres[b]
                dx, dy = bx - ax, by - ay
                dist = math.hypot(dx, dy) or 0.01
                need = radius[a] + radius[b] + 30
                if dist < need:
                    push = (need - dist) / 2
                    ux, uy = dx / dist, dy / dist
                    centres[a][0] -= ux * push
                    centres[a][1] -= uy * push
                    centres[b][0] += ux * push
                    centres[b][1] += uy * push
                    moved = True
        if not moved:
            return


def spring_layout(g: nx.MultiDiGraph, size: float = 1600.0, seed: int = 7) -> Layout:
    """Force-directed positions (networkx), fixed seed, scaled to a square of `size` pixels."""
    if len(g) == 0:
        return Layout({})
    simple = nx.Graph(g.to_undirected())
    pos = nx.spring_layout(simple, seed=seed, iterations=200, k=1.5 / math.sqrt(max(len(simple), 1)))
    return Layout({n: (round(float(x) * size / 2, 1), round(float(y) * size / 2, 1)) for n, (x, y) in pos.items()})


def cytoscape_elements(g: nx.MultiDiGraph, layout: Layout, focus: str | None = None) -> list[dict]:
    """Nodes and edges in cytoscape.js's element format, positions included; captions as text-only nodes."""
    pos = layout.positions
    degree = dict(g.degree())
    elements = [{"group": "nodes", "data": {"id": f"caption-{i}", "label": f"{c['label']} ({c['count']})",
                                            "caption": True}, "position": {"x": c["x"], "y": c["y"]},
                 "selectable": False, "grabbable": False}
                for i, c in enumerate(layout.captions)]
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
