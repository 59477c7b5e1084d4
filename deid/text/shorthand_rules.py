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
    STATE_CODES,
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
_STREET_KIND = (
    "street|st|avenue|ave|road|rd|lane|ln|drive|dr|court|ct|terrace|terr|ter|way|place|pl|boulevard|blvd|"
    "circle|cir|parkway|pkwy|highway|hwy"
)
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
    from deid.text.words import english_word

    low = word.lower().strip("'’.-").removesuffix("'s")
    if len(low) < 2 or low in COMMON_WORDS or low in CLINICAL_ACRONYMS:
        return False
    if low in _FIRST or (name_lexicon(low) and not clinical_word(low) and not english_word(low)):
        return True  # a name list's word that is also an English one ("sewing", "kilo") is read as the word
    parts = [p for p in re.split(r"[-'’]", low) if p]
    if len(parts) > 1:  # O'Connor, Al-Sayed, Da'Quan, Mei-Ling: a joined name, its parts names or unknown
        return _joined_name(low, parts)
    return not english_word(low) and not clinical_word(word) and not shorthand(word)


# What an English word joins with a hyphen ("re-intubated", "ex-wife", "non-verbal", "self-care"): no name's part.
_PREFIXES = frozenset(
    "a an bi co de di ex in re un up uni tri pre pro non sub mid out off per post anti self semi over under "
    "multi inter intra extra trans step half well ill".split()
)
# The particles of joined surnames ("Al-Sayed", "El-Amin", "Ibn-Rashid"): the word after one is a surname.
_PARTICLES = frozenset("al el ul abu ibn bin ben da du la le van von".split())
_CONTRACTED = re.compile(r"\p{L}{1,4}['’]\p{L}{3,}")  # Dell'Anno, O'Rourke; never "don't", "pt's"


def _joined_name(low: str, parts: list[str]) -> bool:
    """A word joined by a hyphen or an apostrophe is a name's when no part is a prefix, a stop word or a
    clinical word that no name list holds, and one part at least is a given name, no dictionary word or a name
    list's word after a particle ("El-Hassan"); a particle before an apostrophe joins any word ("Dell'Anno"); two
    short parts ("Xiu-Li") join whatever dictionary holds them. "in-law", "ex-wife", "x-ray", "follow-up",
    "present-contin", "brown-black" stay words."""
    from deid.text.words import english_word, known_word

    if "-" not in low:
        return _CONTRACTED.fullmatch(low) is not None and not low.endswith("clock") and not shorthand(low)
    if english_word(low) or any(p not in _FIRST and (p in COMMON_WORDS or p in _PREFIXES) for p in parts):
        return False
    if any(len(p) == 1 for p in parts):
        return False  # x-ray, g-tube, t-cell
    if any(clinical_word(p) and not name_lexicon(p) for p in parts if len(p) > 2):
        return False
    if any(p in _FIRST for p in parts):
        return True  # Jo-Ann, Anne-Sophie
    if len(parts) == 2 and all(2 <= len(p) <= 3 for p in parts):
        return not any(p in CLINICAL_ACRONYMS or p in clinical_vocabulary() or shorthand(p) for p in parts)
    long = [p for p in parts if len(p) > 2]  # O', Al-, Da': a particle
    particle = len(parts) == 2 and parts[0] in _PARTICLES
    return any(p in _FIRST or not known_word(p) or (particle and name_lexicon(p)) for p in long)


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


# Two letters before a credential that say whose or which nurse, not who: the patient's, a credential.
_WHOSE = frozenset("pt pts md do pa np rn sn ok hs am pm".split())
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

    told = _TOLD.search(lead) is not None
    if english_word(low):
        # "by day rn", "IV RN": a shift or a team, unless the line is only a signature; two letters a nurse
        # was notified by are initials ("notified MB RN") unless they say whose nurse ("notified pt RN")
        return alone or (told and len(low) == 2 and low not in COMMON_WORDS and low not in _WHOSE)
    if alone or told:
        return True
    return low not in CLINICAL_ACRONYMS and low not in COMMON_WORDS and low not in clinical_vocabulary()


