"""The build's derived indexes (the `indexes` stage of the data flow): the vector index of passages, concepts and
facts, the relation classifier trained on the lexicon's example questions, and the ONNX question encoder the server
runs instead of torch. Vectors are cached by content, so a rebuild embeds only new text.
"""
from rdflib import Dataset, Graph

from .config import Settings
from .lexicon import Lexicon
from .vocab import FACTS_GRAPH, ONTOLOGY_GRAPH, PASSAGES_GRAPH

ENCODER_CHECK_TEXTS = 400  # index texts and example questions the ONNX vectors are compared on


ITEMS_QUERY = """
PREFIX hcc: <https://w3id.org/hcc-kg/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?kind ?iri ?text ?label ?doc ?start ?end WHERE {
  { ?iri a hcc:Passage ; hcc:text ?text ; hcc:start ?start ; hcc:end ?end ; hcc:inDocument/dcterms:identifier ?doc .
    BIND("passage" AS ?kind) }
  UNION
  { ?iri a skos:Concept ; skos:prefLabel ?label .
    OPTIONAL { SELECT ?iri (GROUP_CONCAT(?alt; separator="; ") AS ?alts) WHERE { ?iri skos:altLabel ?alt } GROUP BY ?iri }
    OPTIONAL { ?iri skos:definition ?def }
    BIND(CONCAT(STR(?label), IF(BOUND(?alts), CONCAT(" (", ?alts, ")"), ""), IF(BOUND(?def), CONCAT(": ", STR(?def)), "")) AS ?text)
    BIND("concept" AS ?kind) }
  UNION
  { ?iri a rdf:Statement ; hcc:statement ?text . BIND("fact" AS ?kind) }
} ORDER BY ?kind ?iri"""


def index_items(ds: Dataset):
    from .search import Item

    union = Graph()
    for gid in (ONTOLOGY_GRAPH, FACTS_GRAPH, PASSAGES_GRAPH):
        for t in ds.graph(gid):
            union.add(t)
    items = []
    for kind, iri, text, label, doc, start, end in union.query(ITEMS_QUERY):
        items.append(Item(kind=str(kind), text=str(text), iri=str(iri), label=str(label) if label else None,
                          document=str(doc) if doc else None, start=int(start) if start is not None else None,
                          end=int(end) if end is not None else None))
    return items


def build_indexes(settings: Settings, ds: Dataset, lexicon: Lexicon, version: str, step) -> dict:
    """Write the vectors, the classifier and the encoder into settings.build_dir; returns what to report."""
    from . import encoder
    from .qa.classifier import RelationClassifier
    from .qa.wording import Wording
    from .search import CACHE, SentenceTransformerEmbedder, embed_with_cache, write_index

    step(f"embedding passages, concepts and facts ({settings.embedding_model}; cached by content)")
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    items = index_items(ds)
    write_index(items, embedder, settings.build_dir)
    step("linking the facts' texts for the answerer (stored, so that start-up only reads it)")
    answerer_tables(settings, version).save(settings.build_dir)
    step(f"training the relation classifier on {lexicon.example_count} example questions")
    # examples are embedded as the answerer embeds a question: with the clinical words of its lay ones added
    gloss = Wording({}, {}, [(lay, g.clinical) for g in lexicon.glosses for lay in g.lay], []).with_clinical_words
    model = RelationClassifier.train(lexicon.training_examples(), {k.name: k.cues for k in lexicon.kinds.values()},
                                     lambda texts: embed_with_cache(embedder, [gloss(x) for x in texts],
                                                                    settings.build_dir / CACHE))
    model.save(settings.build_dir)
    step("exporting the question encoder to ONNX and checking it against sentence-transformers")
    questions = [q for q, _, _ in lexicon.training_examples()]
    texts = [i.text for i in items]
    check = texts[::max(1, len(texts) // (ENCODER_CHECK_TEXTS // 2))] + \
        questions[::max(1, len(questions) // (ENCODER_CHECK_TEXTS // 2))]
    return {"classifier": {"kinds": len(model.kinds), "examples": lexicon.example_count, "c": model.c,
                           "cv_accuracy": round(model.cv_accuracy, 3)},
            "encoder": encoder.export(settings.embedding_model, settings.build_dir, check, embedder)}


def answerer_tables(settings: Settings, version: str):
    """The answerer's tables (kg/qa/tables.py) over the graph just exported, read as the server reads it."""
    from .catalog import Catalog
    from .qa.entities import Linker
    from .qa.tables import Tables
    from .qa.wording import Wording
    from .store import EmbeddedGraphStore

    store = EmbeddedGraphStore.from_build(settings.build_dir)
    catalog = Catalog(store, settings.corpus_dir)
    return Tables.compute(version, catalog, Linker(catalog, Wording.from_store(store)))
