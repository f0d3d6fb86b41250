"""Namespaces and IRI minting: the one place that knows how hcc-kg names things."""
from hashlib import sha1

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

HCC = Namespace("https://w3id.org/hcc-kg/")
OA = Namespace("http://www.w3.org/ns/oa#")

ONTOLOGY_GRAPH = HCC["graph/ontology"]
FACTS_GRAPH = HCC["graph/facts"]
PASSAGES_GRAPH = HCC["graph/passages"]
INFERRED_GRAPH = HCC["graph/inferred"]
# The dataset's own description (VoID), with its graph version: a store holding the graph says which version it holds.
DATASET_GRAPH = HCC["graph/dataset"]
DATASET = HCC["dataset"]
VOID = Namespace("http://rdfs.org/ns/void#")
DATASET_GRAPHS = (ONTOLOGY_GRAPH, FACTS_GRAPH, PASSAGES_GRAPH, INFERRED_GRAPH, DATASET_GRAPH)

PREFIXES = {
    "hcc": HCC, "owl": OWL, "rdf": RDF, "rdfs": RDFS, "skos": SKOS, "xsd": XSD,
    "dcterms": DCTERMS, "prov": PROV, "oa": OA, "void": VOID,
}

__all__ = ["HCC", "OA", "OWL", "RDF", "RDFS", "SKOS", "XSD", "DCTERMS", "PROV", "PREFIXES",
           "ONTOLOGY_GRAPH", "FACTS_GRAPH", "PASSAGES_GRAPH", "INFERRED_GRAPH", "DATASET_GRAPH", "DATASET", "DATASET_GRAPHS", "VOID",
           "document_iri", "passage_iri", "fact_iri", "criterion_iri", "parameter_iri", "local_name"]


def document_iri(doc_id: str):
    return HCC[f"doc/{doc_id}"]


def passage_iri(doc_id: str, index: int):
    return HCC[f"passage/{doc_id}/{index}"]


def fact_iri(subject: str, predicate: str, obj: str):
    """Facts are named by what they say, so the same (s, p, o) from two documents is one fact."""
    return HCC["fact/" + sha1(f"{subject}|{predicate}|{obj}".encode()).hexdigest()[:12]]


def criterion_iri(concept_id: str, index: int):
    return HCC[f"{concept_id}/criterion/{index}"]


def parameter_iri(key: str):
    return HCC[f"parameter/{key}"]


def local_name(iri) -> str:
    s = str(iri)
    return s[len(str(HCC)):] if s.startswith(str(HCC)) else s
