"""Every IRI of the graph resolves here: https://w3id.org/hcc-kg/X is served at /id/X.

Content negotiation (Accept, or ?format= for links): HTML for browsers, text/turtle and application/ld+json (the
resource's bounded description from the graph), application/json (the page's own data, inherited facts included).
Concepts, classes, relations and facts get their own pages; any other resource of the graph (criteria, passages,
parameters, named graphs) a table of its triples; documents redirect to the source reader.
"""
import json
import time

import pyoxigraph as ox
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from api.pages import entity
from api.pages.render import BASE, DOC_PREFIX, render
from kg.errors import InputError
from kg.sparql import NotAcceptable, negotiate

router = APIRouter(tags=["pages"])

OFFERED = {"text/html": "html", "text/turtle": "turtle", "application/ld+json": "jsonld",
           "application/json": "json"}
FORMAT_ALIASES = {"html": "html", "turtle": "turtle", "ttl": "turtle", "jsonld": "jsonld", "json-ld": "jsonld",
                  "json": "json"}
MEDIA = {fmt: media for media, fmt in OFFERED.items()}
TEMPLATES = {"concept": "entity.html", "class": "class.html", "relation": "relation.html", "fact": "fact.html"}


def _format(request: Request) -> str:
    fmt = request.query_params.get("format")
    if fmt:
        if fmt.lower() not in FORMAT_ALIASES:
            raise InputError(f"unknown format {fmt!r}; use one of: {', '.join(FORMAT_ALIASES)}")
        return FORMAT_ALIASES[fmt.lower()]
    try:
        return OFFERED[negotiate(request.headers.get("accept"), OFFERED)]
    except NotAcceptable as e:
        raise HTTPException(406, str(e)) from None


@router.get("/id/{local:path}", summary="A resource of the graph (concept, class, relation, fact...)",
            description="The page of https://w3id.org/hcc-kg/{local}: HTML, Turtle, JSON-LD or JSON by Accept "
                        "(or ?format=html|turtle|jsonld|json).",
            responses={200: {"content": {m: {} for m in OFFERED}}, 404: {"description": "not in the graph"},
                       406: {"description": "no offered media type fits Accept"}})
def resource(request: Request, local: str):
    started = time.perf_counter()
    fmt = _format(request)
    iri = BASE + local
    headers = {"Vary": "Accept", "X-Graph-Version": request.app.state.graph_version}
    catalog = request.app.state.catalog
    if local.startswith(DOC_PREFIX) and local[len(DOC_PREFIX):] in catalog.documents and fmt == "html":
        return RedirectResponse("/documents/" + local[len(DOC_PREFIX):], status_code=303)
    data = entity.view(catalog, iri)
    if fmt in ("turtle", "jsonld"):
        triples = entity.describe(request.app.state.store, iri)
        if not triples:
            raise HTTPException(404, f"{iri} is not in the graph")
        return Response(entity.serialize(triples, fmt), media_type=MEDIA[fmt], headers=headers)
    if data is None and iri in entity.named_graphs(request.app.state.store):
        data = {"kind": "graph", "iri": iri, "label": local, "triples": [],
                "size": entity.graph_size(request.app.state.store, iri)}
    if data is None:
        triples = entity.describe(request.app.state.store, iri)
        if not triples:
            return _not_found(request, iri, fmt, started)
        data = {"kind": "resource", "iri": iri, "label": local,
                "triples": sorted(({"s": t.subject.value, "p": t.predicate.value, "o": t.object.value,
                                    "o_is_iri": isinstance(t.object, ox.NamedNode)} for t in triples),
                                   key=lambda t: (t["s"] != iri, t["p"], t["o"]))}
    if fmt == "json":
        return Response(json.dumps(data, ensure_ascii=False), media_type="application/json", headers=headers)
    template = TEMPLATES.get(data["kind"], "resource.html")
    return render(request, template, {"e": data, "catalog": catalog}, started, headers=headers)


def _not_found(request: Request, iri: str, fmt: str, started: float):
    if fmt != "html":
        raise HTTPException(404, f"{iri} is not in the graph; browse the concepts at /browse")
    return render(request, "error.html", {"title": "Not in the graph", "message":
                  f"{iri} is not a resource of this knowledge graph.", "hint_browse": True}, started, status=404)