def _talked_to(m: re.Match[str]) -> bool:
    """Spoken with, called or paged: a person's name. What a plan is "per" may also be a record, a protocol
    or a service ("per flowsheet"), so after "per" the word must be a name by a name lexicon."""
    words = m.group("name").split()
    per = m.group("cue").lower() == "per"
    # a name list's English word only after one spoken with ("d/w Harlan"): "per kilo" is a rate
    if not all(person_word(w) or (not per and listed_name(w)) for w in words):
        return False
    if not per:
        return True
    parts = [p for w in words for p in re.split(r"[-'’]", w.lower()) if len(p) > 1]
    return any(p in _FIRST or name_lexicon(p) for p in parts)


def listed_name(word: str) -> bool:
    """A word of Philter's given or family name lists that its list of non-names does not hold and no clinical
    list knows ("Harlan"; "Ward" is a non-name): a name where one stands, after d/w or a relative and a comma."""
    low = word.lower().strip("'’.").removesuffix("'s")
    lists = philter_lists()
    if low in lists.get("nonames", ()) or low in COMMON_WORDS or low in CLINICAL_ACRONYMS or shorthand(low):
        return False
    in_list = low in lists.get("lastnames", ()) or low in lists.get("firstnames", ())
    return in_list and low not in clinical_vocabulary()


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


def _street_named(m: re.Match[str]) -> bool:
    """After a home's cue a street's words may be English ones ("Quarry", "Ironwood"), but no stop word,
    clinical abbreviation or shorthand ("lives at 2 L NC", "home: 3 flights, no rails")."""
    words = m.group("street").lower().split()
    return not any(w in COMMON_WORDS or w in CLINICAL_ACRONYMS or shorthand(w) for w in words)


_OWN_WARD = re.compile(r"[ \t]+(?i:er|ed|ew|emergency)\b")


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
    if _OWN_WARD.match(m.string, m.end("place")):
        # "hillcrest general er": a place with its own emergency ward is a hospital by its name
        return not any(w in CLINICAL_TERMS or w in DRUG_BRANDS or w.endswith(DRUG_SUFFIXES) for w in low)
    if any(w in clinical_vocabulary() for w in low):
        return False
    return any(not english_word(w) or is_city(w) or (name_lexicon(w) and not clinical_word(w)) for w in low)


# Initials that name a place by its relation or its kind, not its name: the outside hospital, a nursing
# home, home health, the emergency ward itself.
_KIND_INITIALS = frozenset("osh oh nh hh snf alf ltc ltac ltach rh ch mh vna ems er ed ew".split())


def _hospital_before_er(m: re.Match[str]) -> bool:
    """Initials before "ER" (or with a length of stay) name a hospital whatever else they abbreviate ("SBW"),
    unless they are a stop word, a care unit, or a place's kind ("OSH ER", "the NH")."""
    low = m.group("place").lower()
    return low not in COMMON_WORDS and low not in _UNIT_WORDS and low not in _KIND_INITIALS


# Where a patient is moved to inside a hospital; a move's origin before one of these is a unit, a procedure's
# room or another hospital, and the first two are closed classes.
_DESTINATION_UNIT = (
    r"icu|micu|sicu|ccu|csru|cvicu|cticu|tsicu|nicu|picu|neuro[ \t]*icu|pacu|floor|ward|step[ -]?down|sdu|imcu|"
    r"tele|telemetry"
)
_PROCEDURE_ROOMS = frozenset(
    "ct mri mr us xr cxr ep endo hd cvvh crrt lab cath ir gi or ed er ew pt ot ob ld lnd pacu ccl dsa bed rm "
    "br".split()
)


def _hospital_before_transfer(m: re.Match[str]) -> bool:
    """The initials a patient is moved from into a care unit ("from FR to PACU") name a hospital unless they
    are a stop word, a care unit, a place's kind or a procedure's room (closed lists: "from CT to MICU")."""
    low = m.group("place").lower()
    return _hospital_before_er(m) and low not in _PROCEDURE_ROOMS


