"""Clinical sentences without PHI, built from lexicons and a small grammar: drugs of the installed drug
dictionary, doses and routes, vital signs and their ranges, lab values and panels, scores, clock times,
nursing abbreviations, eponyms, equipment settings; in Title Case, lower case or ALL CAPS. Nothing here may
be marked by a de-identifier, and nothing may be changed by its replacement.

Each sentence has a class (`CLASSES`). The drug and eponym lexicons are split in two by a hash of each
entry: the `check` part writes only entries the `tuning` part never uses, so a fix tuned on one part is
scored on words it never saw.

A second grammar (`grammar="icu"`, synthetic/icu_frames.py) writes ICU nursing shorthand (`K 3.2 repleted w/
40 KCL`, `UO 30-50cc/hr`, `PSV 10/5 FIO2 40%`), mostly in capitals or lower case; its frames come in families
and each class's families are split between the parts, so the check part writes forms the tuning part never
writes as well as words it never writes.

>>> s = ClinicalSentences(part="tuning", seed=7)
>>> [cls for cls, _ in s.take(3)] == [cls for cls, _ in ClinicalSentences(part="tuning", seed=7).take(3)]
True
"""

import bz2
import hashlib
import importlib.util
import pickle
import random
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from synthetic import icu_frames, report_frames

CLASSES = ("drug", "dose", "vital", "lab", "score", "time", "abbreviation", "eponym", "equipment")
REPORT_CLASSES = ("drug", "dose", "vital", "lab", "measurement", "score")
PARTS = ("tuning", "check")
GRAMMARS = ("frames", "icu", "reports")

# Routes, frequencies and units as clinicians write them (a drug's dose is "<amount> <unit> <route> <freq>").
_ROUTES = (
    "PO",
    "IV",
    "IVP",
    "IVPB",
    "SQ",
    "SC",
    "SL",
    "PR",
    "IM",
    "NGT",
    "per NGT",
    "via PEG",
    "PO/NGT",
    "TD",
    "NEB",
)
_FREQS = ("BID", "TID", "QID", "QD", "daily", "QHS", "q4h", "q6h", "q8h", "q12h", "q4-6h", "q2h prn", "PRN", "x1",
          "x2", "once", "now", "q6h prn", "QAM", "qod", "STAT", "q1h prn", "AC/HS", "with meals")  # fmt: skip
_UNITS = ("mg", "mcg", "g", "gm", "mEq", "units", "u", "mL", "cc", "mg/kg", "mcg/kg", "tabs", "puffs", "gtts")
_RATE_UNITS = ("mcg/kg/min", "mcg/min", "mg/hr", "units/hr", "u/hr", "cc/hr", "ml/hr", "mg/min", "mcg/hr")
_FLUIDS = (
    "NS",
    "LR",
    "D5W",
    "D5 1/2NS",
    "D5NS",
    "1/2NS",
    "D5LR",
    "D10W",
    "3% saline",
    "albumin 5%",
    "albumin 25%",
)
_BLOOD = ("PRBC", "FFP", "plts", "cryo", "units PRBCs")
# Amounts by unit, from the ranges clinicians order (five-digit doses and four-digit volumes included:
# they have the shape of a ZIP or a year and are neither).
_AMOUNTS = {
    "mg": (0.5, 1, 2, 2.5, 4, 5, 10, 12.5, 20, 25, 40, 50, 60, 75, 80, 100, 125, 200, 250, 325, 400, 500, 650, 750,
           800, 1000, 1250, 1500, 2000),
    "mcg": (12.5, 25, 50, 75, 88, 100, 112, 125, 150, 200, 250),
    "g": (1, 2, 3.375, 4.5), "gm": (1, 2, 4),
    "mEq": (10, 20, 40, 60, 80),
    "units": (2, 4, 5, 6, 8, 10, 12, 15, 20, 5000, 7500, 10000, 12500, 18000, 20000, 25000, 40000),
    "u": (2, 4, 6, 8, 10, 12),
    "mL": (10, 15, 30, 100, 250, 500, 1000, 1500, 2000), "cc": (5, 10, 30, 60, 100, 250, 500, 1000),
    "mg/kg": (1, 5, 10, 15), "mcg/kg": (0.5, 1, 2),
    "tabs": (1, 2), "puffs": (2, 4, 6), "gtts": (1, 2),
}  # fmt: skip
_INDICATIONS = ("pain", "agitation", "HTN", "SBP > 160", "nausea", "fever", "K 3.2", "anxiety", "constipation",
                "sleep", "rate control", "afib with RVR", "low UO", "wheezing", "CIWA > 10", "BS 250")  # fmt: skip
