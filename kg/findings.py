"""The findings a clinician writes about a patient, read into /assess fields: a parser of what is written.

"71F, Child B, three nodules (1.8, 2.2 and 2.9 cm), WBC 2.6 x10^9/L, plts 85, 3 mm from the right hepatic duct,
not fit for surgery, s/p two ablations": sizes in cm or mm, counts in digits or words, Child-Pugh grade or score,
ECOG, blood counts in any unit spelling, the share of the liver, distances to the ducts, neighbouring organs,
portal vein thrombus and collaterals, resectability and fitness for surgery, earlier ablations. A finding the text
negates ("no ascites") is read as its negative value; one the text does not mention is absent.
"""
import re
from typing import Any


_NUMBERS = {"a": 1, "an": 1, "one": 1, "single": 1, "solitary": 1, "unifocal": 1, "two": 2, "three": 3, "four": 4,
            "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(k for k in _NUMBERS if len(k) > 2) + r")"
_LESION = r"(?:tumou?rs?|lesions?|nodules?|masses|mass|foci|focus|hccs?|hepatocellular carcinomas?|cancer foci)"
_NEGATION = re.compile(r"\b(?:no|not|without|absence of|absent|denies|negative for|free of|nor)\b", re.I)
_CLAUSE_BREAK = re.compile(r"[.;:,()]|\bbut\b|\bwith\b(?! no\b)|\band\b", re.I)


def _negated(text: str, start: int) -> bool:
    """Whether a negation word stands earlier in the clause that the match at `start` belongs to."""
    before = text[max(0, start - 60):start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end():] if breaks else before
    return bool(_NEGATION.search(clause))


_UNDER = re.compile(r"(?:<|less than|fewer than|under|below|smaller than|lower than)\s*$")
_OVER = re.compile(r"(?:>|more than|over|above|greater than|larger than|exceeding|exceeds)\s*$")


def _bounded(low: str, start: int, value: float, integer: bool = False) -> float:
    """A number the text gives as a bound ("less than 3 months", ">5 cm") read as just beyond it, so that the
    criteria, which test the same bounds, decide as the text means."""
    before = low[max(0, start - 15):start]
    if _UNDER.search(before):
        return value - 1 if integer else round(value * 0.99, 3)
    if _OVER.search(before):
        return value + 1 if integer else round(value * 1.01, 3)
    return value


def _number(token: str) -> float:
    token = token.lower()
    return float(_NUMBERS[token]) if token in _NUMBERS else float(token)


