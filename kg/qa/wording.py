"""The lexicon as the answerer uses it, read back from the graph (see kg/lexicon.py for where it comes from)."""
import re
from dataclasses import dataclass, field

from ..queries import template
from ..store import GraphStore


@dataclass
class Family:
    iri: str
    labels: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)


@dataclass
class Wording:
    hidden: dict[str, list[str]]           # concept IRI -> misspellings and search variants
    families: dict[str, Family]            # collection IRI -> its labels and member modalities
    glosses: list[tuple[str, str]]         # (lay wording, clinical wording)
    out_of_scope: list[str]
    examples: list[str] = field(default_factory=list)  # the example questions: their words are words users use
    follow_ups: list[str] = field(default_factory=list)  # words opening an elliptical follow-up ("and for ...")

    @classmethod
    def from_store(cls, store: GraphStore) -> "Wording":
        hidden: dict[str, list[str]] = {}
        families: dict[str, Family] = {}
        glosses, out, examples, follow_ups = [], [], [], []
        for r in store.select(template("lexicon")):
            what, node = r["what"], r["node"]
            if what == "hidden":
                hidden.setdefault(node, []).append(r["value"])
            elif what == "family_label":
                families.setdefault(node, Family(node)).labels.append(r["value"])
            elif what == "family_member":
                families.setdefault(node, Family(node)).members.append(r["extra"])
            elif what == "gloss":
                glosses.append((r["value"], r["extra"]))
            elif what == "out_of_scope":
                out.append(r["value"])
            elif what == "example":
                examples.append(r["value"])
            elif what == "follow_up":
                follow_ups.append(r["value"])
        for f in families.values():
            f.members.sort()
        glosses.sort()
        return cls(hidden, families, glosses, sorted(out), sorted(examples), sorted(follow_ups))

    def __post_init__(self):
        by_clinical: dict[str, list[str]] = {}
        for lay, clinical in self.glosses:
            by_clinical.setdefault(clinical, []).append(lay)
        self._glosses = [(re.compile(r"(?<![\w])(?:" + "|".join(re.escape(w.lower()) for w in sorted(lays, key=len,
                          reverse=True)) + r")(?![\w])"), clinical) for clinical, lays in sorted(by_clinical.items())]
        self._out_of_scope = re.compile(r"(?<![\w])(?:" + "|".join(
            re.escape(t.lower()) for t in sorted(self.out_of_scope, key=len, reverse=True)) + r")(?![\w])") \
            if self.out_of_scope else None

    def with_clinical_words(self, text: str) -> str:
        """The text followed by the clinical words for the lay ones it uses ("comes back" -> recurrence)."""
        low = text.lower()
        extra = [clinical for pattern, clinical in self._glosses if pattern.search(low)]
        return text if not extra else f"{text} ({'; '.join(extra)})"

    def opens_follow_up(self, text: str) -> bool:
        """Whether the text opens like an elliptical follow-up ("and for RFA?", "what about ...")."""
        low = " ".join(text.lower().split())
        return any(re.match(re.escape(w.lower()) + r"(?![\w])", low) for w in self.follow_ups)

    def out_of_scope_subject(self, text: str) -> str | None:
        m = self._out_of_scope.search(text.lower()) if self._out_of_scope else None
        return m.group(0) if m else None
