"""A patient's life as a schedule: chronic diagnoses, smoking, allergies, death, and every visit in order.

Visits are well-child and check-up visits on their schedules, chronic follow-ups every few months once a
chronic disease is present, and acute, emergency and inpatient episodes drawn year by year at rates that
rise with age and disease burden; about 1 in 7 inpatient stays is followed by a readmission within 30 days.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from synthetic.people import Person

END = date(2025, 12, 20)  # nothing is dated after this (the demo's "now" is 2026-01-01)
WELL_CHILD_MONTHS = (0, 1, 2, 4, 6, 9, 12, 15, 18, 24, 30, 36)

# key, lifetime probability, mean onset age, sd
CHRONIC = (
    ("hypertension", 0.42, 52, 11),
    ("hyperlipidemia", 0.36, 50, 10),
    ("prediabetes", 0.2, 45, 10),
    ("diabetes", 0.12, 55, 11),
    ("asthma", 0.09, 9, 8),
    ("depression", 0.16, 35, 13),
    ("osteoarthritis", 0.22, 63, 9),
    ("hypothyroidism", 0.08, 48, 12),
    ("cad", 0.1, 63, 9),
    ("afib", 0.08, 70, 8),
    ("chf", 0.06, 72, 8),
    ("ckd", 0.07, 66, 9),
    ("copd", 0.03, 62, 8),
)
ACUTE_CHILD = ("otitis", "otitis", "strep", "sinusitis", "bronchitis")
ACUTE_ADULT = ("sinusitis", "sinusitis", "bronchitis", "strep", "uti", "sprain", "backpain")
LENGTH_OF_STAY = {  # days, min and max
    "appendicitis": (1, 3), "pneumonia": (3, 7), "mi": (3, 6), "stroke": (4, 9), "hip_fracture": (4, 8),
    "copd_exacerbation": (3, 6), "cellulitis": (2, 5), "sepsis": (5, 12),
}  # fmt: skip


@dataclass(slots=True)
class Visit:
    kind: str  # wellchild | checkup | followup | acute | ed | inpatient
    start: datetime
    end: datetime
    reason: str | None = None
    readmission: bool = False
    died: bool = False


@dataclass(slots=True)
class Life:
    onsets: dict[str, datetime]  # chronic condition -> onset
    smoking: tuple[str, float, float]  # (never|former|current at death/END, start age, quit age)
    allergies: list[int]  # indexes into vocab.ALLERGIES
    visits: list[Visit] = field(default_factory=list)

    def smoking_at(self, age: float) -> str:
        status, start, quit = self.smoking
        if status == "never" or age < start:
            return "never"
        return "former" if status == "former" and age >= quit else "current"


def age_at(birth: date, when: date | datetime) -> float:
    return (when.toordinal() - birth.toordinal()) / 365.25


def _at(day: date, tz: ZoneInfo, hour: float) -> datetime:
    minutes = int(hour * 60)
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz)


def _clinic_time(rng: random.Random, day: date, tz: ZoneInfo) -> datetime:
    while day.weekday() >= 5:  # clinics see patients on weekdays
        day += timedelta(days=1)
    return _at(
        day, tz, rng.choice((8, 8.5, 9, 9.5, 10, 10.5, 11, 13, 13.5, 14, 14.5, 15, 15.5, 16)) + rng.random() / 4
    )


def _outpatient(rng: random.Random, kind: str, day: date, tz: ZoneInfo, reason: str | None = None) -> Visit:
    start = _clinic_time(rng, day, tz)
    return Visit(kind, start, start + timedelta(minutes=rng.choice((15, 20, 30, 30, 40, 45))), reason)


def _plan_conditions(rng: random.Random, person: Person, bmi18: float, smoking: str) -> dict[str, datetime]:
    onsets: dict[str, datetime] = {}
    risk = 1.0 + max(0.0, bmi18 - 23) * 0.12
    for key, p, mean, sd in CHRONIC:
        if key == "hypothyroidism" and person.gender == "female":
            p *= 1.8
        if key in ("diabetes", "prediabetes", "hypertension"):
            p *= risk
        if key == "copd" and smoking != "never":
            p = 0.25
        if key == "ckd" and ("diabetes" in onsets or "hypertension" in onsets):
            p *= 2.0
        if key == "chf" and "cad" in onsets:
            p *= 2.5
        if rng.random() >= p:
            continue
        age = max(1.0 if key == "asthma" else 18.0, rng.gauss(mean, sd))
        if key == "diabetes" and "prediabetes" in onsets:
            age = max(age, age_at(person.birth, onsets["prediabetes"]) + rng.uniform(2, 10))
        day = person.birth + timedelta(days=int(age * 365.25))
        onsets[key] = _at(day, person.tz, rng.uniform(8, 17))
    return onsets


def _death(rng: random.Random, person: Person, onsets: dict[str, datetime]) -> datetime | None:
    severe = sum(k in onsets for k in ("chf", "copd", "ckd", "cad", "diabetes"))
    age = rng.gauss(84 - 2.5 * severe, 9)
    if rng.random() < 0.01:
        age = rng.uniform(18, 70)
    day = person.birth + timedelta(days=int(age * 365.25))
    if day >= END:
        return None
    return _at(day, person.tz, rng.uniform(0, 24))


def _routine(rng: random.Random, person: Person, first: date, last: date) -> list[Visit]:
    visits, tz, birth = [], person.tz, person.birth
    for months in WELL_CHILD_MONTHS:
        day = birth + timedelta(days=max(3, int(months * 30.44)) + rng.randint(-5, 10))
        if first <= day <= last:
            visits.append(_outpatient(rng, "wellchild", day, tz))
    day = max(first, birth + timedelta(days=4 * 365 + rng.randint(0, 60)))
    while day <= last:
        age = age_at(birth, day)
        kind = "wellchild" if age < 18 else "checkup"
        visits.append(_outpatient(rng, kind, day, tz))
        if age < 18:
            gap = 1.0
        elif age < 40:
            gap = rng.uniform(2, 5)
        else:
            gap = rng.uniform(2, 3.5) if age < 65 else rng.uniform(1, 2)
        day += timedelta(days=int(gap * 365.25))
    return visits


def _followups(rng: random.Random, person: Person, onsets: dict[str, datetime], first: date, last: date) -> list:
    chronic = sorted(o.date() for k, o in onsets.items() if k not in ("depression", "osteoarthritis", "asthma"))
    visits: list[Visit] = []
    if not chronic:
        return visits
    day = max(first, chronic[0] + timedelta(days=rng.randint(20, 120)))
    while day <= last:
        k = sum(1 for c in chronic if c <= day)
        visits.append(_outpatient(rng, "followup", day, person.tz))
        day += timedelta(days=int(rng.uniform(240, 480) / (1 + 0.1 * (k - 1))))
    return visits


def _inpatient(rng: random.Random, tz: ZoneInfo, day: date, reason: str, readmission: bool = False) -> Visit:
    lo, hi = LENGTH_OF_STAY[reason]
    start = _at(day, tz, rng.uniform(0, 24))
    end = start + timedelta(days=rng.randint(lo, hi), hours=rng.uniform(-6, 6))
    return Visit("inpatient", start, end, reason, readmission)


def _episodes(rng: random.Random, person: Person, onsets: dict[str, datetime], first: date, last: date) -> list:
    visits: list[Visit] = []
    tz, birth = person.tz, person.birth
    for year in range(first.year, last.year + 1):
        age = year - birth.year
        chronic = [k for k, o in onsets.items() if o.year <= year]
        n = len(chronic)

        def day() -> date:
            return date(year, 1, 1) + timedelta(days=rng.randrange(365))  # noqa: B023 (year is current)

        if rng.random() < (0.4 if age < 10 else 0.16):
            visits.append(
                _outpatient(rng, "acute", day(), tz, rng.choice(ACUTE_CHILD if age < 12 else ACUTE_ADULT))
            )
        if rng.random() < 0.04 + 0.015 * n:
            reasons = ["forearm_fracture", "laceration", "concussion", "sprain"] + ["chest_pain"] * (age > 35) * 3
            start = _at(day(), tz, rng.uniform(0, 24))
            visits.append(Visit("ed", start, start + timedelta(hours=rng.uniform(2, 9)), rng.choice(reasons)))
        if rng.random() < 0.003 + 0.0007 * max(0, age - 45) + 0.012 * n:
            reasons = ["pneumonia", "pneumonia", "cellulitis"]
            reasons += ["appendicitis"] * 3 if 5 <= age <= 45 else []
            reasons += ["mi"] * 2 if "cad" in chronic or age > 55 else []
            reasons += ["stroke", "sepsis"] if age > 55 else []
            reasons += ["hip_fracture"] * 2 if age > 65 else []
            reasons += ["copd_exacerbation"] * 3 if "copd" in chronic else []
            stay = _inpatient(rng, tz, day(), rng.choice(reasons))
            visits.append(stay)
            if rng.random() < 0.15:  # readmission within 30 days of discharge
                back = stay.end.date() + timedelta(days=rng.randint(3, 29))
                visits.append(_inpatient(rng, tz, back, rng.choice((stay.reason, "pneumonia", "sepsis")), True))
    return visits


def plan_life(rng: random.Random, person: Person, bmi18: float) -> Life:
    """Decide the diagnoses, death and visits; sets `person.death`."""
    birth = person.birth
    r = rng.random()
    smoking = "never" if birth.year > 2005 or r < 0.55 else ("former" if r < 0.8 else "current")
    start_age = rng.uniform(14, 22)
    quit_age = rng.uniform(start_age + 3, 65)
    onsets = _plan_conditions(rng, person, bmi18, smoking)
    death = _death(rng, person, onsets)
    person.death = death
    allergies = rng.sample(range(7), rng.choice((1, 1, 2))) if rng.random() < 0.2 else []
    life = Life(onsets, (smoking, start_age, quit_age), allergies)

    if birth.year >= 1975:
        first = birth
    else:
        first = max(birth, date(rng.randint(1970, 1985), 1, 1) + timedelta(days=rng.randrange(365)))
    last = min(END, death.date() if death else END)
    if death and rng.random() < 0.5 and age_at(birth, death) > 30:  # died in hospital
        reason = rng.choice(("pneumonia", "sepsis", "stroke", "mi"))
        stay = _inpatient(rng, person.tz, death.date() - timedelta(days=rng.randint(2, 9)), reason)
        stay.end, stay.died = death, True
        if stay.start < stay.end:
            life.visits.append(stay)
            last = min(last, stay.start.date() - timedelta(days=1))
    if first > last:
        return life
    visits = _routine(rng, person, first, last) + _followups(rng, person, onsets, first, last)
    visits += _episodes(rng, person, onsets, first, last)
    visits += life.visits
    visits.sort(key=lambda v: v.start)
    limit = death or _at(END, person.tz, 23.9)
    life.visits = _drop_overlaps(visits, first, limit)
    return life


def _drop_overlaps(visits: list[Visit], first: date, limit: datetime) -> list[Visit]:
    """Keep visits inside [first, limit] that do not start while an ED visit or hospital stay is going on."""
    out: list[Visit] = []
    busy_until: datetime | None = None
    for v in visits:
        if not v.died and (v.start.date() < first or v.end >= limit):
            continue
        if busy_until is not None and v.start <= busy_until:
            continue
        out.append(v)
        if v.kind in ("inpatient", "ed"):
            busy_until = v.end
    return out
