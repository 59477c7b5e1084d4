"""Code conventions: `VOCAB//value`, and the FHIR coding systems we name vocabularies for."""

SEPARATOR = "//"

# FHIR coding system URI -> MEDS vocabulary prefix. Unknown systems keep a readable tail of their URI.
SYSTEM_VOCABULARY = {
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RXNORM",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD10",
    "http://hl7.org/fhir/sid/icd-9-cm": "ICD9CM",
    "http://www.ama-assn.org/go/cpt": "CPT4",
    "http://www.cms.gov/Medicare/Coding/ICD10": "ICD10PCS",
    "http://hl7.org/fhir/sid/ndc": "NDC",
    "http://unitsofmeasure.org": "UCUM",
    "http://terminology.hl7.org/CodeSystem/v3-ActCode": "ACTCODE",
    "http://dicom.nema.org/resources/ontology/DCM": "DCM",
    "urn:oid:2.16.840.1.113883.6.238": "CDCREC",
}

UNKNOWN_SYSTEM = "UNKNOWN_SYSTEM"


def vocabulary(system: str | None) -> str:
    """Vocabulary prefix for a FHIR coding system URI.

    >>> vocabulary("http://loinc.org")
    'LOINC'
    >>> vocabulary("http://terminology.hl7.org/CodeSystem/condition-category")
    'CONDITION-CATEGORY'
    >>> vocabulary(None)
    'UNKNOWN_SYSTEM'
    """
    if not system:
        return UNKNOWN_SYSTEM
    known = SYSTEM_VOCABULARY.get(system)
    if known:
        return known
    tail = system.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail.upper() or UNKNOWN_SYSTEM


def vocab_code(vocab: str, *parts: str) -> str:
    """Join a vocabulary and value parts into one MEDS code.

    >>> vocab_code("LOINC", "2345-7")
    'LOINC//2345-7'
    >>> vocab_code("ENCOUNTER", "AMB", "END")
    'ENCOUNTER//AMB//END'
    """
    return SEPARATOR.join((vocab, *parts))
