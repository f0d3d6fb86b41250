"""Quantities a question asks for, and whether a quote gives one: a parser of numbers and units.

"what dose of doxorubicin", "how many watts", "5-year survival %": if the quotes of the facts about what was asked
hold no figure of that kind, the sources do not give it, and the answer says so instead of offering nearby facts.
"""
import re
from dataclasses import dataclass

from .words import content_words

_NUM = r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|a few|several)"
_TIME_UNIT = r"(?:days?|weeks?|months?|years?|hours?|minutes?|h|d|wk|mo)"

# kind -> (what asks for it, what gives it)
KINDS: dict[str, tuple[str, str]] = {
    "dose": (r"\b(?:dose|doses|dosage|dosing)\b|\bhow (?:much|many) (?:mg|milligrams?|ml|mls)\b|\bmg(?:/m2|/kg)?\b",
             r"\d\s*(?:mg|g|ml|mL|mg/m2|mg/kg|U|IU|μg|µg)\b"),
    "power": (r"\bwatts?\b|\bpower (?:setting|level|output)|\bwhat power\b|\b\d+\s*w\b", r"\d\s*(?:W|watts?|kW)\b"),
    "temperature": (r"\btemperatures?\b|\bdegrees?\b|°|℃|\bhow (?:hot|cold)\b", r"\d\s*(?:°|degrees?|℃)"),
    "rate": (r"\b(?:survival|recurrence|response|success|cure|mortality|complication|failure|death|remission) "
             r"(?:rates?|percentages?|probabilit\w+)\b|\bpercent(?:age)?\b|(?<![\d.\s])\s?%|^\s*%|\b\d+[- ]years?\b(?![- ]old)|\bfive[- ]year\b|"
             r"\bhow likely\b|\bwhat (?:are the )?chances?\b|\bodds\b|\bfraction\b|\bproportion\b|\bhow common\b",
             r"\d\s*%|\bpercent|\bmost patients\b|\bmajority\b|\bhalf\b"),
    "radiation": (r"\bGy\b|\bgray\b|\b(?:radio)?isotopes?\b|\bmCi\b|\bMBq\b|\bbecquerel|\bradiation dose|\bactivity of the seeds?",
                  r"\d\s*(?:Gy|mCi|MBq)|iodine-?125|I-?125|palladium|cesium|iridium"),
    "duration": (r"\bhow long\b|\bhow (?:many|much) (?:days|weeks|months|years|hours|minutes|sessions|time)\b|"
                 r"\bduration\b|\bhow soon\b|\bhow often\b|\bhow frequently\b|\bin months\b|\bwaiting (?:list|time)\b",
                 r"\b" + _NUM + r"\s*(?:-|–|to|or)?\s*(?:" + _NUM + r")?\s*" + _TIME_UNIT + r"\b|\b(?:next|same|"
                 r"following|second) day\b|\bevery \w+ (?:days?|weeks?|months?)\b"),
    "year": (r"\bwhen (?:was|were|did)\b.*\b(?:introduced|developed|invented|first|start|started|begin|began|"
             r"come|came|described|reported)\b|\bwhat year\b|\bsince when\b|\bhow old is\b",
             r"\b(?:1[89]\d\d|20[0-2]\d)s?\b"),
    "device_size": (r"\bgauge\b|\bneedle (?:size|diameter|length)|\b(?:catheter|microcatheter) (?:size|diameter)|"
                    r"\bfrench size|\bmicrons?\b|\bμm\b|\bµm\b|\bparticle size\b|\bbead size\b",
                    r"\d+\s*(?:G|gauge|Fr|French|μm|µm|microns?)\b"),
    "cost": (r"\bhow much does\b.*\bcost|\bprice\b|\bcosts?\b.*\b(?:dollars?|yuan|euros?|pounds|\$|£|insurance)|"
             r"\b(?:without|no) insurance\b|\$\s*\d|£\s*\d|\bhow expensive\b",
             r"[$€¥£]\s*\d|\b\d+\s*(?:dollars|yuan|euros|pounds)"),
    "diet": (r"\b(?:eat|eating|diet|dietary|food|foods|vitamins?|supplements?|alcohol intake)\b",
             r"\b(?:diet|food|vitamin|supplement)s?\b"),
    "brand": (r"\bbrands?\b|\bmanufacturers?\b|\bvendors?\b|\bcompan(?:y|ies)\b|\bwhich (?:device|system|machine|"
              r"generator) (?:is best|should)", r"®|™"),
}
_ASKED = {k: re.compile(a, re.IGNORECASE) for k, (a, _) in KINDS.items()}
_GIVEN = {k: re.compile(g, re.IGNORECASE) for k, (_, g) in KINDS.items()}
NAMES = {"dose": "dose", "power": "power setting", "temperature": "temperature", "rate": "rate or percentage",
         "radiation": "isotope or radiation dose", "duration": "duration or interval", "year": "date",
         "device_size": "device or particle size", "cost": "cost", "brand": "brand or device name",
         "diet": "diet or supplement advice"}
