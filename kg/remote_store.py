"""The built dataset read from a SPARQL 1.1 Protocol endpoint elsewhere (an Oxigraph server, Virtuoso, Fuseki...):
the GraphStore the catalog, the rules and the pages read at start-up and per page, and the engine of /sparql.

The dataset: the queries read the union of the build's graphs as their default graph. A store whose own default
graph is exactly that union (Oxigraph served with --union-default-graph) gets the queries as they are; any other
(Oxigraph's default: an empty default graph; Virtuoso: every graph it holds, its system graphs included) gets the
build's graphs as `default-graph-uri` and `named-graph-uri`, the protocol's own parameters. Which one is told
apart at connection, by counting (`connect`); explicit graphs cost Oxigraph 3.4x on the rules' query.

Faults: a store that refuses the connection, does not answer within the timeout or answers 5xx raises
StoreUnavailable (503, naming the store). Nothing is remembered about a failure, so the first request after the
store is back succeeds. A store that answers holds a version: `VersionCheck` asks it at most every `recheck_s`,
and a replica refuses to answer (503) while its store holds another version than the one its build/ was made
from, so replicas never mix answers of two versions.
"""
import logging
import threading
import time
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from .errors import Overloaded, QueryError, StoreUnavailable
from .sparql import GRAPH_TYPES
from .sparql_workers import serialize_result
from .store import VERSION_QUERY, Row
from .vocab import DATASET, DATASET_GRAPH, DATASET_GRAPHS

log = logging.getLogger("hcc_kg.store")

# Asked apart: Virtuoso answers a CONSTRUCT in SPARQL JSON results when those come first in Accept.
RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8, text/plain;q=0.5"
RESULT_FORMATS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                  "application/json": ox.QueryResultsFormat.JSON,
                  "application/sparql-results+xml": ox.QueryResultsFormat.XML}
GRAPH_FORMATS = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
                 "text/turtle": ox.RdfFormat.TURTLE, "application/rdf+xml": ox.RdfFormat.RDF_XML}
XSD_BOOLEAN = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
MAX_BODY_BYTES = 256 * 1024 * 1024  # a store's answer read into memory at most
LOAD_TIMEOUT_S = 120.0  # a start-up read (the catalog, the rule set) may take this long


