"""One synthetic patient from (seed, index) alone: person, life plan, chart, notes and imaging."""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from synthetic import fhir, vocab
from synthetic.clinical import LIMIT, Chart, VisitFacts
from synthetic.ids import new_uuid
from synthetic.imaging import StudySpec, imaging_study, plan_study
from synthetic.notes import NOTE_TYPES, NoteContext, typographic, write_note
from synthetic.people import Person, Pool, make_person
from synthetic.physiology import Physiology
from synthetic.timeline import Visit, age_at, plan_life

NDJSON_SHARE = 0.25  # patients delivered as bulk NDJSON; the rest as transaction bundles
GZIP_SHARE = 1 / 3  # bundles written gzipped
NOTES_FROM = 1995  # notes exist from the EHR era on
IMAGING_FROM = 1996  # and DICOM images
MAX_NOTES = 10


@dataclass(slots=True)
class TextNote:
    note_id: str
    text: str
    spans: list[dict]
    encoding: str
    sidecar: dict


@dataclass(slots=True)
class PatientData:
    index: int
    person: Person
    record: fhir.Record
    form: str  # bundle | ndjson
    gzip: bool
    fhir_notes: list[tuple[str, list[dict]]] = field(default_factory=list)  # (DocumentReference id, spans)
    text_notes: list[TextNote] = field(default_factory=list)
    studies: list[StudySpec] = field(default_factory=list)


def patient_rng(seed: int, index: int) -> random.Random:
    """Each patient's own stream (str seeds hash with SHA-512: stable across runs, processes and platforms)."""
    return random.Random(f"longitude-synthetic:{seed}:patient:{index}")


def _plan_notes(rng: random.Random, visits: list[Visit]) -> dict[int, list[str]]:
    plan: list[tuple[int, str]] = []
    outpatient = [
        i for i, v in enumerate(visits) if v.start.year >= NOTES_FROM and v.kind not in ("ed", "inpatient")
    ]
    p_progress = min(1.0, 3 / len(outpatient)) if outpatient else 0.0
    for i, v in enumerate(visits):
        if v.start.year < NOTES_FROM:
            continue
        if v.kind == "inpatient":
            plan += [(i, "hp")] * (rng.random() < 0.5) + [(i, "discharge")] * (rng.random() < 0.7)
        elif v.kind == "ed":
            plan += [(i, "ed")] * (rng.random() < 0.6)
        elif rng.random() < p_progress:
            plan.append((i, "progress"))
    if len(plan) > MAX_NOTES:
        plan = sorted(rng.sample(plan, MAX_NOTES))
    out: dict[int, list[str]] = {}
    for i, kind in plan:
        out.setdefault(i, []).append(kind)
    return out


def _note_time(rng: random.Random, kind: str, v: Visit) -> datetime:
    if kind == "discharge":
        return max(v.start, v.end - timedelta(hours=rng.uniform(1, 4)))
    if kind == "hp":
        return v.start + timedelta(hours=rng.uniform(1, 4))
    return v.start + timedelta(minutes=rng.randint(10, 60))


def _imaging(rng: random.Random, chart: Chart, v: Visit, facts: VisitFacts) -> list[StudySpec]:
    if v.start.year < IMAGING_FROM:
        return []
    keys = []
    trigger = vocab.IMAGING_FOR.get(v.reason or "")
    if trigger and rng.random() < trigger[1]:
        keys.append(trigger[0])
    if v.reason == "stroke" and rng.random() < 0.6:
        keys.append("mr_brain")
    if "osteoarthritis" in facts.new and rng.random() < vocab.IMAGING_FOR["osteoarthritis"][1]:
        keys.append("knee_xray")
    if v.kind == "checkup" and chart.last.get("mammo") == v.start and v.start.year >= 2000 and rng.random() < 0.05:
        keys.append("mammogram")
    out = []
    hospital = chart.pool.organizations[chart.hospital]
    for n, key in enumerate(keys):
        when = v.start + timedelta(minutes=rng.randint(30, 150) + 60 * n)
        tech = rng.choice(chart.pool.staff(chart.hospital))
        out.append(plan_study(rng, key, when, facts.practitioner, hospital, (tech.family, tech.given)))
    return out