_DRUG_FRAMES = (
    "{Drug} {dose} {route} {freq}.",
    "{Drug} {dose} {route} given at {clock} for {indication}.",
    "Started {drug} {dose} {route} {freq} per team.",
    "Pt received {drug} {dose} {route} x1 with good effect.",
    "{Drug} held this am for {indication}, MD aware.",
    "{Drug} gtt at {rate} {rate_unit}, titrating to MAP > 65.",
    "Cont {drug} and {drug2} as ordered.",
    "{Drug} d/c'd, {drug2} {dose} {route} started.",
    "Medicated with {drug} {dose} {route} for {indication} @ {clock}.",
    "Pt refusing {drug} this shift, team aware.",
    "{Drug} level due at {clock}.",
    "Given {drug} {dose} and {drug2} {dose2} prior to procedure.",
    "On {drug} {dose} {route} {freq}; {drug2} changed to {freq2}.",
    "{Drug} {dose} {route} {freq} prn {indication}.",
    "Home meds include {drug}, {drug2} and {drug3}.",
    "{Drug} restarted at {rate} {rate_unit}.",
    "Pt given {drug} {dose_tight} {route} for {indication}.",
    "{Drug} {dose_tight} {route} {freq}, {drug2} {dose2} {route2} {freq2}.",
    "Spoke with pharmacy re {drug} dosing, changed to {dose} {freq}.",
)
_DOSE_FRAMES = (
    "Heparin {heparin} units in {bag} mL D5W at {rate} units/hr.",
    "{fluid} {bolus} mL bolus x{n} for low UO.",
    "{fluid} at {rate} cc/hr, {bolus} mL given over {hours} hrs.",
    "KCL {meq} MEQ PO x{n}, recheck K at {clock}.",
    "Mag sulfate {g} gm IV over {hours} hrs.",
    "Insulin gtt at {u} units/hr per protocol, SS coverage with {u2} units.",
    "Vanco {vanco} mg IV q{q}h, trough before 4th dose.",
    "Transfused {n} {blood}, post Hct pending.",
    "TF at {rate} cc/hr, goal {goal} cc/hr, residuals < {resid} cc.",
    "Pt {io} cc neg so far, {io2} cc pos LOS.",
    "I/O {io}/{io2} for the shift.",
    "Penicillin G {pcn} million units IV q4h.",
    "Enoxaparin {eno} mg SQ q12h, heparin {heparin} units SQ held.",
    "Free water flush {bolus2} mL q{q}h via PEG.",
    "Total of {bolus} mL out via foley since {clock}.",
    "Received {n} L {fluid} in ED, {bolus} mL more ordered.",
    "{fluid} {bolus} mL + KCL {meq} mEq at {rate} mL/hr.",
    "Tylenol {tyl} mg PR q6h prn T > {tcut}.",
    "Heparin {heparin_comma} units SQ, {bolus_comma} mL NS KVO.",
    "KCL {meq} MEQ PO and {meq2} MEQ IV given.",
    "{fluid} {bolus}cc x{n}, then {rate}cc/hr.",
    "Heparin bolus {heparin_comma} units, gtt at {u3} units/hr.",
)
_VITAL_FRAMES = (
    "BP {sbp}/{dbp} HR {hr} RR {rr} T {temp} SpO2 {sat}% on {o2}.",
    "BP {sbp_lo}-{sbp_hi}/{dbp_tens}s, HR {hr_lo}-{hr_tens}s {rhythm}.",
    "HR {hr_lo}-{hr_tens}s {rhythm}, no ectopy noted.",
    "T max {tmax}, currently {temp} PO.",
    "Tmax {tmax_c} overnight, pan cultured.",
    "SpO2 {sat_lo}-{sat}% on {o2}, RR {rr_lo}-{rr}.",
    "SBP {sbp_tens}s-{sbp_tens2}s on {drip}.",
    "MAP {map_lo}-{map_hi}, CVP {cvp}-{cvp2}.",
    "Afebrile, VSS, HR {hr} {rhythm}, BP {sbp}/{dbp}.",
    "Sats {sat}% RA at rest, {sat_lo}% with ambulation.",
    "RR {rr} unlabored, HR {hr}, BP {sbp}/{dbp} ({map}).",
    "PAP {pas}/{pad}, wedge {wedge}, CO {co} CI {ci} SVR {svr}.",
    "Temp {temp_c} C axillary, HR {hr}.",
    "BP stable {sbp_lo}-{sbp_hi}/{dbp_lo}-{dbp_hi} off pressors.",
)
_LAB_FRAMES = (
    "K {k}, repleted with KCL {meq} mEq.",
    "Hct {hct}->{hct2} after {n} units PRBC.",
    "INR {inr}, PTT {ptt}, plt {plt}.",
    "WBC {wbc}, up from {wbc2}.",
    "Na {na} K {k} Cl {cl} HCO3 {hco3} BUN {bun} Cr {cr} Glu {glu}.",
    "Mg {mg}, Phos {phos}, iCa {ica}.",
    "ABG {ph}/{pco2}/{po2}/{hco3} on current settings.",
    "Lactate {lac}, trending down.",
    "Trop {trop}, CK {ck}, MB {mb}.",
    "FS BS {bs}, covered with {u} units per SS.",
    "Hgb {hgb} from {hgb2}, no active bleeding.",
    "AM labs: Cr {cr} (baseline {cr2}), BUN {bun}.",
    "Fingersticks {bs_lo}-{bs}.",
    "Albumin {alb}, LFTs pending.",
    "Vanco trough {trough}, level in range.",
    "Urine lytes sent, urine Na {una}.",
)
_SCORE_FRAMES = (
    "GCS {gcs} (E{e}V{v}M{m}).",
    "RASS {rass}, goal 0 to -{rass_goal}.",
    "CIWA {ciwa}, medicated per protocol.",
    "Pain {pain}/10, medicated, now {pain2}/10.",
    "Pain {pain_lo}-{pain}/10 at incision.",
    "CPOT {cpot}, no signs of distress.",
    "Braden {braden}, on turning schedule.",
    "Morse fall score {morse}, bed alarm on.",
    "NIHSS {nihss} on arrival, {nihss2} at this time.",
    "CAM-ICU {cam}, RASS {rass}.",
    "Strength {mmt}/5 all extremities.",
    "Murmur {murmur}/6 at LSB.",
    "Apgars {apgar}/{apgar2}.",
)
_TIME_FRAMES = (
    "Labs drawn at {clock}.",
    "Turned q{q}h, skin intact.",
    "Extubated @ {clock_colon} without difficulty.",
    "Nursing note {shift_from}-{shift_to}.",
    "NPO since {clock} for procedure at {clock2}.",
    "Neuro checks q{q}h, last at {clock}.",
    "Foley removed @{clock}, to void by {clock2}.",
    "Sedation held at {clock} for SBT.",
    "Dressing changed at {clock_colon}.",
    "Repeat lytes at {clock} and {clock2}.",
    "Turned and repositioned @ {clock_colon}, skin intact.",
    "Next dose due @ {clock}.",
    "Fever to {tmax} at {clock}, cultures sent.",
    "Pt slept from {clock} to {clock2}.",
    "Vitals q{q}h overnight, q1h since {clock}.",
)
_ABBREVIATION_FRAMES = (
    "A&Ox{ox}, MAE, PERRLA {pupil}mm brisk.",
    "LS {ls}, {ls2} at bases.",
    "Abd soft NT/ND, +BS x4 quads.",
    "Foley to CD draining {urine} urine.",
    "{code} per HCP, confirmed with team.",
    "{Abbr} consult placed, {abbr2} to follow.",
    "{Abbr} aware of {finding}.",
    "OOB to chair with {abbr_assist}, tol well.",
    "NPO after MN for {study} in am.",
    "{Abbr}: {finding}, will monitor.",
    "S/P {procedure_abbr} POD #{pod}, {finding}.",
    "Hx {hx}, {hx2}, {hx3}.",
    "CXR done, ETT {ett} cm above carina.",
    "{Abbr} and {abbr2} following, plan to {plan}.",
)
_EPONYM_FRAMES = (
    "{Eponym} sign negative bilat.",
    "Hx {eponym_disease}.",
    "Pt with known {eponym_disease}, on home meds.",
    "Placed in {position} position for line placement.",
    "{Device} in place, {amount} cc serosang out.",
    "{Pattern} respirations noted during sleep.",
    "{Eponym} test positive on the left.",
    "s/p {procedure} {pod} days ago.",
    "{Device} intact, dressing C/D/I.",
    "Dx {eponym_disease}, team following.",
)
_EQUIPMENT_FRAMES = (
    "Vent AC {tv} x {rate_vent} / PEEP {peep} / FiO2 {fio2}%.",
    "On PSV {ps}/{peep}, FiO2 .{fio2}, RSBI {rsbi}.",
    "CPAP {peep} PS {ps}, TV {tv_lo}-{tv}.",
    "BiPAP {ipap}/{epap} at {fio2}% overnight.",
    "{o2} with sats {sat}%.",
    "IABP {ratio}, augmented MAP {map}.",
    "CVVH at {cvvh} mL/hr, removing {uf} mL/hr.",
    "PICC R arm {picc} cm, CXR confirmed.",
    "ETT {ett_size} taped {ett_lip} @ lip.",
    "NGT {ngt} cm at nare, placement checked.",
    "{gauge}g PIV L AC, site clean.",
    "Chest tube to -{suction} cm sx, no air leak.",
    "Pacer DDD {pace}, VVI backup at {pace2}.",
    "Trach {trach} cuffed, {o2_trach} at {fio2}%.",
)
_RHYTHMS = ("SR", "NSR", "ST", "SB", "AF", "afib", "A-flutter", "paced", "SR w/ occ PVCs", "ST w/ PACs")
_O2 = ("RA", "2L NC", "3L NC", "4L NC", "6L NC", "40% FM", "50% shovel mask", "100% NRB", "35% trach mask",
       "40% cool neb", "hi flow 40L/60%")  # fmt: skip
