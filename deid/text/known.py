"""What the structured record already knows about a subject, used as a per-subject deny list: every
mention of the subject's names, identifiers, phones, emails, address parts and birth date is PHI, however
the model or the rules would have judged it."""

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_STOP = frozenset("the of and mr mrs ms dr jr sr ii iii iv md".split())


@dataclass(frozen=True, slots=True)
class KnownPhi:
    """A subject's identifiers from the structured record. All fields optional; strings as recorded."""

    names: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()  # MRN, SSN, insurance, licence, passport...
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()  # street lines
    cities: tuple[str, ...] = ()
    zips: tuple[str, ...] = ()
    dates: tuple[date, ...] = field(default=())  # birth date, death date

    @classmethod
    def from_dict(cls, d: Mapping) -> "KnownPhi":
        """Lenient reader for records like the demo generator's `patients.jsonl` lines.

        >>> k = KnownPhi.from_dict({"name": "Ann Lee", "mrn": "M123", "address": {"line": ["1 Elm St"],
        ...     "city": "Salem", "postalCode": "01970"}, "birth_date": "1931-02-03"})
        >>> k.names, k.ids, k.addresses, k.cities, k.zips, k.dates
        (('Ann Lee',), ('M123',), ('1 Elm St',), ('Salem',), ('01970',), (datetime.date(1931, 2, 3),))
        """
        names, ids, phones, emails, lines, cities, zips, dates = ([] for _ in range(8))
        for key, value in d.items():
            k = key.lower().replace("_", "").replace("-", "")
            if k in (
                "name",
                "names",
                "given",
                "family",
                "fullname",
                "firstname",
                "lastname",
                "maidenname",
                "maiden",
                "aliases",
                "alias",
                "mothersmaidenname",
            ):
                names.extend(_strings(value))
            elif k in ("relatives", "contacts", "familymembers"):
                for person in value if isinstance(value, list) else [value]:
                    if isinstance(person, Mapping):  # their names, not "daughter" or "spouse"
                        names.extend(
                            _strings([person.get(f) for f in ("name", "given", "family") if person.get(f)])
                        )
                    else:
                        names.extend(_strings(person))
            elif k in (
                "mrn",
                "mrns",
                "ids",
                "identifiers",
                "identifier",
                "ssn",
                "insurance",
                "memberid",
                "passport",
                "driverslicense",
                "license",
                "account",
                "accountnumber",
            ):
                ids.extend(_strings(value))
            elif k in ("phone", "phones", "telephone", "tel", "fax", "mobile"):
                phones.extend(_strings(value))
            elif k in ("email", "emails"):
                emails.extend(_strings(value))
            elif k in ("address", "addresses"):
                for a in value if isinstance(value, list) else [value]:
                    if isinstance(a, Mapping):
                        lines.extend(_strings(a.get("line") or a.get("street") or a.get("lines") or []))
                        cities.extend(_strings(a.get("city") or []))
                        zips.extend(_strings(a.get("postalCode") or a.get("zip") or a.get("postal_code") or []))
                    else:
                        lines.extend(_strings(a))
            elif k in ("city", "cities"):
                cities.extend(_strings(value))
            elif k in ("zip", "zipcode", "postalcode"):
                zips.extend(_strings(value))
            elif k in ("birthdate", "dob", "deathdate", "dateofbirth", "deceaseddatetime", "deceased", "dates"):
                for v in _strings(value):
                    try:
                        dates.append(date.fromisoformat(v[:10]))
                    except ValueError:
                        continue
        return cls(
            names=tuple(names), ids=tuple(ids), phones=tuple(phones), emails=tuple(emails),
            addresses=tuple(lines), cities=tuple(cities), zips=tuple(zips), dates=tuple(dates),
        )  # fmt: skip

    def is_empty(self) -> bool:
        return not any((self.names, self.ids, self.phones, self.emails, self.addresses, self.cities,
                        self.zips, self.dates))  # fmt: skip


def _strings(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, Mapping):
        out: list[str] = []
        for v in value.values():
            out.extend(_strings(v))
        return out
    if isinstance(value, Iterable):
        out = []
        for v in value:
            out.extend(_strings(v))
        return out
    return [str(value)]


def as_known(known: "KnownPhi | Mapping | None") -> KnownPhi | None:
    if known is None or isinstance(known, KnownPhi):
        return known
    return KnownPhi.from_dict(known)


def _date_forms(d: date) -> list[str]:
    m, dd, y = d.month, d.day, d.year
    month = _MONTH_NAMES[m - 1]
    return [
        f"{y:04d}-{m:02d}-{dd:02d}", f"{m}/{dd}/{y}", f"{m:02d}/{dd:02d}/{y}", f"{m}/{dd}/{y % 100:02d}",
        f"{m:02d}/{dd:02d}/{y % 100:02d}", f"{m}-{dd}-{y}", f"{m:02d}-{dd:02d}-{y}", f"{month} {dd}, {y}",
        f"{month[:3]} {dd}, {y}", f"{dd} {month} {y}", f"{dd} {month[:3]} {y}", f"{month} {dd} {y}",
    ]  # fmt: skip


def _digits_pattern(s: str) -> str | None:
    digits = re.sub(r"\D", "", s)
    if len(digits) < 7:
        return None
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    return r"(?<!\d)(?:\+?1[\s.-]?)?" + r"[\s().-]{0,2}".join(digits) + r"(?!\d)"


def compile_known(known: KnownPhi) -> list[tuple[re.Pattern[str], str]]:
    """One case-insensitive pattern per label for the subject's identifiers."""
    alternatives: dict[str, set[str]] = {}

    def add(label: str, pattern: str) -> None:
        alternatives.setdefault(label, set()).add(pattern)

    for name in known.names:
        for token in re.findall(r"[\w'’-]+", name):
            if len(token) >= 2 and token.lower() not in _STOP:
                add("NAME", r"(?<![\w'-])" + re.escape(token) + r"(?![\w'-])")
    for value in known.ids:
        value = value.strip()
        if len(value) >= 3:
            add(
                "ID",
                r"(?<![\w-])" + r"[\s-]?".join(re.escape(ch) for ch in value if ch not in " -") + r"(?![\w-])",
            )
    for phone in known.phones:
        if (p := _digits_pattern(phone)) is not None:
            add("PHONE", p)
    for email in known.emails:
        add("EMAIL", re.escape(email.strip()))
    for line in known.addresses:
        words = re.findall(r"[\w'.-]+", line)
        if words:
            add("ADDRESS", r"(?<!\w)" + r"[\s,]+".join(re.escape(w) for w in words) + r"(?!\w)")
    for city in known.cities:
        if len(city.strip()) >= 3:
            add("LOCATION", r"(?<!\w)" + re.escape(city.strip()) + r"(?!\w)")
    for z in known.zips:
        if len(z.strip()) >= 5:
            add("ZIP", r"(?<!\d)" + re.escape(z.strip()) + r"(?!\d)")
    for d in known.dates:
        for form in _date_forms(d):
            add("DATE", r"(?<![\w/-])" + re.escape(form) + r"(?![\w/-])")
    # Longest alternatives first so "Smith-Jones" wins over "Smith".
    return [
        (re.compile("|".join(sorted(alts, key=len, reverse=True)), re.IGNORECASE), label)
        for label, alts in alternatives.items()
    ]


def iter_known(text: str, known: KnownPhi) -> Iterator[tuple[int, int, str]]:
    for pattern, label in compile_known(known):
        for m in pattern.finditer(text):
            yield m.start(), m.end(), label
