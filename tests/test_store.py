"""The GraphStore interface: one way of binding values, the same answers from the embedded and remote stores."""
import pytest

from kg.errors import InputError, QueryError
from kg.qa.retrieval import facts_about, template
from kg.store import EmbeddedGraphStore, RemoteGraphStore, bind
from kg.vocab import HCC

TACE, RFA = str(HCC.TACE), str(HCC.RFA)


@pytest.fixture(scope="module")
def embedded(built):
    settings, _ = built
    return EmbeddedGraphStore.from_build(settings.build_dir)


@pytest.fixture(scope="module")
def remote(live_server):
    return RemoteGraphStore(live_server + "/sparql")


def test_bind_fills_values_blocks_and_escapes_literals():
    q = bind("SELECT * WHERE { VALUES ?x { } VALUES ?y { } ?x ?p ?y }", x=[TACE], y=[("literal", 'say "hi"\n')])
    assert f"VALUES ?x {{ <{TACE}> }}" in q
    assert 'VALUES ?y { "say \\"hi\\"\\n" }' in q


@pytest.mark.parametrize("bad", ["https://w3id.org/hcc-kg/x> } ; DROP ALL ; <x", "not an iri", "http://a b", 'http://x"y'])
def test_bind_refuses_what_is_not_an_iri(bad):
    with pytest.raises(InputError):
        bind("SELECT * WHERE { VALUES ?x { } }", x=[bad])


def test_bind_needs_the_values_block():
    with pytest.raises(QueryError):
        bind("SELECT * WHERE { ?x ?p ?o }", x=[TACE])


def test_bound_template_answers_the_same_on_both_stores(embedded, remote):
    """The same template with the same bound values gives the same facts in-process and over SPARQL 1.1."""
    rels = ["hasContraindication", "hasRelativeContraindication"]
    local, query = facts_about(embedded, [RFA, TACE], rels)
    over_http, _ = facts_about(remote, [RFA, TACE], rels)
    assert {f.iri for f in local} == {f.iri for f in over_http}
    assert len(local) >= 20
    assert "VALUES ?target" in query


def test_inheritance_is_applied_only_where_the_ontology_allows(embedded):
    """RFA inherits local ablation's contraindications, but not interventional therapy's limitations."""
    contra, _ = facts_about(embedded, [RFA], ["hasContraindication"])
    assert any(f.subject == str(HCC.LocalAblation) for f in contra)
    limits, _ = facts_about(embedded, [RFA], ["hasLimitation"])
    assert limits and all(f.subject == RFA for f in limits)


def test_stores_report_their_size(embedded, remote, built):
    _, report = built
    assert len(embedded) == sum(report.triples_per_graph.values())
    assert len(remote) == len(embedded)


def test_template_rows_are_plain_strings(embedded):
    rows = embedded.select(template("concepts"))
    assert rows and all(isinstance(r["label"], str) for r in rows)
