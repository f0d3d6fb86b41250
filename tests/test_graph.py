"""The real graph: complete on real content, and checkable by independent RDF tools from its exports."""
import json

import pytest
from pyshacl import validate
from rdflib import Dataset, Graph

from kg.config import ROOT

SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
Q = """PREFIX hcc: <https://w3id.org/hcc-kg/>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


@pytest.fixture(scope="module")
def dataset(built):
    settings, _ = built
    ds = Dataset(default_union=True)
    ds.parse(settings.build_dir / "hcc-kg.trig", format="trig")
    return ds


def facts_with_evidence(ds, subject, predicate, document):
    rows = ds.query(Q + f"""
        SELECT DISTINCT ?o ?start ?end WHERE {{
          ?st rdf:subject hcc:{subject} ; rdf:predicate hcc:{predicate} ; rdf:object ?o ;
              prov:wasDerivedFrom [ oa:hasSource [ dcterms:identifier "{document}" ] ;
                                    oa:hasSelector [ oa:start ?start ; oa:end ?end ] ] .
        }}""")
    return [(str(o), int(s), int(e)) for o, s, e in rows]


def test_corpus_is_the_shared_copy_byte_for_byte():
    if not SHARED_CORPUS.exists():
        pytest.skip("no ../shared/corpus beside this checkout")
    for f in SHARED_CORPUS.iterdir():
        assert (ROOT / "corpus" / f.name).read_bytes() == f.read_bytes(), f.name


def test_size_and_coverage(built):
    _, report = built
    assert sum(report.facts_per_relation.values()) >= 250
    assert report.coverage["ratio"] >= 0.85, report.coverage["uncited_clinical"]
    assert report.documents == 5


def test_every_position_selector_matches_the_corpus_read_independently(dataset):
    """Read the corpus files directly (not through kg) and check every oa:TextPositionSelector."""
    texts = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.txt")}
    rows = list(dataset.query(Q + """
        SELECT ?doc ?start ?end ?exact WHERE {
          ?t oa:hasSource/dcterms:identifier ?doc ; oa:hasSelector ?p, ?q .
          ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
          ?q a oa:TextQuoteSelector ; oa:exact ?exact .
        }"""))
    assert len(rows) >= 250
    for doc, start, end, exact in rows:
        assert texts[str(doc)][int(start):int(end)] == str(exact)


def test_the_exported_dataset_conforms_to_the_shapes(built):
    settings, _ = built
    data = Graph()
    for name in ("hcc-kg.nq",):
        ds = Dataset()
        ds.parse(settings.build_dir / name, format="nquads")
        for g in ds.graphs():
            if not str(g.identifier).endswith("graph/inferred"):
                for t in g:
                    data.add(t)
    conforms, _, text = validate(data, shacl_graph=Graph().parse(ROOT / "ontology" / "shapes.ttl"),
                                 inference="none", advanced=True)
    assert conforms, text[:2000]


def test_every_fact_has_evidence_and_a_statement(dataset):
    missing = list(dataset.query(Q + """
        SELECT ?st WHERE { ?st a rdf:Statement .
          FILTER NOT EXISTS { ?st prov:wasDerivedFrom/oa:hasSelector/oa:exact ?x ; hcc:statement ?s } }"""))
    assert missing == []


def test_the_guideline_ten_ablation_contraindications_are_present_and_absolute(dataset):
    text = (ROOT / "corpus" / "nonsurgical-treatment-guideline.txt").read_text(encoding="utf-8")
    lo, hi = text.index("(2) Contraindications: ①"), text.index("Meanwhile, tumor in the first hilar region")
    absolute = {o for o, s, e in facts_with_evidence(dataset, "LocalAblation", "hasContraindication",
                                                      "nonsurgical-treatment-guideline") if lo <= s < hi}
    assert len(absolute) >= 10
    relative = facts_with_evidence(dataset, "LocalAblation", "hasRelativeContraindication",
                                   "nonsurgical-treatment-guideline")
    quotes = " ".join(text[s:e] for _, s, e in relative)
    assert "first hilar region" in quotes and "gallbladder" in quotes
    assert not {o for o, _, _ in relative} & absolute


def test_the_guideline_eight_tace_contraindications_are_present(dataset):
    text = (ROOT / "corpus" / "nonsurgical-treatment-guideline.txt").read_text(encoding="utf-8")
    lo, hi = text.index("4. Contraindications."), text.index("5. Operation procedure points")
    absolute = {o for o, s, e in facts_with_evidence(dataset, "TACE", "hasContraindication",
                                                      "nonsurgical-treatment-guideline") if lo <= s < hi}
    relative = {(o, text[s:e]) for o, s, e in facts_with_evidence(dataset, "TACE", "hasRelativeContraindication",
                                                                   "nonsurgical-treatment-guideline") if lo <= s < hi}
    assert len(absolute) + len({o for o, _ in relative}) >= 8
    assert any("leukocytes" in q or "3.0×109/L" in q for _, q in relative), relative


def test_criteria_are_machine_readable(dataset):
    rows = {(str(k), str(c), str(v)) for k, c, v in dataset.query(Q + """
        SELECT ?key ?cmp ?v WHERE { ?x hcc:hasCriterion ?c . ?c hcc:parameter/hcc:key ?key ;
                                    hcc:comparator ?cmp ; hcc:value ?v }""")}
    assert ("child_pugh", "in", "C") in rows
    assert ("max_tumor_diameter_cm", "<=", "5") in rows or ("max_tumor_diameter_cm", "<=", "5.0") in rows
    assert any(k == "leukocytes_1e9_per_l" and c == "<" for k, c, _ in rows)
    assert any(k == "tumor_liver_share_pct" and c == ">=" and float(v) == 70 for k, c, v in rows)


def test_translation_errors_stay_verbatim_with_a_correction(dataset):
    rows = list(dataset.query(Q + """
        SELECT ?label ?note WHERE { hcc:Cisplatin skos:prefLabel ?label ; hcc:correctionNote ?note }"""))
    assert rows and "cis-chloramphenicol" in str(rows[0][1])
    quotes = {str(q) for (q,) in dataset.query(Q + "SELECT ?q WHERE { ?s oa:exact ?q }")}
    assert any("cis-chloramphenicol" in q for q in quotes)


def test_inferred_knowledge_is_kept_apart(built):
    settings, _ = built
    ds = Dataset()
    ds.parse(settings.build_dir / "hcc-kg.trig", format="trig")
    graphs = {str(g.identifier).rsplit("/", 1)[-1]: g for g in ds.graphs() if len(g)}
    assert {"ontology", "facts", "passages", "inferred"} <= set(graphs)
    assert not set(graphs["inferred"]) & set(graphs["facts"])
    assert len(graphs["inferred"]) > 100


def test_passages_cover_every_sentence_with_offsets(dataset):
    texts = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.txt")}
    rows = list(dataset.query(Q + """
        SELECT ?doc ?start ?end ?text WHERE { ?p a hcc:Passage ; hcc:inDocument/dcterms:identifier ?doc ;
          hcc:start ?start ; hcc:end ?end ; hcc:text ?text }"""))
    assert len(rows) > 150
    for doc, start, end, text in rows:
        assert texts[str(doc)][int(start):int(end)] == str(text)
    mentions = list(dataset.query(Q + "SELECT ?p WHERE { ?p hcc:mentions hcc:TACE }"))
    assert len(mentions) >= 10


def test_exports_exist_in_standard_formats(built):
    settings, report = built
    for name in ("hcc-kg.trig", "hcc-kg.nq", "hcc-kg.jsonld", "ontology.ttl"):
        assert (settings.build_dir / name).stat().st_size > 1000
    json.loads((settings.build_dir / "hcc-kg.jsonld").read_text(encoding="utf-8"))
    Graph().parse(settings.build_dir / "ontology.ttl", format="turtle")
    assert json.loads((settings.build_dir / "report.json").read_text())["graph_version"] == report.graph_version
