"""What a question asks: the kinds of fact it wants (intents), and the signs that it cannot be answered.

Intents are patterns over the question's words, each mapped to the graph relations that answer it. They are
deliberately about the *kind* of question (contraindications, mechanism, follow-up...), never about a
particular question, so that new phrasings land on the same relations.
"""
import re
from dataclasses import dataclass

# intent -> (patterns, relations that answer it)
INTENTS: dict[str, tuple[list[str], list[str]]] = {
    "relative_contraindication": ([r"\brelative(ly)? contra", r"\bnot (an )?absolute", r"\brelative(ly)?\b.*\bcontra"],
                                  ["hasRelativeContraindication"]),
    "absolute_contraindication": ([r"\babsolute(ly)? contra", r"\babsolute\b.*\bcontra"], ["hasContraindication"]),
    "contraindication": ([r"contra-?\s?indicat", r"\bnot (be )?(suitable|eligible|appropriate|recommended|a candidate)",
                          r"\bshould(n'?t| not) (get|have|receive|undergo|use|be (given|treated|used|done|performed))",
                          r"\b(can ?not|can'?t|cannot|must not|mustn'?t) (have|get|receive|undergo|be (given|treated|used|done|performed))",
                          r"\bexclu(de|sion)", r"\bwho (should|must|can) ?not\b", r"\bwhen (should|must|can)\b.*\bnot\b",
                          r"\bnot allowed", r"\bunsuitable", r"\bineligible", r"\bnot (be )?(used|done|performed|given)",
                          r"\b(avoid|forbid)", r"\bbarred", r"\bruled? out", r"\bnot a (good )?candidate", r"\bwhen not to",
                          r"\bdisqualif", r"\bsafe\b.*\b(for|in|with)\b"],
                         ["hasContraindication", "hasRelativeContraindication"]),
    "indication": ([r"\bindicat", r"\bsuitable", r"\beligib", r"\bcandidates?\b", r"\bqualif",
                    r"\bwho (can|should|could|may|might|will) (get|have|receive|undergo|benefit|be (treated|offered|given))",
                    r"\bwhen (is|are|should|can|would|do)\b.*\b(used|indicated|performed|recommended|considered|applied|done|given|chosen|offered|an option)",
                    r"\b(used|applied|applicable|appropriate|useful|good|right|recommended) (for|in|to treat)\b",
                    r"\bwhich (patients|tumou?rs|cases|people)", r"\bselection criteria", r"\bcriteria\b",
                    r"\bwhat (tumou?rs|patients|cases|lesions) can\b", r"\bcan\b.*\bbe (treated|used)\b", r"\bwho is\b.*\bfor\b"],
                   ["hasIndication"]),
    "mechanism": ([r"\bmechanism", r"\bhow (does|do|did|can|could|would)\b.*\b(work|act|kill|destroy|cause|treat|function)",
                   r"\bprinciple", r"\bmode of action", r"\bwhy (does|do|is|are)\b.*\b(work|effective|combined|used)",
                   r"\bwhat causes\b", r"\bwhat is the cause", r"\bcaused by\b", r"\bwhy\b.*\b(occur|happen|develop)",
                   r"\bhow\b.*\bworks?\b", r"\brationale", r"\bbasis of"],
                  ["hasMechanism"]),
    "adverse_effect": ([r"\badverse", r"\bside[- ]?effects?", r"\bcomplications?\b", r"\btoxicit", r"\bharms?\b",
                        r"\bafter[- ]effects?", r"\bpost-?embolization", r"\breactions?\b", r"\bwhat (can|could) go wrong",
                        r"\bdangers?\b", r"\bsafety\b", r"\bhow safe"],
                       ["hasAdverseEffect"]),
    "limitation": ([r"\blimitations?\b", r"\blimits?\b", r"\bdisadvantages?", r"\bdrawbacks?", r"\bweakness", r"\bshortcomings?",
                    r"\brisks?\b", r"\bproblems?\b", r"\bpitfalls?", r"\bdownsides?", r"\bcons\b", r"\bwhy (might|would|could)\b.*\bfail",
                    r"\bnot (work|effective)", r"\bcannot (reach|treat|achieve)", r"\bdifficult"],
                   ["hasLimitation"]),
    "advantage": ([r"\badvantages?", r"\bbenefits?\b", r"\bpros\b", r"\bstrengths?\b", r"\bmerits?\b", r"\bwhy (choose|use|prefer|pick)",
                   r"\bgood (about|for)\b", r"\bbetter\b", r"\bsuperior"],
                  ["hasAdvantage"]),
    "drug": ([r"\bdrugs?\b", r"\bmedications?\b", r"\bmedicines?\b", r"\bchemotherapeutic", r"\bchemo(therapy)? (agents?|drugs?|regimens?)",
              r"\bagents?\b", r"\bregimens?\b", r"\bwhat (is|are|gets?) (injected|infused|given)", r"\bwhich chemo"],
             ["usesDrug"]),
    "embolic_agent": ([r"\bembolic", r"\bemboli[sz](ation|ing) (agents?|materials?|particles?)", r"\bemboli[sz]ing",
                       r"\bwhat (is|are) used to (block|occlude|embolize)", r"\blipiodol|iodi[sz]ed oil|gelatin|microsphere"],
                      ["usesEmbolicAgent"]),
    "guidance": ([r"\bguid", r"\bimaging (techniques?|modalit|methods?|tools?)", r"\bwhich imaging", r"\bwhat imaging",
                  r"\bimage[- ]guided", r"\bvisuali[sz]", r"\bunder (what|which)"],
                 ["guidedBy"]),
    "route": ([r"\broutes?\b", r"\bapproach(es)?\b", r"\baccess(ed)?\b", r"\bby which (way|path)", r"\bpercutaneous(ly)? or\b"],
              ["hasRoute"]),
    "procedure": ([r"\bhow (is|are|do|does|should|to)\b.*\b(perform|performed|done|carried out|do|conducted|given|delivered|administered|managed|handled|treated)\b",
                   r"\bprocedures?\b", r"\bsteps?\b", r"\btechni(que|cal)", r"\bmethod of\b", r"\bhow .* (done|performed)",
                   r"\bwhat happens (during|in)", r"\bwhat is done", r"\bhow to\b", r"\bmarg[ia]ns?\b", r"\bhow (wide|far|large|big|deep)\b",
                   r"\bmanag(e|ed|ement)\b", r"\bshould\b.*\b(be|first)\b"],
                  ["hasProcedureStep", "hasTechnicalRequirement"]),
    "follow_up": ([r"follow[- ]?up", r"\breview(ed)?\b", r"\bhow often", r"\bintervals?\b", r"\bsurveillance", r"\bafter the first\b",
                   r"\brepeat(ed)?\b", r"\bhow frequent", r"\bschedule", r"\bre-?check", r"\bcheck[- ]?ups?\b", r"\bmonitor(ing)?\b.*\bafter"],
                  ["hasFollowUp"]),
    "response": ([r"\bresponse", r"\bevaluat", r"\bassess(ed|ment)?\b.*\b(efficacy|result|response|effect)", r"\bcomplete (response|ablation|necrosis)",
                  r"\bresidual", r"\bincomplete", r"\b(CR|ICR)\b", r"\bhow do (we|you|i|doctors) know\b", r"\bworked\b",
                  r"\befficacy\b.*\b(evaluat|assess|judg|measur|check)", r"\bjudg"],
                 ["evaluatedBy", "hasResponseCategory"]),
    "comparison": ([r"\bcompar", r"\bversus\b", r"\bvs\.?\b", r"\bdiffer", r"\bbetter\b", r"\bworse\b", r"\bsuperior", r"\binferior",
                    r"\bover\b", r"\bsimilar", r"\bthan\b", r"\bequivalent", r"\bsame (effect|as)", r"\bwhich is (more|less|better)",
                    r"\binstead of\b", r"\brather than\b", r"\bor\b.*\?$", r"\bagainst\b"],
                   ["hasComparison"]),
    "combination": ([r"\bcombin", r"\btogether\b", r"\bplus\b", r"\bdual\b", r"\badd(ing|ed)?\b", r"\bwith\b.*\band\b", r"\balongside",
                     r"\bjointly", r"\bsequential", r"\b(first|then|followed by|before|after)\b.*\b(then|followed|before|after)\b"],
                    ["combinedWith"]),
    "definition": ([r"^\s*(what|who) (is|are|was|were)\b(?!.*\b(used|done|given|for|of the|causes?|effects?|risks?|advantages?|limitations?|indications?|contra)\b)",
                    r"\bdefin", r"\bmeaning\b", r"\bwhat does\b.*\bmean", r"\bexplain\b", r"\btell me (about|what)", r"\bdescribe\b",
                    r"\bwhat('s| is) (a|an|the)\b", r"\bwhat is meant", r"\boverview", r"\brelated to\b", r"\brelationship\b"],
                   ["hasDefinition"]),
    "subtypes": ([r"\btypes?\b", r"\bkinds?\b", r"\bforms?\b", r"\bvarieties", r"\bwhat .*\binclude", r"\bcategor", r"\bmodalities",
                  r"\bmethods\b", r"\boptions\b", r"\bsubtypes?"],
                 ["hasSubtype"]),
    "outcome": ([r"\befficacy", r"\beffective(ness)?", r"\boutcomes?", r"\bsurviv", r"\bresults?\b", r"\bprognos", r"\bwork(s)? well",
                 r"\bcure\b", r"\beffects?\b", r"\brecurrence", r"\bachieve"],
                ["hasOutcome"]),
    "recommendation": ([r"\bshould\b", r"\bprefer", r"\bfirst[- ]choice", r"\brecommend", r"\bbest (option|choice|treatment|approach)",
                        r"\bwhich (treatment|therapy|option)", r"\bwhat (to do|should be done|next)", r"\bchoose", r"\bchoice\b",
                        r"\bfail", r"\babandon", r"\bswitch", r"\binstead"],
                       ["hasRecommendation"]),
    "finding": ([r"\bproportion", r"\bpercentage", r"\bhow many (patients|people)", r"\bsymptoms?\b", r"\bdetect", r"\bhow common",
                 r"\bdiagnos", r"\bprevalen", r"\bincidence", r"\bgoals?\b", r"\baims?\b", r"\bwhy (is|are)\b.*\b(hard|difficult|limited)",
                 r"\bmanifest", r"\bpresent(s|ation)?\b", r"\bsigns\b"],
                ["hasFinding"]),
    "prognostic": ([r"\bfactors?\b", r"\binfluenc", r"\baffect(s|ing)?\b.*\b(efficacy|outcome|result)", r"\bpredict"],
                   ["hasPrognosticFactor"]),
}

