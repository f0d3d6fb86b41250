"""The SPARQL 1.1 query service behind /sparql: a guard, then evaluation by an engine (worker processes over the
embedded graph, kg.sparql_workers, or a remote store, kg.remote_store).

Why a guard: the embedded engines follow `SERVICE <http://...>` (and rdflib `FROM <...>`) with outbound
requests, and this endpoint is read-only. Every query is parsed with rdflib's SPARQL grammar and refused
before any engine sees it if it is an update, uses SERVICE, or names a graph outside the dataset.

Fairness comes from refusing, not queueing (see SparqlService.run): one query at a time per client,
a short wait for a worker, and one worker more than the cores, so that two clients' runaway queries still leave
a worker for everyone else's quick ones.

Errors: QueryError (malformed), QueryRefused (update, SERVICE, outside graph), QueryTimeout, Overloaded (the
client's query already running: 429; no worker free: 503), InputError (bad parameter), NotAcceptable (no offered
media type fits Accept; the route answers 406).
"""
import logging
import threading
from dataclasses import dataclass
from pathlib import Path


from .errors import InputError, Overloaded, QueryError, QueryRefused

log = logging.getLogger("hcc_kg.sparql")

READ_ONLY = "updates are refused: this endpoint is read-only"

# Content negotiation: media type -> format name (also the `format` parameter); the first entry is the default.
RESULT_TYPES = {"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
                "text/csv": "csv", "text/tab-separated-values": "tsv"}
GRAPH_TYPES = {"text/turtle": "turtle", "application/n-triples": "ntriples", "application/ld+json": "jsonld"}
MEDIA_FORMAT = {**RESULT_TYPES, **GRAPH_TYPES}
FORMAT_PARAM = {fmt: media for media, fmt in MEDIA_FORMAT.items()}

_FORMS = {"SelectQuery": "select", "AskQuery": "ask", "ConstructQuery": "construct", "DescribeQuery": "describe"}


class NotAcceptable(InputError):
    """No media type offered for this query form fits the client's Accept header."""

    def __init__(self, offered: list[str]):
        self.offered = offered
        super().__init__(f"none of the offered media types is acceptable: {', '.join(offered)}")


@dataclass(frozen=True)
class Result:
    media_type: str
    body: bytes
    truncated: bool


@dataclass(frozen=True)
class Checked:
    """What the guard learned from the parse: the query form and the dataset it names (FROM, FROM NAMED)."""
    form: str
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()

    @property
    def has_dataset(self) -> bool:
        return bool(self.from_graphs or self.from_named)


# --- guard (parent process) -----------------------------------------------------------------------------------

_parse_lock = threading.Lock()  # pyparsing grammars are not documented as thread-safe


def check(query: str, graphs: frozenset[str]) -> Checked:
    """Parse the query and refuse what must never be evaluated; `graphs` are the dataset's own named graphs."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.algebra import translatePrologue
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
    from rdflib.plugins.sparql.parserutils import CompValue

    with _parse_lock:
        try:
            parsed = parseQuery(query)
        except Exception as e:
            try:
                update = parseUpdate(query)
            except Exception:
                update = None
            if update is not None and dict.get(update, "request"):  # CompValue.get is not dict.get
                raise QueryRefused(READ_ONLY) from None
            raise QueryError(f"malformed query: {e}") from None

    def walk(node):
        """Every CompValue of the parse tree, however deep (subqueries, FILTER EXISTS, OPTIONAL...)."""
        if isinstance(node, CompValue):
            yield node
        if isinstance(node, dict):
            children = dict.values(node)  # plain dict access: CompValue's own accessors resolve values
        elif isinstance(node, (list, ParseResults)):
            children = node
        else:
            return
        for child in children:
            yield from walk(child)

    try:
        prologue = translatePrologue(parsed[0], None)
        named: dict[str, list[str]] = {"FROM": [], "FROM NAMED": []}
        for node in walk(parsed[1]):
            if node.name == "ServiceGraphPattern":
                raise QueryRefused("SERVICE is refused: this endpoint makes no outbound requests")
            if node.name == "DatasetClause":
                keyword, iri = ("FROM", node["default"]) if "default" in node else ("FROM NAMED", node["named"])
                named[keyword].append(str(prologue.absolutize(iri)))
                allow_graph(named[keyword][-1], graphs, keyword)
    except QueryError:
        raise
    except Exception as e:  # e.g. an undeclared prefix in FROM
        raise QueryError(f"malformed query: {e}") from None
    return Checked(_FORMS[parsed[1].name], tuple(named["FROM"]), tuple(named["FROM NAMED"]))


def allow_graph(iri: str, graphs: frozenset[str], where: str):
    """Only the dataset's own graphs may be named: anything else would be a fetch from outside (or nothing)."""
    if iri not in graphs:
        raise QueryRefused(f"{where} <{iri}> is not a graph of this dataset; "
                           f"the graphs are: {', '.join(f'<{g}>' for g in sorted(graphs))}")


