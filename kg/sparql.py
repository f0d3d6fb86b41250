"""The SPARQL 1.1 query service behind /sparql: a guard, then evaluation in worker processes that can be killed.

Why a guard: the embedded engines follow `SERVICE <http://...>` (and rdflib `FROM <...>`) with outbound
requests, and this endpoint is read-only. Every query is parsed with rdflib's SPARQL grammar and refused
before any engine sees it if it is an update, uses SERVICE, or names a graph outside the dataset.

Why processes: pyoxigraph cannot cancel a running query, so a time limit needs something that can be stopped.
Each worker (spawn context: it imports this module, kg.errors and pyoxigraph, nothing heavy) holds its own
store loaded from build/hcc-kg.nq; on timeout the parent kills the worker and starts a replacement in the
background. Fairness comes from refusing, not queueing (see SparqlService.run): one query at a time per client,
a short wait for a worker, and one worker more than the cores, so that two clients' runaway queries still leave
a worker for everyone else's quick ones.

Errors: QueryError (malformed), QueryRefused (update, SERVICE, outside graph), QueryTimeout, Overloaded (the
client's query already running: 429; no worker free: 503), InputError (bad parameter), NotAcceptable (no offered
media type fits Accept; the route answers 406).
"""
import logging
import multiprocessing
import queue
import threading
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError, Overloaded, QueryError, QueryRefused, QueryTimeout

log = logging.getLogger("hcc_kg.sparql")

READ_ONLY = "updates are refused: this endpoint is read-only"
STARTUP_TIMEOUT_S = 120

# Content negotiation: media type -> format name (also the `format` parameter); the first entry is the default.
RESULT_TYPES = {"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
                "text/csv": "csv", "text/tab-separated-values": "tsv"}
GRAPH_TYPES = {"text/turtle": "turtle", "application/n-triples": "ntriples", "application/ld+json": "jsonld"}
MEDIA_FORMAT = {**RESULT_TYPES, **GRAPH_TYPES}
FORMAT_PARAM = {fmt: media for media, fmt in MEDIA_FORMAT.items()}

_OX_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
               "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
               "turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}

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
    """What the guard learned from the parse: the query form and whether it names its own dataset."""
    form: str
    has_dataset: bool


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
        has_dataset = False
        for node in walk(parsed[1]):
            if node.name == "ServiceGraphPattern":
                raise QueryRefused("SERVICE is refused: this endpoint makes no outbound requests")
            if node.name == "DatasetClause":
                has_dataset = True
                keyword, iri = ("FROM", node["default"]) if "default" in node else ("FROM NAMED", node["named"])
                allow_graph(str(prologue.absolutize(iri)), graphs, keyword)
    except QueryError:
        raise
    except Exception as e:  # e.g. an undeclared prefix in FROM
        raise QueryError(f"malformed query: {e}") from None
    return Checked(_FORMS[parsed[1].name], has_dataset)


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


# --- worker process --------------------------------------------------------------------------------------------

def _worker_main(conn, nq_path: str, max_results: int, prefixes: dict[str, str]):
    """Load the graph once, report its named graphs, then answer (query, format, dataset) until the pipe closes."""
    store = ox.Store()
    store.bulk_load(path=nq_path, format=ox.RdfFormat.N_QUADS)
    conn.send(sorted(g.value for g in store.named_graphs()))
    while True:
        try:
            query, fmt, dataset = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", *_evaluate(store, query, fmt, dataset, max_results, prefixes)))
        except SyntaxError as e:  # what rdflib's grammar let through but oxigraph's did not (e.g. an unknown prefix)
            conn.send(("error", f"malformed query: {str(e)[:300]}"))
        except Exception as e:
            conn.send(("error", f"query evaluation failed: {e}"))


def _evaluate(store: ox.Store, query: str, fmt: str, dataset: dict, max_results: int, prefixes: dict):
    """Run the query, keep at most max_results rows/triples, serialize with pyoxigraph; -> (body, truncated)."""
    kwargs = {k: [ox.NamedNode(iri) for iri in v] if isinstance(v, list) else v for k, v in dataset.items()}
    result = store.query(query, **kwargs)
    if isinstance(result, ox.QueryBoolean):
        return result.serialize(format=_OX_FORMATS[fmt]), False
    rows = list(islice(result, max_results + 1))
    truncated = len(rows) > max_results
    rows = rows[:max_results]
    if isinstance(result, ox.QueryTriples):
        return ox.serialize(rows, format=_OX_FORMATS[fmt], prefixes=prefixes), truncated
    # pyoxigraph serializes only a whole result, not a list of solutions: the kept rows go back through its TSV
    # reader (terms in their N-Triples form, which escapes tabs and newlines) so every format is still its own.
    lines = ["\t".join(str(v) for v in result.variables)]
    lines += ["\t".join("" if term is None else str(term) for term in row) for row in rows]
    capped = ox.parse_query_results("\n".join(lines) + "\n", format=ox.QueryResultsFormat.TSV)
    return capped.serialize(format=_OX_FORMATS[fmt]), truncated


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx, args: tuple):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, *args), name="hcc-kg-sparql", daemon=True)
        self.process.start()
        child.close()

    def wait_ready(self) -> list[str]:
        try:
            if self.conn.poll(STARTUP_TIMEOUT_S):
                return self.conn.recv()
        except (EOFError, OSError):
            pass
        self.kill()
        raise RuntimeError("a SPARQL worker process failed to load the graph")

    def kill(self):
        self.process.kill()
        self.process.join(5)
        self.conn.close()