# Words of the question that only say a quantity is wanted: the rest says what it is a quantity of.
QUANTITY_WORDS = content_words("rate percent percentage long much many dose dosage temperature degree degrees "
                               "duration time number level amount value often cost price how soon last lasts take "
                               "days weeks months years hours minutes median average typical usual figure when year "
                               "introduced developed invented first start started begin began came described "
                               "reported since watts "
                               "power gauge size micron microns brand chance odds repeat "
                               "repeated done performed needed required imaging fraction proportion share common "
                               "frequent")


# Units a question may name: then only a figure in that unit answers it ("survival in months", "how many minutes").
UNITS = {"minute": r"min(?:ute)?s?", "hour": r"h(?:ours?|rs?)?", "day": r"days?", "week": r"weeks?",
         "month": r"months?", "year": r"years?", "watt": r"W|watts?", "mg": r"mg", "gy": r"Gy", "micron": r"μm|µm|microns?",
         "percent": r"%|percent"}
_UNIT_ASKED = re.compile(r"\b(?:in|how many|what|which|number of|per)\s+(" + "|".join(
    ["minutes?", "hours?", "days?", "weeks?", "months?", "years?", "watts?", "mg", "gy", "microns?"]) + r")\b",
    re.IGNORECASE)


# "median survival", "average stay": a measured value is asked, which a threshold ("survival < 3 months") is not.
_STATISTIC = re.compile(r"\b(?:median|mean|average|typical|usual|overall survival)\b", re.IGNORECASE)
_THRESHOLD = re.compile(r"(?:<|>|≤|≥|less than|more than|fewer than|under|over|within|at least|at most|up to)\s*$",
                        re.IGNORECASE)


@dataclass(frozen=True)
class QuantityAsk:
    kind: str
    topic: frozenset[str]  # content words naming what the quantity is of ("survival", "discharge")
    unit: str | None = None  # a unit the question names
    statistic: bool = False  # a measured value is asked (median, average), not a limit


def quantity_asked(text: str, entity_words: set[str]) -> QuantityAsk | None:
    for kind, pattern in _ASKED.items():
        if pattern.search(text):
            m = _UNIT_ASKED.search(text)
            unit = None
            if m:
                word = m.group(1).lower().rstrip("s")
                unit = next((u for u, pat in UNITS.items() if re.fullmatch(pat, word, re.I)
                             or re.fullmatch(pat, word + "s", re.I)), None)
            return QuantityAsk(kind, frozenset(content_words(text) - QUANTITY_WORDS - entity_words), unit,
                               bool(_STATISTIC.search(text)))
    return None


def quantity_given(kind: str, text: str) -> bool:
    return bool(_GIVEN[kind].search(text))


def answers(ask: QuantityAsk, quote: str) -> bool:
    """The quote states a quantity of the kind asked (in the unit asked), about what was asked."""
    figures = [m for m in _GIVEN[ask.kind].finditer(quote)
               if not (ask.statistic and _THRESHOLD.search(quote[max(0, m.start() - 12):m.start()]))]
    if not figures:
        return False
    if ask.unit and not any(re.search(r"\d\s*(?:-\s*\d+\s*)?(?:" + UNITS[ask.unit] + r")\b", quote[m.start():m.end() + 12],
                                      re.IGNORECASE) for m in figures):
        return False
    return not ask.topic or bool(ask.topic & content_words(quote))
