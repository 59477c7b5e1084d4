"""PHI in the shorthand of nursing notes, read from the grammar around it: a month-day written with a dash
after a date's cue ("on 3-4"), a signature line or a /s/ line ending in a credential, initials before a
credential ("JS RN"), the one a plan is "per" or "d/w", a named rehab or saint's hospital in any case,
extensions ("x1234") and pager numbers after a page."""

import regex as re

from deid.text.lexicon import (
    CLINICAL_ACRONYMS,
    CLINICAL_TERMS,
    COMMON_WORDS,
    DRUG_BRANDS,
    DRUG_SUFFIXES,
    FIRST_NAMES,
)
from deid.text.patterns import Rule
from deid.text.vocabulary import (
    clinical_vocabulary,
    clinical_word,
    name_lexicon,
    philter_lists,
    shorthand,
)

_FIRST = frozenset(FIRST_NAMES)
_CREDENTIAL = r"(?:RN|BSN|MSN|NP|PA|PA-C|RRT|LPN|CNA|MD|DO|CRNA|APRN|SN|LICSW|MSW|rn|np|rrt|lpn|md)"
# at the end of a signed line any case is a credential's ("rn, bsn")
_ANY_CREDENTIAL = r"(?i:RN|BSN|MSN|NP|PA|PA-C|RRT|LPN|CNA|MD|DO|CRNA|APRN|SN|LICSW|MSW)"
_CREDENTIALS = rf"{_ANY_CREDENTIAL}(?:[ \t]*,?[ \t]*{_ANY_CREDENTIAL}){{0,2}}"
_NAME_WORD = r"\p{L}(?:['’]\p{L})?[\p{L}'’-]*"
# Care units and services written before a credential as a place of work ("ICU RN", "ED RN"), not initials.
_UNIT_WORDS = frozenset("icu micu sicu ccu csru nicu picu ed er or pacu ir cath gi ob ld iv ns".split())
# Words that say which place by its relation, not its name ("outside rehab", "local hospital").
_RELATIONAL = frozenset(
    "outside other another local nearby same this that our their his her previous prior new old acute subacute "
    "inpatient outpatient home short long term cardiac pulmonary physical occupational vent ventilator stroke "
    "spine spinal brain neuro ortho orthopedic geri geriatric psych psychiatric day night respite hospice "
    "transitional residential assisted group halfway private state county city".split()
)
_AFTER_NAME = (
    r"(?i:re|at|from|and|about|regarding|following|aware|who|will|is|was|to|for|with|in|on|today|tonight|"
    r"this|that|via|by|of|as)\b"
)
_AFTER_PLACE = r"(?i:tonight|today|tomorrow|to|for|and|with|in|on|at)\b"
_CARE_KIND = re.compile(
    r"[ \t]+(?i:manor|rehab|rehabilitation|nursing[ \t]+(?:home|center|facility)|skilled[ \t]+nursing|"
    r"care[ \t]+center)\b"
)
_PLACE_KIND = (
    r"(?i:manor|rehab|rehabilitation(?:[ \t]+(?:center|hospital|facility))?|nursing[ \t]+(?:home|center|facility)|"
    r"skilled[ \t]+nursing(?:[ \t]+facility)?|care[ \t]+center|health[ \t]*care[ \t]+center|house|village|"
    r"general(?:[ \t]+hospital)?|memorial|regional|medical[ \t]+center|hospital|community[ \t]+hospital)"
)


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def person_word(word: str) -> bool:
    """A word that may be part of a person's name: a name lexicon's word that no clinical list holds, or a
    word that no dictionary or clinical list knows ("Okafor", "N'Diaye", "Al-Sayed")."""
    from deid.text.words import english_word, known_word

    low = word.lower().strip("'’.-").removesuffix("'s")
    if len(low) < 2 or low in COMMON_WORDS or low in CLINICAL_ACRONYMS:
        return False
    if low in _FIRST or (name_lexicon(low) and not clinical_word(low) and not english_word(low)):
        return True  # a name list's word that is also an English one ("sewing", "kilo") is read as the word
    parts = [p for p in re.split(r"[-'’]", low) if p]
    if len(parts) > 1:  # O'Connor, Al-Sayed, Da'Quan, Mei-Ling: a joined name, its parts names or unknown
        long = [p for p in parts if len(p) > 2]  # O', Al-, Da': a particle
        # no part a clinical word unless a name list has it, one part at least a given name or no dictionary
        # word: "in-law", "ex-wife", "present-contin" are words
        if not all(not clinical_word(p) or name_lexicon(p) for p in long):
            return False
        return any(p in _FIRST or not known_word(p) for p in long)
    return not english_word(low) and not clinical_word(word) and not shorthand(word)


