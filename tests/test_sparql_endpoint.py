"""/sparql against the real server: uvicorn in a subprocess over the real built graph, httpx as the client.

Checks the SPARQL 1.1 Protocol behaviour (rdf-tests sparql/sparql11/protocol, query side and update refusal),
content negotiation, the guard (no update, no SERVICE, no graph from outside: proven by a loopback canary
that no connection is made), the time limit and the result cap.
"""
import socket
import threading
import time

import httpx
import pyoxigraph as ox
import pytest


from .conftest import running_server

TIMEOUT_S, MAX_RESULTS = 2, 50
G = "https://w3id.org/hcc-kg/graph/"
SKOS = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
SELECT = SKOS + "SELECT ?s ?label WHERE { ?s skos:prefLabel ?label } ORDER BY ?s ?label LIMIT 3"
CONSTRUCT = SKOS + "CONSTRUCT { ?s skos:prefLabel ?label } WHERE { ?s skos:prefLabel ?label } ORDER BY ?s LIMIT 3"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
RESULT_TYPES = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"]
GRAPH_TYPES = ["text/turtle", "application/n-triples", "application/ld+json"]
OX_RESULTS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
              "application/sparql-results+xml": ox.QueryResultsFormat.XML,
              "text/tab-separated-values": ox.QueryResultsFormat.TSV}
OX_GRAPH = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
            "application/ld+json": ox.RdfFormat.JSON_LD}


@pytest.fixture(scope="module")
def server(built):
    """The real app under uvicorn, with a 2 s query time limit and a 50-row result cap."""
    settings, _ = built
    with running_server(settings.build_dir, sparql_timeout_s=TIMEOUT_S, sparql_max_results=MAX_RESULTS) as base:
        yield base


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server, timeout=30) as c:
        yield c


