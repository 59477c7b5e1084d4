"""Numbers that clinical writing gives the shape of PHI: a grade, a score, a count, a gestational age, a size
or a pair of lab values written d/d (read as a month/day), a dilution ratio or a code read as a ZIP, an image's
number read as an ID, a suture's or a catheter's size read as a house number; each known by the grammar
around it (what it measures, the unit after it, its denominator), never by the note it came from."""

from collections.abc import Callable

import regex as re

# ---- fractions read as month/day ----------------------------------------------------------------------
_FRACTION = re.compile(r"(?P<n>\d{1,2})\+?/(?P<d>\d{1,2})")
_WORD = re.compile(r"\p{L}[\p{L}'’]*")

# A date's own cue right before it: "on 4/5", "since 7/10", "dated 2/4"; it outweighs a governor found
# further off, never one right after the number ("in 7/10 pain").
_DATE_CUE_BEFORE = re.compile(
    r"(?i:\b(?:on|since|dated|from|until|till|by|in|of[ \t]+(?:last|this)|date|seen|admitted|discharged|"
    r"started|stopped|due|scheduled|planned|before|after)[ \t:]*$)"
)

# An event's participle right before the number dates the event ("placed 3/2", "extubated 10/3"); a
# finding's change or a scoring verb does not ("decreased 4/5", "rated 7/10").
_PARTICIPLE_BEFORE = re.compile(r"(?i:\b(\p{L}{2,}ed)[ \t:]*$)")
_CHANGE = frozenset(
    "increased decreased diminished reduced improved worsened preserved measured estimated".split()
)


def _event_before(before: str) -> bool:
    m = _PARTICIPLE_BEFORE.search(before)
    if m is None:
        return False
    low = m.group(1).lower()
    return low not in _CHANGE and low not in _SCALE and low not in _SCORED and low not in _EXAM | _LIMB


# Units and counted things that make the number before them an amount: "1/2 inch", "3/4 L", "1/2-mile",
# "2 1/2 years", "5/12 port" (a port or trocar size), "1/8th of a cc" (an ordinal suffix reads the fraction
# aloud). No letter alone but "L of": nursing writes "L" and "R" for the sides ("PICC 3/4 L arm" is a date).
_UNIT = (
    r"(?:inch(?:es)?|in\.|cm|mm|miles?|foot|feet|ft|yards?|blocks?|flights?|cc|ml|l(?=\s+of\b)|liters?|litres?|"
    r"oz|ounces?|lbs?|pounds?|kg|mg|mcg|tabs?|tablets?|pills?|caps?|capsules?|cups?|glass(?:es)?|bottles?|"
    r"cans?|packs?|ppd|teaspoons?|tsp|tablespoons?|tbsp|doses?|strength|ns|normal[ \t]+saline|hours?|hrs?|"
    r"minutes?|mins?|days?|weeks?|wks?|months?|mos?|years?|yrs?|year-old|years-old|y/?o|times|breaths?|"
    r"french|fr|gauge|trocars?|ports?|cannulas?|cannulae|sheaths?|of[ \t]+(?:an?|the|one)[ \t]+\p{L}+|"
    r"way|full|rate|volume)"
)
_UNIT_AFTER = re.compile(
    rf"(?:th|ths|rd|rds|nd|nds)?[ \t]*-?\s*(?:(?:-|to)[ \t]*\d+(?:\.\d+)?(?:[ \t]+\d/\d+)?[ \t]*-?\s*)?"
    rf"(?i:{_UNIT})(?![\p{{L}}\d])"
)
_ORDINAL_AFTER = re.compile(r"(?i:th|ths)(?![\p{L}\d])")
# The whole part of a mixed number joined by "and": "39 and 1/7th", "10-and-4/12-year-old".
_AND_BEFORE = re.compile(r"(?<![\d/.:,-])\d{1,3}(?:[ \t]+and[ \t]+|[ \t]*-[ \t]*and[ \t]*-[ \t]*)$")
# A range of numerators over one denominator: "6-7/10", "4+-5/5", "3 to 4/10" (a date range repeats the
# month: "7/22-7/24").
_NUMERATOR_RANGE_BEFORE = re.compile(r"(?<![\d/.:])(?P<low>\d{1,2})[+-]?[ \t]*(?:-|to)[ \t]*$")
# A grade's sign: "4+/5", "-5/5", "+4/5", "4/4-,", "2+/2+" (a date has none; a trailing "-" before a digit
# or a word is a range or a label: "7/22-7/24", "9/7-ADMITTED").
_SIGN_BEFORE = re.compile(r"(?:^|(?<=[\s(,:;]))[+-]$")
_SIGN_AFTER = re.compile(r"\+(?!\d)|-(?=[ \t]*[,;)/]|[ \t]*$)", re.MULTILINE)

