"""The last word before a hit becomes PHI: a hit that is clinical language by its grammar or by a maintained
lexicon (an eponym before a clinical head noun, a drug, a product after its size, a section header, a score
or fraction read as a date, a procedure code read as a ZIP) is dropped, whatever recognizer made it."""

from collections.abc import Sequence
from functools import lru_cache

import regex as re

from deid.text.clinical_numbers import (
    code_not_zip,
    fraction_not_date,
    ratio_term,
    sequence_number,
    size_not_address,
)
from deid.text.clinical_values import (
    amount_with_unit,
    clipped_opener,
    clock_ranges,
    gcs_components,
    hyphen_panel,
    intake_output,
    log_entry_time,
    measure_name,
    measure_value,
    signed_value,
)
from deid.text.clock_times import clock_not_year
from deid.text.date_elements import not_a_date
from deid.text.lexicon import STATE_CODES
from deid.text.nursing_guard import COUNT_OR_FREQUENCY, nursing_reason
from deid.text.operative_words import eponym_stage, family_word, instrument_in_use
from deid.text.possessive_names import DISEASE_HEADS, persons_possessive

# Hits that stand whatever their text looks like: the subject's own record says they are PHI.
_ALWAYS = frozenset({"known"})
# Labels whose surrogate is a word (a name, a place): the ones clinical words are mistaken for.
_WORDY = frozenset({"NAME", "LOCATION", "FACILITY", "ORGANIZATION"})

# Heads of eponymous terms: a capitalised word right before one of these names a disease, a sign, a test,
# an instrument or a procedure after a person ("Tinel sign", "Jackson-Pratt drain", "Austin osteotomy"), not
# a person in the note. Classes of clinical nouns, not names: what is named after someone in medicine.
_HEADS = frozenset(
    """disease diseases syndrome syndromes sign signs score scores scale scales criteria criterion test tests
    testing maneuver maneuvers manoeuvre reflex reflexes phenomenon palsy ulcer fracture fractures
    classification classifications rule rules procedure procedures operation operations repair index triad law
    effect disorder anomaly malformation contracture node nodes block stain pouch lesion lesions nodule
    nodules murmur cyst cysts canal duct ducts ligament tubercle fascia gland glands membrane capsule angle
    position positioning incision approach technique method protocol regimen dressing splint cast brace
    bandage stocking stockings boot drain drains tube tubes catheter catheters cannula needle needles clamp
    clamps forceps retractor retractors scissors elevator elevators rongeur rongeurs curette curettes dilator
    dilators hook hooks knife blade blades saw burr burrs drill retractors speculum scope mask valve valves
    shunt shunts stent stents graft grafts plate plates screw screws nail nails pin pins wire wires rod rods
    suture sutures stitch stitches mesh pump filter filters balloon device monitor hose gag cage cages
    apparatus hemostat knot knots wedge sponge sponges packing solution formula equation view views projection
    staging grading stage grade type variant osteotomy bunionectomy fundoplication anastomosis tenodesis
    arthroplasty tendon tendons muscle muscles nerve nerves artery arteries vein veins bone bones joint joints
    fossa foramen sinus lobe lobes collar stand roll wand punch punches scalpel cautery electrocautery sheath
    spoon tongs tourniquet diet respiration respirations breathing breaths angina diverticulum diverticula tear
    tears gangrene hernia aneurysm abscess fistula esophagus dementia chorea ataxia point belt belts sump bag
    bags reservoir introducer mattress restraint restraints boots sling traction pulse pulses wave waves spot
    spots crunch rub gait class classes resp""".split()
)
# Heads that are ordinary English nouns as well ("line", "table", "exam", "survey"): read as heads of an
# eponym only in a clinical text ("<Name> Van Lines" is a company).
_PLAIN_HEADS = frozenset(
    """line lines space triangle circle loop tetralogy probe probes holder holders frame frames scissor
    applicator applicators dissector dissectors tenaculum clip clips ring rings tape tapes pledget pledgets
    fixator headrest loupe loupes tip tips lens fashion table attachment silk gauze pad pads wrap inventory
    inventories battery batteries questionnaire questionnaires assessment assessments examination exam edition
    pegboard task tasks checklist survey subtest subtests""".split()
)
# Heads that name a standardised instrument of assessment: anywhere in a capitalised run after its first word
# they make the run a test's title ("<Name> Developmental Test of <Skill>", "<Name> Scale for <Trait>").
_INSTRUMENT_HEADS = frozenset(
    """test tests scale scales inventory inventories battery questionnaire assessment examination exam
    edition pegboard subtest index criteria classification score guide guides fluency comprehension
    system""".split()
)
# Word endings that make a noun a procedure, an imaging study or a condition ("-ectomy", "-itis").
_HEAD_ENDINGS = ("ectomy", "otomy", "ostomy", "plasty", "pexy", "rrhaphy", "scopy", "graphy", "gram", "itis",
                 "osis", "opathy", "oma", "omas", "plasia", "algia", "emia", "uria", "scope", "scopes",
                 "otome", "otomes")  # fmt: skip
