"""Replacing PHI: consistent per-subject surrogates, per-subject date shifts, Safe Harbor generalisation,
or tags; one function per policy decision, driven by `deidentify`."""

import hashlib
from collections.abc import Sequence

import regex as re

from deid.pseudonym import Keyring
from deid.text.dates import parse_date
from deid.text.known import KnownPhi, as_known
from deid.text.lexicon import (
    COUNTRIES,
    FEMALE_GIVEN_NAMES,
    FIRST_NAMES,
    MALE_GIVEN_NAMES,
    RESTRICTED_ZIP3,
    SURNAMES,
    SURROGATE_CITIES,
    SURROGATE_FACILITIES,
    SURROGATE_ORGANIZATIONS,
    SURROGATE_STREET_TYPES,
    SURROGATE_STREETS,
    WORLD_GIVEN_NAMES,
)
from deid.text.root_phi import RootPhi
from deid.text.spans import PhiSpan, resolve

POLICIES = ("shifted", "safe-harbor", "limited-data-set")
MODES = ("surrogate", "tag")
# What each policy leaves in place: a limited data set may keep dates, ages, towns, cities, states and ZIPs
# (45 CFR 164.514(e)(2)); the other policies keep nothing of what was found.
_KEPT = {"limited-data-set": frozenset({"DATE", "AGE", "LOCATION", "ZIP"})}
_FIRST = frozenset(FIRST_NAMES) | WORLD_GIVEN_NAMES  # given names: a given name replaces them
_FEMALE, _MALE = FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES
_FEMALE_SET, _MALE_SET = frozenset(FEMALE_GIVEN_NAMES), frozenset(MALE_GIVEN_NAMES)
_RELATIVE = re.compile(r"((?:last|next|this past|past|this)\s+)(.+)", re.IGNORECASE)
_WEEKDAY = re.compile(r"(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?")
_ACRONYM = re.compile(r"[A-Z]{2,6}|[a-z]{2,4}")
_NAME_WORD = re.compile(r"[^\W\d_][\w'’-]*|[^\W\d_]")


