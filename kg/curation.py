"""Curated assertions: load the YAML files under ontology/facts/ and prove every quote from the corpus.

A fact is (subject, relation, object) plus the verbatim quote(s) that state it. The build finds each quote
in its document and computes offsets; anything it cannot prove (a quote not in the text, a quote found
twice without a disambiguating `context`, a pinned `start` that is off, an unknown concept or relation, an
object of the wrong type) is collected and reported together as one CurationError.
"""
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import fuzz
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from .corpus import Document
from .errors import CurationError
from .vocab import HCC, local_name

COMPARATORS = ("<", "<=", ">", ">=", "=", "in")
QUOTE_CONTEXT = 32  # characters of prefix/suffix kept in each oa:TextQuoteSelector


@dataclass(frozen=True)
class Evidence:
    document: str
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str


@dataclass
class Criterion:
    parameter: str
    comparator: str
    values: list
    unit: str | None = None


@dataclass
class Concept:
    id: str
    type: str
    label: str
    alt_labels: list[str] = field(default_factory=list)
    definition: str | None = None
    note: str | None = None
    correction: str | None = None
    criteria: list[Criterion] = field(default_factory=list)
    compared_with: list[str] = field(default_factory=list)
    outcome: str | None = None
    combination_of: list[str] = field(default_factory=list)
    is_modality: bool = False  # a modality concept becomes an owl:Class under its type
    source_file: str = ""


@dataclass
class Fact:
    subject: str
    relation: str
    object: str  # a concept id, or the literal text for datatype relations
    object_is_literal: bool
    evidence: list[Evidence]
    statement: str | None = None
    note: str | None = None
    source_files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Uncited:
    """A sentence the curators mark as making no clinical statement (a heading, narrative), with why."""
    document: str
    sentence: str  # the sentence's opening words, verbatim
    reason: str


@dataclass
class Curation:
    concepts: dict[str, Concept]
    facts: list[Fact]
    uncited: list[Uncited] = field(default_factory=list)


def locate(doc: Document, quote: str, context: str | None = None, pinned_start: int | None = None) -> Evidence:
    """Find `quote` in `doc` (inside `context` when given) and return its evidence, or raise ValueError."""
    text = doc.text
    if not quote or not quote.strip():
        raise ValueError("empty quote")
    if quote != quote.strip():
        raise ValueError(f"quote {quote!r} has leading or trailing whitespace")
    if context is not None:
        n_ctx = text.count(context)
        if n_ctx != 1:
            raise ValueError(f"context {context[:60]!r}... occurs {n_ctx} times in {doc.id} (must be exactly once)")
        if context.count(quote) != 1:
            raise ValueError(f"quote {quote!r} must occur exactly once inside its context")
        start = text.index(context) + context.index(quote)
    else:
        n = text.count(quote)
        if n == 0:
            raise ValueError(f"quote not found in {doc.id}: {quote!r}{_nearest_hint(text, quote)}")
        if n > 1:
            raise ValueError(f"quote occurs {n} times in {doc.id}: {quote!r}; add a `context` that contains it once")
        start = text.index(quote)
    end = start + len(quote)
    if pinned_start is not None and pinned_start != start:
        raise ValueError(f"pinned start {pinned_start} for {quote!r} in {doc.id} is wrong: "
                         f"the text there is {text[pinned_start:pinned_start + len(quote)]!r}; the quote is at {start}")
    return Evidence(doc.id, start, end, quote,
                    text[max(0, start - QUOTE_CONTEXT):start], text[end:end + QUOTE_CONTEXT])


def _nearest_hint(text: str, quote: str) -> str:
    al = fuzz.partial_ratio_alignment(quote, text)
    if al is None or al.score < 60:
        return ""
    return f" (nearest text, {al.score:.0f}% similar: {text[al.dest_start:al.dest_end]!r})"