def _saint(m: re.Match[str]) -> bool:
    """A saint's given name after a move; one that a clinical list also holds ("Jude") when written as a
    place's possessive ("at St. Jude's"), never an herb's ("St. John's wort")."""
    low = m.group("saint").lower()
    firstnames = philter_lists().get("firstnames", ())
    if low not in firstnames or low in COMMON_WORDS or re.match(r"[ \t]+(?i:wort)\b", m.string[m.end() :]):
        return False
    return low not in clinical_vocabulary() or m.group("place")[-2:].lower() in ("'s", "’s")


def place_word(word: str) -> bool:
    """A word that may name a small town no gazetteer holds: no dictionary, clinical or shorthand word, nor a
    stop word. A town's name often looks like a misspelt word ("Westerlo"), so likeness to a clinical word
    is no reason against it here, where the grammar says a place."""
    from deid.text.words import english_word

    low = word.lower().strip("'’")
    if len(low) < 3 or not _LETTERS.fullmatch(low) or low in COMMON_WORDS or low in CLINICAL_ACRONYMS:
        return False
    return not shorthand(low) and not english_word(low) and low not in clinical_vocabulary()


_LETTERS = re.compile(r"\p{L}+(?:[-'’]\p{L}+)*")  # a word's letters; "i.e" and "q.d" are abbreviations


def _unknown_place(m: re.Match[str]) -> bool:
    from deid.text.gazetteer import is_city

    words = m.group("place").split()
    line = m.string[m.string.rfind("\n", 0, m.start()) + 1 : m.end()]
    titled = not line.isupper() and not line.islower()  # a capital says a name only where case is kept
    return all(
        person_word(w) or place_word(w) or is_city(w.lower()) or (titled and w.istitle() and _plain_place(w))
        for w in words
    )


# Where someone may come from that is a kind of place, not one ("driving in from work", "flew in from abroad").
_GENERIC_PLACE = frozenset(
    """home house work job office school college class church temple mosque synagogue store shop mall market
    airport station vacation holiday trip abroad overseas downtown uptown upstate downstate upstairs downstairs
    outside inside there here away afar far out town city country state camp daycare dinner lunch breakfast
    party wedding funeral visit north south east west coast""".split()
)


def _travelled_from(m: re.Match[str]) -> bool:
    """After a journey ("driving in from", "flew in from", "originally from") a place's words may be English
    ones ("ALPINE"), but no stop, clinical or shorthand word and no kind of place ("from work"); after
    "came"/"coming" a place must be no English word (they come from units and rooms as often)."""
    if _unknown_place(m):
        return True
    if m.group("journey") is None and m.group("origin") is None:
        return False
    words = [w.lower() for w in m.group("place").split()]
    return all(_plain_place(w) and w not in _GENERIC_PLACE and len(w) >= 3 for w in words)


def _plain_place(word: str) -> bool:
    """A capitalised English word that may be a town's name ("Kodiak", "Marfa"): no clinical or stop word."""
    low = word.lower()
    return not (low in COMMON_WORDS or low in CLINICAL_ACRONYMS or shorthand(low) or low in clinical_vocabulary())