_DRIPS = ("levo", "neo", "dopa", "dobutamine", "vasopressin", "nitro", "propofol", "insulin")
# Nursing shorthand: services, findings, plans, procedures, histories.
_SERVICES = ("PT", "OT", "SLP", "GI", "ID", "CT surgery", "IR", "EP", "renal", "pulm", "neuro", "psych", "SW",
             "CM", "nutrition", "RT", "wound care", "pain service", "palliative care", "ortho")  # fmt: skip
_FINDINGS = ("low UO", "BS 60s", "new onset afib", "K 3.1", "SBP 80s", "HR 130s", "temp 101.4", "Hct drop",
             "bloody stool", "LE edema", "new rash", "agitation", "desat to 88%", "CP 6/10", "no BM x3 days",
             "positive cx", "elevated lactate", "blood in NGT")  # fmt: skip
_PLANS = ("diurese", "wean vent", "advance diet", "d/c foley", "check CBC", "repeat CXR", "start TF",
          "transfuse 1 unit", "cont abx", "OOB tomorrow", "d/c a-line", "repeat echo")  # fmt: skip
_STUDIES = ("EGD", "TEE", "CT abd", "MRI", "cath", "ERCP", "IR drain", "bronch", "PEG", "colonoscopy", "LP")
_HISTORIES = ("CAD", "CHF", "DM2", "HTN", "COPD", "CKD", "ESRD on HD", "afib", "PVD", "CVA", "OSA", "ETOH abuse",
              "GERD", "BPH", "hypothyroid", "PE", "DVT", "MI", "CABG", "AAA")  # fmt: skip