def load_curation(facts_dir: Path, tbox: Graph, corpus: dict[str, Document]) -> Curation:
    """Load and verify every *.yaml file in facts_dir against the TBox and the corpus."""
    problems: list[str] = []
    concepts: dict[str, Concept] = {}
    raw_facts: list[tuple[str, dict, str, str]] = []
    uncited: list[Uncited] = []
    files = sorted(Path(facts_dir).glob("*.yaml"))
    if not files:
        raise CurationError([f"no curated files (*.yaml) in {facts_dir}"])

    classes = {local_name(c) for c in tbox.subjects(RDF.type, OWL.Class) if str(c).startswith(str(HCC))}
    modality_classes = _subclasses(tbox, HCC.TreatmentModality)
    tbox_individuals = {local_name(s) for s, cls in tbox.subject_objects(RDF.type)
                        if str(s).startswith(str(HCC)) and str(cls).startswith(str(HCC)) and cls != HCC.FactProperty}
    relations = {local_name(p): p for p in tbox.subjects(RDF.type, HCC.FactProperty)}
    parameters = {str(k): p for p, k in tbox.subject_objects(HCC.key)}

    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            problems.append(f"{path.name}: not valid YAML: {e}")
            continue
        default_doc = data.get("document")
        if default_doc is not None and default_doc not in corpus:
            problems.append(f"{path.name}: document {default_doc!r} is not in the corpus manifest")
            default_doc = None
        for i, c in enumerate(data.get("concepts") or []):
            where = f"{path.name} concept #{i + 1} ({c.get('id', '?')})"
            concept = _parse_concept(c, where, classes, parameters, problems)
            if concept is None:
                continue
            concept.is_modality = concept.type in modality_classes
            concept.source_file = path.name
            if concept.id in concepts or concept.id in classes or concept.id in tbox_individuals:
                other = concepts[concept.id].source_file if concept.id in concepts else "ontology/hcc.ttl"
                problems.append(f"{where}: concept id {concept.id!r} is already defined in {other}")
                continue
            concepts[concept.id] = concept
        for i, f in enumerate(data.get("facts") or []):
            raw_facts.append((f"{path.name} fact #{i + 1}", f, default_doc, path.name))
        for i, u in enumerate(data.get("uncited") or []):
            if not isinstance(u, dict) or not u.get("sentence") or not u.get("reason") or default_doc is None:
                problems.append(f"{path.name} uncited #{i + 1}: needs `sentence` and `reason`, and the file a `document`")
            elif u["sentence"] not in corpus[default_doc].text:
                problems.append(f"{path.name} uncited #{i + 1}: {u['sentence'][:60]!r} is not in {default_doc}")
            else:
                uncited.append(Uncited(default_doc, u["sentence"], u["reason"]))

    known_types = _known_types(tbox, concepts, modality_classes)
    for c in concepts.values():
        for ref in c.compared_with + c.combination_of:
            if ref not in known_types:
                problems.append(f"{c.source_file} concept {c.id}: unknown concept {ref!r} in compared_with/combination_of")

    facts: dict[tuple, Fact] = {}
    for where, f, default_doc, fname in raw_facts:
        fact = _parse_fact(f, where, default_doc, corpus, relations, known_types, tbox, problems)
        if fact is None:
            continue
        key = (fact.subject, fact.relation, fact.object)
        if key in facts:
            merged = facts[key]
            merged.evidence.extend(e for e in fact.evidence if e not in merged.evidence)
            merged.source_files.append(fname)
            merged.statement = merged.statement or fact.statement
            merged.note = merged.note or fact.note
        else:
            fact.source_files.append(fname)
            facts[key] = fact
    if problems:
        raise CurationError(problems)
    return Curation(concepts, list(facts.values()), uncited)


def _subclasses(tbox: Graph, root: URIRef) -> set[str]:
    """The class and all its subclasses, by local name."""
    return {local_name(c) for c in tbox.transitive_subjects(RDFS.subClassOf, root)}


def _known_types(tbox: Graph, concepts: dict[str, Concept], modality_classes: set[str]) -> dict[str, set[str]]:
    """Map every usable concept id to the set of classes it belongs to (including superclasses)."""
    def supers(cls: str) -> set[str]:
        return {local_name(c) for c in tbox.transitive_objects(HCC[cls], RDFS.subClassOf)}

    out: dict[str, set[str]] = {}
    for c in modality_classes:  # modality classes act as instances of TreatmentModality (punning)
        out[c] = {"TreatmentModality", "Concept"} | supers(c)
    for s, cls in tbox.subject_objects(RDF.type):
        name = local_name(s)
        if str(s).startswith(str(HCC)) and str(cls).startswith(str(HCC)) and name not in out:
            out.setdefault(name, set()).update(supers(local_name(cls)))
    for c in concepts.values():
        types = supers(c.type)
        if c.is_modality:
            types |= {"TreatmentModality", "Concept", c.id}
        out[c.id] = types
    return out


