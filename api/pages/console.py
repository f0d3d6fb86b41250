"""The SPARQL console's data: example queries (one per relation, plus provenance ones) and result tables.

Examples are data (kg/queries/page_example_*.rq), shown as a list the reader can load into the editor; the
per-relation ones come from one template with the relation's local name put in (names from the graph's own
vocabulary, never from a request). Queries run through the same guarded service as /sparql.
"""
import json
from dataclasses import dataclass

from kg.queries import template

from kg.catalog import Catalog
from .render import entity_href, short_iri

PROVENANCE = ["quotes", "relation_sources", "document_facts", "graphs", "inherited", "criteria", "passages",
              "construct", "ask"]
DEFAULT_EXAMPLE = "relation-hasContraindication"
RESULT_LIMIT = 500  # rows shown on the page; downloads carry the whole result
ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"
DOWNLOADS = {"application/sparql-results+json": ["json", "xml", "csv", "tsv"],
             "text/turtle": ["turtle", "ntriples", "jsonld"]}


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    group: str
    query: str


def _title(query: str) -> str:
    first = query.splitlines()[0]
    return first.lstrip("# ").strip() if first.startswith("#") else "query"


def examples(catalog: Catalog) -> list[Example]:
    out = []
    relation_template = template("page_example_relation")
    for rel in sorted(catalog.relations.values(), key=lambda r: r.label):
        n = len(catalog.by_relation.get(rel.iri, []))
        query = relation_template.replace("hcc:RELATION", f"hcc:{rel.name}").replace("RELATION_LABEL", rel.label)
        out.append(Example(f"relation-{rel.name}", f"{rel.label} ({n} facts)", "One per relation", query))
    for name in PROVENANCE:
        query = template(f"page_example_{name}")
        out.append(Example(name, _title(query), "Provenance and structure", query))
    return out


def _cell(term: dict | None) -> dict:
    if term is None:
        return {"text": "", "href": None, "kind": "unbound"}
    if term["type"] == "uri":
        return {"text": short_iri(term["value"]), "href": entity_href(term["value"]), "kind": "iri",
                "iri": term["value"]}
    return {"text": term["value"], "href": None, "kind": "literal", "lang": term.get("xml:lang")}


def result_table(media_type: str, body: bytes) -> dict:
    """A SELECT/ASK JSON result as {vars, rows, total, shown} (or {boolean}); a graph result as its Turtle text."""
    if media_type != "application/sparql-results+json":
        return {"kind": "graph", "text": body.decode("utf-8")}
    data = json.loads(body)
    if "boolean" in data:
        return {"kind": "boolean", "value": bool(data["boolean"])}
    names = data["head"]["vars"]
    bindings = data["results"]["bindings"]
    rows = [[_cell(b.get(n)) for n in names] for b in bindings[:RESULT_LIMIT]]
    return {"kind": "table", "vars": names, "rows": rows, "total": len(bindings), "shown": len(rows)}
