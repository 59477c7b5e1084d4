"""Frames of discharge summaries, radiology reports and lab reports (the third grammar of
synthetic/clinical_sentences.py): medication lists with strengths, sigs and dispense counts, impressions with
measurements, panels with units and reference ranges, scores and stages; in families, split between the
tuning and check parts as the ICU grammar's are."""

# family name -> (class, frames). Fields in braces are filled by report_values().
# fmt: off
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sig_numbered": ("drug", (
        "{i}. {Drug} {strength} mg Tablet Sig: One (1) Tablet PO {sig_freq} ({sig_words}).",
        "{i}. {Drug} {strength} mg Capsule Sig: Two (2) Capsule PO {sig_freq} ({sig_words}).",
        "{i}. {Drug} {strength} mg Tablet Sig: One (1) Tablet PO Q{q}H (every {q} hours) as needed for pain.",
        "{i}. {Drug} {strength} mcg Tablet Sig: One (1) Tablet PO DAILY (Daily).",
    )),
    "disp_refills": ("drug", (
        "{Drug} {strength} mg Tablet Sig: One (1) Tablet PO {sig_freq}. "
        "Disp:*{disp} Tablet(s)* Refills:*{refills}*",
        "Disp:*{disp} Capsule(s)* Refills:*{refills}* {Drug} {strength} mg capsule",
        "{Drug} {strength} mg tab, #{disp}, {refills} refills, take 1 tab by mouth {freq_words}.",
    )),
    "med_changes": ("drug", (
        "CHANGE {drug} to {strength} mg {freq_words}.",
        "STOP taking {drug} until you see your doctor.",
        "START {drug} {strength} mg by mouth {freq_words}.",
        "INCREASE {Drug} from {strength} mg to {strength2} mg daily.",
        "Continue {drug} {strength} mg; hold {drug2} for SBP < {sbp_cut}.",
    )),
    "taper": ("dose", (
        "{Drug} {taper1} mg PO daily x {days} days, then {taper2} mg daily x {days2} days, then stop.",
        "Prednisone taper: {taper1} mg x {days} days, {taper2} mg x {days2} days, {taper3} mg x {days} days.",
        "Decrease by {taper3} mg every {days} days until off.",
    )),
    "formulations": ("dose", (
        "{Drug} ER {strength} mg tablet, 1 tab by mouth every 12 hours.",
        "{Drug} {pct}% ophthalmic solution, 1 drop OU {sig_freq}.",
        "{Drug} {mcg_act} mcg/actuation inhaler, 2 puffs inhaled q4-6h prn wheezing.",
        "{Drug} {patch} mcg/hr patch, apply 1 patch every 72 hours.",
        "{Drug} {susp} mg/5 mL suspension, {ml} mL PO {sig_freq}.",
    )),
    "insulin_iv": ("dose", (
        "Insulin glargine {u} units subcut at bedtime; lispro per sliding scale, {u2} units with meals.",
        "{Drug} {g} g IV q{q}h x {days} more days via PICC.",
        "Heparin {heparin} units SC q8h, discontinue at discharge.",
        "Potassium chloride {meq} mEq ER tab, 1 tab daily with food.",
    )),
    "discharge_vitals": ("vital", (
        "VS at discharge: T {temp} BP {sbp}/{dbp} HR {hr} RR {rr} O2 sat {sat}% RA.",
        "Vitals on discharge: Tc {temp} Tm {tmax} HR {hr_lo}-{hr} BP {sbp_lo}-{sbp_hi}/{dbp_lo}-{dbp_hi} RR {rr}.",
        "Orthostatics: lying {sbp}/{dbp} HR {hr}, standing {sbp2}/{dbp2} HR {hr2}.",
    )),
    "anthropometrics": ("vital", (
        "Admission weight {wt} kg, discharge weight {wt2} kg, dry weight {wt3} kg.",
        "Ht {ht} cm, Wt {wt} kg, BMI {bmi} kg/m2.",
        "Weight {lbs} lbs ({wt} kg), height 5'{inch}\".",
    )),
    "ref_range": ("lab", (
        "Sodium {na} mmol/L (ref 135-145)",
        "Potassium {k} mmol/L (3.5-5.1) L",
        "Hemoglobin {hgb} g/dL [13.5-17.5] L",
        "Platelets {plt} K/uL (150-400)",
        "TSH {tsh} uIU/mL (0.45-4.50)",
        "Creatinine {cr} mg/dL (0.6-1.3) H",
    )),
    "hyphen_panel": ("lab", (
        "WBC-{wbc} RBC-{rbc} Hgb-{hgb} Hct-{hct} MCV-{mcv} MCH-{mch} MCHC-{mchc} RDW-{rdw} Plt Ct-{plt}",
        "Glucose-{glu} UreaN-{bun} Creat-{cr} Na-{na} K-{k} Cl-{cl} HCO3-{hco3} AnGap-{ag}",
        "ALT-{alt} AST-{ast} AlkPhos-{alp} TotBili-{tbili}",
        "Calcium-{ca} Phos-{phos} Mg-{mg}",
    )),
    "lipids_flags": ("lab", (
        "HbA1c {a1c}% (H), LDL {ldl} mg/dL, HDL {hdl} mg/dL, TG {tg} mg/dL.",
        "BNP {bnp} pg/mL (<100).",
        "INR {inr} (goal 2.0-3.0), PT {pt} sec.",
        "Ferritin {ferritin} ng/mL, iron {iron} ug/dL, TIBC {tibc} ug/dL.",
    )),
    "urinalysis": ("lab", (
        "UA: SG 1.0{sg}, pH {uph}, protein {prot}, nitrite neg, LE {le}, WBC {uwbc}/hpf, RBC {urbc}/hpf.",
        "Urine culture: >{cfu},000 CFU/mL, sensitivities pending.",
        "CSF: WBC {csfw}, RBC {csfr}, protein {csfp}, glucose {csfg}.",
    )),
    "nodule": ("measurement", (
        "{Size} mm nodule in the right upper lobe, unchanged; follow-up CT in {months} months.",
        "IMPRESSION: {a} x {b} x {c} cm heterogeneous mass in the left kidney.",
        "Dominant thyroid nodule measures {a} x {b} cm, TI-RADS {tirads}.",
        "{Size} mm obstructing calculus at the left UVJ with moderate hydronephrosis.",
    )),
    "vessels": ("measurement", (
        "Infrarenal abdominal aorta measures {aorta} cm in maximal diameter.",
        "Right ICA peak systolic velocity {psv} cm/s, ICA/CCA ratio {ratio}.",
        "CBD measures {cbd} mm, no intrahepatic ductal dilation.",
        "Ascending aorta {aorta} cm, aortic root {root} cm.",
    )),
    "echo_dose": ("measurement", (
        "LVEF {ef}%. LA {la} cm. LVIDd {lvid} cm. RVSP {rvsp} mmHg.",
        "CTDIvol {ctdi} mGy, DLP {dlp} mGy-cm.",
        "DEXA: L1-L4 T-score -{tscore}, femoral neck T-score -{tscore2}.",
        "Endometrial stripe {stripe} mm; right ovary {a} x {b} x {c} cm.",
    )),
    "oncology_scores": ("score", (
        "BI-RADS {birads}: probably benign.",
        "Gleason {g1}+{g2}={gs} adenocarcinoma in {cores} of 12 cores.",
        "ECOG {ecog}, Karnofsky {kps}%.",
    )),
    "risk_scores": ("score", (
        "CHA2DS2-VASc {chads}, HAS-BLED {hasbled}.",
        "MELD {meld}, Child class {child}.",
        "NYHA class {nyha}, ASA {asa}.",
        "PHQ-9 {phq}, GAD-7 {gad}.",
    )),
}
# fmt: on

