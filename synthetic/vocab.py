"""Code tables for the synthetic generator: LOINC, SNOMED CT, ICD-10-CM, RxNorm, CVX and DICOM, with displays."""

from dataclasses import dataclass, field

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DICOM_UID_SYSTEM = "urn:dicom:uid"
MRN_SYSTEM = "http://hospital.example.org/mrn"
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
ACCESSION_SYSTEM = "http://hospital.example.org/accession"


def coding(system: str, code: str, display: str) -> dict:
    return {"system": system, "code": code, "display": display}


def concept(system: str, code: str, display: str) -> dict:
    """A CodeableConcept with one coding; the display doubles as text, as Synthea does."""
    return {"coding": [coding(system, code, display)], "text": display}


def category(system: str, code: str, display: str) -> list[dict]:
    return [{"coding": [coding(system, code, display)]}]


VITAL_SIGNS = category(OBS_CATEGORY, "vital-signs", "Vital signs")
LABORATORY = category(OBS_CATEGORY, "laboratory", "Laboratory")
SOCIAL_HISTORY = category(OBS_CATEGORY, "social-history", "Social History")
SURVEY = category(OBS_CATEGORY, "survey", "Survey")
LAB_REPORT = category("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")
RAD_REPORT = category("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD", "Radiology")


@dataclass(frozen=True, slots=True)
class Quantity:
    """An Observation with a numeric value: LOINC code, display, UCUM unit and decimals kept."""

    code: str
    display: str
    unit: str
    decimals: int
    concept: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once and shared by every Observation (never mutated): most resources are Observations.
        object.__setattr__(self, "concept", concept(LOINC, self.code, self.display))