# What a small grade (both numbers 5 or less) is given for in an examination: strength, reflexes, pulses,
# by muscle, movement or reflex site, or how it spreads ("hip flexion 4/5", "1/1 at Achilles", "pulses are
# 2/4", "5/5 throughout"). Classes of anatomy and examination, not phrases of a note.
_EXAM = frozenset(
    """strength str motor power mmt grip grips pinch muscle muscles flexion extension abduction adduction
    rotation dorsiflexion plantarflexion eversion inversion pronation supination elevation depression
    protraction retraction flexors extensors abductors adductors rotators dorsiflexors plantarflexors evertors
    invertors pronators supinators deltoid deltoids biceps triceps quadriceps quads quad hamstring hamstrings
    iliopsoas psoas gluteus gluteal glutes gastrocnemius gastroc gastrocs soleus tibialis peroneus peronei
    peroneal peroneals interossei intrinsics lumbricals ehl fhl edc brachioradialis trapezius traps
    supraspinatus infraspinatus rhomboids pectoralis pecs reflex reflexes dtr dtrs jerk jerks patella patellae
    patellar patellars achilles achilles' pulse pulses radial radials femoral femorals popliteal popliteals
    pedal pedals dorsalis pedis tibial brachial brachials carotid carotids proximal proximally distal distally
    symmetric symmetrical symmetrically throughout globally grossly mae""".split()
)
# Limbs and sides: a grade's place in an examination, but also where a line or a drain was placed on a
# date ("PICC 2/3 L arm"): they make a grade of a strength's x/5, or beside an examination word in the clause.
_LIMB = frozenset(
    """ankle ankles knee knees extremity extremities ue le ues les bue ble bues bles rue lue rle lle arm arms
    leg legs hip hips foot feet toe toes shoulder shoulders elbow elbows wrist wrists hand hands finger
    fingers forearm forearms thigh thighs upper lower left right bilateral bilaterally bilat side sides""".split()
)
# What a score out of ten is given for: pain and its kin, a level or a scale ("pain 7/10", "6-7/10 at
# rest", "10/10 for worst pain", "rated 4/10").
_SCALE = frozenset(
    """pain pains painful ache aches aching discomfort tenderness headache headaches cramp cramps cramping
    soreness burning level levels scale scales severity intensity rated rates rating ratings score scores
    scored scoring worst best least average vas nrs nausea anxiety dyspnea fatigue itching""".split()
)
# Scored instruments and findings of any denominator: a murmur's grade, an Apgar or a biophysical profile,
# a prostate's Gleason grading, an acuity ("grade 2/6 murmur", "BPP 8/8", "vision 6/9").
_SCORED = frozenset(
    """grade graded grades murmur murmurs systolic diastolic holosystolic pansystolic ejection sem rub
    gallop apgar apgars bpp biophysical profile afi amniotic gleason gleason's acuity vision visual va snellen
    corrected uncorrected pinhole gcs mmse moca nihss recall recalled registration registered objects words
    items""".split()
)
# The heads a grade names right after it ("2/6 murmur", "5/5 strength", "2/4 pulses"): they outweigh a
# date's cue before it.
_HEAD_AFTER = frozenset(
    """murmur murmurs systolic diastolic holosystolic pansystolic ejection sem strength power motor pulse
    pulses reflex reflexes dtrs""".split()
)
# Counted things after a fraction (a share of a sample): "1/5 lymph nodes", "2/12 cores positive", "3/3
# objects"; up to two modifiers between ("lymph", "positive").
_COUNTED = frozenset(
    """node nodes cores core biopsies biopsy specimens specimen samples sample fragments slides blocks
    margins objects object items words digits trials attempts bottles sets vessels quadrants lesions polyps
    stones""".split()
)
_COUNT_MODIFIERS = frozenset(
    "lymph positive negative involved benign malignant sampled examined removed of the".split()
)
# Lab analytes reported as a pair: "H&H 10/32", "Hgb/Hct of 9/28", "BUN/Cr 20/1" (a pair of values).
_ANALYTES = frozenset(
    """h hemoglobin hematocrit hgb hct hb bun cr creat creatinine na k cl co2 hco3 ca mg phos plt plts
    platelets wbc ast alt ldl hdl chol tg t tmax sys dia sbp dbp""".split()
)
_PAIR_LABEL_BEFORE = re.compile(
    r"(?P<a>\p{L}[\p{L}\d]*)[ \t]*(?:/|&|\band\b)[ \t]*(?P<b>\p{L}[\p{L}\d]*)"
    r"[ \t]*(?:[:=]|(?i:of|is|was|were|are|at|now|today))?[ \t:]*$"
)
# Mixtures: "9/1 mixture", "a 1/1 mix" (parts by volume).
_MIXTURE_AFTER = re.compile(r"[ \t]*(?i:mixture|mix|mixed|ratio|dilution|solution)\b")
_CLAUSE_END = re.compile(r"[.;!?](?:\s|$)|\n[ \t]*\n")


