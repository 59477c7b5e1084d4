"""Physiologically plausible vitals and labs for one patient over a lifetime.

Children follow growth, heart-rate and breathing-rate curves; adults keep a personal baseline that drifts with
age. Chronic conditions move the labs they drive (diabetes -> HbA1c and glucose, CKD -> creatinine and eGFR,
hyperlipidemia -> lipids, CHF -> NT-proBNP), and are partly corrected once treated; infections raise
temperature, heart rate and WBC.
"""

import itertools
import math
import random
from dataclasses import dataclass

from synthetic import vocab

GROWTH = ((0, 0.29), (0.5, 0.38), (1, 0.43), (2, 0.5), (4, 0.59), (6, 0.67), (8, 0.74), (10, 0.8), (12, 0.87),
          (14, 0.94), (16, 0.985), (18, 1.0))  # fmt: skip
BMI_CHILD = ((0, 13.4), (0.5, 17.0), (1, 17.3), (2, 16.4), (4, 15.6), (6, 15.4), (8, 16.0), (10, 17.0),
             (12, 18.3), (14, 19.6), (16, 20.7), (18, 21.6))  # fmt: skip
HR_CHILD = ((0, 135), (1, 120), (3, 105), (6, 95), (10, 85), (14, 78), (18, 72))
RR_CHILD = ((0, 40), (1, 30), (3, 24), (6, 21), (12, 18), (18, 15))
INFECTIONS = frozenset(("sinusitis", "bronchitis", "strep", "otitis", "uti", "pneumonia", "cellulitis", "sepsis",
                        "copd_exacerbation", "appendicitis"))  # fmt: skip

LAB_QUANTITIES = {
    "glucose": vocab.GLUCOSE, "hba1c": vocab.HBA1C, "creatinine": vocab.CREATININE, "bun": vocab.BUN,
    "sodium": vocab.SODIUM, "potassium": vocab.POTASSIUM, "chloride": vocab.CHLORIDE, "co2": vocab.CO2,
    "calcium": vocab.CALCIUM, "egfr": vocab.EGFR, "wbc": vocab.WBC, "rbc": vocab.RBC,
    "hemoglobin": vocab.HEMOGLOBIN, "hematocrit": vocab.HEMATOCRIT, "platelets": vocab.PLATELETS,
    "cholesterol": vocab.CHOLESTEROL, "triglycerides": vocab.TRIGLYCERIDES, "hdl": vocab.HDL, "ldl": vocab.LDL,
    "tsh": vocab.TSH, "bnp": vocab.NT_PROBNP, "troponin": vocab.TROPONIN, "urine_sg": vocab.URINE_SG,
}  # fmt: skip
PANELS = {
    "bmp": (vocab.BMP_PANEL, ("glucose", "bun", "creatinine", "egfr", "sodium", "potassium", "chloride", "co2",
                              "calcium")),
    "cbc": (vocab.CBC_PANEL, ("wbc", "rbc", "hemoglobin", "hematocrit", "platelets")),
    "lipid": (vocab.LIPID_PANEL, ("cholesterol", "triglycerides", "hdl", "ldl")),
    "ua": (vocab.URINALYSIS_PANEL, ("urine_sg",)),
}  # fmt: skip