_COMPILED = {name: [re.compile(p, re.IGNORECASE) for p in pats] for name, (pats, _) in INTENTS.items()}

# Kinds of quantity a question may ask for, and the text that would answer each one: if no selected fact's
# quote holds such a figure, the sources do not give it.
QUANTITIES: dict[str, tuple[str, str]] = {
    "dose": (r"\b(what|which|how much|recommended|usual|standard|maximum|max)\b.{0,20}\b(dose|dosage)|\bdos(e|age) of\b|\bhow (much|many) (mg|milligrams?|ml)\b|\bmg(/m2)?\b",
             r"\d\s*(mg|g|ml|mL|mg/m2|mg/kg|U|IU)\b"),
    "temperature": (r"\btemperature|\bdegrees?\b|°|\bhow (hot|cold)\b", r"\d\s*(°|degrees?|℃)"),
    "rate": (r"\b(survival|recurrence|response|success|cure|mortality|complication|failure|death|remission) (rate|percentage|probability)\b|\bpercent(age)?\b|%|\b\d+[- ]year\b|\bfive[- ]year\b|\bhow likely\b|\bwhat (are the )?chances?\b|\bodds\b",
             r"\d\s*%|\bpercent"),
    "radiation": (r"\bGy\b|\bgray\b|\bisotopes?\b|\biodine-?125|\bI-?125\b|\bmCi\b|\bMBq\b|\bbecquerel|\bradiation dose",
                  r"\d\s*(Gy|mCi|MBq)|iodine-?125|I-?125|palladium|cesium|iridium"),
    "duration": (r"\bhow long\b|\bhow many (days|weeks|months|years|hours|minutes|sessions)\b|\bduration\b|\bhow soon\b",
                 r"\d\s*(-\s*\d+\s*)?(days?|weeks?|months?|years?|hours?|minutes?)"),
    "cost": (r"\bhow much does\b.*\bcost|\bprice\b|\bcosts? (of|in)\b.*\b(dollars?|yuan|euros?|\$)|\$\s*\d", r"[$€¥]\s*\d|\b\d+\s*(dollars|yuan|euros)"),
}
_QUANTITY_ASKED = {k: re.compile(q, re.IGNORECASE) for k, (q, _) in QUANTITIES.items()}
_QUANTITY_GIVEN = {k: re.compile(a, re.IGNORECASE) for k, (_, a) in QUANTITIES.items()}

