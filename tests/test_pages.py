"""The web pages against the real server (uvicorn on loopback over the real graph), httpx as client.

What a student or educator relies on: every page has a title, one heading and the educational note; an answer's
citations open the source at the quote, highlighted; every concept IRI resolves, in HTML, Turtle, JSON-LD and
JSON; inherited facts are marked; the comparison table cites every item; the console runs every example and
explains errors; the downloads parse; every asset is served by the app itself (no CDN).
"""
import html
import json
import re
import statistics
from functools import cache

import httpx
import networkx as nx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef

from api.routes import assets
from kg.config import ROOT, Settings
from kg.corpus import load_corpus

HCC = "https://w3id.org/hcc-kg/"
DISCLAIMER = "not clinical advice"
PAGES = ["/", "/?q=What+are+the+contraindications+of+TACE%3F", "/browse", "/compare", "/compare?m=TACE&m=RFA&m=MWA",
         "/documents", "/documents/tace-overview", "/id/TACE", "/id/RFA", "/id/Contraindication",
         "/id/hasContraindication", "/graph", "/graph?view=modalities", "/graph/TACE", "/query",
         "/query?example=quotes", "/downloads"]
BUDGET_MS = 200


@cache
def client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=60)


def get(base: str, path: str, **kw) -> httpx.Response:
    return client(base).get(path, **kw)


