"""Where queries run: one small GraphStore interface, an embedded pyoxigraph store and a remote SPARQL endpoint.

Values are bound one explicit way on every store: `bind()` fills a `VALUES ?var { }` block that the query
template holds, with terms serialized here. User text is never pasted into a query any other way.
"""
import re
from pathlib import Path
from typing import Iterable, Protocol

import pyoxigraph as ox

from .errors import InputError, QueryError

Row = dict[str, str | None]

# IRIs we are willing to serialize into a query: no characters that could end the <...> token.
_SAFE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")


class GraphStore(Protocol):
    """Read-only SPARQL access to the built graph."""

    def select(self, query: str) -> list[Row]:
        """Run a SELECT; each row maps variable names to the lexical form of the bound term (or None)."""

    def ask(self, query: str) -> bool:
        """Run an ASK."""

    def __len__(self) -> int:
        """Number of quads."""


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

    def __len__(self) -> int:
        return len(self._store)


class RemoteGraphStore:
    """A SPARQL 1.1 Protocol endpoint elsewhere (e.g. a shared triple store) behind the same interface."""

    def __init__(self, endpoint: str, timeout_s: float = 10.0):
        import httpx

        self._endpoint = endpoint
        self._client = httpx.Client(timeout=timeout_s)

    def _post(self, query: str) -> dict:
        r = self._client.post(self._endpoint, content=query.encode("utf-8"),
                              headers={"Content-Type": "application/sparql-query",
                                       "Accept": "application/sparql-results+json"})
        if r.status_code >= 400:
            raise QueryError(f"remote endpoint answered {r.status_code}: {r.text[:300]}")
        return r.json()

    def select(self, query: str) -> list[Row]:
        data = self._post(query)
        names = data["head"]["vars"]
        return [{n: (b[n]["value"] if n in b else None) for n in names} for b in data["results"]["bindings"]]

    def ask(self, query: str) -> bool:
        return bool(self._post(query)["boolean"])

    def __len__(self) -> int:
        """Quads in named graphs (the build puts every triple in one)."""
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(rows[0]["n"])
