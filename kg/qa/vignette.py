"""A patient described in a question, answered as a patient: the findings read from the text, judged by the
graph's criteria (kg/assess.py) for the modality asked about, with the rules that decide and the recommendations
that apply, each cited."""
import re

from ..assess import Assessor
from ..findings import findings_from_text
from ..queries import template
from ..store import bind
from ..vocab import HCC
from .compose import predicate_label

EFFECT_PREDICATES = {"indication": "hasIndication", "contraindication": "hasContraindication",
                     "relative_contraindication": "hasRelativeContraindication"}
VERDICT_WORDS = {"indicated": "indicated", "possible": "possible, with a qualifier",
                 "relatively_contraindicated": "relatively contraindicated", "contraindicated": "contraindicated",
                 "undetermined": "not decided by the findings given"}
MAX_MISSING_SHOWN = 5


def patient_findings(question: str, p_eligibility: float, p_rules: float, ranker) -> dict:
    """The findings the question states, when it describes a patient: three findings or more; two, in a question
    that asks about indications or contraindications (p_rules, with eligibility); one, in a question the classifier
    reads as a patient case (p_eligibility). The two bars are fitted (ranker.patient_p, ranker.patient_elig)."""
    findings = findings_from_text(question)
    n = len(findings)
    if n >= 3 or (n >= 2 and (p_rules >= ranker.patient_p or _PERSON.search(question))) or \
            (n and p_eligibility >= ranker.patient_elig):
        return findings
    return {}


# How a case names its patient: "55M", "71F", "58yo", "62-year-old", "pt", "my mum", "he/she".
_PERSON = re.compile(r"\b\d{1,3}\s?(?:yo|y/o|yrs?|years?[- ]old|-year-old|[mf])\b|\b(?:pt|patient|he|she|his|her|my "
                     r"(?:mum|mom|dad|father|mother|wife|husband|uncle|aunt|grand\w+|brother|sister))\b", re.I)


def _partly_met(rule: dict) -> bool:
    """Some of the rule's criteria are met by the findings given and none fails: the rest are not known."""
    return rule["outcome"] == "unknown" and any(c["outcome"] == "met" for c in rule["criteria"])


def _note(rule: dict) -> str:
    return f" (Note: {rule['note'].rstrip('.')}.)" if rule.get("note") else ""


def rule_fact(rule: dict) -> dict:
    """An assessment rule, in the shape of an /ask fact, with the patient's outcome."""
    pred = EFFECT_PREDICATES[rule["effect"]]
    return {"iri": rule["fact"], "subject": rule["stated_for"],
            "predicate": {"iri": str(HCC[pred]), "label": predicate_label(pred)},
            "object": rule["concept"], "statement": rule["statement"], "evidence": rule["evidence"],
            "criteria": rule["criteria"], "outcome": rule["outcome"],
            **({"note": rule["note"]} if rule.get("note") else {})}


def suggestion_fact(s: dict, fact: dict) -> dict:
    pred = "hasRecommendation" if s["kind"] == "recommendation" else "hasComparison"
    return {"iri": fact["iri"], "subject": fact["subject"],
            "predicate": {"iri": str(HCC[pred]), "label": predicate_label(pred)},
            "object": s["recommendation"], "statement": fact["statement"], "evidence": fact["evidence"],
            "criteria": s["criteria"], "outcome": s["outcome"], **({"note": fact["note"]} if fact.get("note") else {})}


def answer_patient(assessor: Assessor, findings: dict, modalities: list[str]) -> dict | None:
    """The verdicts for the modalities named (those the findings speak for when none is), the rules met and the
    rules the findings fail, and the recommendations that apply."""
    known = {m.iri for m in assessor.modalities}
    named = [m for m in modalities if m in known]
    result = assessor.assess(findings, named or None)
    entries = result["modalities"]
    if not named:
        entries = [e for e in entries if e["verdict"] in ("indicated", "possible")
                   and any(r["outcome"] == "met" for r in e["rules"])]
    if not entries:
        return None
    facts: list[dict] = []
    index: dict[str, int] = {}

    def cite(fact: dict) -> int:
        if fact["iri"] not in index:
            facts.append(fact)
            index[fact["iri"]] = len(facts)
        return index[fact["iri"]]

    lines = ["Findings read from the question: " + ", ".join(f"{k} = {v}" for k, v in result["findings"].items())
             + "."]
    told: dict[tuple, list[str]] = {}  # modalities with the same verdict from the same rules are told once
    for entry in entries:
        decisive = [r for r in entry["rules"] if r["outcome"] == "met" or _partly_met(r)
                    or (r["outcome"] == "not_met" and r["effect"] == "indication")]
        key = (entry["verdict"], tuple(r["fact"] for r in decisive))
        if key in told:
            told[key].append(entry["modality"]["label"])
            continue
        told[key] = []
        name = entry["modality"]["label"]
        line = [f"{name[0].upper()}{name[1:]}: {VERDICT_WORDS[entry['verdict']]}."]
        met = [r for r in decisive if r["outcome"] == "met"]
        decided = {r["effect"] for r in met}  # an effect already decided needs no partial or failed rules of its kind
        partly = [r for r in decisive if r["outcome"] == "unknown" and r["effect"] not in decided]
        unmet = [r for r in decisive if r["outcome"] == "not_met" and r["effect"] not in decided]
        if met:
            line.append("Met: " + " ".join(f"{r['statement']} [{cite(rule_fact(r))}]" + _note(r) for r in met))
        if partly:
            line.append("Met in part, the rest not known: " + " ".join(
                f"{r['statement']} [{cite(rule_fact(r))}] (still to know: "
                f"{', '.join(c['parameter'] for c in r['criteria'] if c['outcome'] == 'unknown')})" for r in partly))
        if unmet:
            line.append("Not met by these findings: " + " ".join(f"{r['statement']} [{cite(rule_fact(r))}]"
                                                                  for r in unmet))
        for rec in entry.get("recommendations", []):
            s = next(s for s in result["suggestions"] if s["recommendation"]["iri"] == rec["iri"])
            line.append(f"Recommendation for this case: {s['facts'][0]['statement']} [{cite(suggestion_fact(s, s['facts'][0]))}]")
        if entry["missing"] and entry["verdict"] != "contraindicated":
            shown = entry["missing"][:MAX_MISSING_SHOWN]
            more = f" and {len(entry['missing']) - len(shown)} more" if len(entry["missing"]) > len(shown) else ""
            line.append(f"Not yet known, and able to change this: {', '.join(shown)}{more}.")
        lines.append(" ".join(line))
    for key, also in told.items():
        if also:
            lines.append(f"(Likewise for {', '.join(also)}.)")
    for s in result["suggestions"]:
        fact = s["facts"][0]
        if s["outcome"] == "applies" and fact["iri"] not in index:
            lines.append(f"Recommendation that applies: {fact['statement']} [{cite(suggestion_fact(s, fact))}]")
    lines.append("This applies the sources' criteria to the findings given; it is not clinical advice.")
    return {"answer": "\n".join(lines), "facts": facts, "assessment": result,
            "sparql": bind(template("facts_by_iri"), fact=[f["iri"] for f in facts])}
