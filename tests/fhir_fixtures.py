"""Small hand-made FHIR resources for ingest tests (synthetic, no PHI)."""


def patient(pid: str, birth: str = "1960-03-04", gender: str = "female", **extra) -> dict:
    return {
        "resourceType": "Patient",
        "id": pid,
        "gender": gender,
        "birthDate": birth,
        "name": [{"family": "Testperson", "given": ["Ada"]}],
        "identifier": [{"system": "urn:oid:1.2.3", "value": f"MRN-{pid}"}],
        **extra,
    }


def encounter(
    eid: str, pid: str, start: str, end: str | None = None, cls: str = "AMB", ref: str = "urn:uuid:"
) -> dict:
    period = {"start": start, **({"end": end} if end else {})}
    return {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": cls},
        "subject": {"reference": f"{ref}{pid}"},
        "period": period,
    }


def lab(oid: str, pid: str, when: str, code: str = "2345-7", value: float = 98.0, unit: str = "mg/dL",
        ref: str = "urn:uuid:") -> dict:  # fmt: skip
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": "Glucose"}]},
        "subject": {"reference": f"{ref}{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


def condition(cid: str, pid: str, onset: str, code: str = "44054006", ref: str = "urn:uuid:") -> dict:
    return {
        "resourceType": "Condition",
        "id": cid,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": "Diabetes"}]},
        "subject": {"reference": f"{ref}{pid}"},
        "onsetDateTime": onset,
    }
