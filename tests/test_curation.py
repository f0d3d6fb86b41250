"""The build refuses what it cannot prove from the text, and says exactly what and where."""
import subprocess
import sys

import pytest

from kg.assemble import assemble
from kg.build import build, load_inputs, verify_selectors
from kg.errors import BuildError, CurationError
from kg.vocab import FACTS_GRAPH, OA
from rdflib import Literal
from rdflib.namespace import XSD

from .conftest import settings_for

GOOD = """
document: nonsurgical-treatment-guideline
concepts:
  - id: T_CI_ChildPughC
    type: Contraindication
    label: severe impairment of liver function (Child-Pugh grade C)
    criteria: [{parameter: child_pugh, comparator: in, value: [C]}]
facts:
  - s: TACE
    p: hasContraindication
    o: T_CI_ChildPughC
    quote: "severe impairment of liver function (Child-Pugh grade C)"
"""


def write(onto, text):
    (onto / "facts" / "test.yaml").write_text(text, encoding="utf-8")


def test_a_good_file_builds(mini_ontology, tmp_path):
    write(mini_ontology, GOOD)
    report = build(settings_for(mini_ontology, tmp_path), progress=False, embed=False)
    assert report.facts_per_relation == {"hasContraindication": 1}


def test_a_fake_quote_fails_with_the_nearest_text(mini_ontology, tmp_path):
    write(mini_ontology, GOOD.replace("(Child-Pugh grade C)", "(Child-Pugh grade D)"))
    with pytest.raises(CurationError) as e:
        build(settings_for(mini_ontology, tmp_path), progress=False, embed=False)
    msg = str(e.value)
    assert "test.yaml fact #1" in msg and "quote not found in nonsurgical-treatment-guideline" in msg
    assert "Child-Pugh grade C" in msg  # the hint shows the text that is really there


def test_an_ambiguous_quote_needs_a_context(mini_ontology, tmp_path):
    write(mini_ontology, GOOD.replace('"severe impairment of liver function (Child-Pugh grade C)"', '"Child-Pugh grade C"'))
    with pytest.raises(CurationError, match=r"occurs 2 times .* add a `context`"):
        build(settings_for(mini_ontology, tmp_path), progress=False, embed=False)
    write(mini_ontology, GOOD.replace('"severe impairment of liver function (Child-Pugh grade C)"',
                                      '"Child-Pugh grade C"\n    context: "(1) severe impairment of liver function (Child-Pugh grade C)"'))
    corpus, _, curation, _ = load_inputs(settings_for(mini_ontology, tmp_path))
    ev = curation.facts[0].evidence[0]
    assert corpus[ev.document].text[ev.start:ev.end] == "Child-Pugh grade C"


def test_a_shifted_offset_fails_the_build(mini_ontology, tmp_path):
    settings = settings_for(mini_ontology, tmp_path)
    write(mini_ontology, GOOD)
    start = load_inputs(settings)[2].facts[0].evidence[0].start
    write(mini_ontology, GOOD + f"    start: {start + 1}\n")
    with pytest.raises(CurationError, match=f"pinned start {start + 1} .* is wrong.*the quote is at {start}"):
        build(settings, progress=False, embed=False)


def test_a_shifted_selector_in_the_graph_is_caught(mini_ontology, tmp_path):
    """The independent post-check catches a position selector that no longer matches its quote."""
    write(mini_ontology, GOOD)
    corpus, tbox, curation, lexicon = load_inputs(settings_for(mini_ontology, tmp_path))
    ds = assemble(corpus, tbox, curation, lexicon)
    assert verify_selectors(ds, corpus) == []
    g = ds.graph(FACTS_GRAPH)
    sel, start = next(iter(g.subject_objects(OA.start)))
    g.set((sel, OA.start, Literal(int(start) + 1, datatype=XSD.nonNegativeInteger)))
    problems = verify_selectors(ds, corpus)
    assert len(problems) == 1 and "not 'severe impairment" in problems[0]


def test_an_unknown_concept_fails_the_build(mini_ontology, tmp_path):
    write(mini_ontology, GOOD.replace("o: T_CI_ChildPughC", "o: T_CI_NoSuchThing"))
    with pytest.raises(CurationError, match="unknown concept 'T_CI_NoSuchThing' as object"):
        build(settings_for(mini_ontology, tmp_path), progress=False, embed=False)


def test_an_unknown_relation_and_a_wrong_type_fail(mini_ontology, tmp_path):
    write(mini_ontology, GOOD + """
  - {s: TACE, p: hasFavouriteColour, o: Cisplatin, quote: "Cisplatin (PDD)"}
  - {s: TACE, p: usesDrug, o: GelatinSponge, quote: "gelatin sponge, permanent particles"}
""")
    with pytest.raises(CurationError) as e:
        build(settings_for(mini_ontology, tmp_path), progress=False, embed=False)
    assert "unknown relation 'hasFavouriteColour'" in str(e.value)
    assert "object 'GelatinSponge' is not a Drug (required by usesDrug)" in str(e.value)
    assert len(e.value.problems) == 2  # all problems are reported at once


def test_a_malformed_criterion_fails(mini_ontology, tmp_path):
    write(mini_ontology, GOOD.replace("comparator: in", "comparator: about"))
    with pytest.raises(CurationError, match="comparator must be one of"):
        build(settings_for(mini_ontology, tmp_path), progress=False, embed=False)


def test_shapes_violations_fail_the_build(mini_ontology, tmp_path):
    """SHACL runs on the assembled graph: a shape the data cannot meet stops the build."""
    write(mini_ontology, GOOD)
    shapes = mini_ontology / "shapes.ttl"
    shapes.write_text(shapes.read_text() + """
hcc:EveryFactHasTwoQuotes a sh:NodeShape ; sh:targetClass rdf:Statement ;
    sh:property [ sh:path prov:wasDerivedFrom ; sh:minCount 2 ] .
""")
    with pytest.raises(BuildError, match="does not conform"):
        build(settings_for(mini_ontology, tmp_path), progress=False, embed=False)


def test_the_cli_exits_non_zero_with_a_clear_message(mini_ontology, tmp_path):
    write(mini_ontology, GOOD.replace("(Child-Pugh grade C)", "(grade Z)"))
    r = subprocess.run([sys.executable, "-m", "kg.cli", "--ontology-dir", str(mini_ontology),
                        "--build-dir", str(tmp_path / "b"), "build", "-q"], capture_output=True, text=True)
    assert r.returncode == 1
    assert "error: 1 curation problem(s)" in r.stderr and "Traceback" not in r.stderr
