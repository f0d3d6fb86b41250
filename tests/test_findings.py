"""The findings reader: what clinicians write, read into /assess fields (units, spellings, negations)."""
import pytest

from kg.findings import findings_from_text


@pytest.mark.parametrize("text,expected", [
    ("71F multinodular HCC, Child A, WBC 2.6 x10^9/L from hypersplenism, plts 85 x10^9/L",
     {"child_pugh": "A", "leukocytes_1e9_per_l": 2.6, "platelets_1e9_per_l": 85.0, "hypersplenism": True}),
    ("58yo HBV cirrhosis, Child-Pugh B, three nodules (1.8, 2.2 and 2.9 cm), no PVTT, ECOG 1",
     {"child_pugh": "B", "ecog": 1, "max_tumor_diameter_cm": 2.9, "tumor_count": 3, "portal_vein_thrombus": "none"}),
    ("platelets 45,000/uL, leukocytes 2800/mm3, ECOG 3, Child B8",
     {"child_pugh": "B", "ecog": 3, "leukocytes_1e9_per_l": 2.8, "platelets_1e9_per_l": 45.0}),
    ("CP-B, single 25 mm lesion", {"child_pugh": "B", "max_tumor_diameter_cm": 2.5, "tumor_count": 1}),
    ("Child-Pugh score 10", {"child_pugh": "C"}),
    ("massive HCC taking up about 75% of the liver", {"tumor_liver_share_pct": 75.0, "diffuse_tumor": True}),
    ("tumour occupies 2/3 of the liver; PVTT in the right branch",
     {"tumor_liver_share_pct": 66.7, "portal_vein_thrombus": "branch"}),
    ("2 cm lesion sitting only 3mm from the right hepatic duct",
     {"distance_to_hepatic_duct_mm": 3.0, "max_tumor_diameter_cm": 2.0}),
    ("lesion next to the gallbladder, 25 mm, not fit for surgery, unresectable",
     {"max_tumor_diameter_cm": 2.5, "near_gallbladder_gi_diaphragm": True, "surgically_resectable": False,
      "fit_for_surgery": False}),
    ("pt is Child-Pugh C despite liver support meds and had a variceal bleed 2 weeks ago",
     {"child_pugh": "C", "child_pugh_improvable": False, "variceal_bleeding_last_month": True}),
    ("s/p 2 rounds of RFA, 1 month CT still shows arterial phase enhancement at the margin",
     {"incomplete_ablations": 2}),
    ("residual tumour after two ablations", {"incomplete_ablations": 2}),
    ("main portal vein completely occluded by tumour thrombus but collaterals seen on CT",
     {"portal_vein_thrombus": "trunk_complete", "portal_collaterals": True}),
    ("No ascites, no extrahepatic metastasis; WBC 2800/uL; ECOG PS 2",
     {"refractory_ascites": False, "extrahepatic_metastasis": False, "leukocytes_1e9_per_l": 2.8, "ecog": 2}),
])
def test_reads_what_clinicians_write(text, expected):
    assert findings_from_text(text) == expected


@pytest.mark.parametrize("text", ["What are the contraindications of TACE?", "how does PEI work",
                                  "when is the first scan after tace and how often after that?"])
def test_a_question_without_a_patient_has_no_findings(text):
    assert findings_from_text(text) == {}
