"""Which concepts and families of treatments a question names: labels, synonyms, lay words and misspellings.

Labels come from the graph (skos:prefLabel, altLabel, hiddenLabel; families are skos:Collections). A generic word
("embolization") links to its family, whose members all become candidates; a class ("ablation") links to the
class, whose own facts answer for its members and whose members' facts can answer for it.
"""
from dataclasses import dataclass

from ..catalog import Catalog
from ..linking import LabelIndex
from .words import label_variants
from .wording import Wording

SINGLE_WORD_TYPES = {"Drug", "EmbolicAgent", "ImagingModality", "ApproachRoute", "AdverseEffect", "Disease"}
GENERIC = {"https://w3id.org/hcc-kg/HCC", "https://w3id.org/hcc-kg/MetastaticLiverCancer"}


@dataclass(frozen=True)
class Link:
    iri: str  # a concept or a family
    label: str
    start: int
    end: int
    members: tuple[str, ...] = ()  # a family's modalities (empty for a concept)


class Linker:
    def __init__(self, catalog: Catalog, wording: Wording):
        self.catalog, self.wording = catalog, wording
        labels = []
        for c in catalog.concepts.values():
            for text in [c.label, *c.alts, *wording.hidden.get(c.iri, [])]:
                labels += [(c.iri, v) for v in label_variants(text) if self._linkable(c, v)]
        for fam in wording.families.values():
            labels += [(fam.iri, v) for v in fam.labels]
        self.index = LabelIndex(labels)
        self.labels = labels

    @staticmethod
    def _linkable(c, label: str) -> bool:
        """One ordinary word ("safe", "fever") names a thing only for concrete kinds: an advantage called "safe"
        would otherwise capture every question about safety."""
        if " " in label.strip() or c.is_modality or label.isupper():
            return True
        return any(t.rsplit("/", 1)[-1] in SINGLE_WORD_TYPES for t in c.types)

    def link(self, text: str) -> list[Link]:
        """Exact mentions first, then fuzzy ones (typos) where no exact one lies; longest span wins."""
        exact = self.index.mentions(text)
        covered = [(m.start, m.end) for m in exact]
        fuzzy = [m for m in self.index.fuzzy_mentions(text, skip=covered)
                 if not any(s < m.end and m.start < e for s, e in covered)]
        kept = []
        for m in sorted(fuzzy, key=lambda m: (-(m.end - m.start), -m.score)):
            if not any(k.start < m.end and m.start < k.end and (k.start, k.end) != (m.start, m.end) for k in kept) \
                    and not any((k.start, k.end) == (m.start, m.end) and k.score > m.score for k in kept):
                kept.append(m)
        out, seen = [], set()
        for m in sorted(exact + kept, key=lambda m: m.start):
            if m.iri in seen:
                continue
            seen.add(m.iri)
            fam = self.wording.families.get(m.iri)
            if fam is None and m.iri not in self.catalog.concepts:
                continue
            out.append(Link(m.iri, m.label, m.start, m.end, tuple(fam.members) if fam else ()))
        return out
