"""FHIR R4 resources as plain dicts (no model objects: building dicts directly keeps generation fast).

`Record` collects one patient's resources. References are written as `urn:uuid:<id>` for a transaction
bundle and as `<Type>/<id>` for bulk NDJSON, decided once per patient.
"""

import base64
import random
from datetime import datetime

from synthetic import vocab
from synthetic.ids import new_uuid
from synthetic.people import REGIONS, Organization, Person, Pool, Practitioner

_TS: dict[tuple, str] = {}


def ts(d: datetime) -> str:
    """An instant/dateTime with seconds and the local UTC offset, e.g. 2021-03-04T10:05:00-05:00."""
    # Memo keyed with the zone too: equal instants in two zones compare (and hash) equal as datetimes.
    key = (d, d.tzinfo)
    s = _TS.get(key)
    if s is None:
        if len(_TS) > 8192:  # a visit's resources share a few timestamps; keep the memo small
            _TS.clear()
        s = _TS[key] = d.isoformat(timespec="seconds")
    return s


class Record:
    """One patient's resources in creation order, plus the reference data they point at."""

    def __init__(self, rng: random.Random, person: Person, pool: Pool, form: str) -> None:
        self.rng, self.person, self.pool, self.form = rng, person, pool, form
        self.resources: list[dict] = []
        self.orgs: dict[str, Organization] = {}
        self.practitioners: dict[str, Practitioner] = {}
        self.subject = self.ref("Patient", person.id)

    def ref(self, rtype: str, rid: str) -> dict:
        return {"reference": f"urn:uuid:{rid}" if self.form == "bundle" else f"{rtype}/{rid}"}

    def org_ref(self, org: Organization) -> dict:
        self.orgs[org.id] = org
        return {**self.ref("Organization", org.id), "display": org.name}

    def practitioner_ref(self, pr: Practitioner) -> dict:
        self.practitioners[pr.id] = pr
        return {**self.ref("Practitioner", pr.id), "display": f"Dr. {pr.full}"}

    def add(self, resource: dict) -> str:
        rid = new_uuid(self.rng)
        resource["id"] = rid
        self.resources.append(resource)
        return rid

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.resources:
            out[r["resourceType"]] = out.get(r["resourceType"], 0) + 1
        return out


def patient(person: Person) -> dict:
    p = person
    given = [p.given] + ([p.middle] if p.middle else [])
    names = [{"use": "official", "family": p.family, "given": given, "prefix": [p.prefix]}]
    if p.maiden:
        names.append({"use": "maiden", "family": p.maiden, "given": given})
    res = {
        "resourceType": "Patient",
        "id": p.id,
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [vocab.coding(vocab.V2_0203, "MR", "Medical Record Number")], "text": "MRN"},
                "system": vocab.MRN_SYSTEM,
                "value": p.mrn,
            },
            {
                "type": {"coding": [vocab.coding(vocab.V2_0203, "SS", "Social Security Number")]},
                "system": vocab.SSN_SYSTEM,
                "value": p.ssn,
            },
        ],
        "name": names,
        "telecom": [
            {"system": "phone", "value": p.phone, "use": "home"},
            {"system": "email", "value": p.email},
        ],
        "gender": p.gender,
        "birthDate": p.birth.isoformat(),
        "address": [
            {
                "use": "home",
                "line": [p.street],
                "city": p.city,
                "state": p.state,
                "postalCode": p.zip,
                "country": "US",
            }
        ],
        "maritalStatus": vocab.concept(
            "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
            "M" if p.married else "S",
            "Married" if p.married else "Never Married",
        ),
        "communication": [{"language": vocab.concept("urn:ietf:bcp:47", "en-US", "English (United States)")}],
    }
    if p.death:
        res["deceasedDateTime"] = ts(p.death)
    return res


def organization(org: Organization) -> dict:
    kind = ("prov", "Healthcare Provider")
    return {
        "resourceType": "Organization",
        "id": org.id,
        "identifier": [{"system": vocab.NPI_SYSTEM, "value": org.npi}],
        "active": True,
        "type": [vocab.concept("http://terminology.hl7.org/CodeSystem/organization-type", *kind)],
        "name": org.name,
        "telecom": [{"system": "phone", "value": org.phone}],
        "address": [
            {"line": [org.street], "city": org.city, "state": _state(org), "postalCode": org.zip, "country": "US"}
        ],
    }


def _state(org: Organization) -> str:
    return REGIONS[org.region].state


def practitioner(pr: Practitioner, pool: Pool) -> dict:
    org = pool.organizations[pr.org]
    return {
        "resourceType": "Practitioner",
        "id": pr.id,
        "identifier": [{"system": vocab.NPI_SYSTEM, "value": pr.npi}],
        "active": True,
        "name": [
            {
                "family": pr.family,
                "given": [pr.given],
                **({"prefix": ["Dr."]} if pr.credential in ("MD", "DO") else {}),
            }
        ],
        "gender": pr.gender,
        "address": [
            {"line": [org.street], "city": org.city, "state": _state(org), "postalCode": org.zip, "country": "US"}
        ],
        "qualification": [{"code": {"text": pr.credential}}],
    }


def entry(rec: Record, resource: dict) -> dict:
    return {
        "fullUrl": f"urn:uuid:{resource['id']}",
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }


def bundle(rec: Record) -> dict:
    """A Synthea-style transaction bundle: the patient, the facilities and staff it references, its resources."""
    head = [patient(rec.person)]
    head += [organization(o) for o in rec.orgs.values()]
    head += [practitioner(p, rec.pool) for p in rec.practitioners.values()]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [entry(rec, r) for r in head + rec.resources],
    }


def quantity(value: float, q: vocab.Quantity) -> dict:
    return {
        "value": round(value, q.decimals) if q.decimals else round(value),
        "unit": q.unit,
        "system": vocab.UCUM,
        "code": q.unit,
    }


def observation(rec: Record, enc: str, when: datetime, code: dict, cat: list, **value: object) -> dict:
    res = {
        "resourceType": "Observation",
        "status": "final",
        "category": cat,
        "code": code,
        "subject": rec.subject,
        "encounter": rec.ref("Encounter", enc),
        "effectiveDateTime": (t := ts(when)),
        "issued": t,
    }
    res.update(value)
    return res


def document_reference(
    rec: Record,
    enc: str,
    when: datetime,
    loinc: tuple[str, str],
    text: str,
    author: Practitioner,
    org: Organization,
) -> dict:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "docStatus": "final",
        "type": vocab.concept(vocab.LOINC, *loinc),
        "category": [
            vocab.concept(
                "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                "clinical-note",
                "Clinical Note",
            )
        ],
        "subject": rec.subject,
        "date": ts(when),
        "author": [rec.practitioner_ref(author)],
        "custodian": rec.org_ref(org),
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "language": "en-US",
                    "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                    "title": loinc[1],
                    "creation": ts(when),
                }
            }
        ],
        "context": {"encounter": [rec.ref("Encounter", enc)], "period": {"start": ts(when)}},
    }
