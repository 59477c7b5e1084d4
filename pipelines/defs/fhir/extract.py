"""Per-resource-type extraction of MEDS-bound events from one FHIR resource (a parsed JSON dict).

Each extractor returns (source patient id, events); an event is (time, code, numeric_value, text_value, unit,
description). Anything the fast path reads is checked and raises `InvalidRecordError` with a value-free reason.
"""

from collections.abc import Callable
from datetime import datetime

from pipelines.defs.fhir.primitives import (
    InvalidRecordError,
    check_id,
    first_coding,
    parse_datetime,
    quantity,
    reference_id,
)
from schemas import quarantine as q
from schemas.codes import vocab_code, vocabulary
from schemas.meds import BIRTH_CODE, DEATH_CODE
from schemas.values import finite_float32

Event = tuple[datetime | None, str, float | None, str | None, str | None, str | None]
Extracted = tuple[str, list[Event]]

_RACE_URL = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
_ETHNICITY_URL = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"


def _concept_code(concept: object, path: str) -> tuple[str, str | None]:
    system, code, display = first_coding(concept, path)
    return vocab_code(vocabulary(system), code), display


def _subject(resource: dict, rtype: str, field: str = "subject") -> str:
    ref = resource.get(field)
    if ref is None:
        raise InvalidRecordError("MISSING_SUBJECT_REFERENCE", f"{rtype}.{field} is missing")
    return reference_id(ref, f"{rtype}.{field}")


def _first_time(resource: dict, rtype: str, fields: tuple[str, ...]) -> datetime:
    """The first present of several time fields; `xPeriod` fields give their start, or their end where the
    start is absent (both are optional in R4: a period known only by its end still dates the record)."""
    for field in fields:
        value = resource.get(field)
        if value is None:
            continue
        if field.endswith("Period"):
            edge = "start" if isinstance(value, dict) and value.get("start") is not None else "end"
            if not isinstance(value, dict) or value.get(edge) is None:
                continue
            return parse_datetime(value[edge], f"{rtype}.{field}.{edge}")
        return parse_datetime(value, f"{rtype}.{field}")
    raise InvalidRecordError("MISSING_TIME", f"{rtype} has none of {', '.join(fields)}")


def patient(r: dict) -> Extracted:
    pid = check_id(r.get("id"), "Patient.id")
    events: list[Event] = []
    gender = r.get("gender")
    if gender is not None:
        if not isinstance(gender, str):
            raise InvalidRecordError("INVALID_RESOURCE", "Patient.gender is not a code")
        events.append((None, vocab_code("GENDER", gender), None, None, None, f"Administrative gender {gender}"))
    if r.get("birthDate") is not None:
        events.append((parse_datetime(r["birthDate"], "Patient.birthDate"), BIRTH_CODE, None, None, None, "Birth"))
    if r.get("deceasedDateTime") is not None:
        died = parse_datetime(r["deceasedDateTime"], "Patient.deceasedDateTime")
        events.append((died, DEATH_CODE, None, None, None, "Death"))
    for ext in r.get("extension") or ():
        url = ext.get("url") if isinstance(ext, dict) else None
        if url not in (_RACE_URL, _ETHNICITY_URL):
            continue
        vocab = "RACE" if url == _RACE_URL else "ETHNICITY"
        for sub in ext.get("extension") or ():
            coding = sub.get("valueCoding") if isinstance(sub, dict) and sub.get("url") == "ombCategory" else None
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                events.append((None, vocab_code(vocab, coding["code"]), None, None, None, coding.get("display")))
    return pid, events


