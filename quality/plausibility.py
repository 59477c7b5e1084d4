"""Clinical plausibility: physiological ranges per LOINC code and unit, and the timeline tolerances.

Ranges are wide on purpose: they flag values no living patient has (a heart rate of 900, a temperature of
90 Cel), not abnormal ones, so a failure is almost always a unit or parsing error. Sources: the limits of
what is survivable as reported in clinical references (e.g. glucose > 2000 mg/dL and potassium > 10 mmol/L
are incompatible with life) rounded outwards. A value in a unit other than the one listed is counted by a
separate "unit" expectation instead, since converting units is the tokenizer's job, not the validator's.
"""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Range:
    code: str  # MEDS code
    unit: str  # UCUM unit as delivered
    low: float
    high: float
    label: str


def _loinc(codes: str, unit: str, low: float, high: float, label: str) -> list[Range]:
    return [Range(f"LOINC//{c}", unit, low, high, label) for c in codes.split()]


RANGES: tuple[Range, ...] = tuple(
    # vital signs
    _loinc("8867-4", "/min", 10, 350, "heart rate")
    + _loinc("9279-1", "/min", 2, 100, "respiratory rate")
    + _loinc("8480-6", "mm[Hg]", 40, 300, "systolic blood pressure")
    + _loinc("8462-4", "mm[Hg]", 10, 200, "diastolic blood pressure")
    + _loinc("8310-5 8331-1 8332-9 8328-7", "Cel", 25, 45, "body temperature")
    + _loinc("2708-6 59408-5", "%", 40, 100, "oxygen saturation")
    + _loinc("29463-7", "kg", 0.2, 450, "body weight")
    + _loinc("8302-2", "cm", 20, 260, "body height")
    + _loinc("39156-5", "kg/m2", 7, 150, "body mass index")
    + _loinc("72514-3", "{score}", 0, 10, "pain score 0-10")
    # chemistry
    + _loinc("2345-7 2339-0", "mg/dL", 5, 2000, "glucose")
    + _loinc("2160-0 38483-4", "mg/dL", 0.05, 30, "creatinine")
    + _loinc("2951-2 2947-0", "mmol/L", 90, 200, "sodium")
    + _loinc("2823-3 6298-4", "mmol/L", 1, 10, "potassium")
    + _loinc("2075-0 2069-3", "mmol/L", 50, 160, "chloride")
    + _loinc("2028-9 20565-8", "mmol/L", 2, 60, "carbon dioxide")
    + _loinc("17861-6 49765-1", "mg/dL", 2, 25, "calcium")
    + _loinc("3094-0 6299-2", "mg/dL", 1, 300, "urea nitrogen")
    + _loinc("1751-7", "g/dL", 0.5, 8, "albumin")
    + _loinc("2885-2", "g/dL", 2, 15, "total protein")
    + _loinc("1975-2", "mg/dL", 0, 60, "total bilirubin")
    + _loinc("33914-3", "mL/min/{1.73_m2}", 0, 250, "eGFR")
    # lipids, diabetes
    + _loinc("2093-3", "mg/dL", 30, 1500, "total cholesterol")
    + _loinc("18262-6 13457-7", "mg/dL", 1, 1000, "LDL cholesterol")
    + _loinc("2085-9", "mg/dL", 2, 250, "HDL cholesterol")
    + _loinc("2571-8", "mg/dL", 5, 10000, "triglycerides")
    + _loinc("4548-4", "%", 2, 25, "hemoglobin A1c")
    # hematology
    + _loinc("718-7", "g/dL", 1, 26, "hemoglobin")
    + _loinc("4544-3 20570-8", "%", 5, 80, "hematocrit")
    + _loinc("6690-2", "10*3/uL", 0.05, 500, "leukocytes")
    + _loinc("777-3", "10*3/uL", 1, 3000, "platelets")
    + _loinc("789-8", "10*6/uL", 0.5, 12, "erythrocytes")
)

BY_CODE: dict[str, Range] = {r.code: r for r in RANGES}

# Timeline tolerances (see docs/quality in the site): a birth recorded as a date is midnight of that day in
# the source's time zone, so same-day events can precede it by up to a day once times are UTC.
BEFORE_BIRTH_TOLERANCE = timedelta(days=1)
# Death is often recorded after the fact (certificates, claims, final labs filed late): 30 days allowed.
AFTER_DEATH_TOLERANCE = timedelta(days=30)
# Clock skew between source systems and this machine.
FUTURE_TOLERANCE = timedelta(days=1)

# Code formats per vocabulary: the value part after `VOCAB//`.
CODE_FORMATS: dict[str, str] = {
    "LOINC": r"^LOINC//(LA|LP)?[0-9]{1,7}-[0-9](//.*)?$",
    "SNOMED": r"^SNOMED//[0-9]{6,18}(//.*)?$",
    "RXNORM": r"^RXNORM//[0-9]{1,8}(//.*)?$",
    "CVX": r"^CVX//[0-9]{1,3}(//.*)?$",
    "ICD10CM": r"^ICD10CM//[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?(//.*)?$",
    "ICD9CM": r"^ICD9CM//[0-9EV][0-9]{2}(\.?[0-9]{1,2})?(//.*)?$",
    "NDC": r"^NDC//[0-9]{4,5}-?[0-9]{3,4}-?[0-9]{1,2}(//.*)?$",
    "CPT4": r"^CPT4//[0-9]{4}[0-9A-Z](//.*)?$",
}
# MEDS requires only that a code is a string (any string: `ED_REGISTRATION`, `Lab//K`, `MEDS_BIRTH`); the
# `VOCAB//value` form is a convention, not a rule. What is never a usable code: empty or only white space.
ANY_CODE = r"\S"