class RemoteGraphStore:
    """GraphStore over a SPARQL endpoint; thread-safe (one pooled HTTP client)."""

    def __init__(self, endpoint: str, timeout_s: float = 5.0, graphs=DATASET_GRAPHS,
                 load_timeout_s: float | None = None):
        self.endpoint = endpoint
        self.request_timeout_s = timeout_s
        self.timeout_s = load_timeout_s or timeout_s  # until serving(): the start-up reads whole rule sets
        self.graphs = tuple(str(g) for g in graphs)
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0)))
        self._sizes: dict[str, int] | None = None
        self.union_default = False  # the store's default graph is the union of `graphs` (see connect)
        self.virtuoso = False  # from its Server header: a store that takes a per-query `timeout`

    # -- the protocol ------------------------------------------------------------------------------------------
    def request(self, query: str, dataset: tuple | None = None, timeout_s: float | None = None,
                graph: bool = False) -> dict:
        """The keyword arguments of an httpx POST of `query` (form-encoded) with `dataset` = (default graphs,
        named graphs), the build's graphs when None, or () for the query's own FROM; `graph`: a CONSTRUCT or
        DESCRIBE, asked for in graph formats."""
        if dataset is None and self.union_default:
            dataset = ()
        default, named = (self.graphs, self.graphs) if dataset is None else (dataset or ((), ()))
        form = [("query", query)] + [("default-graph-uri", g) for g in default] + \
               [("named-graph-uri", g) for g in named]
        timeout_s = timeout_s or self.timeout_s
        if self.virtuoso:  # the time limit forwarded, so the store stops the query too (its parameter is in ms)
            form.append(("timeout", str(int(timeout_s * 1000))))
        return {"content": urlencode(form), "timeout": httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0)),
                "headers": {"Accept": GRAPH_ACCEPT if graph else RESULTS_ACCEPT,
                            "Content-Type": "application/x-www-form-urlencoded"}}

    def query(self, query: str, dataset: tuple | None = None, timeout_s: float | None = None, graph: bool = False):
        """Run it (see request); -> a pyoxigraph QuerySolutions, QueryBoolean or list of quads, parsed from what
        the store answered."""
        kwargs = self.request(query, dataset, timeout_s, graph)
        try:
            with self._client.stream("POST", self.endpoint, **kwargs) as r:
                body = self._read(r)
        except httpx.HTTPError as e:
            raise self.unavailable(e, kwargs["timeout"].read) from None
        self.virtuoso = r.headers.get("server", "").lower().startswith("virtuoso")
        return self.parse(r.status_code, r.headers.get("content-type", ""), body)

    def unavailable(self, error: httpx.HTTPError, timeout_s: float) -> StoreUnavailable:
        if isinstance(error, httpx.TimeoutException):
            return StoreUnavailable(f"the triple store at {self.endpoint} did not answer within {timeout_s:g} s")
        return StoreUnavailable(f"the triple store at {self.endpoint} is unreachable ({type(error).__name__}: "
                                f"{error})")

    def parse(self, status: int, content_type: str, body: bytes):
        """The store's answer as pyoxigraph objects, or the error it means: StoreUnavailable for 5xx and what does
        not parse, QueryError for 4xx (the query's fault)."""
        if status >= 500:
            raise StoreUnavailable(f"the triple store at {self.endpoint} answered {status}: "
                                   f"{body[:200].decode('utf-8', 'replace')}")
        if status >= 400:
            raise QueryError(f"the triple store refused the query ({status}): {body[:300].decode('utf-8', 'replace')}")
        media = content_type.split(";")[0].strip().lower()
        try:
            if media in RESULT_FORMATS:
                return _ask_as_boolean(ox.parse_query_results(body, format=RESULT_FORMATS[media]))
            if media in GRAPH_FORMATS:
                return list(ox.parse(body, format=GRAPH_FORMATS[media]))
        except SyntaxError as e:
            raise StoreUnavailable(f"the triple store at {self.endpoint} answered what does not parse as "
                                   f"{media}: {e}") from None
        raise StoreUnavailable(f"the triple store at {self.endpoint} answered an unexpected media type "
                               f"{media or '(none)'}")

    def _read(self, r: httpx.Response) -> bytes:
        chunks, size = [], 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise QueryError(f"the store's answer is over {MAX_BODY_BYTES >> 20} MiB: ask for less")
            chunks.append(chunk)
        return b"".join(chunks)

    # -- GraphStore --------------------------------------------------------------------------------------------
    def select(self, query: str, dataset: tuple | None = None) -> list[Row]:
        return rows_of(self.query(query, dataset))

    def ask(self, query: str) -> bool:
        return bool(self.query(query))

    def construct(self, query: str) -> list[ox.Triple]:
        return [q.triple for q in self.query(query, graph=True)]

    def graph_sizes(self) -> dict[str, int]:
        """Counted once: a replica serves one version (VersionCheck), whose sizes do not change."""
        if self._sizes is None:
            rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
            self._sizes = {r["g"]: int(r["n"]) for r in rows if r["g"] in self.graphs}  # not a store's own
        return self._sizes

    def version(self) -> str | None:
        return version_of(self.select(VERSION_QUERY % (DATASET_GRAPH, DATASET)))

    def __len__(self) -> int:
        return sum(self.graph_sizes().values())

    def serving(self) -> "RemoteGraphStore":
        """Start-up is over: from now on a request to the store has the request timeout."""
        self.timeout_s = self.request_timeout_s
        return self

    def close(self):
        self._client.close()


def rows_of(solutions) -> list[Row]:
    names = list(enumerate(v.value for v in solutions.variables))
    return [{n: _lexical(sol[i]) for i, n in names} for sol in solutions]


def version_of(rows: list[Row]) -> str | None:
    return rows[0]["version"] if rows else None


def _ask_as_boolean(result):
    """Virtuoso may answer an ASK as one row of one variable, __ASK_RETVAL, holding 1 or 0."""
    if isinstance(result, ox.QuerySolutions) and [v.value for v in result.variables] == ["__ASK_RETVAL"]:
        rows = list(result)
        held = bool(rows) and rows[0][0] is not None and rows[0][0].value in ("1", "true")
        return ox.parse_query_results('{"head":{},"boolean":%s}' % ("true" if held else "false"),
                                      format=ox.QueryResultsFormat.JSON)
    return result


