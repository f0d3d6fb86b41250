"""Short forms of an assessment (kg/assess.py): compact JSON for chat and MCP clients, plain English for the CLI.

The full result lists every rule of every modality with its criteria (~400 KB); a chatbot needs the verdicts,
the rules that decided them and their quotes.
"""

# the rule effects that explain each verdict
EXPLAINS = {"contraindicated": {"contraindication"}, "relatively_contraindicated": {"relative_contraindication"},
            "indicated": {"indication"}, "possible": {"indication"}}


def deciding(entry: dict) -> list[dict]:
    """The rules met that gave a modality its verdict (none for `undetermined`)."""
    explains = EXPLAINS.get(entry["verdict"], set())
    return [r for r in entry["rules"] if r["outcome"] == "met" and r["effect"] in explains]


def compact(result: dict) -> dict:
    """Verdicts, deciding rules with their quotes, recommendations that apply, and the findings that could change
    some verdict (GET /assess/parameters describes them): a few KB instead of the full rule listing."""
    def rule(r: dict) -> dict:
        return {"effect": r["effect"], "statement": r["statement"], "note": r["note"], "fact": r["fact"],
                "evidence": r["evidence"]}

    missing = list(dict.fromkeys(p for e in result["modalities"] for p in e["missing"]))
    return {"findings": result["findings"],
            "modalities": [{"modality": e["modality"], "verdict": e["verdict"], "reason": e["reason"],
                            "deciding": [rule(r) for r in deciding(e)]} for e in result["modalities"]],
            "recommendations": [{"recommendation": s["recommendation"], "kind": s["kind"],
                                 "modalities": [m["label"] for m in s["modalities"]],
                                 "statement": s["facts"][0]["statement"], "evidence": s["facts"][0]["evidence"]}
                                for s in result["suggestions"] if s["outcome"] == "applies"],
            "missing": missing}


def describe(entry: dict) -> str:
    """One modality's result as a short English paragraph naming the rules behind the verdict (for the CLI)."""
    name = entry["modality"]["label"]
    text = f"{name[0].upper() + name[1:]}: {entry['verdict'].replace('_', ' ')}. {entry['reason']}"
    for r in deciding(entry):
        text += f" {r['statement']}"
        if r["note"]:
            text += f" (Note: {r['note'].rstrip('.')}.)"
    if entry["missing"]:
        text += " Findings that could change this: " + ", ".join(entry["missing"]) + "."
    return text