def _signed(m: re.Match[str]) -> bool:
    """The words of a signature are a person's: none of them clinical, most of them name-like."""
    words = re.findall(_NAME_WORD, m.group("name"))
    if not words:
        return False
    letters = [w for w in words if len(w.strip(".")) > 1]
    if not letters or not all(person_word(w) or name_lexicon(w.lower()) for w in letters):
        return False
    # a surname that is also a word of the clinic ("Miller", "Pratt") stands beside an initial or a name
    return len(letters) < len(words) or any(person_word(w) for w in letters)


_TOLD = re.compile(r"(?i:\b(?:notified|paged|called|per|d/w|informed|told)[ \t]+)$")


def _initials(m: re.Match[str]) -> bool:
    """Two or three letters before a credential are initials unless they name a care unit; inside a
    sentence they must also be no clinical acronym or word ("notified LE NP" is a leg)."""
    low = m.group("ini").lower()
    if low in _UNIT_WORDS:
        return False
    line_start = m.string.rfind("\n", 0, m.start("ini")) + 1
    lead = m.string[line_start : m.start("ini")]
    alone = not lead.strip(" \t-–—*>") and m.group("end") is not None
    from deid.text.words import english_word

    if english_word(low):
        return alone  # "by day rn", "IV RN": a shift or a team, unless the line is only a signature
    if alone or _TOLD.search(lead) is not None:
        return True
    return low not in CLINICAL_ACRONYMS and low not in COMMON_WORDS and low not in clinical_vocabulary()


def _talked_to(m: re.Match[str]) -> bool:
    """Spoken with, called or paged: a person's name. What a plan is "per" may also be a record, a protocol
    or a service ("per flowsheet"), so after "per" the word must be a name by a name lexicon."""
    words = m.group("name").split()
    if not all(person_word(w) for w in words):
        return False
    if m.group("cue").lower() != "per":
        return True
    parts = [p for w in words for p in re.split(r"[-'’]", w.lower()) if len(p) > 2]
    return any(p in _FIRST or name_lexicon(p) for p in parts)


def _closing_name(m: re.Match[str]) -> bool:
    """A note's last line of two or three words, every one a person's ("PT RESTING.\nSAYURI N'DIAYE")."""
    words = re.findall(_NAME_WORD, m.group("name"))
    return len(words) >= 2 and all(person_word(w) for w in words if len(w) > 1)


def _street_lower(m: re.Match[str]) -> bool:
    """A lower-case street: its words no clinical or common word, one at least no English word."""
    from deid.text.words import english_word

    words = m.group("street").split()
    if any(w in clinical_vocabulary() or shorthand(w) or w in COMMON_WORDS for w in words):
        return False
    return any(not english_word(w) for w in words)


def _named_place(m: re.Match[str]) -> bool:
    """The words before a kind of place ("Oakmont Rehab", "sunnyvale general") name it: none clinical,
    common or relational ("acute rehab", "the other hospital"), one at least no English word or a town."""
    from deid.text.gazetteer import is_city
    from deid.text.words import english_word

    words = m.group("name").split()
    low = [p for w in words for p in w.lower().strip("'’.").split("-") if p]
    if any(shorthand(w) or w in COMMON_WORDS or w in _RELATIONAL or w in CLINICAL_ACRONYMS for w in low):
        return False
    if _CARE_KIND.match(m.group("place"), m.end("name") - m.start("place")):
        # "Lakeside Manor": before a word for a home or a rehab, any word that no clinical list holds
        return not any(w in CLINICAL_TERMS or w in DRUG_BRANDS or w.endswith(DRUG_SUFFIXES) for w in low)
    if any(w in clinical_vocabulary() for w in low):
        return False
    return any(not english_word(w) or is_city(w) or (name_lexicon(w) and not clinical_word(w)) for w in low)


def _saint(m: re.Match[str]) -> bool:
    low = m.group("saint").lower()
    firstnames = philter_lists().get("firstnames", ())
    return low in firstnames and low not in clinical_vocabulary() and low not in COMMON_WORDS


