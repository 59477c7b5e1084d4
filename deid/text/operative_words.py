"""Capitalised words that operative and paediatric notes use as things, not people: an instrument or a
supply counted, shaped or handled ("a curved <Eponym> was placed"), a stage named after its author with a
Roman numeral ("<Eponym> II"), and the family words a child's note writes as names ("Mom", "Dad")."""

import regex as re

# One capitalised word, maybe hyphenated, maybe plural or possessive ("<Eponym>s", "<Eponym> 's").
_THING = re.compile(r"\p{Lu}[\p{Ll}]+(?:-\p{Lu}?[\p{Ll}]+)?(?:s|[ \t]?['’]s)?")
# Counted or shaped: a quantifier or an adjective of an instrument's form or state right before the word
# ("two <Eponym>s", "a curved <Eponym>", "the straight <Eponym>", "another moist <Brand>"); no one counts or
# bends a person this way.
_SHAPED_BEFORE = re.compile(
    r"(?i:\b(?:two|three|four|five|six|several|multiple|additional|second|third|fourth|curved|straight|angled|"
    r"right-angle|right-angled|moist|wet|dry|damp|sterile|fine|toothed|blunt|sharp|self-retaining|"
    r"betadine-soaked|saline-soaked|large|small|medium|long|short|pediatric|narrow|wide|deep))[ \t\n]+$"
)
# Used as a thing: an article before the word and a verb of placing or handling an instrument after it.
_ARTICLE_BEFORE = re.compile(r"(?i:\b(?:a|an|another|the|each|both))[ \t\n]+$")
_HANDLED_AFTER = re.compile(
    r"[ \t\n]+(?i:was)(?:[ \t\n]+(?i:then|now|again|subsequently|carefully|gently|next|also))?[ \t\n]+"
    r"(?i:placed|used|utilized|applied|removed|reinserted|inserted|withdrawn|passed|introduced|advanced|"
    r"positioned|clamped|opened|closed|released|replaced|left[ \t\n]+in[ \t\n]+place)\b"
)
# A stage, class or grade named after its author, with a Roman numeral and nothing capitalised after it.
_STAGE = re.compile(r"(\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?)[ \t]+(?:(?i:stage|class|grade|type)[ \t]+)?(I{1,3}|IV|V)")
_STAGE_END = re.compile(r"(?:[ \t]*(?:[,.;:)]|$)|[ \t]+\p{Ll})")
# The family words a note on a child writes with a capital, as a name: no one's name, whoever they are.
_FAMILY_WORDS = frozenset("mom dad mommy daddy mum grandma grandpa granny stepmom stepdad".split())


def instrument_in_use(text: str, start: int, end: int) -> bool:
    """One capitalised word counted or shaped as an instrument or a supply is, or after an article with a
    verb of placing or handling after it ("the <Eponym> was removed")."""
    span = text[start:end].strip()
    if _THING.fullmatch(span) is None:
        return False
    if _SHAPED_BEFORE.search(text, max(0, start - 24), start) is not None:
        return True
    return (  # one instrument: a family is placed too ("the <Surname>s were placed in a room")
        span[-1:] != "s"
        and _ARTICLE_BEFORE.search(text, max(0, start - 10), start) is not None
        and _HANDLED_AFTER.match(text, end) is not None
    )


def eponym_stage(text: str, start: int, end: int) -> bool:
    """The span is a one-word eponym and a Roman numeral of its stage, class or grade ("<Eponym> II male",
    "<Eponym> class III,"), or the eponym alone with that numeral right after it."""
    m = _STAGE.match(text, start)
    if m is None or m.start(1) != start or (end not in (m.end(1), m.end())):
        return False
    return _STAGE_END.match(text, m.end()) is not None


def family_word(text: str, start: int, end: int) -> bool:
    """The span is one family word written as a name ("Mom", "Dad")."""
    return text[start:end].strip().lower() in _FAMILY_WORDS