_URINE = ("clear yellow", "amber", "cloudy", "blood tinged", "tea colored", "concentrated", "dark amber")
_LUNGS = ("CTA", "clear", "coarse", "rhonchi", "crackles", "diminished", "dim", "exp wheeze")
# Eponyms of diseases, signs, positions, devices, procedures and breathing patterns (many are common surnames:
# only the noun after them says they name a sign or a disease here).
_EPONYM_SIGNS = ("Homans", "Babinski", "Kernig", "Brudzinski", "Murphy", "Chvostek", "Trousseau", "Romberg",
                 "Tinel", "Phalen", "Cullen", "Kehr", "Rovsing", "Battle", "Lhermitte", "Hoffmann", "Allen",
                 "McMurray", "Lachman", "Thompson", "Kussmaul", "Levine", "Grey Turner",
                 "Courvoisier")  # fmt: skip
_EPONYM_DISEASES = ("Parkinson's disease", "Alzheimer's dementia", "Crohn's disease", "Graves disease",
                    "Hashimoto thyroiditis", "Wernicke's encephalopathy", "Guillain-Barre syndrome",
                    "Hodgkin lymphoma", "Bell's palsy", "Barrett esophagus", "Cushing syndrome",
                    "Addison's disease",
                    "Wilson disease", "Huntington disease", "Raynaud phenomenon", "Sjogren syndrome",
                    "Takotsubo cardiomyopathy", "Mallory-Weiss tear", "Wolff-Parkinson-White", "Kawasaki disease",
                    "Paget disease", "Dupuytren contracture", "Legionnaires disease", "Lou Gehrig's disease",
                    "Stevens-Johnson syndrome", "Marfan syndrome", "Tourette syndrome", "Down syndrome",
                    "Meniere's disease", "Hirschsprung disease", "Ludwig's angina", "Prinzmetal angina",
                    "Fournier's gangrene", "Charcot foot", "Zenker diverticulum", "Boerhaave syndrome",
                    "Budd-Chiari syndrome", "Dressler syndrome", "Brugada syndrome",
                    "Cheyne-Stokes breathing")  # fmt: skip
_POSITIONS = ("Trendelenburg", "reverse Trendelenburg", "Fowler's", "semi-Fowler's", "Sims")
_DEVICES = ("Jackson-Pratt drain", "JP drain", "Swan-Ganz catheter", "Foley catheter", "Salem sump",
            "Dobhoff tube",
            "Hickman catheter", "Quinton catheter", "Groshong catheter", "Blake drain", "Penrose drain",
            "Hemovac", "Pleurevac", "Miami J collar", "Philadelphia collar", "Bair Hugger", "Posey belt",
            "Sengstaken-Blakemore tube", "Minnesota tube", "Ommaya reservoir", "Denver shunt",
            "Tenckhoff catheter",
            "Cordis introducer", "Mahurkar catheter", "Ambu bag")  # fmt: skip
_PATTERNS = ("Cheyne-Stokes", "Kussmaul", "Biot's")
_PROCEDURES = ("Whipple", "Nissen fundoplication", "Hartmann procedure", "Billroth II", "Roux-en-Y", "Ivor Lewis",
               "Bentall", "Ross procedure", "Fontan", "Glenn shunt", "Heller myotomy", "Lichtenstein repair",
               "Mohs surgery", "Kasai procedure", "Bankart repair", "Ilizarov fixation",
               "Roux-en-Y bypass")  # fmt: skip