# key -> (pattern, value when the text states it, value when the text negates it)
_FLAGS: dict[str, tuple[str, Any, Any]] = {
    "hepatic_vein_thrombus": (r"hepatic vein (?:tumou?r |cancer |carcinoma )?(?:thromb\w*|invasion)", True, False),
    "extrahepatic_metastasis": (r"extra-?hepatic (?:metasta\w*|spread|disease)|distant metasta\w*|"
                                r"(?:lung|pulmonary|bone|brain|adrenal|peritoneal|lymph node) metasta\w*|"
                                r"metasta\w* to the (?:lungs?|bones?|brain)", True, False),
    "adjacent_organ_invasion": (r"invasion of (?:the )?(?:adjacent|neighbou?ring) organs?|(?:adjacent|neighbou?ring) "
                                r"organ invasion|invad\w* (?:the )?(?:adjacent organs?|neighbou?ring organs?|stomach|"
                                r"colon|duodenum|diaphragm|right kidney)", True, False),
    "diffuse_tumor": (r"\bdiffuse\b|infiltrative (?:hcc|tumou?r|hepatocellular)|\b(?:huge|massive|giant) (?:tumou?r|mass|hcc|"
                      r"liver cancer|hepatocellular)", True, False),
    "variceal_bleeding_last_month": (r"variceal (?:bleed\w*|ha?emorrhage)", True, False),
    "uncorrectable_coagulopathy": (r"(?:uncorrectable|refractory|uncorrected) coagul\w*|coagulopathy (?:that )?"
                                   r"(?:cannot|can't|could not) be corrected|coagul\w* dysfunction (?:that )?"
                                   r"(?:cannot|can't|could not) be corrected", True, False),
    "active_infection": (r"active infection|cholangitis|sepsis|septic|liver abscess|biliary (?:tract )?infection|bacterial infection", True, False),
    "organ_failure": (r"(?:multi-?organ|multiple organ|renal|kidney|heart|cardiac|respiratory|hepatic|liver|important "
                      r"organ) failure|\borgan failure", True, False),
    "cachexia": (r"cachexi\w*|cachectic", True, False),
    "impaired_consciousness": (r"impaired consciousness|(?:unable|cannot|can't) (?:to )?cooperate|uncooperative|"
                               r"comatose|\bcoma\b|disoriented", True, False),
    "visceral_surface_exposed": (r"visceral surface", True, False),
    "first_hepatic_hilum": (r"(?:first )?hepatic hilum|hilar (?:region|tumou?r|lesion|location)|porta hepatis|"
                            r"(?:near|at|in) the (?:liver |hepatic )?hilum", True, False),
    "near_gallbladder_gi_diaphragm": (r"(?:near|adjacent to|close to|abutting|next to|beside|touching|contacting) "
                                      r"(?:the )?(?:gall ?bladder|bowel|colon|stomach|duodenum|intestin\w*|"
                                      r"gastrointestinal tract|diaphragm)|subdiaphragmatic|juxta-?diaphragmatic",
                                      True, False),
    "protruding_from_capsule": (r"protrud\w* (?:from|beyond|through) the (?:liver |hepatic )?(?:capsule|surface)|"
                                r"exophytic", True, False),
    "imaging_blind_area": (r"blind (?:area|spot|zone)|not (?:visible|seen|visuali[sz]ed) (?:on|by|with) "
                           r"(?:ultrasound|imaging|us)\b", True, False),
    "deep_or_central_tumor": (r"\b(?:deep(?:-seated| seated|ly located)?|central(?:ly located)?) (?:\w+ )?"
                              r"(?:tumou?r|lesion|nodule|hcc|location)|located (?:deep|centrally)|deep in the liver",
                              True, False),
    "recurrence_after_surgery": (r"recurr\w* (?:\w+ ){0,3}after (?:\w+ ){0,2}(?:surgery|resection|hepatectomy|"
                                 r"operation)|post-?operative recurrence|failed surgery|surgery (?:has )?failed",
                                 True, False),
    "severe_portal_hypertension": (r"severe portal hypertension", True, False),
    "severe_liver_kidney_dysfunction": (r"(?:severe|serious) (?:liver|hepatic|renal|kidney)(?: (?:and|or) "
                                        r"(?:liver|hepatic|renal|kidney))? (?:dysfunction|impairment|insufficiency)",
                                        True, False),
    "tumor_rupture_bleeding": (r"ruptured (?:hcc|tumou?r|liver (?:cancer|tumou?r)|hepatocellular carcinoma)|"
                               r"tumou?r rupture|rupture of the tumou?r", True, False),
    "hypersplenism": (r"hypersplenism", True, False),
}
_SURGERY = r"(?:surgery|resection|hepatectomy|an operation|operation)"
_RESIDUAL = re.compile(r"residual|remaining|viable|still (?:shows|has|there)|(?:arterial|peripheral|rim|marginal|nodular) "
                       r"(?:phase )?enhancement|enhancement at the (?:margin|edge|rim)|incomplete|persist", re.I)
_UNFIT = re.compile(r"(?:refuses|refused|declines|declined|unwilling to (?:have|undergo)|does not want|doesn't want)"
                    r"\s+(?:\w+\s+){0,2}" + _SURGERY + r"|unfit for " + _SURGERY + r"|not fit for " + _SURGERY +
                    r"|(?:cannot|can't|could not|unable to) tolerate (?:\w+ ){0,2}" + _SURGERY +
                    r"|too frail for " + _SURGERY + r"|poor surgical candidate|not a (?:surgical )?candidate for " +
                    _SURGERY, re.I)
