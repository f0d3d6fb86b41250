"""Words of questions and of the graph's texts: spelling variants, stems, content words, label variants.

Shared by entity linking, ranking and refusal, so all three read a question the same way.
"""
import math
import re
import threading
from collections import Counter
from functools import lru_cache

import snowballstemmer

_LOCAL = threading.local()  # a snowball stemmer keeps state while it works: one per thread
_BRITISH = [(re.compile(p), r) for p, r in [
    (r"isation", "ization"), (r"ise(s|d)?\b", r"ize\1"), (r"ising\b", "izing"), (r"tumour", "tumor"),
    (r"oes", "es"), (r"haem", "hem"), (r"colour", "color"), (r"ae(?=m)", "e")]]


def american(word: str) -> str:
    """British spellings the sources write the American way ('embolisation' -> 'embolization')."""
    for pattern, repl in _BRITISH:
        word = pattern.sub(repl, word)
    return word


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        stemmer = _LOCAL.stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord(american(word))


def content_words(text: str) -> set[str]:
    """Stems of the words that carry meaning (no stop words, no one-letter words)."""
    out = set()
    for tok in tokens(text):
        for w in tok.split("-"):
            if w not in STOPWORDS and (len(w) > 2 or w.isdigit()):
                out.add(stem(w))
    return out


def idf_weights(documents: list[set[str]]) -> dict[str, float]:
    """Inverse document frequency of each stem over the given texts (rare words weigh more)."""
    n = len(documents)
    df = Counter(w for d in documents for w in d)
    return {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}


def label_variants(text: str) -> list[str]:
    """'computed tomography (CT)' is also found as 'computed tomography' and 'CT'."""
    out = [text]
    m = re.match(r"^(.*?)\s*\(([^)]+)\)\s*$", text)
    if m:
        out.append(m.group(1))
        if re.fullmatch(r"[A-Z0-9][A-Za-z0-9-]{1,7}", m.group(2)):
            out.append(m.group(2))
    return [v for v in out if v.strip() and v.strip().lower() not in GENERIC_WORDS]


# Words that name a kind of fact, not a thing: never entity labels on their own.
_KINDS = ["indication", "contraindication", "relative contraindication", "absolute contraindication", "mechanism",
          "mechanism of action", "adverse effect", "side effect", "complication", "limitation", "disadvantage", "risk",
          "advantage", "benefit", "drug", "chemotherapy drug", "chemotherapeutic drug", "anticancer drug",
          "chemotherapeutic agent", "medication", "embolic agent", "imaging", "guidance", "route", "procedure", "step",
          "technique", "follow-up", "response", "outcome", "efficacy", "effect", "comparison", "combination",
          "definition", "recommendation", "finding", "factor", "treatment", "therapy", "modality", "method", "tumor",
          "tumour", "lesion", "patient", "cancer", "chemotherapy", "intervention"]
GENERIC_WORDS = set(_KINDS) | {k + "s" for k in _KINDS}

STOPWORDS = set("""a about above after again against all am an and any are as at be because been before being below
between both but by can cannot could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours yourself yourselves tell explain give list name please know want need much
many get got use used using patient patients pt pts doctor doctors treatment treatments therapy therapies cancer tumor
tumour tumors tumours liver best good bad okay ok yes difference mean means also really actually still even like just
whats what's till thing things way ways kind kinds people someone something anything does""".split())
