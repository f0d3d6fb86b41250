"""Words of questions and labels: label variants, content words, stems, the corpus vocabulary.

Shared by entity linking and ranking, so both read a question the same way.
"""
import re

from ..search import VectorIndex


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
          "tumour", "lesion", "patient", "cancer", "chemotherapy"]
GENERIC_WORDS = set(_KINDS) | {k + "s" for k in _KINDS}


def stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())
            if w not in STOPWORDS and (len(w) > 2 or w.isdigit())}


def vocabulary_of(index: VectorIndex) -> set[str]:
    words = set()
    for it in index.items:
        words.update(re.findall(r"[a-z]+", it.text.lower()))
    words.update(STOPWORDS)
    return words


STOPWORDS = set("""a about above after again against all am an and any are as at be because been before being below
between both but by can cannot could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours yourself yourselves tell explain give list name please know want need much
many get got use used using patient patients doctor treatment treatments therapy therapies cancer tumor tumour liver
best good bad okay ok yes difference mean means""".split())