# The words after a span: its head noun, maybe after "-type", a modifier ("soft mesh"), or a coordinated
# second eponym ("Weber and Rinne tests").
_AFTER_SPAN = re.compile(
    r"(?:['’][sS])?(?:-?\s*(?:type|style|like)\b)?[ \t]*\n?[ \t]*(\p{L}[\p{L}-]*)"
    r"(?:[ \t]*\n?[ \t]*(\p{L}[\p{L}-]*)(?:['’][sS])?)?(?:[ \t]*\n?[ \t]*(\p{L}[\p{L}-]*))?"
)
# A title or a relative right before a name makes it a person whatever follows ("Dr. Austin", "wife Ella").
_CUE_BEFORE = re.compile(
    r"(?i:\b(?:dr|doctor|mr|mrs|ms|miss|mx|prof|professor|nurse|sister|rn|np|pa|md)\.?"
    r"|\b(?:wife|husband|spouse|partner|son|daughter|mother|father|sister|brother|aunt|uncle|friend|niece|"
    r"nephew|cousin|granddaughter|grandson|grandmother|grandfather|named|name))[ \t,:]*$"
)
# A size or a count right before a capitalised word makes it a product: "4-0 Vicryl", "16-mm Contegra",
# "#10 Jackson-Pratt", "a 2.5 French Cook".
_SIZE_BEFORE = re.compile(
    r"(?:\b\d+-0|#\s?\d+|\b\d+(?:\.\d+)?[ \t-]*(?i:mm|cm|fr|french|gauge|g|ga|mg|mcg|ml|cc|%|inch)"
    r"|\b\d{1,2}(?:\.\d+)?[ \t-]*(?i:in))"  # "2 in", never a year before "in"
    r"(?:[ \t]+\p{Ll}+){0,2}[ \t]+$"
    r"|(?:\b\d+-0|#\s?\d+-0)[ \t]*\n[ \t]*$"  # a suture's size ends the line before its name
)
_MEASURE_AFTER = re.compile(
    r"(?:[ \t]+\p{L}[\p{L}-]*){0,2}[ \t]*[:=]?[ \t]*\(?\d+(?:[.,]\d+)?[ \t]*(?i:mg|mcg|µg|ug|g|kg|ml|l|units?|u|"
    r"iu|meq|mmol|µmol|umol|ng|pg|%|tabs?|tablets?|caps?|puffs?|mm|cm|bpm|mmhg)(?![\p{L}])"
)
# A dose right after a word: an amount with its unit, or a combination strength with a form or frequency
# ("Lotrel 10/20 one tablet daily", "Percocet 5/325 q.4h."): what follows a drug, never a person.
_DOSE_AFTER = re.compile(
    r"[ \t]+\d+(?:\.\d+)?(?:[ \t]*(?i:mg|mcg|µg|g|ml|units?|meq|%)\b"
    r"|/\d+(?:\.\d+)?[ \t]+(?i:(?:one|two|half|\d)[ \t]+)?"
    r"(?i:tabs?|tablets?|caps?|capsules?|daily|once|twice|b\.?i\.?d|t\.?i\.?d|q\.?i\.?d|q\.?\d+h|p\.?o|mg)\b)"
)
# A header: the span opens its line and a colon closes it ("IMMUNIZATIONS:", "Diagnostic & Lab Orders:").
_HEADER_AFTER = re.compile(r"[ \t]*:")
_LINE_START_BEFORE = re.compile(r"(?:^|\n)[ \t]*(?:[\dIVX]+[.)][ \t]*)?$")
_WORDS = re.compile(r"\p{L}[\p{L}'’-]*")


@lru_cache(maxsize=1)
def drug_names() -> frozenset[str]:
    """Lower-case one-word drug names and brands of the drug-named-entity-recognition package's dictionary
    (DrugBank, MedlinePlus, Wikipedia: about 100,000 variants), less the common given names and surnames of
    our name lexicon ("Allegra" is both): those need a dose after them. Empty when the package is absent."""
    import bz2
    import importlib.util
    import pickle
    from pathlib import Path

    from deid.text.lexicon import FIRST_NAMES, SURNAMES

    # found without importing the package: its import loads the dictionary and more (tens of seconds)
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = Path(next(iter(spec.submodule_search_locations))) / "drug_ner_dictionary.pkl.bz2"
    if not path.exists():
        return frozenset()
    with bz2.open(path, "rb") as f:
        data = pickle.load(f)  # the package's own shipped dictionary, read as its loader reads it
    names = {v for v in data.get("drug_variant_to_canonical", {}) if v.isalpha() and len(v) >= 4}
    return frozenset(names - frozenset(FIRST_NAMES) - frozenset(SURNAMES))


def clinical_head(word: str, plain: bool = False) -> bool:
    """A noun that heads a clinical term named after someone: a sign, a test, an instrument, a procedure;
    with `plain`, the ordinary nouns that do so in a clinical text too."""
    low = word.lower().strip("-")
    return low in _HEADS or (plain and low in _PLAIN_HEADS) or (len(low) >= 6 and low.endswith(_HEAD_ENDINGS))


