"""Find the concepts a text names, by their labels and synonyms.

Used at build time (which concepts each corpus sentence mentions) and at question time (which entities a
question names). Abbreviations written in capitals (CT, US, TACE) match case-sensitively so that "us" the
pronoun is not ultrasound; other labels match case-insensitively on word boundaries, longest first.
Typos are handled by `fuzzy_mentions` (rapidfuzz), only for labels long enough to be distinctive.
"""
import bisect
import math
import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process


@dataclass(frozen=True)
class Mention:
    iri: str
    label: str  # the label or synonym that matched
    start: int
    end: int
    score: float = 100.0


def _normalise(text: str) -> str:
    return (text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
            .replace("–", "-").replace("—", "-").replace("\u00a0", " "))


def _is_abbreviation(label: str) -> bool:
    letters = [c for c in label if c.isalpha()]
    return len(label) <= 5 and sum(c.isupper() for c in letters) >= max(2, len(letters) - 1)


# Abbreviations users also type in lower case ("tace", "rfa"); two-letter ones ("US", "CT") and those that are
# English words stay case-sensitive.
_LOWERCASE_OK_MIN = 3
_ENGLISH = {"and", "the", "for", "not", "can", "all", "are", "was", "has", "its", "our", "may", "one", "use", "now",
            "add", "dam", "pet", "tai"}


def _word(ch: str) -> bool:
    """What `\\w` matches in a str pattern."""
    return ch.isalnum() or ch == "_"


class _Keys:
    """Labels found at word boundaries, the longest at each start: what one alternation regex of every label,
    longest first, found with a search from each start, without compiling it (its compile time grew with the
    labels: 2.3 s of start-up at 10x the graph)."""

    def __init__(self, keys: list[str]):
        self._keys = set(keys)
        lengths: dict[str, set[int]] = {}
        for k in keys:
            lengths.setdefault(k[0], set()).add(len(k))
        self._lengths = {c: sorted(ls, reverse=True) for c, ls in lengths.items()}

    def matches(self, text: str, seen: str) -> list[tuple[int, int, str]]:
        """(start, end, key) for each start in `text` where a key begins; `seen` is the text as the keys are
        spelled (lower-cased for the case-insensitive labels), index for index."""
        out = []
        n = len(text)
        for start in range(n):
            lengths = self._lengths.get(seen[start])
            if lengths is None or (start and (_word(text[start - 1]) or text[start - 1] == "-")):
                continue
            for length in lengths:
                end = start + length
                if end <= n and (end == n or not _word(text[end])) and seen[start:end] in self._keys:
                    out.append((start, end, seen[start:end]))
                    break
        return out