class Surrogates:
    """The replacements for one subject: every choice is a keyed hash of (subject seed, original), so the
    same original gets the same surrogate in all of the subject's notes, and nothing is stored."""

    def __init__(
        self,
        seed: int,
        shift_days: int,
        policy: str,
        avoid: frozenset[str] = frozenset(),
        protected_dates: frozenset = frozenset(),
    ) -> None:
        self.seed = seed.to_bytes(8, "big")
        self.shift_days = shift_days
        self.policy = policy
        # Lower-case names of real people (every subject the data knows): a surrogate must never be one, or a
        # scrubbed note would name a real person and the PHI audit could not tell it from a leak.
        self.avoid = avoid
        # The subject's true birth and death dates: no shifted date may read as one of them.
        self.protected_dates = protected_dates

    def _pick(self, kind: str, original: str, n: int) -> int:
        h = hashlib.blake2b(original.encode(), key=self.seed, person=kind.encode()[:16], digest_size=8)
        return int.from_bytes(h.digest(), "big") % n

    def replace(self, label: str, original: str) -> str:
        return getattr(self, f"_{label.lower()}")(original)

    def _name(self, original: str) -> str:
        def word(m: re.Match[str]) -> str:
            token = m.group()
            key = re.sub(r"\d+$", "", token.lower())
            if len(key) == 1:
                letter = "ABCDEFGHIJKLMNOPRSTW"[self._pick("initial", key, 20)]
                return letter if token.isupper() else letter.lower()
            pool = _name_pool(key)
            out = self._avoiding(pool, self._pick("name", key, len(pool)), key)
            return _case_like(token, out)

        return _NAME_WORD.sub(word, original)

    def _digits(self, original: str, kind: str) -> str:
        """Same shape: every digit and letter replaced, separators kept."""
        norm = re.sub(r"\W", "", original).upper()
        h = hashlib.blake2b(norm.encode(), key=self.seed, person=kind.encode()[:16], digest_size=64).digest()
        out = []
        for i, ch in enumerate(original):
            b = h[i % 64]
            if ch.isdigit():
                out.append(str(b % 10))
            elif ch.isalpha() and ch.isascii():
                letter = "ABCDEFGHJKLMNPQRSTUVWXYZ"[b % 24]
                out.append(letter if ch.isupper() else letter.lower())
            else:
                out.append(ch)
        return "".join(out)

    def _id(self, original: str) -> str:
        return self._digits(original, "id")

    def _ssn(self, original: str) -> str:
        # Area numbers 900-999 are never issued: a surrogate can't be someone's real SSN.
        return re.sub(r"\d", "9", self._digits(original, "ssn"), count=1)

    def _phone(self, original: str) -> str:
        for attempt in range(32):  # another try when the surrogate is a known person's number
            out = self._digits(original if attempt == 0 else f"{original}#{attempt}", "phone")[: len(original)]
            positions = [i for i, ch in enumerate(out) if ch.isdigit()]
            if len(positions) >= 7:  # 555 exchange: reserved for fiction in the NANP
                chars = list(out)
                for i, d in zip(positions[-7:-4], "555", strict=True):
                    chars[i] = d
                out = "".join(chars)
            if re.sub(r"\D", "", out)[-7:] not in self.avoid:
                break
        return out

    def _email(self, original: str) -> str:
        first = self._avoiding(FIRST_NAMES, self._pick("email-first", original.lower(), len(FIRST_NAMES)))
        last = self._avoiding(SURNAMES, self._pick("email-last", original.lower(), len(SURNAMES)))
        return f"{first}.{last}@example.org"

    def _avoiding(self, pool: Sequence[str], i: int, original: str = "") -> str:
        """The pool's entry at i, or the next one that is neither `original` nor a known person's name."""
        for step in range(len(pool)):
            out = pool[(i + step) % len(pool)]
            if out != original and out not in self.avoid:
                return out
        return pool[i]

    def _url(self, original: str) -> str:
        path = f"{self._pick('url', original.lower(), 16**6):06x}"
        if original.lower().startswith(("http", "ftp")):
            return f"https://www.example.org/{path}"
        return f"www.example.org/{path}" if original.lower().startswith("www.") else "example.org"

    def _ip(self, original: str) -> str:
        return f"192.0.2.{1 + self._pick('ip', original, 254)}"  # TEST-NET-1, documentation only

    def _address(self, original: str) -> str:
        low = original.lower()
        number = re.search(r"\d+", original)
        digits = "1"
        for attempt in range(32 if number else 0):  # a house number that is a known ZIP would read as one
            seed = number.group() if attempt == 0 else f"{number.group()}#{attempt}"
            digits = self._digits(seed, "street-number")[: len(number.group())].lstrip("0") or "1"
            if digits not in self.avoid:
                break
        if low.startswith(("apt", "apartment", "suite", "ste", "unit")):
            return f"{original.split()[0].rstrip('.#')} {digits}"
        if "box" in low:
            return f"PO Box {digits}"
        out = ""
        for attempt in range(32):  # another street when the surrogate is a real subject's street line
            key = low if attempt == 0 else f"{low}#{attempt}"
            street = SURROGATE_STREETS[self._pick("street", key, len(SURROGATE_STREETS))]
            kind = SURROGATE_STREET_TYPES[self._pick("street-type", key, len(SURROGATE_STREET_TYPES))]
            out = f"{digits} {street} {kind}"
            if out.lower() not in self.avoid:
                break
        letters = [ch for ch in original if ch.isalpha()]
        return out.upper() if len(letters) > 1 and all(ch.isupper() for ch in letters) else out  # ALL-CAPS notes

    def _location(self, original: str) -> str:
        if original.lower() in COUNTRIES:
            pool = sorted(COUNTRIES)
            return _case_like(original, self._avoiding(pool, self._pick("country", original.lower(), len(pool)),
                                                       original.lower()))  # fmt: skip
        i = self._pick("city", original.lower(), len(SURROGATE_CITIES))
        return _case_like(original, self._avoiding([c.lower() for c in SURROGATE_CITIES], i, original.lower()))

    def _facility(self, original: str) -> str:
        pool = SURROGATE_FACILITIES
        pick = pool[self._pick("facility", original.lower(), len(pool))]
        if _ACRONYM.fullmatch(original):  # initials stay initials: "GH" becomes "FGH", "gh er" "fgh er"
            initials = "".join(word[0] for word in pick.split())
            return initials if original.isupper() else initials.lower()
        return _case_like(original, pick)

    def _organization(self, original: str) -> str:
        pool = SURROGATE_ORGANIZATIONS
        return _case_like(original, pool[self._pick("org", original.lower(), len(pool))])

    def _zip(self, original: str) -> str:
        general = generalize_zip(original)
        if general:
            return general
        for attempt in range(32):  # another try when the surrogate is a known person's ZIP
            out = self._digits(original if attempt == 0 else f"{original}#{attempt}", "zip")[: len(original)]
            if out not in self.avoid:
                break
        return out

    def _age(self, original: str) -> str:
        return "90+"

    def _date(self, original: str) -> str:
        if _WEEKDAY.fullmatch(original):
            return original  # shifts are whole weeks, so the day of the week stays true
        relative = _RELATIVE.match(original)
        if relative is not None:
            # "last week", "next Tuesday" survive a whole-week shift as they are; "last July" names a month
            rest = relative.group(2)
            if parse_date(rest) is None:
                return original
            return relative.group(1) + self._date(rest)
        parsed = parse_date(original)
        if self.policy == "safe-harbor":
            return (parsed.year() if parsed else None) or "[DATE]"
        return parsed.shifted(self.shift_days, self.protected_dates) if parsed else "[DATE]"