def _unknown_place(m: re.Match[str]) -> bool:
    from deid.text.gazetteer import is_city

    words = m.group("place").split()
    return all(person_word(w) or is_city(w.lower()) for w in words)


# A month-day joined by a dash reads as a date only after a date's cue and with no unit or count after it:
# "on 3-4", "placed 6-3", not "on 2-3 L", "2-3 times", "q 4-6 hrs".
_DASH_CUE = (
    r"(?i:on|since|dated|from|until|till|thru|date|seen|admitted|discharged|started|stopped|placed|inserted|"
    r"removed|changed|done|extubated|intubated|trached|due|scheduled|planned|cxr|ct|mri|echo|cath|ekg|ecg)"
)
_DASH_MD = (
    rf"(?<=\b{_DASH_CUE}[ \t]{{1,3}})(?P<date>(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01]))"
    r"(?![\d.,/:%+-]\d|[\d/%+-])"
    # what may follow a date: the end of a clause or a word that starts another (a unit or a count never)
    r"(?=[ \t]*(?:$|[,.;:)\]]|@|(?i:with|and|at|for|by|to|in|on|when|after|before|until|pt|who|which|per|"
    r"show\w*|reveal\w*|was|were|is|no|neg|negative|positive|wnl|unchanged|s/p)\b))"
)

