"""Where queries run: one small GraphStore interface and the embedded pyoxigraph store (the default); a remote
SPARQL endpoint holding the same dataset is kg.remote_store.RemoteGraphStore.

Values are bound one explicit way on every store: `bind()` fills a `VALUES ?var { }` block that the query
template holds, with terms serialized here. User text is never pasted into a query any other way.
"""
import re
from pathlib import Path
from typing import Iterable, Protocol

import pyoxigraph as ox

from .errors import InputError, QueryError
from .vocab import DATASET, DATASET_GRAPH

Row = dict[str, str | None]

# IRIs we are willing to serialize into a query: no characters that could end the <...> token.
_SAFE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")


class GraphStore(Protocol):
    """Read-only SPARQL access to the built graph."""

    def select(self, query: str) -> list[Row]:
        """Run a SELECT; each row maps variable names to the lexical form of the bound term (or None)."""

    def ask(self, query: str) -> bool:
        """Run an ASK."""

    def construct(self, query: str) -> list[ox.Triple]:
        """Run a CONSTRUCT or DESCRIBE."""

    def graph_sizes(self) -> dict[str, int]:
        """Quads in each named graph of the dataset."""

    def version(self) -> str | None:
        """The graph version the dataset states (owl:versionInfo of hcc:dataset), None if it states none."""

    def __len__(self) -> int:
        """Number of quads."""


VERSION_QUERY = """SELECT ?version WHERE { GRAPH <%s> { <%s> <http://www.w3.org/2002/07/owl#versionInfo> ?version } }"""


def iri_term(iri: str) -> str:
    if not _SAFE_IRI.match(iri):
        raise InputError(f"not a valid IRI: {iri[:80]!r}")
    return f"<{iri}>"


def literal_term(value: str) -> str:
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r"))
    return f'"{escaped}"'


def bind(template: str, **values: Iterable[str]) -> str:
    """Fill each `VALUES ?name { }` block of the template with IRIs (strings starting with a scheme).

    Literal values are passed as ("literal", text) tuples.
    """
    out = template
    for name, items in values.items():
        terms = " ".join(literal_term(v[1]) if isinstance(v, tuple) else iri_term(v) for v in items)
        pattern = re.compile(r"VALUES\s+\?" + re.escape(name) + r"\s*\{\s*\}")
        if not pattern.search(out):
            raise QueryError(f"template has no 'VALUES ?{name} {{ }}' block")
        out = pattern.sub(lambda _: f"VALUES ?{name} {{ {terms} }}", out, count=1)
    return out


class EmbeddedGraphStore:
    """The built dataset in an in-memory pyoxigraph store; the default graph is the union of all graphs."""

    def __init__(self, store: ox.Store):
        self._store = store
        self._sizes: dict[str, int] | None = None

    @classmethod
    def from_build(cls, build_dir: Path) -> "EmbeddedGraphStore":
        path = Path(build_dir) / "hcc-kg.nq"
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: run `hcc-kg build` first")
        store = ox.Store()
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
        return cls(store)

    @property
    def oxigraph(self) -> ox.Store:
        return self._store

    def select(self, query: str) -> list[Row]:
        try:
            solutions = self._store.query(query, use_default_graph_as_union=True)
        except SyntaxError as e:
            raise QueryError(str(e)) from e
        names = list(enumerate(v.value for v in solutions.variables))
        rows = []
        for sol in solutions:
            row = {}
            for i, n in names:
                term = sol[i]
                row[n] = None if term is None else term.value
            rows.append(row)
        return rows

    def ask(self, query: str) -> bool:
        return bool(self._store.query(query, use_default_graph_as_union=True))

    def construct(self, query: str) -> list[ox.Triple]:
        return list(self._store.query(query, use_default_graph_as_union=True))

    def graph_sizes(self) -> dict[str, int]:
        if self._sizes is None:  # the store is read-only once loaded
            self._sizes = {g.value: sum(1 for _ in self._store.quads_for_pattern(None, None, None, g))
                           for g in self._store.named_graphs()}
        return self._sizes

    def version(self) -> str | None:
        rows = self.select(VERSION_QUERY % (DATASET_GRAPH, DATASET))
        return rows[0]["version"] if rows else None

    def __len__(self) -> int:
        return len(self._store)
