"""ICU nursing notes with exact PHI spans, so a de-identifier never learns from one corpus alone: ALL CAPS or
lower-case shorthand, dates without a year and two-digit years, wards and units with a number, hospital
initials, relatives by their shorthand ("DTR", "HUSBAND"), clinicians by title in any case, initials and
signature lines, towns, and phone numbers in many formats; around them vitals, ranges, drips, ventilator
settings, fractions, scores and clock times that are not PHI."""

import random
from datetime import UTC, datetime, timedelta

from synthetic.people import FAMILY, Person, Pool, make_person, make_pool
from synthetic.phi_text import PhiText

_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_RELATIONS = {
    "wife": ("wife", "WIFE", "wf"),
    "husband": ("husband", "HUSBAND", "hus"),
    "daughter": ("daughter", "dtr", "DTR", "dau"),
    "son": ("son", "SON"),
    "mother": ("mother", "mom", "MOTHER"),
    "father": ("father", "dad", "FATHER"),
}
_UNITS = ("MICU", "CCU", "CSRU", "SICU", "ICU")
_CREDENTIALS = ("RN", "NP", "PA", "RRT")


def _md(rng: random.Random, d: datetime) -> str:
    """A date as nurses write it: mostly month/day without a year."""
    r = rng.random()
    if r < 0.55:
        return f"{d.month}/{d.day}"
    if r < 0.65:
        return f"{d.month:02d}/{d.day:02d}"
    if r < 0.75:
        return f"{d.month}/{d.day}/{d.year % 100:02d}"
    if r < 0.85:
        return f"{d.day} {_MONTHS[d.month - 1]}, {d.year % 100:02d}"
    if r < 0.93:
        return f"{_MONTHS[d.month - 1]} {d.day}"
    return f"{d.month}-{d.day}-{d.year % 100:02d}"


def _phone(rng: random.Random, number: str) -> str:
    a, b, c = number.split("-")
    return rng.choice(
        (
            f"{a}-{b}-{c}",
            f"({a}) {b}-{c}",
            f"{a}.{b}.{c}",
            f"{a} {b} {c}",
            f"{a}- {b}- {c}",
            f"{a}{b}{c}",
            f"{a} {b}-{c}",
        )
    )


def _title_name(rng: random.Random, family: str, given: str) -> list:
    style = rng.randrange(7)
    if style == 5:
        return [(f"{given} {family}", "NAME")]  # "... aware": told by name, no title
    if style == 6:
        return [f"{rng.choice(('NP', 'PA'))} ", (family, "NAME")]
    if style == 0:
        return ["Dr. ", (family, "NAME")]
    if style == 1:
        return ["dr ", (family.lower(), "NAME")]
    if style == 2:
        return ["DR.", (family.upper(), "NAME")]
    if style == 3:
        return ["per ", (f"{given[0]}. {family}", "NAME")]
    return [f"{rng.choice(('NP', 'PA'))} ", (given, "NAME")]


class _Note:
    """One note's PHI choices and the clinical text around them."""

    def __init__(self, rng: random.Random, person: Person, pool: Pool, when: datetime) -> None:
        self.rng, self.p, self.pool, self.when = rng, person, pool, when
        hospitals = [o for o in pool.organizations if o.kind == "hospital"]
        self.hospital = rng.choice(hospitals)
        self.staff = pool.practitioners
        self.ward = f"{rng.choice(FAMILY)}"

    def clinician(self) -> list:
        pr = self.rng.choice(self.staff)
        return _title_name(self.rng, pr.family, pr.given)

    def days_ago(self, lo: int, hi: int) -> datetime:
        return self.when - timedelta(days=self.rng.randint(lo, hi))


def _header(t: PhiText, n: _Note) -> None:
    rng = n.rng
    unit = rng.choice(_UNITS)
    style = rng.randrange(3)
    if style == 0:
        t.line(f"{unit} NPN 7P-7A")
    elif style == 1:
        t.line("Nursing Progress Note ", (_md(rng, n.when), "DATE"), " 1900-0700")
    else:
        day = rng.choice(_WEEKDAYS)
        # a weekday is no element of a date (the gold standards never mark one; a whole-week shift keeps it)
        t.line(
            f"nursing note {day} ",
            (_md(rng, n.when), "DATE"),
            f" {rng.choice(('0700-1900', '7a-7p'))}",
        )
    t.line()