def eponym_before_head(text: str, start: int, end: int) -> bool:
    """The span is followed by a clinical head noun, maybe after one modifier ("Jackson-Pratt drain", "Bruce
    protocol", "Austin-type bunionectomy", "Prolene soft mesh"), or ends in one itself ("Synthes Small
    Stature Plate"), and no title or relative stands before it."""
    from deid.text.patterns import FACILITY_WORDS

    if _cued(text, start) or persons_possessive(text, start, end):
        return False
    plain = clinical_text(text)  # ordinary nouns and test titles count as heads in a clinical text only
    of = _HEAD_OF_BEFORE.search(text, max(0, start - 30), start) if plain else None
    if of is not None and clinical_head(of.group(1), plain):
        return True  # "the line of <Name>", "tetralogy of <Name>": an eponym after its head noun
    if _TRIPLE_EPONYM.fullmatch(text[start:end].removesuffix("'s")) and not _place(text[start:end]):
        return True  # "<Name>-<Name>-<Name>": a syndrome named after three people, no one's own name
    if (joined := _HYPHENATED.match(text, end)) is not None:
        end = joined.end()  # "<Name>-<Name> drain": the hit is the first half of a double eponym
    words = _WORDS.findall(text, start, end)
    if (
        len(words) > 1
        and (clinical_head(words[-1], plain) or clinical_head(words[-1].rsplit("-", 1)[-1], plain))
        and not _place(text[start:end])
    ):
        return True  # "<Name> Small Stature Plate", "<Place> T-tube"; a town whose name ends in one stays
    if text[start:end].isupper() or not plain:
        pass  # in an ALL-CAPS line every word looks like a title's: only the head right after counts
    elif any(w.lower() in FACILITY_WORDS - {"system"} for w in words):
        pass  # "<Name> Health System", "<Name> Medical Center": a facility, whatever heads it
    elif any(w.lower() in _INSTRUMENT_HEADS for w in words[1:]):
        return True  # "<Name> Developmental Test of <Skill>", "<Name> Scale for <Trait>"
    elif (
        (run := _CAPITALISED_RUN.match(text, end)) is not None
        and any(w.lower().rstrip(",") in _INSTRUMENT_HEADS for w in run.group().split())
        and not any(w.lower().rstrip(",") in FACILITY_WORDS - {"system"} for w in run.group().split())
    ):
        return True  # "<Name> Auditory-Verbal Learning Test", "<Name> Pegboard": the title runs on to its head
    m = _AFTER_SPAN.match(text, end)
    if m is None:
        return False
    first, second, third = m.groups()
    if "\n" in text[end : m.start(1)] and not first.islower():
        return False  # a capitalised word on the next line starts something else (an address line)
    if clinical_head(first, plain) and not _LABEL_AFTER.match(text, m.end(1)):
        return True  # "cell#", "home:" label a number, no eponym
    if first.islower() and first not in _FUNCTION and second is not None and clinical_head(second, plain):
        return True  # "Prolene soft mesh", "Bovie cautery tip"
    if len(first) == 1 and first.isupper() and second is not None and clinical_head(second, plain):
        return True  # "<Name> J collar", "<Name> T tube": a letter for the device's shape before its head
    if (named := _SECOND_NAME_HEAD.match(text, end)) is not None and named.group(1).lower() in DISEASE_HEADS:
        return True  # "<Name> <Name>'s disease": a disease named after one person, the span the given name
    # "Weber and Rinne tests": a second capitalised name before the head noun, after and/or
    return (
        first.lower() in ("and", "or")
        and second is not None
        and second[:1].isupper()
        and (third is not None and clinical_head(third, plain))
    )


# A second capitalised name in the possessive, then the head noun of a disease or a sign ("<Given> <Surname>'s
# disease"); the heads a person's own belongings never take.
_SECOND_NAME_HEAD = re.compile(r"[ \t]+\p{Lu}\p{L}+['’][sS][ \t]+(\p{L}+)")
# Three capitalised names joined by hyphens (a syndrome named after three people); a place's particles ("-de-",
# "-sur-") are too short or listed.
_TRIPLE_EPONYM = re.compile(r"\p{Lu}\p{L}{2,}(?:-(?!(?i:des|les|sur|del|von|van|der|den)-)\p{Lu}\p{L}{2,}){2,}")
_HEAD_OF_BEFORE = re.compile(r"(\p{L}+)[ \t\n]+of[ \t\n]+$")
_HYPHENATED = re.compile(r"-\p{Lu}\p{Ll}+(?:['’]s)?(?![\p{L}-])")
# The capitalised words that continue a span on its line (a title of several words: "Minnesota Multiphasic
# Personality Inventory"), up to five.
_CAPITALISED_RUN = re.compile(r"(?:[ \t]+(?:of|for|the|and|&)?[ \t]*\p{Lu}[\p{L}'’-]*,?){1,5}")
# After a head noun, what makes it a label (a head noun followed by "#" or ":" then a value), not a thing named
# after someone.
_LABEL_AFTER = re.compile(r"[ \t]*[#:]")
# Words between a name and a clinical noun that end the name's phrase (<Name> Hospital for <condition>).
_FUNCTION = frozenset("for to with from at in on of by and or after before since per via".split())


# "Status post" and "s/p" take what was done or what happened: a capitalised word right after is a procedure
# named after someone ("status post <Name>", "s/p <Name>"), never a person or a place.
_STATUS_POST_BEFORE = re.compile(r"(?i:\b(?:status[ \t]+post|s/p))[ \t:]*$")


def procedure_after_status_post(text: str, start: int, end: int) -> bool:
    """The span (one or two words) follows "status post" or "s/p" directly."""
    return (
        len(_WORDS.findall(text, start, end)) <= 2
        and _STATUS_POST_BEFORE.search(text, max(0, start - 16), start) is not None
    )


# A surgical verb of handling takes its material or instrument after "with" or "using": what a field
# was prepped or a wound closed with is a product ("prepped with <Brand>", "closed using <Brand>", "grasped
# with the <Name>"); a person helps ("with the assistance of"), is never the means.
_HANDLING_BEFORE = re.compile(
    r"(?i:\b(?:prepped|prepared|draped|dressed|covered|closed|irrigated|packed|sutured|secured|grasped|"
    r"retracted|cauterized|coagulated|fulgurated|anchored|cleansed|cleaned|washed|scrubbed|wrapped|padded|"
    r"splinted|bandaged|approximated|reapproximated|injected|infiltrated|sealed|filled|treated|dissected|"
    r"incised|divided|excised|removed|elevated|exsanguinated|reinforced|stapled|ligated|clamped|tied)"
    r"(?:[ \t\n]+\p{Ll}+ly)?[ \t\n]+(?:with|using)(?:[ \t\n]+(?:the|a|an|some|copious))?)[ \t\n]+$"
)