SIG_FREQS = (("DAILY", "Daily"), ("BID", "2 times a day"), ("TID", "3 times a day"), ("QID", "4 times a day"),
             ("HS", "at bedtime"), ("QAM", "every morning"), ("Q12H", "every 12 hours"))  # fmt: skip
FREQ_WORDS = ("once daily", "twice daily", "three times a day", "at bedtime", "every other day", "every morning")


def report_values(rng, drugs) -> dict:
    """The fields of the frames above, drawn from rng; `drugs` is the part's drug lexicon."""
    r, p = rng, rng.choice
    title = lambda w: w[:1].upper() + w[1:]  # noqa: E731
    freq, words = p(SIG_FREQS)
    strength = p(
        (1, 2.5, 5, 10, 12.5, 20, 25, 40, 50, 81, 100, 125, 200, 250, 300, 325, 400, 500, 600, 750, 800, 1000)
    )
    fmt = lambda x: str(int(x)) if float(x).is_integer() else str(x)  # noqa: E731
    return {
        "i": r.randint(1, 18), "Drug": title(p(drugs)), "drug": p(drugs), "drug2": p(drugs),
        "strength": fmt(strength), "strength2": fmt(p((5, 10, 20, 40, 80, 100, 200))),
        "sig_freq": freq, "sig_words": words, "freq_words": p(FREQ_WORDS), "q": p((4, 6, 8, 12)),
        "disp": p((14, 30, 60, 90, 120, 180)), "refills": r.randint(0, 5), "sbp_cut": p((90, 100, 110)),
        "taper1": p((40, 60)), "taper2": p((20, 30)), "taper3": p((5, 10)), "days": r.randint(2, 7),
        "days2": r.randint(2, 7), "pct": p(("0.5", "0.1", "1", "0.005")), "mcg_act": p((45, 90, 108, 160)),
        "patch": p((12, 25, 50, 75)), "susp": p((100, 125, 250)), "ml": p((5, 7.5, 10)),
        "u": r.randint(8, 60), "u2": r.randint(2, 12), "g": p((1, 2)), "heparin": 5000, "meq": p((10, 20)),
        "temp": f"{r.uniform(97.0, 99.5):.1f}", "tmax": f"{r.uniform(98.0, 100.9):.1f}",
        "sbp": r.randint(95, 165), "dbp": r.randint(50, 95), "sbp2": r.randint(85, 150),
        "dbp2": r.randint(45, 90), "hr": r.randint(55, 110), "hr2": r.randint(65, 125),
        "hr_lo": r.randint(55, 75), "sbp_lo": r.randrange(95, 120, 5), "sbp_hi": r.randrange(125, 165, 5),
        "dbp_lo": r.randrange(50, 65, 5), "dbp_hi": r.randrange(70, 95, 5), "rr": r.randint(12, 22),
        "sat": r.randint(93, 100), "wt": f"{r.uniform(45, 140):.1f}", "wt2": f"{r.uniform(45, 140):.1f}",
        "wt3": f"{r.uniform(45, 140):.1f}", "ht": r.randint(150, 195), "bmi": f"{r.uniform(17, 45):.1f}",
        "lbs": r.randint(100, 310), "inch": r.randint(0, 11),
        "na": r.randint(125, 150), "k": f"{r.uniform(2.9, 5.9):.1f}", "hgb": f"{r.uniform(6.5, 16):.1f}",
        "plt": r.randint(20, 600), "tsh": f"{r.uniform(0.01, 12):.2f}", "cr": f"{r.uniform(0.4, 6.5):.1f}",
        "wbc": f"{r.uniform(1.5, 25):.1f}", "rbc": f"{r.uniform(2.5, 6):.2f}", "hct": f"{r.uniform(20, 48):.1f}",
        "mcv": r.randint(70, 110), "mch": f"{r.uniform(24, 35):.1f}", "mchc": f"{r.uniform(30, 36):.1f}",
        "rdw": f"{r.uniform(11, 20):.1f}", "glu": r.randint(60, 400), "bun": r.randint(5, 110),
        "cl": r.randint(90, 115), "hco3": r.randint(14, 34), "ag": r.randint(6, 24),
        "alt": r.randint(8, 900), "ast": r.randint(8, 900), "alp": r.randint(30, 600),
        "tbili": f"{r.uniform(0.2, 12):.1f}", "ca": f"{r.uniform(7, 11):.1f}",
        "phos": f"{r.uniform(1.5, 6.5):.1f}",
        "mg": f"{r.uniform(1.2, 3.0):.1f}", "a1c": f"{r.uniform(5, 13):.1f}", "ldl": r.randint(40, 220),
        "hdl": r.randint(20, 90), "tg": r.randint(50, 900), "bnp": r.randint(10, 4500),
        "inr": f"{r.uniform(0.9, 4.5):.1f}", "pt": f"{r.uniform(10, 40):.1f}", "ferritin": r.randint(5, 2000),
        "iron": r.randint(10, 200), "tibc": r.randint(200, 500), "sg": r.randint(5, 30),
        "uph": p((5, 5.5, 6, 6.5, 7)),
        "prot": p(("neg", "trace", "30", "100")), "le": p(("neg", "small", "mod", "large")),
        "uwbc": r.randint(0, 180), "urbc": r.randint(0, 50), "cfu": p((10, 50, 100)), "csfw": r.randint(0, 2000),
        "csfr": r.randint(0, 5000), "csfp": r.randint(15, 300), "csfg": r.randint(10, 90),
        "Size": r.randint(3, 25), "months": p((3, 6, 12)), "a": f"{r.uniform(0.5, 12):.1f}",
        "b": f"{r.uniform(0.5, 12):.1f}", "c": f"{r.uniform(0.5, 12):.1f}", "tirads": r.randint(1, 5),
        "aorta": f"{r.uniform(1.8, 6.5):.1f}", "psv": r.randint(60, 450), "ratio": f"{r.uniform(0.8, 6):.1f}",
        "cbd": r.randint(3, 14), "root": f"{r.uniform(2.5, 4.8):.1f}", "ef": r.randint(15, 75),
        "la": f"{r.uniform(2.8, 6):.1f}", "lvid": f"{r.uniform(3.5, 7.5):.1f}", "rvsp": r.randint(20, 90),
        "ctdi": f"{r.uniform(2, 60):.1f}", "dlp": r.randint(100, 2400), "tscore": f"{r.uniform(0.5, 3.5):.1f}",
        "tscore2": f"{r.uniform(0.5, 3.5):.1f}", "stripe": r.randint(2, 20), "birads": r.randint(0, 6),
        "g1": r.randint(3, 5), "g2": r.randint(3, 5), "gs": r.randint(6, 10), "cores": r.randint(1, 12),
        "chads": r.randint(0, 9), "hasbled": r.randint(0, 6), "meld": r.randint(6, 40), "child": p("ABC"),
        "ecog": r.randint(0, 4), "kps": p((40, 50, 60, 70, 80, 90, 100)), "nyha": p(("I", "II", "III", "IV")),
        "asa": p(("I", "II", "III", "IV")), "phq": r.randint(0, 27), "gad": r.randint(0, 21),
    }  # fmt: skip