def _events(t: PhiText, n: _Note) -> None:
    rng = n.rng
    admitted = n.days_ago(1, 6)
    initials = "".join(w[0] for w in n.hospital.name.split() if w[0].isupper())[:4] or "GH"
    if rng.random() < 0.5:
        moved = f" ER WITH CP, R/O MI. TRANSFERRED TO {rng.choice(_UNITS)} @ {rng.randrange(0, 24):02d}00."
        t.line(
            f"{rng.randint(45, 88)} YO ADMITTED ",
            (_md(rng, admitted), "DATE"),
            " FROM ",
            (initials, "FACILITY"),
            moved,
        )
    else:
        t.line("transferred from ", (n.hospital.name, "FACILITY"), " on ", (_md(rng, admitted), "DATE"),
               f" s/p cath, stent to LAD. hct {rng.randint(25, 38)}.{rng.randint(0, 9)}.")  # fmt: skip
    yy = rng.randint(60, 99)
    if rng.random() < 0.6:
        t.line("PMH: CAD S/P MI ", (f"{yy}'", "DATE"), ", CVA ", (f"'{rng.randint(60, 99)}", "DATE"),
               ", HTN, DM2, CABG ", (str(rng.randint(1985, 2015)), "DATE"), ".")  # fmt: skip
    else:
        t.line("PMHX CVA in ", (str(yy), "DATE"), " and ", (f"{rng.randint(0, 9):02d}", "DATE"),
               f", HTN, DM2. TMAX {rng.randint(99, 101)}-{rng.randint(99, 101)}.{rng.randint(1, 9)}.")  # fmt: skip
    t.line()


def _systems(t: PhiText, n: _Note) -> None:
    rng = n.rng
    hr_lo = rng.randint(60, 90)
    t.line(f"NEURO: A+OX3, MAE, PERRLA, FOLLOWS COMMANDS. PAIN {rng.randint(0, 8)}/10, MEDICATED W MSO4 2 MG IV.")
    hr = f"HR {hr_lo}-{hr_lo + rng.randint(10, 40)} SR"
    t.line(f"CV: {hr}, NO VEA. BP {rng.randint(95, 150)}/{rng.randint(45, 90)}, MAP 65-70'S. NTG GTT @ "
           f"{rng.randint(10, 80)} MCG/MIN, HEPARIN @ {rng.randint(6, 14)}00 U/HR, "
           f"PTT DUE @ {rng.choice(('2000', '2200', '0200', '0400'))}.")  # fmt: skip
    abg = f"7.{rng.randint(30, 45)}/{rng.randint(35, 50)}/{rng.randint(70, 140)}"
    mode = rng.choice(("ON PSV", "ON BIPAP OVERNIGHT", "ON CPAP WITH FLOWBY", "REMAINS ON"))
    t.line(f"RESP: {mode} {rng.choice((5, 8, 10, 12, 15))}/{rng.choice((3, 5, 8))}, FIO2 {rng.choice((40, 50))}%, "
           f"SATS 95-98%. ABG {abg}. LS COARSE, CRACKLES 1/2 UP.")  # fmt: skip
    t.line(f"GI: ABD SOFT +BS. TF @ {rng.randint(20, 60)}CC/HR, 1/2 STRENGTH. NGT TO LCWS.")
    t.line(f"GU: FOLEY DRAINING CLEAR AMBER URINE {rng.randint(30, 90)}-{rng.randint(100, 250)}CC/HR. "
           f"K {rng.randint(30, 50) / 10} REPLETED, CR {rng.randint(7, 25) / 10}.")  # fmt: skip
    t.add("ID: TMAX 100.", str(rng.randint(1, 9)), ", WBC ", str(rng.randint(8, 19)), ". CX SENT ")
    t.line((_md(rng, n.days_ago(0, 3)), "DATE"), ".")
    if rng.random() < 0.5:
        t.add("MD AWARE: ")
        t.line(*n.clinician(), " UPDATED ON LABS.")
    else:
        told = rng.choice(("AWARE", "MADE AWARE", "NOTIFIED"))
        t.line(f"BP DOWN TO {rng.randint(70, 89)}/{rng.randint(35, 50)}. ", *n.clinician(),
               f" {told}, {rng.randint(250, 500)}CC NS BOLUS GIVEN.")  # fmt: skip


