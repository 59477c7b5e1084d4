"""Synthetic people and places: names, regions, facilities, practitioners and each patient's identifiers.

Names avoid English words, months and clinical terms ("Will", "June", "Frank", "Ray" as in X-ray, "Colon",
"Ward", "Walker", "Gray"), so a name found in a note is PHI and nothing else. About 1 in 10 people gets an
accented (Latin-1) name, which the notes use to exercise encoding detection.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from synthetic.ids import new_uuid

MALE = (
    "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony "
    "Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason Jeffrey Ryan Jacob "
    "Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Patrick "
    "Raymond Dennis Jerry Tyler Aaron Adam Nathan Henry Douglas Zachary Peter Kyle Walter Ethan Jeremy Harold "
    "Keith Roger Gerald Carl Sean Arthur Lawrence Dylan Jesse Bruce Albert Willie Gabriel Alan Juan Wayne Elijah "
    "Randy Vincent Ralph Eugene Russell Philip Louis Howard Stanley Leonard Ernest Herbert Clarence Theodore"
).split()
FEMALE = (
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Sandra Margaret "
    "Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie Dorothy Rebecca Sharon Laura "
    "Cynthia Amy Kathleen Angela Shirley Brenda Emma Anna Pamela Nicole Samantha Katherine Christine Helen Debra "
    "Rachel Carolyn Janet Maria Catherine Heather Diane Olivia Julie Victoria Ruth Virginia Lauren Christina Joan "
    "Evelyn Judith Andrea Hannah Megan Cheryl Jacqueline Martha Teresa Gloria Janice Kathryn Abigail Sophia "
    "Frances Alice Judy Isabella Julia Denise Danielle Marilyn Natalie Diana Brittany Charlotte Marie Kayla Lori "
    "Mildred Gladys Doris Lillian Eleanor Florence Irene Louise Edna Thelma"
).split()
MALE_ACCENTED = "José André François Jürgen Raúl Björn Joël Ángel Sébastien Andrés Jérôme Agustín".split()
FEMALE_ACCENTED = "Zoë Renée Chloé Inés Noémie Mónica Hélène Sofía Béatrice Anaïs Lucía Müge".split()
FAMILY = (
    "Smith Johnson Williams Jones Miller Davis Garcia Rodriguez Wilson Martinez Anderson Taylor Thomas Hernandez "
    "Moore Martin Jackson Thompson Perez Harris Clark Lewis Robinson Nguyen Wright Lopez Scott Adams Gonzalez "
    "Nelson Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Sanchez Morris Rogers "
    "Reed Murphy Rivera Cooper Richardson Kim Peterson Ramirez Watson Sanders Bennett Henderson Coleman Jenkins "
    "Patterson Hughes Flores Butler Simmons Foster Bryant Russell Griffin Diaz Hayes Myers Hamilton Graham "
    "Sullivan Wallace Owens Reynolds Fisher Ellis Harrison Gibson McDonald Cruz Marshall Ortiz Gomez Murray "
    "Freeman Simpson Stevens Tucker Hicks Crawford Boyd Morales Kennedy Warren Dixon Ramos Reyes Burns Gordon "
    "Holmes Robertson Daniels Palmer Nichols Ferguson Hawkins Dunn Perkins Hudson Spencer Gardner Stephens Payne "
    "Pierce Matthews Arnold Wagner Watkins Olson Carroll Duncan Snyder Cunningham Bradley Andrews Ruiz Harper "
    "Riley Armstrong Weaver Lawrence Elliott Chavez Kowalski Schmidt Vasquez Castillo Wheeler Chapman Montgomery "
    "Richards Williamson Johnston Meyer McCoy Howell Alvarez Morrison Hansen Fernandez Harvey Burton Jacobs Reid "
    "Lynch Garrett Romero Welch Larson Frazier Burke Hanson Mendoza Moreno Bowman Medina Fowler Hoffman Carlson "
    "Silva Pearson Jensen Vargas Davidson Hopkins Herrera Jimenez Barnett Horton Barrett O'Brien Castro Sutton "
    "Gregory McKinney Lambert Fletcher Bates Rhodes Newman Haynes Mendez Vaughn Dawson Santiago Norris Schultz "
    "Guzman Keller Weber Walsh Lyons Ramsey Schneider Benson Bowen Baldwin Salazar Reeves Stevenson Santos "
    "Thornton Delgado Aguilar Glover Cohen Harmon Higgins Ingram Townsend Goodwin Ortega Swanson Maldonado "
    "Becker Erickson Hodges Adkins Webster Hammond Quinn Maxwell Osborne McCarthy Guerrero Estrada Sandoval "
    "Fitzgerald Doyle Sherman Saunders Alvarado Padilla Schwartz McBride Christensen Klein Pratt Briggs Parsons "
    "McLaughlin Zimmerman Buchanan Moran Copeland Pittman Brady McCormick Holloway Wong Morton Abbott Norton "
    "Figueroa Barton Tran Harrington Cortez Mathis Wilkins Underwood Hogan McKenzie Collier Phelps McGuire"
).split()
FAMILY_ACCENTED = (
    "García Müller Núñez Lefèvre Peña Schäfer Ibáñez Côté Gómez Bélanger Jiménez Gauthier Köhler".split()
)


@dataclass(frozen=True, slots=True)
class Region:
    state: str
    tz: ZoneInfo
    area_codes: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]  # (city, ZIP)
    facilities: tuple[tuple[str, str, str], ...]  # (name, kind hospital|clinic, city)


REGIONS = (
    Region("MA", ZoneInfo("America/New_York"), ("978", "781", "351"),
           (("Salem", "01970"), ("Peabody", "01960"), ("Danvers", "01923"), ("Marblehead", "01945"),
            ("Gloucester", "01930"), ("Swampscott", "01907"), ("Ipswich", "01938")),
           (("Salem Regional Medical Center", "hospital", "Salem"),
            ("North Shore Family Health", "clinic", "Danvers"),
            ("Cape Ann Primary Care", "clinic", "Gloucester"))),
    Region("IL", ZoneInfo("America/Chicago"), ("847", "630", "708"),
           (("Evanston", "60201"), ("Skokie", "60076"), ("Oak Park", "60302"), ("Naperville", "60540"),
            ("Joliet", "60432"), ("Wilmette", "60091")),
           (("Lakeshore General Hospital", "hospital", "Evanston"),
            ("Prairie Path Medical Group", "clinic", "Naperville"),
            ("Des Plaines River Clinic", "clinic", "Joliet"))),
    Region("AZ", ZoneInfo("America/Phoenix"), ("480", "602"),
           (("Tempe", "85281"), ("Mesa", "85201"), ("Scottsdale", "85251"), ("Glendale", "85301"),
            ("Peoria", "85345")),
           (("Desert Vista Medical Center", "hospital", "Mesa"),
            ("Saguaro Family Practice", "clinic", "Tempe"),
            ("Camelback Health Partners", "clinic", "Scottsdale"))),
    Region("CO", ZoneInfo("America/Denver"), ("303", "720"),
           (("Boulder", "80302"), ("Longmont", "80501"), ("Lakewood", "80226"), ("Arvada", "80002"),
            ("Louisville", "80027")),
           (("Front Range Regional Hospital", "hospital", "Lakewood"),
            ("Flatirons Family Medicine", "clinic", "Boulder"))),
)  # fmt: skip
STREETS = (
    "Maple Street Highland Avenue Elm Street Chestnut Street Lafayette Street Pleasant Street Washington Street "
    "Lincoln Avenue Prospect Street Sycamore Drive Juniper Court Birchwood Road Cedar Lane Willow Way "
    "Orchard Terrace Meadowbrook Road Hawthorne Boulevard Aspen Circle Ridgecrest Drive Riverside Drive"
).split()
STREETS = tuple(" ".join(STREETS[i : i + 2]) for i in range(0, len(STREETS), 2))
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str
    kind: str  # hospital | clinic
    region: int
    city: str
    zip: str
    street: str
    phone: str
    npi: str


@dataclass(frozen=True, slots=True)
class Practitioner:
    id: str
    given: str
    family: str
    gender: str
    org: int  # index into Pool.organizations
    npi: str
    credential: str  # MD | DO | NP | PA

    @property
    def full(self) -> str:
        return f"{self.given} {self.family}"


@dataclass(frozen=True, slots=True)
class Pool:
    """Facilities and practitioners shared by every patient of one seed (the NDJSON reference data)."""

    organizations: tuple[Organization, ...]
    practitioners: tuple[Practitioner, ...]
    _staff: dict[int, list[Practitioner]] = field(default_factory=dict, compare=False, repr=False)

    def staff(self, org: int) -> list[Practitioner]:
        if org not in self._staff:
            self._staff[org] = [p for p in self.practitioners if p.org == org]
        return self._staff[org]


def _phone(rng: random.Random, area_codes: tuple[str, ...]) -> str:
    # 555 exchanges are reserved for fiction; Synthea uses the same trick.
    return f"{rng.choice(area_codes)}-555-{rng.randrange(10000):04d}"


@lru_cache(maxsize=4)
def make_pool(seed: int) -> Pool:
    """The seed's facilities and staff; independent of the patient count, so N patients is a prefix of N+1."""
    rng = random.Random(f"longitude-synthetic:{seed}:pool")
    orgs: list[Organization] = []
    for r, region in enumerate(REGIONS):
        zips = dict(region.cities)
        for name, kind, city in region.facilities:
            street = f"{rng.randrange(10, 900)} {rng.choice(STREETS)}"
            npi = f"1{rng.randrange(10**8, 10**9)}"
            orgs.append(
                Organization(
                    new_uuid(rng), name, kind, r, city, zips[city], street, _phone(rng, region.area_codes), npi
                )
            )
    staff: list[Practitioner] = []
    for o, org in enumerate(orgs):
        for _ in range(8 if org.kind == "hospital" else 5):
            gender = rng.choice(("male", "female"))
            given = rng.choice(MALE if gender == "male" else FEMALE)
            credential = rng.choices(("MD", "DO", "NP", "PA"), weights=(70, 10, 12, 8))[0]
            npi = f"1{rng.randrange(10**8, 10**9)}"
            staff.append(Practitioner(new_uuid(rng), given, rng.choice(FAMILY), gender, o, npi, credential))
    return Pool(tuple(orgs), tuple(staff))


