"""Measured values that take the shape of PHI: a number after the name of what was measured (a lab, a vital
sign, a score, a ventilator setting), a number before its unit, a Glasgow coma score's components; and the
names of measures themselves before their values ("Trop 0.4", "Phos 3.1"), which are no one's name."""

import regex as re

from deid.text.lexicon import STATE_CODES

# What clinicians measure and write before its value: serum and blood chemistry, blood counts, coagulation,
# gases, bedside glucose, vital signs, haemodynamics, fluid balance, ventilator settings and bedside scores.
# Diagnoses and tests done on a day are left out on purpose: a year after one is the year of the event ("CVA
# 2008", "Pap 1998"), and so are the abbreviations that are also a state's code ("CA", "CO", "PA"): a ZIP
# follows those.
MEASURES = frozenset(
    """
    na k cl hco3 co2 tco2 bun cr creat creatinine glu gluc glucose ica mg magnesium phos po4 phosphorus calcium
    alb albumin tbili dbili bili ast alt alk alkphos ldh lipase amylase ck cpk ckmb mb trop tropo troponin tni tnt
    bnp probnp inr ptt aptt fib fibrinogen ddimer d-dimer wbc rbc hgb hb hct plt plts platelets mcv rdw esr crp
    lactate lac ph pco2 po2 pao2 paco2 sao2 svo2 scvo2 hba1c a1c tsh ft4 nh3 ammonia osm osmo una ucr uosm
    fs fsbs fsbg bs bg accucheck accuchecks fingerstick fingersticks level trough peak vanco dig lytes
    bp sbp dbp map hr rr temp tmax tcurrent tc spo2 sat sats o2sat cvp pas pad pcwp wedge ci svr pvr svi
    icp cpp uo i/o i&o io tv vt ve mv peep ps fio2 rsbi ipap epap pip plat pplat weight wt bmi cvvh uf
    gcs rass ciwa cpot braden morse nihss apgar apgars pain cam sofa apache
    """.split()
) - frozenset(code.lower() for code in STATE_CODES)

# A value: maybe a colon or an equals sign, maybe a verb or a preposition of change, then a number.
_VALUE_AFTER = re.compile(r"[ \t]*(?:[:=]|(?i:of|was|is|now|up[ \t]+to|down[ \t]+to|from|->|>|<))?[ \t]*[-+~]?\d")
# The word before a value, and what may stand between them.
_MEASURE_BEFORE = re.compile(
    r"(?P<name>[\p{L}][\p{L}\d/&-]*)[ \t]*(?:[:=]|(?i:of|was|is|now|up[ \t]+to|down[ \t]+to|from)|->)?[ \t]*"
    r"[-+~]?$"
)
# A unit right after a number: the number is an amount of something ("1874 cc", "25000 units", "2,000 mL").
_UNIT_AFTER = re.compile(
    r"[ \t]*(?i:cc|ml|l|mg|mcg|µg|ug|g|gm|gms|grams?|kg|meq|mmol|units?|u|iu|mmhg|bpm|mm|cm|kcal|cal|"
    r"tabs?|tablets?|caps?|puffs?|drops?|gtts?|liters?|litres?|mls|"
    # a lab's or a scanner's units: "<n> ng/mL", "<n> pg/mL", "<n> mGy-cm", "<n> umol/L", "<n> cells/uL"
    r"ng|pg|nmol|umol|pmol|miu|uiu|mgy|gy|msv|cells|cfu|mosm|fl)(?![\p{L}\d])(?:[/-][\p{L}\d]+)*"
)
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?")
# The components of a Glasgow coma score written together: eyes 1-4, verbal 1-5, motor 1-6 ("E3V4M6"),
# the shape of a Canadian postal code.
_GCS_COMPONENTS = re.compile(r"(?i:e[1-4][ ]?v(?:[1-5]|t)[ ]?m[1-6])")


def measure_word(word: str) -> bool:
    """The name of a measure of the closed class above, as written or in the plural."""
    low = word.lower().strip(".:")
    return low in MEASURES or (low.endswith("s") and low[:-1] in MEASURES)


def measure_value(text: str, start: int, end: int) -> bool:
    """The number [start, end) is the value of the measure named right before it ("ck 1909", "I/O
    1966/912", "SVR 1100")."""
    if _NUMBER.match(text, start) is None:
        return False
    m = _MEASURE_BEFORE.search(text, max(0, start - 30), start)
    if m is None or not measure_word(m.group("name")):
        return False
    # a one-letter name (K, T) takes a small value: "K 3.4", "T 101.2"; "K 1421" is a postal district's
    return len(m.group("name")) > 1 or re.match(r"\d{1,3}(?:\.\d+)?(?!\d)", text[start:end]) is not None


