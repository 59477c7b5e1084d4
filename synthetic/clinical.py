"""One patient's chart, visit by visit: encounters, diagnoses, medications, vitals, labs, procedures, vaccines.

`Chart.visit` turns a scheduled `Visit` into FHIR resources and returns what a note about it can mention.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from synthetic import vocab
from synthetic.fhir import Record, observation, quantity, ts
from synthetic.people import REGIONS, Organization, Pool, Practitioner
from synthetic.physiology import LAB_QUANTITIES, PANELS, Physiology
from synthetic.timeline import END, Life, Visit, age_at

LIMIT = datetime(2025, 12, 31, tzinfo=REGIONS[0].tz)  # later dates are cut off: nothing lands after 2025
VITALS = {"height": vocab.HEIGHT, "weight": vocab.WEIGHT, "bmi": vocab.BMI, "head": vocab.HEAD_CIRC,
          "hr": vocab.HEART_RATE, "rr": vocab.RESP_RATE, "temp": vocab.TEMPERATURE, "spo2": vocab.SPO2,
          "pain": vocab.PAIN}  # fmt: skip
PPRF = [vocab.concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer")]
DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
PROBLEM_LIST = vocab.concept(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")
ENCOUNTER_DIAGNOSIS = vocab.concept(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")
ALLERGY_ACTIVE = vocab.concept(
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"
)
ALLERGY_CONFIRMED = vocab.concept(
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed"
)
ACUTE_DAYS = {"sinusitis": 14, "bronchitis": 21, "strep": 10, "otitis": 10, "uti": 7, "sprain": 28, "backpain": 42,
              "forearm_fracture": 56, "laceration": 14, "chest_pain": 1, "concussion": 21}  # fmt: skip


@dataclass(slots=True)
class VisitFacts:
    """What happened at one visit, for its notes and imaging."""

    encounter: str
    org: Organization
    practitioner: Practitioner
    vitals: dict[str, float] = field(default_factory=dict)
    labs: dict[str, float] = field(default_factory=dict)
    new: set[str] = field(default_factory=set)
    active: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Chart:
    rng: random.Random
    rec: Record
    pool: Pool
    life: Life
    phys: Physiology
    clinic: int
    hospital: int
    pcp: Practitioner
    conditions: dict[str, dict] = field(default_factory=dict)  # chronic key -> Condition resource
    meds: dict[str, datetime] = field(default_factory=dict)  # active chronic drug key -> since
    last: dict[str, datetime] = field(default_factory=dict)  # last time of a screening / vaccine / panel
    vaccine_slots: int = 0
    allergies_recorded: bool = False

    # --- structure
    def _staff(self, org: int) -> Practitioner:
        return self.rng.choice(self.pool.staff(org))

    def visit(self, v: Visit) -> VisitFacts:
        rng, rec = self.rng, self.rec
        inpatient = v.kind in ("ed", "inpatient")
        org = self.pool.organizations[self.hospital if inpatient else self.clinic]
        if not inpatient and rng.random() < 0.03:  # PCPs move on
            self.pcp = self._staff(self.clinic)
        pr = self._staff(self.hospital) if inpatient else self.pcp
        enc = rec.add(self._encounter(v, org, pr))
        facts = VisitFacts(enc, org, pr)
        age = age_at(rec.person.birth, v.start)
        self._diagnose(v, facts, age)
        self._vitals(v, facts, age, v.start)
        self._labs(v, facts, age, v.start, admission=True)
        if v.kind == "inpatient":
            day = v.start.replace(hour=6, minute=rng.randint(0, 59)) + timedelta(days=1)
            while day < v.end:
                self._vitals(v, facts, age, day, daily=True)
                self._labs(v, facts, age, day - timedelta(hours=1), admission=False)
                day += timedelta(days=1)
        self._procedures(v, facts, age)
        self._immunize(v, facts, age)
        if self.life.allergies and not self.allergies_recorded and age >= 1:
            self._allergies(v, facts)
        if v.kind in ("checkup", "wellchild") and age >= 13:
            status = self.life.smoking_at(age)
            rec.add(
                observation(
                    rec,
                    enc,
                    v.start,
                    vocab.SMOKING_STATUS,
                    vocab.SOCIAL_HISTORY,
                    valueCodeableConcept=vocab.SMOKING_VALUES[status],
                )
            )
        return facts

    def _encounter(self, v: Visit, org: Organization, pr: Practitioner) -> dict:
        cls = {"ed": "EMER", "inpatient": "IMP"}.get(v.kind, "AMB")
        res = {
            "resourceType": "Encounter",
            "status": "finished",
            "class": vocab.ENCOUNTER_CLASS[cls],
            "type": [vocab.ENCOUNTER_TYPES[v.kind]],
            "subject": self.rec.subject,
            "participant": [
                {
                    "type": PPRF,
                    "individual": self.rec.practitioner_ref(pr),
                    "period": {"start": ts(v.start), "end": ts(v.end)},
                }
            ],
            "period": {"start": ts(v.start), "end": ts(v.end)},
            "serviceProvider": self.rec.org_ref(org),
        }
        if v.reason:
            c = vocab.CONDITIONS[v.reason]
            res["reasonCode"] = [vocab.concept(vocab.SNOMED, c.snomed, c.display)]
        if cls == "IMP":
            if v.died:
                code = ("exp", "Expired")
            else:
                code = ("snf", "Skilled nursing facility") if self.rng.random() < 0.15 else ("home", "Home")
            res["hospitalization"] = {"dischargeDisposition": vocab.concept(DISPOSITION, *code)}
            if v.readmission:
                res["hospitalization"]["reAdmission"] = vocab.concept(
                    "http://terminology.hl7.org/CodeSystem/v2-0092", "R", "Re-admission"
                )
        return res

    # --- diagnoses and medications
    def _condition(self, key: str, enc: str, onset: datetime, recorded: datetime, chronic: bool) -> dict:
        res = {
            "resourceType": "Condition",
            "clinicalStatus": vocab.concept(CLINICAL, "active", "Active"),
            "verificationStatus": vocab.concept(VERIFICATION, "confirmed", "Confirmed"),
            "category": [PROBLEM_LIST if chronic else ENCOUNTER_DIAGNOSIS],
            "code": vocab.CONDITIONS[key].concept,
            "subject": self.rec.subject,
            "encounter": self.rec.ref("Encounter", enc),
            "onsetDateTime": ts(onset),
            "recordedDate": ts(max(onset, recorded)),
        }
        self.rec.add(res)
        return res

    def _resolve(self, cond: dict, when: datetime) -> None:
        if when < LIMIT:
            cond["clinicalStatus"] = vocab.concept(CLINICAL, "resolved", "Resolved")
            cond["abatementDateTime"] = ts(when)

    def _prescribe(self, key: str, facts: VisitFacts, when: datetime, reason: dict | None, chronic: bool) -> None:
        drug = vocab.DRUGS[key]
        dead = self.rec.person.death is not None
        if not chronic or dead:
            status = "completed" if not chronic else "stopped"
        else:
            status = "active" if when.date() >= END - timedelta(days=400) else "completed"
        res = {
            "resourceType": "MedicationRequest",
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": drug.concept,
            "subject": self.rec.subject,
            "encounter": self.rec.ref("Encounter", facts.encounter),
            "authoredOn": ts(when),
            "requester": self.rec.practitioner_ref(facts.practitioner),
            "dosageInstruction": [{"sequence": 1, "text": drug.sig}],
        }
        if reason is not None:
            res["reasonReference"] = [self.rec.ref("Condition", reason["id"])]
        self.rec.add(res)

    def _start_drugs(self, key: str, facts: VisitFacts, when: datetime, cond: dict) -> None:
        for group in vocab.CHRONIC_DRUGS.get(key, ()):
            for drug in group:
                if vocab.DRUGS[drug].since <= when.year and drug not in self.meds:
                    self._prescribe(drug, facts, when, cond, chronic=True)
                    self.meds[drug] = when
                    break

    def _diagnose(self, v: Visit, facts: VisitFacts, age: float) -> None:
        rng = self.rng
        for key, onset in self.life.onsets.items():
            if key not in self.conditions and onset <= v.end:
                self.conditions[key] = self._condition(key, facts.encounter, onset, v.start, chronic=True)
                facts.new.add(key)
                self._start_drugs(key, facts, v.start, self.conditions[key])
        if "diabetes" in facts.new and "prediabetes" in self.conditions:
            self._resolve(self.conditions["prediabetes"], v.start)
        active = {k for k, c in self.conditions.items() if "abatementDateTime" not in c}
        if v.kind == "followup":  # renewals keep chronic prescriptions visible over decades
            for drug in list(self.meds):
                if rng.random() < 0.35:
                    self._prescribe(drug, facts, v.start, None, chronic=True)
        if v.reason:
            cond = self._condition(v.reason, facts.encounter, v.start, v.start, chronic=False)
            days = ACUTE_DAYS.get(v.reason, 30)
            self._resolve(cond, v.end + timedelta(days=days * rng.uniform(0.7, 1.5)))
            for drug in vocab.ACUTE_DRUGS.get(v.reason, ()):
                if vocab.DRUGS[drug].since <= v.start.year:
                    self._prescribe(drug, facts, v.start, cond, chronic=False)
        facts.active = active

    def _allergies(self, v: Visit, facts: VisitFacts) -> None:
        for i in self.life.allergies:
            _, code, display, cat, _ = vocab.ALLERGIES[i]
            allergy = {
                "resourceType": "AllergyIntolerance",
                "clinicalStatus": ALLERGY_ACTIVE,
                "verificationStatus": ALLERGY_CONFIRMED,
                "type": "allergy",
                "category": [cat],
                "criticality": "high" if code in ("91935009", "91936005") else "low",
                "code": vocab.concept(vocab.SNOMED, code, display),
                "patient": self.rec.subject,
                "encounter": self.rec.ref("Encounter", facts.encounter),
                "recordedDate": ts(v.start),
            }
            self.rec.add(allergy)
        self.allergies_recorded = True

    # --- measurements
    def _vitals(self, v: Visit, facts: VisitFacts, age: float, when: datetime, daily: bool = False) -> None:
        rng, rec = self.rng, self.rec
        vit = self.phys.vitals(rng, age, facts.active, v.reason)
        year, kind = when.year, v.kind
        if daily:
            keys = ["hr", "temp", "spo2", "bp"]
        elif kind == "wellchild":
            keys = ["height", "weight", "hr"] + (["head"] if age < 2 else ["bmi"]) + ["bp"] * (age >= 3)
        elif kind == "checkup":
            keys = ["height", "weight", "bmi", "bp", "hr"] + ["temp", "spo2"] * (rng.random() < 0.5)
            keys += ["pain"] * (rng.random() < 0.2)
        elif kind == "followup":
            keys = ["weight", "bp", "hr"] + ["bmi"] * (rng.random() < 0.5)
        else:
            keys = ["bp", "hr", "rr", "temp", "spo2", "pain"] + ["weight"] * (kind == "inpatient" or age < 12)
        for key in keys:
            if key == "spo2" and year < 1990:
                continue  # pulse oximeters were not routine before then
            if key == "bp":
                res = observation(
                    rec,
                    facts.encounter,
                    when,
                    vocab.BP_PANEL,
                    vocab.VITAL_SIGNS,
                    component=[
                        {"code": vocab.SYSTOLIC.concept, "valueQuantity": quantity(vit["sbp"], vocab.SYSTOLIC)},
                        {"code": vocab.DIASTOLIC.concept, "valueQuantity": quantity(vit["dbp"], vocab.DIASTOLIC)},
                    ],
                )
                facts.vitals.setdefault("sbp", round(vit["sbp"]))
                facts.vitals.setdefault("dbp", round(vit["dbp"]))
            else:
                q = VITALS[key]
                cat = vocab.SURVEY if key == "pain" else vocab.VITAL_SIGNS
                res = observation(rec, facts.encounter, when, q.concept, cat, valueQuantity=quantity(vit[key], q))
                facts.vitals.setdefault(key, res["valueQuantity"]["value"])  # notes quote admission values
            rec.add(res)
        if kind == "checkup" and vit["bmi"] >= 30 and "obesity" not in self.conditions and age >= 18:
            self.conditions["obesity"] = self._condition("obesity", facts.encounter, when, when, chronic=True)

    def _due(self, key: str, when: datetime, years: float) -> bool:
        last = self.last.get(key)
        return last is None or (when - last).days > years * 365

    def _panels(self, v: Visit, facts: VisitFacts, age: float, when: datetime, admission: bool) -> list[str]:
        rng, active, kind, reason = self.rng, facts.active, v.kind, v.reason
        out: list[str] = []
        if kind == "inpatient":
            if not admission:  # daily labs, not every day
                return ["cbc"] * (rng.random() < 0.5) + ["bmp"] * (rng.random() < 0.6)
            out = ["cbc", "bmp"]
            if admission:
                out += ["troponin"] * (reason in ("mi", "chest_pain")) + ["lipid"] * (reason in ("mi", "stroke"))
                out += ["bnp"] * ("chf" in active and when.year >= 2003)
            return out
        if kind == "ed":
            return ["cbc", "bmp"] * (rng.random() < 0.6) + ["troponin"] * (reason == "chest_pain")
        if kind == "acute":
            return ["ua"] * (reason == "uti") + ["cbc"] * (
                reason in ("bronchitis", "strep") and rng.random() < 0.2
            )
        if kind == "checkup" and age >= 18:
            out += ["lipid"] * (age >= 20 and self._due("lipid", when, 5) and rng.random() < 0.5)
            out += ["bmp"] * (rng.random() < 0.25) + ["cbc"] * (rng.random() < 0.2)
        if kind in ("checkup", "followup"):
            if "diabetes" in active or ("prediabetes" in active and rng.random() < 0.4):
                out.append("hba1c")
            if active & {"diabetes", "ckd", "hypertension", "chf"} and rng.random() < 0.5 and "bmp" not in out:
                out.append("bmp")
            if active & {"hyperlipidemia", "cad"} and self._due("lipid", when, 1) and "lipid" not in out:
                out.append("lipid")
            out += ["tsh"] * ("hypothyroidism" in active and rng.random() < 0.6)
            out += ["bnp"] * ("chf" in active and when.year >= 2003 and rng.random() < 0.5)
        return out

    def _labs(self, v: Visit, facts: VisitFacts, age: float, when: datetime, admission: bool) -> None:
        panels = self._panels(v, facts, age, when, admission)
        if not panels:
            return
        rec, enc = self.rec, facts.encounter
        values = self.phys.labs(
            self.rng, age, facts.active, facts.new, v.reason if admission or self.rng.random() < 0.5 else None
        )
        when = when + timedelta(minutes=self.rng.randint(10, 50))
        for panel in panels:
            self.last[panel] = when
            keys = PANELS[panel][1] if panel in PANELS else (panel,)
            refs = []
            for key in keys:
                q = LAB_QUANTITIES[key]
                res = observation(
                    rec, enc, when, q.concept, vocab.LABORATORY, valueQuantity=quantity(values[key], q)
                )
                refs.append({**rec.ref("Observation", rec.add(res)), "display": q.display})
                facts.labs.setdefault(key, res["valueQuantity"]["value"])
            if panel == "ua":
                cloudy = "Cloudy" if v.reason == "uti" else "Clear"
                res = observation(rec, enc, when, vocab.URINE_APPEARANCE, vocab.LABORATORY, valueString=cloudy)
                refs.append({**rec.ref("Observation", rec.add(res)), "display": "Appearance of Urine"})
            if panel in PANELS:
                issued = when + timedelta(hours=self.rng.uniform(1, 6))
                rec.add(
                    {
                        "resourceType": "DiagnosticReport",
                        "status": "final",
                        "category": vocab.LAB_REPORT,
                        "code": PANELS[panel][0],
                        "subject": rec.subject,
                        "encounter": rec.ref("Encounter", enc),
                        "effectiveDateTime": ts(when),
                        "issued": ts(min(issued, LIMIT)),
                        "performer": [rec.org_ref(facts.org)],
                        "result": refs,
                    }
                )

    # --- procedures and vaccines
    def _procedure(self, key: str, facts: VisitFacts, start: datetime, minutes: int, reason: dict | None) -> None:
        res = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": vocab.PROCEDURES[key],
            "subject": self.rec.subject,
            "encounter": self.rec.ref("Encounter", facts.encounter),
        }
        if minutes:
            res["performedPeriod"] = {"start": ts(start), "end": ts(start + timedelta(minutes=minutes))}
        else:
            res["performedDateTime"] = ts(start)
        if reason is not None:
            res["reasonReference"] = [self.rec.ref("Condition", reason["id"])]
        self.rec.add(res)

    def _procedures(self, v: Visit, facts: VisitFacts, age: float) -> None:
        rng, when, year = self.rng, v.start, v.start.year
        later = when + timedelta(hours=rng.uniform(2, 20)) if v.kind == "inpatient" else when
        reason = v.reason
        if v.kind == "checkup":
            if age >= 50 and year >= 1990 and self._due("colonoscopy", when, 10) and rng.random() < 0.5:
                self._procedure("colonoscopy", facts, when, rng.randint(25, 60), None)
                self.last["colonoscopy"] = when
            if self.rec.person.gender == "female" and age >= 40 and year >= 1990 and self._due("mammo", when, 2):
                self.last["mammo"] = when
                if rng.random() < 0.6:
                    self._procedure("mammography", facts, when, 20, None)
            if age >= 12 and year >= 2012 and rng.random() < 0.6:
                self._procedure("depression_screening", facts, when, 0, None)
        if v.kind == "followup" and year >= 2005 and rng.random() < 0.5:
            self._procedure("med_reconciliation", facts, when, 0, None)
        if facts.new & {"asthma", "copd"}:
            self._procedure("spirometry", facts, when, 20, None)
        if reason == "appendicitis":
            self._procedure("appendectomy", facts, later, rng.randint(45, 100), None)
        elif reason == "mi" and year >= 1990 and rng.random() < 0.7:
            self._procedure("pci", facts, later, rng.randint(60, 150), None)
        elif reason == "hip_fracture" and rng.random() < 0.8:
            self._procedure("hip_replacement", facts, later, rng.randint(90, 180), None)
        elif reason == "laceration":
            self._procedure("suture", facts, when + timedelta(minutes=40), 20, None)
        if reason in ("chest_pain", "mi"):
            self._procedure("ecg", facts, when + timedelta(minutes=10), 0, None)

    def _vaccinate(self, key: str, facts: VisitFacts, when: datetime) -> None:
        self.rec.add(
            {
                "resourceType": "Immunization",
                "status": "completed",
                "vaccineCode": vocab.VACCINES[key].concept,
                "patient": self.rec.subject,
                "encounter": self.rec.ref("Encounter", facts.encounter),
                "occurrenceDateTime": ts(when),
                "primarySource": True,
            }
        )
        self.last["vaccine:" + key] = when

    def _immunize(self, v: Visit, facts: VisitFacts, age: float) -> None:
        rng, when, year = self.rng, v.start, v.start.year
        if v.kind not in ("wellchild", "checkup", "followup", "acute"):
            return
        months = age * 12
        slots = vocab.CHILD_SCHEDULE
        while (
            v.kind == "wellchild"
            and self.vaccine_slots < len(slots)
            and slots[self.vaccine_slots][0] <= months + 1
        ):
            due, keys = slots[self.vaccine_slots]
            self.vaccine_slots += 1
            if months - due > 24:
                continue  # missed: catch-up is not modelled
            for key in keys:
                key = "dtp" if key == "dtap" and year < 1991 else key
                if vocab.VACCINES[key].since <= year:
                    self._vaccinate(key, facts, when)
        flu_season = year >= 2004 and when.month >= 9 and age >= 0.5
        if flu_season and self._due("vaccine:flu", when, 0.5) and rng.random() < 0.6:
            self._vaccinate("flu", facts, when)
        if v.kind == "checkup":
            if age >= 19 and self._due("vaccine:td", when, 10) and rng.random() < 0.6:
                self._vaccinate("td" if year < 2005 else "tdap", facts, when)
                self.last["vaccine:td"] = when
            if age >= 65 and "vaccine:ppsv23" not in self.last and year >= 1983:
                self._vaccinate("ppsv23", facts, when)
            if age >= 50 and year >= 2018 and "vaccine:zoster" not in self.last and rng.random() < 0.5:
                self._vaccinate("zoster", facts, when)
        if 2021 <= year <= 2024 and age >= 12 and self._due("vaccine:covid", when, 0.9) and rng.random() < 0.6:
            self._vaccinate("covid", facts, when)