def _lexical(term) -> str | None:
    """The term's value as the embedded store gives it: booleans in canonical form (Virtuoso answers 1 and 0)."""
    if term is None:
        return None
    if isinstance(term, ox.Literal) and term.datatype == XSD_BOOLEAN:
        return "true" if term.value in ("true", "1") else "false"
    return term.value


class VersionCheck:
    """Is the store up, and does it still hold `expected`? Asked at most every `recheck_s` while it answers;
    asked again on every request while it does not (so recovery is seen at once)."""

    def __init__(self, store: RemoteGraphStore, expected: str, recheck_s: float = 1.0):
        self.store, self.expected, self.recheck_s = store, expected, recheck_s
        self._ok_until = 0.0
        self._client = httpx.AsyncClient()

    async def ensure(self):
        """Raise StoreUnavailable unless the store answers with the expected version: the same request and
        reading of the answer as RemoteGraphStore.version, on the event loop."""
        if time.monotonic() < self._ok_until:
            return
        store = self.store
        kwargs = store.request(VERSION_QUERY % (DATASET_GRAPH, DATASET), timeout_s=store.request_timeout_s)
        try:
            r = await self._client.post(store.endpoint, **kwargs)
        except httpx.HTTPError as e:
            raise store.unavailable(e, store.request_timeout_s) from None
        held = version_of(rows_of(store.parse(r.status_code, r.headers.get("content-type", ""), r.content)))
        if held != self.expected:
            raise StoreUnavailable(f"the triple store at {store.endpoint} now holds graph version {held}, "
                                   f"not {self.expected} that this server was built for: restart it with the "
                                   f"matching build/")
        self._ok_until = time.monotonic() + self.recheck_s

    async def aclose(self):
        await self._client.aclose()


class RemoteEngine:
    """The /sparql engine over a remote store: at most `slots` queries at once, each bounded by timeout_s, its
    results cut at max_results and serialized exactly as the embedded engine does (serialize_result)."""

    def __init__(self, store: RemoteGraphStore, timeout_s: float, max_results: int, prefixes: dict[str, str],
                 slots: int, queue_wait_s: float):
        self.store, self.timeout_s, self.max_results, self.prefixes = store, timeout_s, max_results, prefixes
        self.queue_wait_s = queue_wait_s
        self._slots = threading.BoundedSemaphore(max(1, slots))

    def wait_ready(self) -> frozenset[str]:
        return frozenset(self.store.graphs)

    def evaluate(self, request: tuple) -> tuple[bytes, bool]:
        query, fmt, dataset = request
        if dataset.get("use_default_graph_as_union"):
            graphs = None  # the build's graphs
        else:
            graphs = (dataset["default_graph"], dataset["named_graphs"])
        if not self._slots.acquire(timeout=self.queue_wait_s):
            raise Overloaded(f"every SPARQL slot is busy with another client's query; retry in a few seconds "
                             f"(a query may run {self.timeout_s:g} s)", retry_after_s=2)
        try:
            result = self.store.query(query, graphs, timeout_s=self.timeout_s, graph=fmt in GRAPH_TYPES.values())
        finally:
            self._slots.release()
        return serialize_result(result, fmt, self.max_results, self.prefixes)

    def close(self):
        pass


def connect(endpoint: str, expected_version: str, timeout_s: float = 5.0,
            load_timeout_s: float = LOAD_TIMEOUT_S) -> RemoteGraphStore:
    """The store at `endpoint`, once seen to hold `expected_version` (build/report.json's); StoreUnavailable,
    saying what to do, when it is down or holds another version. Call serving() on it after start-up."""
    store = RemoteGraphStore(endpoint, timeout_s, load_timeout_s=load_timeout_s)
    held = store.version()
    if held != expected_version:
        store.close()
        found = f"graph version {held}" if held else "no hcc-kg graph version (is the dataset loaded?)"
        raise StoreUnavailable(f"the triple store at {endpoint} holds {found}, but build/ is version "
                               f"{expected_version}: load build/hcc-kg.nq into it (README, Deployment) or serve "
                               f"the build that matches it")
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    own, merged = (int(store.select(count, dataset)[0]["n"]) for dataset in ((), None))
    store.union_default = own == merged
    log.info("triple store %s holds graph %s (%d quads); its default graph %s", endpoint, held, len(store),
             "is the union of the dataset's graphs" if store.union_default else
             "is not the union of the dataset's graphs: each query names them")
    return store
