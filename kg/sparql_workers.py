"""Where /sparql queries run on the embedded graph: worker processes that can be killed.

pyoxigraph cannot cancel a running query, so a time limit needs something that can be stopped. Each worker (spawn
context: it imports this module, kg.errors and pyoxigraph, nothing heavy) holds its own store loaded from
build/hcc-kg.nq; on timeout the pool kills the worker and starts a replacement in the background, so the caller
answers at once. `serialize_result` (the result cap and every output format) is shared with the remote engine
of kg.remote_store, so that a remote store's results come out exactly as the embedded ones.
"""
import logging
import queue
import threading
from itertools import islice
from pathlib import Path

import pyoxigraph as ox

from .errors import Overloaded, QueryError, QueryTimeout

log = logging.getLogger("hcc_kg.sparql")

STARTUP_TIMEOUT_S = 120

OX_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
              "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
              "turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}


def serialize_result(result, fmt: str, max_results: int, prefixes: dict) -> tuple[bytes, bool]:
    """A QueryBoolean, QuerySolutions or iterable of triples, cut at max_results and serialized as `fmt`;
    -> (body, truncated)."""
    if isinstance(result, ox.QueryBoolean):
        return result.serialize(format=OX_FORMATS[fmt]), False
    rows = list(islice(result, max_results + 1))
    truncated = len(rows) > max_results
    rows = rows[:max_results]
    if not isinstance(result, ox.QuerySolutions):
        triples = [r.triple if isinstance(r, ox.Quad) else r for r in rows]
        return ox.serialize(triples, format=OX_FORMATS[fmt], prefixes=prefixes), truncated
    # pyoxigraph serializes only a whole result, not a list of solutions: the kept rows go back through its TSV
    # reader (terms in their N-Triples form, which escapes tabs and newlines) so every format is still its own.
    lines = ["\t".join(str(v) for v in result.variables)]
    lines += ["\t".join("" if term is None else str(term) for term in row) for row in rows]
    capped = ox.parse_query_results("\n".join(lines) + "\n", format=ox.QueryResultsFormat.TSV)
    return capped.serialize(format=OX_FORMATS[fmt]), truncated


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
            kwargs = {k: [ox.NamedNode(iri) for iri in v] if isinstance(v, list) else v for k, v in dataset.items()}
            conn.send(("ok", *serialize_result(store.query(query, **kwargs), fmt, max_results, prefixes)))
        except SyntaxError as e:  # what rdflib's grammar let through but oxigraph's did not (e.g. an unknown prefix)
            conn.send(("error", f"malformed query: {str(e)[:300]}"))
        except Exception as e:
            conn.send(("error", f"query evaluation failed: {e}"))


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


class WorkerPool:
    """`workers` processes over build/hcc-kg.nq; `evaluate` waits at most queue_wait_s for a free one."""

    def __init__(self, nq_path: Path, timeout_s: float, max_results: int, prefixes: dict[str, str], workers: int,
                 queue_wait_s: float):
        import multiprocessing

        self.timeout_s, self.queue_wait_s = timeout_s, queue_wait_s
        self._ctx = multiprocessing.get_context("spawn")
        self._args = (str(nq_path), max_results, prefixes)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._live: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._starting = [self._spawn() for _ in range(workers)]

    def wait_ready(self) -> frozenset[str]:
        """Wait until the workers started by __init__ have loaded the graph; -> the dataset's named graphs."""
        started, self._starting = self._starting, []
        graphs = frozenset([w.wait_ready() for w in started][0]) if started else frozenset()
        for w in started:
            self._idle.put(w)
        return graphs

    def evaluate(self, request: tuple) -> tuple[bytes, bool]:
        """(query, format, dataset) -> (body, truncated)."""
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
        status, *rest = reply
        if status == "error":
            raise QueryError(rest[0])
        return rest[0], rest[1]

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