# Two month/days joined as a span of days: "7/22-7/24", "2/1 to 2/3", "12/30->1/2".
_RANGE_NEXT = re.compile(r"[ \t]*(?:-+>?|to|thru|through)[ \t]*(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/])")
_RANGE_PREV = re.compile(r"(?<![\d/.])(?P<m>\d{1,2})/(?P<d>\d{1,2})[ \t]*(?:-+>?|to|thru|through)[ \t]*$")


def _days_in_order(m1: int, d1: int, m2: int, d2: int) -> bool:
    """(m1, d1) then (m2, d2) a few weeks later at most: the same month and a later day, or the next month
    and an earlier day. A score's range repeats its denominator instead ("4/10-6/10")."""
    if not (1 <= m1 <= 12 and 1 <= m2 <= 12 and 1 <= d1 <= 31 and 1 <= d2 <= 31):
        return False
    return (m1 == m2 and d1 < d2) or (m2 == m1 % 12 + 1 and d2 < d1)


def date_range_member(text: str, start: int, end: int) -> bool:
    """The d/d at [start, end) is one end of a range of month/days ("vanco 08/09-08/10").

    >>> date_range_member("vanco 8/9-8/10, off", 6, 9), date_range_member("vanco 8/9-8/10, off", 10, 14)
    (True, True)
    >>> date_range_member("pain 4/10-6/10", 5, 9), date_range_member("ps 10/5 to 8/5", 3, 7)
    (False, False)
    """
    m = _FRACTION.fullmatch(text, start, end)
    if m is None or "+" in m.group():
        return False
    a, b = int(m.group("n")), int(m.group("d"))
    nxt = _RANGE_NEXT.match(text, end)
    if nxt is not None and _days_in_order(a, b, int(nxt.group("m")), int(nxt.group("d"))):
        return True
    prev = _RANGE_PREV.search(text, max(0, start - 16), start)
    return prev is not None and _days_in_order(int(prev.group("m")), int(prev.group("d")), a, b)


