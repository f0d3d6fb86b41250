"""What a question asks: the kinds of fact it wants (intents), and the signs that it cannot be answered.

Intents are patterns over the question's words, each mapped to the graph relations that answer it. They are
deliberately about the *kind* of question (contraindications, mechanism, follow-up...), never about a
particular question, so that new phrasings land on the same relations.
"""
import re
from dataclasses import dataclass

# intent -> (strong patterns: the question names the kind of fact; weak patterns: it only suggests it; relations)
INTENTS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "relative_contraindication": (
        [r"\brelative(ly)? contra", r"\bnot (an )?absolute", r"\brelative(ly)?\b.*\bcontra"], [],
        ["hasRelativeContraindication"]),
    "absolute_contraindication": (
        [r"\babsolute(ly)? contra", r"\babsolute\b.*\bcontra"], [], ["hasContraindication"]),
    "contraindication": (
        [r"contra-?\s?indicat", r"\bwho (should|must|can) ?not\b", r"\bwho (shouldn'?t|can'?t|mustn'?t)\b",
         r"\bwhen (should|must|can)\b.*\bnot\b", r"\bwhen not to\b", r"\bnot (be )?(suitable|eligible|appropriate|a candidate)",
         r"\bunsuitable", r"\bineligible", r"\bexclu(de|des|ded|sion)\b", r"\bnot a (good )?candidate", r"\bdisqualif",
         r"\bshould(n'?t| not) (get|have|receive|undergo|be (given|treated|offered))",
         r"\b(can ?not|can'?t|must not|mustn'?t) (have|get|receive|undergo|be (given|treated|offered))\b"],
        [r"\bnot allowed", r"\bruled? out", r"\bbarred", r"\bnot (be )?(used|done|performed|given)\b", r"\bsafe\b.*\b(for|in|with)\b"],
        ["hasContraindication", "hasRelativeContraindication"]),
    "indication": (
        [r"\bindicat(ion|ions|ed)\b", r"\beligib", r"\bcandidates?\b", r"\bselection criteria", r"\bwhich patients\b",
         r"\bwho (can|should|could|may|might|will) (get|have|receive|undergo|benefit|be (treated|offered|given))",
         r"^\s*who (is|are)\b.*\bfor\b", r"\bfor whom\b", r"\bwho (benefits|gets|receives)\b"],
        [r"\bsuitable", r"\bqualif", r"\bcriteria\b", r"\bapplicable", r"\bwhich (tumou?rs|cases|people)\b",
         r"\bwhen (is|are|should|can|would|do)\b.*\b(used|indicated|performed|recommended|applied|chosen|offered|an option)\b",
         r"\b(used|applied|appropriate|useful|recommended) (for|in|to treat)\b", r"\bwhat (tumou?rs|patients|cases|lesions) can\b",
         r"\bcan\b.*\bbe (treated|used)\b"],
        ["hasIndication"]),
    "mechanism": (
        [r"\bmechanism", r"\bprinciple", r"\bmode of action", r"\bhow (does|do|did|can|could|would)\b.*\b(work|act|kill|destroy|function)\b",
         r"\bhow\b.*\bworks?\b", r"\brationale"],
        [r"\bwhat causes\b", r"\bcaused by\b", r"\bwhy (does|do|is|are)\b.*\b(work|effective|combined|used)\b",
         r"\bwhy\b.*\b(occur|happen|develop)", r"\bbasis of", r"\bhow\b.*\bcause"],
        ["hasMechanism"]),
    "adverse_effect": (
        [r"\badverse", r"\bside[- ]?effects?", r"\bcomplications?\b", r"\btoxicit", r"\bpost-?embolization syndrome"],
        [r"\bharms?\b", r"\bafter[- ]effects?", r"\breactions?\b", r"\bwhat (can|could) go wrong", r"\bdangers?\b",
         r"\bhow safe", r"\brisks?\b"],
        ["hasAdverseEffect"]),
    "limitation": (
        [r"\blimitations?\b", r"\bdisadvantages?", r"\bdrawbacks?", r"\bshortcomings?", r"\bweakness(es)?\b", r"\bdownsides?"],
        [r"\blimits?\b", r"\brisks?\b", r"\bproblems?\b", r"\bpitfalls?", r"\bcons\b", r"\bwhy (might|would|could)\b.*\bfail",
         r"\bnot (work|effective)", r"\bcannot (reach|treat|achieve)", r"\bdifficult"],
        ["hasLimitation"]),
    "advantage": (
        [r"\badvantages?", r"\bbenefits?\b", r"\bpros\b", r"\bstrengths?\b", r"\bmerits?\b"],
        [r"\bwhy (choose|use|prefer|pick)", r"\bgood (about|for)\b", r"\bbetter\b", r"\bsuperior"],
        ["hasAdvantage"]),
    "drug": (
        [r"\bdrugs?\b", r"\bmedications?\b", r"\bmedicines?\b", r"\bchemotherapeutic agents?", r"\bchemo(therapy)? (agents?|drugs?)",
         r"\bwhich chemo"],
        [r"\bagents?\b", r"\bregimens?\b", r"\bwhat (is|are|gets?) (injected|infused|given)"],
        ["usesDrug"]),
    "embolic_agent": (
        [r"\bembolic", r"\bemboli[sz](ation|ing) (agents?|materials?|particles?)"],
        [r"\bemboli[sz]ing", r"\bwhat (is|are) used to (block|occlude|embolize)"],
        ["usesEmbolicAgent"]),
    "guidance": (
        [r"\bguid(e|ed|es|ance|ing)\b", r"\bimaging (techniques?|modalit\w*|methods?|tools?)", r"\bwhich imaging", r"\bwhat imaging",
         r"\bimage[- ]guided"],
        [r"\bvisuali[sz]", r"\bunder (what|which)"],
        ["guidedBy"]),
    "route": (
        [r"\broutes?\b", r"\bapproach(es)?\b"], [r"\baccess(ed)?\b", r"\bby which (way|path)", r"\bpercutaneous(ly)? or\b"],
        ["hasRoute"]),
    "procedure": (
        [r"\bhow (is|are|do|does|should|to)\b.*\b(perform|performed|done|carried out|conducted|delivered|administered)\b",
         r"\bprocedures?\b", r"\bsteps?\b", r"\bwhat happens (during|in)\b", r"\bwalk me through", r"\bhow to (do|perform)\b"],
        [], ["hasProcedureStep", "hasTechnicalRequirement"]),
    "technique": (
        [], [r"\btechni(que|cal)", r"\bmethod of\b", r"\bhow to\b", r"\bmarg[ia]ns?\b", r"\bhow (wide|far|large|big|deep|close)\b",
             r"\bmanag(e|ed|ement)\b", r"\bshould\b.*\b(be|first)\b", r"\bprevent", r"\bavoid", r"\brequire", r"\bdistance\b",
             r"\bsafety\b", r"\bhandled?\b", r"\bdeal with\b"],
        ["hasTechnicalRequirement", "hasProcedureStep", "hasRecommendation"]),
    "follow_up": (
        [r"follow[- ]?up", r"\bhow often", r"\bsurveillance", r"\bcheck[- ]?ups?\b", r"\bre-?check", r"\bschedule"],
        [r"\breview(ed)?\b", r"\bintervals?\b", r"\bafter the first\b", r"\brepeat(ed)?\b", r"\bhow frequent",
         r"\bmonitor(ing)?\b.*\bafter"],
        ["hasFollowUp"]),
    "response": (
        [r"\bresponse", r"\b(CR|ICR)\b", r"\bcomplete (ablation|necrosis)", r"\b(efficacy|effect|result)\b.*\bevaluat",
         r"\bevaluat\w*\b.*\b(efficacy|effect|result)"],
        [r"\bevaluat", r"\bfail(ed|ure|s)?\b", r"\bregarded as\b", r"\bassess(ed|ment)?\b.*\b(efficacy|result|response|effect)", r"\bresidual", r"\bincomplete",
         r"\bhow do (we|you|i|doctors) know\b", r"\bworked\b", r"\bjudg"],
        ["evaluatedBy", "hasResponseCategory"]),
    "comparison": (
        [r"\bcompar", r"\bversus\b", r"\bvs\.?\b", r"\bdiffer(ence|ences|ent|s)?\b"],
        [r"\bbetter\b", r"\bworse\b", r"\bsuperior", r"\binferior", r"\bover\b", r"\bsimilar", r"\bthan\b", r"\bequivalent",
         r"\bsame (effect|as)", r"\bwhich is (more|less|better)", r"\binstead of\b", r"\brather than\b", r"\bor\b.*\?$",
         r"\bagainst\b"],
        ["hasComparison"]),
    "combination": (
        [], [r"\bcombin", r"\bdual\b", r"\btogether\b", r"\bplus\b", r"\badd(ing|ed)?\b", r"\balongside", r"\bjointly",
                                      r"\bsequential"],
        ["combinedWith"]),
    "definition": (
        [r"^\s*(what|who) (is|are|was|were)\b(?!\s+the\s+(?:\w+\s+){0,2}(typical|usual|normal|maximum|minimum|max|min|average|"
         r"best|recommended|main|first|standard|optimal|ideal|right|correct|size|length|number|dose|rate|time|cost|"
         r"price|duration|treatments?|options?|choices?|types?|kinds?|ways?|methods?|alternatives?|rates?|chances?|risks?)\b)"
         r"(?!.*\b(used|done|given|causes?|effects?|risks?|advantages?|limitations?|indications?|contra\w*|mechanism|drugs?|agents?|difference)\b)",
         r"\bdefin", r"\bwhat does\b.*\bmean", r"\bwhat is meant", r"\bmeaning of\b"],
        [r"\bexplain\b", r"\btell me (about|what)", r"\bdescribe\b", r"\boverview", r"\brelated to\b", r"\brelationship\b"],
        ["hasDefinition"]),
    "subtypes": (
        [r"\btypes?\b", r"\bkinds?\b", r"\bsubtypes?", r"\bvarieties"],
        [r"\bforms?\b", r"\bwhat .*\binclude", r"\bcategor", r"\bmodalities", r"\bmethods\b", r"\boptions\b"],
        ["hasSubtype"]),
    "outcome": (
        [], [r"\befficacy", r"\beffective(ness)?", r"\boutcomes?", r"\bsurviv", r"\bresults?\b", r"\bprognos", r"\bwork(s)? well",
             r"\bcure\b", r"\beffects?\b", r"\brecurrence", r"\bachieve"],
        ["hasOutcome"]),
    "recommendation": (
        [r"\brecommend", r"\bfirst[- ]choice", r"\bprefer(red|able)?\b"],
        [r"\bshould\b", r"\bbest (option|choice|treatment|approach)", r"\bwhich (treatment|therapy|option)",
         r"\bwhat (to do|should be done|next)", r"\bchoose", r"\bchoice\b", r"\bfail", r"\babandon", r"\bswitch", r"\binstead"],
        ["hasRecommendation"]),
    "finding": (
        [], [r"\bproportion", r"\bpercentage", r"\bhow many (patients|people)", r"\bsymptoms?\b", r"\bdetect", r"\bhow common",
             r"\bdiagnos", r"\bprevalen", r"\bincidence", r"\bgoals?\b", r"\baims?\b", r"\bwhy (is|are)\b.*\b(hard|difficult|limited)",
             r"\bmanifest", r"\bpresent(s|ation)?\b", r"\bsigns\b", r"\bhistory\b", r"\bdeveloped\b"],
        ["hasFinding"]),
    "rationale": (
        [], [r"^\s*why\b", r"\bwhat is the (point|purpose|reason|rationale)\b", r"\bpurpose of\b", r"\breasons? (for|why)\b",
             r"\bwhy (is|are|do|does|would|should)\b"],
        ["hasMechanism", "hasAdvantage", "hasOutcome"]),
    "options": (
        [], [r"\b(treatment|therapy|therapeutic|management) (options?|choices?|strategies)\b",
             r"\bwhat (treatments?|therapies) (are|is|can|could|should)\b", r"\bhow (is|are|can|should)\b.*\b(treated|managed)\b",
             r"\bwhich treatments?\b", r"\bwhat can be done\b"],
        ["treats", "hasIndication", "hasRecommendation"]),
    "prognostic": (
        [r"\bfactors?\b"], [r"\binfluenc", r"\baffect(s|ing)?\b.*\b(efficacy|outcome|result)", r"\bpredict"],
        ["hasPrognosticFactor"]),
}

