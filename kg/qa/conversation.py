"""A conversation's last question made whole from the earlier ones, for chat clients (/v1, and any other).

Users ask follow-ups that lean on what came before:
- naming no concept ("and its side effects?"): the concepts of the latest earlier question that names some are
  added to it;
- elliptical, naming a new subject or case but not what is asked: it opens like a follow-up (the lexicon's
  follow_ups: "and for RFA?", "what about a 6 cm tumour?") and holds no cue wording of its own. It then asks the
  previous question again: with the earlier mention of the same kind of concept (a modality for a modality, a
  grade for a grade) replaced by the new one, or else with its findings added when both describe a patient (the
  findings reader takes the later value of a finding given twice).
Anything else is a question of its own and is asked as written.
"""
from ..findings import findings_from_text
from .entities import Link

MAX_CHARS = 2000


def resolve(answerer, user_messages: list[str]) -> str:
    """The question to answer for the last user message, given the earlier user messages (oldest first)."""
    last = user_messages[-1][:MAX_CHARS]
    links = answerer.linker.link(last)
    prev, prev_links = _latest_with_concepts(answerer, user_messages[:-1])
    if prev is None:
        return last
    elliptical = answerer.wording.opens_follow_up(last) and not answerer.classifier.cue_hits(last).any()
    if elliptical:
        again = _substituted(answerer.catalog, prev, prev_links, last, links)
        if again:
            return again
        if findings_from_text(last) and findings_from_text(prev):
            return f"{prev} {last}"[:MAX_CHARS]
    if not links:
        labels = list(dict.fromkeys(answerer.catalog.label(k.iri) for k in prev_links))
        return f"{last} ({', '.join(labels)})"[:MAX_CHARS]
    return last


def _latest_with_concepts(answerer, earlier: list[str]) -> tuple[str | None, list[Link]]:
    for text in reversed(earlier):
        text = text[:MAX_CHARS]
        links = answerer.linker.link(text)
        if links:
            return text, links
    return None, []


def _substituted(catalog, prev: str, prev_links: list[Link], last: str, links: list[Link]) -> str | None:
    """`prev` with each earlier mention replaced by the new mention of the same kind; None when none matches."""
    replacements: dict[tuple[int, int], str] = {}
    for new in links:
        for old in prev_links:
            if (old.start, old.end) not in replacements and old.iri != new.iri and _same_kind(catalog, old, new):
                replacements[(old.start, old.end)] = last[new.start:new.end]
                break
    if not replacements:
        return None
    out, pos = [], 0
    for (start, end), text in sorted(replacements.items()):
        out += [prev[pos:start], text]
        pos = end
    return "".join(out + [prev[pos:]])[:MAX_CHARS]


def _same_kind(catalog, a: Link, b: Link) -> bool:
    """Both treatments (a family counts as one), concepts of a common class, or criteria on a common finding
    ("Child-Pugh C" and "Child-Pugh B")."""
    ca, cb = catalog.concepts.get(a.iri), catalog.concepts.get(b.iri)
    if (a.members or (ca and ca.is_modality)) and (b.members or (cb and cb.is_modality)):
        return True
    if not (ca and cb):
        return False
    return bool(set(ca.types) & set(cb.types) or {c.key for c in ca.criteria} & {c.key for c in cb.criteria})