@pytest.fixture
def canary():
    """A loopback listener that records every connection made to it: (port, connections)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    connections, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, addr = listener.accept()
            except (TimeoutError, OSError):
                continue
            connections.append(addr)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], connections
    stop.set()
    thread.join()
    listener.close()


def media(r: httpx.Response) -> str:
    return r.headers["content-type"].split(";")[0].strip()


def error(r: httpx.Response, status: int) -> str:
    """The one error shape: {"detail": "..."}; returns the detail."""
    assert r.status_code == status, r.text
    assert media(r) == "application/json" and list(r.json()) == ["detail"], r.text
    return r.json()["detail"]


def rows(r: httpx.Response) -> list[dict]:
    assert r.status_code == 200, r.text
    return r.json()["results"]["bindings"]


def count(client, query=COUNT, **params) -> int:
    return int(rows(client.get("/sparql", params={"query": query, **params}))[0]["n"]["value"])


# --- formats and content negotiation ---------------------------------------------------------------------------

@pytest.mark.parametrize("accept", RESULT_TYPES)
def test_select_in_each_results_format_by_accept(client, accept):
    r = client.get("/sparql", params={"query": SELECT}, headers={"Accept": accept})
    assert r.status_code == 200 and media(r) == accept
    expected = [(b["s"]["value"], b["label"]["value"]) for b in rows(client.get("/sparql", params={"query": SELECT}))]
    assert len(expected) == 3
    if accept == "text/csv":
        lines = r.text.splitlines()
        assert lines[0] == "s,label" and len(lines) == 4
    else:
        parsed = ox.parse_query_results(r.content, format=OX_RESULTS[accept])
        assert [v.value for v in parsed.variables] == ["s", "label"]
        assert [(row["s"].value, row["label"].value) for row in parsed] == expected


@pytest.mark.parametrize("accept", GRAPH_TYPES)
def test_construct_in_each_graph_format_by_accept(client, accept):
    r = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert r.status_code == 200 and media(r) == accept, r.text
    triples = {(t.subject, t.predicate, t.object) for t in ox.parse(r.content, format=OX_GRAPH[accept])}
    reference = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "application/n-triples"})
    assert len(triples) == 3
    assert triples == {(t.subject, t.predicate, t.object)
                       for t in ox.parse(reference.content, format=ox.RdfFormat.N_TRIPLES)}


def test_ask_and_describe(client):
    r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert media(r) == "application/sparql-results+json" and r.json()["boolean"] is True
    r = client.get("/sparql", params={"query": "DESCRIBE <https://w3id.org/hcc-kg/TACE>"})
    assert r.status_code == 200 and media(r) == "text/turtle" and "TACE" in r.text


@pytest.mark.parametrize("accept,query,expected", [
    (None, SELECT, "application/sparql-results+json"),
    ("*/*", SELECT, "application/sparql-results+json"),
    (None, CONSTRUCT, "text/turtle"),
    ("*/*", CONSTRUCT, "text/turtle"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", SELECT, "application/sparql-results+xml"),
    ("*/*;q=0.1, text/tab-separated-values", SELECT, "text/tab-separated-values"),
    ("application/sparql-results+json;q=0, */*", SELECT, "application/sparql-results+xml"),
    ("text/*", SELECT, "text/csv"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", SELECT, "application/sparql-results+json"),
    ("application/ld+json, text/turtle;q=0.5", CONSTRUCT, "application/ld+json"),
])
def test_content_negotiation_with_q_values(client, accept, query, expected):
    request = client.build_request("GET", "/sparql", params={"query": query})
    if accept is None:
        del request.headers["Accept"]  # no Accept at all, not httpx's default */*
    else:
        request.headers["Accept"] = accept
    r = client.send(request)
    assert r.status_code == 200 and media(r) == expected, r.text
    assert "Accept" in r.headers["vary"]


@pytest.mark.parametrize("fmt,query,expected", [
    ("json", SELECT, "application/sparql-results+json"), ("xml", SELECT, "application/sparql-results+xml"),
    ("csv", SELECT, "text/csv"), ("tsv", SELECT, "text/tab-separated-values"),
    ("turtle", CONSTRUCT, "text/turtle"), ("ntriples", CONSTRUCT, "application/n-triples"),
    ("jsonld", CONSTRUCT, "application/ld+json"),
])
def test_format_parameter_wins_over_accept(client, fmt, query, expected):
    r = client.get("/sparql", params={"query": query, "format": fmt}, headers={"Accept": "image/png"})
    assert r.status_code == 200 and media(r) == expected, r.text


def test_format_parameter_that_does_not_fit_is_400(client):
    r = client.get("/sparql", params={"query": SELECT, "format": "turtle"})
    assert "use one of: json, xml, csv, tsv" in error(r, 400)
    assert "unknown format" in error(client.get("/sparql", params={"query": SELECT, "format": "pdf"}), 400)


def test_nothing_acceptable_is_406_listing_the_offered_types(client):
    detail = error(client.get("/sparql", params={"query": SELECT}, headers={"Accept": "image/png"}), 406)
    assert all(t in detail for t in RESULT_TYPES)
    detail = error(client.get("/sparql", params={"query": CONSTRUCT},
                              headers={"Accept": "application/sparql-results+json"}), 406)
    assert all(t in detail for t in GRAPH_TYPES)


# --- protocol ----------------------------------------------------------------------------------------------------

def test_get_and_both_post_forms_answer_alike(client):
    by_get = client.get("/sparql", params={"query": SELECT})
    by_form = client.post("/sparql", data={"query": SELECT})
    by_body = client.post("/sparql", content=SELECT.encode(), headers={"Content-Type": "application/sparql-query"})
    with_charset = client.post("/sparql", content=f"query={httpx.QueryParams({'q': SELECT})['q']}",
                               headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    for r in (by_form, by_body, with_charset):
        assert r.status_code == 200 and r.json() == by_get.json()


def test_post_with_a_wrong_or_missing_media_type_is_415(client):
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/json"}, {}):
        r = client.post("/sparql", content=SELECT.encode(), headers=headers)
        assert "application/sparql-query" in error(r, 415)


def test_two_queries_are_400(client):
    assert "2 queries" in error(client.get("/sparql", params=[("query", SELECT), ("query", COUNT)]), 400)
    assert "2 queries" in error(client.post("/sparql", data={"query": [SELECT, COUNT]}), 400)
    r = client.post("/sparql", params={"query": COUNT}, content=SELECT.encode(),
                    headers={"Content-Type": "application/sparql-query"})
    assert "2 queries" in error(r, 400)


def test_a_missing_query_is_400(client):
    assert "missing query" in error(client.get("/sparql"), 400)
    assert "missing query" in error(client.get("/sparql", params={"query": "  "}), 400)
    assert "missing query" in error(client.post("/sparql", data={"format": "json"}), 400)


def test_non_utf8_is_400(client):
    body = 'SELECT * WHERE { ?s ?p "caf\u00e9" }'.encode("latin-1")
    r = client.post("/sparql", content=body, headers={"Content-Type": "application/sparql-query; charset=ISO-8859-1"})
    assert "not valid UTF-8" in error(r, 400)
    r = client.post("/sparql", content=b"query=SELECT%20*%20WHERE%20%7B%7D%E9",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert "not valid UTF-8" in error(r, 400)
    assert "not valid UTF-8" in error(client.get("/sparql?query=SELECT%20*%20WHERE%20%7B%7D%E9"), 400)


def test_put_and_delete_are_405(client):
    put = client.put("/sparql", content=SELECT.encode(), headers={"Content-Type": "application/sparql-query"})
    for r in (put, client.delete("/sparql")):
        assert "not allowed" in error(r, 405) and r.headers["allow"] == "GET, POST"


def test_updates_are_refused_and_change_nothing(client, built):
    quads = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert count(client, quads) == sum(built[1].triples_per_graph.values())
    insert = f"INSERT DATA {{ GRAPH <{G}facts> {{ <urn:x:s> <urn:x:p> <urn:x:o> }} }}"
    attempts = [
        client.post("/sparql", content=insert.encode(), headers={"Content-Type": "application/sparql-update"}),
        client.post("/sparql", data={"update": insert}),
        client.get("/sparql", params={"update": insert}),
        client.get("/sparql", params={"query": insert}),
        client.post("/sparql", data={"query": "DROP ALL"}),
        client.post("/sparql", content=b"CLEAR DEFAULT", headers={"Content-Type": "application/sparql-query"}),
        client.get("/sparql", params={"query": "DELETE WHERE { ?s ?p ?o }"}),
    ]
    for r in attempts:
        assert "read-only" in error(r, 400)
    assert count(client, quads) == sum(built[1].triples_per_graph.values())
    assert client.get("/sparql", params={"query": "ASK { <urn:x:s> ?p ?o }"}).json()["boolean"] is False


def test_a_malformed_query_is_400_with_the_parsers_message(client):
    detail = error(client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o"}), 400)
    assert detail.startswith("malformed query:") and "line:1" in detail
    detail = error(client.get("/sparql", params={"query": "SELECT * WHERE { ?s nope:p ?o }"}), 400)
    assert detail.startswith("malformed query:") and "Prefix not found" in detail  # from oxigraph's parser


# --- the guard: no outbound connection, no graph from outside ---------------------------------------------------

def test_service_and_outside_graphs_are_refused_without_any_connection(client, canary):
    port, connections = canary
    with socket.create_connection(("127.0.0.1", port)):  # the canary does record connections
        pass
    deadline = time.monotonic() + 5
    while not connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(connections) == 1
    connections.clear()

    here = f"http://127.0.0.1:{port}"
    service = [
        f"SELECT * WHERE {{ SERVICE <{here}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?a ?b ?c {{ SELECT * WHERE {{ SERVICE SILENT <{here}/sparql> {{ ?s ?p ?o }} }} }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{here}/sparql> {{ ?s ?p ?o }} }} }}",
        f"PREFIX c: <{here}/> CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE c:sparql {{ ?s ?p ?o }} }}",
    ]
    outside = [
        f"SELECT * FROM <{here}/x> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{here}/x> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "ASK FROM <file:///etc/passwd> { ?s ?p ?o }",
        f"SELECT * FROM NAMED <{G}nonexistent> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    ]
    for q in service:
        assert "SERVICE is refused" in error(client.get("/sparql", params={"query": q}), 400)
    for q in outside:
        assert "is not a graph of this dataset" in error(client.get("/sparql", params={"query": q}), 400)
    for name in ("default-graph-uri", "named-graph-uri"):
        r = client.get("/sparql", params={"query": COUNT, name: f"{here}/x"})
        assert f"{name} <{here}/x> is not a graph of this dataset" in error(r, 400)
    assert "read-only" in error(client.post("/sparql", data={"query": f"LOAD <{here}/x>"}), 400)
    time.sleep(0.5)
    assert connections == []


def test_the_datasets_own_graphs_can_be_named(client, built):
    per_graph = built[1].triples_per_graph
    ontology = per_graph["ontology"]
    assert count(client, f"SELECT (COUNT(*) AS ?n) FROM <{G}ontology> WHERE {{ ?s ?p ?o }}") == ontology
    assert count(client, COUNT, **{"default-graph-uri": G + "ontology"}) == ontology
    # the protocol's dataset overrides the query's FROM
    assert count(client, f"SELECT (COUNT(*) AS ?n) FROM <{G}facts> WHERE {{ ?s ?p ?o }}",
                 **{"default-graph-uri": G + "ontology"}) == ontology
    assert count(client) > ontology  # without FROM: the union of all graphs
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert [b["g"]["value"] for b in rows(client.get("/sparql", params={"query": graphs.replace(
        "WHERE", f"FROM NAMED <{G}facts> WHERE")}))] == [G + "facts"]
    assert [b["g"]["value"] for b in rows(client.get("/sparql", params={
        "query": graphs, "named-graph-uri": G + "passages"}))] == [G + "passages"]
    r = client.post("/sparql", data={"query": COUNT, "default-graph-uri": [G + "ontology", G + "facts"]})
    assert int(rows(r)[0]["n"]["value"]) <= ontology + per_graph["facts"]


# --- limits -------------------------------------------------------------------------------------------------------

def runaway_in_background(server: str) -> tuple[threading.Thread, dict]:
    """A runaway query from a client of its own (one query at a time per client; a bearer token tells it apart)."""
    outcome = {}

    def run():
        t0 = time.monotonic()
        with httpx.Client(base_url=server, timeout=60, headers={"Authorization": f"Bearer {id(outcome)}"}) as c:
            outcome["response"] = c.get("/sparql", params={"query": RUNAWAY})
        outcome["seconds"] = time.monotonic() - t0

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def assert_stopped_in_time(thread: threading.Thread, outcome: dict):
    thread.join()
    assert error(outcome["response"], 503) == f"query exceeded the {TIMEOUT_S} s limit"
    assert outcome["seconds"] < TIMEOUT_S + 3


def test_a_runaway_query_gets_503_and_does_not_block_others(client, server):
    thread, outcome = runaway_in_background(server)
    time.sleep(0.5)
    assert client.get("/healthz").status_code == 200
    assert len(rows(client.get("/sparql", params={"query": SELECT}))) == 3
    assert thread.is_alive()  # both answered while the runaway still runs
    assert_stopped_in_time(thread, outcome)
    # the killed worker was replaced: two runaways at once each get a worker and the full time limit
    pair = [runaway_in_background(server) for _ in range(2)]
    for thread, outcome in pair:
        assert_stopped_in_time(thread, outcome)
    assert len(rows(client.get("/sparql", params={"query": SELECT}))) == 3
    assert client.get("/healthz").status_code == 200


def test_results_past_the_cap_are_cut_and_flagged(client):
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert r.headers["x-result-truncated"] == "true" and len(rows(r)) == MAX_RESULTS
    r = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                   headers={"Accept": "application/n-triples"})
    assert r.headers["x-result-truncated"] == "true" and len(r.text.splitlines()) == MAX_RESULTS
    r = client.get("/sparql", params={"query": f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {MAX_RESULTS}"})
    assert "x-result-truncated" not in r.headers and len(rows(r)) == MAX_RESULTS


def test_openapi_documents_the_route(client):
    paths = client.get("/openapi.json").json()["paths"]["/sparql"]
    assert paths["get"]["summary"] and paths["get"]["tags"] == ["sparql"]
    assert {p["name"] for p in paths["get"]["parameters"]} == {"query", "default-graph-uri", "named-graph-uri",
                                                               "format"}
    assert set(paths["post"]["requestBody"]["content"]) == {"application/x-www-form-urlencoded",
                                                            "application/sparql-query"}
    assert set(paths["get"]["responses"]["200"]["content"]) == set(RESULT_TYPES + GRAPH_TYPES)
    assert {"400", "406", "415", "503"} <= set(paths["post"]["responses"])