def material_after_handling(text: str, start: int, end: int) -> bool:
    """The span (one or two words) is what a surgical verb of handling was done with: a product, an
    instrument."""
    return (
        len(_WORDS.findall(text, start, end)) <= 2
        and _HANDLING_BEFORE.search(text, max(0, start - 50), start) is not None
    )


def _cued(text: str, start: int) -> bool:
    return _CUE_BEFORE.search(text, max(0, start - 30), start) is not None


def drug_span(text: str, start: int, end: int) -> bool:
    """Every word of the span is a drug name of the dictionary, or a dose follows it."""
    words = [w.lower().removesuffix("'s").removesuffix("’s") for w in _WORDS.findall(text, start, end)]
    if not words:
        return False
    drugs = drug_names()
    if any(w in drugs for w in words) and all(w in drugs or _form_suffix(w, text, start, end) for w in words):
        return True  # "Septra DS", "Toprol XL": a drug and its formulation
    if _MEASURE_AFTER.match(text, end) is not None and any(w in drugs for w in words):
        return True
    if len(words) == 1 and _in_parentheses_with_drug(text, start, end, drugs):
        return True  # "<Brand> (<generic>)", "<generic> (<Brand>)": a drug's other name
    return len(words) == 1 and _DOSE_AFTER.match(text, end) is not None and not _common_name(words[0])


# A drug's other name in parentheses after it, or the span in parentheses after a drug.
_PARENTHESISED_AFTER = re.compile(r"[ \t]*\([ \t]*(\p{L}[\p{L}-]*)[ \t]*\)")
_DRUG_OPENS_BEFORE = re.compile(r"(\p{L}[\p{L}-]*)[ \t]*\([ \t]*$")


def _in_parentheses_with_drug(text: str, start: int, end: int, drugs: frozenset[str]) -> bool:
    after = _PARENTHESISED_AFTER.match(text, end)
    if after is not None and after.group(1).lower() in drugs:
        return True
    before = _DRUG_OPENS_BEFORE.search(text, max(0, start - 30), start)
    closes = re.match(r"[ \t]*\)", text[end:]) is not None
    return before is not None and before.group(1).lower() in drugs and closes


def drug_phrase(text: str, start: int, end: int) -> bool:
    """The span opens with a drug of the dictionary (no common name) and runs on over shorthand and English
    words only ("<Drug> x1 for agitation", "<Drug> per ID", "<Drug> d/c'd"): what is done with a drug."""
    from deid.text.lexicon import NURSING_ACRONYMS
    from deid.text.vocabulary import name_lexicon, shorthand_token
    from deid.text.words import known_word

    words = re.findall(r"[\p{L}\d][\p{L}\d/'’-]*", text[start:end])
    if len(words) < 2 or words[0].lower() not in drug_names() or _common_name(words[0].lower()):
        return False
    rest = [w.lower() for w in words[1:]]
    return all(
        w in NURSING_ACRONYMS
        or shorthand_token(w)
        or COUNT_OR_FREQUENCY.fullmatch(w)
        or (known_word(w) and not name_lexicon(w))
        or len(w) == 1
        for w in rest
    )  # a name after the drug ("<Drug> <Surname>") keeps the span


def _form_suffix(low: str, text: str, start: int, end: int) -> bool:
    """A formulation suffix after a drug name: two or three capitals ("DS", "XL", "ER")."""
    return len(low) <= 3 and re.search(rf"\b{re.escape(low.upper())}\b", text[start:end]) is not None


def _common_name(low: str) -> bool:
    from deid.text.lexicon import FIRST_NAMES, SURNAMES

    return low in FIRST_NAMES or low in SURNAMES


def product_after_size(text: str, start: int) -> bool:
    """A size, gauge or count right before it: a suture, an implant, a catheter ("4-0 Vicryl"), or the
    span opens with the size's unit after its number ("an 18-French <Name>")."""
    if _SIZE_BEFORE.search(text, max(0, start - 30), start) is not None:
        return True
    return _UNIT_OPENS.match(text, start) is not None and re.search(r"\d[ \t-]*$", text[max(0, start - 4) : start])


_UNIT_OPENS = re.compile(r"(?i:french|fr|gauge)\b")


def section_header(text: str, start: int, end: int) -> bool:
    """The span opens its line, a colon follows, and its words are vocabulary (a note's section title)."""
    from deid.text.vocabulary import all_clinical

    return (
        _LINE_START_BEFORE.search(text, max(0, start - 12), start) is not None
        and _HEADER_AFTER.match(text, end) is not None
        and all_clinical(text[start:end], misspellings=False)
        and (
            text[start:end].isupper()
            or len(words := _WORDS.findall(text, start, end)) > 1
            or _shorthand_header(words[0])  # "Gtts:", "Lytes:": shorthand no one is named
        )  # "Vinka:" is a speaker
    )


def _shorthand_header(word: str) -> bool:
    """A header word that is shorthand by its letters (no vowel: "Gtts") or a measure's name ("Lytes")."""
    from deid.text.clinical_values import measure_word

    letters = word.lower()
    return measure_word(letters) or (len(letters) >= 2 and not set(letters) & set("aeiouy"))


# Word endings of medical terms (procedures, studies, organisms, specialties, conditions): a lone word that
# ends so is no one's name ("Colonoscopy", "Staphylococcus", "Hematology", "Postanesthesia").
_TERM_ENDINGS = (*_HEAD_ENDINGS, "coccus", "cocci", "bacter", "ology", "ologist", "iatrics", "iatric", "esthesia",
                 "ectomies", "otomies", "scopies", "ograms")  # fmt: skip