def _social(t: PhiText, n: _Note) -> None:
    rng, p = n.rng, n.p
    t.add("SOCIAL: ")
    if p.relatives:
        rel = rng.choice(p.relatives)
        word = rng.choice(_RELATIONS.get(rel.relation, (rel.relation,)))
        name = rel.given if rng.random() < 0.6 else f"{rel.given} {rel.family}"
        style = rng.random()
        if style < 0.2:
            t.add(f"{word}-", (rel.given, "NAME"), "---", (_phone(rng, p.phone), "PHONE"), ". ")
        elif style < 0.35:
            t.add("CASE MANAGER SPOKE WITH ", (rel.given, "NAME"), " TODAY RE: REHAB SCREENING. ")
        else:
            t.add(f"{word} ", (name, "NAME"), " IN TO VISIT")
            if rng.random() < 0.6:
                t.add(", CAN BE REACHED AT ", (_phone(rng, p.phone), "PHONE"))
            t.add(". ")
    if rng.random() < 0.6:
        t.add("PT LIVES IN ", (p.city, "CITY"), " WITH FAMILY. ")
    if rng.random() < 0.4:
        t.add("PAGER # ", (str(rng.randrange(10000, 99999)), "PHONE"), " FOR CONSENTS. ")
    t.line()


def _plan(t: PhiText, n: _Note) -> None:
    rng = n.rng
    surgery = _md(rng, n.when + timedelta(days=rng.randint(1, 5)))
    if rng.random() < 0.2:
        saint = rng.choice(n.staff).given
        t.line("PLAN: TITRATE LASIX GTT TO KEEP UO ADEQ. CK AM LABS. TO GO TO ", (f"ST. {saint}", "FACILITY"),
               f" ON {rng.choice(_WEEKDAYS)} PER CASE WORKER.")  # fmt: skip
        _signature(t, n)
        return
    t.line("PLAN: WEAN NTG AS TOL, CHECK LABS @ 2000, CONT PSV, TRANSFER TO ", (n.ward, "FACILITY"),
           f" {rng.randint(2, 12)} WHEN STABLE, ?CABG ", (surgery, "DATE"), ".")  # fmt: skip
    _signature(t, n)


def _signature(t: PhiText, n: _Note) -> None:
    rng = n.rng
    nurse = rng.choice(n.staff)
    t.line()
    t.line((f"{nurse.given} {nurse.family}", "NAME"), f", {rng.choice(_CREDENTIALS)}")


def _cased(text: str, spans: list[dict], case: str) -> tuple[str, list[dict]]:
    """The note in ALL CAPS, lower case or as written; offsets hold because only ASCII-safe recasing is
    done (a recased text of another length is left as written)."""
    out = text.upper() if case == "upper" else text.lower() if case == "lower" else text
    if len(out) != len(text):
        return text, spans
    return out, [{**s, "text": out[s["start"] : s["end"]]} for s in spans]


def write_nursing_note(rng: random.Random, person: Person, pool: Pool, when: datetime) -> tuple[str, list[dict]]:
    """(text, PHI spans) for one ICU nursing note about `person`, written at `when`."""
    n = _Note(rng, person, pool, when)
    t = PhiText()
    _header(t, n)
    _events(t, n)
    _systems(t, n)
    _social(t, n)
    _plan(t, n)
    case = rng.choices(("upper", "lower", "as-is"), weights=(45, 20, 35))[0]
    return _cased(t.text(), t.spans, case)


def nursing_notes(seed: int, n: int) -> list[tuple[str, list[dict]]]:
    """`n` nursing notes of the seed's synthetic patients with their PHI truth (for training and tests).

    >>> text, spans = nursing_notes(7, 1)[0]
    >>> all(text[s["start"] : s["end"]] == s["text"] for s in spans) and len(spans) > 5
    True
    """
    rng = random.Random(f"longitude-synthetic:{seed}:nursing")
    pool = make_pool(seed)
    out = []
    for i in range(n):
        person = make_person(rng, f"nursing-{seed}-{i}")
        when = datetime(2005, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(5000), hours=rng.randrange(24))
        out.append(write_nursing_note(rng, person, pool, when))
    return out