_INJECTION = re.compile(
    r"\bignore (all |any |the |your |previous |prior |above )+(instructions?|prompts?|rules?)|\bdisregard\b|\bsystem prompt|"
    r"\byou are (now|an? (ai|assistant|chatbot|language model))\b|\bpretend (to be|you)\b|\bact as\b|\bjailbreak|"
    r"\bforget (your|all|previous|everything)|\breveal (your|the) (prompt|instructions|system)|\bdeveloper mode|"
    r"\bwrite (me )?(a |an )?(poem|story|essay|song|joke|limerick|haiku|code|program|script)\b|\btranslate (this|the following|into)\b|"
    r"<\s*script|\bdrop\s+table\b|\bdelete\s+(from|where|data)\b|\binsert\s+data\b|\bselect\b[^?]*\bwhere\s*\{|"
    r"\bprint (your|the) (instructions|prompt)|\bdo anything now\b|\brole-?play\b|\boverride\b.*\b(rules|instructions|safety)",
    re.IGNORECASE)

_OTHER_DISEASES = re.compile(
    r"\b(lung|breast|prostate|colon|colorectal|rectal|pancrea\w*|stomach|gastric|esophageal|oesophageal|kidney|renal cell|"
    r"thyroid|brain|cervical|ovarian|bladder|skin|bone|blood|head and neck|bile duct|cholangio\w*)\s+(cancer|carcinoma|tumou?rs?|"
    r"metastas[ie]s|neoplasms?)\b|\b(leuka?emia|lymphoma|melanoma|myeloma|glioma|glioblastoma|sarcoma|diabetes|covid|"
    r"influenza|flu|hiv|aids|asthma|alzheimer\w*|parkinson\w*|arthritis|migraine|depression|pneumonia|tuberculosis|"
    r"malaria|stroke|heart attack|myocardial infarction|fibroids?|uterine|pregnan\w*)\b", re.IGNORECASE)