SHORTHAND_RULES: tuple[Rule, ...] = (
    Rule(
        "month_day_dash",  # family meeting on 3-4, TRACH PLACED 6-3: a month-day after a date's cue
        "DATE",
        _c(_DASH_MD),
        group="date",
        score=0.6,
        require=_c(r"\d-\d"),
    ),
    Rule(
        "signature_credential",  # Adaeze Okonkwo, RN / --WEN-LI VU RN BSN / yetunde berg, rn: a signed line
        "NAME",
        _c(
            rf"(?m)^[ \t]*(?:-{{1,3}}|—)?[ \t]*(?P<name>(?:\p{{L}}\.|{_NAME_WORD})(?:[ \t]+\p{{L}}\.?)?"
            rf"(?:[ \t]+(?!{_ANY_CREDENTIAL}\b){_NAME_WORD}){{1,2}})"
            rf"[ \t]*,?[ \t]+{_CREDENTIALS}[ \t]*\.?[ \t]*$"
        ),
        group="name",
        score=0.6,
        validate=_signed,
    ),
    Rule(
        "signed_line",  # /s/ Priya Raghunathan, RN; /S/ M. D'ANGELO: the name after the signature mark
        "NAME",
        _c(rf"(?i:/s/)[ \t]*(?P<name>{_NAME_WORD}\.?(?:[ \t]+(?!{_ANY_CREDENTIAL}\b){_NAME_WORD}){{1,2}})"),
        group="name",
        score=0.75,
        validate=_signed,
        screen=("/s/",),
    ),
    Rule(
        "initials_credential",  # JS RN, -ge, np, notified KL RRT: initials before a credential
        "NAME",
        _c(
            rf"(?m)(?<![\p{{L}}\d'/.])(?P<ini>\p{{L}}{{2,3}})(?:[ \t]*[,/][ \t]*|[ \t]+){_CREDENTIAL}\b"
            rf"(?P<end>[ \t]*(?:,?[ \t]*{_ANY_CREDENTIAL}\b)*[ \t]*\.?[ \t]*$)?"
        ),
        group="ini",
        score=0.6,
        validate=_initials,
    ),
    Rule(
        "name_after_per",  # per mendez, d/w Okafor, called anneliese: the one a plan comes from or was told
        "NAME",
        _c(
            r"\b(?P<cue>(?i:per|d/w|discussed[ \t]+with|spoke[ \t]+(?:with|to)|spoken[ \t]+(?:with|to)|"
            r"talked[ \t]+(?:with|to)|"
            r"called|phoned|paged|sw|social[ \t]+worker|case[ \t]+manager))[ \t]+"
            rf"(?P<name>{_NAME_WORD}"
            rf"(?:[ \t]+(?!{_AFTER_NAME}){_NAME_WORD}(?=[ \t]*(?:[,.;:)!?]|$|{_AFTER_NAME})))?)"
        ),
        group="name",
        score=0.6,
        validate=_talked_to,
        overlapped=False,
    ),
    Rule(
        "closing_name_line",  # ...\nSAYURI N'DIAYE at the very end of a note: the writer's name
        "NAME",
        _c(rf"(?:^|\n)[ \t]*(?P<name>{_NAME_WORD}(?:[ \t]+\p{{L}}\.)?(?:[ \t]+{_NAME_WORD}){{1,2}})[ \t]*\s*\Z"),
        group="name",
        score=0.6,
        validate=_closing_name,
    ),
    Rule(
        "street_lower_case",  # lives at 465 ashcroft st., (146 elmwood st): a street in a lower-case note
        "ADDRESS",
        _c(
            r"(?<![\w.,/-])\d{1,5}[ \t]+(?P<street>[a-z][a-z'-]+(?:[ \t]+[a-z][a-z'-]+){0,2})[ \t]+"
            r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|court|ct|terrace|terr|ter|way|place|pl|boulevard|"
            r"blvd|circle|cir|parkway|pkwy)\b\.?"
        ),
        score=0.7,
        validate=_street_lower,
    ),
    Rule(
        "named_place_kind",  # rehab at Oakmont Manor, D/C TO STONEBRIDGE REHAB, from sunnyvale general er
        "FACILITY",
        _c(
            rf"\b(?i:to|at|from|by|in)[ \t]+(?P<place>(?P<name>{_NAME_WORD}(?:[ \t]+{_NAME_WORD})?)[ \t]+"
            rf"{_PLACE_KIND})\b"
        ),
        group="place",
        score=0.6,
        validate=_named_place,
    ),
    Rule(
        "saint_place",  # from st. raphael medical center, TO ST JUDE'S: a saint's name before a hospital
        "FACILITY",
        _c(
            rf"\b(?i:st|saint)\.?[ \t]+\p{{L}}{{3,}}(?:['’]s)?(?=[ \t]+{_PLACE_KIND}\b|[ \t]+(?i:er|ed|ew|icu)\b)"
            rf"(?:[ \t]+{_PLACE_KIND}\b)?"
        ),
        score=0.6,
    ),
    Rule(
        "saint_after_move",  # TRANSFERRED FROM ST. ANNE'S: a saint's name after from, to or at is a hospital's
        "FACILITY",
        _c(
            r"\b(?i:from|to|at)[ \t]+(?:(?i:the)[ \t]+)?"
            r"(?P<place>(?i:st|saint)\.?[ \t]+(?P<saint>\p{L}{3,})(?:['’](?i:s))?)\b"
        ),
        group="place",
        score=0.6,
        validate=_saint,
    ),
    Rule(
        "town_after_travel",  # family driving in from PEPPERELL, originally from ojai: where someone comes from
        "LOCATION",
        _c(
            r"\b(?:(?i:(?:driving|drove|flying|flew|coming|came|travell?ing|traveled|travelled|visiting)"
            r"[ \t]+(?:(?:in|up|down|over|back)[ \t]+)?from|originally[ \t]+from|native[ \t]+of))[ \t]+"
            rf"(?P<place>{_NAME_WORD}(?:[ \t]+(?!{_AFTER_PLACE}){_NAME_WORD})?)(?=[ \t]*(?:,|\.|$|{_AFTER_PLACE}))"
        ),
        group="place",
        score=0.55,
        validate=_unknown_place,
    ),
    Rule(
        "extension",  # call x1234, X4-5678: an extension written after an x
        "PHONE",
        _c(r"(?<![\p{L}\d])[xX](?P<ph>\d{4,5}|\d-\d{3,4})(?![\d\p{L}]|[ \t]*(?i:cc|ml|mg|mcg|units?)\b)"),
        score=0.7,
    ),
    Rule(
        "pager_after_page",  # paged renal @ 89467, page covering np (61151): five digits after a page
        "PHONE",
        _c(
            r"\b(?i:pager|beeper|pgr|bpr|page[ds]?|paging)\b[^\n.;]{0,30}?(?<![\d.,/:-])(?P<ph>\d{5})"
            r"(?![\d/:.,]\d|[\d]|[ \t]*(?i:mg|mcg|units?|cc|ml)\b)"
        ),
        group="ph",
        score=0.7,
        screen=("pag", "beep", "pgr", "bpr"),
    ),
)