def fraction_class(text: str, start: int, end: int) -> str | None:
    """What the d/d at [start, end), read as a month/day, is instead: a "grade" (of strength, a reflex or a
    pulse), a "score" (pain out of ten, a murmur, an Apgar), a "count" (of nodes, of objects recalled), an
    "amount" (a size, a volume, a duration, a mixed number: "1/2 inch", "39 and 1/7th weeks",
    "10-and-4/12-year-old"), a "lab pair" ("H&H 10/32"), a "mixture"; or None (a date, or not known)."""
    m = _FRACTION.fullmatch(text, start, end)
    if m is None:
        return None
    num, den = int(m.group("n")), int(m.group("d"))
    if date_range_member(text, start, end):
        return None  # a span of days: "08/09-08/10" is two dates whatever score came before
    before = text[max(0, start - 60) : start]
    cue = _DATE_CUE_BEFORE.search(before) is not None or _event_before(before)
    # the grammar of the number itself: a sign, a range of numerators, a whole part, a unit after
    if num <= den <= 6 and (_SIGN_BEFORE.search(before) or _SIGN_AFTER.match(text, end) or "+" in m.group()):
        return "grade"
    # "36 and 4/7 weeks", "39 and 1/7th", "10-and-4/12": sevenths of a week, twelfths of a year
    if num < den and den in (7, 12) and _AND_BEFORE.search(before):
        return "amount"
    if num < den and _UNIT_AFTER.match(text, end):
        return "amount"
    if num < den and _ORDINAL_AFTER.match(text, end):
        return "amount"  # "5/6th", "in 1/6th of": a fraction read aloud (a date's day takes "the 6th")
    rng = _NUMERATOR_RANGE_BEFORE.search(before)
    if rng is not None and int(rng.group("low")) < num <= den and den in (4, 5, 10):
        lead = before[: len(before) - len(rng.group())]
        if den == 10 or not _DATE_CUE_BEFORE.search(lead):
            return "score"  # "6-7/10", "4+-5/5"
    if _MIXTURE_AFTER.match(text, end):
        return "mixture"
    pair = _PAIR_LABEL_BEFORE.search(before)
    if pair is not None and _analyte_pair(pair.group("a"), pair.group("b")):
        return "lab pair"
    after_words = _words_after(text, end, 4)
    if num <= den and _counted_after(after_words):
        return "count"
    near = _words_before(text, start, 4) + after_words
    if den == 10 and num <= 10:
        if after_words[:1] and after_words[0] in _SCALE:
            return "score"  # "7/10 pain", whatever came before
        if not cue and (
            any(w in _SCALE for w in _clause_words(text, start, end)) or _sibling(text, start, end, "score")
        ):
            return "score"
    if cue and not (after_words and after_words[0] in _HEAD_AFTER):
        return None  # "on 4/5", unless what it grades follows ("on 4/5 strength")
    if num <= 5 and den <= 5 and any(w in _EXAM for w in near):
        return "grade"
    limb = num <= 5 and den <= 5 and any(w in _LIMB for w in near)
    if limb and (den == 5 or any(w in _EXAM for w in _clause_words(text, start, end))):
        return "grade"  # "the left leg is 3/5", "reflexes: ... 2/2 in the legs"
    if num <= den and any(w in _SCORED for w in _clause_words(text, start, end)):
        return "score"  # no score is over its maximum
    if num <= 5 and den <= 5 and _sibling(text, start, end, "grade"):
        return "grade"  # "Reflexes: 2+/2+ BUE. 2/2 archilles": a list of grades
    return None


def _words_before(text: str, start: int, n: int) -> list[str]:
    lo = max(0, start - 50)
    ends = [e.end() for e in _CLAUSE_END.finditer(text, lo, start)]
    return [w.lower() for w in _WORD.findall(text, ends[-1] if ends else lo, start)][-n:]


def _words_after(text: str, end: int, n: int) -> list[str]:
    hi = min(len(text), end + 50)
    stop = _CLAUSE_END.search(text, end, hi)
    return [w.lower() for w in _WORD.findall(text, end, stop.start() if stop else hi)][:n]


def _clause_words(text: str, start: int, end: int) -> list[str]:
    """The words of the clause around the number, up to 60 characters either side."""
    return _words_before(text, start, 12) + _words_after(text, end, 10)


def _counted_after(words: list[str]) -> bool:
    for w in words[:3]:
        if w in _COUNTED:
            return True
        if w not in _COUNT_MODIFIERS:
            return False
    return False