def _parse_concept(c: dict, where: str, classes: set[str], parameters: dict, problems: list[str]) -> Concept | None:
    if not isinstance(c, dict) or not c.get("id") or not c.get("type") or not c.get("label"):
        problems.append(f"{where}: a concept needs id, type and label")
        return None
    unknown_keys = set(c) - {"id", "type", "label", "alt", "definition", "note", "correction", "criteria",
                             "compared_with", "outcome", "combination_of"}
    if unknown_keys:
        problems.append(f"{where}: unknown keys {sorted(unknown_keys)}")
    if not str(c["id"]).replace("_", "").isalnum():
        problems.append(f"{where}: id must be letters, digits and underscores")
        return None
    if c["type"] not in classes:
        problems.append(f"{where}: unknown type {c['type']!r} (not a class of ontology/hcc.ttl)")
        return None
    criteria = []
    for j, cr in enumerate(c.get("criteria") or []):
        crit = _parse_criterion(cr, f"{where} criterion #{j + 1}", parameters, problems)
        if crit:
            criteria.append(crit)
    as_list = lambda v: [v] if isinstance(v, str) else list(v or [])  # noqa: E731
    return Concept(id=str(c["id"]), type=c["type"], label=str(c["label"]), alt_labels=as_list(c.get("alt")),
                   definition=c.get("definition"), note=c.get("note"), correction=c.get("correction"),
                   criteria=criteria, compared_with=as_list(c.get("compared_with")), outcome=c.get("outcome"),
                   combination_of=as_list(c.get("combination_of")))


def _parse_criterion(cr, where: str, parameters: dict, problems: list[str]) -> Criterion | None:
    if not isinstance(cr, dict) or set(cr) - {"parameter", "comparator", "value", "unit"} or \
            not {"parameter", "comparator", "value"} <= set(cr):
        problems.append(f"{where}: a criterion is {{parameter, comparator, value, unit?}}, got {cr!r}")
        return None
    if cr["parameter"] not in parameters:
        problems.append(f"{where}: unknown parameter {cr['parameter']!r}; known: {sorted(parameters)}")
        return None
    if cr["comparator"] not in COMPARATORS:
        problems.append(f"{where}: comparator must be one of {COMPARATORS}, got {cr['comparator']!r}")
        return None
    values = cr["value"] if isinstance(cr["value"], list) else [cr["value"]]
    if cr["comparator"] != "in" and len(values) != 1:
        problems.append(f"{where}: only 'in' takes a list of values")
        return None
    return Criterion(cr["parameter"], cr["comparator"], values, cr.get("unit"))


def _parse_fact(f, where, default_doc, corpus, relations, known_types, tbox, problems) -> Fact | None:
    if not isinstance(f, dict):
        problems.append(f"{where}: a fact is a mapping with s, p, o and quote")
        return None
    unknown_keys = set(f) - {"s", "p", "o", "quote", "context", "start", "document", "statement", "note"}
    if unknown_keys:
        problems.append(f"{where}: unknown keys {sorted(unknown_keys)}")
    s, p, o = f.get("s"), f.get("p"), f.get("o")
    if p not in relations:
        problems.append(f"{where}: unknown relation {p!r}; known: {sorted(relations)}")
        return None
    prop = relations[p]
    literal = (prop, RDF.type, OWL.DatatypeProperty) in tbox
    if s not in known_types:
        problems.append(f"{where}: unknown concept {s!r} as subject (define it under `concepts:` or in ontology/hcc.ttl)")
        return None
    if not literal and o not in known_types:
        problems.append(f"{where}: unknown concept {o!r} as object (define it under `concepts:` or in ontology/hcc.ttl)")
        return None
    for end, name, axis in ((s, "subject", RDFS.domain), (o, "object", RDFS.range)):
        if literal and name == "object":
            continue
        expected = tbox.value(prop, axis)
        if expected is not None and local_name(expected) not in known_types[end]:
            problems.append(f"{where}: {name} {end!r} is not a {local_name(expected)} (required by {p})")
            return None
    doc_id = f.get("document", default_doc)
    if doc_id not in corpus:
        problems.append(f"{where}: unknown document {doc_id!r}")
        return None
    quotes = f.get("quote")
    quotes = [quotes] if isinstance(quotes, str) else list(quotes or [])
    if not quotes:
        problems.append(f"{where}: no quote")
        return None
    evidence = []
    for q in quotes:
        ctx, pinned = (f.get("context"), f.get("start")) if len(quotes) == 1 else (None, None)
        try:
            evidence.append(locate(corpus[doc_id], str(q), ctx, pinned))
        except ValueError as e:
            problems.append(f"{where} ({s} {p} {o if not literal else '...'}): {e}")
    if len(evidence) != len(quotes):
        return None
    obj = str(o) if (not literal and o) else str(o or " ".join(quotes))
    return Fact(s, p, obj, literal, evidence, f.get("statement"), f.get("note"))
