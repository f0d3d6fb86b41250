"""Curated assertions -> RDF: the documents, concepts, facts (each with its PROV-O and Web Annotation provenance:
the document, the exact quote and its character offsets) and corpus passages, in the dataset's named graphs
(kg/build.py checks, infers and exports what this assembles).
"""
import hashlib

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from .corpus import Document, split_sentences
from .curation import Curation
from .lexicon import Lexicon, lexicon_triples
from .linking import LabelIndex
from .vocab import (FACTS_GRAPH, HCC, OA, ONTOLOGY_GRAPH, PASSAGES_GRAPH, PREFIXES, criterion_iri, document_iri,
                    fact_iri, local_name, parameter_iri, passage_iri)


def assemble(corpus: dict[str, Document], tbox: Graph, curation: Curation, lexicon: Lexicon) -> Dataset:
    ds = Dataset()
    for prefix, ns in PREFIXES.items():
        ds.bind(prefix, ns)
    onto = ds.graph(ONTOLOGY_GRAPH)
    for t in tbox:
        onto.add(t)
    for t in lexicon_triples(lexicon):
        onto.add(t)
    facts = ds.graph(FACTS_GRAPH)
    _add_documents(facts, corpus)
    _add_concepts(facts, tbox, curation)
    _add_facts(facts, tbox, curation)
    _add_passages(ds.graph(PASSAGES_GRAPH), corpus, tbox, curation)
    return ds


def _add_documents(g: Graph, corpus: dict[str, Document]):
    for doc in corpus.values():
        d = document_iri(doc.id)
        g.add((d, RDF.type, HCC.SourceDocument))
        g.add((d, RDF.type, PROV.Entity))
        g.add((d, DCTERMS.identifier, Literal(doc.id)))
        g.add((d, DCTERMS.title, Literal(doc.title, lang="en")))
        g.add((d, DCTERMS.format, Literal("text/plain")))
        g.add((d, DCTERMS.language, Literal("en")))
        g.add((d, HCC.sha256, Literal(hashlib.sha256(doc.text.encode("utf-8")).hexdigest())))
        g.add((d, HCC.length, Literal(len(doc.text), datatype=XSD.nonNegativeInteger)))
        for topic in doc.topics:
            g.add((d, DCTERMS.subject, Literal(topic)))


def _typed_value(v, datatype: URIRef | None) -> Literal:
    if isinstance(v, bool) or datatype == XSD.boolean:
        return Literal(bool(v) if isinstance(v, bool) else str(v).lower() == "true", datatype=XSD.boolean)
    if isinstance(v, (int, float)) and datatype == XSD.integer:
        return Literal(int(v), datatype=XSD.integer)
    if isinstance(v, (int, float)):
        return Literal(str(v), datatype=XSD.decimal)
    return Literal(str(v))


def _add_concepts(g: Graph, tbox: Graph, curation: Curation):
    for c in curation.concepts.values():
        iri = HCC[c.id]
        if c.is_modality:
            g.add((iri, RDF.type, OWL.Class))
            g.add((iri, RDFS.subClassOf, HCC[c.type]))
        else:
            g.add((iri, RDF.type, HCC[c.type]))
        g.add((iri, RDF.type, SKOS.Concept))
        g.add((iri, RDFS.label, Literal(c.label, lang="en")))
        g.add((iri, SKOS.prefLabel, Literal(c.label, lang="en")))
        for alt in c.alt_labels:
            g.add((iri, SKOS.altLabel, Literal(str(alt), lang="en")))
        if c.definition:
            g.add((iri, SKOS.definition, Literal(c.definition, lang="en")))
        if c.note:
            g.add((iri, SKOS.note, Literal(c.note, lang="en")))
        if c.correction:
            g.add((iri, HCC.correctionNote, Literal(c.correction, lang="en")))
        for other in c.compared_with:
            g.add((iri, HCC.comparedWith, HCC[other]))
        if c.outcome:
            g.add((iri, HCC.outcome, Literal(c.outcome, lang="en")))
        for part in c.combination_of:
            g.add((iri, HCC.combinationOf, HCC[part]))
        for i, cr in enumerate(c.criteria, start=1):
            node = criterion_iri(c.id, i)
            param = parameter_iri(cr.parameter)
            g.add((iri, HCC.hasCriterion, node))
            g.add((node, RDF.type, HCC.Criterion))
            g.add((node, HCC.parameter, param))
            g.add((node, HCC.comparator, Literal(cr.comparator)))
            for v in cr.values:
                g.add((node, HCC.value, _typed_value(v, tbox.value(param, HCC.datatype))))
            if cr.unit:
                g.add((node, HCC.unit, Literal(cr.unit)))
    # TBox concepts (modality classes, diseases) are SKOS concepts too, so one query lists every concept.
    for s in set(tbox.subjects(SKOS.prefLabel, None)):
        g.add((s, RDF.type, SKOS.Concept))