_STRONG = {name: [re.compile(p, re.IGNORECASE) for p in strong] for name, (strong, _, _) in INTENTS.items()}
_WEAK = {name: [re.compile(p, re.IGNORECASE) for p in weak] for name, (_, weak, _) in INTENTS.items()}

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
    "device_size": (r"\bgauge\b|\bneedle (size|diameter|length)|\b(catheter|microcatheter) (size|diameter)|\bfrench size",
                    r"\d+\s*(G|gauge|Fr|French)\b"),
    "cost": (r"\bhow much does\b.*\bcost|\bprice\b|\bcosts? (of|in)\b.*\b(dollars?|yuan|euros?|\$)|\$\s*\d", r"[$€¥]\s*\d|\b\d+\s*(dollars|yuan|euros)"),
}
_QUANTITY_ASKED = {k: re.compile(q, re.IGNORECASE) for k, (q, _) in QUANTITIES.items()}
_QUANTITY_GIVEN = {k: re.compile(a, re.IGNORECASE) for k, (_, a) in QUANTITIES.items()}

_INJECTION = re.compile(
    r"\bignore (all |any |the |your |previous |prior |above )+(instructions?|prompts?|rules?)|\bdisregard\b|\bsystem prompt|"
    r"\byou are (now|an? (ai|assistant|chatbot|language model))\b|\bpretend (to be|you)\b|\bact as\b|\bjailbreak|"
    r"\bforget (the|your|all|previous|everything|about the)|\b(tell|write|make|give) (me |us )?(a |an |some )?(joke|poem|story|song|riddle|limerick|haiku)s?\b|\bjokes?\b|\breveal (your|the) (prompt|instructions|system)|\bdeveloper mode|"
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
class Intents:
    strong: list[str]  # the question names the kind of fact ("contraindications", "mechanism")
    weak: list[str]    # the question only suggests it ("suitable", "should")

    @property
    def all(self) -> list[str]:
        return self.strong + [w for w in self.weak if w not in self.strong]


def detect_intents(question: str) -> Intents:
    strong = [n for n, pats in _STRONG.items() if any(p.search(question) for p in pats)]
    weak = [n for n, pats in _WEAK.items() if n not in strong and any(p.search(question) for p in pats)]
    if {"absolute_contraindication", "relative_contraindication"} & set(strong):
        strong = [n for n in strong if n != "contraindication"]
    return Intents(strong, weak)


def relations_for(intents: list[str]) -> list[str]:
    rels: list[str] = []
    for name in intents:
        for r in INTENTS[name][2]:
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


_TREATMENT_LIKE = re.compile(r"\b[a-z]{3,}(therapy|therapies|ectomy|tomy|plasty)\b", re.IGNORECASE)
_ISOTOPE_LIKE = re.compile(r"\b[a-z]{1,10}-?\d{2,3}\b", re.IGNORECASE)  # yttrium-90, iodine-125, Y90


def unknown_drug_names(question: str, known_labels: set[str]) -> list[str]:
    """Names of drugs, treatments or isotopes (by their form) that no concept of the graph carries."""
    names = [m.group(0) for m in _DRUG_LIKE.finditer(question)] + \
            [m.group(0) for m in _TREATMENT_LIKE.finditer(question)] + \
            [m.group(0) for m in _ISOTOPE_LIKE.finditer(question) if not m.group(0).lower().startswith(("il", "covid"))]
    return [w for w in names if w.lower() not in known_labels]


_DRUG_CLASSES = re.compile(r"\b(antivirals?|antibiotics?|analgesics?|painkillers?|opioids?|anticoagulants?|antiemetics?|"
                           r"steroids?|corticosteroids?|vitamins?|supplements?|immunosuppressants?|statins?|vaccines?|"
                           r"checkpoint inhibitors?|tyrosine kinase inhibitors?|hormones?|insulin|antacids?|laxatives?|"
                           r"diuretics?|beta[- ]blockers?|nsaids?)\b", re.IGNORECASE)


def unknown_drug_classes(question: str, vocabulary: set[str]) -> list[str]:
    """Kinds of drug the question asks about that the sources never mention (antivirals, painkillers...)."""
    return [m.group(0) for m in _DRUG_CLASSES.finditer(question)
            if not all(w in vocabulary for w in m.group(0).lower().split())]


_PATIENT = re.compile(r"\b(\d+[- ]?(year|yr)s?[- ]old|y/?o|patients?|man|woman|male|female|he|she|his|her|him|my|"
                      r"mother|father|husband|wife|case|vignette|someone|somebody|person)\b", re.IGNORECASE)
_ELIGIBILITY = re.compile(r"\b(can|could|should|may|would)\b.*\b(have|get|receive|undergo|be (treated|given|offered))\b|"
                          r"\beligib|\bcandidate|\bsuitable|\bindicated|\bcontra-?indicated|\bwhat (treatment|therapy|options?)|"
                          r"\bwhich (treatment|therapy|modality)|\bok(ay)? (for|to)\b|\ballowed\b|\?\s*$", re.IGNORECASE)


def describes_patient(question: str) -> bool:
    """A vignette talks about a person ("62-year-old man", "a patient with..."), not about tumours in general."""
    return bool(_PATIENT.search(question))


def asks_eligibility(question: str) -> bool:
    return bool(_ELIGIBILITY.search(question))


# Lay words students type, and the clinical words the sources use: added to the question (never replacing it)
# so that intent patterns, lexical overlap and the embedding see both.
LAY_TERMS = {
    r"\bcomes? back\b|\breturns?\b|\brelapse\w*": "recurrence",
    r"\bspread(s|ing)?\b": "metastasis",
    r"\bside[- ]?effects?\b": "adverse effects",
    r"\bchemo\b": "chemotherapy",
    r"\bshrinks?\b": "shrinkage",
    r"\bcut (it )?out\b|\bremov(e|al) (the|of the)? ?tumou?r\b": "surgical resection",
    r"\bburn(s|ing)?\b": "thermal ablation",
    r"\bfreez(e|es|ing)\b": "cryoablation",
    r"\bscans?\b": "imaging CT MRI",
    r"\bblood thinner\w*|\bbleeding (risk|problems?|disorder)\b": "coagulation",
    r"\bliver failure\b": "liver insufficiency",
    r"\bwater in the (belly|abdomen)\b|\bfluid in the (belly|abdomen)\b": "ascites",
    r"\bstop(ped|ping)?\b|\bpause\w*": "no further intervention",
    r"\bwork(s|ed)? (well|best)\b|\bsuccess\w*": "efficacy",
    r"\bhow long\b.*\blive\b|\blife expectancy\b": "survival",
    r"\bdangerous\b|\brisky\b": "risks complications",
}
_LAY = [(re.compile(k, re.IGNORECASE), v) for k, v in LAY_TERMS.items()]


def with_clinical_terms(question: str) -> str:
    """The question followed by the clinical words for any lay words in it ("come back" -> recurrence)."""
    extra = [v for pattern, v in _LAY if pattern.search(question)]
    return question if not extra else f"{question} ({'; '.join(extra)})"


_FOCUS = re.compile(r"^\s*(?:what|which)\s+(?:kinds? of |types? of |sort of )?([a-z][a-z-]+)\s+"
                    r"(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|must|might|may)\b",
                    re.IGNORECASE)
_QUESTION_WORDS = {"is", "are", "was", "were", "does", "do", "did", "can", "could", "should", "would", "will", "happens",
                   "happened", "causes", "caused", "makes", "made", "about", "if", "when", "the", "a", "an", "of", "to"}


def unknown_focus(question: str, vocabulary: set[str]) -> str | None:
    """'What anesthesia is used for RFA?': the thing asked for is a word the sources never use."""
    m = _FOCUS.match(question)
    if not m:
        return None
    word = m.group(1).lower()
    if word in _QUESTION_WORDS or word in vocabulary or word.rstrip("s") in vocabulary:
        return None
    return word
