"""Build the dataset: corpus + TBox + curated facts -> RDF (kg/assemble.py) -> checks -> OWL-RL -> exports.

Named graphs keep asserted and inferred knowledge apart:
  hcc:graph/ontology  the TBox and parameters          hcc:graph/facts     concepts, direct facts, provenance
  hcc:graph/passages  corpus sentences and mentions    hcc:graph/inferred  the OWL-RL closure's new triples
The build refuses (raises) on any quote it cannot prove, any selector that does not match the text, and any
SHACL violation of ontology/shapes.ttl.
"""
import hashlib
import json
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from .assemble import assemble
from .config import Settings
from .corpus import Document, load_corpus, split_sentences
from .curation import Curation, load_curation
from .errors import BuildError
from .lexicon import Lexicon, load_lexicon
from .vocab import (DATASET, DATASET_GRAPH, FACTS_GRAPH, HCC, INFERRED_GRAPH, OA, ONTOLOGY_GRAPH, PASSAGES_GRAPH,
                    PREFIXES, VOID, local_name)

log = logging.getLogger(__name__)

EXPORTS = {"trig": "hcc-kg.trig", "nquads": "hcc-kg.nq", "json-ld": "hcc-kg.jsonld"}
ONTOLOGY_EXPORT = "ontology.ttl"
REPORT = "report.json"


def load_tbox(settings: Settings) -> Graph:
    g = Graph()
    for name in ("hcc.ttl", "parameters.ttl"):
        g.parse(settings.ontology_dir / name, format="turtle")
    return g


def load_inputs(settings: Settings) -> tuple[dict[str, Document], Graph, Curation, Lexicon]:
    corpus = load_corpus(settings.corpus_dir)
    tbox = load_tbox(settings)
    curation = load_curation(settings.facts_dir, tbox, corpus)
    modalities = {local_name(c) for c in tbox.transitive_subjects(RDFS.subClassOf, HCC.TreatmentModality)}
    modalities |= {c.id for c in curation.concepts.values() if c.is_modality}
    concepts = {local_name(s) for s in tbox.subjects(SKOS.prefLabel, None)} | set(curation.concepts)
    relations = {local_name(p) for p in tbox.subjects(RDF.type, HCC.FactProperty)}
    return corpus, tbox, curation, load_lexicon(settings.lexicon_dir, concepts, modalities, relations)


@dataclass
class BuildReport:
    graph_version: str
    facts_per_relation: dict[str, int]
    evidence_items: int
    documents: int
    concepts: int
    triples_per_graph: dict[str, int]
    coverage: dict
    classifier: dict
    encoder: dict
    seconds: float
    outputs: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"built hcc-kg {self.graph_version} in {self.seconds:.1f} s",
                 f"  documents: {self.documents}   concepts: {self.concepts}   "
                 f"facts: {sum(self.facts_per_relation.values())}   evidence quotes: {self.evidence_items}",
                 "  facts per relation:"]
        lines += [f"    {rel:<28} {n:>4}" for rel, n in sorted(self.facts_per_relation.items(), key=lambda x: -x[1])]
        lines.append("  triples: " + ", ".join(f"{g} {n}" for g, n in self.triples_per_graph.items())
                     + f" (total {sum(self.triples_per_graph.values())})")
        c = self.coverage
        lines.append(f"  sentence coverage: {c['cited']}/{c['clinical']} clinical sentences cited = {c['ratio']:.1%} "
                     f"({c['total']} sentences, {c['non_clinical']} marked non-clinical)")
        if self.classifier:
            k = self.classifier
            lines.append(f"  relation classifier: {k['kinds']} kinds, {k['examples']} examples, C={k['c']}, "
                         f"5-fold accuracy {k['cv_accuracy']:.3f}")
        if self.encoder:
            lines.append(f"  ONNX encoder: max cosine distance to sentence-transformers "
                         f"{self.encoder['max_cosine_distance']:.1e} on {self.encoder['checked_texts']} texts")
        lines.append("  wrote: " + ", ".join(self.outputs))
        return "\n".join(lines)