def encounter(r: dict) -> Extracted:
    pid = _subject(r, "Encounter")
    klass = r.get("class")
    cls = klass.get("code") if isinstance(klass, dict) else None
    if cls is not None and not isinstance(cls, str):
        raise InvalidRecordError("INVALID_RESOURCE", "Encounter.class.code is not a code")
    cls = cls or "UNKNOWN"
    period = r.get("period")
    if not isinstance(period, dict) or period.get("start") is None:
        raise InvalidRecordError("MISSING_TIME", "Encounter.period.start is missing")
    start = parse_datetime(period["start"], "Encounter.period.start")
    etype = None
    if r.get("type"):
        types = r["type"]
        if not isinstance(types, list):
            raise InvalidRecordError("INVALID_RESOURCE", "Encounter.type is not a list")
        try:
            etype, _ = _concept_code(types[0], "Encounter.type")
        except InvalidRecordError as err:
            if err.reason_code != "MISSING_CODE":
                raise
    display = klass.get("display") if isinstance(klass, dict) else None
    events: list[Event] = [(start, vocab_code("ENCOUNTER", cls), None, etype, None, display or f"Encounter {cls}")]
    # Each coded reason is an event of its own at the start (ENCOUNTER_REASON//SNOMED//...), so MEDS tools that
    # read codes only see it; a reason without a coded value (text only) adds nothing.
    for reason in _list(r.get("reasonCode")):
        try:
            rcode, rdisplay = _concept_code(reason, "Encounter.reasonCode")
        except InvalidRecordError as err:
            if err.reason_code != "MISSING_CODE":
                raise
            continue
        events.append((start, vocab_code("ENCOUNTER_REASON", rcode), None, None, None, rdisplay))
    if period.get("end") is not None:
        end = parse_datetime(period["end"], "Encounter.period.end")
        events.append((end, vocab_code("ENCOUNTER_END", cls), None, etype, None, f"End of encounter {cls}"))
    return pid, events


def condition(r: dict) -> Extracted:
    pid = _subject(r, "Condition")
    code, display = _concept_code(r.get("code"), "Condition.code")
    time = _first_time(r, "Condition", ("onsetDateTime", "onsetPeriod", "recordedDate"))
    return pid, [(time, code, None, None, None, display)]


def _observation_value(r: dict, path: str) -> tuple[float | None, str | None, str | None]:
    if "valueQuantity" in r:
        value, unit = quantity(r["valueQuantity"], f"{path}.valueQuantity")
        return value, None, unit
    if "valueCodeableConcept" in r:
        code, _ = _concept_code(r["valueCodeableConcept"], f"{path}.valueCodeableConcept")
        return None, code, None
    if "valueString" in r:
        if not isinstance(r["valueString"], str):
            raise InvalidRecordError("INVALID_RESOURCE", f"{path}.valueString is not a string")
        return None, r["valueString"], None
    if "valueBoolean" in r:
        if not isinstance(r["valueBoolean"], bool):
            raise InvalidRecordError("INVALID_RESOURCE", f"{path}.valueBoolean is not a boolean")
        return float(r["valueBoolean"]), None, None
    if "valueInteger" in r:
        v = r["valueInteger"]
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidRecordError("INVALID_RESOURCE", f"{path}.valueInteger is not an integer")
        return float(v), None, None
    return None, None, None