def _town_with_state(m: re.Match[str]) -> bool:
    """Before a state's code a town may be any word that no clinical or stop list holds ("Marfa, TX",
    "dalhart, tx,"); a code in lower case ("in", "or", "tx", "sc" are words too) must end the clause."""
    st = m.group("st")
    if st.upper() not in STATE_CODES or (
        st.islower() and not re.match(r"[ \t]*(?:[,.;)]|$)", m.string[m.end() :])
    ):
        return False
    return all(_plain_place(w) for w in m.group("place").split())


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
            rf"(?:{_STREET_KIND})\b\.?"
        ),
        score=0.7,
        validate=_street_lower,
    ),
    Rule(
        "street_at_residence",  # LIVES AT 52 FOUNDRY RD, home address: 310 orchard lane, at home (7 birch st)
        "ADDRESS",
        _c(
            r"(?<=\b(?i:lives|living|resides|residing|staying|moved|address)[ \t]*(?i:at|to|on|:)?[ \t]*"
            r"|\b(?i:home)[ \t]*[(:][ \t]*)"
            rf"\d{{1,5}}[ \t]+(?P<street>\p{{L}}[\p{{L}}'-]*(?:[ \t]+\p{{L}}[\p{{L}}'-]*){{0,2}})[ \t]+"
            rf"(?i:{_STREET_KIND})\b(?:(?<=(?i:st|ave|rd|ln|dr|ct|terr?|pl|blvd|cir|pkwy|hwy))\.)?"
        ),
        score=0.7,
        validate=_street_named,
        screen=("lives", "living", "resid", "staying", "moved", "address", "home"),
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
        "initials_before_er",  # TRANSFERRED FROM SBW ER, from pmc er: initials before an emergency ward
        "FACILITY",
        _c(
            r"\b(?i:from|at|to|in|via)[ \t]+(?P<place>[A-Z]{2,4}|[a-z]{2,4})"
            r"(?=[ \t]+(?:ER|ED|EW|er|ed|ew)\b(?![ \t]*(?:/|-)))"
        ),
        group="place",
        score=0.6,
        validate=_hospital_before_er,
    ),
    Rule(
        "initials_before_transfer",  # TRANSFERRED FROM FR TO PACU: a move's origin, into a care unit, is a place
        "FACILITY",
        _c(
            r"(?<=\b(?i:transferred|transfered|transfer|txd|tx'd|moved|sent|came|brought|admitted|arrived)[ \t]+)"
            r"(?i:from)[ \t]+(?P<place>[A-Z]{2,4}|[a-z]{2,4})"
            rf"(?=[ \t]+(?i:to)[ \t]+(?:(?i:the)[ \t]+)?(?i:{_DESTINATION_UNIT})\b)"
        ),
        group="place",
        score=0.6,
        validate=_hospital_before_transfer,
        screen=("from",),
    ),
    Rule(
        "initials_stay",  # pt was at BMC x 4 days, in sjh for 2 wks: a hospital's initials and a length of stay
        "FACILITY",
        _c(
            r"\b(?i:at|in)[ \t]+(?P<place>[A-Z]{1,3}(?:H|MC)|[a-z]{1,3}(?:h|mc))"
            r"(?=[ \t]+(?:(?i:x)[ \t]*\d|(?i:for)[ \t]+\d+[ \t]*(?i:d|days?|wks?|weeks?|mos?|months?)\b))"
        ),
        group="place",
        score=0.6,
        validate=_hospital_before_er,
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
            r"\b(?:(?i:(?:(?P<journey>driving|drove|flying|flew|travell?ing|traveled|travelled|visiting)|coming|"
            r"came)[ \t]+(?:(?:in|up|down|over|back)[ \t]+)?from|"
            r"(?P<origin>originally[ \t]+from|native[ \t]+of)))[ \t]+"
            rf"(?P<place>{_NAME_WORD}(?:[ \t]+(?!{_AFTER_PLACE}){_NAME_WORD})?)(?=[ \t]*(?:,|\.|$|{_AFTER_PLACE}))"
        ),
        group="place",
        score=0.55,
        validate=_travelled_from,
    ),
    Rule(
        "town_before_state",  # from Marfa, TX; lives in dalhart, tx, retired: a town before its state's code
        "LOCATION",
        _c(
            r"\b(?i:from|in|of|near|to)[ \t]+"
            rf"(?P<place>{_NAME_WORD}(?:[ \t]+(?!{_AFTER_PLACE}){_NAME_WORD})?)"
            r",[ \t]*(?P<st>[A-Z]{2}|[a-z]{2})(?=[ \t]*(?:[,.;)]|$)|[ \t]+(?i:with|and|area|tonight|today)\b)"
        ),
        group="place",
        score=0.55,
        validate=_town_with_state,
        screen=(",",),
    ),
    Rule(
        "town_from_line",  # From Kodiak, retired fisherman. / FROM WOLCOTTVILLE.: where the patient comes from
        "LOCATION",
        _c(
            r"(?:^|(?<=[.;:!?][ \t]{1,3}|\n[ \t]*))(?i:pt[ \t]+(?:is[ \t]+)?)?(?i:from)[ \t]+"
            rf"(?P<place>{_NAME_WORD}(?:[ \t]+{_NAME_WORD})?)(?=[ \t]*(?:,|\.(?:[ \t]|$)|$))"
        ),
        group="place",
        score=0.55,
        validate=_unknown_place,
        screen=("from",),
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