_FRAMES = {
    "drug": _DRUG_FRAMES, "dose": _DOSE_FRAMES, "vital": _VITAL_FRAMES, "lab": _LAB_FRAMES, "score": _SCORE_FRAMES,
    "time": _TIME_FRAMES, "abbreviation": _ABBREVIATION_FRAMES, "eponym": _EPONYM_FRAMES,
    "equipment": _EQUIPMENT_FRAMES,
}  # fmt: skip
_STYLES = ("title", "lower", "caps")
_ICU_STYLES = ("caps", "caps", "caps", "lower", "lower", "title")
# Section headers of a nursing note, by the class of what follows them.
_HEADERS = {
    "drug": ("Meds:", "Gtts:", "Drips:", "Pain:"), "dose": ("IVF:", "I&O:", "Heme:", "Renal:", "FEN:"),
    "vital": ("CV:", "Resp:", "VS:", "Hemodynamics:"), "lab": ("Labs:", "Lytes:", "Heme:", "ID:"),
    "score": ("Neuro:", "Pain:", "Safety:"), "time": ("Plan:", "Events:", "Skin:"),
    "abbreviation": ("GI:", "GU:", "Social:", "Skin:", "ID:", "Endo:", "Activity:"),
    "eponym": ("PMH:", "Skin:", "Neuro:", "Assessment:"), "equipment": ("Resp:", "Lines:", "Vent:", "Access:"),
}  # fmt: skip


# Section headers of discharge summaries and reports, by the class of what follows them.
_REPORT_HEADERS = {
    "drug": ("Discharge Medications:", "Medications on Admission:", "Home meds:"),
    "dose": ("Discharge Medications:", "Instructions:"), "vital": ("Physical Exam:", "Discharge Exam:"),
    "lab": ("Pertinent Results:", "Labs:", "Discharge Labs:"), "measurement": ("IMPRESSION:", "FINDINGS:"),
    "score": ("Assessment:", "Pathology:"),
}  # fmt: skip


def in_check_part(entry: str) -> bool:
    """Whether a lexicon entry belongs to the check part: a third of entries by a hash of the entry (stable
    across runs and Python versions)."""
    return int(hashlib.sha256(entry.lower().encode()).hexdigest(), 16) % 3 == 0


def grammar_classes(grammar: str) -> tuple[str, ...]:
    """The classes of sentences a grammar writes."""
    return REPORT_CLASSES if grammar == "reports" else CLASSES