class _Progress:
    """Numbered steps on stderr, so a long build shows where it is."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.n, self.t0 = total, enabled, 0, time.perf_counter()

    def step(self, what: str):
        self.n += 1
        log.debug("step %d/%d: %s", self.n, self.total, what)
        if self.enabled:
            print(f"[{self.n}/{self.total}] {what} ({time.perf_counter() - self.t0:.1f} s)", file=sys.stderr, flush=True)


def build(settings: Settings, progress: bool = True, embed: bool = True) -> BuildReport:
    """Build everything into settings.build_dir; embed=False skips the vector index (refusal tests)."""
    t0 = time.perf_counter()
    p = _Progress(11 if embed else 7, progress)
    p.step("loading corpus, ontology and curated facts; verifying quotes")
    corpus, tbox, curation, lexicon = load_inputs(settings)
    p.step("assembling the RDF dataset")
    ds = assemble(corpus, tbox, curation, lexicon)
    p.step("checking every text selector against the corpus")
    problems = verify_selectors(ds, corpus)
    if problems:
        raise BuildError("selectors that do not match the corpus:\n" + "\n".join(problems[:20]))
    p.step("validating against ontology/shapes.ttl (SHACL)")
    validate_shapes(ds, settings.ontology_dir / "shapes.ttl")
    p.step("computing the OWL-RL closure")
    add_inferred(ds)
    p.step("writing exports")
    version = graph_version(ds)
    describe_dataset(ds, version)
    outputs = write_exports(ds, tbox, settings.build_dir)
    p.step("computing coverage")
    coverage = sentence_coverage(corpus, curation)
    indexes = {}
    if embed:
        from .indexes import build_indexes
        indexes = build_indexes(settings, ds, lexicon, version, p.step)
    report = BuildReport(
        graph_version=version,
        facts_per_relation=dict(Counter(f.relation for f in curation.facts)),
        evidence_items=sum(len(f.evidence) for f in curation.facts),
        documents=len(corpus), concepts=len(curation.concepts) + _tbox_concepts(tbox),
        triples_per_graph={local_name(g.identifier).removeprefix("graph/"): len(g) for g in ds.graphs()
                           if len(g)},
        coverage=coverage, classifier=indexes.get("classifier", {}), encoder=indexes.get("encoder", {}),
        seconds=time.perf_counter() - t0, outputs=outputs)
    report_path = settings.build_dir / REPORT
    report_path.write_text(json.dumps(report.__dict__, indent=1, ensure_ascii=False), encoding="utf-8")
    report.outputs.append(str(report_path))
    log.info("built graph %s: %d facts, %d triples", version, sum(report.facts_per_relation.values()),
             sum(report.triples_per_graph.values()))
    return report


def _tbox_concepts(tbox: Graph) -> int:
    return len({s for s in tbox.subjects(SKOS.prefLabel, None)})


def verify_selectors(ds: Dataset, corpus: dict[str, Document]) -> list[str]:
    """Independent check: every position selector's [start:end] equals its quote selector's exact text.

    Walks the triples directly (an rdflib SPARQL join over the dataset takes seconds; this takes milliseconds).
    """
    g = ds.graph(FACTS_GRAPH)
    doc_ids = {d: str(i) for d, i in g.subject_objects(DCTERMS.identifier)}
    problems, seen = [], 0
    for target in g.subjects(RDF.type, OA.SpecificResource):
        doc = doc_ids.get(g.value(target, OA.hasSource))
        positions = [s for s in g.objects(target, OA.hasSelector) if (s, RDF.type, OA.TextPositionSelector) in g]
        quotes = [s for s in g.objects(target, OA.hasSelector) if (s, RDF.type, OA.TextQuoteSelector) in g]
        if doc not in corpus or len(positions) != 1 or len(quotes) != 1:
            problems.append(f"{target}: needs a known document, one position and one quote selector")
            continue
        start, end = int(g.value(positions[0], OA.start)), int(g.value(positions[0], OA.end))
        exact = str(g.value(quotes[0], OA.exact))
        seen += 1
        if corpus[doc].text[start:end] != exact:
            problems.append(f"{target}: {doc}[{start}:{end}] is {corpus[doc].text[start:end]!r}, not {exact!r}")
    return problems if seen else ["no evidence selectors at all"]


def validate_shapes(ds: Dataset, shapes_path: Path):
    from pyshacl import validate

    data = Graph()
    for gid in (ONTOLOGY_GRAPH, FACTS_GRAPH, PASSAGES_GRAPH):
        for t in ds.graph(gid):
            data.add(t)
    shapes = Graph().parse(shapes_path, format="turtle")
    conforms, _, text = validate(data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True)
    if not conforms:
        raise BuildError("the graph does not conform to ontology/shapes.ttl:\n" + text[:4000])


def add_inferred(ds: Dataset):
    """OWL-RL closure of the TBox and the knowledge (concepts and direct facts); only the triples it adds go to
    the inferred graph. The provenance nodes (statements, annotations, selectors) are left out: reasoning over
    them tripled the build time and only typed them as what they already are."""
    import owlrl

    base = Graph()
    for t in ds.graph(ONTOLOGY_GRAPH):
        base.add(t)
    provenance = str(HCC["fact/"])
    for t in ds.graph(FACTS_GRAPH):
        if not str(t[0]).startswith(provenance):
            base.add(t)
    closed = Graph()
    for t in base:
        closed.add(t)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(closed)
    inferred = ds.graph(INFERRED_GRAPH)
    for s, p, o in closed:
        if (s, p, o) in base or isinstance(s, BNode) or isinstance(o, BNode):
            continue
        if s == o or o == OWL.Thing:
            continue  # reflexive sameAs/subClassOf/equivalentClass and owl:Thing types say nothing
        if isinstance(o, Literal) and p == RDF.type:
            continue
        if not str(s).startswith(str(HCC)) and p in (RDF.type, RDFS.subClassOf, OWL.equivalentClass):
            continue  # closure of the standard vocabularies themselves
        inferred.add((s, p, o))


def graph_version(ds: Dataset) -> str:
    """A content hash of the asserted and inferred graphs: same content, same version."""
    h = hashlib.sha256()
    for gid in (ONTOLOGY_GRAPH, FACTS_GRAPH, PASSAGES_GRAPH, INFERRED_GRAPH):
        for line in sorted(f"{s.n3()} {p.n3()} {o.n3()}" for s, p, o in ds.graph(gid)):
            h.update(gid.encode() + line.encode("utf-8") + b"\n")
    return h.hexdigest()[:16]


def describe_dataset(ds: Dataset, version: str):
    """The version in the graph itself, so that a server reading a remote store can tell what the store holds."""
    g = ds.graph(DATASET_GRAPH)
    g.add((DATASET, RDF.type, VOID.Dataset))
    g.add((DATASET, DCTERMS.title, Literal("hcc-kg")))
    g.add((DATASET, OWL.versionInfo, Literal(version)))


def write_exports(ds: Dataset, tbox: Graph, build_dir: Path) -> list[str]:
    build_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt, name in EXPORTS.items():
        path = build_dir / name
        ds.serialize(destination=str(path), format=fmt, **({"auto_compact": True} if fmt == "json-ld" else {}))
        out.append(str(path))
    onto = Graph()
    for prefix, ns in PREFIXES.items():
        onto.bind(prefix, ns)
    for t in tbox:
        onto.add(t)
    onto.serialize(destination=str(build_dir / ONTOLOGY_EXPORT), format="turtle")
    out.append(str(build_dir / ONTOLOGY_EXPORT))
    return out


# ------------------------------------------------------------------------------------------ vector index items
# ------------------------------------------------------------------------------------------ coverage
def sentence_coverage(corpus: dict[str, Document], curation: Curation) -> dict:
    """Share of the sentences that make a clinical statement which some fact's evidence overlaps.

    A sentence is clinical unless the curators list it under `uncited:` (heading, narrative) and no fact
    cites it anyway.
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    for f in curation.facts:
        for ev in f.evidence:
            spans.setdefault(ev.document, []).append((ev.start, ev.end))
    marked = {(u.document, u.sentence) for u in curation.uncited}
    total = cited = non_clinical = 0
    gaps, per_doc = [], {}
    for doc in corpus.values():
        d_total = d_cited = d_nc = 0
        for sent in split_sentences(doc):
            total += 1
            d_total += 1
            is_cited = any(s < sent.end and e > sent.start for s, e in spans.get(doc.id, []))
            if is_cited:
                cited += 1
                d_cited += 1
            elif any(d == doc.id and sent.text.startswith(prefix) for d, prefix in marked):
                non_clinical += 1
                d_nc += 1
            else:
                gaps.append({"document": doc.id, "start": sent.start, "sentence": sent.text[:120]})
        per_doc[doc.id] = {"total": d_total, "cited": d_cited, "non_clinical": d_nc}
    clinical = total - non_clinical
    return {"total": total, "non_clinical": non_clinical, "clinical": clinical, "cited": cited,
            "ratio": cited / clinical if clinical else 0.0, "per_document": per_doc, "uncited_clinical": gaps}