# A hospital's generic departments: capitalised dictionary words ending in one of these ("Intensive Care
# Unit", "Operating Room", "Postanesthesia Care Unit") name a kind of place in every hospital.
_DEPARTMENT_AFTER = re.compile(
    r"(?:[ \t]*\n?[ \t]*\p{Lu}\p{Ll}+){0,2}[ \t]*\n?[ \t]*"
    r"(?:Unit|Units|Room|Rooms|Department|Floor|Ward|Suite|Suites|Nursery)\b"
)
_DEPARTMENT_ENDS = re.compile(
    r"(?:\A|[ \t\n])(?:Unit|Units|Room|Rooms|Department|Floor|Ward|Suite|Suites|Nursery)\Z"
)

# Redaction placeholders: a text de-identified before us writes a removed name or place as a run of X's
# ("X", "XXX", "Xxxxx") or of the alphabet's first or last letters in order ("ABC", "ABCD", "XYZ").
_PLACEHOLDER = re.compile(r"(?i:x+|abcd?e?f?|xyz)")


def placeholder(text: str, start: int, end: int) -> bool:
    """The span's proper part is a redaction placeholder: each word is one ("Dr. X", "Mr. XYZ") or a generic
    word of a facility's name around one ("ABCD General Hospital", "XYZ Medical Center"); nothing is left
    to hide. A lone letter other than X ("Dr. B") may be a real initial and stands."""
    from deid.text.patterns import FACILITY_WORDS

    words = [w.removesuffix("'s").removesuffix("’s") for w in _WORDS.findall(text, start, end)]
    held = [w for w in words if _PLACEHOLDER.fullmatch(w) and (w.isupper() or w[1:].islower())]
    return bool(held) and all(w in held or w.lower() in FACILITY_WORDS for w in words)


# A brand's shape: a capital inside a word after a lower-case letter, joining two parts of at least two
# letters ("DuraSeal", "NexGen", "InterStim"); names written so start with a particle ("McDonald",
# "DeShawn", "LaToya", "MacArthur", "VanBuren", "O'Neil" has no lower-case letter before its capital).
_INNER_CAPITAL = re.compile(r"\p{Lu}\p{Ll}+\p{Lu}\p{Ll}+")
_NAME_PARTICLE = re.compile(r"(?:Mc|Mac|De|Di|Da|Du|La|Le|Van|Von|Vander|Ver|St|Fitz|Ben|Al|El)\p{Lu}")


def brand_shape(text: str, start: int, end: int) -> bool:
    """One word of two capitalised parts joined without a space, the first no name particle: a product."""
    from deid.text.lexicon import FIRST_NAMES
    from deid.text.vocabulary import name_lexicon

    words = _WORDS.findall(text, start, end)
    if len(words) != 1 or _INNER_CAPITAL.fullmatch(words[0].removesuffix("'s")) is None:
        return False
    word = words[0].removesuffix("'s")
    parts = re.findall(r"\p{Lu}\p{Ll}+", word)
    return (
        _NAME_PARTICLE.match(word) is None
        and not name_lexicon(word.lower())
        and not any(part.lower() in FIRST_NAMES for part in parts)  # "JoAnn", "MaryBeth"
    )


# A list item: a comma, "and" or "or" (or the clause's edge) on both sides of the span.
_ITEM_BEFORE = re.compile(r"(?:,|\band|\bor|^|\n|:)[ \t\n]*(?:and[ \t\n]+|or[ \t\n]+)?$")
_LIST_CLAUSE = re.compile(r"[^.;:\n]*(?:\n(?!\s*\n)[^.;:\n]*)*")
_ITEM_SPLIT = re.compile(r"\s*(?:,|\band\b|\bor\b)\s*")


def listed_with_supplies(text: str, start: int, end: int) -> bool:
    """The span is an item of a list in its clause (or opens one), and two other items at least are clinical
    by their words alone: a drug of the dictionary, vocabulary no English dictionary or name lexicon has,
    shorthand with a digit, a test's title ("4x4s, <Word>, Kerlix and Coban", "<Name> Naming Test, <Name>
    Judgment of ..."): a supply or a test among others, not a person."""
    if _ITEM_BEFORE.search(text, max(0, start - 8), start) is None:
        return False
    lo = max(text.rfind(ch, 0, start) for ch in ".;:")
    lo = max(lo, text.rfind("\n\n", 0, start)) + 1
    clause = _LIST_CLAUSE.match(text, lo)
    hi = max(clause.end() if clause is not None else end, end)
    items = [i.strip() for i in _ITEM_SPLIT.split(text[lo:hi]) if i.strip()]
    from deid.text.vocabulary import name_evidence

    span = text[start:end]
    if not span[:1].isupper():
        return False  # supplies and tests are written with capitals; a note in lower case lists anything
    others = [i for i in items if i != span and not re.match(rf"{re.escape(span)} (?:\p{{Lu}}|of\b)", i)]
    if span in items and len(_WORDS.findall(span)) > 1 and name_evidence(span):
        return False  # "<Given> <Surname>" in apposition between commas is a person
    return len(others) < len(items) and sum(_supply(i) for i in others) >= 2


def _supply(item: str) -> bool:
    words = _WORDS.findall(item)
    if not words:
        return False
    drugs = drug_names()
    ends = {words[0]} if len(words) > 3 else set(words)  # a long item: the supply it opens with
    if len(words) > 1 and any(w.lower() in _INSTRUMENT_HEADS for w in words[1:]):
        return True  # "<Name> Naming Test": a test in a list of tests
    return any(w.lower() in drugs or _jargon_word(w) for w in ends) or (
        re.fullmatch(r"\d+[ \t]*x[ \t]*\d+s?", item) is not None
    )


