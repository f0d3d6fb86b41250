"""A source document cut into segments so that every cited span can be highlighted, however spans overlap.

Why segments: two facts may quote overlapping text, so spans cannot each become one <mark>. The text is cut at
every span boundary; each segment knows which facts' quotes cover it and whether it lies inside the quote a
citation link asked for (?start=&end=), which the page highlights and scrolls to.
"""
from dataclasses import dataclass, field

from kg.catalog import Catalog, Fact


@dataclass
class Segment:
    start: int
    end: int
    text: str
    facts: list[int] = field(default_factory=list)  # indexes into DocumentView.facts
    target: bool = False
    anchors: list[str] = field(default_factory=list)  # "q-START-END" ids of quotes that begin here


@dataclass
class DocumentView:
    id: str
    title: str
    length: int
    segments: list[Segment]
    facts: list[Fact]
    target: tuple[int, int] | None
    target_facts: list[int]
    quotes: int


def document_view(catalog: Catalog, doc_id: str, target: tuple[int, int] | None = None) -> DocumentView:
    doc = catalog.documents[doc_id]
    spans = catalog.evidence_by_document.get(doc_id, [])
    facts: list[Fact] = []
    index: dict[str, int] = {}
    cuts = {0, len(doc.text)}
    starts: dict[int, list[tuple[int, int, int]]] = {}
    for ev, fact in spans:
        if fact.iri not in index:
            index[fact.iri] = len(facts)
            facts.append(fact)
        cuts.update((ev.start, ev.end))
        starts.setdefault(ev.start, []).append((ev.start, ev.end, index[fact.iri]))
    if target:
        cuts.update(target)
    anchors: dict[int, list[str]] = {}
    for s, e in {(ev.start, ev.end) for ev, _ in spans} | ({target} if target else set()):
        anchors.setdefault(s, []).append(f"q-{s}-{e}")
    bounds = sorted(cuts)
    active: list[tuple[int, int, int]] = []  # (start, end, fact index) of the spans covering the current cut
    segments = []
    for a, b in zip(bounds, bounds[1:]):
        active = [sp for sp in active if sp[1] > a] + starts.get(a, [])
        covering = sorted({i for _, _, i in active})
        inside = bool(target) and target[0] <= a and b <= target[1]
        segments.append(Segment(a, b, doc.text[a:b], covering, inside, sorted(anchors.get(a, []))))
    target_facts: list[int] = []
    if target:  # the facts that cite exactly this quote, else those whose quotes overlap it
        exact = {index[f.iri] for ev, f in spans if (ev.start, ev.end) == target}
        target_facts = sorted(exact or {index[f.iri] for ev, f in spans if ev.start < target[1] and ev.end > target[0]})
    return DocumentView(doc.id, doc.title, len(doc.text), segments, facts, target, target_facts, len(spans))
