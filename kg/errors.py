"""One exception hierarchy for the whole project, so callers catch at the right level.

HccKgError
 ├── CurationError   curated facts that the corpus does not prove (fake quote, unknown concept...)
 ├── BuildError      the built graph violates the ontology's shapes or cannot be written
 ├── QueryError      a SPARQL query that is malformed or not allowed (client's fault: 4xx)
 │    └── QueryRefused   read-only / outside-IRI refusals
 ├── QueryTimeout    a query ran past its time limit (503)
 ├── Overloaded      no capacity now: the server (503) or this client's share (429); retry after a moment
 ├── StoreUnavailable  the remote triple store is down, slow, failing or holds another graph version (503)
 └── InputError      any other bad user input (4xx)
"""


class HccKgError(Exception):
    """Base of every error this project raises on purpose."""


class CurationError(HccKgError):
    """The curated assertions cannot be proven from the corpus; `problems` lists each one."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{len(self.problems)} curation problem(s):\n{shown}{more}")


class BuildError(HccKgError):
    """The graph could not be built or does not conform to ontology/shapes.ttl."""


class QueryError(HccKgError):
    """A SPARQL query that is malformed or not allowed."""


class QueryRefused(QueryError):
    """A query that is well formed but refused (update, SERVICE, outside graphs)."""


class QueryTimeout(HccKgError):
    """A query that ran past the configured time limit."""


class Overloaded(HccKgError):
    """Refused at once for want of capacity, so that waiting requests never pile up; `status` is 503 when the
    server is busy and 429 when this client already has its share in flight."""

    def __init__(self, message: str, status: int = 503, retry_after_s: int = 1):
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class StoreUnavailable(HccKgError):
    """The remote triple store cannot answer now (or holds another graph version); the message names it."""
    status = 503
    retry_after_s = 2


class InputError(HccKgError):
    """Bad user input other than SPARQL."""