# A lab value with its reference range ("210 (87-280"), or a row of a score table's ranges ("25-75 90-110
# 8-12"): the phone rule's digit groups, that no phone has (an ascending pair of short groups, twice).
_REFERENCE_RANGE = re.compile(r"\d+(?:\.\d+)?[ \t]*\([ \t]*\d+(?:\.\d+)?[ \t]*-[ \t]*\d+(?:\.\d+)?\)?")
_RANGE = re.compile(r"(\d{1,3})-(\d{1,3})")


def measure_range(text: str, start: int, end: int) -> bool:
    """Digit groups read as a phone number that are a value and its reference range, or two ascending
    ranges at least with nothing but numbers beside them."""
    span = text[start:end].strip()
    if _REFERENCE_RANGE.fullmatch(span):
        return True
    tokens = span.split()
    if not all(re.fullmatch(r"\d+(?:-\d+)?", t) for t in tokens):
        return False
    ranges = [m for t in tokens if (m := _RANGE.fullmatch(t)) is not None]
    return len(ranges) >= 2 and all(int(m.group(1)) < int(m.group(2)) for m in ranges)


# Words that make a number after them a product's, not a person's or a device's own: "model #4470".
_PRODUCT_NUMBER_BEFORE = re.compile(r"(?i:\b(?:model|catalog|catalogue|cat|product|style|part|ref|reference)\.?)"
                                    r"[ \t]*(?:(?i:no|number)\.?)?[ \t]*[#:]?[ \t]*$")  # fmt: skip
# A room of the hospital by the procedure done there ("operating suite #2", "endoscopy suite #4").
_ROOM_BEFORE = re.compile(
    r"(?i:\b(?:operating|operative|procedure|procedural|surgical|surgery|treatment|recovery|exam|examination|"
    r"delivery|labor|\p{L}+scopy|\p{L}+ation)[ \t]+)$"
)


def not_an_address_or_id(text: str, start: int, end: int, label: str) -> str | None:
    """Why a number read as an address, a phone or an ID is none: a lab value's reference range, a product's
    model number, a hospital room after the procedure done in it, a clock time read as a house number
    ("10:40 PM Dr. X"). Placeholder digits ("MRN 12345678", "123-456-7890") stay: the gold standards mark
    them."""
    span = text[start:end]
    if label in ("PHONE", "ID") and measure_range(text, start, end):
        return "range"
    if label in ("PHONE", "ID") and ratio_term(text, start, end):
        return "ratio"
    if label == "ID" and sequence_number(text, start, end):
        return "sequence number"
    if label == "ADDRESS" and size_not_address(text, start, end, _jargon_word):
        return "size"
    if label == "ID" and _PRODUCT_NUMBER_BEFORE.search(text, max(0, start - 25), start) is not None:
        return "model number"
    if label == "ADDRESS" and span[:1].isdigit() and re.search(r"\d:$", text[max(0, start - 2) : start]):
        return "time"
    if label == "ADDRESS" and _ROOM_BEFORE.search(text, max(0, start - 30), start) is not None:
        return "room"
    return None


# An article before a capitalised word makes it a thing of its kind ("grasped with a <Name>", "another <Name>
# was placed": an instrument named after its maker); a person or a place takes none.
# A capital "A" may be an initial ("A Smith"): only the lower-case article counts.
_ARTICLE_BEFORE = re.compile(r"(?:\ba|\b(?i:an|another))[ \t\n]+$")


def thing_after_article(text: str, start: int, end: int) -> bool:
    """One capitalised word right after "a", "an" or "another", that no gazetteer knows as a place."""
    words = _WORDS.findall(text, start, end)
    return (
        len(words) == 1
        and words[0][:1].isupper()
        and _ARTICLE_BEFORE.search(text, max(0, start - 10), start) is not None
        and not _place(words[0].removesuffix("'s").removesuffix("’s"))
    )


def lower_case_in_cased_prose(text: str, start: int, end: int) -> bool:
    """No capital in the span, where the sentences around start with capitals: a name or a place would
    have one ("to the colon", "the suture marks")."""
    from deid.text.context_rules import cased_prose

    return not any(ch.isupper() for ch in text[start:end]) and cased_prose(text, start)


# Readers that judge a span by its look and neighbours, without a cue of their own.
_STATISTICAL = frozenset({"tagger", "spacy", "shape", "repeated"})


def clinical_jargon(text: str, start: int, end: int) -> bool:
    """Every word is clinical vocabulary that no English dictionary has (products, instruments,
    jargon: "Xeroform", "Steri-Strips", "Metzenbaum"), with no sign of a name or a place."""
    from deid.text.vocabulary import name_evidence

    span = text[start:end]
    words = _WORDS.findall(span)
    if all(len(w) <= 3 and w.isupper() for w in words):
        return False  # a hospital's initials are as short as shorthand ("GH", "MGH"): no evidence either way
    return (
        bool(words)
        and all(len(w) >= 4 or (len(w) == 3 and not w.isupper()) for w in words)  # short capitals are a
        # place's or a hospital's initials as often; a clipped word in lower or title case is not ("Abd")
        and all(_jargon_word(w) for w in words)
        and not name_evidence(span)
        and not _place(span)
    )


# A place preposition before a span of several words makes it a named place whatever its words ("moved to
# <Adjective> <Noun>", "at the <Word> <Word>").
_PLACE_BEFORE = re.compile(r"(?i:\b(?:at|to|from|in|into|near|toward|towards)(?:[ \t]+the)?)[ \t]+$")