def interp(table: tuple[tuple[float, float], ...], x: float) -> float:
    """Piecewise-linear lookup, clamped at both ends.

    >>> interp(((0, 0.0), (10, 1.0)), 2.5)
    0.25
    """
    if x <= table[0][0]:
        return table[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(table):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return table[-1][1]


@dataclass(slots=True)
class Physiology:
    """A person's baselines; `vitals` and `labs` draw one visit's measurements around them."""

    male: bool
    adult_height: float
    bmi18: float
    bmi_slope: float
    hr_base: float
    sbp_offset: float
    chol_base: float
    hdl_base: float
    tg_base: float
    hgb_base: float
    creat_base: float

    @classmethod
    def draw(cls, rng: random.Random, male: bool) -> "Physiology":
        g = rng.gauss
        return cls(
            male=male,
            adult_height=g(176.5, 7.0) if male else g(163.0, 6.5),
            bmi18=max(17.5, g(22.5, 3.0)),
            bmi_slope=max(-0.05, g(0.17, 0.1)),  # US adults gain ~0.5 kg a year: median BMI ~28 at 50
            hr_base=g(71, 7),
            sbp_offset=g(0, 7),
            chol_base=g(185, 25),
            hdl_base=g(47, 8) if male else g(58, 10),
            tg_base=max(50.0, g(120, 35)),
            hgb_base=g(15.0, 0.9) if male else g(13.4, 0.8),
            creat_base=g(0.95, 0.12) if male else g(0.76, 0.1),
        )

    def height(self, age: float) -> float:
        h = self.adult_height * interp(GROWTH, age)
        return h - 0.15 * (age - 65) if age > 65 else h

    def bmi(self, age: float, active: set[str]) -> float:
        if age < 18:
            return interp(BMI_CHILD, age) * self.bmi18 / 21.6
        b = self.bmi18 + self.bmi_slope * (min(age, 60) - 18)
        if age > 75:
            b -= 0.12 * (age - 75)
        if "chf" in active:
            b += 1.0
        return max(15.5, b)

    def vitals(self, rng: random.Random, age: float, active: set[str], acute: str | None) -> dict[str, float]:
        """Every vital sign this person could have measured now; callers keep the ones the visit takes."""
        g = rng.gauss
        fever = acute in INFECTIONS and rng.random() < 0.7
        height = self.height(age) + g(0, 0.4)
        bmi = self.bmi(age, active) + g(0, 0.25)
        weight = bmi * (height / 100) ** 2
        if age < 18:
            hr = interp(HR_CHILD, age) + g(0, 6)
            rr = interp(RR_CHILD, age) + g(0, 2)
            sbp = 88 + 1.6 * min(age, 17) + g(0, 6)
        else:
            hr = self.hr_base + g(0, 5) + (6 if "afib" in active else 0)
            rr = g(15, 1.5)
            sbp = 108 + 0.45 * (age - 18) + self.sbp_offset + g(0, 7)
            if "hypertension" in active:
                sbp += rng.uniform(4, 20)
        if fever:
            hr += rng.uniform(10, 25)
            rr += rng.uniform(2, 8)
        if acute in ("mi", "chest_pain", "hip_fracture", "sepsis"):
            hr += rng.uniform(5, 20)
        dbp = 0.55 * sbp + 8 + g(0, 4)
        spo2 = min(100.0, g(97.8, 1.0))
        if "copd" in active:
            spo2 -= rng.uniform(2, 5)
        if acute in ("pneumonia", "copd_exacerbation", "sepsis"):
            spo2 -= rng.uniform(3, 8)
        return {
            "height": height,
            "weight": weight,
            "bmi": weight / (height / 100) ** 2,
            "head": 35 + 13.5 * (1 - math.exp(-age / 0.6)) + g(0, 0.5),
            "hr": max(40.0, hr),
            "rr": max(8.0, rr),
            "sbp": sbp,
            "dbp": min(dbp, sbp - 20),
            "temp": rng.uniform(38.0, 39.6) if fever else g(36.8, 0.25),
            "spo2": max(82.0, spo2),
            "pain": float(rng.randint(3, 9) if acute else rng.choice((0, 0, 0, 1, 2))),
        }

    def labs(self, rng: random.Random, age: float, active: set[str], new: set[str], acute: str | None) -> dict:
        """Every lab this person could have drawn now (mg/dL, mmol/L, ... as in vocab)."""
        g = rng.gauss
        if "diabetes" in active:
            a1c = g(8.6, 1.2) if "diabetes" in new else g(7.2, 0.7)
        elif "prediabetes" in active:
            a1c = g(6.0, 0.2)
        else:
            a1c = g(5.2, 0.25)
        glucose = 28.7 * a1c - 46.7 + g(0, 12)  # ADAG: estimated average glucose from HbA1c
        creat = self.creat_base * (1 + max(0, age - 50) * 0.004) + g(0, 0.07)
        if "ckd" in active:
            creat = rng.uniform(1.4, 2.6) * (1.1 if self.male else 0.9)
        if acute == "sepsis":
            creat *= rng.uniform(1.3, 2.0)
        # MDRD eGFR, as the LOINC code says; laboratories cap the report at 120.
        egfr = 175 * creat**-1.154 * max(age, 18) ** -0.203 * (1 if self.male else 0.742)
        chol = self.chol_base + 0.6 * max(0, min(age, 65) - 20)
        if "hyperlipidemia" in active:
            chol = g(250, 20) if "hyperlipidemia" in new else g(178, 18)
        hdl = self.hdl_base + g(0, 4)
        tg = self.tg_base * (1.5 if "diabetes" in active else 1.0) + g(0, 15)
        infection = acute in INFECTIONS
        hgb = self.hgb_base - (1.5 if "ckd" in active else 0) + g(0, 0.4)
        if "hypothyroidism" in new:
            tsh = g(9.5, 2.5)
        else:
            tsh = g(2.2, 0.8) if "hypothyroidism" in active else g(1.8, 0.6)
        bnp = g(1400, 400) if "chf" in active else g(70, 25)
        return {
            "glucose": max(55.0, glucose),
            "hba1c": a1c,
            "creatinine": max(0.3, creat),
            "bun": g(30, 6) if "ckd" in active else g(14, 3.5),
            "egfr": min(120.0, egfr),
            "sodium": g(139.5, 2),
            "potassium": g(4.8, 0.3) if "ckd" in active else g(4.2, 0.3),
            "chloride": g(103, 2),
            "co2": g(25, 1.8),
            "calcium": g(9.5, 0.3),
            "wbc": rng.uniform(11.5, 19) if infection else g(7.0, 1.4),
            "rbc": hgb / 3.0 + g(0, 0.1),
            "hemoglobin": hgb,
            "hematocrit": hgb * 2.95 + g(0, 0.8),
            "platelets": g(250, 45),
            "cholesterol": chol,
            "triglycerides": max(40.0, tg),
            "hdl": max(25.0, hdl),
            "ldl": max(40.0, chol - hdl - tg / 5),  # Friedewald
            "tsh": max(0.1, tsh),
            "bnp": max(10.0, bnp * (3 if acute in ("pneumonia", "copd_exacerbation") and "chf" in active else 1)),
            "troponin": rng.uniform(0.8, 6.0) if acute == "mi" else max(0.0, g(0.01, 0.005)),
            "urine_sg": rng.uniform(1.005, 1.030),
        }
