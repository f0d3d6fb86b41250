"""HTML rendering: one Jinja2 environment (autoescaped), the link helpers every template uses, render timing.

Links: a concept IRI https://w3id.org/hcc-kg/X is served at /id/X (the IRI a w3id redirect points here maps to
that path); a citation is /documents/DOC?start=S&end=E#q-S-E, which opens the source scrolled to the quote.
"""
import time
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kg.vocab import HCC, PREFIXES

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
BASE = str(HCC)
DOC_PREFIX = "doc/"

NAV = [("/", "Ask"), ("/browse", "Browse"), ("/compare", "Compare"), ("/assess/case", "Assess"), ("/graph", "Graph"),
       ("/documents", "Sources"), ("/query", "SPARQL"), ("/downloads", "Downloads")]
# entity pages belong to Browse in the navigation, the case form to Assess
ACTIVE_ALIASES = {"id": "/browse", "assess": "/assess/case"}
DISCLAIMER = ("The content is educational, drawn from the cited sources; it is not clinical advice and does not "
              "replace a clinician's judgement.")


def entity_href(iri: str) -> str | None:
    """The page of a graph IRI on this server, or None for IRIs outside the graph's namespace."""
    if not iri or not iri.startswith(BASE):
        return None
    local = iri[len(BASE):]
    if local.startswith(DOC_PREFIX):
        return "/documents/" + local[len(DOC_PREFIX):]
    return "/id/" + local


def graph_href(iri: str) -> str:
    return "/graph/" + iri[len(BASE):] if iri.startswith(BASE) else "/graph"


def cite_href(document: str, start: int, end: int) -> str:
    return f"/documents/{document}?{urlencode({'start': start, 'end': end})}#q-{start}-{end}"


def short_iri(iri: str) -> str:
    """prefix:local for the namespaces the graph declares, else the IRI itself."""
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(str(kv[1]))):
        if iri.startswith(str(ns)) and len(iri) > len(str(ns)):
            return f"{prefix}:{iri[len(str(ns)):]}"
    return iri


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["html", "xml"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(nav=NAV, disclaimer=DISCLAIMER, entity_href=entity_href, graph_href=graph_href,
                       cite_href=cite_href, short_iri=short_iri, urlencode=urlencode)
    return env


ENV = _environment()


def active_section(path: str) -> str | None:
    """The navigation entry a path belongs to (/graph/TACE -> /graph, /id/TACE -> /browse)."""
    first = path.split("/")[1] if path.count("/") > 1 else ""
    if first in ACTIVE_ALIASES:
        return ACTIVE_ALIASES[first]
    hits = [href for href, _ in NAV if path == href or (href != "/" and path.startswith(href))]
    return max(hits, key=len, default=None)


def render(request: Request, name: str, context: dict, started: float, status: int = 200,
           headers: dict | None = None) -> HTMLResponse:
    """Render a template with the common context; Server-Timing reports the time since `started`."""
    state = request.app.state
    path = request.url.path
    page = ENV.get_template(name).render(request=request, path=path, active=active_section(path),
                                         graph_version=getattr(state, "graph_version", ""), **context)
    elapsed_ms = (time.perf_counter() - started) * 1000
    out = {"Server-Timing": f"render;dur={elapsed_ms:.1f}", **(headers or {})}
    return HTMLResponse(page, status_code=status, headers=out)