_FIT = re.compile(r"fit for " + _SURGERY + r"|can tolerate (?:\w+ ){0,2}" + _SURGERY +
                  r"|willing to (?:have|undergo) " + _SURGERY + r"|good surgical candidate", re.I)
_UNRESECTABLE = re.compile(r"\b(?:unresectable|non-?resectable|inoperable|not (?:surgically )?resectable|"
                           r"cannot be (?:surgically )?(?:resected|removed)|not amenable to (?:surgery|resection))", re.I)
_RESECTABLE = re.compile(r"\b(?:resectable|can be (?:surgically )?resected|amenable to (?:surgery|resection))", re.I)


def findings_from_text(text: str) -> dict:
    """The findings a vignette states, as /assess fields ({} when it states none).

    Reads what is written and nothing more: "Child-Pugh C", "single 3 cm tumour", "three tumours of 2.5 cm",
    "leukocytes 2.5", "tumour occupying 75% of the liver", "portal vein trunk completely occluded without
    collaterals", "no ascites", "refuses surgery"... A finding the text negates ("no extrahepatic metastasis") is
    returned as its negative value; a finding the text does not mention is absent from the result.
    """
    found: dict[str, Any] = {}
    t = " ".join(text.split())
    low = t.lower()

    m = re.search(r"\b(?:child[\s\-–]*(?:pugh|turcotte[\s\-–]*pugh)?|child's|cp)[\s\-–]*(?:class|grade|score|stage)?"
                  r"\s*[:=]?\s*([abc])(?:\s*\(?\d+\)?)?(?![a-z])", low)
    if m:
        found["child_pugh"] = m.group(1).upper()
    else:
        m = re.search(r"child[\s\-–]*pugh\s*(?:score)?\s*(?:of\s*)?[:=]?\s*(\d{1,2})\b", low)
        if m and 5 <= int(m.group(1)) <= 15:
            found["child_pugh"] = "A" if int(m.group(1)) <= 6 else "B" if int(m.group(1)) <= 9 else "C"
    if re.search(r"(?:cannot|can't|could not|not) be improved|despite (?:\w+ ){0,3}(?:liver[- ](?:support|protect\w*)|"
                 r"hepatoprotect\w*)|(?:refractory|not responding) to (?:\w+ ){0,2}(?:liver[- ](?:support|protect\w*)|"
                 r"hepatoprotect\w*)|no improvement (?:with|after|on)", low):
        found["child_pugh_improvable"] = False
    elif re.search(r"(?:can|could) be improved|improv\w* (?:to|back to) child", low):
        found["child_pugh_improvable"] = True

    m = re.search(r"\becog\b(?:\s*(?:ps|performance status|score))?\s*(?:of|is|=|:)?\s*([0-4])\b|"
                  r"performance status (?:of |is )?([0-4])\b", low)
    if m:
        found["ecog"] = int(m.group(1) or m.group(2))

    _tumour_burden(_distances(low, found), found)

    m = re.search(r"(\d+(?:\.\d+)?)\s*%\s*(?:of (?:the )?(?:whole |total )?liver|liver (?:volume|involvement))|"
                  r"(?:occupying|occupies|involving|involves|replacing|replaces|accounts for|taking up|takes up)\s*"
                  r"(?:about |around |approximately |~)?(\d+(?:\.\d+)?)\s*%", low)
    if m:
        found["tumor_liver_share_pct"] = _bounded(low, m.start(), float(m.group(1) or m.group(2)))
    elif m := re.search(r"\b([1-9])\s*/\s*([2-9])\s+of (?:the )?(?:whole |total )?liver", low):
        found["tumor_liver_share_pct"] = _bounded(low, m.start(), round(100 * int(m.group(1)) / int(m.group(2)), 1))
    for key, pattern, scale in (("leukocytes_1e9_per_l", r"(?:leu[ck]ocytes?|white (?:blood )?cells?|wbc)", 1000),
                                ("platelets_1e9_per_l", r"(?:platelets?|plts?|thrombocytes?)", 1000)):
        m = re.search(pattern + r"(?:\s*count)?\s*(?:of|is|was|at|:|=)?\s*(?:<|>|less than|below|under|more than|"
                      r"above|over)?\s*(\d+(?:\.\d+)?)", low)
        if m:
            value = float(m.group(1))
            value = _bounded(low, m.start(1), value / scale if value >= scale else value)  # per µL -> x10^9/L
            found[key] = value

    m = re.search(r"(?:life expectancy|expected survival|estimated survival|survival (?:is )?(?:estimated|expected))"
                  r"\D{0,25}?(\d+(?:\.\d+)?)\s*(months?|weeks?|years?)", low)
    if m:
        factor = {"m": 1, "w": 12 / 52, "y": 12}[m.group(2)[0]]
        found["estimated_survival_months"] = _bounded(low, m.start(1), round(float(m.group(1)) * factor, 2))

    _portal_vein(low, found)
    _arteriovenous_fistula(low, found)
    _ascites(low, found)
    for key, (pattern, yes, no) in _FLAGS.items():
        for m in re.finditer(pattern, low):
            found[key] = no if _negated(low, m.start()) else yes
            break
    if "variceal_bleeding_last_month" in found and found["variceal_bleeding_last_month"]:
        m = re.search(r"variceal (?:bleed\w*|ha?emorrhage)\D{0,30}?(\d+|one|two|three|four|five|six)\s*"
                      r"(days?|weeks?|months?|years?) ago", low)
        if m:
            months = _number(m.group(1)) * {"d": 1 / 30, "w": 12 / 52, "m": 1, "y": 12}[m.group(2)[0]]
            found["variceal_bleeding_last_month"] = months <= 1

    if _UNRESECTABLE.search(low):
        found["surgically_resectable"] = False
    elif (m := _RESECTABLE.search(low)) and not _negated(low, m.start()):
        found["surgically_resectable"] = True
    if _UNFIT.search(low):
        found["fit_for_surgery"] = False
    elif (m := _FIT.search(low)) and not _negated(low, m.start()):
        found["fit_for_surgery"] = True

    m = re.search(r"(" + _NUM + r")\s+(?:previous |prior )?(?:incomplete|unsuccessful|failed) ablations?|"
                  r"(?:residual|remaining) tumou?r after (" + _NUM + r") ablations?|after (" + _NUM +
                  r") ablations?,? (?:there is |there was )?(?:still )?(?:residual|remaining|viable) tumou?r", low)
    if m:
        found["incomplete_ablations"] = int(_number(next(g for g in m.groups() if g)))
    elif (m := re.search(r"(?:s/p|after|following|had|underwent)\s+(" + _NUM + r")\s+(?:rounds?|sessions?|courses?|"
                         r"times?|previous|prior)?\s*(?:of\s+)?(?:rfa|mwa|ablations?|radiofrequency|microwave|"
                         r"pei|ablative)", low)) and _RESIDUAL.search(low[m.end():]):
        found["incomplete_ablations"] = int(_number(m.group(1)))
    m = re.search(r"(?:more than )?(" + _NUM + r") (?:tumou?r )?feeding (?:vessels|arteries)", low)
    if m:
        n = int(_number(m.group(1)))
        found["tumor_feeding_vessels"] = n + 1 if m.group(0).startswith("more than") else n
    return found


