"""The web pages for students and educators: Ask (home), Browse, Compare, the source reader; `router` also
carries the entity, graph, SPARQL console, downloads and static-asset routes, so the app registers one router.

Pages are rendered on the server (api/templates) and work without JavaScript; the small scripts in api/static
add live filtering, the highlight panel and the interactive graph.
"""
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.pages import compare as comparing
from api.pages import reader
from api.pages.render import BASE, entity_href, render

from . import assess_page, assets, console, downloads, entities, graph
from .ask import _answer as answer_question

router = APIRouter(tags=["pages"], include_in_schema=False)

EXAMPLE_QUESTIONS = [
    "What are the contraindications of TACE?",
    "How does radiofrequency ablation work?",
    "What are the adverse effects of TACE?",
    "Who is a candidate for microwave ablation?",
    "How does TACE compare with RFA?",
    "What is the heat sink effect?",
    "What is the dose of sorafenib for lung cancer?",
]
REASONS = {"not_in_sources": "The question is within the subject, but none of the source documents states an answer.",
           "out_of_scope": "The question is about something the sources do not cover.",
           "not_a_question": "This does not read as a question the knowledge graph can answer."}
MAX_QUESTION = 2000


@router.get("/")
def ask_page(request: Request, q: str | None = None):
    started = time.perf_counter()
    catalog = request.app.state.catalog
    context = {"q": q or "", "examples": EXAMPLE_QUESTIONS, "result": None, "error": None, "lead": None,
               "reasons": REASONS, "stats": {"facts": len(catalog.facts), "concepts": len(catalog.concepts),
                                             "documents": len(catalog.documents),
                                             "modalities": len(catalog.modalities())}}
    status = 200
    if q is not None and q.strip():
        if len(q) > MAX_QUESTION:
            context["error"], status = f"The question is {len(q)} characters long; ask in at most {MAX_QUESTION}.", 400
        else:
            result = answer_question(request, q)  # what GET /ask answers, so page and API never differ
            context["result"] = result
            context["lead"] = result["answer"].split("\n[1]")[0] if result["answered"] else result["answer"]
            context["titles"] = {d.id: d.title for d in catalog.documents.values()}
    return render(request, "ask.html", context, started, status=status)


@router.get("/browse")
def browse_page(request: Request, q: str = "", kind: Annotated[str, Query(alias="type")] = ""):
    started = time.perf_counter()
    catalog = request.app.state.catalog
    needle = q.strip().lower()
    groups = []
    for t, concepts in catalog.concepts_by_type().items():
        if kind and t.removeprefix(BASE) != kind:
            continue
        shown = [c for c in concepts if not needle or needle in " ".join([c.label, *c.alts]).lower()]
        if shown:
            groups.append({"type": t, "local": t.removeprefix(BASE), "label": catalog.label(t), "concepts": shown,
                           "total": len(concepts)})
    types = [(t.removeprefix(BASE), catalog.label(t), len(cs)) for t, cs in catalog.concepts_by_type().items()]
    return render(request, "browse.html", {"tree": catalog.modality_tree(), "groups": groups, "q": q, "type": kind,
                                           "types": types}, started)


@router.get("/compare")
def compare_page(request: Request, m: Annotated[list[str], Query()] = []):  # noqa: B006 (FastAPI reads it)
    started = time.perf_counter()
    catalog = request.app.state.catalog
    modalities = catalog.modalities()
    known = {c.local: c.iri for c in modalities}
    chosen = list(dict.fromkeys(m)) or comparing.DEFAULT
    unknown = [x for x in chosen if x not in known]
    chosen = [x for x in chosen if x in known][:comparing.MAX_COLUMNS]
    message = None
    if unknown:
        message = f"Not a treatment modality of the graph: {', '.join(unknown)}."
    elif len(chosen) < 2:
        message = "Choose at least two modalities to compare."
    table = comparing.compare(catalog, [known[x] for x in chosen]) if chosen else None
    return render(request, "compare.html", {"modalities": modalities, "chosen": chosen, "table": table,
                                            "message": message, "max_columns": comparing.MAX_COLUMNS,
                                            "abbrev": {c.local: comparing.abbreviation(c) for c in modalities},
                                            "catalog": catalog,
                                            "titles": {d.id: d.title for d in catalog.documents.values()}},
                  started, status=400 if unknown else 200)


@router.get("/documents")
def documents_page(request: Request):
    started = time.perf_counter()
    catalog = request.app.state.catalog
    docs = [{"id": d.id, "title": d.title, "length": len(d.text),
             "quotes": len(catalog.evidence_by_document.get(d.id, [])),
             "facts": len({f.iri for _, f in catalog.evidence_by_document.get(d.id, [])})}
            for d in sorted(catalog.documents.values(), key=lambda d: d.title.lower())]
    return render(request, "documents.html", {"documents": docs}, started)


@router.get("/documents/{doc_id}")
def document_page(request: Request, doc_id: str, start: int | None = None, end: int | None = None):
    started = time.perf_counter()
    catalog = request.app.state.catalog
    doc = catalog.documents.get(doc_id)
    if doc is None:
        return render(request, "error.html", {"title": "No such source document", "message":
                      f"There is no source document {doc_id!r}.", "hint_documents": True}, started, status=404)
    target, problem = None, None
    if start is not None or end is not None:
        if start is None or end is None:
            problem = "A quote needs both start and end offsets."
        elif not 0 <= start < end <= len(doc.text):
            problem = f"Characters {start}–{end} are outside this document (it has {len(doc.text)} characters)."
        else:
            target = (start, end)
    view = reader.document_view(catalog, doc_id, target)
    facts_json = [{"statement": f.statement, "subject": catalog.label(f.subject), "href": entity_href(f.subject),
                   "relation": catalog.label(f.predicate), "fact": entity_href(f.iri)} for f in view.facts]
    return render(request, "document.html", {"doc": view, "problem": problem, "catalog": catalog,
                                             "facts_json": facts_json}, started, status=400 if problem else 200)


for module in (entities, graph, console, downloads, assets, assess_page):
    router.include_router(module.router)