def _analyte_pair(a: str, b: str) -> bool:
    """Two analytes ("Hgb/Hct", "BUN/Cr"), or one letter twice ("H&H"); no shorthand of two letters
    ("s/p", "f/u", "d/c" come before dates)."""
    a, b = a.lower(), b.lower()
    if len(a) == 1 and len(b) == 1:
        return a == b
    return a in _ANALYTES and b in _ANALYTES


_LINE_END = re.compile(r"[.;!?][ \t]*\n")


def _sibling(text: str, start: int, end: int, kind: str) -> bool:
    """An earlier fraction of the same sentence group (80 characters back, no blank line between) read as
    the same kind: the next item of a list of grades or a score's second reading ("pain 7/10, now 3/10")."""
    lo = max(0, start - 80)
    blank = text.rfind("\n\n", lo, start)
    lo = blank + 2 if blank >= 0 else lo
    # a sentence that ends its line ends the group: "PAIN 4/10.\nCATH 6/10: 3VD" dates the cath
    ends = [m.end() for m in _LINE_END.finditer(text, lo, start)]
    lo = ends[-1] if ends else lo
    for m in _FRACTION.finditer(text, lo, start):
        if m.end() < start and fraction_class(text, m.start(), m.end()) == kind:
            return True
    return False


# ---- legacy reading of a fraction (a measured thing named near it) ---------------------------------------
_MEASURED = re.compile(
    r"(?i:\b(?:grade[ds]?|score[ds]?|scoring|scale|rate[sd]?|rating|strength|power|murmurs?|reflex(?:es)?|dtrs?|"
    r"recall|objects|words|out of|gcs|mmse|moca|apgars?|motor|tone|acuity|vision|pupils?|prep|"
    r"difficulty|quality|inch|inches|diameter|ratio|dilution|titer|daily|bid|tid|qid|b\.i\.d|t\.i\.d|"
    r"q\.i\.d|tablets?|tabs?|mg)\b)"
)
_SCORE_BEFORE = re.compile(
    r"(?i:\b(?:about|approximately|measuring|measures|measured|as a|pain(?:[ \t]+(?:score|level|scale|rating))?"
    r"(?:[ \t]+(?:of|at|is|was))?)[ \t:]*$)"
)
_SCORE_AFTER = re.compile(r"[ \t]*(?i:(?:th|ths|rd|rds|nd|nds)?[ \t-]*(?:inch|inches|in\.|cm|mm|of an inch)\b)")
_LEGACY_CLAUSE_END = re.compile(r"[.;]\s|\n\s*\n")


def fraction_not_date(text: str, start: int, end: int, siblings: bool = True) -> bool:
    """A bare d/d that fraction_class reads as a grade, a score, a count, an amount or a lab pair; or, with
    no date word before it, that a measured thing stands near in its clause (a grade, a strength, reflexes,
    pupils, a dose) or a size in inches follows, or a pain score stands right before it ("grade 2/6", "5/5
    motor strength", "7/8 inch", "2/3 recall", "Lotrel 10/20 daily", "pain 7/10"), or a fraction of the same
    denominator so judged comes before it in the clause ("pain 7/10, now 3/10")."""
    if _FRACTION.fullmatch(text, start, end) is None or date_range_member(text, start, end):
        return False
    if siblings and fraction_class(text, start, end) is not None:
        return True
    before = text[max(0, start - 60) : start]
    if _DATE_CUE_BEFORE.search(before) is not None or _event_before(before):
        return False  # "removed 10/10": a date word or an event's participle dates it
    if _SCORE_AFTER.match(text, end) is not None or _SCORE_BEFORE.search(text, max(0, start - 25), start):
        return True
    lo = max(0, start - 40)
    before = [m.end() for m in _LEGACY_CLAUSE_END.finditer(text, lo, start)]
    lo = before[-1] if before else lo
    after = _LEGACY_CLAUSE_END.search(text, end, min(len(text), end + 30))
    hi = after.start() if after else min(len(text), end + 30)
    if _MEASURED.search(text, lo, start) or _MEASURED.search(text, end, hi):
        return True
    # a score's second reading in the clause: "pain 7/10, improved to 3/10"
    denominator = text[start:end].split("/")[1]
    return siblings and any(
        fraction_not_date(text, m.start(), m.end(), siblings=False)
        for m in re.compile(rf"(?<![\d/])\d{{1,2}}\+?/{denominator}(?![\d/])").finditer(text, lo, start)
    )