def _distances(low: str, found: dict) -> str:
    """The distance to the hepatic duct; returns the text with distances blanked, so they are not read as sizes."""
    pattern = re.compile(r"(\d+(?:\.\d+)?)\s*mm (?:away )?(?:from|to|of) the (?:common |left |right |main |or |and )*"
                         r"(?:hepatic|bile) ducts?")
    m = pattern.search(low)
    if m:
        found["distance_to_hepatic_duct_mm"] = float(m.group(1))
    return pattern.sub(lambda x: " " * len(x.group(0)), low)


def _tumour_burden(low: str, found: dict):
    """Tumour count and largest diameter: '3 tumours of 2.5 cm', 'a single 4-cm HCC', 'nodules of 2 and 3 cm'."""
    sizes = []
    for m in re.finditer(r"((?:\d+(?:\.\d+)?\s*(?:cm|mm)?\s*(?:,|and|or|to|-|–|x|×)\s*)*\d+(?:\.\d+)?)\s*-?\s*(cm|mm)\b",
                         low):
        scale = 0.1 if m.group(2) == "mm" else 1.0
        values = [float(x) * scale for x in re.findall(r"\d+(?:\.\d+)?", m.group(1))]
        if len(values) == 1:
            values = [_bounded(low, m.start(), values[0])]
        sizes += [v for v in values if 0 < v <= 30]
    if sizes:
        found["max_tumor_diameter_cm"] = max(sizes)
    not_a_count = r"(?!\s*-?\s*(?:cm|mm|%|years?|yo\b|y/o|months?|weeks?|days?|x\b|×))"
    for m in re.finditer(r"\b(" + _NUM + r")" + not_a_count + r"\s+(?:[\w.-]+\s+){0,4}?" + _LESION + r"\b", low):
        n = _number(m.group(1))
        if n == int(n) and 1 <= n <= 50:
            found["tumor_count"] = int(_bounded(low, m.start(), n, integer=True))
            return
    if re.search(r"\b(?:single|solitary|unifocal)\b", low):
        found["tumor_count"] = 1
    elif not re.search(r"multi|satellite|several|numerous|tumou?rs\b|lesions\b|nodules\b|masses\b|foci\b", low) and \
            re.search(r"\ban?\s+(?:[\w.-]+\s+){0,3}?(?:tumou?r|lesion|nodule|mass|hcc)\b", low):
        found["tumor_count"] = 1


