"""Presidio recognizers for clinical PHI: the rule pass, the per-subject deny list, the filtered spaCy
NER pass, and Presidio's own email recognizer made offline."""

from functools import lru_cache

import regex as re
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from deid.text.gazetteer import is_city
from deid.text.known import KnownPhi, compile_known
from deid.text.lexicon import (
    AMBIGUOUS_NAMES,
    CLINICAL_ACRONYMS,
    CLINICAL_TERMS,
    COMMON_WORDS,
    COUNTRIES,
    DRUG_BRANDS,
    DRUG_SUFFIXES,
    EPONYMS,
    FIRST_NAMES,
    STATE_NAMES,
    SURNAMES,
)
from deid.text.patterns import RULES, is_eponym, iter_matches, matches_by_text
from deid.text.proper_nouns import find_proper_nouns, followed_by_measure
from deid.text.spans import LABELS
from deid.text.vocabulary import all_clinical, clinical_register, name_evidence
from deid.text.words import dictionary_word, english_word, is_all_caps, known_word

# Single words that end like drug names are never people (spaCy's small model often says they are).

_NAMES = frozenset(FIRST_NAMES) | frozenset(SURNAMES)
_NER_LABELS = {"PERSON": "NAME", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "FACILITY", "ORG": "ORGANIZATION"}
_NER_SCORES = {"NAME": 0.8, "LOCATION": 0.65, "FACILITY": 0.65, "ORGANIZATION": 0.55}
_HEALTH_WORDS = ("hospital", "clinic", "medical", "health", "care", "infirmary", "hospice", "pharmacy",
                 "rehab", "surgery", "surgical", "physicians", "cancer", "children")  # fmt: skip


def _result(start: int, end: int, label: str, score: float, source: str) -> RecognizerResult:
    return RecognizerResult(
        entity_type=label,
        start=start,
        end=end,
        score=score,
        analysis_explanation=AnalysisExplanation(recognizer=source, original_score=score),
        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: source},
    )


