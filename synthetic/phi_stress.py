"""A seeded stress set of PHI in the forms clinicians write it (dates without a year, ranges, times beside
dates, relatives and clinicians by shorthand, initials and signature lines, wards, towns, streets and phone
numbers in many formats), each form in several contexts and in ALL CAPS, lower case and as written, with
exact spans and the form of each span, so recall can be measured form by form on text no rule was written
against."""

import random
from collections.abc import Callable
from datetime import date, timedelta

from synthetic.people import FAMILY, FEMALE, MALE
from synthetic.phi_text import PhiText, ordinal

# Names of many origins that the de-identifier's own name lists do not hold (tests/deid/test_recall_stress.py
# checks it), so a name is found by its context, not because a list holds it.
WORLD_GIVEN = (
    "Adaeze Babajide Chiamaka Ebere Folasade Ifeoma Nnamdi Obinna Temitope Yetunde Abena Kwabena Afua Kojo "
    "Mthunzi Thandiwe Sipho Nomvula Wanjiru Kamau Njeri Otieno Haruka Kazuhiro Ryota Tomoko Daisuke Sayuri "
    "Jae-won Min-seo Hye-jin Seung-ho Xiuying Zhiwei Jianhua Meiling Wen-li Thanh Huong Quang Duc Linh Anh "
    "Priyanka Venkatesh Aishwarya Gurpreet Harpreet Manpreet Raghav Shreya Tanvir Farhana Nusrat "
    "Siddiqa Mahmoud Yusuf Rashid Hadiya Nasrin Dariush Shirin Ozlem Emre Burak Ayse "
    "Mehmet Giorgos Eleni Dimitrios Vasiliki Oksana Bohdan Taras Yevhen Agata Wiktoria Radoslaw Milos "
    "Dragana Ljiljana Zsuzsa Bence Tuija Jyrki Eyvind Solvi Tiihonen Guadalupe Xochitl Itzel Cuauhtemoc "
    "Yolanda Rosalba Epifanio Graciela Lourdes Ximena Tupac Marisol Teodoro Anneliese Siegfried Wilhelmina"
).split()
WORLD_FAMILY = (
    "Okonkwo Adeyemi Oyelaran Nwachukwu Mensah Boateng Asante Owusu Dlamini Nkosi Mwangi Kariuki Odhiambo "
    "Takahashi Yamaguchi Nakashima Kobayashi Watanabe Matsumoto Hwang Jeong Yoon Xu Zhou "
    "Hoang Raghunathan Subramanian Chaudhary Venkataraman Banerjee Chatterjee Sandhu Grewal "
    "Rahman Chowdhury Haddad Nasser Khoury Mansour Farahani Karimi Tehrani Yilmaz Ozturk Demir Papadopoulos "
    "Georgiou Kovalenko Shevchenko Bondarenko Wisniewski Kaczmarek Zielinski Dabrowski Jovanovic Petrovic "
    "Horvath Szabo Nagy Virtanen Korhonen Makinen Haugland Brekke Quispe Mamani Huaman Xicotencatl "
    "Echeverria Arriaga Kowalczyk Wojcik Szczepanski Przybylski Oyelowo"
).split()
# Joined and apostrophe names: the shapes that break a tokenizer or a capitalisation rule.
JOINED_FAMILY = (
    "O'Connor O'Malley O'Brien D'Angelo D'Souza Dell'Orto N'Diaye Al-Sayed Al-Khouri El-Amin Abu-Hamad "
    "Smith-Okafor Garcia-Mendez Lopez-Rivera Bui-Tran Nakamura-Price Ben-David"
).split()
JOINED_GIVEN = (
    "Mei-Ling Jean-Luc Marie-Claire Ji-hoon Anne-Sophie Jo-Ann Da'Quan Ja'Nae De'Andre Hee-young".split()
)
# Small towns (fewer than 15,000 people) with their state, so a gazetteer of large cities does not hold them.
TOWNS = (
    ("Hingham", "MA"), ("Scituate", "MA"), ("Sturbridge", "MA"), ("Hopkinton", "MA"), ("Topsfield", "MA"),
    ("Lunenburg", "MA"), ("Wenham", "MA"), ("Ashburnham", "MA"), ("Pepperell", "MA"), ("Harwich", "MA"),
    ("Wolfeboro", "NH"), ("Peterborough", "NH"), ("Bethel", "ME"), ("Camden", "ME"), ("Woodstock", "VT"),
    ("Stonington", "CT"), ("Tiverton", "RI"), ("Cazenovia", "NY"), ("Skaneateles", "NY"), ("Lititz", "PA"),
    ("Chestertown", "MD"), ("Abingdon", "VA"), ("Boone", "NC"), ("Dahlonega", "GA"), ("Fairhope", "AL"),
    ("Oxford", "MS"), ("Natchitoches", "LA"), ("Fredericksburg", "TX"), ("Alpine", "TX"), ("Taos", "NM"),
    ("Durango", "CO"), ("Moab", "UT"), ("Sandpoint", "ID"), ("Bozeman", "MT"), ("Decorah", "IA"),
    ("Northfield", "MN"), ("Galena", "IL"), ("Yellow Springs", "OH"), ("Nashville", "IN"), ("Petoskey", "MI"),
    ("Sitka", "AK"), ("Hanalei", "HI"), ("Astoria", "OR"), ("Port Townsend", "WA"), ("Ojai", "CA"),
)  # fmt: skip
STREET_NAMES = (
    "Elmwood Birchcroft Quarry Hollis Winthrop Larchmont Pemberton Fairmount Kingsbury Ashcroft Brattle "
    "Cedarbrook Dunster Everett Foxhall Greystone Hawthorn Ironwood Juniper Kirkland Lindenwood Marlborough"
).split()
STREET_TYPES = ("St", "St.", "Street", "Rd", "Rd.", "Road", "Ave", "Ave.", "Avenue", "Terr.", "Ln", "Dr.", "Way")
HOSPITAL_STEMS = (
    "Lakeside Fairhaven Riverbend Hillcrest Brookvale Northgate Eastfield Pinecrest Meadowbrook Stonebridge "
    "Westbury Oakmont Glenwood Ridgeview Harborview Cedarcrest Maplewood Sunnyvale"
).split()
HOSPITAL_KINDS = ("General", "General Hospital", "Medical Center", "Memorial", "Regional", "Community Hospital")
SAINTS = "Brigid Agnes Elizabeth Vincent Anne Jude Luke Monica Clare Raphael Bernadette Camillus".split()
REHABS = ("Manor", "Rehab", "Rehabilitation Center", "Nursing Home", "Skilled Nursing", "Care Center", "House")
_WARD_STEMS = "Feldberg Ellison Kessler Stoneman Farr Reisman Blake Wang Hollister Carlton".split()
_UNITS = ("MICU", "SICU", "CCU", "CSRU", "floor", "step down", "ED", "PACU")
_MONTHS = ("January February March April May June July August September October November December").split()
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_CLINICAL = (
    "HR 88-102 SR, BP 110-130/60-70.",
    "NEURO: A+OX3, MAE. PAIN 4/10.",
    "RESP: PSV 10/5, FIO2 40%, SATS 96%.",
    "GU: FOLEY W/ 30-60CC/HR CLEAR YELLOW.",
    "K 3.4 REPLETED W/ 40 MEQ KCL.",
    "TF @ 40CC/HR, GOAL 60.",
)

