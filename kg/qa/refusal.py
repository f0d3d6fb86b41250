"""When not to answer, on positive evidence only.

Each check looks for a sign that the sources cannot answer: an instruction or query syntax addressed to the
system, text with no readable question, another disease with no word of the liver, a named drug, treatment,
device or body the vocabulary lacks. Numbers, units, typos and unknown words never cause a refusal by
themselves; a quantity the sources do not give is judged later, against the facts chosen (kg/qa/quantities.py).
"""
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .words import STOPWORDS
from .wording import Wording

_INSTRUCTION = re.compile(
    r"\bignore (?:all |any |the |your |previous |prior |above )+(?:instructions?|prompts?|rules?)|\bdisregard\b|"
    r"\bsystem prompt|\byou are (?:now|an? (?:ai|assistant|chatbot|language model))\b|\bpretend (?:to be|you)\b|"
    r"\bact as\b|\bjailbreak|\bforget (?:the|your|all|previous|everything|about the)|"
    r"\b(?:tell|write|make|give|compose) (?:me |us )?(?:a |an |some )?(?:joke|poem|story|song|riddle|limerick|haiku|"
    r"essay|sonnet|rap)s?\b|\bjokes?\b|\breveal (?:your|the) (?:prompt|instructions|system)|\bdeveloper mode|"
    r"\bwrite (?:me )?(?:a |an )?(?:code|program|script)\b|\btranslate (?:this|the following|into)\b|"
    r"<\s*script|\bdrop\s+table\b|\bdelete\s+(?:from|where|data)\b|\binsert\s+(?:data|into)\b|"
    r"\bselect\s+(?:distinct\s+)?[?$*]|\bwhere\s*\{|\bconstruct\s*\{|\bprefix\s+\w*:\s*<|\bselect\s+[\w*?,\s]+\s+from\s+\w+|\bunion\s+select\b|;\s*--|'\s*or\s+'?1'?\s*=\s*'?1|"
    r"\bprint (?:your|the) (?:instructions|prompt)|\bdo anything now\b|\brole-?play\b|"
    r"\boverride\b.*\b(?:rules|instructions|safety)", re.IGNORECASE)
# Words of the disease itself: a treatment name (TACE, RFA) does not make "kidney cancer" a question about the liver.
_LIVER = re.compile(r"\b(?:liver|hepat\w*|hcc|hepatoma|cirrho\w*|child[- ]?pugh)\b", re.IGNORECASE)
# Named-drug suffixes: a word ending so that no concept of the graph carries is a drug the sources never name.
_DRUG_LIKE = re.compile(r"\b[a-z]{3,}(?:nib|mab|platin|rubicin|mycin|taxel|tecan|cillin|azole|statin|prazole|olol|"
                        r"pril|sartan|parin|floxacin|cycline|vir|lizumab|ximab|zumab|umab|citabine|trexate|phamide|"
                        r"zomib|rinox)\b", re.IGNORECASE)
# Head nouns of named things: an unknown word right before one names a treatment, criterion, trial or device the
# sources do not describe ("proton beam therapy", "Milan criteria", "PRECISION V trial").
_HEADS = re.compile(r"\b(therapy|therapies|treatment|radiotherapy|radiation|radiosurgery|radioembolization|drugs?|"
                    r"radioembolisation|criteria|staging|stage|classification|score|trial|study|guidelines?|society|"
                    r"association|protocol|regimen|kit|probe|generator|system|device|needle|beads|catheter|"
                    r"machine|scanner)\b", re.IGNORECASE)
_BRAND = re.compile(r"\b[A-Za-z]*[a-z][A-Z][A-Za-z]+\b|[®™]")
# An unknown word built like a treatment's name ("radiotherapy", "hepatectomy", "radioembolization").
_TREATMENT_LIKE = re.compile(r"\b\w+(?:therapy|therapies|ectomy|otomy|plasty|ablation|embolization|embolisation|"
                             r"oscopy|radiation|vaccine|vaccines)\b", re.IGNORECASE)
# "What anesthesia is used for RFA?": the thing asked for, when the sources never use the word.
_FOCUS = re.compile(r"^\s*(?:what|which)\s+(?:kinds? of |types? of |sort of )?([a-z][a-z-]+)\s+(?:is|are|was|were|do|"
                    r"does|did|can|could|should|would|will|has|have|must|might|may)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Refusal:
    reason: str   # not_a_question | out_of_scope | not_in_sources
    message: str


class Refuser:
    def __init__(self, vocabulary: set[str], corpus_words: set[str], wording: Wording, common_words: frozenset[str]):
        """vocabulary: every word of the corpus, the labels and the lexicon, lower case; corpus_words: the corpus's;
        common_words: ordinary English words (kg/qa/tables.py)."""
        self.vocabulary = vocabulary
        self.common_words = common_words
        self.corpus_words = corpus_words
        self._vocab_list = sorted(vocabulary)
        self.wording = wording

    def known(self, word: str) -> bool:
        w = word.lower()
        if w in self.vocabulary or w.rstrip("s") in self.vocabulary or len(w) <= 3 or w.isdigit():
            return True
        return bool(process.extractOne(w, self._vocab_list, scorer=fuzz.ratio, score_cutoff=85))

    def before_linking(self, q: str) -> Refusal | None:
        if _INSTRUCTION.search(q):
            return Refusal("not_a_question", "This looks like an instruction or a query rather than a question "
                                             "about liver cancer treatment; I only answer questions from the sources.")
        subject = self.wording.out_of_scope_subject(q)
        if subject and not _LIVER.search(q):
            return Refusal("out_of_scope", f"The sources cover liver cancer (hepatocellular carcinoma) only, not "
                                           f"{subject}.")
        return None

    def after_linking(self, q: str, linked_spans: list[tuple[int, int]]) -> Refusal | None:
        words = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"[A-Za-z][A-Za-z0-9'-]*", q)]
        free = [(w, s, e) for w, s, e in words if not any(a <= s < b for a, b in linked_spans)]
        if not linked_spans and words:
            known = sum(1 for w, _, _ in words if w.lower() in self.vocabulary)
            if known / len(words) < 0.5 and not any(self.known(w) for w, _, _ in words if len(w) > 3):
                return Refusal("not_a_question", "I could not read a question in this text.")
        unknown = []
        focus = _FOCUS.match(q)
        for w, s, e in free:
            if self.known(w):
                continue
            if _DRUG_LIKE.fullmatch(w) or _BRAND.fullmatch(w) or _TREATMENT_LIKE.fullmatch(w):
                unknown.append(w)
                continue
            # an ordinary English word ("despite") names nothing; a rare one, or a name, may
            name_like = w.lower() not in self.common_words or (w[0].isupper() and s > 0) or \
                any(ch.isdigit() for ch in w)
            after = q[e:e + 40]
            head = _HEADS.match(after.lstrip(" -")) or re.match(r"^(?:[\s-]+[A-Za-z0-9-]+){1,2}?[\s-]+" +
                                                                 _HEADS.pattern, after)
            if name_like and (head or (focus and focus.start(1) == s)):
                unknown.append(w)
        if unknown:
            return Refusal("not_in_sources", f"They do not mention {', '.join(dict.fromkeys(unknown))}.")
        content = [w.lower() for w, _, _ in words if w.lower() not in STOPWORDS and len(w) > 2]
        if not linked_spans and content and sum(w in self.corpus_words for w in content) / len(content) < 0.5:
            return Refusal("out_of_scope", "This question is outside what the sources cover: the interventional "
                                           "treatment of primary liver cancer.")
        return None
