"""The lexicon as data: the loader's checks, its RDF in the built graph, and the classifier trained from it."""
import shutil

import numpy as np
import pytest
import yaml
from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from kg.build import load_inputs
from kg.config import ROOT, Settings
from kg.errors import BuildError
from kg.lexicon import ELIGIBILITY, family_iri, kind_iri, lexicon_triples
from kg.qa.classifier import RelationClassifier
from kg.search import SentenceTransformerEmbedder
from kg.store import EmbeddedGraphStore
from kg.vocab import HCC


def lexicon_copy(tmp_path):
    onto = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", onto)
    return onto, Settings(ontology_dir=onto, build_dir=tmp_path / "build")


def edit(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_real_lexicon_loads_with_every_kind():
    lexicon = load_inputs(Settings())[3]
    relations = {"hasIndication", "hasContraindication", "hasRelativeContraindication", "hasMechanism",
                 "hasAdverseEffect", "hasLimitation", "hasFollowUp", "usesDrug", "usesEmbolicAgent"}
    assert relations | {ELIGIBILITY} <= set(lexicon.kinds)
    assert all(len(k.examples) >= 20 for k in lexicon.kinds.values())
    assert lexicon.questions and all(kinds for _, kinds in lexicon.questions)
    assert any(f.id == "Embolization" and set(f.members) == {"TACE", "TAE"} for f in lexicon.families)
    weights = {}
    for text, kind, w in lexicon.training_examples():
        weights[text] = weights.get(text, 0.0) + w
    assert all(abs(w - round(w)) < 1e-9 for w in weights.values())  # a question's kinds share one unit of weight


@pytest.mark.parametrize("change,message", [
    (lambda d: d["concepts"].update({"NoSuchConcept": {"alt": ["x"]}}), "NoSuchConcept: unknown concept id"),
    (lambda d: d["families"]["Embolization"]["members"].append("Doxorubicin"), "not a treatment modality"),
])
def test_terms_naming_unknown_things_are_refused(tmp_path, change, message):
    onto, settings = lexicon_copy(tmp_path)
    edit(onto / "lexicon" / "terms.yaml", change)
    with pytest.raises(BuildError, match=message):
        load_inputs(settings)


def test_an_example_under_two_kinds_or_an_unknown_kind_is_refused(tmp_path):
    onto, settings = lexicon_copy(tmp_path)
    edit(onto / "lexicon" / "relations.yaml",
         lambda d: (d["hasMechanism"]["examples"].append(d["hasLimitation"]["examples"][0]),
                    d.update({"hasColour": {"examples": ["what colour is TACE"]}})))
    with pytest.raises(BuildError) as err:
        load_inputs(settings)
    assert "is also an example of" in str(err.value) and "hasColour: not a fact relation" in str(err.value)


def test_the_lexicon_is_skos_in_the_ontology_graph(built):
    lexicon = load_inputs(Settings())[3]
    g = Graph()
    for t in lexicon_triples(lexicon):
        g.add(t)
    assert (kind_iri("hasContraindication"), SKOS.example, None) in g
    assert (family_iri("Embolization"), RDF.type, SKOS.Collection) in g
    assert (family_iri("Embolization"), SKOS.member, HCC.TACE) in g
    assert (HCC.LocalAblation, SKOS.hiddenLabel, None) in g
    settings, _ = built
    store = EmbeddedGraphStore.from_build(settings.build_dir)
    rows = store.select("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT (COUNT(*) AS ?n) WHERE { GRAPH "
                        "<https://w3id.org/hcc-kg/graph/ontology> { ?k skos:example ?e } }")
    assert int(rows[0]["n"]) >= lexicon.example_count


def test_classifier_training_is_deterministic_and_learns_the_kinds(built):
    settings, _ = built
    lexicon = load_inputs(Settings())[3]
    kinds = ("hasContraindication", "hasAdverseEffect", "usesDrug", "hasFollowUp")
    examples = [e for e in lexicon.training_examples() if e[1] in kinds and e[2] == 1.0]
    cues = {k: lexicon.kinds[k].cues for k in kinds}
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    a = RelationClassifier.train(examples, cues, embedder.embed_batch)
    b = RelationClassifier.train(examples, cues, embedder.embed_batch)
    assert a.c == b.c and np.array_equal(a.coef, b.coef) and np.array_equal(a.intercept, b.intercept)
    served = RelationClassifier.load(settings.build_dir)
    for question, kind in [("who shouldnt get chemoembolisation", "hasContraindication"),
                           ("mum is throwing up after the procedure, is that normal", "hasAdverseEffect"),
                           ("which chemo goes down the catheter", "usesDrug"),
                           ("when is the first scan after tace and how often after", "hasFollowUp")]:
        vec = embedder.embed(question)
        assert max(a.predict(vec, question).items(), key=lambda kv: kv[1])[0] == kind
        p = served.predict(vec, question)
        assert sorted(p, key=p.get)[-1] == kind and abs(sum(p.values()) - 1) < 1e-5