_LIVER = re.compile(r"\b(liver|hepat\w*|HCC|hepatoma)\b", re.IGNORECASE)

# Drug-like words (by the suffixes of drug names) that no concept of the graph carries: a named drug the
# sources never mention.
_DRUG_LIKE = re.compile(r"\b[a-z]{3,}(nib|mab|platin|rubicin|mycin|taxel|tecan|cillin|azole|statin|prazole|olol|pril|"
                        r"sartan|parin|floxacin|cycline|vir|tinib|lizumab|ximab|zumab|umab|fenib|citabine|rafenib|"
                        r"trexate|phamide|zomib)\b", re.IGNORECASE)


@dataclass
class Understanding:
    intents: list[str]
    relations: list[str]
    quantity: str | None


def detect_intents(question: str) -> list[str]:
    found = [name for name, pats in _COMPILED.items() if any(p.search(question) for p in pats)]
    if "absolute_contraindication" in found or "relative_contraindication" in found:
        found = [f for f in found if f != "contraindication"]
    return found


def relations_for(intents: list[str]) -> list[str]:
    rels: list[str] = []
    for name in intents:
        for r in INTENTS[name][1]:
            if r not in rels:
                rels.append(r)
    return rels


def quantity_asked(question: str) -> str | None:
    for kind, pattern in _QUANTITY_ASKED.items():
        if pattern.search(question):
            return kind
    return None


def quantity_given(kind: str, text: str) -> bool:
    return bool(_QUANTITY_GIVEN[kind].search(text))


def is_injection(question: str) -> bool:
    return bool(_INJECTION.search(question))


def other_disease(question: str) -> str | None:
    m = _OTHER_DISEASES.search(question)
    return m.group(0) if m else None


def mentions_liver(question: str) -> bool:
    return bool(_LIVER.search(question))


def unknown_drug_names(question: str, known_labels: set[str]) -> list[str]:
    return [w for w in (m.group(0) for m in _DRUG_LIKE.finditer(question)) if w.lower() not in known_labels]