def negotiate(accept: str | None, offered: dict[str, str]) -> str:
    """The offered media type the client prefers: highest q (from the most specific matching range), then the
    client's order, then ours (default first). A missing Accept means the default."""
    if not accept or not accept.strip():
        return next(iter(offered))
    ranges = []
    for i, part in enumerate(accept.split(",")):
        media, *params = [x.strip().lower() for x in part.split(";")]
        q = 1.0
        for p in params:
            key, _, value = p.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((media, q, i))

    def specificity(rng: str, media: str) -> int:
        return {media: 2, media.split("/")[0] + "/*": 1, "*/*": 0}.get(rng, -1)

    scored = []
    for rank, media in enumerate(offered):
        hits = [(specificity(r, media), q, i) for r, q, i in ranges if specificity(r, media) >= 0]
        if hits:
            _, q, i = max(hits, key=lambda h: h[0])
            if q > 0:
                scored.append((-q, i, rank, media))
    if not scored:
        raise NotAcceptable(list(offered))
    return min(scored)[3]


def choose_media_type(form: str, accept: str | None, fmt: str | None) -> str:
    """The `format` parameter (for downloads) wins over Accept."""
    offered = RESULT_TYPES if form in ("select", "ask") else GRAPH_TYPES
    if not fmt:
        return negotiate(accept, offered)
    if fmt not in FORMAT_PARAM:
        raise InputError(f"unknown format {fmt!r}; use one of: {', '.join(FORMAT_PARAM)}")
    if fmt not in offered.values():
        kind = "SELECT/ASK results" if offered is RESULT_TYPES else "CONSTRUCT/DESCRIBE graphs"
        raise InputError(f"format={fmt!r} does not apply to {kind}; use one of: {', '.join(offered.values())}")
    return FORMAT_PARAM[fmt]


# --- the service ------------------------------------------------------------------------------------------------

class SparqlService:
    """The guard and per-client fairness in front of an engine that evaluates: the embedded graph's worker
    processes (kg.sparql_workers.WorkerPool) or a remote store (kg.remote_store.RemoteEngine). Blocking `run()`:
    call it from a thread, not the event loop."""

    def __init__(self, engine, client_queries: int = 1):
        self.engine = engine
        self.client_queries = client_queries
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()
        self.graphs: frozenset[str] = frozenset()

    def wait_ready(self) -> "SparqlService":
        """Wait until the engine is ready (the workers have loaded the graph): the caller loads its own
        resources in between, so the workers' start-up overlaps with it."""
        self.graphs = self.engine.wait_ready() or self.graphs
        return self

    def run(self, query: str, accept: str | None = None, default_graphs=(), named_graphs=(),
            fmt: str | None = None, client: str = "") -> Result:
        """Fairness as WDQS and Fuseki keep it, by refusing rather than queueing: a client runs `client_queries`
        queries at once (429 past that), and a query waits a moment at most for a free engine slot (503 past
        that), so one client's slow queries can never hold the pool while other clients' queries wait on it."""
        with self._lock:
            if self.client_queries and self._running.get(client, 0) >= self.client_queries:
                raise Overloaded(f"this client already has {self.client_queries} SPARQL quer"
                                 f"{'y' if self.client_queries == 1 else 'ies'} running; retry when it is done",
                                 status=429, retry_after_s=1)
            self._running[client] = self._running.get(client, 0) + 1
        try:
            return self._run(query, accept, default_graphs, named_graphs, fmt)
        finally:
            with self._lock:
                self._running[client] -= 1
                if not self._running[client]:
                    del self._running[client]

    def _run(self, query: str, accept: str | None, default_graphs, named_graphs, fmt: str | None) -> Result:
        checked = check(query, self.graphs)
        for iri in default_graphs:
            allow_graph(iri, self.graphs, "default-graph-uri")
        for iri in named_graphs:
            allow_graph(iri, self.graphs, "named-graph-uri")
        media_type = choose_media_type(checked.form, accept, fmt)
        if default_graphs or named_graphs:  # the protocol's dataset overrides the query's FROM clauses
            dataset = {"default_graph": list(default_graphs), "named_graphs": list(named_graphs)}
        elif checked.has_dataset:  # the query's own FROM clauses, made explicit: a store may not honour them
            dataset = {"default_graph": list(checked.from_graphs), "named_graphs": list(checked.from_named)}
        else:
            dataset = {"use_default_graph_as_union": True}
        body, truncated = self.engine.evaluate((query, MEDIA_FORMAT[media_type], dataset))
        return Result(media_type, body, truncated)

    def close(self):
        self.engine.close()


def start_service(settings, store=None) -> SparqlService:
    """The worker pool over the build's N-Quads, or, given a kg.remote_store.RemoteGraphStore, pass-through to
    it; call wait_ready() on it before the first query."""
    from .vocab import PREFIXES

    prefixes = {name: str(ns) for name, ns in PREFIXES.items()}
    if store is not None:
        from .remote_store import RemoteEngine

        engine = RemoteEngine(store, settings.sparql_timeout_s, settings.sparql_max_results, prefixes,
                              settings.sparql_processes, settings.sparql_queue_wait_s)
        return SparqlService(engine, settings.sparql_client_queries)
    from .sparql_workers import WorkerPool

    path = Path(settings.build_dir) / "hcc-kg.nq"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `hcc-kg build` first")
    engine = WorkerPool(path, settings.sparql_timeout_s, settings.sparql_max_results, prefixes,
                        settings.sparql_processes, settings.sparql_queue_wait_s)
    return SparqlService(engine, settings.sparql_client_queries)