# ---- numbers read as a ZIP, an ID, a phone or an address ----------------------------------------------
# A five-digit number is a ZIP only after a town or state, or a ZIP label.
_ZIP_PLACE_BEFORE = re.compile(
    r"(?:\p{Lu}\p{L}+|\b\p{Lu}{2})[ \t.,]*$|(?i:zip|postal|post code|postcode)\b[^\n]{0,15}$"
)
_CODE_LIST = re.compile(r"(?<![\d-])\d{5}[ \t]*[,;][ \t]*\d{5}(?![\d-])")
_CODE_CONTEXT = re.compile(r"(?i:\b(?:code|codes|cpt\d?|icd|procedure|billing|modifier)\b)")


def code_not_zip(text: str, start: int, end: int) -> bool:
    """A five-digit number with no town, state or ZIP label before it, in a list of such numbers or
    beside a word for codes (CPT and procedure codes: "(63075, 63076)")."""
    if not re.fullmatch(r"\d{5}", text[start:end]):
        return False
    if _ZIP_PLACE_BEFORE.search(text, max(0, start - 30), start) is not None:
        return False
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    return (
        _CODE_LIST.search(line) is not None
        or _CODE_CONTEXT.search(line) is not None
        or (text[max(0, start - 1) : start] == "(" and text[end : end + 1] in ");,")
    )


# The second term of a ratio to one: "1:50000", "1 : 200000" (a dilution, a titer; a clock has no hour 1
# with five digits after it).
_RATIO_BEFORE = re.compile(r"(?<![\d:.,])1[ \t]*:[ \t]*$")


def ratio_term(text: str, start: int, end: int) -> bool:
    """The number is the second term of a ratio: a dilution ("epinephrine 1:200000"), a titer."""
    return text[start:end][:1].isdigit() and _RATIO_BEFORE.search(text, max(0, start - 8), start) is not None


# A sequence's own numbering: images, slices, series and figures of a study ("image #1452", "series 3").
_SEQUENCE_BEFORE = re.compile(
    r"(?i:\b(?:images?|slices?|series|frames?|figures?|fig|cuts?|views?|sequences?|acquisitions?|clips?|"
    r"loops?|sections?)\.?)[ \t]*(?:(?i:no|number)\.?[ \t]*)?[#:]?[ \t]*$"
)


def sequence_number(text: str, start: int, end: int) -> bool:
    """A number after a word for an item of a study's sequence ("image #1452", "slice 32"): no record's."""
    return _SEQUENCE_BEFORE.search(text, max(0, start - 25), start) is not None


# A size before a product: a suture's or a catheter's after "#" ("#0 Vicryl", "#23 French"), a suture's
# gauge ("2-0 silk"), or a number with its unit ("100 cc Optiray", "18 gauge"): the number a house number was
# taken for. A bare number before a word is a house number's shape too ("541 Avenida ..."): not enough.
_SIZE_OPENS = re.compile(
    r"(?P<hash>#[ \t]*)?(?:\d{1,3}(?:\.\d+)?|(?P<gauge>\d-0))[ \t\n]*(?P<word>\p{L}[\p{L}-]*)"
)
_SIZE_UNITS = frozenset("french fr gauge ga cc ml mg mcg mm cm units percent inch inches".split())


def size_not_address(text: str, start: int, end: int, product: Callable[[str], bool]) -> bool:
    """An address that opens with a number and its unit ("100 cc Optiray", "23 French"), or with a size marked
    as one ("#0", "2-0") and a word `product` takes for a product's name ("#0 Vicryl"): no house number."""
    m = _SIZE_OPENS.match(text, start, end)
    if m is None:
        return False
    marked = m.group("gauge") or m.group("hash") or text[max(0, start - 1) : start] == "#"
    return m.group("word").lower() in _SIZE_UNITS or (bool(marked) and product(m.group("word")))