def _name_pool(key: str) -> Sequence[str]:
    """Where a name word's surrogate comes from: a woman's given name from women's names, a man's from men's,
    another given name from all given names, anything else from surnames."""
    if key in _FEMALE_SET:
        return _FEMALE
    if key in _MALE_SET:
        return _MALE
    return FIRST_NAMES if key in _FIRST else SURNAMES


def generalize_zip(original: str) -> str | None:
    """Safe Harbor's ZIP rule: the first three digits, or 000 where that prefix covers 20,000 people or
    fewer. None for what is not a US ZIP.

    >>> generalize_zip("02115-1234"), generalize_zip("03601"), generalize_zip("B0J 2H0")
    ('021', '000', None)
    """
    digits = original.strip()
    if not re.fullmatch(r"\d{5}(?:-\d{4})?", digits):
        return None
    return "000" if digits[:3] in RESTRICTED_ZIP3 else digits[:3]


def _case_like(template: str, word: str) -> str:
    letters = [ch for ch in template if ch.isalpha()]
    if len(letters) > 1 and all(ch.isupper() for ch in letters):
        return word.upper()
    if letters and letters[0].islower():
        return word.lower()
    return " ".join(w[:1].upper() + w[1:] for w in word.split(" "))


def apply(text: str, spans: Sequence[PhiSpan], replacer: "Surrogates | None", policy: str) -> str:
    """`text` with each span replaced: by its surrogate, or by `[LABEL]` when `replacer` is None."""
    kept = _KEPT.get(policy, frozenset())
    out, last = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.label in kept or span.start < last:
            continue
        original = text[span.start : span.end]
        out += [
            text[last : span.start],
            f"[{span.label}]" if replacer is None else replacer.replace(span.label, original),
        ]
        last = span.end
    out.append(text[last:])
    return "".join(out)


def _check(policy: str, mode: str, secret: bytes | None) -> None:
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; expected one of {POLICIES}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    if mode == "surrogate" and not secret:
        raise ValueError("surrogate mode needs the secret (it keys each subject's surrogates and date shift)")


def deidentify(
    text: str,
    subject_key: str,
    known: KnownPhi | dict | None = None,
    *,
    policy: str = "shifted",
    secret: bytes | None = None,
    mode: str = "surrogate",
) -> str:
    """`text` with its PHI replaced under `policy`; `subject_key` is the subject's source id."""
    return deidentify_batch([text], [subject_key], [known], policy=policy, secret=secret, mode=mode)[0]


def deidentify_batch(
    texts: Sequence[str],
    subject_keys: Sequence[str],
    knowns: Sequence[KnownPhi | dict | None] | None = None,
    *,
    policy: str = "shifted",
    secret: bytes | None = None,
    mode: str = "surrogate",
    n_process: int = 1,
    avoid_names: frozenset[str] = frozenset(),
    root_phi: RootPhi | None = None,
) -> list[str]:
    """`deidentify` over many notes, NER batched (and fanned out over `n_process` processes).

    `avoid_names`: lower-case names of real people that surrogates must not use (all known subjects' names).
    `root_phi`: every patient of the root (pipelines.defs.known_phi.root_phi); a note naming or numbering another
    patient (names, identifiers, phones, e-mails, street lines) has them replaced too."""
    from deid.text.engine import find_phi_batch

    _check(policy, mode, secret)
    if len(subject_keys) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(subject_keys)} subject keys")
    all_spans = find_phi_batch(texts, knowns, n_process=n_process)
    keyring = Keyring(secret) if secret else None
    out = []
    knowns = list(knowns) if knowns is not None else [None] * len(texts)
    for text, key, spans, known in zip(texts, subject_keys, all_spans, knowns, strict=True):
        if root_phi is not None and (others := root_phi.spans(text)):
            spans = resolve([*spans, *others])
        replacer = None
        if mode == "surrogate" and keyring is not None:
            known = as_known(known)
            protected = frozenset(known.dates) if known is not None else frozenset()
            replacer = Surrogates(
                keyring.surrogate_seed(key), keyring.shift_days(key), policy, avoid_names, protected
            )
        out.append(apply(text, spans, replacer, policy))
    return out