def amount_with_unit(text: str, start: int, end: int) -> bool:
    """The span is a bare number and a unit of measure follows it ("1874 cc", "25000 units")."""
    return _NUMBER.fullmatch(text[start:end].strip()) is not None and _UNIT_AFTER.match(text, end) is not None


def measure_name(text: str, start: int, end: int) -> bool:
    """One word, the name of a measure or a clinical word that is neither a name nor a place, and a value
    right after it ("Trop 0.50", "Phos 3.1", "Apgars 8/9")."""
    from deid.text.vocabulary import clinical_vocabulary, name_lexicon

    words = re.findall(r"\p{L}[\p{L}\d/&'’-]*", text[start:end])
    if len(words) != 1 or _VALUE_AFTER.match(text, end) is None:
        return False
    if _PLACE_BEFORE.search(text, max(0, start - 12), start) is not None:
        return False  # "sent to <initials> 3/9": a destination, and the day it was reached
    low = words[0].lower().removesuffix("'s").removesuffix("’s")
    if measure_word(low):
        return True
    if len(low) < 3 or _DAY_AFTER.match(text, end) is not None:
        return False  # two letters are a hospital's initials as often; a month/day after a word is a date
    return low in clinical_vocabulary() and not name_lexicon(low) and not _place(low)


_PLACE_BEFORE = re.compile(r"(?i:\b(?:to|at|from|in|into|via)(?:[ \t]+the)?)[ \t]+$")
_DAY_AFTER = re.compile(r"[ \t]*\d{1,2}/\d{1,2}\b")


def clipped_opener(text: str, start: int, end: int) -> bool:
    """One word of four letters at most opening its line or sentence, a clinical word cut short that no
    English dictionary, name lexicon or gazetteer has ("Abd soft", "Cont lasix"), a lower-case word after it."""
    from deid.text.vocabulary import clinical_vocabulary, name_lexicon
    from deid.text.words import known_word

    word = text[start:end]
    if not (word.isalpha() and word.istitle() and 2 <= len(word) <= 4) or not _OPENS.search(text[:start]):
        return False
    low = word.lower()
    return (
        _LOWER_AFTER.match(text, end) is not None
        and low in clinical_vocabulary()
        and not known_word(low)
        and not name_lexicon(low)
        and not _place(low)
    )


_OPENS = re.compile(r"(?:\A|[.;:!?\n])[ \t]*\Z")
_LOWER_AFTER = re.compile(r"[ \t]+\p{Ll}")


# A panel written as "<Name>-<value>" pairs ("Glucose-<n> UreaN-<n> Creat-<n>", "Ca-<n> Phos-<n> Mg-<n>"): the
# layout of a results table; three pairs in a row at least (a ward is written "<Name>-<n>" alone).
_PANEL_PAIR = r"\p{L}[\p{L}\d]*(?:[ \t]\p{L}+)?-\d+(?:\.\d+)?"
_HYPHEN_PANEL = re.compile(rf"(?<![\p{{L}}\d-]){_PANEL_PAIR}(?:[ \t]*,?[ \t]+{_PANEL_PAIR}){{2,}}(?![\p{{L}}\d-])")


def hyphen_panel(text: str, start: int, end: int) -> bool:
    """The span lies inside a run of three or more "<Name>-<value>" pairs of a results panel."""
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    line_end = hi if hi >= 0 else len(text)
    return any(m.start() <= start and end <= m.end() for m in _HYPHEN_PANEL.finditer(text, lo, line_end))


def gcs_components(text: str, start: int, end: int) -> bool:
    """The span is a Glasgow coma score's components, read as a postal code."""
    return _GCS_COMPONENTS.fullmatch(text[start:end].strip()) is not None


def _place(low: str) -> bool:
    from deid.text.gazetteer import is_city
    from deid.text.lexicon import COUNTRIES, STATE_NAMES

    return low in COUNTRIES or low in STATE_NAMES or is_city(low)


# A sign written right before a number makes it a change or a balance ("I/O 2821/1829 (+2017)", "LOS +1923"):
# no year is written with a plus sign.
_PLUS_BEFORE = re.compile(r"\+[ \t]*$")


def signed_value(text: str, start: int, end: int) -> bool:
    """A bare number with a plus sign right before it: a net balance or a change, never a year."""
    return (
        _NUMBER.fullmatch(text[start:end].strip()) is not None
        and _PLUS_BEFORE.search(text[max(0, start - 3) : start]) is not None
    )


# A clock time of four digits (hours 00-23, minutes 00-59), and two of them joined by a hyphen: a stretch of a
# shift ("0700-1900").
_CLOCK = r"(?:[01]\d|2[0-3])[0-5]\d"
_CLOCK_RANGE = re.compile(rf"{_CLOCK}[ \t]*-[ \t]*{_CLOCK}")