def sparql_rows(base: str, query: str) -> list[dict]:
    r = get(base, "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def h1s(page: str) -> list[str]:
    return [text_of(h).strip() for h in re.findall(r"<h1[^>]*>(.*?)</h1>", page, re.S)]


# ---------------------------------------------------------------------------------------------- every page
@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_title_heading_viewport_and_educational_note(live_server, path):
    r = get(live_server, path)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert '<html lang="en">' in page and 'name="viewport"' in page
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert title.strip().endswith("· HCC-KG") and len(title) > len("· HCC-KG") + 3
    assert len(h1s(page)) == 1 and h1s(page)[0]
    assert DISCLAIMER in page and 'href="#main"' in page and 'id="main"' in page
    assert "Server-Timing" in r.headers
    # offline: nothing is loaded from another host
    assert not re.search(r'(src|href)="(https?:)?//', page.replace('href="https://w3id.org', ""))


def test_navigation_marks_the_current_section(live_server):
    assert 'href="/compare" aria-current="page"' in get(live_server, "/compare").text
    assert 'href="/browse" aria-current="page"' in get(live_server, "/id/TACE").text


# ---------------------------------------------------------------------------------------------- ask
def test_home_offers_example_questions_that_are_links(live_server):
    page = get(live_server, "/").text
    links = re.findall(r'href="/\?q=([^"]+)"', page)
    assert len(links) >= 5


def test_answer_lists_facts_with_citations_that_open_the_highlighted_quote(live_server):
    page = get(live_server, "/", params={"q": "What are the contraindications of TACE?"}).text
    assert '<h2 id="answer-h">Answer</h2>' in page
    cites = re.findall(r'<a class="cite" href="([^"]+)"', page)
    assert len(cites) >= 5
    quotes = re.findall(r"<q>(.*?)</q> <a class=\"cite\"", page)
    first = html.unescape(cites[0])
    m = re.match(r"/documents/([\w-]+)\?start=(\d+)&end=(\d+)#q-(\d+)-(\d+)$", first)
    assert m and m.group(2) == m.group(4) and m.group(3) == m.group(5)
    doc, start, end = m.group(1), int(m.group(2)), int(m.group(3))
    reader = get(live_server, first.split("#")[0]).text
    assert f'id="q-{start}-{end}"' in reader
    target = "".join(text_of(t) for t in re.findall(r'<mark class="[^"]*\btarget\b[^"]*"[^>]*>(.*?)</mark>', reader, re.S))
    corpus = load_corpus(ROOT / "corpus")
    assert target == corpus[doc].text[start:end] == html.unescape(quotes[0])
    assert "The highlighted quote" in reader and "supports:" in reader


def test_abstention_says_plainly_that_the_sources_do_not_say(live_server):
    page = get(live_server, "/", params={"q": "What is the dose of sorafenib for lung cancer?"}).text
    assert "The sources do not say." in page
    assert 'class="cite"' not in page.split("Related passages")[0].split("The sources do not say.")[1]


def test_the_sparql_behind_an_answer_opens_in_the_console(live_server):
    page = get(live_server, "/", params={"q": "How does radiofrequency ablation work?"}).text
    link = html.unescape(re.search(r'href="(/query\?query=[^"]+)"', page).group(1))
    console = get(live_server, link)
    assert console.status_code == 200 and 'class="results-table"' in console.text


def test_overlong_question_is_refused_readably(live_server):
    r = get(live_server, "/", params={"q": "x" * 2001})
    assert r.status_code == 400 and "at most 2000" in r.text


# ---------------------------------------------------------------------------------------------- source reader
@pytest.mark.parametrize("doc_id", sorted(load_corpus(ROOT / "corpus")))
def test_reader_shows_the_whole_text_with_every_cited_span_anchored(live_server, doc_id):
    page = get(live_server, f"/documents/{doc_id}").text
    body = re.search(r'<article class="doc-text"[^>]*>(.*?)</article>', page, re.S).group(1)
    assert text_of(body) == load_corpus(ROOT / "corpus")[doc_id].text
    rows = sparql_rows(live_server, f"""
        PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT DISTINCT ?start ?end WHERE {{ ?ev oa:hasSource/dcterms:identifier "{doc_id}" ; oa:hasSelector ?p .
          ?p oa:start ?start ; oa:end ?end }}""")
    assert rows
    for r in rows:
        assert f'id="q-{r["start"]}-{r["end"]}"' in body
    marks = re.findall(r'<mark class="cite[^"]*"[^>]*data-facts="([\d ]+)"[^>]*title="([^"]+)"', body)
    assert marks and all(title.strip() for _, title in marks)  # hovering a highlight names its facts


def test_reader_refuses_offsets_outside_the_document_readably(live_server):
    r = get(live_server, "/documents/tace-overview", params={"start": 10, "end": 10_000_000})
    assert r.status_code == 400 and "outside this document" in r.text
    assert get(live_server, "/documents/no-such-doc").status_code == 404


# ---------------------------------------------------------------------------------------------- entity pages
def all_concepts(base: str) -> list[str]:
    rows = sparql_rows(base, "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
                             "SELECT DISTINCT ?c WHERE { ?c a skos:Concept }")
    return sorted(r["c"] for r in rows)


def test_every_concept_iri_resolves_as_a_page_and_as_json(live_server):
    sizes = {}
    for iri in all_concepts(live_server):
        assert iri.startswith(HCC)
        local = iri[len(HCC):]
        page = get(live_server, f"/id/{local}")
        assert page.status_code == 200, iri
        data = get(live_server, f"/id/{local}", headers={"Accept": "application/json"}).json()
        assert data["iri"] == iri and data["label"]
        assert h1s(page.text)[0] == data["label"]
        sizes[local] = data["fact_count"] + data["facts_in_count"]
    assert max(sizes, key=sizes.get) == "TACE"  # the largest page, timed below


def test_entity_content_negotiation(live_server):
    tace, ci = URIRef(HCC + "TACE"), URIRef(HCC + "TACE_CI_ChildPughC")
    browser = get(live_server, "/id/TACE", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html") and "Accept" in browser.headers["vary"]
    turtle = get(live_server, "/id/TACE", headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=turtle.text, format="turtle")
    assert (tace, URIRef(HCC + "hasContraindication"), ci) in g
    assert any(p == URIRef("http://www.w3.org/ns/oa#exact") for _, p, _ in g)  # the quotes come along
    jsonld = get(live_server, "/id/TACE", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    assert len(Graph().parse(data=jsonld.text, format="json-ld")) == len(g)
    data = get(live_server, "/id/TACE", headers={"Accept": "application/json"}).json()
    assert data["label"] == "transcatheter arterial chemoembolization" and "TACE" in data["alt_labels"]
    assert get(live_server, "/id/TACE?format=ttl").headers["content-type"].startswith("text/turtle")
    refused = get(live_server, "/id/TACE", headers={"Accept": "image/png"})
    assert refused.status_code == 406 and "text/turtle" in refused.json()["detail"]
    assert get(live_server, "/id/TACE?format=pdf").status_code == 400


def test_unknown_iri_is_a_404_in_the_asked_form(live_server):
    page = get(live_server, "/id/NoSuchThing")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "NoSuchThing" in page.text
    data = get(live_server, "/id/NoSuchThing", headers={"Accept": "application/json"})
    assert data.status_code == 404 and "detail" in data.json()


def test_entity_page_groups_facts_by_relation_with_quotes_and_marks_inherited_ones(live_server):
    data = get(live_server, "/id/RFA?format=json").json()
    groups = {g["name"]: g["facts"] for g in data["facts"]}
    own = sparql_rows(live_server, f"PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "
                                   f"SELECT ?f WHERE {{ ?f a rdf:Statement ; rdf:subject <{HCC}RFA> }}")
    assert sum(1 for fs in groups.values() for f in fs if not f["inherited_from"]) == len(own)
    inherited = [f for f in groups["hasContraindication"] if f["inherited_from"]]
    assert inherited and {f["inherited_from"]["iri"] for f in inherited} <= {HCC + "LocalAblation",
                                                                            HCC + "ThermalAblation"}
    assert all(f["evidence"] and f["evidence"][0]["quote"] for fs in groups.values() for f in fs)
    assert data["superclasses"] == [{"iri": HCC + "ThermalAblation", "label": "thermal ablation"}]
    page = get(live_server, "/id/RFA").text
    assert 'id="rel-hasContraindication"' in page and "Inherited: stated for" in page
    assert page.count('class="cite"') >= len(own)


def test_facts_pointing_to_a_concept_are_listed(live_server):
    data = get(live_server, "/id/TACE_CI_ChildPughC?format=json").json()
    incoming = [f for g in data["facts_in"] for f in g["facts"]]
    assert any(f["subject"]["iri"] == HCC + "TACE" for f in incoming)


def test_classes_relations_facts_and_other_resources_resolve(live_server):
    cls = get(live_server, "/id/Contraindication?format=json").json()
    assert cls["kind"] == "class" and any(i["iri"] == HCC + "TACE_CI_ChildPughC" for i in cls["instances"])
    rel = get(live_server, "/id/hasIndication?format=json").json()
    assert rel["kind"] == "relation" and len(rel["facts"]) > 10
    fact_iri = rel["facts"][0]["iri"]
    fact = get(live_server, "/id/" + fact_iri[len(HCC):]).text
    assert rel["facts"][0]["statement"] in html.unescape(fact)
    criterion = sparql_rows(live_server, f"SELECT ?c WHERE {{ ?x <{HCC}hasCriterion> ?c }} LIMIT 1")[0]["c"]
    assert get(live_server, "/id/" + criterion[len(HCC):]).status_code == 200
    assert get(live_server, "/id/graph/facts").status_code == 200
    redirect = get(live_server, "/id/doc/tace-overview", follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == "/documents/tace-overview"


def test_largest_entity_page_renders_within_budget(live_server):
    times = []
    for _ in range(7):
        r = get(live_server, "/id/TACE")
        times.append(float(re.search(r"dur=([\d.]+)", r.headers["Server-Timing"]).group(1)))
    assert statistics.median(times) < BUDGET_MS, times


# ---------------------------------------------------------------------------------------------- browse
def test_browse_shows_the_modality_tree_and_the_filterable_index(live_server):
    page = get(live_server, "/browse").text
    tree = page.split('<section class="tree"')[1].split("</section>")[0]
    thermal = tree.index(">thermal ablation<")
    assert tree.index(">radiofrequency ablation<") > thermal and tree.index(">microwave ablation<") > thermal
    for kind in ("Contraindication", "Indication", "Drug", "AdverseEffect"):
        assert f'id="type-{kind}"' in page
    filtered = get(live_server, "/browse", params={"q": "portal vein"}).text
    items = re.findall(r'<li data-search="([^"]+)"', filtered)
    assert items and all("portal vein" in html.unescape(s) for s in items)
    only = get(live_server, "/browse", params={"type": "Drug"}).text
    assert re.findall(r'class="type-group" id="type-(\w+)"', only) == ["Drug"]


# ---------------------------------------------------------------------------------------------- compare
def test_compare_puts_modalities_side_by_side_with_cited_cells(live_server):
    page = get(live_server, "/compare", params=[("m", "TACE"), ("m", "MWA")]).text
    table = page.split('<table class="compare">')[1].split("</table>")[0]
    heads = [text_of(h).strip() for h in re.findall(r'<th scope="col">(.*?)</th>', table, re.S)]
    assert heads[1:] == ["transcatheter arterial chemoembolization", "microwave ablation"]
    rows = [text_of(h).strip() for h in re.findall(r'<th scope="row">(.*?)</th>', table, re.S)]
    assert rows[:5] == ["Indications", "Contraindications", "Mechanisms", "Adverse effects", "Limitations"]
    items = re.findall(r"<li[^>]*>(.*?)</li>", table, re.S)
    assert items and all('href="#src-' in item for item in items)
    sources = re.findall(r'<li id="src-(\d+)"><q>', page)
    cited = {int(n) for n in re.findall(r'href="#src-(\d+)"', page)}
    assert cited == {int(n) for n in sources}
    assert "↑ local ablation therapy" in table  # MWA inherits from the ablation classes


def test_compare_refuses_unknown_modalities_readably(live_server):
    r = get(live_server, "/compare", params=[("m", "TACE"), ("m", "Aspirin")])
    assert r.status_code == 400 and "Not a treatment modality of the graph: Aspirin" in r.text


# ---------------------------------------------------------------------------------------------- graph view
def graph_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', page,
                                re.S).group(1))


def test_graph_view_of_a_neighbourhood_has_labelled_edges_and_links_listed(live_server):
    page = get(live_server, "/graph/RFA").text
    data = graph_data(page)
    nodes = {e["data"]["id"]: e for e in data["elements"] if e["group"] == "nodes"}
    edges = [e["data"] for e in data["elements"] if e["group"] == "edges"]
    assert nodes[HCC + "RFA"]["data"]["focus"] and data["focus"] == HCC + "RFA"
    assert all(e["label"] for e in edges) and all("position" in n for n in nodes.values())
    assert any(e["source"] == HCC + "RFA" and e["target"] == HCC + "ThermalAblation" and e["relation"] == "subClassOf"
               for e in edges)
    assert 'href="/graph/ThermalAblation"' in page and 'href="/id/RFA"' in page
    assert 'src="/static/vendor/cytoscape.min.js"' in page
    assert get(live_server, "/graph/NoSuchThing").status_code == 404


def test_graph_overview_shows_every_concept(live_server):
    data = graph_data(get(live_server, "/graph").text)
    ids = {e["data"]["id"] for e in data["elements"] if e["group"] == "nodes"}
    assert set(all_concepts(live_server)) <= ids
    modalities = graph_data(get(live_server, "/graph?view=modalities").text)
    assert all(e["data"].get("modality") for e in modalities["elements"] if e["group"] == "nodes")


# ---------------------------------------------------------------------------------------------- SPARQL console
def test_console_offers_one_example_per_relation_and_every_example_runs(live_server):
    page = get(live_server, "/query").text
    examples = re.findall(r'href="/query\?example=([\w-]+)"', page)
    relations = sparql_rows(live_server, f"SELECT ?p WHERE {{ ?p a <{HCC}FactProperty> }}")
    assert {f"relation-{r['p'][len(HCC):]}" for r in relations} <= set(examples)
    assert {"quotes", "relation_sources", "document_facts", "graphs"} <= set(examples)
    for example in examples:
        r = get(live_server, f"/query?example={example}")
        assert r.status_code == 200 and 'role="alert"' not in r.text, example
        assert 'class="results-table"' in r.text or 'class="boolean"' in r.text or "<pre class=\"code\">" in r.text


def test_console_results_link_iris_and_offer_the_endpoint_formats(live_server):
    page = get(live_server, "/query?example=relation-hasIndication").text
    assert re.search(r'<td><a href="/id/\w+" title="https://w3id.org/hcc-kg/\w+">hcc:\w+</a></td>', page)
    links = [html.unescape(u) for u in re.findall(r'href="(/sparql\?[^"]+)"', page)]
    assert {re.search(r"format=(\w+)", u).group(1) for u in links} == {"json", "xml", "csv", "tsv"}
    csv = get(live_server, links[2])
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    graph = get(live_server, "/query?example=construct").text
    assert {re.search(r"format=(\w+)", html.unescape(u)).group(1)
            for u in re.findall(r'href="(/sparql\?[^"]+)"', graph)} == {"turtle", "ntriples", "jsonld"}


def test_console_shows_errors_readably(live_server):
    r = get(live_server, "/query", params={"query": "SELEC ?x WHERE { <oops"})
    assert r.status_code == 400 and 'role="alert"' in r.text and "malformed query" in r.text
    update = get(live_server, "/query", params={"query": "DELETE WHERE { ?s ?p ?o }"})
    assert update.status_code == 400 and "read-only" in update.text
    assert get(live_server, "/query?example=nope").status_code == 404


# ---------------------------------------------------------------------------------------------- downloads
def test_downloads_serve_every_format_and_graphml_loads_in_networkx(live_server, tmp_path):
    page = get(live_server, "/downloads").text
    names = re.findall(r'<a href="/downloads/([\w.-]+)" download>', page)
    assert set(names) == {"hcc-kg.trig", "hcc-kg.nq", "ontology.ttl", "hcc-kg.jsonld", "hcc-kg.graphml",
                          "report.json"}
    expected = {"trig": "application/trig", "nq": "application/n-quads", "ttl": "text/turtle",
                "jsonld": "application/ld+json", "graphml": "application/graphml+xml", "json": "application/json"}
    for name in names:
        r = get(live_server, f"/downloads/{name}")
        assert r.status_code == 200 and r.content, name
        assert r.headers["content-type"].startswith(expected[name.rsplit(".", 1)[1]]), name
    onto = Graph().parse(data=get(live_server, "/downloads/ontology.ttl").text, format="turtle")
    assert (URIRef(HCC + "RFA"), URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
            URIRef(HCC + "ThermalAblation")) in onto
    path = tmp_path / "g.graphml"
    path.write_bytes(get(live_server, "/downloads/hcc-kg.graphml").content)
    g = nx.read_graphml(path)
    assert set(all_concepts(live_server)) <= set(g.nodes)
    assert any(d.get("relation") == "hasContraindication" for _, _, d in g.edges(data=True))
    assert get(live_server, "/downloads/secrets.txt").status_code == 404


# ---------------------------------------------------------------------------------------------- assets
def test_assets_are_served_by_the_app(live_server):
    css = get(live_server, "/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = get(live_server, "/static/vendor/cytoscape.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert b"cytoscape" in js.content[:2000].lower()
    for script in ("reader.js", "graph.js", "filter.js", "console.js"):
        assert get(live_server, f"/static/{script}").status_code == 200
    assert get(live_server, "/static/%2e%2e/%2e%2e/pyproject.toml").status_code == 404
    assert get(live_server, "/static/vendor/left-pad.js").status_code == 404


def test_missing_node_modules_fails_clearly(tmp_path):
    """The vendor route over an empty node_modules: 503 naming the missing file and how to install it."""
    app = FastAPI()
    app.state.settings = Settings(extra={"node_modules": tmp_path})
    app.include_router(assets.router)
    r = TestClient(app).get("/static/vendor/cytoscape.min.js")
    assert r.status_code == 503
    assert "make install" in r.json()["detail"] and "cytoscape" in r.json()["detail"]


def test_page_links_stay_inside_the_app(live_server):
    """Every local link on the main pages answers (no dead links, nothing served from elsewhere)."""
    seen = set()
    for path in ["/", "/browse", "/id/TACE", "/compare", "/downloads", "/documents"]:
        for href in re.findall(r'href="(/[^"#]*)', get(live_server, path).text):
            href = html.unescape(href)
            if href in seen or href.startswith("/downloads/") or href.startswith("/sparql"):
                continue
            seen.add(href)
            assert get(live_server, href).status_code == 200, (path, href)
    assert len(seen) > 100
