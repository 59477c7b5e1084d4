"""Clinical notes with PHI: progress notes, H&Ps, discharge summaries and ED notes, with exact PHI spans.

Each note mixes the patient's own identifiers (in the varied forms real notes use), providers, facilities,
relatives and dates with clinical content that is not PHI (vitals, labs, meds, all-caps exam sections).
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from synthetic import vocab
from synthetic.people import Organization, Person, Practitioner
from synthetic.phi_text import FULL_DATE_STYLES, PhiText, format_date, relative_phrase

NOTE_TYPES = {
    "progress": ("11506-3", "Progress note"),
    "hp": ("34117-2", "History and physical note"),
    "discharge": ("18842-5", "Discharge summary"),
    "ed": ("34111-5", "Emergency department note"),
}
TITLES = {
    "progress": ("PROGRESS NOTE", "Progress Note", "OFFICE VISIT"),
    "hp": ("HISTORY AND PHYSICAL", "Admission H&P"),
    "discharge": ("DISCHARGE SUMMARY", "Discharge Summary"),
    "ed": ("EMERGENCY DEPARTMENT NOTE", "ED Provider Note"),
}
SYMPTOMS = {
    "sinusitis": "nasal congestion, facial pressure and purulent nasal discharge",
    "bronchitis": "a productive cough and low-grade fevers",
    "strep": "sore throat, fever and painful swallowing",
    "otitis": "ear pain, fussiness and fever",
    "uti": "dysuria, urinary frequency and urgency",
    "sprain": "left ankle pain and swelling after twisting it on a curb",
    "backpain": "low back pain radiating to the left buttock",
    "forearm_fracture": "a fall on an outstretched hand with right wrist pain and deformity",
    "laceration": "a laceration to the left palm from a kitchen knife",
    "chest_pain": "substernal chest pressure radiating to the left arm",
    "concussion": "headache and brief confusion after striking {his} head",
    "pneumonia": "fever, productive cough and shortness of breath",
    "mi": "crushing substernal chest pain with diaphoresis",
    "stroke": "acute onset right-sided weakness and slurred speech",
    "hip_fracture": "a mechanical fall at home with inability to bear weight on the right leg",
    "appendicitis": "periumbilical pain migrating to the right lower quadrant, nausea and anorexia",
    "copd_exacerbation": "worsening dyspnea, wheezing and increased sputum production",
    "cellulitis": "spreading redness, warmth and swelling of the left lower leg",
    "sepsis": "fever, rigors and new confusion",
}
PLANS = {
    "hypertension": "continue current antihypertensive regimen, low-sodium diet, home BP log",
    "diabetes": "continue metformin, diabetic foot exam done today, refer for annual retinal exam",
    "prediabetes": "lifestyle modification, recheck HbA1c in 6 months",
    "hyperlipidemia": "continue statin, recheck lipid panel in 1 year",
    "ckd": "avoid NSAIDs, renally dose medications, BMP in 3 months",
    "asthma": "continue inhaled corticosteroid, albuterol as needed, asthma action plan reviewed",
    "copd": "continue bronchodilators, pulmonary rehab referral, smoking cessation counseling",
    "chf": "daily weights, 2 g sodium diet, continue diuretic and beta blocker",
    "afib": "rate controlled, continue anticoagulation, CHA2DS2-VASc reviewed",
    "cad": "continue aspirin and statin, cardiology follow-up",
    "depression": "PHQ-9 reviewed, continue SSRI, counseling referral",
    "osteoarthritis": "weight-bearing exercise, acetaminophen or NSAID as needed, PT referral",
    "hypothyroidism": "continue levothyroxine, TSH in 6-8 weeks",
    "obesity": "dietary counseling, 150 minutes of exercise per week",
}
EXAM = (
    "GENERAL: ALERT AND ORIENTED X3, NO ACUTE DISTRESS.",
    "HEENT: NORMOCEPHALIC, ATRAUMATIC. PERRLA. OROPHARYNX CLEAR.",
    "NECK: SUPPLE, NO JVD, NO LYMPHADENOPATHY.",
    "CARDIOVASCULAR: REGULAR RATE AND RHYTHM, NO MURMURS, RUBS OR GALLOPS.",
    "LUNGS: CLEAR TO AUSCULTATION BILATERALLY. NO WHEEZES OR CRACKLES.",
    "ABDOMEN: SOFT, NONTENDER, NONDISTENDED. NORMAL BOWEL SOUNDS.",
    "EXTREMITIES: NO CYANOSIS, CLUBBING OR EDEMA.",
    "NEURO: CN II-XII GROSSLY INTACT. STRENGTH 5/5 THROUGHOUT.",
    "SKIN: WARM AND DRY, NO RASHES.",
)
SMOKING_TEXT = {"never": "Never smoker. ", "former": "Former smoker. ", "current": "Current every-day smoker. "}
LAB_NAMES = {
    "glucose": ("Glucose", "mg/dL"), "hba1c": ("HbA1c", "%"), "creatinine": ("Creatinine", "mg/dL"),
    "bun": ("BUN", "mg/dL"), "sodium": ("Na", "mmol/L"), "potassium": ("K", "mmol/L"), "egfr": ("eGFR", ""),
    "wbc": ("WBC", "K/uL"), "hemoglobin": ("Hgb", "g/dL"), "platelets": ("Plt", "K/uL"),
    "cholesterol": ("Total cholesterol", "mg/dL"), "ldl": ("LDL", "mg/dL"), "hdl": ("HDL", "mg/dL"),
    "tsh": ("TSH", "mIU/L"), "bnp": ("NT-proBNP", "pg/mL"), "troponin": ("Troponin I", "ng/mL"),
}  # fmt: skip


@dataclass(slots=True)
class NoteContext:
    """What a note can talk about: the patient, the visit, its clinicians and its measurements."""

    person: Person
    kind: str  # progress | hp | discharge | ed
    visit_kind: str
    start: datetime
    end: datetime
    time: datetime  # when the note was written
    author: Practitioner
    facility: Organization
    pcp: Practitioner
    clinic: Organization
    account: str
    reason: str | None = None
    vitals: dict[str, float] = field(default_factory=dict)
    labs: dict[str, float] = field(default_factory=dict)
    conditions: list[tuple[str, datetime]] = field(default_factory=list)  # (condition key, onset)
    meds: list[str] = field(default_factory=list)  # drug keys
    allergies: list[str] = field(default_factory=list)
    smoking: str = "never"
    imaging: list[tuple[str, str]] = field(default_factory=list)  # (description, accession)
    previous_visit: datetime | None = None
    followup: datetime | None = None

    @property
    def age(self) -> int:
        b = self.person.birth
        return self.time.year - b.year - ((self.time.month, self.time.day) < (b.month, b.day))

    @property
    def age_months(self) -> int:
        b, t = self.person.birth, self.time
        return (t.year - b.year) * 12 + t.month - b.month - (t.day < b.day)


class _Writer:
    """Picks the surface forms of PHI for one note."""

    def __init__(self, rng: random.Random, ctx: NoteContext) -> None:
        self.rng, self.ctx, self.p = rng, ctx, ctx.person
        male = self.p.gender == "male"
        self.he, self.his, self.man = ("he", "his", "man") if male else ("she", "her", "woman")
        if ctx.age < 18:
            self.man = "boy" if male else "girl"

    # --- the patient
    def full_name(self) -> tuple[str, str]:
        p, r = self.p, self.rng.random()
        if r < 0.35:
            return (f"{p.family.upper()}, {p.given.upper()}", "NAME")
        if r < 0.55 and p.middle:
            return (f"{p.given} {p.middle[0]}. {p.family}", "NAME")
        if r < 0.75:
            return (f"{p.family}, {p.given}", "NAME")
        return (f"{p.given} {p.family}", "NAME")

    def ref(self) -> list:
        """The patient as the narrative names them."""
        p, r = self.p, self.rng.random()
        if r < 0.35 and self.ctx.age >= 18:
            return [f"{p.prefix} ", (p.family, "NAME")]
        if r < 0.55:
            return [(p.given, "NAME")]
        if r < 0.7:
            return [(f"{p.given} {p.family}", "NAME")]
        return ["The patient" if r < 0.85 else "Pt"]

    def dob(self) -> tuple[str, str]:
        return (format_date(self.p.birth, self.rng.choice(("mdy0", "mdy", "iso", "long", "mdy_dash"))), "DATE")

    def age(self) -> list:
        a, r = str(self.ctx.age), self.rng.random()
        if self.ctx.age < 2:  # infants' ages are in months
            return [(str(max(self.ctx.age_months, 0)), "AGE"), f"-month-old {self.man}"]
        if r < 0.5:
            return [(a, "AGE"), f"-year-old {self.man}"]
        if r < 0.75:
            return [(a, "AGE"), f" y/o {'M' if self.p.gender == 'male' else 'F'}"]
        return [f"{self.man} aged ", (a, "AGE")]

    def phone(self, number: str | None = None) -> tuple[str, str]:
        digits = (number or self.p.phone).split("-")
        style = self.rng.randrange(3)
        text = ("-".join(digits), f"({digits[0]}) {digits[1]}-{digits[2]}", ".".join(digits))[style]
        return (text, "PHONE")

    def address(self) -> list:
        p = self.p
        return [(p.street, "ADDRESS"), ", ", (p.city, "CITY"), f", {p.state} ", (p.zip, "ZIP")]

    # --- others
    def provider(self, pr: Practitioner, style: int | None = None) -> list:
        style = self.rng.randrange(4) if style is None else style
        if style == 0:
            return ["Dr. ", (pr.family, "NAME")]
        if style == 1:
            return ["Dr. ", (pr.full, "NAME")]
        if style == 2:
            return [(pr.full, "NAME"), f", {pr.credential}"]
        return [(f"{pr.family.upper()}, {pr.given.upper()}", "NAME"), f" {pr.credential}"]

    def facility(self, org: Organization) -> tuple[str, str]:
        return (org.name.upper() if self.rng.random() < 0.3 else org.name, "FACILITY")

    def date(self, d: datetime, styles: tuple[str, ...] = FULL_DATE_STYLES) -> tuple[str, str]:
        return (format_date(d, self.rng.choice(styles)), "DATE")

    def relative(self) -> list | None:
        if not self.p.relatives:
            return None
        rel = self.rng.choice(self.p.relatives)
        name = rel.given if self.rng.random() < 0.7 else f"{rel.given} {rel.family}"
        return [f"{self.his if self.rng.random() < 0.7 else 'pt' + chr(39) + 's'} {rel.relation} ", (name, "NAME")]


def _conditions_phrase(ctx: NoteContext) -> str:
    shorts = [vocab.CONDITIONS[k].short for k, _ in ctx.conditions]
    if not shorts:
        return "no significant past medical history"
    return "a history of " + (", ".join(shorts[:-1]) + " and " + shorts[-1] if len(shorts) > 1 else shorts[0])


def _header(t: PhiText, w: _Writer, title: str) -> None:
    ctx, rng = w.ctx, w.rng
    if rng.random() < 0.5:
        t.line(w.facility(ctx.facility))
        t.line(title)
        t.line("Patient: ", w.full_name(), "    MRN: ", (w.p.mrn, "ID"), "    DOB: ", w.dob())
    else:
        t.line(title, " - ", w.facility(ctx.facility))
        sex = "M" if w.p.gender == "male" else "F"
        age = [(str(ctx.age), "AGE"), " y/o"] if ctx.age >= 2 else [(str(ctx.age_months), "AGE"), " mo"]
        t.line("Name: ", w.full_name(), "   DOB: ", w.dob(), " (", age, f")   Sex: {sex}")
        t.add("MRN ", (w.p.mrn, "ID"))
        if rng.random() < 0.3:
            t.add("   SSN ", (w.p.ssn, "ID"))
        t.line()
    styles = ("mdy_time", "iso_minutes") if ctx.kind == "ed" else ("mdy0", "long", "mdy", "iso", "mdy_time")
    label = "Date of Service: " if ctx.kind != "discharge" else "Date: "
    t.line(label, w.date(ctx.time, styles), "    Provider: ", w.provider(ctx.author, 2))
    if rng.random() < 0.5:
        t.line("Acct #: ", (ctx.account, "ID"))
    t.line()


def _hpi_history(t: PhiText, w: _Writer) -> None:
    ctx, rng = w.ctx, w.rng
    for key, onset in ctx.conditions[:3]:
        if onset < ctx.time and rng.random() < 0.6:
            t.add(
                f"{vocab.CONDITIONS[key].short.capitalize()} was diagnosed ",
                relative_phrase(onset, ctx.time),
                ". ",
            )
    if ctx.previous_visit and rng.random() < 0.6:
        t.add(f"{w.he.capitalize()} was last seen in clinic on ", w.date(ctx.previous_visit), ". ")
    rel = w.relative()
    if rel and rng.random() < 0.6:
        t.add("Accompanied today by ", rel, ". ")


def _hpi(t: PhiText, w: _Writer) -> None:
    ctx, rng = w.ctx, w.rng
    t.line("HISTORY OF PRESENT ILLNESS:" if rng.random() < 0.6 else "HPI:")
    if ctx.reason:
        symptoms = SYMPTOMS[ctx.reason].format(his=w.his)
        days = rng.randint(1, 6)
        t.add(w.ref(), " is a ", w.age(), f" with {_conditions_phrase(ctx)} who presents with {symptoms}")
        t.add(f" for {days} days. " if ctx.kind not in ("ed", "hp") else ". ")
        if ctx.kind == "ed":
            t.add("Arrived at ", w.date(ctx.start, ("iso_minutes", "mdy_time")), ". ")
    elif ctx.visit_kind in ("checkup", "wellchild"):
        t.add(w.ref(), " is a ", w.age(), f" with {_conditions_phrase(ctx)} here for an annual physical. ")
        t.add("No acute complaints. ")
    else:
        t.add(w.ref(), " is a ", w.age(), f" with {_conditions_phrase(ctx)} who presents for routine follow-up. ")
        t.add(f"{w.he.capitalize()} reports taking {w.his} medications as prescribed. ")
    _hpi_history(t, w)
    t.line("Denies chest pain, palpitations or shortness of breath." if ctx.reason != "chest_pain" else "")
    t.line()


def _lists(t: PhiText, w: _Writer) -> None:
    ctx = w.ctx
    t.line("PAST MEDICAL HISTORY:")
    for key, onset in ctx.conditions:
        t.add(f"- {vocab.CONDITIONS[key].display.split(' (')[0]}")
        if w.rng.random() < 0.4:
            t.add(" (dx ", w.date(onset, ("mdy2", "month_year", "iso")), ")")
        t.line()
    if not ctx.conditions:
        t.line("- None")
    t.line()
    t.line("MEDICATIONS:")
    for key in ctx.meds:
        drug = vocab.DRUGS[key]
        t.line(f"- {drug.display}, {drug.sig}")
    if not ctx.meds:
        t.line("- No current medications")
    t.line("ALLERGIES: " + (", ".join(ctx.allergies) if ctx.allergies else "NKDA"))
    t.line()


def _social(t: PhiText, w: _Writer) -> None:
    ctx, rng = w.ctx, w.rng
    t.line("SOCIAL HISTORY:")
    rel = w.relative()
    t.add("Lives at ", w.address())
    t.add([" with ", rel, ". "] if rel and rng.random() < 0.6 else ". ")
    t.add(SMOKING_TEXT[ctx.smoking])
    t.add("Contact: ", w.phone())
    if rng.random() < 0.5:
        t.add(", ", (w.p.email, "EMAIL"))
    t.line(".")
    if rng.random() < 0.15:
        t.line("Patient portal: ", (f"https://portal.example.org/chart/{w.p.mrn}", "URL"))
    t.line()


def _vitals(t: PhiText, w: _Writer) -> None:
    v = w.ctx.vitals
    if not v:
        return
    parts = []
    if "sbp" in v:
        parts.append(f"BP {v['sbp']:.0f}/{v['dbp']:.0f} mmHg")
    if "hr" in v:
        parts.append(f"HR {v['hr']:.0f} /min")
    if "rr" in v:
        parts.append(f"RR {v['rr']:.0f}")
    if "temp" in v:
        parts.append(f"Temp {v['temp']:.1f} °C")
    if "spo2" in v:
        parts.append(f"SpO2 {v['spo2']:.0f}% RA")
    if "weight" in v:
        parts.append(f"Wt {v['weight']:.1f} kg")
    if "bmi" in v:
        parts.append(f"BMI {v['bmi']:.1f}")
    t.line("VITALS: " + ", ".join(parts) + ".")
    t.line()


def _exam_and_labs(t: PhiText, w: _Writer) -> None:
    t.line("PHYSICAL EXAMINATION:" if w.rng.random() < 0.5 else "PHYSICAL EXAM:")
    for line in EXAM[: w.rng.randint(4, len(EXAM))]:
        t.line(line)
    t.line()
    labs = [f"{LAB_NAMES[k][0]} {v:g} {LAB_NAMES[k][1]}".rstrip() for k, v in w.ctx.labs.items() if k in LAB_NAMES]
    if labs:
        t.line("LABS: " + ", ".join(labs) + ".")
    for description, accession in w.ctx.imaging:
        t.line(f"IMAGING: {description} (accession ", (accession, "ID"), "): preliminary read reviewed.")
    t.line()


def _assessment(t: PhiText, w: _Writer) -> None:
    ctx = w.ctx
    t.line("ASSESSMENT AND PLAN:" if w.rng.random() < 0.6 else "A/P:")
    n = 1
    if ctx.reason:
        cond = vocab.CONDITIONS[ctx.reason]
        t.line(f"{n}. {cond.display.split(' (')[0]} ({cond.icd10}): treated as above; return precautions given.")
        n += 1
    for key, _ in ctx.conditions:
        if key in PLANS:
            t.line(f"{n}. {vocab.CONDITIONS[key].short.capitalize()}: {PLANS[key]}.")
            n += 1
    if n == 1:
        t.line("1. Health maintenance: age-appropriate screening and immunizations reviewed.")
    if ctx.followup:
        t.add("Follow-up with ", w.provider(ctx.pcp), " at ", w.facility(ctx.clinic))
        t.line(" on ", w.date(ctx.followup, ("month_day", "mdy", "day_of_month", "long")), ".")
    t.line()


def _signature(t: PhiText, w: _Writer) -> None:
    signed = w.ctx.time + timedelta(minutes=w.rng.randint(5, 240))
    if w.rng.random() < 0.3:
        t.line("Dictated with voice recognition software - please excuse transcription errors.")
    t.line("Electronically signed by ", w.provider(w.ctx.author, 2), " on ", w.date(signed, ("mdy_time",)))


def _hospital_course(t: PhiText, w: _Writer) -> None:
    ctx, rng = w.ctx, w.rng
    t.line("Admission Date: ", w.date(ctx.start), "    Discharge Date: ", w.date(ctx.end))
    t.line("Attending: ", w.provider(ctx.author, 1), "    PCP: ", w.provider(ctx.pcp, 0))
    t.line()
    cond = vocab.CONDITIONS[ctx.reason or "pneumonia"]
    t.line(f"PRINCIPAL DIAGNOSIS: {cond.display.split(' (')[0].upper()}")
    t.line()
    t.line("HOSPITAL COURSE:")
    t.add(w.ref(), " is a ", w.age(), f" with {_conditions_phrase(ctx)} admitted from the ED with ")
    t.add(SYMPTOMS[cond.key].format(his=w.his), ". ")
    day2 = ctx.start + timedelta(days=1)
    t.add("Treated with IV fluids and antibiotics as indicated. On ", w.date(day2, ("md", "month_day")))
    t.add(f" {w.he} was clinically improved and tolerating a regular diet. ")
    rel = w.relative()
    if rel:
        t.add("Discharge plan discussed with ", rel, ", reachable at ", w.phone(), ". ")
    t.line()
    t.line()
    t.line(
        "DISCHARGE CONDITION: STABLE. DISCHARGE DISPOSITION: HOME."
        if rng.random() < 0.8
        else "DISCHARGE CONDITION: FAIR. DISCHARGED HOME WITH VISITING NURSE SERVICES."
    )
    t.line()


def write_note(rng: random.Random, ctx: NoteContext) -> tuple[str, list[dict]]:
    """(text, PHI spans) for one note."""
    t, w = PhiText(), _Writer(rng, ctx)
    _header(t, w, rng.choice(TITLES[ctx.kind]))
    if ctx.kind == "discharge":
        _hospital_course(t, w)
        _lists(t, w)
        _vitals(t, w)
        _assessment(t, w)
    else:
        if ctx.reason or rng.random() < 0.5:
            complaint = {"checkup": "annual physical", "wellchild": "well-child check"}.get(
                ctx.visit_kind, "follow-up"
            )
            t.line("CHIEF COMPLAINT: " + (SYMPTOMS[ctx.reason].format(his=w.his) if ctx.reason else complaint))
            t.line()
        _hpi(t, w)
        _lists(t, w)
        if ctx.kind == "hp" or rng.random() < 0.6:
            _social(t, w)
        _vitals(t, w)
        _exam_and_labs(t, w)
        _assessment(t, w)
    _signature(t, w)
    return t.text(), t.spans


def typographic(text: str, spans: list[dict]) -> str:
    """Word-processor punctuation outside the PHI spans (en dashes, curly apostrophes), as Windows notes have.

    Replacements are one character for one, so the spans stay exact; in cp1252 these characters are the bytes
    0x80-0x9F that Latin-1 reads as control codes, which is what tells the two encodings apart.

    >>> typographic("Dr. O'Brien - pt's son", [{"start": 4, "end": 11}])
    "Dr. O'Brien – pt’s son"
    """
    out, at = [], 0
    for span in [*spans, {"start": len(text), "end": len(text)}]:
        out.append(text[at : span["start"]].replace(" - ", " \u2013 ").replace("'", "\u2019"))
        out.append(text[span["start"] : span["end"]])
        at = span["end"]
    return "".join(out)