def observation(r: dict) -> Extracted:
    """One event for the observation's own value (or none if it only has components), one per component."""
    pid = _subject(r, "Observation")
    code, display = _concept_code(r.get("code"), "Observation.code")
    time = _first_time(r, "Observation", ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued"))
    components = r.get("component") or []
    if not isinstance(components, list):
        raise InvalidRecordError("INVALID_RESOURCE", "Observation.component is not a list")
    num, text, unit = _observation_value(r, "Observation")
    events: list[Event] = []
    if not components or num is not None or text is not None:
        events.append((time, code, num, text, unit, display))
    for comp in components:
        if not isinstance(comp, dict):
            raise InvalidRecordError("INVALID_RESOURCE", "Observation.component is not a BackboneElement")
        ccode, cdisplay = _concept_code(comp.get("code"), "Observation.component.code")
        cnum, ctext, cunit = _observation_value(comp, "Observation.component")
        events.append((time, ccode, cnum, ctext, cunit, cdisplay))
    return pid, events


def _medication_code(r: dict, rtype: str, contained: dict[str, dict]) -> tuple[str, str | None]:
    if "medicationCodeableConcept" in r:
        return _concept_code(r["medicationCodeableConcept"], f"{rtype}.medicationCodeableConcept")
    ref = r.get("medicationReference")
    if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
        target = ref["reference"]
        med = contained.get(target.lstrip("#")) if target.startswith("#") else contained.get(target)
        if med is not None:
            return _concept_code(med.get("code"), f"{rtype}.medicationReference(Medication).code")
        raise InvalidRecordError(
            "UNRESOLVED_REFERENCE", f"{rtype}.medicationReference does not resolve to a Medication"
        )
    raise InvalidRecordError("MISSING_CODE", f"{rtype} has no medication[x]")


def medication_request(r: dict, contained: dict[str, dict]) -> Extracted:
    pid = _subject(r, "MedicationRequest")
    code, display = _medication_code(r, "MedicationRequest", contained)
    time = parse_datetime(r.get("authoredOn"), "MedicationRequest.authoredOn")
    return pid, [(time, code, None, None, None, display)]


def medication_administration(r: dict, contained: dict[str, dict]) -> Extracted:
    pid = _subject(r, "MedicationAdministration")
    code, display = _medication_code(r, "MedicationAdministration", contained)
    time = _first_time(r, "MedicationAdministration", ("effectiveDateTime", "effectivePeriod"))
    return pid, [(time, code, None, None, None, display)]


def procedure(r: dict) -> Extracted:
    pid = _subject(r, "Procedure")
    code, display = _concept_code(r.get("code"), "Procedure.code")
    time = _first_time(r, "Procedure", ("performedDateTime", "performedPeriod"))
    return pid, [(time, code, None, None, None, display)]


def immunization(r: dict) -> Extracted:
    pid = _subject(r, "Immunization", "patient")
    code, display = _concept_code(r.get("vaccineCode"), "Immunization.vaccineCode")
    time = _first_time(r, "Immunization", ("occurrenceDateTime", "recorded"))
    return pid, [(time, code, None, None, None, display)]


def allergy_intolerance(r: dict) -> Extracted:
    pid = _subject(r, "AllergyIntolerance", "patient")
    code, display = _concept_code(r.get("code"), "AllergyIntolerance.code")
    time = _first_time(r, "AllergyIntolerance", ("onsetDateTime", "onsetPeriod", "recordedDate"))
    return pid, [(time, code, None, None, None, display)]


def diagnostic_report(r: dict) -> Extracted:
    pid = _subject(r, "DiagnosticReport")
    code, display = _concept_code(r.get("code"), "DiagnosticReport.code")
    time = _first_time(r, "DiagnosticReport", ("effectiveDateTime", "effectivePeriod", "issued"))
    return pid, [(time, code, None, None, None, display)]


def imaging_study(r: dict) -> Extracted:
    """One `IMAGING//<modality>//<body site>` event per series, at the series' (or study's) start."""
    pid = _subject(r, "ImagingStudy")
    study_time = parse_datetime(r["started"], "ImagingStudy.started") if r.get("started") is not None else None
    series = r.get("series") or []  # no series (0..* in R4): one study-level event below
    if not isinstance(series, list):
        raise InvalidRecordError("INVALID_RESOURCE", "ImagingStudy.series is not a list")
    events: list[Event] = []
    for s in series:
        if not isinstance(s, dict):
            raise InvalidRecordError("INVALID_RESOURCE", "ImagingStudy.series is not a BackboneElement")
        modality = s.get("modality", {}).get("code") if isinstance(s.get("modality"), dict) else None
        site = s.get("bodySite", {}).get("code") if isinstance(s.get("bodySite"), dict) else None
        if (modality is not None and not isinstance(modality, str)) or (
            site is not None and not isinstance(site, str)
        ):
            raise InvalidRecordError(
                "INVALID_RESOURCE", "ImagingStudy.series modality/bodySite code is not a string"
            )
        time = parse_datetime(s["started"], "ImagingStudy.series.started") if s.get("started") else study_time
        if time is None:
            raise InvalidRecordError("MISSING_TIME", "ImagingStudy has no started time")
        code = vocab_code("IMAGING", modality or "UNKNOWN", site or "UNKNOWN")
        events.append((time, code, None, None, None, None))
    if not events:
        if study_time is None:
            raise InvalidRecordError("MISSING_TIME", "ImagingStudy has no started time")
        events.append((study_time, vocab_code("IMAGING", "UNKNOWN", "UNKNOWN"), None, None, None, None))
    return pid, events


# Types mapped to events. Medication extractors also get the resource's contained/bundle Medications.
EXTRACTORS: dict[str, Callable[[dict], Extracted]] = {
    "Patient": patient,
    "Encounter": encounter,
    "Condition": condition,
    "Observation": observation,
    "Procedure": procedure,
    "Immunization": immunization,
    "AllergyIntolerance": allergy_intolerance,
    "DiagnosticReport": diagnostic_report,
    "ImagingStudy": imaging_study,
}
MEDICATION_EXTRACTORS = {
    "MedicationRequest": medication_request,
    "MedicationAdministration": medication_administration,
}


def check_events(events: list[Event], rtype: str) -> None:
    """The last gate before a record's events are buffered: every field has the type and range its column
    holds, so one odd record is quarantined here instead of failing the whole unit's write."""
    for time, code, num, text, unit, description in events:
        if time is not None and not isinstance(time, datetime):
            raise InvalidRecordError("INVALID_RESOURCE", f"{rtype}: an event time is not a dateTime")
        if not isinstance(code, str):
            raise InvalidRecordError("INVALID_RESOURCE", f"{rtype}: an event code is not a string")
        if num is not None and (not isinstance(num, float) or not finite_float32(num)):
            raise InvalidRecordError(q.NON_FINITE_VALUE, f"{rtype}: a value is not finite as a 32-bit float")
        for name, value in (("value", text), ("unit", unit), ("display", description)):
            if value is not None and not isinstance(value, str):
                raise InvalidRecordError("INVALID_RESOURCE", f"{rtype}: an event {name} is not a string")


def _identifier_text(value: object) -> str | None:
    """An identifier's value as text: a number (an MRN exported as a JSON number) is still an identifier the
    PHI audit and deny lists must know; anything else is not an identifier value."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def patient_identity(r: dict) -> tuple[list[str], list[str], list[str], list[str]]:
    """(names, identifier values, telecom values, address lines) for the PHI audit and deny lists."""
    names, ids, telecoms, addresses = [], [], [], []
    for n in _list(r.get("name")):
        if isinstance(n, dict):
            parts = [*_list(n.get("prefix")), *_list(n.get("given")), n.get("family"), *_list(n.get("suffix"))]
            names.extend(p for p in parts if isinstance(p, str) and p)
            if isinstance(n.get("text"), str):
                names.append(n["text"])
    for i in _list(r.get("identifier")):
        if isinstance(i, dict) and (text := _identifier_text(i.get("value"))):
            ids.append(text)
    for t in _list(r.get("telecom")):
        if isinstance(t, dict) and (text := _identifier_text(t.get("value"))):
            telecoms.append(text)
    for a in _list(r.get("address")):
        if isinstance(a, dict):
            parts = [*_list(a.get("line")), a.get("city"), a.get("postalCode")]
            addresses.extend(text for p in parts if (text := _identifier_text(p)))
    return names, ids, telecoms, addresses


def _list(value: object) -> list:
    """A FHIR repeating element as a list: a lone value (a common export slip) is one item, not characters."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
