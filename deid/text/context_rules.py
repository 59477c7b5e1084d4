"""PHI as clinicians write it in notes, read from its shape and the words around it: month/day dates
without a year, two-digit years, "the 3rd", lower-case month names next to a day, wards with a number,
hospital acronyms after a transfer, towns after a word of residence, relatives and clinicians in any case
("dtr philomena", "dr yi"), initials before a surname and signature lines."""

import regex as re

from deid.text.clinical_numbers import date_range_member
from deid.text.gazetteer import is_city
from deid.text.lexicon import (
    CLINICAL_ACRONYMS,
    CLINICAL_TERMS,
    COMMON_WORDS,
    COUNTRIES,
    EPONYMS,
    FIRST_NAMES,
    STATE_CODES,
    STATE_NAMES,
)
from deid.text.patterns import WHOLE_NAMES, Rule
from deid.text.possessive_names import lexicon_given_name
from deid.text.screens import literals
from deid.text.shorthand_rules import SHORTHAND_RULES, listed_name, person_word, place_word
from deid.text.vocabulary import (
    all_clinical,
    clinical_vocabulary,
    clinical_word,
    name_lexicon,
    philter_lists,
    shorthand,
)

_FIRST = frozenset(FIRST_NAMES)


def _c(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


# ---- dates ---------------------------------------------------------------------------------------------
# Words right before m/d that make it a setting, a score or a fraction: "PS 10/5", "weaning on 5/5",
# "strength 5/5", "pain 8/10", "murmur 2/6".
_SETTING_BEFORE = re.compile(
    r"(?:(?i:\b(?:ps|psv|cpap|bipap|peep|imv|simv|ac|a/c|prvc|pcv|vent|ventilat\w*|wean(?:ed|ing)?|trial(?:ed)?|"
    r"settings?|pressure support|pain|cp|discomfort|pressure|ache|strength|str|grade|murmur|pulses?|reflexes|"
    r"power|motor|score|ratio|gcs|apgar|rass|cam|x|times|d5|d5w|rales|crackles|ls|bs))\b|[#~%])"
    r"[ \t]*(?:(?:on|to|at|of|from|is|was|=|:|-|,|&)[ \t]*)*$"
)
# What after m/d makes it a measure, a setting or a fraction: "1/2 NS", "2/6 murmur", "5/5 strength".
_SETTING_AFTER = re.compile(
    r"[ \t]*(?i:ns\b|normal saline|strength|str\b|murmur|sem\b|pulses?|reflex|pain\b|scale|tab|tabs|tablets?|"
    r"caps?\b|dose|strength|breaths|bpm|mg|mcg|ml|cc|cm|mm|kg|units?|u\b|mmhg|%|peep|ps\b|x\b|times|"
    r"of\s+(?:the|a)\b|hrs?\b|hours?|min|ratio|grade|systolic|diastolic|holosystolic|sbp|dbp|map|cp\b|"
    r"discomfort|chest|up\b|down\b|rate\b|way\b|full\b|filled|bilat)"
)
# Common fractions (1/2, 3/4) are dates only where a date's neighbours follow: an end of clause, a time.
_FRACTIONS = frozenset({(1, 2), (1, 3), (2, 3), (1, 4), (3, 4)})
_DATE_BEFORE = re.compile(
    r"\b(?i:on|since|from|until|dated|date|seen|admitted|discharged|visit|started|stopped|last|next|due|"
    r"scheduled|planned|before|after)[ \t]*:?[ \t]*$"
)
_DATE_FOLLOWS = re.compile(r"[ \t]*(?:$|[.,;:)\]\n@-]|(?i:at|am|pm|and|or|to|thru|through)\b|\d{3,4}\b)")
_MD = (
    r"(?<![\w/:+-]|\d-|[^\p{L}]\.)(?P<m>0?[1-9]|1[0-2])/(?P<d>0?[1-9]|[12]\d|3[01])(?![\d/]|\.\d|%|\+|-\d+/\d+/)"
    r"|(?<=\d{1,2}/\d{1,2}-)(?P<m>0?[1-9]|1[0-2])/(?P<d>0?[1-9]|[12]\d|3[01])(?![\d/]|\.\d)"
)


# A ventilator mode or setting a few words away: "on bipap overnight 10/5", "ON 10/5 BIPAP", "flowby 6/3",
# "IMV 800x60x10 5/5"; or FiO2 right after ("remained on 5/5, 40%"). Pressures, not a month and day.
_VENT = re.compile(
    r"(?i:\b(?:bi-?pap|c-?pap|psv?|peep|s?imv|ips|ipap|epap|flow-?by|vent|ventilator|prvc|pcv|cmv|niv)\b)"
)
# the mode right after the numbers, or one word later: "ON 10/5 BIPAP", "FROM 5/5 IPS/CPAP"
_VENT_NEXT = re.compile(r"[ \t]*(?:[\p{L}\d%]+[ \t]+)?" + _VENT.pattern)
_FIO2_AFTER = re.compile(r"[ \t]*,?[ \t]*(?:(?i:fio2)[ \t]*)?\d{2,3}[ \t]*%")


# Between a ventilator word and m/d, what starts another clause or a date's own story ("VENT VIA TRACH
# (PLACED 8/14)"): the numbers are no setting of that ventilator.
_OTHER_CLAUSE = re.compile(
    r"[.;!?](?:\s|$)|[()]|(?i:\b(?:and|placed|started|since|changed|until|dated|inserted|(?:re)?intubat\w*|"
    r"extubat\w*|trached|admitted|transferred)\b)"
)


def _near_vent_setting(text: str, start: int, end: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    before = [v for v in _VENT.finditer(text, max(line_start, start - 40), start)]
    if before and _OTHER_CLAUSE.search(text, before[-1].end(), start) is None:
        return True
    return _VENT_NEXT.match(text, end) is not None or _FIO2_AFTER.match(text, end) is not None


def _not_a_setting(m: re.Match[str]) -> bool:
    text = m.string
    line_start = text.rfind("\n", 0, m.start()) + 1
    if _SETTING_BEFORE.search(text, max(line_start, m.start() - 30), m.start()):
        return False
    if _near_vent_setting(text, m.start(), m.end()):
        return False
    if _SETTING_AFTER.match(text, m.end()) is not None:
        return False
    month, day = (int(x) for x in m.group(0).split("/"))
    return (
        (month, day) not in _FRACTIONS
        or date_range_member(text, m.start(), m.end())
        or _DATE_FOLLOWS.match(text, m.end()) is not None
        or _DATE_BEFORE.search(text, max(line_start, m.start() - 20), m.start()) is not None
    )


_MONTH_ANY = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORD_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?i:st|nd|rd|th)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"

# ---- people ----------------------------------------------------------------------------------------------
_RELATIVE = (
    r"(?:wife|husband|hus|hsb|spouse|partner|son|sons|daughter|daughters|dtr|dau|dtrs|mother|mom|father|dad|"
    r"sister|sis|brother|bro|brother-in-law|sister-in-law|son-in-law|daughter-in-law|sil|dil|aunt|uncle|"
    r"niece|neice|nephew|cousin|grandson|granddaughter|grandmother|grandfather|grandma|grandpa|gd|gs|"
    r"stepson|stepdaughter|fianc[ée]e?|boyfriend|girlfriend|friend|neighbou?r|caregiver|guardian|hcp|"
    r"health ?care proxy|proxy|poa)"
)
_ANY_NAME_WORD = r"(?:\p{L}['’]?\p{L}[\p{L}'’-]*)"
_STOP_AFTER_TITLE = frozenset(
    """aware notified paged called updated in here at on of to and or the for is was will has had who with
    office offices orders order ordered note notes said says states stated saw see seen team service
    following follow md note's""".split()
)


def _stop(low: str) -> bool:
    from deid.text.nlp import word_lists

    return low in COMMON_WORDS or low in _STOP_AFTER_TITLE or low in word_lists().common


def _name_word(word: str, strict: bool) -> bool:
    """A word that may be a name: no stop word; when `strict`, also no clinical or English word unless a
    name lexicon has it."""
    word = word.split()[0].strip("'’.-") if word.split() else word
    low = word.lower().removesuffix("'s")
    if len(low) < 2 or _stop(low) or any(ch.isdigit() for ch in low):
        return False
    if not strict:
        return True
    if low in _FIRST or (name_lexicon(low) and low not in clinical_vocabulary()):
        return True
    from deid.text.words import known_word

    if low.startswith(("o'", "d'", "o’", "d’")) and len(low) > 3:
        return True  # O'Brien, D'Angelo
    return not clinical_word(word) and not known_word(low)


def _titled(m: re.Match[str]) -> bool:
    """Any word after dr, mr or mrs; after "ms" (also mental status, morphine sulfate) a name-like word; a
    title written without its full stop takes no clinical noun ("MR angiography", "MR myelogram": magnetic
    resonance, not Mr)."""
    title = m.group(0)[:2].lower()
    if m.group(0)[2:3] != "." and _clinical_noun(m.group("name").split()[0]):
        return False
    return _name_word(m.group("name"), strict=title == "ms")


def _clinical_noun(word: str) -> bool:
    """A word of the clinical vocabulary that no name lexicon has: a study, a procedure, a finding."""
    low = word.lower().strip("'’.-").removesuffix("'s")
    return clinical_word(word) and low not in _FIRST and not name_lexicon(low)


def _related(m: re.Match[str]) -> bool:
    """The word after a relative is a name; a given name that is also a word ("son bill ward") counts when a
    surname follows it. After a comma an English word is a list's next item ("mother, sewing, reading"),
    unless it is a given name written as one ("Son, Ed,")."""
    from deid.text.words import english_word

    first = m.group("name").split()[0]
    lead = m.string[m.start() : m.start("name")]
    if "," in lead and english_word(first.lower()):
        given = first.lower() in _FIRST or first.lower() in philter_lists().get("firstnames", ())
        return given and (first.istitle() or listed_name(first))
    if _name_word(m.group("name"), strict=True) or person_word(first):
        return True
    words = m.group("name").split()
    return (
        len(words) == 2
        and words[0].lower() in philter_lists().get("firstnames", ())
        and _name_word(words[1], strict=True)
    )


def _initial_surname(m: re.Match[str]) -> bool:
    return _name_word(m.group("sur"), strict=True)


def _signature_line(m: re.Match[str]) -> bool:
    words = re.findall(r"\p{L}[\p{L}'’-]+", m.group("name"))
    return (
        len(words) >= 2
        and not all_clinical(m.group("name"))
        and words[0].lower() in _FIRST
        and all(_name_word(w, strict=False) for w in words)
    )


# ---- places ----------------------------------------------------------------------------------------------
def _unknown_word(m: re.Match[str]) -> bool:
    word = m.group("place")
    return not all_clinical(word) and not _stop(word.lower())


def _gazetteer_place(m: re.Match[str]) -> bool:
    place = m.group("place")
    low = place.lower()
    if is_city(low) or low in STATE_NAMES or low in COUNTRIES:
        return not _stop(low)
    return False


# Verbs of work: what follows them without a preposition is an occupation ("retired machinist", "works
# construction"), and after one a lower-case word is a trade or a workplace ("works in the mill").
_WORK_VERB = re.compile(r"(?i:works|worked|working|employed|retired)\b")
_PREPOSITION_BEFORE = re.compile(r"(?i:\b(?:in|to|at|from|near|for)[ \t]+(?:the[ \t]+)?)$")


# What "home" modifies in a note: medications, doses and the care or devices a patient has at home.
_HOME_CARE = frozenset(
    """meds med medications medication medicines medicine dose doses dosing regimen regimens o2 oxygen insulin
    nebs neb inhalers pump vent ventilator bipap cpap infusion infusions dialysis hd pd tf feeds feeding
    nursing health care pt ot services hospice vna""".split()
)


def _residence_place(m: re.Match[str]) -> bool:
    place = m.group("place")
    if place in STATE_CODES:
        return True  # "lives in DC"
    lead = m.string[m.start() : m.start("place")]
    if _WORK_VERB.match(lead) and _PREPOSITION_BEFORE.search(lead) is None:
        return False  # an occupation: "retired teacher", "Retired Dock Hand"
    from deid.text.words import known_word

    if re.match(r"(?i:home)\b", lead) and place.split()[0].lower() in _HOME_CARE:
        return False  # "home" before what a patient takes or uses at home: "home meds", "HOME O2 2L"
    common = place.islower() and all(known_word(w) for w in place.split())
    if common and re.search(r"(?i:\bthe)[ \t]+$", lead):
        return False  # a common noun after an article: "worked at the bank", "works in the mill" (a town
        # takes none, whatever a gazetteer holds)
    if _gazetteer_place(m):
        return True
    if common:
        return False  # a common noun in lower case: "works in construction"
    if all(place_word(w) for w in place.split()):
        return True  # a small town no gazetteer holds, whatever clinical word it looks like ("Westerlo")
    return not all_clinical(place) and not _stop(place.lower())


# Words that say which hospital by its relation to the patient or the writer, not by its name ("the outside
# hospital", "a local hospital", "the closest hospital"): determiners and adjectives of place and order.
_RELATIONAL = frozenset(
    """outside other another local nearby nearest closest close near same this that these our your their his
    her its previous prior original referring receiving sending different new old first second third next
    last small smaller large larger big community rural private public teaching area""".split()
)
_PHRASE_WORDS = frozenset("of the a an and to in for with at by on".split())


def _named_facility(m: re.Match[str]) -> bool:
    """Lower-case words before "hospital" (or "campus", "medical center") that name one: no phrase of
    function words (a noun phrase ending "... of the hospital") and no words of relation alone ("the other
    hospital", "a nearby hospital": closed-class modifiers, _RELATIONAL)."""
    words = m.group("place").split()
    head = 2 if words[-2:] in (["medical", "center"], ["medical", "centre"]) else 1
    modifiers = words[: len(words) - head]
    if not modifiers or _stop(modifiers[0]) or any(w in _PHRASE_WORDS for w in modifiers):
        return False
    return not all(w in _RELATIONAL for w in modifiers)


def _town(m: re.Match[str]) -> bool:
    """A known town, state or country that is no clinical word, or one written as a name (capitalised in
    mixed-case text): "from Rome", "in Dayton"."""
    place = m.group("place")
    if not _gazetteer_place(m):
        return False
    words = place.split()
    if not place[0].isupper():
        return False  # from/to + a lower-case noun: a town after from/to is written with a capital
    return not any(shorthand(w) or w.lower() in CLINICAL_ACRONYMS or w.lower() in CLINICAL_TERMS for w in words)


def _credential_name(m: re.Match[str]) -> bool:
    """A given name, or a word no dictionary or clinical list knows ("NP DJURIC"), after a credential."""
    low = m.group("name").lower()
    if low in CLINICAL_ACRONYMS:
        return False
    from deid.text.words import english_word

    return low in _FIRST or (not english_word(low) and _name_word(low, strict=True))


_NEXT_WORD = re.compile(r"[ \t]*(\p{L}[\p{L}'’-]*)")


_SENTENCE_START = re.compile(r"[.!?][ \t]+(\p{L})")


def cased_prose(text: str, at: int) -> bool:
    """The text around `at` is written with capitals: three sentences at least start there, every one with a
    capital letter (a note written in lower case starts them in lower case: ". pt stable. wife in")."""
    starts = [m.group(1) for m in _SENTENCE_START.finditer(text, max(0, at - 400), min(len(text), at + 400))]
    return len(starts) >= 3 and all(ch.isupper() for ch in starts)


def _lower_case_name(m: re.Match[str]) -> bool:
    """A lexicon given name that no eponym is, before a function word, a name or nothing: before a clinical
    or content word it names a device, a sign or a drug more often (an eponymous device or sign in lower case)."""
    low = m.group().lower()
    if not lexicon_given_name(low) or low in EPONYMS:
        return False
    if cased_prose(m.string, m.start()):
        return False  # where sentences start with capitals, a name has one too ("fascia lata", "linea alba")
    nxt = _NEXT_WORD.match(m.string, m.end())
    if nxt is None:
        return True
    word = nxt.group(1).lower()
    if word in COMMON_WORDS and word not in CLINICAL_ACRONYMS:
        return True
    return name_lexicon(word) and not clinical_word(word)


def _cued_name(m: re.Match[str]) -> bool:
    """Before "aware", "notified": name-like words, one at least no English word ("team", "family" and
    "md" are told too)."""
    from deid.text.words import english_word

    words = m.group("name").split()
    if not all(_name_word(w, strict=True) for w in words):
        return False
    return any(not english_word(w.lower().strip("'’-")) for w in words)


# What says a clause tells history: past medical history, status post, a diagnosis.
_HISTORY = re.compile(r"(?i:\b(?:pmh|pmhx|hx|history|s/p|dx|diagnosed|h/o)\b)")


# A number with a unit or a decimal after it is a measure ("in 24 hrs", "in 30 min"), not a year.
_NO_MEASURE_AFTER = (
    r"(?![.,:/%-]\d|[ \t]*(?:%|(?i:units?|mg|mcg|ml|cc|l|hrs?|hours?|min|minutes?|days?|d|weeks?|wks?|"
    r"months?|mos?|yrs?|years?|x|times|mmhg|bpm|kg|lbs?|cm|mm|percent|degrees?|sec|seconds?|breaths?|am|pm)\b))"
)


def _history_year(m: re.Match[str]) -> bool:
    """A year no day or hour can be (32 to 99, or 00 to 09 written with its zero) in a line of history."""
    year = m.group("y")
    text = m.string
    line_start = text.rfind("\n", 0, m.start()) + 1
    return (int(year) >= 32 or year[0] == "0") and _HISTORY.search(text, line_start, m.start()) is not None


_HOSPITAL_ACRONYM = r"(?P<place>[A-Z]{1,4}(?:H|MC)|[a-z]{1,4}(?:h|mc)(?=\s+(?:er|ed|ew|cath)\b))"
# What follows a hospital's initials: its emergency ward, its cath lab, or the end of the clause.
_HOSPITAL_NEXT = r"(?=[ \t]+(?i:er|ed|ew|cath|icu|ccu|micu|floor|for)\b|[ \t]*(?:[.,;]|$))"


def _hospital_initials(m: re.Match[str]) -> bool:
    """Two letters ending in H ("GH": a general hospital) are initials here whatever else they abbreviate;
    longer ones must be no clinical acronym ("OSH", "ICH", "SAH")."""
    low = m.group("place").lower()
    return len(low) == 2 or (low not in clinical_vocabulary() and low not in CLINICAL_ACRONYMS)


# Alternations that a rule's pattern and its screen (deid.text.screens) share.
_MONTH_NAMES = "january|february|march|april|june|july|august|september|october|november|december"
_CUE_WORDS = "aware|notified|paged|informed"
_TALK_VERBS = (
    "spoke|speaking|spoken|talked|talking|met|meeting|discussed|discussing|phoned|called|visited|updated|informed"
)
_RESIDENCE_VERBS = (
    "lives|living|live|resides|residing|reside|home|moved|relocated|vacationing|visiting|works|worked|working|"
    "employed|retired"
)

CONTEXT_RULES: tuple[Rule, ...] = (
    Rule(
        "month_day_note",  # 7/22, 10/4 CATH, 7/22-7/24: a date, unless a setting, score or fraction
        "DATE",
        _c(_MD),
        score=0.7,
        validate=_not_a_setting,
    ),
    Rule(
        "month_two_digit_year",  # MI 7/81, stent 12/82: a month and a year that cannot be a day
        "DATE",
        _c(r"(?<![\w/.:+-]|\d-)(?:0?[1-9]|1[0-2])/(?:3[2-9]|[4-9]\d|00)(?![\d/]|\.\d|%)"),
        score=0.65,
        validate=_not_a_setting,
    ),
    Rule(
        "ordinal_day",  # "it's the 11th", "on the 3rd": a day of the month
        "DATE",
        _c(
            rf"\b(?i:the|on|since|until|by)[ \t]+(?P<day>{_ORD_DAY})\b"
            rf"(?![ \t]+(?:of[ \t]+)?(?!{_MONTH_ANY}\b)\p{{L}})"
        ),
        group="day",
        score=0.6,
        require=_c(r"\d(?i:st|nd|rd|th)"),
    ),
    Rule(
        "year_apostrophe_after",  # CVA 74', CHOLECYSTECTOMY 77': a two-digit year after an event
        "DATE",
        _c(r"(?<=\p{L}[ \t]{1,3})(?<!(?i:ed)[ \t]{1,3})\d\d'(?![\p{L}\d'])"),
        score=0.6,
        screen=("'",),
    ),
    Rule(
        "year_apostrophe_before",  # MI '92, in '05
        "DATE",
        _c(r"(?<=[ \t(])'\d\d(?![\p{L}\d'])"),
        score=0.6,
        screen=("'",),
    ),
    Rule(
        "day_month_any_case",  # 2 nov, 96 / 21 Apr, 21 / 3 MAR 2021 / nov 2
        "DATE",
        _c(
            rf"(?i:\b{_DAY}[ \t]+{_MONTH_ANY}\.?(?:,?[ \t]+(?:(?:19|20)\d\d|'?\d\d)(?!\d|:\d))?(?![\p{{L}}\d])"
            rf"|\b{_MONTH_ANY}\.?[ \t]+{_DAY}(?:,[ \t]*(?:(?:1[89]|20)\d\d|'?\d\d)(?!\d|:\d))?"
            r"(?![\p{L}\d/]|:\d))"
        ),
        score=0.7,
    ),
    Rule(
        "month_of_year_any_case",  # in march of 2022, MARCH 2022
        "DATE",
        _c(
            rf"(?i:\b(?:{_MONTH_NAMES})"
            r"(?:[ \t]+of)?,?[ \t]+(?:19|20)\d\d\b)"
        ),
        score=0.7,
        screen=literals(_MONTH_NAMES),
    ),
    Rule(
        "day_range_start",  # the 1 of "1->2 nov"
        "DATE",
        _c(rf"\b{_DAY}(?=[ \t]*(?:->|-|to)[ \t]*{_DAY}[ \t]+(?i:{_MONTH_ANY})\b)"),
        score=0.6,
    ),
    # ---- people --------------------------------------------------------------------------------------
    Rule(
        "title_any_case",  # dr yi, dr.reid, DR.DISANGRO, mrs. powers: a title names the word after it
        "NAME",
        _c(
            rf"\b(?i:dr|mrs|mr|ms|miss)(?:\.[ \t]*|[ \t]+)(?P<name>{_ANY_NAME_WORD}"
            rf"(?:[ \t]+(?!(?i:aware|notified|paged|called|updated|in|at|and|to)\b){_ANY_NAME_WORD})?)"
        ),
        group="name",
        score=0.85,
        validate=_titled,
    ),
    Rule(
        "relative_any_case",  # DAUGHTER PHILOMENA, son don reid, dtr Frances Baker, Son, Ed,
        "NAME",
        _c(
            rf"\b(?i:{_RELATIVE})(?:[ \t]*[,:(-][ \t]*|[ \t]+)(?:(?i:named|is)[ \t]+)?"
            rf"(?!(?i:{_RELATIVE}|is|named|in-laws?)\b)"
            rf"(?P<name>{_ANY_NAME_WORD}(?:[ \t]+{_ANY_NAME_WORD})?)"
        ),
        group="name",
        score=0.75,
        validate=_related,
    ),
    Rule(
        "initial_surname",  # B. KARGAS, d. renna, j. o'brien, Seen by J. Yi
        "NAME",
        _c(r"(?<![\p{L}\d.'/])(?P<name>\p{L}\.[ \t]?(?P<sur>\p{L}['’]?\p{L}[\p{L}'’-]+))"),
        group="name",
        score=0.7,
        validate=_initial_surname,
    ),
    Rule(
        "signature_line",  # Mary Rueping / ANTHONY C. KOZICKI, RRT alone on a line
        "NAME",
        _c(
            r"(?m)^[ \t]*(?P<name>\p{Lu}[\p{L}'’-]+(?:[ \t]+\p{Lu}\.?)?[ \t]+\p{Lu}[\p{L}'’-]+)"
            r"(?:,?[ \t]+\p{Lu}{2,5})?[ \t]*$"
        ),
        group="name",
        score=0.7,
        validate=_signature_line,
    ),
    # ---- places --------------------------------------------------------------------------------------
    Rule(
        "ward_number",  # transfer to quartermain 2, PLAN: QUARTERMAIN 2: a ward or floor and its number
        "LOCATION",
        _c(
            r"\b(?:(?i:to|from|on|in|at|plan:?)[ \t]+(?:(?i:the)[ \t]+)?)(?P<place>\p{L}[\p{L}'-]{3,})"
            r"(?=[ \t]+\d{1,2}(?![\d/:%]|[.,]\d|[ \t]*(?i:mg|mcg|ml|cc|l|units?|hrs?|hours?|min|days?|x|am|pm)\b))"
        ),
        group="place",
        score=0.6,
        validate=_unknown_word,
    ),
    Rule(
        "hospital_acronym",  # TRANSFERRED TO GH, enroute to gh er: a hospital's initials after a move
        "FACILITY",
        _c(
            r"\b(?:(?i:transferred|transfer|admitted|adm|brought|sent|taken|flown|medflight|enroute|"
            r"retired|returned|came|went|discharged|readmitted|arrived)(?:[ \t]+[\p{L}\d/]+)?[ \t]+"
            r"(?i:to|at|from|in)[ \t]+(?:(?i:the)[ \t]+)?)" + _HOSPITAL_ACRONYM + r"\b"
        ),
        group="place",
        score=0.6,
        validate=_hospital_initials,
    ),
    Rule(
        "hospital_acronym_at",  # SENT TO ED AT GH., to GH cath lab: initials and where in the hospital
        "FACILITY",
        _c(r"\b(?:(?i:to|at|from|by)[ \t]+(?:(?i:the)[ \t]+)?)" + _HOSPITAL_ACRONYM + r"\b" + _HOSPITAL_NEXT),
        group="place",
        score=0.55,
        validate=_hospital_initials,
    ),
    Rule(
        "facility_lower_case",  # from lakeshore general hospital, from er elmwood campus: a facility in lower case
        "FACILITY",
        _c(
            r"\b(?:(?:from|to|at|in)[ \t]+(?:the[ \t]+)?(?:(?:er|ed|ew|icu)[ \t]+(?:(?:at|of)[ \t]+)?)?)"
            r"(?P<place>(?!the\b)[a-z][a-z'-]+(?:[ \t]+[a-z][a-z'-]+){0,2}"
            r"[ \t]+(?:hospital|medical center|medical centre|memorial|regional|campus))\b"
        ),
        group="place",
        score=0.6,
        validate=_named_facility,
        screen=("hospital", "medical cent", "memorial", "regional", "campus"),
    ),
    Rule(
        "credential_given_name",  # NP JEN AWARE, RN Kathy: a credential, then a given name
        "NAME",
        _c(r"\b(?:RN|NP|PA|LPN|RRT|CNA|MD|rn|np|pa|rrt|lpn)[ \t]+(?P<name>\p{L}[\p{L}'’-]+)"),
        group="name",
        score=0.7,
        validate=_credential_name,
    ),
    Rule(
        "name_before_cue",  # grace dudak aware, DUDAK NOTIFIED: the one told of an event is a person
        "NAME",
        _c(
            r"(?<![\p{L}'’-])(?P<name>\p{L}[\p{L}'’-]+(?:[ \t]+\p{L}[\p{L}'’-]+)?)"
            rf"[ \t]+(?:(?i:made|was|is)[ \t]+)?(?i:{_CUE_WORDS})\b"
        ),
        group="name",
        score=0.6,
        validate=_cued_name,
        overlapped=True,  # "called dudak aware": the one-word reading when the two-word one fails
        screen=literals(_CUE_WORDS),
    ),
    Rule(
        "name_after_talk",  # spoke with suzette, MET WITH KRISSY: the one spoken with, when a name by the lexicon
        "NAME",
        _c(rf"\b(?i:{_TALK_VERBS})[ \t]+(?:(?i:with|to|by)[ \t]+)?(?P<name>\p{{L}}[\p{{L}}'’-]+)"),
        group="name",
        score=0.6,
        validate=lambda m: lexicon_given_name(m.group("name")),
        screen=literals(_TALK_VERBS),
    ),
    Rule(
        "lower_case_given_name",  # "suzette and ..." in a note written in lower case: a given name by the lexicon
        "NAME",
        _c(r"(?<![\p{L}\d/'’-])\p{Ll}{4,}(?![\p{L}\d/'’-])"),
        score=0.5,
        validate=_lower_case_name,
    ),
    Rule(
        "saint_any_case",  # TO GO TO ST. MARY, at st joseph's: a saint's name is a hospital's or a town's
        "FACILITY",
        _c(r"\b(?i:st|saint)\.?[ \t]+(?P<saint>\p{L}+)(?:['’]s)?+\b(?![ \t]+(?i:wort)\b)"),
        score=0.6,
        validate=lambda m: (
            m.group("saint").lower() in _FIRST and m.group("saint").lower() not in CLINICAL_ACRONYMS
        ),
    ),
    Rule(
        "year_in_history",  # PMHX CVA in 94, MI since 03: a two-digit year that no day, month or hour can be
        "DATE",
        _c(r"\b(?i:in|since)[ \t]+(?P<y>\d\d)\b" + _NO_MEASURE_AFTER),
        group="y",
        score=0.6,
        validate=_history_year,
    ),
    Rule(
        "year_in_history_and",  # the 00 of "CVA in 94 and 00"
        "DATE",
        _c(r"(?<=\b(?i:in|since)[ \t]+\d\d[ \t]*(?:,|&|(?i:and))[ \t]*)(?P<y>\d\d)\b" + _NO_MEASURE_AFTER),
        group="y",
        score=0.6,
        validate=_history_year,
        require=_c(r"\d\d[ \t]*(?:,|&|(?i:and))[ \t]*\d\d"),
    ),
    Rule(
        "town_after_residence",  # lives in ROCKVILLE, who lives in rome, resides in DC
        "LOCATION",
        _c(
            rf"\b(?:(?i:{_RESIDENCE_VERBS})[ \t]+(?:(?i:alone|independently|together|nearby)[ \t]+)?"
            r"(?:(?i:in|to|at|from|near|for)[ \t]+)?"
            r"(?:(?i:the)[ \t]+)?)(?!(?i:in|to|at|from|near|for|the|a|an)\b)"
            r"(?P<place>\p{L}[\p{L}'.-]*\p{L}"
            r"(?:[ \t]+(?!(?i:with|and|for|in|at|to|since|from|near|the|who|where|alone|independently|"
            r"together|nearby|until|w|but|so|or|on|by|s/p|x)\b)"
            r"(?:\p{Lu}|(?<=\b\p{Ll}[\p{Ll}'.-]*[ \t]+)\p{Ll})[\p{L}'.-]*\p{L}){0,2})"
        ),
        group="place",
        score=0.6,
        validate=_residence_place,
        screen=literals(_RESIDENCE_VERBS),
    ),
    Rule(
        "town_after_from",  # ARRIVE 9/9 FROM ROME: a known town after from/to/in
        "LOCATION",
        _c(
            r"\b(?:(?i:from|to|in|near)[ \t]+)"
            r"(?P<place>\p{L}[\p{L}'.-]*\p{L}(?:[ \t]+\p{Lu}[\p{L}'.-]*\p{L})?)\b"
        ),
        group="place",
        score=0.55,
        validate=_town,
    ),
)


CONTEXT_RULES += SHORTHAND_RULES


def iter_context_matches(text: str):
    """(start, end, label, score, rule name) for every context rule, a name's trailing clinical words
    ("dtr Frances aware") left out."""
    from deid.text.patterns import iter_matches

    for hit in iter_matches(text, CONTEXT_RULES):
        yield _trimmed(text, hit)


def context_matches_by_text(texts) -> list[list]:
    """list(iter_context_matches(text)) for each text, the rules taken one at a time over all the texts
    (deid.text.patterns.matches_by_text)."""
    from deid.text.patterns import matches_by_text

    found = matches_by_text(texts, CONTEXT_RULES)
    return [[_trimmed(text, hit) for hit in hits] for text, hits in zip(texts, found, strict=True)]


def _trimmed(text: str, hit: tuple) -> tuple:
    start, end, label, score, name = hit
    if label == "NAME" and name not in WHOLE_NAMES:  # a signed line's words are judged already
        words = list(re.finditer(r"\S+", text[start:end]))
        while len(words) > 1 and clinical_word(words[-1].group()) and words[-1].group().lower() not in _FIRST:
            words.pop()
        end = start + words[-1].end()
    return start, end, label, score, name
