"""The lexicon: what the answerer knows about wording, as data (ontology/lexicon/*.yaml), checked and put in RDF.

relations.yaml  per question kind (a fact relation, or `eligibility`): cue wordings and example questions,
                which train the relation classifier (kg/qa/classifier.py)
questions.yaml  questions as users typed them, each with the kinds of fact its answer holds (labelled from gold
                answers by scripts/label_questions.py); more examples for the same classifier
terms.yaml      extra labels of concepts (skos:altLabel, skos:hiddenLabel), families of treatments named by one
                generic word (skos:Collection), glosses of lay phrases, subjects the sources do not cover

The build refuses a lexicon that names an unknown concept or relation, repeats an example under two kinds, or
gives a family a member that is not a treatment modality; it then adds the lexicon to the ontology graph, where
the answerer reads it back (kg/queries/lexicon.rq) like any other part of the graph.
"""
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SKOS

from .errors import BuildError
from .vocab import HCC

ELIGIBILITY = "eligibility"  # the question kind of a patient case: does a treatment suit them?
LEXICON = HCC["lexicon"]


@dataclass(frozen=True)
class QuestionKind:
    name: str  # a fact relation's local name, or ELIGIBILITY
    cues: tuple[str, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Family:
    id: str
    label: str
    alts: tuple[str, ...]
    members: tuple[str, ...]


@dataclass(frozen=True)
class Gloss:
    lay: tuple[str, ...]
    clinical: str


@dataclass
class Lexicon:
    kinds: dict[str, QuestionKind]
    labels: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # concept id -> {"alt": [...], "hidden": [...]}
    families: list[Family] = field(default_factory=list)
    glosses: list[Gloss] = field(default_factory=list)
    out_of_scope: list[str] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    questions: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (question, kinds it asks for)

    @property
    def example_count(self) -> int:
        return sum(len(k.examples) for k in self.kinds.values()) + len(self.questions)

    def training_examples(self) -> list[tuple[str, str, float]]:
        """(text, kind, weight): an example of one kind weighs 1, a question asking for n kinds 1/n for each."""
        out = [(ex, k.name, 1.0) for k in self.kinds.values() for ex in k.examples]
        out += [(q, kind, 1.0 / len(kinds)) for q, kinds in self.questions for kind in kinds]
        return out


def kind_iri(name: str) -> URIRef:
    return HCC["PatientEligibility"] if name == ELIGIBILITY else HCC[name]


def family_iri(family_id: str) -> URIRef:
    return HCC[f"family/{family_id}"]


def _strings(value, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: expected a list of non-empty strings")
        return ()
    return tuple(v.strip() for v in value)


def load_lexicon(lexicon_dir: Path, concepts: set[str], modalities: set[str], relations: set[str]) -> Lexicon:
    """Read and check the lexicon; `concepts`, `modalities`, `relations` are the ids the graph knows."""
    problems: list[str] = []
    rel_path, terms_path = lexicon_dir / "relations.yaml", lexicon_dir / "terms.yaml"
    raw_kinds = yaml.safe_load(rel_path.read_text(encoding="utf-8")) or {}
    kinds: dict[str, QuestionKind] = {}
    seen: dict[str, str] = {}
    for name, body in raw_kinds.items():
        where = f"{rel_path.name}: {name}"
        if name != ELIGIBILITY and name not in relations:
            problems.append(f"{where}: not a fact relation of hcc.ttl (nor '{ELIGIBILITY}')")
            continue
        body = body or {}
        examples = _strings(body.get("examples"), where + ".examples", problems)
        for ex in examples:
            key = " ".join(ex.lower().split())
            if key in seen and seen[key] != name:
                problems.append(f"{where}: example {ex!r} is also an example of {seen[key]}")
            seen[key] = name
        if not examples:
            problems.append(f"{where}: no examples")
        kinds[name] = QuestionKind(name, _strings(body.get("cues"), where + ".cues", problems), examples)

    terms = yaml.safe_load(terms_path.read_text(encoding="utf-8")) or {}
    labels: dict[str, dict[str, list[str]]] = {}
    for cid, body in (terms.get("concepts") or {}).items():
        if cid not in concepts:
            problems.append(f"{terms_path.name}: concepts.{cid}: unknown concept id")
            continue
        body = body or {}
        labels[cid] = {k: list(_strings(body.get(k), f"{terms_path.name}: concepts.{cid}.{k}", problems))
                       for k in ("alt", "hidden")}
    families = []
    for fid, body in (terms.get("families") or {}).items():
        where = f"{terms_path.name}: families.{fid}"
        members = _strings(body.get("members"), where + ".members", problems)
        for m in members:
            if m not in modalities:
                problems.append(f"{where}: member {m} is not a treatment modality")
        if not body.get("label"):
            problems.append(f"{where}: no label")
        families.append(Family(fid, str(body.get("label", fid)), _strings(body.get("alt"), where + ".alt", problems),
                               members))
    glosses = []
    for i, g in enumerate(terms.get("glosses") or [], start=1):
        lay = _strings(g.get("lay"), f"{terms_path.name}: glosses[{i}].lay", problems)
        if not g.get("clinical"):
            problems.append(f"{terms_path.name}: glosses[{i}]: no clinical wording")
        glosses.append(Gloss(lay, str(g.get("clinical", ""))))
    out_of_scope = list(_strings(terms.get("out_of_scope"), f"{terms_path.name}: out_of_scope", problems))
    follow_ups = list(_strings(terms.get("follow_ups"), f"{terms_path.name}: follow_ups", problems))
    questions = []
    q_path = lexicon_dir / "questions.yaml"
    for i, entry in enumerate((yaml.safe_load(q_path.read_text(encoding="utf-8")) or []) if q_path.exists() else []):
        where = f"{q_path.name}[{i}]"
        asked = _strings(entry.get("kinds"), where + ".kinds", problems)
        for k in asked:
            if k not in kinds:
                problems.append(f"{where}: unknown kind {k}")
        if not str(entry.get("question", "")).strip() or not asked:
            problems.append(f"{where}: needs a question and its kinds")
            continue
        questions.append((str(entry["question"]).strip(), asked))
    if problems:
        raise BuildError("lexicon problems:\n" + "\n".join(f"  - {p}" for p in problems))
    return Lexicon(kinds, labels, families, glosses, out_of_scope, follow_ups, questions)


def lexicon_triples(lex: Lexicon):
    """The lexicon as SKOS and hcc: triples, for the ontology graph."""
    yield LEXICON, RDF.type, HCC.Lexicon
    for kind in lex.kinds.values():
        node = kind_iri(kind.name)
        yield node, RDF.type, HCC.QuestionKind
        for cue in kind.cues:
            yield node, HCC.cue, Literal(cue, lang="en")
        for ex in kind.examples:
            yield node, SKOS.example, Literal(ex, lang="en")
    for question, kinds in lex.questions:
        for k in kinds:
            yield kind_iri(k), SKOS.example, Literal(question, lang="en")
    for cid, by_kind in lex.labels.items():
        for label in by_kind["alt"]:
            yield HCC[cid], SKOS.altLabel, Literal(label, lang="en")
        for label in by_kind["hidden"]:
            yield HCC[cid], SKOS.hiddenLabel, Literal(label, lang="en")
    for fam in lex.families:
        node = family_iri(fam.id)
        yield node, RDF.type, SKOS.Collection
        yield node, SKOS.prefLabel, Literal(fam.label, lang="en")
        for alt in fam.alts:
            yield node, SKOS.altLabel, Literal(alt, lang="en")
        for m in fam.members:
            yield node, SKOS.member, HCC[m]
    for i, g in enumerate(lex.glosses, start=1):
        node = HCC[f"gloss/{i}"]
        yield node, RDF.type, HCC.Gloss
        yield node, HCC.clinicalWording, Literal(g.clinical, lang="en")
        for lay in g.lay:
            yield node, HCC.layWording, Literal(lay, lang="en")
    for term in lex.out_of_scope:
        yield LEXICON, HCC.outOfScopeTerm, Literal(term, lang="en")
    for opener in lex.follow_ups:
        yield LEXICON, HCC.followUpOpener, Literal(opener, lang="en")