@dataclass(slots=True)
class Relative:
    relation: str  # daughter, son, wife, ...
    given: str
    family: str


@dataclass(slots=True)
class Person:
    """A patient's demographics and direct identifiers: everything a note or DICOM header may leak."""

    id: str
    gender: str  # male | female
    given: str
    middle: str | None
    family: str
    maiden: str | None
    birth: date
    death: datetime | None
    region: int
    mrn: str
    ssn: str
    phone: str
    email: str
    street: str
    city: str
    zip: str
    married: bool
    relatives: list[Relative] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return REGIONS[self.region].tz

    @property
    def state(self) -> str:
        return REGIONS[self.region].state

    @property
    def prefix(self) -> str:
        return "Mr." if self.gender == "male" else ("Mrs." if self.married else "Ms.")

    @property
    def accented(self) -> bool:
        return not f"{self.given}{self.family}".isascii()


def _given(rng: random.Random, gender: str, accented: bool) -> str:
    if accented and rng.random() < 0.6:
        return rng.choice(MALE_ACCENTED if gender == "male" else FEMALE_ACCENTED)
    return rng.choice(MALE if gender == "male" else FEMALE)


def _birth_date(rng: random.Random) -> date:
    # Births 1920-2015, weighted toward the middle of the century like a health system's living panel.
    year = min(2015, max(1920, round(rng.triangular(1920, 2015, 1960))))
    return date(year, rng.randint(1, 12), rng.randint(1, 28))