class LabelIndex:
    """Labels -> concept IRIs, with exact (word-boundary) and fuzzy matching."""

    def __init__(self, labels: list[tuple[str, str]]):
        """labels: (iri, label) pairs; one IRI may have many labels and one label many IRIs."""
        self._by_label: dict[str, set[str]] = {}
        for iri, label in labels:
            label = _normalise(label.strip())
            if len(label) < 2:
                continue
            key = label if _is_abbreviation(label) else label.lower()
            self._by_label.setdefault(key, set()).add(iri)
        keys = sorted(self._by_label, key=len, reverse=True)
        exact_ci = [k for k in keys if not _is_abbreviation(k)]
        exact_cs = [k for k in keys if _is_abbreviation(k)]
        # lower-case spellings of the longer abbreviations point to the same concepts
        for k in exact_cs:
            low = k.lower()
            if len(k) >= _LOWERCASE_OK_MIN and low not in _ENGLISH and low not in self._by_label:
                self._by_label[low] = self._by_label[k]
                exact_ci.append(low)
        exact_ci.sort(key=len, reverse=True)
        self._ci, self._cs = _Keys(exact_ci), _Keys(exact_cs)
        self._fuzzy_keys = [k for k in keys if len(k) >= 6 and not _is_abbreviation(k)]  # longest first
        self._fuzzy_neg_lengths = [-len(k) for k in self._fuzzy_keys]  # ascending, for bisect
        # multi-word labels by word, to find a label from most of its words ("hepatic artery infusion")
        self._by_word: dict[str, set[str]] = {}
        for k in exact_ci:
            words = k.split()
            if len(words) >= 3:
                for w in words:
                    self._by_word.setdefault(w, set()).add(k)

    def iris_for(self, label: str) -> set[str]:
        label = _normalise(label.strip())
        return self._by_label.get(label, set()) | self._by_label.get(label.lower(), set())

    def mentions(self, text: str) -> list[Mention]:
        """Exact mentions, longest label first, non-overlapping."""
        text = _normalise(text)
        found: list[Mention] = []
        taken = [False] * len(text)
        candidates = []
        low = text.lower()
        if len(low) != len(text):  # a character whose lower case is longer ("İ"): keep it, keep the offsets
            low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        for keys, seen in ((self._ci, low), (self._cs, text)):
            candidates += keys.matches(text, seen)
        for start, end, key in sorted(candidates, key=lambda c: (-(c[1] - c[0]), c[0])):
            if any(taken[start:end]) or key not in self._by_label:
                continue
            for i in range(start, end):
                taken[i] = True
            for iri in sorted(self._by_label[key]):
                found.append(Mention(iri, key, start, end))
        return sorted(found, key=lambda m: m.start)

    def fuzzy_mentions(self, text: str, threshold: float = 88.0, skip: list[tuple[int, int]] = ()) -> list[Mention]:
        """Mentions with small typos ("chemoembolisation", "radiofrequncy"): word n-grams against long labels;
        n-grams overlapping a span of `skip` (where an exact mention lies) are not looked up."""
        text = _normalise(text)
        words = list(re.finditer(r"[\w-]+", text))
        out: list[Mention] = self._partial_mentions(text, words)
        spans = []
        for n in (1, 2, 3, 4):
            for i in range(len(words) - n + 1):
                start, end = words[i].start(), words[i + n - 1].end()
                if end - start >= 6 and not any(s < end and start < e for s, e in skip):
                    spans.append((start, end))
        if not spans or not self._fuzzy_keys:
            return out
        best: dict[tuple[int, int], tuple[float, int]] = {}
        for group, lo, hi in self._length_bands(spans, threshold):
            # n-grams of similar lengths against the labels whose lengths can reach the threshold, in one call
            scores = process.cdist([text[a:b].lower() for a, b in group], self._fuzzy_keys[lo:hi], scorer=fuzz.ratio,
                                   score_cutoff=threshold, dtype=np.float64, workers=1)
            for span, row, k in zip(group, scores, scores.argmax(axis=1)):
                best[span] = (float(row[k]), lo + k)
        for start, end in spans:
            score, k = best.get((start, end), (0.0, 0))
            if score >= threshold:
                key = self._fuzzy_keys[k]
                for iri in sorted(self._by_label[key]):
                    out.append(Mention(iri, key, start, end, score))
        return out

    def _length_bands(self, spans: list[tuple[int, int]], threshold: float):
        """Spans grouped by length, each group with the slice of the labels (longest first) long or short enough
        to score `threshold`: fuzz.ratio is 100 (1 - d / (m + n)) with d >= |m - n|, so a label of length n can
        reach it from a span of length m only if |m - n| <= (1 - threshold / 100) (m + n). One call per group,
        not per span: a call's cost is mostly its labels. A label outside the slice scores 0 in the full table
        too, so each span's best label (the first of the highest) is the same."""
        slack = 1 - threshold / 100
        lengths = sorted({b - a for a, b in spans})
        groups, first = [], 0
        for i in range(1, len(lengths) + 1):  # lengths within a factor of 1.5 share a call
            if i == len(lengths) or lengths[i] > 1.5 * lengths[first]:
                groups.append((lengths[first], lengths[i - 1]))
                first = i
        for short, long in groups:
            longest = math.floor(long * (1 + slack) / (1 - slack)) + 1  # a character of margin for rounding
            shortest = math.ceil(short * (1 - slack) / (1 + slack)) - 1
            lo = bisect.bisect_left(self._fuzzy_neg_lengths, -longest)
            hi = bisect.bisect_right(self._fuzzy_neg_lengths, -shortest)
            if lo < hi:
                yield [sp for sp in spans if short <= sp[1] - sp[0] <= long], lo, hi

    def _partial_mentions(self, text: str, words: list) -> list[Mention]:
        """Three or more consecutive words that make up at least 3/4 of a longer label, in its order
        ("hepatic artery infusion" for "hepatic artery infusion chemotherapy")."""
        out = []
        low = [w.group(0).lower() for w in words]
        for n in (4, 3):
            for i in range(len(words) - n + 1):
                chunk = low[i:i + n]
                candidates = set.intersection(*(self._by_word.get(w, set()) for w in chunk))
                for key in sorted(candidates):  # in a set's order, the answer changed from process to process
                    kw = key.split()
                    if len(chunk) / len(kw) >= 0.75 and " ".join(chunk) in key:
                        for iri in sorted(self._by_label[key]):
                            out.append(Mention(iri, key, words[i].start(), words[i + n - 1].end(), 85.0))
        return out