def clinical_vocabulary_span(text: str, start: int, end: int) -> bool:
    """Every word is in the clinical vocabulary as it is written (Philter's non-names and our clinical
    lists: "Demerol", "Fahrenheit", "Thoracic"), none reads as a name of the name lexicons or a place, and
    neither a facility's word nor a place preposition stands in it or beside it (where English words name
    a facility: "at the city infirmary")."""
    from deid.text.patterns import FACILITY_WORDS
    from deid.text.vocabulary import clinical_vocabulary, name_lexicon

    found = _WORDS.findall(text, start, end)
    words = [w.lower().strip("'’-").removesuffix("'s").removesuffix("’s") for w in found]
    vocab = clinical_vocabulary()
    if not words or not all(w in vocab and not name_lexicon(w) for w in words if len(w) >= 4 or len(words) == 1):
        return False
    if all(len(w) < 4 for w in words):
        return False
    if _place(text[start:end]) or any(w in FACILITY_WORDS for w in words):
        return False
    after = _WORDS.search(text, end, min(len(text), end + 20))
    if after is not None and after.group().lower() in FACILITY_WORDS:
        return False  # "<Word> Hospital", "<Word> Medical Center": the start of a facility's name
    return _PLACE_BEFORE.search(text, max(0, start - 15), start) is None


_REGION_CODES = STATE_CODES | frozenset("AB BC MB NB NL NS NT NU ON PE QC SK YT".split())  # US, Canada


def clinical_shorthand(text: str, start: int, end: int) -> bool:
    """Every word is a clinical acronym of the lexicon ("OSA", "NEB AC"), or every word is shorthand and one
    has a digit ("NGT q4h", "PO q6h"): an abbreviation, a route or a frequency; a hospital's initials are in
    no such lexicon and take no digit."""
    from deid.text.lexicon import NURSING_ACRONYMS
    from deid.text.vocabulary import shorthand_token

    words = re.findall(r"[\p{L}\d][\p{L}\d/&-]*", text[start:end])
    if not words:
        return False
    if any(ch.isdigit() for ch in text[start:end]) and all(shorthand_token(w) for w in words):
        return True  # "PR q4-6h", "NGT x2"
    if any(w.upper() in _REGION_CODES for w in words):
        return False  # "NS", "ND", "PE": a state's or a province's code as often as an abbreviation
    sides = [w for w in words if w in ("L", "R")]  # a side after a line's or a tube's acronym ("CVL L")
    return len(sides) < len(words) and all(w in sides or w.lower() in NURSING_ACRONYMS for w in words)


def _jargon_word(word: str) -> bool:
    """In the clinical vocabulary as it is written (no misspelling, no clipped form), no English word and no
    name of the name lexicons: a product, an instrument, a term."""
    from deid.text.vocabulary import clinical_vocabulary, name_lexicon
    from deid.text.words import known_word

    low = word.lower().strip("'’-").removesuffix("'s").removesuffix("’s")
    if "-" in low:  # "Steri-Strips": jargon with an English part
        parts = [p for p in low.split("-") if p]
        return any(_jargon_word(p) for p in parts) and all(_jargon_word(p) or known_word(p) for p in parts)
    return (low in clinical_vocabulary() or low in drug_names()) and not known_word(low) and not name_lexicon(low)


def _place(span: str) -> bool:
    from deid.text.gazetteer import is_city
    from deid.text.lexicon import COUNTRIES, STATE_NAMES

    low = span.lower()
    return low in COUNTRIES or low in STATE_NAMES or is_city(low)


def medical_term(text: str, start: int, end: int) -> bool:
    """One word with the ending of a medical term, longer than six letters."""
    from deid.text.vocabulary import clinical_vocabulary, name_lexicon
    from deid.text.words import known_word

    words = _WORDS.findall(text, start, end)
    if len(words) != 1 or len(words[0]) <= 6 or "-" in words[0]:
        return False
    low = words[0].lower()
    return (
        low.endswith(_TERM_ENDINGS) and (low in clinical_vocabulary() or known_word(low)) and not name_lexicon(low)
    )


def generic_department(text: str, start: int, end: int) -> bool:
    """The span and the capitalised words after it are dictionary words that end in a department noun
    ("Intensive Care Unit"): a kind of place, not a named one."""
    from deid.text.words import known_word

    m = _DEPARTMENT_AFTER.match(text, end)
    if m is not None:
        end = m.end()
    elif _DEPARTMENT_ENDS.search(text[start:end]) is None or start == end:
        return False  # neither ends in a department noun nor runs on to one ("Endoscopy Suite")
    words = _WORDS.findall(text, start, end)
    return all(known_word(w.lower()) or medical_term(w, 0, len(w)) for w in words)


# The title of a standardised instrument: capitalised words ending in an instrument's head noun ("<Name>
# Developmental Test of <Skill>", "<Name> Depression Inventory", "<Name> Pegboard"); no "Examination", which
# heads a note's section titles as often ("Neck Examination").
_INSTRUMENT_TITLE = re.compile(
    r"\b\p{Lu}[\p{L}'’-]*(?:[ \t]+(?:(?:of|for|the|and|&)[ \t]+)?\p{Lu}[\p{L}'’-]*){0,5}[ \t]+"
    r"(?:Test|Tests|Scale|Scales|Inventory|Battery|Questionnaire|Pegboard|Subtest|Subtests)\b"
)


@lru_cache(maxsize=256)
def clinical_text(text: str) -> bool:
    """A clinical note, in shorthand or in prose: clinical_register, or one word in a hundred at least (three
    at least) a drug of the dictionary or a medical term by its ending ("colonoscopy", "hematology"), or three
    titles of standardised instruments at least (a neuropsychological battery's list of tests); a sentence
    or two (forty words at most) with two such words, or with a drug of the dictionary before its dose."""
    from deid.text.vocabulary import clinical_register

    if clinical_register(text) or len(_INSTRUMENT_TITLE.findall(text)) >= 3:
        return True
    words = _WORDS.findall(text)
    drugs = drug_names()
    hits = sum(1 for w in words if len(w) > 6 and (w.lower() in drugs or w.lower().endswith(_TERM_ENDINGS)))
    short_hits = sum(1 for w in words if len(w) >= 5 and w.lower() in drugs)
    if len(words) <= 40 and (
        hits >= 2
        or short_hits >= 2
        or any(m.group().lower() in drugs and _MEASURE_AFTER.match(text, m.end()) for m in _WORDS.finditer(text))
    ):
        return True  # "Cont <drug> and <drug> as ordered.", "<Drug> 40 mg IV BID."
    return hits >= 3 and hits * 100 >= len(words)