def make_person(rng: random.Random, pid: str) -> Person:
    gender = rng.choice(("male", "female"))
    accented = rng.random() < 0.1
    given = _given(rng, gender, accented)
    family = rng.choice(FAMILY_ACCENTED) if accented and rng.random() < 0.7 else rng.choice(FAMILY)
    middle = _given(rng, gender, False) if rng.random() < 0.4 else None
    while middle == given:
        middle = _given(rng, gender, False)
    birth = _birth_date(rng)
    adult = birth.year < 2000
    married = adult and rng.random() < 0.55
    maiden = rng.choice(FAMILY) if married and gender == "female" and rng.random() < 0.6 else None
    r = rng.randrange(len(REGIONS))
    region = REGIONS[r]
    city, zip_code = rng.choice(region.cities)
    street = f"{rng.randrange(1, 2000)} {rng.choice(STREETS)}"
    if rng.random() < 0.2:
        street += f" Apt {rng.randrange(1, 40)}{rng.choice('ABCD')}"
    local = f"{given[0]}{family}".lower() if rng.random() < 0.5 else f"{given}.{family}".lower()
    local = local.encode("ascii", "ignore").decode().replace("'", "")
    email = f"{local}{rng.randrange(1, 99)}@{rng.choice(EMAIL_DOMAINS)}"
    person = Person(
        id=pid,
        gender=gender,
        given=given,
        middle=middle,
        family=family,
        maiden=maiden,
        birth=birth,
        death=None,
        region=r,
        mrn=f"{rng.randrange(10**7, 10**8)}",
        ssn=f"999-{rng.randrange(10, 100)}-{rng.randrange(1000, 10000)}",
        phone=_phone(rng, region.area_codes),
        email=email,
        street=street,
        city=city,
        zip=zip_code,
        married=married,
    )
    person.relatives = _relatives(rng, person)
    return person


def _relatives(rng: random.Random, person: Person) -> list[Relative]:
    out = []
    if person.married:
        relation = "wife" if person.gender == "male" else "husband"
        out.append(
            Relative(relation, _given(rng, "female" if relation == "wife" else "male", False), person.family)
        )
    for _ in range(rng.randrange(0, 3) if person.birth.year < 1985 else 0):
        gender = rng.choice(("male", "female"))
        out.append(Relative("son" if gender == "male" else "daughter", _given(rng, gender, False), person.family))
    if person.birth.year > 1995 or rng.random() < 0.2:
        gender = rng.choice(("male", "female"))
        family = person.family if gender == "male" or rng.random() < 0.5 else rng.choice(FAMILY)
        out.append(Relative("father" if gender == "male" else "mother", _given(rng, gender, False), family))
    return out
