"""The source documents: loading them byte for byte and cutting them into sentences with offsets.

Offsets are Python `str` indexes (Unicode code points), the contract's unit.
"""
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quote:
    """A verbatim span of a corpus document: what every piece of evidence cites (text[start:end] == quote)."""
    document: str
    start: int
    end: int
    quote: str


@dataclass(frozen=True)
class Sentence:
    document: str
    index: int
    start: int
    end: int
    text: str


def load_corpus(corpus_dir: Path) -> dict[str, Document]:
    """Read manifest.json and every document it lists; a listed file that is missing is an error."""
    manifest_path = Path(corpus_dir) / "manifest.json"
    if not manifest_path.exists():
        raise BuildError(f"no manifest at {manifest_path}: the corpus directory must hold manifest.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    docs = {}
    for entry in manifest["documents"]:
        path = Path(corpus_dir) / f"{entry['id']}.txt"
        if not path.exists():
            raise BuildError(f"manifest lists {entry['id']!r} but {path} does not exist")
        # newline="" keeps the text exactly as stored, so offsets match what clients slice.
        with open(path, encoding="utf-8", newline="") as fh:
            text = fh.read()
        docs[entry["id"]] = Document(entry["id"], entry["title"], text, tuple(entry.get("topics", ())))
    return docs


# A sentence ends at . ? ! (or a closing quote after one) followed by space and a capital, digit,
# bracket or circled number. Bare list markers ("4.") and abbreviations are not sentence ends.
_BOUNDARY = re.compile(r"[.?!][”\"’]?\s+(?=[A-Z0-9(\u2460-\u2473“\"])")
_LIST_MARKER = re.compile(r"^\s*\(?(?:\d{1,2}|[ivx]{1,4}|[A-Z])\)?$")
_ABBREVIATION = re.compile(r"(?:\be\.g|\bi\.e|\bvs|\bDr|\bNo)$", re.IGNORECASE)


def split_sentences(doc: Document) -> list[Sentence]:
    text, out, start = doc.text, [], 0
    for m in _BOUNDARY.finditer(text):
        end = m.start() + 1
        if m.group(0)[1:2] in ("”", '"', "’"):
            end += 1
        if _LIST_MARKER.match(text[start:m.start()]) or _ABBREVIATION.search(text[start:m.start()]):
            continue
        out.append(_sentence(doc, len(out), start, end))
        start = m.end()
    if start < len(text.rstrip()):
        out.append(_sentence(doc, len(out), start, len(text.rstrip())))
    return out


def _sentence(doc: Document, index: int, start: int, end: int) -> Sentence:
    # trim surrounding whitespace while keeping offsets exact
    while start < end and doc.text[start].isspace():
        start += 1
    while end > start and doc.text[end - 1].isspace():
        end -= 1
    return Sentence(doc.id, index, start, end, doc.text[start:end])