def build_patient(seed: int, index: int, pool: Pool) -> PatientData:
    rng = patient_rng(seed, index)
    person = make_person(rng, new_uuid(rng))
    phys = Physiology.draw(rng, person.gender == "male")
    life = plan_life(rng, person, phys.bmi18)
    form = "ndjson" if rng.random() < NDJSON_SHARE else "bundle"
    data = PatientData(index, person, fhir.Record(rng, person, pool, form), form, rng.random() < GZIP_SHARE)
    data.gzip = data.gzip and form == "bundle"
    orgs = [i for i, o in enumerate(pool.organizations) if o.region == person.region]
    clinic = rng.choice([i for i in orgs if pool.organizations[i].kind == "clinic"])
    hospital = next(i for i in orgs if pool.organizations[i].kind == "hospital")
    chart = Chart(rng, data.record, pool, life, phys, clinic, hospital, rng.choice(pool.staff(clinic)))
    notes = _plan_notes(rng, life.visits)
    previous: datetime | None = None
    for i, v in enumerate(life.visits):
        facts = chart.visit(v)
        studies = _imaging(rng, chart, v, facts)
        for study in studies:
            data.record.add(imaging_study(data.record, facts.encounter, study))
        data.studies += studies
        for kind in notes.get(i, ()):
            _add_note(rng, data, chart, v, facts, kind, studies, previous)
        if v.kind not in ("ed", "inpatient"):
            previous = v.start
    return data


def _add_note(
    rng: random.Random,
    data: PatientData,
    chart: Chart,
    v: Visit,
    facts: VisitFacts,
    kind: str,
    studies: list[StudySpec],
    previous: datetime | None,
) -> None:
    person, pool = data.person, chart.pool
    when = _note_time(rng, kind, v)
    age = age_at(person.birth, when)
    followup = (
        v.end + timedelta(days=rng.randint(7, 14))
        if kind == "discharge"
        else v.start + timedelta(days=rng.randint(60, 180))
        if kind == "progress"
        else None
    )
    ctx = NoteContext(
        person=person,
        kind=kind,
        visit_kind=v.kind,
        start=v.start,
        end=v.end,
        time=when,
        author=facts.practitioner,
        facility=facts.org,
        pcp=chart.pcp,
        clinic=pool.organizations[chart.clinic],
        account=f"{rng.randrange(10**9, 10**10)}",
        reason=v.reason,
        vitals=facts.vitals,
        labs=facts.labs,
        conditions=[
            (k, chart.life.onsets.get(k, when))
            for k, c in chart.conditions.items()
            if "abatementDateTime" not in c
        ],
        meds=list(chart.meds),
        allergies=[vocab.ALLERGIES[i][4] for i in chart.life.allergies] if chart.allergies_recorded else [],
        smoking=chart.life.smoking_at(age),
        imaging=[(vocab.IMAGING[s.key].description, s.accession) for s in studies],
        previous_visit=previous if kind == "progress" else None,
        followup=followup if followup and followup < LIMIT and not v.died else None,
    )
    text, spans = write_note(rng, ctx)
    loinc = NOTE_TYPES[kind]
    as_fhir = rng.random() < 0.5
    encoding = "utf-8"
    if not as_fhir and person.accented and rng.random() < 0.6:
        encoding = rng.choice(("cp1252", "latin-1"))
    if encoding == "cp1252" or (encoding == "utf-8" and rng.random() < 0.3):
        text = typographic(text, spans)
    if as_fhir:
        doc = fhir.document_reference(
            data.record, facts.encounter, when, loinc, text, facts.practitioner, facts.org
        )
        data.fhir_notes.append((data.record.add(doc), spans))
        return
    note_id = new_uuid(rng)
    sidecar = {
        "subject": person.id,
        "time": fhir.ts(when),
        "type": loinc[0],
        "type_display": loinc[1],
        "encounter": facts.encounter if rng.random() < 0.9 else None,
        "note_id": note_id,
    }
    data.text_notes.append(TextNote(note_id, text, spans, encoding, sidecar))