def _portal_vein(low: str, found: dict):
    """Portal vein tumour thrombus (none, branch, trunk partly or completely occluded) and collaterals."""
    low = re.sub(r"\bpvtt\b|\bpvt\b", "portal vein tumour thrombus", low)
    low = re.sub(r"\bmain portal vein tumour thrombus\b", "tumour thrombus of the main portal vein trunk", low)
    for clause in re.findall(r"[^.;]*portal (?:vein|trunk)[^.;]*", low):
        if re.search(r"\b(?:no|without|free of)\b[^,]{0,25}portal vein|portal vein (?:is |was )?patent|patent portal", clause):
            found["portal_vein_thrombus"] = "none"
        elif re.search(r"main portal vein|portal (?:vein )?trunk|trunk of the portal vein", clause):
            if re.search(r"partial|incomplete|not complete|not fully", clause):
                found["portal_vein_thrombus"] = "trunk_partial"
            elif re.search(r"complete|fully|totally|total|occlu|obstruct|block", clause):
                found["portal_vein_thrombus"] = "trunk_complete"
        elif re.search(r"thromb|embol|invad|invasion", clause) and re.search(
                r"branch|segmental|lobar|(?:right|left) portal vein|first-order|second-order", clause):
            found["portal_vein_thrombus"] = "branch"
        if "portal_vein_thrombus" in found:
            break
    m = re.search(r"collateral", low)
    if m:
        before = low[max(0, m.start() - 30):m.start()]
        found["portal_collaterals"] = not re.search(r"\b(?:no|without|few|little|poor|absent|lack of|lacking)\b",
                                                    before.split(",")[-1])


def _arteriovenous_fistula(low: str, found: dict):
    m = re.search(r"arterio-?venous (?:fistula|shunt)|a-?v fistula|arterioportal (?:fistula|shunt)", low)
    if not m:
        return
    if _negated(low, m.start()):
        found["arteriovenous_fistula"] = "none"
    else:
        before = low[max(0, m.start() - 25):m.start()]
        found["arteriovenous_fistula"] = "severe" if re.search(r"severe|large|marked|massive|high-flow", before) \
            else "present"


def _ascites(low: str, found: dict):
    m = re.search(r"ascites", low)
    if not m:
        return
    before = low[max(0, m.start() - 30):m.start()]
    if _negated(low, m.start()) or re.search(r"mild|slight|small|minimal|controlled", before):
        found["refractory_ascites"] = False
    elif re.search(r"refractory|massive|persistent|tense|large|gross|malignant", before + low[m.end():m.end() + 20]):
        found["refractory_ascites"] = True
