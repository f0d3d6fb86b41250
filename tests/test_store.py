"""The GraphStore interface: one way of binding values, the same answers from the embedded and remote stores."""
import pytest

from kg.catalog import Catalog
from kg.errors import InputError, QueryError
from kg.queries import template
from kg.remote_store import RemoteGraphStore
from kg.store import EmbeddedGraphStore, bind
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


def test_bound_template_answers_the_same_on_both_stores(embedded, remote, built):
    """The same template with the same bound values gives the same facts in-process and over SPARQL 1.1."""
    settings, _ = built
    catalog = Catalog(embedded, settings.corpus_dir)
    facts = [f.iri for f in catalog.facts_out[TACE]][:20]
    query = bind(template("facts_by_iri"), fact=facts)
    local = {(r["fact"], r["exact"]) for r in embedded.select(query)}
    over_http = {(r["fact"], r["exact"]) for r in remote.select(query)}
    assert local == over_http and {f for f, _ in local} == set(facts)


def test_every_template_without_values_answers_the_same_on_both_stores(embedded, remote):
    for name in ("page_facts", "page_concepts", "page_relations", "lexicon", "assess_parameters"):
        q = template(name)
        def rows(store):
            return sorted(tuple(sorted((k, str(v)) for k, v in r.items() if v is not None)) for r in store.select(q))
        assert rows(embedded) == rows(remote), name


def test_inheritance_is_applied_only_where_the_ontology_allows(embedded, built):
    """RFA inherits local ablation's contraindications, but not interventional therapy's limitations."""
    settings, _ = built
    inherited = Catalog(embedded, settings.corpus_dir).inherited_facts(RFA)
    relations = {f.predicate for f, _ in inherited}
    assert any(holder == str(HCC.LocalAblation) and f.predicate == str(HCC.hasContraindication)
               for f, holder in inherited)
    assert str(HCC.hasLimitation) not in relations


def test_stores_report_their_size(embedded, remote, built):
    _, report = built
    assert len(embedded) == sum(report.triples_per_graph.values())
    assert len(remote) == len(embedded)


def test_template_rows_are_plain_strings(embedded):
    rows = embedded.select(template("page_concepts"))
    assert rows and all(isinstance(r["value"], str) for r in rows)