Form = Callable[[random.Random], list]


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def _day(rng: random.Random) -> date:
    return date(2000, 1, 1) + timedelta(days=rng.randrange(9000))


def _md(d: date, rng: random.Random) -> str:
    return f"{d.month:02d}/{d.day:02d}" if rng.random() < 0.2 else f"{d.month}/{d.day}"


def _abbr(d: date, rng: random.Random) -> str:
    """A month abbreviated, with or without the period, before or after the day."""
    mon = _MONTHS[d.month - 1][: rng.choice((3, 3, 4))] if d.month == 9 else _MONTHS[d.month - 1][:3]
    dot = "." if rng.random() < 0.5 else ""
    if rng.random() < 0.25:
        return f"{d.day} {mon}{dot}"
    return f"{mon}{dot} {d.day}"


def _given(rng: random.Random) -> tuple[str, str]:
    """A given name and its origin: the US lists the generator's patients use, or another origin."""
    if rng.random() < 0.35:
        return rng.choice(MALE + FEMALE), "us"
    if rng.random() < 0.15:
        return rng.choice(JOINED_GIVEN), "joined"
    return rng.choice(WORLD_GIVEN), "world"


def _family(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.3:
        return rng.choice(FAMILY), "us"
    if r < 0.5:
        return rng.choice(JOINED_FAMILY), "joined"
    return rng.choice(WORLD_FAMILY), "world"


def _phone_number(rng: random.Random) -> str:
    return f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


# --- dates -------------------------------------------------------------------------------------------------


def date_month_day(rng: random.Random) -> list:
    d = _md(_day(rng), rng)
    return rng.choice((
        ["ADMITTED ", (d, "DATE"), " FROM OSH WITH SOB."],
        ["cx sent ", (d, "DATE"), ", no growth to date."],
        ["last bm ", (d, "DATE"), ", + flatus."],
        ["s/p ex lap ", (d, "DATE"), " for sbo."],
        ["Extubated on ", (d, "DATE"), " and reintubated same day."],
        ["PICC PLACED ", (d, "DATE"), " L ARM."],
    ))  # fmt: skip


def date_range(rng: random.Random) -> list:
    a = _day(rng)
    b = a + timedelta(days=rng.randint(1, 6))
    sep = rng.choice(("-", " - ", "-", " to ", "->"))
    return rng.choice((
        ["vanco ", (_md(a, rng), "DATE"), sep, (_md(b, rng), "DATE"), ", now off."],
        ["INTUBATED ", (_md(a, rng), "DATE"), sep, (_md(b, rng), "DATE"), "."],
        ["was in micu ", (_md(a, rng), "DATE"), sep, (_md(b, rng), "DATE"), " for pna."],
        ["Fevers ", (_md(a, rng), "DATE"), sep, (_md(b, rng), "DATE"), ", cultures neg."],
    ))  # fmt: skip


def date_apostrophe_year(rng: random.Random) -> list:
    y = f"'{rng.randint(60, 99):02d}"
    return rng.choice((
        ["PMH: CABG ", (y, "DATE"), ", HTN, DM2."],
        ["hx mi in ", (y, "DATE"), ", stent to lad."],
        ["s/p TKR ", (y, "DATE"), " and ", (f"'{rng.randint(0, 9):02d}", "DATE"), "."],
        ["Dx breast ca ", (y, "DATE"), ", s/p XRT."],
    ))  # fmt: skip


def date_ordinal_day(rng: random.Random) -> list:
    d = ordinal(rng.randint(1, 28))
    return rng.choice((
        ["Extubated on the ", (d, "DATE"), ", stable since."],
        ["family meeting planned for the ", (d, "DATE"), "."],
        ["LAST DOSE ON THE ", (d, "DATE"), "."],
        ["pt due for trach change the ", (d, "DATE"), "."],
    ))  # fmt: skip


def date_weekday(rng: random.Random) -> list:
    d = _day(rng)
    day = _WEEKDAYS[d.weekday()]
    day = rng.choice((day, day[:3], day[:3] + "."))
    return rng.choice((
        [f"{day} ", (_md(d, rng), "DATE"), ": pt seen by ortho."],
        ["Plan for OR ", f"{day} ", (_md(d, rng), "DATE"), "."],
        ["NPN ", f"{day} ", (_md(d, rng), "DATE"), " 7P-7A"],
        ["CT on ", f"{day} (", (_md(d, rng), "DATE"), ") neg."],
    ))  # fmt: skip


def date_with_time(rng: random.Random) -> list:
    d = _md(_day(rng), rng)
    t = f"{rng.randint(0, 23):02d}{rng.choice(('00', '15', '30', '45'))}"
    return rng.choice((
        ["labs drawn ", (d, "DATE"), f" @ {t}, k 3.2."],
        ["EVENT ", (d, "DATE"), f" AT {t}: VT X 8 BEATS."],
        ["last dose given ", (d, "DATE"), f" {t}."],
        ["Line placed ", (d, "DATE"), f" @{t} by IR."],
    ))  # fmt: skip


def date_dash_month_day(rng: random.Random) -> list:
    d = _day(rng)
    md = f"{d.month}-{d.day}"
    return rng.choice((
        ["family meeting on ", (md, "DATE"), " with team."],
        ["CXR ", (md, "DATE"), " with new RLL infiltrate."],
        ["SEEN BY ID ON ", (md, "DATE"), ", ABX CHANGED."],
        ["Trach placed ", (md, "DATE"), ", PEG to follow."],
    ))  # fmt: skip


def date_month_abbreviated(rng: random.Random) -> list:
    d = _abbr(_day(rng), rng)
    return rng.choice((
        ["seen ", (d, "DATE"), " by GI, EGD neg."],
        ["ADMITTED ", (d, "DATE"), " WITH CHF EXACERBATION."],
        ["surgery on ", (d, "DATE"), " went well."],
        ["Last echo ", (d, "DATE"), ": EF 35%."],
    ))  # fmt: skip


def date_two_digit_year(rng: random.Random) -> list:
    d = _day(rng)
    yy = f"{d.year % 100:02d}"
    text = rng.choice((
        f"{d.month}/{d.day}/{yy}", f"{d.month:02d}-{d.day:02d}-{yy}", f"{d.month}/{yy}",
        f"{_MONTHS[d.month - 1][:3]} {d.day}, {yy}",
    ))  # fmt: skip
    return rng.choice((
        ["admitted on ", (text, "DATE"), " for pna."],
        ["PRIOR ADMIT ", (text, "DATE"), " FOR GIB."],
        ["Cath ", (text, "DATE"), ": 3VD."],
    ))  # fmt: skip


# --- people ------------------------------------------------------------------------------------------------


def name_relative(rng: random.Random) -> list:
    given, _ = _given(rng)
    name = given if rng.random() < 0.6 else f"{given} {_family(rng)[0]}"
    rel = rng.choice(("husband", "wife", "dtr", "daughter", "son", "sister", "bro", "niece", "mother"))
    return rng.choice((
        [f"{rel} ", (name, "NAME"), " in to visit, updated."],
        [f"pt's {rel} ", (name, "NAME"), " called for update."],
        [f"{rel}/HCP ", (name, "NAME"), " aware of plan."],
        [f"HCP is {rel} ", (name, "NAME"), "."],
        ["Family: ", f"{rel} ", (name, "NAME"), " at bedside most of shift."],
        [f"{rel}-", (given, "NAME"), " will call in am."],
    ))  # fmt: skip


def name_clinician_title(rng: random.Random) -> list:
    family, _ = _family(rng)
    title = rng.choice(("Dr ", "Dr. ", "DR. ", "dr ", "DR ", "RN ", "NP ", "PA ", "Dr.", "attending dr "))
    return rng.choice((
        [title, (family, "NAME"), " aware of bp."],
        ["D/W ", title, (family, "NAME"), ", will cont current plan."],
        ["MD AWARE (", title, (family, "NAME"), ")."],
        ["Pt seen by ", title, (family, "NAME"), " this am."],
    ))  # fmt: skip


def name_initials(rng: random.Random) -> list:
    letters = "ABCDEFGHJKLMNPRSTW"
    ini = rng.choice(letters) + rng.choice(letters)
    cred = rng.choice(("RN", "RN", "NP", "RRT"))
    return rng.choice((
        [(ini, "NAME"), f" {cred}"],
        ["-", (ini, "NAME"), f", {cred}"],
        [(ini, "NAME"), f"/{cred}"],
        ["notified ", (ini, "NAME"), f" {cred} of pt status."],
    ))  # fmt: skip


def name_signature(rng: random.Random) -> list:
    given, _ = _given(rng)
    family, _ = _family(rng)
    cred = rng.choice(("RN", "RN, BSN", "RN BSN", "NP", "MD", "RRT"))
    return rng.choice((
        ["Will cont to monitor.\n", (f"{given} {family}", "NAME"), f", {cred}"],
        ["plan: cont current regimen.\n--", (f"{given} {family}", "NAME"), f" {cred}"],
        ["Please see flowsheet for details.\n", (f"{given[0]}. {family}", "NAME"), f" {cred}"],
        ["PT RESTING COMFORTABLY.\n", (f"{given} {family}", "NAME")],
    ))  # fmt: skip


def name_s_line(rng: random.Random) -> list:
    given, _ = _given(rng)
    family, _ = _family(rng)
    return rng.choice((
        ["/s/ ", (f"{given} {family}", "NAME"), ", RN"],
        ["/S/ ", (f"{given} {family}", "NAME"), " MD"],
        ["Electronically signed: /s/ ", (f"{given[0]}. {family}", "NAME")],
    ))  # fmt: skip


def name_after_verb(rng: random.Random) -> list:
    name = _given(rng)[0] if rng.random() < 0.5 else _family(rng)[0]
    return rng.choice((
        ["called ", (name, "NAME"), " at home re: code status."],
        ["spoke with ", (name, "NAME"), " re: dispo."],
        ["per ", (name, "NAME"), ", hold heparin tonight."],
        ["SW ", (name, "NAME"), " following."],
        ["Case d/w ", (name, "NAME"), " from renal."],
    ))  # fmt: skip


def name_joined(rng: random.Random) -> list:
    family = rng.choice(JOINED_FAMILY)
    given = rng.choice(JOINED_GIVEN)
    return rng.choice((
        ["Dr. ", (family, "NAME"), " aware."],
        ["wife ", (given, "NAME"), " in to visit."],
        ["spoke with ", (f"{given} {family}", "NAME"), " re: plan."],
        [(f"{given} {family}", "NAME"), ", RN"],
    ))  # fmt: skip


# --- places and numbers ------------------------------------------------------------------------------------


def _hospital(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return f"{rng.choice(HOSPITAL_STEMS)} {rng.choice(HOSPITAL_KINDS)}"
    if r < 0.65:
        saint = rng.choice(SAINTS)
        return rng.choice(
            (f"St. {saint}'s", f"St {saint}", f"Saint {saint}'s Hospital", f"St. {saint} Medical Center")
        )
    if r < 0.8:
        return f"{rng.choice(TOWNS)[0]} {rng.choice(HOSPITAL_KINDS)}"
    return "".join(w[0] for w in f"{rng.choice(HOSPITAL_STEMS)} {rng.choice(HOSPITAL_KINDS)}".split())


def place_hospital(rng: random.Random) -> list:
    h = _hospital(rng)
    unit = rng.choice(_UNITS)
    return rng.choice((
        ["transferred from ", (h, "FACILITY"), f" to {unit} for further care."],
        ["TRANSFERRED FROM ", (h, "FACILITY"), " ER FOR CATH."],
        ["pt was at ", (h, "FACILITY"), " x 3 days prior."],
        ["Cardiologist at ", (h, "FACILITY"), " following."],
    ))  # fmt: skip


def place_ward(rng: random.Random) -> list:
    # the ward's name is the PHI; its floor number alone names nothing
    ward, floor = rng.choice(_WARD_STEMS), f" {rng.randint(2, 12)}"
    return rng.choice((
        ["transferred from ", (ward, "FACILITY"), floor, f" to {rng.choice(_UNITS)}."],
        ["PLAN: TRANSFER TO ", (ward, "FACILITY"), floor, " WHEN BED AVAILABLE."],
        ["called to ", (ward, "FACILITY"), floor, " for rapid response."],
    ))  # fmt: skip


def place_rehab(rng: random.Random) -> list:
    name = f"{rng.choice(HOSPITAL_STEMS)} {rng.choice(REHABS)}"
    return rng.choice((
        ["rehab at ", (name, "FACILITY"), " once cleared by PT."],
        ["D/C TO ", (name, "FACILITY"), " WHEN BED OPENS."],
        ["Screened by ", (name, "FACILITY"), ", accepted."],
    ))  # fmt: skip


def place_town(rng: random.Random) -> list:
    town, state = rng.choice(TOWNS)
    where = [(town, "CITY")] if rng.random() < 0.5 else [(town, "CITY"), f", {state}"]
    return rng.choice((
        ["pt lives in ", *where, " with wife."],
        ["LIVES ALONE IN ", *where, "."],
        ["from ", *where, ", retired teacher."],
        ["Family driving in from ", *where, " tonight."],
    ))  # fmt: skip


def place_street(rng: random.Random) -> list:
    street = f"{rng.randint(2, 990)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_TYPES)}"
    return rng.choice((
        ["lives at ", (street, "ADDRESS"), " with dtr."],
        ["HOME ADDRESS: ", (street, "ADDRESS"), "."],
        ["Pt found down at home (", (street, "ADDRESS"), ") by neighbor."],
    ))  # fmt: skip


def contact_phone(rng: random.Random) -> list:
    n = _phone_number(rng)
    a, b, c = n[:3], n[3:6], n[6:]
    number = rng.choice((
        f"({a}){b}-{c}", f"({a}) {b}-{c}", f"{a}.{b}.{c}", f"{a}-{b}-{c}", f"{a} {b} {c}", f"{b}-{c}",
    ))  # fmt: skip
    return rng.choice((
        ["dtr cell ", (number, "PHONE"), ", call with changes."],
        ["WIFE CAN BE REACHED AT ", (number, "PHONE"), "."],
        ["home # ", (number, "PHONE"), "."],
    ))  # fmt: skip


def contact_extension(rng: random.Random) -> list:
    ext = str(rng.randint(1000, 9999))
    return rng.choice((
        ["call unit at ", (f"x{ext}", "PHONE"), " with questions."],
        ["RENAL FELLOW ", (f"X{ext}", "PHONE"), "."],
        ["Resident paged to ext ", (ext, "PHONE"), "."],
        ["call ", (f"x{ext[0]}-{ext[1:]}", "PHONE"), " for bed."],
    ))  # fmt: skip


def contact_pager(rng: random.Random) -> list:
    pager = str(rng.randint(10000, 99999))
    return rng.choice((
        ["pager ", (pager, "PHONE"), " for resident."],
        ["PAGED RENAL @ ", (pager, "PHONE"), "."],
        ["Beeper #", (pager, "PHONE"), " for ortho."],
        ["page covering np (", (pager, "PHONE"), ") with changes."],
    ))  # fmt: skip


FORMS: dict[str, Form] = {
    f.__name__: f
    for f in (
        date_month_day, date_range, date_apostrophe_year, date_ordinal_day, date_weekday, date_with_time,
        date_dash_month_day, date_month_abbreviated, date_two_digit_year, name_relative, name_clinician_title,
        name_initials, name_signature, name_s_line, name_after_verb, name_joined, place_hospital, place_ward,
        place_rehab, place_town, place_street, contact_phone, contact_extension, contact_pager,
    )
}  # fmt: skip
CASES = ("upper", "lower", "as-is")


def stress_case(rng: random.Random, form: str, case: str) -> tuple[str, list[dict]]:
    """One short note: a clinical line, then the form's sentence, recased; spans carry `form`."""
    t = PhiText()
    if rng.random() < 0.7:
        t.line(rng.choice(_CLINICAL))
    t.line(*FORMS[form](rng))
    text = t.text()
    out = text.upper() if case == "upper" else text.lower() if case == "lower" else text
    if len(out) != len(text):  # a recasing that changes length (ß) would move the offsets: keep as written
        out = text
    return out, [{**s, "text": out[s["start"] : s["end"]], "form": form} for s in t.spans]


def stress_set(seed: int, per_form: int = 6) -> list[tuple[str, list[dict]]]:
    """`per_form` cases of every form in each case (upper, lower, as written) for one seed.

    >>> cases = stress_set(1, 1)
    >>> len(cases) == 3 * len(FORMS) and all(t[s["start"] : s["end"]] == s["text"] for t, ss in cases for s in ss)
    True
    """
    rng = random.Random(f"longitude-synthetic:{seed}:phi-stress")
    return [stress_case(rng, form, case) for form in FORMS for case in CASES for _ in range(per_form)]
