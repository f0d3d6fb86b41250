"""What the answerer derives from the built graph once, stored in build/ by the build so that start-up only reads
it: the concepts each fact's statement and quotes mention (linking 490 facts with typo-tolerant matching took ~6 s),
and the ordinary English words (wordfreq's Zipf >= COMMON_ZIPF; importing wordfreq took ~1 s). A missing or stale
file (another graph version) is computed again, with the same functions the build uses.
"""
import json
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FILE = "answerer-tables.json"
COMMON_ZIPF = 3.8  # words at least this frequent in English (wordfreq's Zipf scale) are ordinary words, not names


@dataclass
class Tables:
    graph_version: str
    fact_mentions: dict[str, list[str]]  # fact IRI -> concept and family IRIs linked in its statement and quotes
    common_words: frozenset[str]

    @classmethod
    def compute(cls, graph_version: str, catalog, linker) -> "Tables":
        from wordfreq import iter_wordlist, zipf_frequency

        mentions = {f.iri: sorted({link.iri for link in linker.link(fact_text(f))}) for f in catalog.facts.values()}
        common = []
        for word in iter_wordlist("en"):  # most frequent first
            if zipf_frequency(word, "en") < COMMON_ZIPF:
                break
            common.append(word)
        return cls(graph_version, mentions, frozenset(common))

    def save(self, build_dir: Path):
        (build_dir / FILE).write_text(json.dumps({"graph_version": self.graph_version,
                                                  "fact_mentions": self.fact_mentions,
                                                  "common_words": sorted(self.common_words)}, ensure_ascii=False),
                                      encoding="utf-8")

    @classmethod
    def read(cls, build_dir: Path, graph_version: str) -> "Tables | None":
        """The stored tables of this graph version, or None (the answerer then computes them)."""
        path = build_dir / FILE
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            if data["graph_version"] == graph_version:
                return cls(graph_version, data["fact_mentions"], frozenset(data["common_words"]))
        log.warning("%s is missing or from another graph version: computing it (run `hcc-kg build`)", path)
        return None


def fact_text(fact) -> str:
    """What a fact says, as the answerer reads it: the statement, then its quotes."""
    return f"{fact.statement} | {' | '.join(e.quote for e in fact.evidence)}"
