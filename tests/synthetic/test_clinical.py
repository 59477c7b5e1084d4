"""Clinical realism: codes, units and plausible values, decades of history, inpatient stays and deaths."""

import itertools
from collections import defaultdict
from datetime import datetime, timedelta

from synthetic import vocab
from tests.synthetic.conftest import Landing, subject_id

# LOINC -> (UCUM unit, lowest plausible, highest plausible)
PLAUSIBLE = {
    "8867-4": ("/min", 35, 220), "9279-1": ("/min", 6, 70), "8480-6": ("mm[Hg]", 60, 230),
    "8462-4": ("mm[Hg]", 30, 140), "29463-7": ("kg", 1.5, 250), "8302-2": ("cm", 40, 210),
    "39156-5": ("kg/m2", 10, 60), "8310-5": ("Cel", 35, 41.5), "59408-5": ("%", 80, 100),
    "2345-7": ("mg/dL", 40, 500), "4548-4": ("%", 3.5, 15), "2160-0": ("mg/dL", 0.2, 8),
    "2951-2": ("mmol/L", 120, 160), "2823-3": ("mmol/L", 2.5, 7), "718-7": ("g/dL", 6, 20),
    "6690-2": ("10*3/uL", 1, 40), "2093-3": ("mg/dL", 80, 400),
}  # fmt: skip


def test_observations_use_loinc_ucum_and_plausible_values(landing: Landing) -> None:
    seen = set()
    for r in landing.resources():
        if r["resourceType"] != "Observation":
            continue
        coding = r["code"]["coding"][0]
        assert coding["system"] == vocab.LOINC
        assert datetime.fromisoformat(r["effectiveDateTime"]).utcoffset() is not None
        values = [r, *r.get("component", [])]
        for v in values:
            code = v["code"]["coding"][0]["code"]
            if code in PLAUSIBLE and "valueQuantity" in v:
                unit, lo, hi = PLAUSIBLE[code]
                q = v["valueQuantity"]
                assert q["system"] == vocab.UCUM and q["unit"] == q["code"] == unit, code
                assert lo <= q["value"] <= hi, (code, q["value"])
                seen.add(code)
        assert r["category"][0]["coding"][0]["code"] in ("vital-signs", "laboratory", "social-history", "survey")
    assert seen == set(PLAUSIBLE)
    kinds = {
        k for r in landing.resources() if r["resourceType"] == "Observation" for k in r if k.startswith("value")
    }
    assert {"valueQuantity", "valueCodeableConcept", "valueString"} <= kinds


def test_histories_span_decades(landing: Landing) -> None:
    spans = []
    for resources in landing.by_patient().values():
        starts = [r["period"]["start"] for r in resources if r["resourceType"] == "Encounter"]
        if starts:
            spans.append(int(max(starts)[:4]) - int(min(starts)[:4]))
    spans.sort()
    assert spans[len(spans) // 2] >= 20
    births = sorted(p["birth_date"] for p in landing.patients.values())
    assert births[0] >= "1920" and births[-1] < "2016"


def test_inpatient_stays_last_days_and_some_are_readmissions(landing: Landing) -> None:
    stays = defaultdict(list)
    classes = set()
    for r in landing.resources():
        if r["resourceType"] == "Encounter":
            classes.add(r["class"]["code"])
            start, end = (datetime.fromisoformat(r["period"][k]) for k in ("start", "end"))
            assert start <= end
            if r["class"]["code"] == "IMP":
                stays[subject_id(r)].append((start, end))
    assert classes == {"AMB", "EMER", "IMP"}
    lengths = [(e - s).days for ss in stays.values() for s, e in ss]
    assert max(lengths) >= 4
    readmissions = 0
    for ss in stays.values():
        ss.sort()
        readmissions += sum(0 < (b[0] - a[1]).days <= 30 for a, b in itertools.pairwise(ss))
    assert readmissions > 0


def test_the_dead_have_no_visits_after_death(landing: Landing) -> None:
    by_patient = landing.by_patient()
    dead = [p for p in landing.patients.values() if p["deceased"]]
    assert dead
    for p in dead:
        died = datetime.fromisoformat(p["deceased"])
        patient = next(r for r in by_patient[p["id"]] if r["resourceType"] == "Patient")
        assert patient["deceasedDateTime"] == p["deceased"]
        for r in by_patient[p["id"]]:
            if r["resourceType"] == "Encounter":
                assert datetime.fromisoformat(r["period"]["end"]) <= died + timedelta(seconds=1)


def test_chronic_diseases_drive_their_labs_and_drugs(landing: Landing) -> None:
    diabetics = with_a1c = with_metformin_or_insulin = 0
    for resources in landing.by_patient().values():
        codes = {c["code"] for r in resources if r["resourceType"] == "Condition" for c in r["code"]["coding"]}
        if "44054006" not in codes:
            continue
        diabetics += 1
        assert "E11.9" in codes  # SNOMED and ICD-10-CM side by side
        loinc = {r["code"]["coding"][0]["code"] for r in resources if r["resourceType"] == "Observation"}
        with_a1c += "4548-4" in loinc
        rx = {r["medicationCodeableConcept"]["coding"][0]["code"] for r in resources
              if r["resourceType"] == "MedicationRequest"}  # fmt: skip
        with_metformin_or_insulin += bool(rx & {"860975", "106892"})
    assert diabetics > 0
    assert with_a1c >= 0.8 * diabetics and with_metformin_or_insulin >= 0.8 * diabetics


def test_patients_carry_identifiers_and_telecom(landing: Landing) -> None:
    for r in landing.resources():
        if r["resourceType"] != "Patient":
            continue
        truth = landing.patients[r["id"]]
        mrn = next(i for i in r["identifier"] if i["type"]["coding"][0]["code"] == "MR")
        ssn = next(i for i in r["identifier"] if i["system"] == vocab.SSN_SYSTEM)
        assert mrn["value"] == truth["mrn"] and ssn["value"] == truth["ssn"] and ssn["value"].startswith("999-")
        assert r["name"][0]["use"] == "official" and r["name"][0]["family"] == truth["family"]
        assert {t["system"] for t in r["telecom"]} == {"phone", "email"}
        assert r["birthDate"] == truth["birth_date"]