# --- the service (parent process) ------------------------------------------------------------------------------

class SparqlService:
    """A pool of query workers behind one blocking `run()`; call it from a thread, not the event loop."""

    def __init__(self, nq_path: Path, timeout_s: float, max_results: int, prefixes: dict[str, str], workers: int = 2,
                 queue_wait_s: float = 0.5, client_queries: int = 1):
        self.timeout_s = timeout_s
        self.queue_wait_s = queue_wait_s
        self.client_queries = client_queries
        self._running: dict[str, int] = {}
        self._ctx = multiprocessing.get_context("spawn")
        self._args = (str(nq_path), max_results, prefixes)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._live: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._starting = [self._spawn() for _ in range(workers)]
        self.graphs: frozenset[str] = frozenset()

    def wait_ready(self) -> "SparqlService":
        """Wait until the workers started by __init__ have loaded the graph: the caller loads its own resources
        in between, so the workers' start-up overlaps with it."""
        started, self._starting = self._starting, []
        if started:
            self.graphs = frozenset([w.wait_ready() for w in started][0])
            for w in started:
                self._idle.put(w)
        return self

    def run(self, query: str, accept: str | None = None, default_graphs=(), named_graphs=(),
            fmt: str | None = None, client: str = "") -> Result:
        """Fairness as WDQS and Fuseki keep it, by refusing rather than queueing: a client runs `client_queries`
        queries at once (429 past that), and a query waits at most `queue_wait_s` for a free worker (503 past
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
        elif checked.has_dataset:
            dataset = {}
        else:
            dataset = {"use_default_graph_as_union": True}
        status, *reply = self._ask((query, MEDIA_FORMAT[media_type], dataset))
        if status == "error":
            raise QueryError(reply[0])
        body, truncated = reply
        return Result(media_type, body, truncated)

    def _ask(self, request: tuple) -> tuple:
        try:
            worker = self._idle.get(timeout=self.queue_wait_s)
        except queue.Empty:
            raise Overloaded(f"every SPARQL worker is busy with another client's query; retry in a few seconds "
                             f"(a query may run {self.timeout_s:g} s)", retry_after_s=2) from None
        try:
            worker.conn.send(request)
            reply = worker.conn.recv() if worker.conn.poll(self.timeout_s) else None
        except (EOFError, OSError):
            self._replace(worker)
            raise QueryError("query evaluation failed: its worker process stopped (out of memory?)") from None
        if reply is None:
            self._replace(worker)
            raise QueryTimeout(f"query exceeded the {self.timeout_s:g} s limit")
        self._idle.put(worker)
        return reply

    def _spawn(self) -> _Worker:
        worker = _Worker(self._ctx, self._args)
        with self._lock:
            self._live.add(worker)
        return worker

    def _replace(self, worker: _Worker):
        """Kill a worker and start its successor in the background, so the caller answers at once."""
        with self._lock:
            self._live.discard(worker)
        worker.kill()

        def start():
            if self._closed:
                return
            successor = self._spawn()
            try:
                successor.wait_ready()
            except RuntimeError:
                log.exception("could not replace a SPARQL worker")
                return
            if self._closed:
                successor.kill()
            else:
                self._idle.put(successor)

        threading.Thread(target=start, name="hcc-kg-sparql-respawn", daemon=True).start()

    def close(self):
        self._closed = True
        with self._lock:
            workers, self._live = list(self._live), set()
        for w in workers:
            w.kill()


def start_service(settings) -> SparqlService:
    """Start the worker pool over the build's N-Quads; call wait_ready() on it before the first query."""
    from .vocab import PREFIXES

    path = Path(settings.build_dir) / "hcc-kg.nq"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `hcc-kg build` first")
    return SparqlService(path, settings.sparql_timeout_s, settings.sparql_max_results,
                         {name: str(ns) for name, ns in PREFIXES.items()}, settings.sparql_processes,
                         settings.sparql_queue_wait_s, settings.sparql_client_queries)
