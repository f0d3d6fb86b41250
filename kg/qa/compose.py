"""The answer as text: the chosen facts grouped under headings by subject and kind, each cited by number.

Within a part of the question, groups about what the question names come before facts inherited from a class
above it; a group's facts read in source order. Facts stated for a class carry "(stated for X, which includes Y)".
"""
import re

from ..catalog import Catalog
from ..vocab import local_name
from .candidates import Candidate

KIND_LABELS = {
    "hasIndication": "indications", "hasContraindication": "contraindications",
    "hasRelativeContraindication": "relative contraindications", "hasMechanism": "mechanism",
    "hasAdverseEffect": "adverse effects", "hasLimitation": "limitations", "hasAdvantage": "advantages",
    "usesDrug": "drugs", "usesEmbolicAgent": "embolic agents", "guidedBy": "image guidance", "hasRoute": "routes",
    "hasProcedureStep": "procedure", "hasTechnicalRequirement": "technical requirements",
    "evaluatedBy": "response evaluation", "hasResponseCategory": "response categories", "hasFollowUp": "follow-up",
    "hasComparison": "comparisons", "combinedWith": "combinations", "hasDefinition": "definition",
    "hasSubtype": "types", "hasOutcome": "outcomes", "hasRecommendation": "recommendations",
    "hasFinding": "findings", "hasPrognosticFactor": "factors affecting efficacy", "treats": "diseases treated",
}
ABSTAIN_OPENING = "The sources do not answer this question."
COVERED = ("indications, contraindications, mechanisms, adverse effects, limitations, drugs, embolic agents, guidance, "
           "procedure, follow-up and comparisons of RFA, MWA, PEI, TACE/TAE/TAI, radioactive seeds and related "
           "treatments of liver cancer")


def inherited_by(catalog: Catalog, c: Candidate) -> str | None:
    """The named modality a class's fact answers for, when the fact is stated for a class above it."""
    f, t = c.info.fact, c.target
    if not t or t == f.subject or local_name(f.predicate) == "hasComparison":
        return None
    ct, cs = catalog.concepts.get(t), catalog.concepts.get(f.subject)
    if ct and cs and ct.is_modality and cs.is_modality and f.subject in catalog.ancestors(t):
        return t
    return None


def order_facts(catalog: Catalog, chosen: list[tuple[int, Candidate, float]]) -> list[tuple[tuple, list[Candidate]]]:
    """Groups (part, subject, relation) in reading order, each with its facts in source order."""
    groups: dict[tuple, list[tuple[Candidate, float]]] = {}
    for part, c, s in chosen:
        key = (part, c.info.fact.subject, c.info.relation)
        groups.setdefault(key, []).append((c, s))

    def rank(item):
        (part, subject, _), members = item
        inherited = all(inherited_by(catalog, c) for c, _ in members)
        return part, inherited, -max(s for _, s in members)

    out = []
    for key, members in sorted(groups.items(), key=rank):
        facts = sorted((c for c, _ in members),
                       key=lambda c: (c.info.fact.evidence[0].document, c.info.fact.evidence[0].start))
        out.append((key, facts))
    return out


def compose(catalog: Catalog, groups: list[tuple[tuple, list[Candidate]]]) -> str:
    lines, n = [], 0
    for (_, subject, relation), facts in groups:
        kind = KIND_LABELS.get(relation, relation)
        head = f"{kind[0].upper()}{kind[1:]} of {catalog.label(subject)}"
        below = inherited_by(catalog, facts[0])
        if below:
            head += f" (stated for {catalog.label(subject)}, which includes {catalog.label(below)})"
        lines.append(head + ":")
        for c in facts:
            n += 1
            f = c.info.fact
            line = f"[{n}] {f.statement}"
            if f.note:
                line += f" Note: {f.note}"
            lines.append(line)
    return "\n".join(lines)


def abstention(message: str) -> str:
    return f"{ABSTAIN_OPENING} {message} The graph covers the {COVERED}."


def predicate_label(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
