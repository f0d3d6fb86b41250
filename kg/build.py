"""Build the dataset: corpus + TBox + curated facts -> RDF (facts, provenance, passages) -> SHACL -> OWL-RL -> exports."""
from rdflib import Graph

from .config import Settings
from .corpus import load_corpus
from .curation import load_curation


def load_tbox(settings: Settings) -> Graph:
    g = Graph()
    for name in ("hcc.ttl", "parameters.ttl"):
        g.parse(settings.ontology_dir / name, format="turtle")
    return g


def load_inputs(settings: Settings):
    corpus = load_corpus(settings.corpus_dir)
    tbox = load_tbox(settings)
    return corpus, tbox, load_curation(settings.facts_dir, tbox, corpus)
