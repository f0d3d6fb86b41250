"""A question in its parts: "when was PEI developed, what are its pros, and which lesions is it for?" asks three
things, each answered on its own. A parser of the question's punctuation and question words, nothing more."""
import re
from dataclasses import dataclass

from .words import content_words

MAX_PARTS = 4
_QWORD = r"(?:what|what's|whats|how|why|when|which|where|who|is|are|does|do|can|could|should|would|will|any)"
# boundaries: sentence ends, semicolons, "also", ", and <question word>", "and <question word>", ", <question word>"
_PREP = r"(?:(?:by|in|for|at|with|from|of|to|on|after|before|during)\s+)?"
_SPLIT = re.compile(r"[?!]+\s*|(?<=[a-z0-9)])\.\s+|;\s*|\s+also[,:]?\s+|,?\s+and\s+(?=" + _PREP + _QWORD + r"\b)|"
                    r",\s+(?=" + _PREP + _QWORD + r"\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    text: str
    start: int
    end: int


def split_question(question: str) -> list[Part]:
    """The question's parts in order. A piece that asks nothing of its own joins a neighbour: one with no content
    word, or a short yes/no check ("is that normal?"), joins the piece before it; a leading topic with no question
    word ("Percutaneous ethanol injection - when..."), the piece after it."""
    pieces, pos = [], 0
    for m in _SPLIT.finditer(question):
        if _inside_brackets(question, m.start()) or _ABBREVIATION.search(question[:m.end()]):
            continue  # "(e.g. iodine-125)", "RFA vs. MWA": no boundary
        if question[pos:m.start()].strip(" ,.:-"):
            pieces.append([pos, m.start()])
        pos = m.end()
    if question[pos:].strip(" ,.:-"):
        pieces.append([pos, len(question)])
    merged: list[list[int]] = []
    for start, end in pieces:
        text = question[start:end].strip(" ,.:-")
        words = text.split()
        check = len(words) <= 3 and _CHECK.match(text)
        if merged and (not content_words(text) or check):
            merged[-1][1] = end
        elif len(merged) == 1 and _is_topic(question[merged[0][0]:merged[0][1]]):
            merged[0][1] = end
        else:
            merged.append([start, end])
    parts = [Part(_clean(question[s:e]), s, e) for s, e in merged if _clean(question[s:e])]
    if len(parts) > MAX_PARTS:
        last = parts[MAX_PARTS - 1]
        parts = parts[:MAX_PARTS - 1] + [Part(_clean(question[last.start:parts[-1].end]), last.start, parts[-1].end)]
    return parts or [Part(question.strip(), 0, len(question))]


_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|vs|etc|approx|cf|dr|no|fig|esp)\.\s+$", re.IGNORECASE)


def _inside_brackets(text: str, pos: int) -> bool:
    return text.count("(", 0, pos) > text.count(")", 0, pos)


_CHECK = re.compile(r"(?:is|are|was|right|ok|okay|correct|true|normal)\b", re.IGNORECASE)
_HAS_QWORD = re.compile(r"\b" + _QWORD + r"\b", re.IGNORECASE)


def _is_topic(text: str) -> bool:
    return len(text.split()) <= 4 and not _HAS_QWORD.search(text)


def _clean(text: str) -> str:
    return re.sub(r"^(?:also|and|so|then)\b[,:]?\s*", "", text.strip(" ,.:-"), flags=re.IGNORECASE).strip(" ,.:-")
