"""Subjects named without a Patient id: by identifier only (`subject.identifier` system and value) or by a
contained Patient (`subject: #p1`). The parser sets such records aside; the gather resolves them against the
identifiers of every Patient delivered, in any file or chunk, so the result never depends on file order.

A contained Patient is resolved through its identifiers, the same way; one that carries none is no subject
we can join (a demanding user would rather see it reported than get a patient of one event): quarantined.
Identifiers are PHI: the index holds keyed digests of them (deid.pseudonym.Keyring.token), never values.
"""

from deid.pseudonym import Keyring
from pipelines.defs.fhir.primitives import InvalidRecordError
from schemas.quarantine import AMBIGUOUS_SUBJECT, UNRESOLVED_SUBJECT

_PURPOSE = "patient-identifier"
# The reference field that names a resource's patient, where it is not `subject`.
_PATIENT_FIELD = {"Immunization": "patient", "AllergyIntolerance": "patient"}


def subject_field(rtype: str) -> str:
    return _PATIENT_FIELD.get(rtype, "subject")


def identifier_key(keyring: Keyring, ident: object) -> str | None:
    """The keyed digest of an Identifier's system and value (a missing system is part of the key: it matches
    only identifiers without one); None when it has no text value."""
    if not isinstance(ident, dict):
        return None
    value, system = ident.get("value"), ident.get("system")
    if not isinstance(value, str) or not value or (system is not None and not isinstance(system, str)):
        return None
    return keyring.token(_PURPOSE, f"{system or ''}|{value}")


def patient_keys(keyring: Keyring, patient: dict) -> list[str]:
    """The digests of a delivered Patient's identifiers, distinct, in order."""
    idents = patient.get("identifier")
    keys = (identifier_key(keyring, i) for i in (idents if isinstance(idents, list) else ()))
    return list(dict.fromkeys(k for k in keys if k is not None))


def deferred_subject(keyring: Keyring, r: dict, rtype: str) -> tuple[str, str, list[str]] | None:
    """(field, how it names the patient: "identifier" | "contained", identifier digests) for a record whose
    patient reference is an identifier only or points into `contained`; None for any other record (its own
    error stands). Raises InvalidRecordError, naming the field, when such a reference cannot be resolved by
    anything delivered: a contained target that is missing or no Patient, a Patient with no identifier.

    >>> k = Keyring(b"0" * 32)
    >>> deferred_subject(k, {"subject": {"identifier": {"system": "s", "value": "v"}}}, "Observation")[:2]
    ('subject', 'identifier')
    >>> deferred_subject(k, {"subject": {"reference": "Patient/1"}}, "Observation") is None
    True
    """
    field = subject_field(rtype)
    ref = r.get(field)
    if not isinstance(ref, dict):
        return None
    target = ref.get("reference")
    path = f"{rtype}.{field}"
    if isinstance(target, str) and target.startswith("#"):
        contained = r.get("contained")
        found = [c for c in (contained if isinstance(contained, list) else ())
                 if isinstance(c, dict) and c.get("id") == target[1:]]  # fmt: skip
        if len(found) != 1 or found[0].get("resourceType") != "Patient":
            reason = f"{path} refers to a contained resource that is not one Patient in {rtype}.contained"
            raise InvalidRecordError(UNRESOLVED_SUBJECT, reason)
        keys = patient_keys(keyring, found[0])
        if not keys:
            reason = (f"{path} is a contained Patient with no identifier (system and value): it cannot be "
                      "joined to a delivered Patient")  # fmt: skip
            raise InvalidRecordError(UNRESOLVED_SUBJECT, reason)
        return field, "contained", keys
    if target is None and "identifier" in ref:
        key = identifier_key(keyring, ref["identifier"])
        if key is None:
            raise InvalidRecordError("MISSING_SUBJECT_REFERENCE", f"{path}.identifier has no value")
        return field, "identifier", [key]
    return None


def resolution(path: str, how: str, pids: set[str]) -> tuple[str | None, str, str]:
    """(the patient id, or None with a reason code and a reason naming the field and the number of matches)."""
    what = f"{path}.identifier" if how == "identifier" else f"{path} (a contained Patient's identifiers)"
    if len(pids) == 1:
        return next(iter(pids)), "", ""
    if not pids:
        return None, UNRESOLVED_SUBJECT, f"{what} matches no delivered Patient"
    return None, AMBIGUOUS_SUBJECT, f"{what} matches {len(pids)} delivered Patients; the subject is ambiguous"