def icu_families(part: str, families: dict | None = None) -> dict[str, tuple[str, ...]]:
    """The ICU grammar's frames of one part (or another grammar's `families`), by class: of each class's
    families, ordered by a hash of their names, the first third (one at least) is the check part's, the rest
    the tuning part's."""
    families = icu_frames.FAMILIES if families is None else families
    by_class: dict[str, list[str]] = {}
    for name, (cls, _) in families.items():
        by_class.setdefault(cls, []).append(name)
    out = {}
    for cls, names in by_class.items():
        ranked = sorted(names, key=lambda n: hashlib.sha256(f"family:{n}".encode()).hexdigest())
        cut = max(1, len(ranked) // 3)
        mine = ranked[:cut] if part == "check" else ranked[cut:]
        out[cls] = tuple(f for n in mine for f in families[n][1])
    return out


@lru_cache(maxsize=1)
def drug_lexicon() -> tuple[str, ...]:
    """One-word drug names (generics and brands, lower case) with a MedlinePlus entry, of the dictionary that
    the drug-named-entity-recognition package ships; read from its dictionary file without importing it (its
    import loads much more). Raises LookupError when the package is not installed."""
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("drug-named-entity-recognition is not installed: no drug lexicon")
    path = Path(next(iter(spec.submodule_search_locations))) / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path, "rb") as f:
        data = pickle.load(f)  # the package's own shipped dictionary, read as its loader reads it
    canonical, data_of = data["drug_variant_to_canonical"], data["drug_canonical_to_data"]
    return tuple(
        sorted(
            v
            for v in data["drug_variant_to_variant_data"]  # the MedlinePlus names, brands among them
            if v.isalpha() and v.isascii() and 4 <= len(v) <= 16
            and any("medline_plus_id" in data_of.get(c, {}) for c in canonical.get(v, ()))
        )
    )  # fmt: skip


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class ClinicalSentences:
    """A seeded stream of (class, sentence) pairs of one part (`tuning` or `check`)."""

    def __init__(self, part: str = "tuning", seed: int = 0, grammar: str = "frames") -> None:
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}; expected one of {PARTS}")
        if grammar not in GRAMMARS:
            raise ValueError(f"unknown grammar {grammar!r}; expected one of {GRAMMARS}")
        want = part == "check"
        self.grammar = grammar
        self.classes = grammar_classes(grammar)
        self.frames = (
            _FRAMES if grammar == "frames"
            else icu_families(part, report_frames.FAMILIES if grammar == "reports" else None)
        )  # fmt: skip
        self.rng = random.Random(f"{part}:{seed}" if grammar == "frames" else f"{grammar}:{part}:{seed}")
        self.drugs = [d for d in drug_lexicon() if in_check_part(d) == want]
        keep = lambda seq: [e for e in seq if in_check_part(e) == want] or list(seq)  # noqa: E731
        self.signs, self.diseases = keep(_EPONYM_SIGNS), keep(_EPONYM_DISEASES)
        self.devices, self.procedures = keep(_DEVICES), keep(_PROCEDURES)
        self.scales, self.eponyms_short = keep(icu_frames.SCALES), keep(icu_frames.EPONYMS_SHORT)
        self.devices_short = keep(icu_frames.DEVICES_SHORT)

    def take(self, n: int) -> list[tuple[str, str]]:
        """The next n sentences, the classes in turn."""
        return [next(self) for _ in range(n)]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return self

    def __next__(self) -> tuple[str, str]:
        cls = self.rng.choice(self.classes)
        return cls, self.sentence(cls)

    def sentence(self, cls: str) -> str:
        """One sentence of class `cls`, in one of the three case styles (the ICU grammar: capitals half of the
        time, lower case a third, as written the rest; a line may hold two facts of its class)."""
        if self.grammar == "reports":
            return self._report_sentence(cls)
        text = self._fill(self._pick(self.frames[cls]))
        if self.grammar == "icu" and self.rng.random() < 0.3:
            text = f"{text}{self._pick(('. ', ', ', '; ', ' '))}{self._fill(self._pick(self.frames[cls]))}"
        if self.rng.random() < 0.3:
            text = f"{self._pick(_HEADERS[cls])} {text}"
        style = self.rng.choice(_STYLES if self.grammar == "frames" else _ICU_STYLES)
        if style == "lower":
            return text.lower()
        if style == "caps":
            return text.upper()
        return text

    def _report_sentence(self, cls: str) -> str:
        """A line of a discharge summary, a radiology report or a lab report: as written most of the time,
        in capitals a fifth, in lower case a tenth; a fifth after its section's header."""
        text = self._pick(self.frames[cls]).format(**report_frames.report_values(self.rng, self.drugs))
        if self.rng.random() < 0.2:
            text = f"{self._pick(_REPORT_HEADERS[cls])} {text}"
        roll = self.rng.random()
        return text.upper() if roll < 0.2 else text.lower() if roll < 0.3 else text

    # -- pieces --------------------------------------------------------------------------------------------
    def _pick(self, seq):
        return self.rng.choice(seq)

    def _dose_text(self) -> str:
        unit = self._pick(_UNITS)
        return f"{_fmt(self._pick(_AMOUNTS[unit]))} {unit}"

    def _clock(self) -> str:
        return f"{self.rng.randrange(24):02d}{self._pick((0, 0, 15, 30, 45)):02d}"

    def _fill(self, frame: str) -> str:
        r, p = self.rng, self._pick
        title = lambda w: w[:1].upper() + w[1:]  # noqa: E731
        drug = lambda: (title if r.random() < 0.5 else str)(p(self.drugs))  # noqa: E731  mid-sentence, either case
        d1 = p(self.drugs)
        values = {
            "Drug": title(d1), "drug": d1, "drug2": drug(), "drug3": drug(),
            "dose": self._dose_text(), "dose2": self._dose_text(), "route": p(_ROUTES), "route2": p(_ROUTES),
            "dose_tight": self._dose_text().replace(" ", "", 1) if r.random() < 0.5 else self._dose_text(),
            "heparin_comma": f"{p((5000, 7500, 10000, 12500, 25000)):,}", "bolus_comma": f"{p((1000, 2000)):,}",
            "meq2": p((10, 20, 40)), "u3": p((800, 900, 1000, 1100, 1200, 1500)),
            "freq": p(_FREQS), "freq2": p(_FREQS), "clock": self._clock(), "clock2": self._clock(),
            "clock_colon": f"{r.randrange(24):02d}:{p((0, 15, 30, 45)):02d}", "indication": p(_INDICATIONS),
            "rate": _fmt(p((0.5, 1, 2, 3, 5, 8, 10, 12, 20, 50, 75, 100, 125, 150, 200))),
            "rate_unit": p(_RATE_UNITS),
            "heparin": p((5000, 10000, 12500, 20000, 25000)), "bag": p((250, 500)), "fluid": p(_FLUIDS),
            "bolus": p((250, 500, 1000, 1500, 2000)), "bolus2": p((30, 50, 100, 150, 200, 250)),
            "n": r.randint(1, 3),
            "hours": r.randint(1, 4), "meq": p((10, 20, 40, 60)), "g": p((1, 2, 4)), "u": r.randint(1, 12),
            "u2": r.randint(2, 10), "vanco": p((750, 1000, 1250, 1500, 1750)), "q": p((2, 4, 6, 8, 12, 24)),
            "blood": p(_BLOOD), "goal": p((40, 50, 60, 70, 80)), "resid": p((100, 150, 200, 250)),
            "io": r.randint(200, 2900), "io2": r.randint(200, 2900), "pcn": p((2, 3, 4, 24)),
            "eno": p((30, 40, 60, 80, 100)), "tyl": p((325, 650, 1000)), "tcut": p(("101", "101.5", "38.5")),
            "sbp": r.randint(85, 185), "dbp": r.randint(40, 100), "hr": r.randint(50, 140), "rr": r.randint(10,
            32),
            "temp": f"{r.uniform(96.5, 101.9):.1f}", "temp_c": f"{r.uniform(35.8, 39.6):.1f}",
            "sat": r.randint(92, 100), "sat_lo": r.randint(86, 93), "o2": p(_O2), "rr_lo": r.randint(8, 14),
            "sbp_lo": r.randrange(90, 130, 10), "sbp_hi": r.randrange(130, 180, 10), "dbp_tens": r.randrange(40,
            90, 10),
            "dbp_lo": r.randrange(40, 60, 10), "dbp_hi": r.randrange(60, 90, 10),
            "hr_lo": r.randrange(60, 100, 10), "hr_tens": r.randrange(100, 140, 10), "rhythm": p(_RHYTHMS),
            "tmax": f"{r.uniform(99.0, 103.4):.1f}", "tmax_c": f"{r.uniform(37.5, 40.1):.1f}",
            "sbp_tens": r.randrange(80, 110, 10), "sbp_tens2": r.randrange(110, 160, 10), "drip": p(_DRIPS),
            "map_lo": r.randint(55, 65), "map_hi": r.randint(66, 95), "map": r.randint(60, 110),
            "cvp": r.randint(2, 10), "cvp2": r.randint(11, 18), "pas": r.randint(25, 60), "pad": r.randint(10, 30),
            "wedge": r.randint(8, 26), "co": f"{r.uniform(2.5, 8.0):.1f}", "ci": f"{r.uniform(1.6, 4.2):.1f}",
            "svr": r.randint(600, 1900),
            "k": f"{r.uniform(2.8, 5.9):.1f}", "hct": f"{r.uniform(20, 40):.1f}",
            "hct2": f"{r.uniform(20, 40):.1f}",
            "inr": f"{r.uniform(0.9, 4.5):.1f}", "ptt": f"{r.uniform(22, 120):.1f}", "plt": r.randint(20, 450),
            "wbc": f"{r.uniform(1.5, 30):.1f}", "wbc2": f"{r.uniform(1.5, 30):.1f}", "na": r.randint(125, 150),
            "cl": r.randint(90, 115), "hco3": r.randint(14, 34), "bun": r.randint(5, 110),
            "cr": f"{r.uniform(0.4, 6.5):.1f}", "cr2": f"{r.uniform(0.6, 2.0):.1f}", "glu": r.randint(60, 450),
            "mg": f"{r.uniform(1.2, 3.0):.1f}", "phos": f"{r.uniform(1.5, 6.5):.1f}",
            "ica": f"{r.uniform(0.9, 1.3):.2f}",
            "ph": f"{r.uniform(7.15, 7.55):.2f}", "pco2": r.randint(25, 75), "po2": r.randint(55, 300),
            "lac": f"{r.uniform(0.6, 9.0):.1f}", "trop": f"{r.uniform(0.01, 4.5):.2f}", "ck": r.randint(40, 4500),
            "mb": r.randint(1, 90), "bs": r.randint(110, 400), "bs_lo": r.randint(60, 110),
            "hgb": f"{r.uniform(6.5, 14):.1f}", "hgb2": f"{r.uniform(6.5, 14):.1f}",
            "alb": f"{r.uniform(1.5, 4.5):.1f}",
            "trough": f"{r.uniform(5, 30):.1f}", "una": r.randint(5, 120),
            "gcs": r.randint(3, 15), "e": r.randint(1, 4), "v": r.randint(1, 5), "m": r.randint(1, 6),
            "rass": p(("-5", "-4", "-3", "-2", "-1", "0", "+1", "+2", "+3")), "rass_goal": r.randint(1, 3),
            "ciwa": r.randint(0, 30), "pain": r.randint(1, 10), "pain2": r.randint(0, 6),
            "pain_lo": r.randint(0, 5),
            "cpot": r.randint(0, 8), "braden": r.randint(6, 23), "morse": p((0, 15, 25, 35, 45, 55, 65, 75, 85)),
            "nihss": r.randint(0, 30), "nihss2": r.randint(0, 30), "cam": p(("negative", "positive", "neg",
            "pos")),
            "mmt": r.randint(0, 5), "murmur": r.randint(1, 4), "apgar": r.randint(5, 9), "apgar2": r.randint(7,
            10),
            "shift_from": p(("0700", "1900", "0700", "2300", "1500")), "shift_to": p(("1900", "0700", "1500",
            "2300")),
            "ox": r.randint(1, 3), "pupil": r.randint(2, 5), "ls": p(_LUNGS), "ls2": p(_LUNGS), "urine": p(_URINE),
            "code": p(("DNR/DNI", "Full code", "DNR", "CMO")), "Abbr": p(_SERVICES), "abbr2": p(_SERVICES),
            "abbr_assist": p(("PT", "A x1", "A x2", "RW", "walker")), "finding": p(_FINDINGS),
            "study": p(_STUDIES),
            "procedure_abbr": p(("CABG", "AVR", "MVR", "PCI", "CEA", "ORIF", "TKR", "THR", "EGD", "ex lap")),
            "pod": r.randint(1, 14), "hx": p(_HISTORIES), "hx2": p(_HISTORIES), "hx3": p(_HISTORIES),
            "ett": f"{r.uniform(1.5, 6):.1f}", "plan": p(_PLANS),
            "Eponym": p(self.signs), "eponym_disease": p(self.diseases), "position": p(_POSITIONS),
            "Device": title(p(self.devices)), "amount": r.randrange(10, 300, 10), "Pattern": p(_PATTERNS),
            "procedure": p(self.procedures),
            "tv": p((350, 400, 450, 500, 550, 600, 700)), "tv_lo": p((200, 250, 300)),
            "rate_vent": r.randint(10, 28),
            "peep": p((5, 8, 10, 12, 15)), "fio2": p((30, 35, 40, 50, 60, 80, 100)), "ps": p((5, 8, 10, 12, 15,
            20)),
            "rsbi": r.randint(20, 140), "ipap": p((10, 12, 14, 16)), "epap": p((4, 5, 6, 8)),
            "ratio": p(("1:1", "1:2", "1:3")), "cvvh": p((1500, 2000, 2500, 3000)), "uf": p((50, 100, 150, 200)),
            "picc": r.randint(35, 55), "ett_size": p(("7.0", "7.5", "8.0")), "ett_lip": r.randint(20, 26),
            "ngt": r.randint(55, 75), "gauge": p((16, 18, 20, 22)), "suction": p((10, 20)),
            "pace": p((60, 70, 80, 90)), "pace2": p((40, 50, 60)), "trach": p(("#6", "#7", "#8", "Shiley 6")),
            "o2_trach": p(("trach mask", "TC", "trach collar")),
        }  # fmt: skip
        if self.grammar == "icu":  # drawn only here: the first grammar's stream stays as it was written
            values |= self._icu_values()
        return frame.format(**values)

    def _icu_values(self) -> dict:
        r, p = self.rng, self._pick
        return {
            "pt": f"{r.uniform(11, 25):.1f}", "be": p(("0", "-2", "-4", "-6", "+2", "+4")),
            "vent_mode": p(icu_frames.VENT_MODES), "lac2": f"{r.uniform(2, 12):.1f}",
            "hct3": f"{r.uniform(20, 40):.1f}", "sbp2": r.randint(85, 185), "dbp2": r.randint(40, 100),
            "pad2": r.randint(31, 40), "svo2": r.randint(45, 85), "uo": r.randint(10, 300),
            "uo_lo": r.randrange(10, 60, 5), "uo_hi": r.randrange(60, 200, 10), "uo_lo2": r.randrange(60, 80, 5),
            "lasix": p((10, 20, 40, 80, 100)), "liters": f"{r.uniform(0.1, 6.5):.1f}", "sign": p(("+", "-")),
            "net": r.randint(50, 3500), "pressor": p(icu_frames.PRESSORS), "dec": p((1, 2, 3, 4, 5, 6, 8)),
            "x": p((0.5, 1, 2, 5, 10, 15, 20, 25, 30, 40, 50, 60)), "scale": p(self.scales),
            "pip": r.randint(18, 30), "pip2": r.randint(31, 45), "plat": r.randint(15, 35),
            "ward": p(icu_frames.WARDS), "ward2": p(icu_frames.WARDS), "eponym2": p(self.eponyms_short),
            "device2": p(self.devices_short), "rhythm2": p(icu_frames.RHYTHMS_NAMED),
            "ca": f"{r.uniform(7.0, 10.5):.1f}", "bs2": r.randint(110, 400), "mmt2": r.randint(0, 5),
            "pupil2": r.randint(2, 5), "o2b": p(icu_frames.O2_MORE), "sign2": p(("+", "-")),
            "liters2": f"{r.uniform(0.1, 9.5):.1f}", "ag": r.randint(8, 24),
        }  # fmt: skip


def clinical_sentences(
    n: int, part: str = "tuning", seed: int = 0, grammar: str = "frames"
) -> list[tuple[str, str]]:
    """n (class, sentence) pairs of one part and grammar, the same for the same part, seed and grammar."""
    return ClinicalSentences(part, seed, grammar).take(n)