def clinical_reason(text: str, start: int, end: int, label: str, source: str = "") -> str | None:
    """Why the hit [start, end) labelled `label` is clinical language and no PHI, or None."""
    if label in _WORDY:
        if re.fullmatch(r"\d{1,3}(?:,\s*\d{1,3}){2,}", text[start:end].strip()) or _NUMBERS_ONLY.fullmatch(
            text[start:end].strip()
        ):
            return "number"  # a list of numbers ("teeth 11, 12, 13", "110 and 145") read as a place
        if re.search(r"\p{L}", text[start:end]) is None:
            return "number"  # no letter: no name or place ("<Name> @ 1400", the clock time read as a name)
        if gcs_components(text, start, end):
            return "score"  # "E3 VT M5" read as an organisation's initials
        if hyphen_panel(text, start, end):
            return "panel"
        if placeholder(text, start, end):
            return "placeholder"
        if eponym_before_head(text, start, end):
            return "eponym"
        if procedure_after_status_post(text, start, end):
            return "procedure"
        if (head := _HEADER_OPENS.match(text, start, end)) is not None and section_header(
            text, start, start + len(head.group(1))
        ):
            return clinical_reason(text, head.end(), end, label, source)  # "Gtts: <Drug>": judge what follows
        if why := nursing_reason(text, start, end):
            return why
        if material_after_handling(text, start, end):
            return "material"
        if not _cued(text, start):
            if measure_name(text, start, end):
                return "measure"
            if clipped_opener(text, start, end):
                return "clipped word"
            if drug_span(text, start, end) or drug_phrase(text, start, end):
                return "drug"
            if product_after_size(text, start):
                return "product"
            if section_header(text, start, end):
                return "header"
            if family_word(text, start, end):
                return "family word"
            if source in _STATISTICAL and instrument_in_use(text, start, end):
                return "instrument"
            if source in _STATISTICAL and eponym_stage(text, start, end):
                return "stage"
            if source in _STATISTICAL and clinical_text(text):
                if lower_case_in_cased_prose(text, start, end):
                    return "lower case"
                if thing_after_article(text, start, end):
                    return "article"
                if brand_shape(text, start, end):
                    return "brand"
                if clinical_jargon(text, start, end):
                    return "jargon"
                if clinical_shorthand(text, start, end):
                    return "shorthand"
                if clinical_vocabulary_span(text, start, end):
                    return "vocabulary"
                if listed_with_supplies(text, start, end):
                    return "supply list"
                if medical_term(text, start, end):
                    return "medical term"
                if generic_department(text, start, end):
                    return "department"
    elif label in _NUMERIC and (why := measured(text, start, end, label)):
        return why
    elif label == "DATE" and (log_entry_time(text, start, end) or clock_not_year(text, start, end)):
        return "clock"
    elif label == "DATE" and fraction_not_date(text, start, end):
        return "fraction"
    elif label == "DATE" and (why := not_a_date(text, start, end)) and (why != "weekday" or clinical_text(text)):
        return why  # a weekday outside a clinical note stays: general PII counts any time expression
    elif label in ("PHONE", "ID") and clock_ranges(text, start, end):
        return "clock range"
    elif label in ("PHONE", "ID", "ADDRESS") and (why := not_an_address_or_id(text, start, end, label)):
        return why
    elif label == "ZIP" and code_not_zip(text, start, end):
        return "code"
    elif label == "ZIP" and ratio_term(text, start, end):
        return "ratio"
    return None


# Numbers joined by commas, "and" or "or" and nothing else: no place's or person's name.
_NUMBERS_ONLY = re.compile(r"\d[\d.]*(?:[ \t]*(?:,|(?i:and|or|&))[ \t]*\d[\d.]*)+")
# A section header opening a span: its word, the colon and the space after it.
_HEADER_OPENS = re.compile(r"(\p{L}[\p{L}&/]*)[ \t]*:[ \t]+(?=\S)")

# Labels whose surrogate is a number of a shape: what a measured value is mistaken for.
_NUMERIC = frozenset({"DATE", "ZIP", "ID", "PHONE", "ADDRESS"})


def measured(text: str, start: int, end: int, label: str) -> str | None:
    """Why a number read as a year, a ZIP, an ID, a phone or a house number is a measured value: an amount
    before its unit, a value after the name of its measure (a year only: a month/day after a lab's name may
    be the day it was drawn), a Glasgow coma score's components read as a postal code."""
    if amount_with_unit(text, start, end):
        return "amount"
    if (label != "DATE" or re.fullmatch(r"\d{4}", text[start:end].strip())) and measure_value(text, start, end):
        return "value"
    if label == "ZIP" and gcs_components(text, start, end):
        return "score"
    if label == "DATE" and signed_value(text, start, end):
        return "change"
    if intake_output(text, start, end):
        return "amount"
    return None


def drop_clinical(text: str, results: Sequence) -> list:
    """The analyzer's results less the hits that are clinical language (clinical_reason); the subject's
    own record's hits always stand."""
    out = []
    for r in results:
        source = (r.recognition_metadata or {}).get("recognizer_name", "")
        if source in _ALWAYS or clinical_reason(text, r.start, r.end, r.entity_type, source) is None:
            out.append(r)
    return out