# Vital signs (LOINC vital-signs profile codes).
HEART_RATE = Quantity("8867-4", "Heart rate", "/min", 0)
RESP_RATE = Quantity("9279-1", "Respiratory rate", "/min", 0)
SYSTOLIC = Quantity("8480-6", "Systolic blood pressure", "mm[Hg]", 0)
DIASTOLIC = Quantity("8462-4", "Diastolic blood pressure", "mm[Hg]", 0)
BP_PANEL = concept(LOINC, "85354-9", "Blood pressure panel with all children optional")
WEIGHT = Quantity("29463-7", "Body weight", "kg", 1)
HEIGHT = Quantity("8302-2", "Body height", "cm", 1)
BMI = Quantity("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", 1)
TEMPERATURE = Quantity("8310-5", "Body temperature", "Cel", 1)
SPO2 = Quantity("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 0)
HEAD_CIRC = Quantity("9843-4", "Head Occipital-frontal circumference", "cm", 1)
PAIN = Quantity("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", "{score}", 0)

# Laboratory.
GLUCOSE = Quantity("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 0)
HBA1C = Quantity("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 1)
CREATININE = Quantity("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 2)
BUN = Quantity("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 0)
SODIUM = Quantity("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 0)
POTASSIUM = Quantity("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 1)
CHLORIDE = Quantity("2075-0", "Chloride [Moles/volume] in Serum or Plasma", "mmol/L", 0)
CO2 = Quantity("2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "mmol/L", 0)
CALCIUM = Quantity("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 1)
EGFR = Quantity(
    "33914-3",
    "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based "
    "formula (MDRD)",
    "mL/min/{1.73_m2}",
    0,
)
WBC = Quantity("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 1)
RBC = Quantity("789-8", "Erythrocytes [#/volume] in Blood by Automated count", "10*6/uL", 2)
HEMOGLOBIN = Quantity("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 1)
HEMATOCRIT = Quantity("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "%", 1)
PLATELETS = Quantity("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 0)
CHOLESTEROL = Quantity("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 0)
TRIGLYCERIDES = Quantity("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", 0)
HDL = Quantity("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL", 0)
LDL = Quantity("18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "mg/dL", 0)
TSH = Quantity("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", 2)
NT_PROBNP = Quantity(
    "33762-6", "Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma", "pg/mL", 0
)
TROPONIN = Quantity("10839-9", "Troponin I.cardiac [Mass/volume] in Serum or Plasma", "ng/mL", 2)
URINE_SG = Quantity("5811-5", "Specific gravity of Urine by Test strip", "{SG}", 3)
URINE_APPEARANCE = concept(LOINC, "5767-9", "Appearance of Urine")
SMOKING_STATUS = concept(LOINC, "72166-2", "Tobacco smoking status")
SMOKING_VALUES = {
    "never": concept(SNOMED, "266919005", "Never smoked tobacco (finding)"),
    "former": concept(SNOMED, "8517006", "Ex-smoker (finding)"),
    "current": concept(SNOMED, "449868002", "Smokes tobacco daily (finding)"),
}

BMP_PANEL = concept(LOINC, "51990-0", "Basic metabolic panel - Blood")
CBC_PANEL = concept(LOINC, "58410-2", "CBC panel - Blood by Automated count")
LIPID_PANEL = concept(LOINC, "57698-3", "Lipid panel with direct LDL - Serum or Plasma")
URINALYSIS_PANEL = concept(LOINC, "24356-8", "Urinalysis complete panel - Urine")
IMAGING_REPORT = concept(LOINC, "18748-4", "Diagnostic imaging study")


@dataclass(frozen=True, slots=True)
class Condition:
    """A diagnosis with its SNOMED CT and ICD-10-CM codes and the short name notes use."""

    key: str
    snomed: str
    display: str
    icd10: str
    icd10_display: str
    short: str

    @property
    def concept(self) -> dict:
        return {
            "coding": [coding(SNOMED, self.snomed, self.display), coding(ICD10CM, self.icd10, self.icd10_display)],
            "text": self.display,
        }


def _conditions(*rows: tuple[str, str, str, str, str, str]) -> dict[str, Condition]:
    return {row[0]: Condition(*row) for row in rows}


CONDITIONS = _conditions(
    # chronic
    ("hypertension", "59621000", "Essential hypertension (disorder)", "I10", "Essential (primary) hypertension",
     "essential hypertension"),
    ("diabetes", "44054006", "Diabetes mellitus type 2 (disorder)", "E11.9",
     "Type 2 diabetes mellitus without complications", "type 2 diabetes mellitus"),
    ("prediabetes", "15777000", "Prediabetes (finding)", "R73.03", "Prediabetes", "prediabetes"),
    ("hyperlipidemia", "55822004", "Hyperlipidemia (disorder)", "E78.5", "Hyperlipidemia, unspecified",
     "hyperlipidemia"),
    ("ckd", "433144002", "Chronic kidney disease stage 3 (disorder)", "N18.30",
     "Chronic kidney disease, stage 3 unspecified", "chronic kidney disease stage 3"),
    ("asthma", "195967001", "Asthma (disorder)", "J45.909", "Unspecified asthma, uncomplicated", "asthma"),
    ("copd", "13645005", "Chronic obstructive lung disease (disorder)", "J44.9",
     "Chronic obstructive pulmonary disease, unspecified", "COPD"),
    ("chf", "42343007", "Congestive heart failure (disorder)", "I50.9", "Heart failure, unspecified",
     "congestive heart failure"),
    ("afib", "49436004", "Atrial fibrillation (disorder)", "I48.91", "Unspecified atrial fibrillation",
     "atrial fibrillation"),
    ("cad", "53741008", "Coronary arteriosclerosis (disorder)", "I25.10",
     "Atherosclerotic heart disease of native coronary artery without angina pectoris", "coronary artery disease"),
    ("depression", "35489007", "Depressive disorder (disorder)", "F32.9",
     "Major depressive disorder, single episode, unspecified", "depression"),
    ("osteoarthritis", "239873007", "Osteoarthritis of knee (disorder)", "M17.9",
     "Osteoarthritis of knee, unspecified", "osteoarthritis of the knee"),
    ("hypothyroidism", "40930008", "Hypothyroidism (disorder)", "E03.9", "Hypothyroidism, unspecified",
     "hypothyroidism"),
    ("obesity", "162864005", "Body mass index 30+ - obesity (finding)", "E66.9", "Obesity, unspecified",
     "obesity"),
    # acute, ambulatory
    ("sinusitis", "444814009", "Viral sinusitis (disorder)", "J01.90", "Acute sinusitis, unspecified",
     "viral sinusitis"),
    ("bronchitis", "10509002", "Acute bronchitis (disorder)", "J20.9", "Acute bronchitis, unspecified",
     "acute bronchitis"),
    ("strep", "43878008", "Streptococcal sore throat (disorder)", "J02.0", "Streptococcal pharyngitis",
     "streptococcal pharyngitis"),
    ("otitis", "65363002", "Otitis media (disorder)", "H66.90", "Otitis media, unspecified, unspecified ear",
     "otitis media"),
    ("uti", "68566005", "Urinary tract infectious disease (disorder)", "N39.0",
     "Urinary tract infection, site not specified", "urinary tract infection"),
    ("sprain", "44465007", "Sprain of ankle (disorder)", "S93.409A",
     "Sprain of unspecified ligament of unspecified ankle, initial encounter", "ankle sprain"),
    ("backpain", "161891005", "Backache (finding)", "M54.9", "Dorsalgia, unspecified", "low back pain"),
    # emergency
    ("forearm_fracture", "65966004", "Fracture of forearm (disorder)", "S52.90XA",
     "Unspecified fracture of unspecified forearm, initial encounter for closed fracture", "forearm fracture"),
    ("laceration", "284549007", "Laceration of hand (disorder)", "S61.419A",
     "Laceration without foreign body of unspecified hand, initial encounter", "hand laceration"),
    ("chest_pain", "29857009", "Chest pain (finding)", "R07.9", "Chest pain, unspecified", "chest pain"),
    ("concussion", "110030002", "Concussion injury of brain (disorder)", "S06.0X0A",
     "Concussion without loss of consciousness, initial encounter", "concussion"),
    # inpatient
    ("pneumonia", "233604007", "Pneumonia (disorder)", "J18.9", "Pneumonia, unspecified organism", "pneumonia"),
    ("mi", "22298006", "Myocardial infarction (disorder)", "I21.9", "Acute myocardial infarction, unspecified",
     "acute myocardial infarction"),
    ("stroke", "230690007", "Cerebrovascular accident (disorder)", "I63.9", "Cerebral infarction, unspecified",
     "ischemic stroke"),
    ("hip_fracture", "5913000", "Fracture of neck of femur (disorder)", "S72.009A",
     "Fracture of unspecified part of neck of unspecified femur, initial encounter for closed fracture",
     "hip fracture"),
    ("appendicitis", "74400008", "Appendicitis (disorder)", "K37", "Unspecified appendicitis", "appendicitis"),
    ("copd_exacerbation", "195951007", "Acute exacerbation of chronic obstructive airways disease (disorder)",
     "J44.1", "Chronic obstructive pulmonary disease with (acute) exacerbation", "COPD exacerbation"),
    ("cellulitis", "128045006", "Cellulitis (disorder)", "L03.90", "Cellulitis, unspecified", "cellulitis"),
    ("sepsis", "91302008", "Sepsis (disorder)", "A41.9", "Sepsis, unspecified organism", "sepsis"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Drug:
    rxnorm: str
    display: str
    sig: str
    since: int  # first year on the US market (roughly): keeps apixaban out of 1985

    @property
    def concept(self) -> dict:
        return concept(RXNORM, self.rxnorm, self.display)


def _drug(rxnorm: str, display: str, sig: str, since: int = 1900) -> Drug:
    return Drug(rxnorm, display, sig, since)


DRUGS = {
    "lisinopril": _drug("314076", "lisinopril 10 MG Oral Tablet", "1 tablet by mouth once daily", 1988),
    "amlodipine": _drug("197361", "amLODIPine 5 MG Oral Tablet", "1 tablet by mouth once daily", 1992),
    "hctz": _drug("310798", "Hydrochlorothiazide 25 MG Oral Tablet", "1 tablet by mouth every morning"),
    "metformin": _drug(
        "860975",
        "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
        "1 tablet by mouth twice daily with meals",
        1995,
    ),
    "insulin": _drug(
        "106892",
        "insulin isophane, human 70 UNT/ML / insulin regular, human 30 UNT/ML Injectable Suspension [Humulin]",
        "20 units subcutaneously twice daily",
        1980,
    ),
    "atorvastatin": _drug("617312", "atorvastatin 10 MG Oral Tablet", "1 tablet by mouth at bedtime", 1997),
    "simvastatin": _drug("312961", "Simvastatin 20 MG Oral Tablet", "1 tablet by mouth at bedtime", 1992),
    "albuterol": _drug(
        "745679",
        "200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
        "2 puffs every 4-6 hours as needed for wheezing",
        1981,
    ),
    "fluticasone": _drug(
        "895994",
        "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
        "2 puffs twice daily",
        1996,
    ),
    "furosemide": _drug("313988", "Furosemide 40 MG Oral Tablet", "1 tablet by mouth once daily"),
    "metoprolol": _drug(
        "866414",
        "24 HR Metoprolol succinate 100 MG Extended Release Oral Tablet",
        "1 tablet by mouth once daily",
        1992,
    ),
    "warfarin": _drug("855332", "Warfarin Sodium 5 MG Oral Tablet", "1 tablet by mouth daily, dose per INR"),
    "apixaban": _drug("1364430", "apixaban 5 MG Oral Tablet", "1 tablet by mouth twice daily", 2013),
    "aspirin": _drug("243670", "aspirin 81 MG Oral Tablet", "1 tablet by mouth once daily"),
    "clopidogrel": _drug("309362", "Clopidogrel 75 MG Oral Tablet", "1 tablet by mouth once daily", 1998),
    "sertraline": _drug("312938", "Sertraline 100 MG Oral Tablet", "1 tablet by mouth once daily", 1992),
    "levothyroxine": _drug(
        "966222",
        "Levothyroxine Sodium 0.075 MG Oral Tablet",
        "1 tablet by mouth every morning on an empty stomach",
    ),
    "naproxen": _drug("849574", "Naproxen sodium 220 MG Oral Tablet", "1 tablet by mouth twice daily as needed"),
    "acetaminophen": _drug(
        "313782", "Acetaminophen 325 MG Oral Tablet", "2 tablets by mouth every 6 hours as needed"
    ),
    "ibuprofen": _drug("310965", "Ibuprofen 200 MG Oral Tablet", "2 tablets by mouth every 6 hours as needed"),
    "amoxicillin": _drug(
        "308182", "Amoxicillin 250 MG Oral Capsule", "1 capsule by mouth three times daily x 10 days"
    ),
    "penicillin": _drug(
        "834061", "Penicillin V Potassium 250 MG Oral Tablet", "1 tablet by mouth four times daily x 10 days"
    ),
    "amox_clav": _drug(
        "562251",
        "Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet",
        "1 tablet by mouth every 8 hours x 7 days",
        1984,
    ),
    "smx_tmp": _drug(
        "198335",
        "Sulfamethoxazole 800 MG / Trimethoprim 160 MG Oral Tablet",
        "1 tablet by mouth twice daily x 3 days",
    ),
    "oxycodone_apap": _drug(
        "1049221",
        "Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet",
        "1 tablet by mouth every 6 hours as needed for severe pain",
    ),
    "atorvastatin_80": _drug("259255", "Atorvastatin 80 MG Oral Tablet", "1 tablet by mouth at bedtime", 1997),
}

# Chronic condition -> drugs started at diagnosis (the first one available in that year is used).
CHRONIC_DRUGS = {
    "hypertension": (("lisinopril", "hctz"), ("amlodipine",)),
    "diabetes": (("metformin", "insulin"),),
    "hyperlipidemia": (("atorvastatin", "simvastatin"),),
    "asthma": (("albuterol",), ("fluticasone",)),
    "copd": (("albuterol",),),
    "chf": (("furosemide",), ("metoprolol",)),
    "afib": (("apixaban", "warfarin"),),
    "cad": (("aspirin",),),
    "depression": (("sertraline",),),
    "osteoarthritis": (("naproxen", "acetaminophen"),),
    "hypothyroidism": (("levothyroxine",),),
}
ACUTE_DRUGS = {
    "sinusitis": ("amox_clav",),
    "strep": ("penicillin",),
    "otitis": ("amoxicillin",),
    "bronchitis": ("acetaminophen",),
    "uti": ("smx_tmp",),
    "sprain": ("ibuprofen",),
    "backpain": ("naproxen",),
    "forearm_fracture": ("oxycodone_apap",),
    "laceration": ("ibuprofen",),
    "concussion": ("acetaminophen",),
    "pneumonia": ("amox_clav",),
    "mi": ("aspirin", "clopidogrel", "atorvastatin_80"),
    "stroke": ("aspirin", "atorvastatin_80"),
    "hip_fracture": ("oxycodone_apap",),
    "appendicitis": ("amox_clav",),
    "copd_exacerbation": ("albuterol",),
    "cellulitis": ("amox_clav",),
    "sepsis": ("amox_clav",),
}

ENCOUNTER_CLASS = {
    "AMB": coding(ACT_CODE, "AMB", "ambulatory"),
    "EMER": coding(ACT_CODE, "EMER", "emergency"),
    "IMP": coding(ACT_CODE, "IMP", "inpatient encounter"),
}
ENCOUNTER_TYPES = {
    "wellchild": concept(SNOMED, "410620009", "Well child visit (procedure)"),
    "checkup": concept(SNOMED, "162673000", "General examination of patient (procedure)"),
    "followup": concept(SNOMED, "390906007", "Follow-up encounter (procedure)"),
    "acute": concept(SNOMED, "185345009", "Encounter for symptom (procedure)"),
    "ed": concept(SNOMED, "50849002", "Emergency room admission (procedure)"),
    "inpatient": concept(SNOMED, "32485007", "Hospital admission (procedure)"),
}

PROCEDURES = {
    "colonoscopy": concept(SNOMED, "73761001", "Colonoscopy (procedure)"),
    "mammography": concept(SNOMED, "71651007", "Mammography (procedure)"),
    "appendectomy": concept(SNOMED, "80146002", "Appendectomy (procedure)"),
    "pci": concept(SNOMED, "415070008", "Percutaneous coronary intervention (procedure)"),
    "hip_replacement": concept(SNOMED, "52734007", "Total replacement of hip (procedure)"),
    "spirometry": concept(SNOMED, "127783003", "Spirometry (procedure)"),
    "depression_screening": concept(SNOMED, "171207006", "Depression screening (procedure)"),
    "med_reconciliation": concept(SNOMED, "430193006", "Medication Reconciliation (procedure)"),
    "ecg": concept(SNOMED, "29303009", "Electrocardiographic procedure (procedure)"),
    "suture": concept(SNOMED, "288086009", "Suture open wound (procedure)"),
    "radiography": concept(SNOMED, "363680008", "Radiographic imaging procedure (procedure)"),
    "ct": concept(SNOMED, "77477000", "Computerized axial tomography (procedure)"),
    "mri": concept(SNOMED, "113091000", "Magnetic resonance imaging (procedure)"),
    "ultrasound": concept(SNOMED, "16310003", "Ultrasonography (procedure)"),
}

ALLERGIES = (
    # key, SNOMED code, display, category, note text
    ("penicillin", "91936005", "Allergy to penicillin (finding)", "medication", "penicillin (hives)"),
    ("sulfa", "294505008", "Allergy to sulfonamide (finding)", "medication", "sulfa drugs (rash)"),
    ("latex", "300916003", "Latex allergy (finding)", "environment", "latex"),
    ("peanut", "91935009", "Allergy to peanuts (finding)", "food", "peanuts (anaphylaxis)"),
    ("egg", "91930004", "Allergy to eggs (finding)", "food", "eggs"),
    ("mould", "419474003", "Allergy to mould (finding)", "environment", "mold"),
    ("dander", "232347008", "Dander (animal) allergy (finding)", "environment", "cat dander"),
)


@dataclass(frozen=True, slots=True)
class Vaccine:
    cvx: str
    display: str
    since: int  # first year given routinely in the US

    @property
    def concept(self) -> dict:
        return concept(CVX, self.cvx, self.display)


VACCINES = {
    "hepb": Vaccine("08", "Hep B, adolescent or pediatric", 1991),
    "dtap": Vaccine("20", "DTaP", 1991),
    "dtp": Vaccine("01", "DTP", 1949),
    "ipv": Vaccine("10", "IPV", 1955),
    "hib": Vaccine("49", "Hib (PRP-OMP)", 1988),
    "pcv13": Vaccine("133", "Pneumococcal conjugate PCV 13", 2010),
    "mmr": Vaccine("03", "MMR", 1971),
    "varicella": Vaccine("21", "varicella", 1995),
    "hepa": Vaccine("83", "Hep A, ped/adol, 2 dose", 2006),
    "hpv": Vaccine("62", "HPV, quadrivalent", 2006),
    "mcv4": Vaccine("114", "meningococcal MCV4P", 2005),
    "tdap": Vaccine("115", "Tdap", 2005),
    "td": Vaccine("113", "Td (adult) preservative free", 1970),
    "flu": Vaccine("140", "Influenza, seasonal, injectable, preservative free", 2004),
    "ppsv23": Vaccine("33", "pneumococcal polysaccharide vaccine, 23 valent", 1983),
    "zoster": Vaccine("187", "zoster vaccine recombinant", 2018),
    "covid": Vaccine("208", "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, "
                            "30 mcg/0.3mL dose", 2021),
}  # fmt: skip
# Childhood schedule: (age in months at the well-child visit, vaccine keys).
CHILD_SCHEDULE = (
    (0, ("hepb",)),
    (2, ("dtap", "ipv", "hib", "pcv13", "hepb")),
    (4, ("dtap", "ipv", "hib", "pcv13")),
    (6, ("dtap", "hib", "pcv13", "hepb")),
    (12, ("mmr", "varicella", "hepa", "pcv13")),
    (18, ("dtap", "hepa")),
    (48, ("dtap", "ipv", "mmr", "varicella")),
    (132, ("tdap", "hpv", "mcv4")),
    (192, ("mcv4",)),
)


@dataclass(frozen=True, slots=True)
class Imaging:
    """An imaging study template: modality, body part, SOP class, series layout and the report's finding."""

    key: str
    modality: str
    modality_display: str
    body_snomed: str
    body_display: str
    body_part: str  # DICOM BodyPartExamined
    sop_class: str
    description: str
    series: tuple[tuple[str, int], ...]  # (series description, instances)
    procedure: str  # key into PROCEDURES


IMAGING = {
    "chest_xray": Imaging("chest_xray", "DX", "Digital Radiography", "51185008", "Thoracic structure", "CHEST",
                          "1.2.840.10008.5.1.4.1.1.1.1", "XR CHEST 2 VIEWS", (("PA", 1), ("LATERAL", 1)),
                          "radiography"),
    "forearm_xray": Imaging("forearm_xray", "DX", "Digital Radiography", "14975008", "Forearm structure", "ARM",
                            "1.2.840.10008.5.1.4.1.1.1.1", "XR FOREARM 2 VIEWS", (("AP", 1), ("LATERAL", 1)),
                            "radiography"),
    "hip_xray": Imaging("hip_xray", "CR", "Computed Radiography", "29836001", "Hip region structure", "HIP",
                        "1.2.840.10008.5.1.4.1.1.1", "XR HIP 2 VIEWS", (("AP PELVIS", 1), ("LATERAL HIP", 1)),
                        "radiography"),
    "knee_xray": Imaging("knee_xray", "DX", "Digital Radiography", "72696002", "Knee region structure", "KNEE",
                         "1.2.840.10008.5.1.4.1.1.1.1", "XR KNEE 3 VIEWS", (("AP", 1), ("LATERAL", 1),
                                                                            ("SUNRISE", 1)), "radiography"),
    "ct_head": Imaging("ct_head", "CT", "Computed Tomography", "69536005", "Head structure", "HEAD",
                       "1.2.840.10008.5.1.4.1.1.2", "CT HEAD WO CONTRAST", (("AXIAL 5MM", 4), ("SCOUT", 1)), "ct"),
    "ct_abdomen": Imaging("ct_abdomen", "CT", "Computed Tomography", "113345001", "Abdominal structure",
                          "ABDOMEN", "1.2.840.10008.5.1.4.1.1.2", "CT ABDOMEN PELVIS W CONTRAST",
                          (("AXIAL 5MM", 4), ("CORONAL", 2)), "ct"),
    "mr_brain": Imaging("mr_brain", "MR", "Magnetic Resonance", "12738006", "Brain structure", "BRAIN",
                        "1.2.840.10008.5.1.4.1.1.4", "MRI BRAIN WO CONTRAST", (("AX T2", 3), ("AX DWI", 3)),
                        "mri"),
    "mr_lspine": Imaging("mr_lspine", "MR", "Magnetic Resonance", "122496007", "Lumbar spine structure", "LSPINE",
                         "1.2.840.10008.5.1.4.1.1.4", "MRI LUMBAR SPINE WO CONTRAST", (("SAG T2", 3),
                                                                                       ("AX T2", 2)), "mri"),
    "us_abdomen": Imaging("us_abdomen", "US", "Ultrasound", "113345001", "Abdominal structure", "ABDOMEN",
                          "1.2.840.10008.5.1.4.1.1.6.1", "US ABDOMEN LIMITED", (("RLQ", 3),), "ultrasound"),
    "mammogram": Imaging("mammogram", "MG", "Mammography", "76752008", "Breast structure", "BREAST",
                         "1.2.840.10008.5.1.4.1.1.1.2", "MAMMO SCREENING BILATERAL", (("R CC", 1), ("L CC", 1),
                                                                                     ("R MLO", 1), ("L MLO", 1)),
                         "mammography"),
}  # fmt: skip

# Which reason for a visit orders which imaging study (and with what probability).
IMAGING_FOR = {
    "pneumonia": ("chest_xray", 0.9),
    "copd_exacerbation": ("chest_xray", 0.7),
    "chest_pain": ("chest_xray", 0.4),
    "forearm_fracture": ("forearm_xray", 1.0),
    "hip_fracture": ("hip_xray", 1.0),
    "concussion": ("ct_head", 0.6),
    "stroke": ("ct_head", 1.0),
    "appendicitis": ("ct_abdomen", 0.8),
    "backpain": ("mr_lspine", 0.1),
    "osteoarthritis": ("knee_xray", 0.8),
}