class ClinicalRuleRecognizer(LocalRecognizer):
    """Every rule of deid.text.patterns: dates, ages > 89, identifiers, contact details, places, titled names."""

    def __init__(self) -> None:
        super().__init__(supported_entities=list(LABELS), name="ClinicalRuleRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list:
        from deid.text.context_rules import iter_context_matches

        # the hits of a batch's texts found beforehand (engine: rule_matches_by_text), when they are this text's
        ready = getattr(nlp_artifacts, RULE_MATCHES, None)
        if ready is not None and ready[0] == text:
            found = ready[1]
        else:
            found = [*iter_matches(text, RULES), *iter_context_matches(text)]
        return [_result(s, e, label, score, rule) for s, e, label, score, rule in found]


# The NlpArtifacts attribute that carries (text, its rule hits) found for a whole batch.
RULE_MATCHES = "longitude_rule_matches"


def rule_matches_by_text(texts) -> list[list]:
    """What ClinicalRuleRecognizer finds in each text (every rule, then every context rule), found one rule
    at a time over all the texts (deid.text.patterns.matches_by_text): the same hits in the same order."""
    from deid.text.context_rules import context_matches_by_text

    plain = matches_by_text(texts, RULES)
    return [[*p, *c] for p, c in zip(plain, context_matches_by_text(texts), strict=True)]


class ProperNounRecognizer(LocalRecognizer):
    """Names, places and organisations by their shape (deid.text.proper_nouns), line by line; ALL-CAPS
    lines are left to the lexicon and the recased NER pass, since every word in them is capitalised."""

    def __init__(self) -> None:
        super().__init__(supported_entities=list(LABELS), name="ProperNounRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list:
        found = []
        strict = clinical_register(text)
        for line in _LINE.finditer(text):
            if is_all_caps(line.group()):
                continue
            spans = find_proper_nouns(line.group(), known_word, english_word)
            found.extend(
                (s + line.start(), e + line.start(), label, score)
                for s, e, label, score in spans
                if (not strict and not _clinical_opener(text, s + line.start(), e + line.start(), label))
                or _plausible(
                    text[s + line.start() : e + line.start()],
                    label,
                    caps=False,
                    sentence_start=_at_sentence_start(text, s + line.start()),
                )
            )
        return [_result(s, e, label, score, "shape") for s, e, label, score in found]


_LINE = re.compile(r"[^\n]+")


def _caps_line(text: str, pos: int) -> bool:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return is_all_caps(text[start : end if end >= 0 else len(text)])


@lru_cache(maxsize=256)
def _compiled(known: KnownPhi) -> list:
    return compile_known(known)


class KnownPhiRecognizer(LocalRecognizer):
    """Ad hoc, per subject: every mention of what the structured record knows about this subject."""

    def __init__(self, known: KnownPhi) -> None:
        self.known = known
        super().__init__(supported_entities=list(LABELS), name="KnownPhiRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list:
        out = []
        for pattern, label in _compiled(self.known):
            out.extend(_result(m.start(), m.end(), label, 1.0, "known") for m in pattern.finditer(text))
        return out


class ClinicalNerRecognizer(LocalRecognizer):
    """spaCy's PERSON, GPE/LOC, FAC and ORG entities, minus what is clinical vocabulary."""

    def __init__(self) -> None:
        super().__init__(supported_entities=list(LABELS), name="ClinicalNerRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list:
        if nlp_artifacts is None:
            return []
        out = []
        strict = clinical_register(text)
        for start, end, ner_label in nlp_artifacts.entities:
            label = _NER_LABELS.get(ner_label)
            if label is None:
                continue
            for s, e in _trim_parts(text, start, end):
                if (
                    followed_by_measure(text, e)  # "Tylenol 650 mg", "Troponin I 0.01 ng/mL"
                    or is_eponym(text, s, e)
                    or _HYPHEN_AFTER.match(text, e)  # "Ground" of "Ground-glass": the word goes on
                ):
                    continue  # "Tylenol 650 mg", "Crohn's disease": not PHI, whatever the model says
                label2 = _keep(text[s:e], label, _at_sentence_start(text, s))
                if label2 is not None and (
                    not strict or _plausible(text[s:e], label2, _caps_line(text, s), _at_sentence_start(text, s))
                ):
                    out.append(_result(s, e, label2, _NER_SCORES[label2], "spacy"))
        return out


_HYPHEN_AFTER = re.compile(r"-\p{L}")


def _clinical_opener(text: str, start: int, end: int, label: str) -> bool:
    """A lone clinical word opening a sentence ("Extubated at 2015"), which names nothing in any text."""
    span = text[start:end]
    return (
        label == "NAME"
        and len(span.split()) == 1
        and _at_sentence_start(text, start)
        and all_clinical(span, misspellings=False)
        and not name_evidence(span)
        and not _place_word(span)
    )


def _place_word(span: str) -> bool:
    low = span.lower()
    return low in COUNTRIES or low in STATE_NAMES or (is_city(low) and not span.isupper())


def _plausible(span: str, label: str, caps: bool, sentence_start: bool = False) -> bool:
    """A model's or the shape pass's span that could be what it says: a person needs a word of a name
    lexicon and no span is clinical vocabulary through and through ("DRSG CHG", "Resp Care"). Philter's
    non-names list knows towns and companies too ("Rockville", "Kaiser"): in mixed-case text a place or an
    organisation of several words goes unless all its words are our own clinical words, and one word goes
    when it is a known town or no clinical word."""
    if all_clinical(span) and not _place_word(span):
        return False
    if label == "NAME":
        return name_evidence(span)
    low = span.lower()
    if _place_word(span):
        return True
    if is_city(low) and not (caps and all_clinical(span)):
        return True
    words = span.split()
    if caps:
        return not all_clinical(span) and name_evidence(span)
    if len(words) > 1 and all(w[:1].isupper() and not w.isupper() for w in words):
        return not all(_core_clinical(w) for w in words)  # "Kaiser Permanente", "New York-Presbyterian"
    return not all_clinical(span)


def _core_clinical(word: str) -> bool:
    low = word.strip(".,;:()'’-").lower()
    return low in COMMON_WORDS or low in CLINICAL_ACRONYMS or low in CLINICAL_TERMS or low in DRUG_BRANDS


_EDGE_NUMBER_END = re.compile(r"[\s,]+[\d.,/:%-]+$")
_EDGE_NUMBER_START = re.compile(r"[\d.,/:%-]+[\s,]+")


_NOT_IN_A_NAME = re.compile(r"[\d.,/:%+-]*\d[\d.,/:%+-]*|[A-Z]\d{2}(?:\.\w+)?|\w*/\w*")


_OPENER = re.compile(r"(?:^|[.!?:;\-–|>#*•]\s*|\d\.\s+)[\s\"'(\[]*$")


def _at_sentence_start(text: str, start: int) -> bool:
    return _OPENER.search(text, max(0, start - 40), start) is not None


_LAST_WORD = re.compile(r"(\w[\w'’-]*)\W*$")
_FIRST_WORD = re.compile(r"(\w[\w'’-]*)\W+")


def _ordinary(word: str) -> bool:
    low = word.lower()
    return low in COMMON_WORDS or low in CLINICAL_ACRONYMS


def _trim_parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """An entity split at line breaks and trimmed of punctuation at either end."""
    parts, pos = [], start
    for piece in text[start:end].split("\n"):
        s, e = pos, pos + len(piece)
        pos = e + 1
        while s < e and not text[s].isalnum():
            s += 1
        while e > s and not (text[e - 1].isalnum() or text[e - 1] == "."):
            e -= 1
        # numbers at either end are not part of a name or place ("IL 62704", "INR 13.2")
        while (m := _EDGE_NUMBER_END.search(text, s, e)) is not None and m.start() > s:
            e = m.start()
        while (m := _EDGE_NUMBER_START.match(text, s, e)) is not None and m.end() < e:
            s = m.end()
        # ordinary words and acronyms at either end are no part of it ("Moran, Joan    MRN")
        while (m := _LAST_WORD.search(text, s, e)) is not None and m.start(1) > s and _ordinary(m.group(1)):
            e = m.start(1)
            while e > s and not text[e - 1].isalnum() and text[e - 1] != ".":
                e -= 1
        while (m := _FIRST_WORD.match(text, s, e)) is not None and m.end() < e and _ordinary(m.group(1)):
            s = m.end()
        if e - s >= 2:
            parts.append((s, e))
    return parts


def _keep(span: str, label: str, sentence_start: bool = True) -> str | None:
    words = [w.strip(".,'’:;()") for w in span.split()]
    words = [w for w in words if w and any(ch.isalpha() for ch in w)]
    if not words or not any(ch.isupper() for ch in span):
        return None
    lowered = [w.lower().removesuffix("'s").removesuffix("’s") for w in words]
    if all(
        w in COMMON_WORDS or w in CLINICAL_ACRONYMS or w in EPONYMS or w in DRUG_BRANDS or w in CLINICAL_TERMS
        for w in lowered
    ):
        return None
    if len(words) == 1 and (
        lowered[0].endswith(DRUG_SUFFIXES) or (sentence_start and lowered[0] in AMBIGUOUS_NAMES)
    ):
        return None  # a drug; a word that is a name too ("Max dose", "Will follow up") opening a sentence
    if any(_NOT_IN_A_NAME.fullmatch(w) for w in span.split()):
        return None  # "Wt 71.8 kg", "S93.409A": numbers and codes are no part of a name or place
    if (
        label in ("NAME", "ORGANIZATION")
        and len(lowered) == 1
        and (sentence_start or words[0].isupper())
        and lowered[0] not in _NAMES
        and dictionary_word(lowered[0])
    ):
        return None  # a lone English word opening a line ("Backache") that the model took for a name
    if label == "ORGANIZATION":
        if any(h in w for w in lowered for h in _HEALTH_WORDS):
            return "FACILITY"
        if all(w in _NAMES for w in lowered):
            return "NAME"  # "GONZALEZ" alone on a line is a surname, not a company
        if len(words) == 1 and words[0].isupper() and (len(words[0]) <= 4 or not is_city(lowered[0])):
            return None  # lone acronyms: mostly clinical (CHF, NSTEMI); facilities are caught by rules
    if len(words) > 1 and lowered[-1] in _CLINICAL_HEADS:
        return None  # "Glasgow Coma Scale", "Morse Fall Scale": a score or sign named after someone
    return label


# Last words that make a capitalised phrase a clinical term, not a person or an organisation.
_CLINICAL_HEADS = frozenset(
    "scale score sign syndrome disease criteria test classification index reflex maneuver protocol".split()
)


class NoContextEnhancer(ContextAwareEnhancer):
    """Context is part of our rules already; Presidio's lemma-window boost would only cost time."""

    def __init__(self) -> None:
        super().__init__(context_similarity_factor=0, min_score_with_context_similarity=0, context_prefix_count=0,
                         context_suffix_count=0)  # fmt: skip

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        return raw_results


@lru_cache(maxsize=1)
def offline_tld_extractor():
    """tldextract with its bundled public-suffix snapshot only: the default extractor fetches the list
    over the network on first use (and stalls for its timeout where there is none)."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer, validating the domain against the bundled suffix list, offline."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list:  # fmt: skip
        if "@" not in text:  # its pattern holds a literal "@" ("[@]"): no scan of a text without one
            return []
        return super().analyze(text, entities, nlp_artifacts, regex_flags)

    def validate_result(self, pattern_text: str) -> bool:
        return offline_tld_extractor()(pattern_text).fqdn != ""