def clock_ranges(text: str, start: int, end: int) -> bool:
    """Every piece of the span is a clock time of four digits (each a valid time of day) or a stretch of two,
    read as an ID or a phone ("0430-1315 0930-0100", "@ 1700 1830"): a stretch among them, or "at"/"@"
    before the first."""
    pieces = re.split(r"[ \t,;]+", text[start:end].strip())
    if not pieces or not all(_CLOCK_RANGE.fullmatch(p) or re.fullmatch(_CLOCK, p) for p in pieces):
        return False
    return any("-" in p for p in pieces) or _CLOCK_CUE.search(text, max(0, start - 6), start) is not None


_CLOCK_CUE = re.compile(r"(?:@|(?i:\bat))[ \t]*$")


# The acronym of a hospital's unit by its kind of care: an intensive care unit with its speciality's letters
# before it ("MICU", "TSICU", "CVICU", "NICU"), a coronary care unit ("CCU"), a recovery unit after cardiac,
# vascular or thoracic surgery ("CSRU"). Every hospital has one; no hospital is named by it.
_UNIT_OF_CARE = re.compile(r"(?i:(?:[a-z]{1,3}-?)?icu|[a-z]{0,2}ccu|c[stv]-?ru)")


def unit_of_care(text: str, start: int, end: int) -> bool:
    """Every word of the span is a unit-of-care acronym (or "the"/"unit" beside one), written in capitals or
    in the case of its line."""
    words = re.findall(r"[\p{L}-]+", text[start:end])
    acronyms = [w for w in words if _UNIT_OF_CARE.fullmatch(w) and (w.isupper() or w.islower())]
    return bool(acronyms) and all(w in acronyms or w.lower() in ("the", "unit", "team") for w in words)


# A clock time opening a line of a nursing log: "<time> - <Section>: ..." (a year opens no section's entry).
_LOG_ENTRY_AFTER = re.compile(r"[ \t]*-[ \t]*\p{L}[\p{L}/&]*[ \t]*:")
_ENTRY_OPENS = re.compile(r"(?:\A|[.;\n]|\p{L}+:)[ \t]*\Z")


def log_entry_time(text: str, start: int, end: int) -> bool:
    """Four digits, a valid time of day, opening a line or sentence, then a dash and a section's header."""
    return (
        re.fullmatch(_CLOCK, text[start:end].strip()) is not None
        and _ENTRY_OPENS.search(text[max(0, start - 20) : start]) is not None
        and _LOG_ENTRY_AFTER.match(text, end) is not None
    )


# An infusion's rate after what is infused: "@", a number and a unit of a dose ("<drip> @ .5mcg/kg/min",
# "@ 40 mcg/min", "@ 5u/hr"), or a volume per hour with its unit left out (a tube feed "@ 40/hr"); no
# person or organisation is given at a rate.
_RATE = re.compile(
    r"[ \t]*@[ \t]*(?:\d+(?:\.\d+)?|\.\d+)[ \t]*"
    r"(?:(?i:mcg|mg|u|units?|cc|ml|meq|g|gm|ng)(?![\p{L}])(?:/[\p{L}]+)+|/(?i:hr|h|min)\b)"
)


def infused_at_rate(text: str, start: int, end: int) -> bool:
    """Words that a rate follows, or that run on over one and end inside it ("dobut @ .5mcg/kg/min")."""
    span = text[start:end]
    at = span.find("@")
    if re.search(r"\p{L}", span[: at if at >= 0 else len(span)]) is None:
        return False
    if at < 0:
        return _RATE.match(text, end) is not None
    m = _RATE.match(text, start + at)
    return m is not None and m.end() >= end


# Intake and output written as a pair: "in <n> / out <n>" (a shift's fluid totals).
_IN_BEFORE = re.compile(r"(?i:\bin)[ \t]*$")
_OUT_AFTER = re.compile(r"[ \t]*/[ \t]*(?i:out)[ \t]*\d")
_IN_PAIR_BEFORE = re.compile(r"(?i:\bin)[ \t]*\d+[ \t]*/[ \t]*(?i:out)[ \t]*$")


def intake_output(text: str, start: int, end: int) -> bool:
    """A bare number of an intake/output pair ("in 1290 / out 2012"): a volume, never a year."""
    if _NUMBER.fullmatch(text[start:end].strip()) is None:
        return False
    if _IN_BEFORE.search(text, max(0, start - 4), start) is not None and _OUT_AFTER.match(text, end):
        return True
    return _IN_PAIR_BEFORE.search(text, max(0, start - 25), start) is not None