def label_of(iri: URIRef, graphs: list[Graph]) -> str:
    for g in graphs:
        for pred in (SKOS.prefLabel, RDFS.label):
            v = g.value(iri, pred)
            if v is not None:
                return str(v)
    return local_name(iri)


def _add_facts(g: Graph, tbox: Graph, curation: Curation):
    for f in curation.facts:
        s, p = HCC[f.subject], HCC[f.relation]
        o = Literal(f.object, lang="en") if f.object_is_literal else HCC[f.object]
        g.add((s, p, o))
        node = fact_iri(f.subject, f.relation, f.object)
        g.add((node, RDF.type, RDF.Statement))
        g.add((node, RDF.subject, s))
        g.add((node, RDF.predicate, p))
        g.add((node, RDF.object, o))
        statement = f.statement or _statement_from_template(f, tbox, g)
        g.add((node, HCC.statement, Literal(statement, lang="en")))
        if f.note:
            g.add((node, HCC.note, Literal(f.note, lang="en")))
        for i, ev in enumerate(f.evidence, start=1):
            target = URIRef(f"{node}/evidence/{i}")
            quote_sel, pos_sel = URIRef(f"{target}/quote"), URIRef(f"{target}/position")
            g.add((node, PROV.wasDerivedFrom, target))
            g.add((target, RDF.type, OA.SpecificResource))
            g.add((target, OA.hasSource, document_iri(ev.document)))
            g.add((target, OA.hasSelector, quote_sel))
            g.add((target, OA.hasSelector, pos_sel))
            g.add((quote_sel, RDF.type, OA.TextQuoteSelector))
            g.add((quote_sel, OA.exact, Literal(ev.exact)))
            g.add((quote_sel, OA.prefix, Literal(ev.prefix)))
            g.add((quote_sel, OA.suffix, Literal(ev.suffix)))
            g.add((pos_sel, RDF.type, OA.TextPositionSelector))
            g.add((pos_sel, OA.start, Literal(ev.start, datatype=XSD.nonNegativeInteger)))
            g.add((pos_sel, OA.end, Literal(ev.end, datatype=XSD.nonNegativeInteger)))


def _statement_from_template(f, tbox: Graph, g: Graph) -> str:
    template = str(tbox.value(HCC[f.relation], HCC.statementTemplate) or "{s} " + f.relation + " {o}.")
    s_label = label_of(HCC[f.subject], [g, tbox])
    o_label = f.object if f.object_is_literal else label_of(HCC[f.object], [g, tbox])
    text = template.format(s=s_label, o=o_label)
    return text[0].upper() + text[1:]


def _add_passages(g: Graph, corpus: dict[str, Document], tbox: Graph, curation: Curation):
    labels = []
    for c in curation.concepts.values():
        labels += [(str(HCC[c.id]), c.label)] + [(str(HCC[c.id]), a) for a in c.alt_labels]
    for s, o in list(tbox.subject_objects(SKOS.prefLabel)) + list(tbox.subject_objects(SKOS.altLabel)):
        labels.append((str(s), str(o)))
    index = LabelIndex(labels)
    for doc in corpus.values():
        for sent in split_sentences(doc):
            node = passage_iri(doc.id, sent.index)
            g.add((node, RDF.type, HCC.Passage))
            g.add((node, HCC.inDocument, document_iri(doc.id)))
            g.add((node, HCC.sequence, Literal(sent.index, datatype=XSD.nonNegativeInteger)))
            g.add((node, HCC.start, Literal(sent.start, datatype=XSD.nonNegativeInteger)))
            g.add((node, HCC.end, Literal(sent.end, datatype=XSD.nonNegativeInteger)))
            g.add((node, HCC.text, Literal(sent.text)))
            for m in index.mentions(sent.text):
                g.add((node, HCC.mentions, URIRef(m.iri)))


# ------------------------------------------------------------------------------------------ checks
