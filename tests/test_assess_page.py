"""The "Assess a case" page (GET /assess/case) against the real server over the real graph, httpx as client.

What it promises: a form field for every parameter /assess accepts; the same verdicts as POST /assess, each fired
rule with its criterion and the quote it comes from, cited to the source at that quote; bad values answered
next to the form (422), never a 500.
"""
import html
import re
from functools import cache

import httpx

H = "https://w3id.org/hcc-kg/"
CASE = {"child_pugh": "C", "child_pugh_improvable": "false", "tumor_count": "1", "max_tumor_diameter_cm": "3"}


@cache
def client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=60)


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def section(page: str, label: str) -> str:
    """The result section of one modality (from its heading to the next modality's)."""
    parts = re.split(r'<section class="modality-result"', page)
    return next(p for p in parts[1:] if re.search(r"<h3[^>]*>.*?>" + re.escape(label) + r"</a>:", p, re.S))


def test_form_has_a_field_for_every_parameter(live_server):
    c = client(live_server)
    r = c.get("/assess/case")
    assert r.status_code == 200
    params = c.get("/assess/parameters").json()["parameters"]
    for p in params:
        m = re.search(r'<(input|select) id="f-' + p["key"] + r'" name="' + p["key"] + r'"([^>]*)>', r.text)
        assert m, p["key"]
        if p["allowed"]:
            assert m.group(1) == "select"
            for v in p["allowed"]:
                assert f'<option value="{v}"' in r.text
        elif p["datatype"] == "boolean":
            assert m.group(1) == "select"
        else:
            assert m.group(1) == "input" and 'type="number"' in m.group(2), p["key"]
        assert f'<label for="f-{p["key"]}">' in r.text
    assert re.search(r'id="f-cachexia" name="cachexia">\s*<option value="" selected>unknown</option>'
                     r'<option value="true">yes</option><option value="false">no</option>', r.text)
    assert re.search(r'id="f-max_tumor_diameter_cm"[^>]*>\s*<span class="unit">cm</span>', r.text)
    assert 'name="vignette"' in r.text and 'name="m" value="RFA"' in r.text
    assert 'href="/assess/case" aria-current="page">Assess</a>' in r.text


def test_child_pugh_c_contraindicates_rfa_and_tace_with_the_quote(live_server):
    c = client(live_server)
    r = c.get("/assess/case", params=CASE)
    assert r.status_code == 200
    api = c.post("/assess", json={"child_pugh": "C", "child_pugh_improvable": False, "tumor_count": 1,
                                  "max_tumor_diameter_cm": 3}).json()
    verdicts = {e["modality"]["label"]: e["verdict"] for e in api["modalities"]}
    for label, verdict in verdicts.items():  # the page says what the API says, for every modality
        row = re.search(r'<th scope="row"><a href="#m-\d+">' + re.escape(label) + r'</a></th>\s*<td><span class="verdict v-(\w+)"',
                        r.text)
        assert row and row.group(1) == verdict, label
    for label, quote in (("radiofrequency ablation", "liver function classification of Child-Pugh grade C, which "
                                                     "cannot be improved by liver protection treatment"),
                         ("transcatheter arterial chemoembolization",
                          "severe impairment of liver function (Child-Pugh grade C)")):
        part = section(r.text, label)
        assert '<span class="verdict v-contraindicated">contraindicated</span>' in part
        fired = re.search(r'<tr class="o-met e-contraindication">(.*?)</tr>', part, re.S).group(1)
        assert "Child-Pugh grade is C" in text_of(fired)
        assert f"<q>{html.escape(quote, quote=False)}</q>" in fired
        href = html.unescape(re.search(r'<a class="cite-num" href="([^"]+)"', fired).group(1))
        m = re.fullmatch(r"/documents/([\w-]+)\?start=(\d+)&end=(\d+)#q-(\d+)-(\d+)", href)
        assert m and m.group(2, 3) == m.group(4, 5)
        doc = c.get(href.split("#")[0])
        assert doc.status_code == 200 and f'id="q-{m.group(2)}-{m.group(3)}"' in doc.text
    assert "Missing findings that could change this" in r.text  # e.g. surgery: fit for surgery unknown
    assert 'id="sugg-h"' in r.text and "first choice" in r.text  # surgery first for <= 5 cm


def test_vignette_prefills_findings_and_modality_filter_narrows(live_server):
    r = client(live_server).get("/assess/case", params={"vignette": "Child-Pugh C, single 3 cm tumour", "m": ["RFA"]})
    assert r.status_code == 200
    assert re.search(r'<option value="C" selected>', r.text)
    assert re.search(r'id="f-max_tumor_diameter_cm"[^>]*value="3"', r.text)
    assert "Read from the description" in r.text
    assert r.text.count('<section class="modality-result"') == 1
    assert "radiofrequency ablation" in text_of(section(r.text, "radiofrequency ablation"))


def test_bad_values_are_explained_next_to_the_form_not_a_500(live_server):
    c = client(live_server)
    r = c.get("/assess/case", params={"max_tumor_diameter_cm": "abc", "ecog": "9", "cachexia": "maybe",
                                      "child_pugh": "C"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    alert = html.unescape(re.sub(r"<[^>]+>", "", re.search(r'<div class="error" role="alert".*?</div>', r.text,
                                                           re.S).group(0)))
    assert "Maximum tumour diameter: should be a number" in alert
    assert "ECOG performance status (0-4): should be less than or equal to 4" in alert
    assert "Cachexia: should be yes, no or unknown" in alert
    assert re.search(r'id="f-ecog"[^>]*aria-invalid="true" aria-describedby="e-ecog"', r.text, re.S)
    assert re.search(r'id="f-max_tumor_diameter_cm"[^>]*value="abc"', r.text)  # what was typed is kept
    assert 'class="verdicts"' not in r.text
    for params in ({"child_pugh": "C", "m": "NoSuchModality"}, {"vignette": "x" * 5000}):
        r = c.get("/assess/case", params=params)
        assert r.status_code == 422 and 'role="alert"' in r.text, params
    r = c.get("/assess/case", params={"vignette": "nothing clinical here"})
    assert r.status_code == 200 and "No findings given" in r.text
