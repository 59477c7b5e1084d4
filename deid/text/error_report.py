"""What a de-identifier's errors are: misses grouped by gold type and shape, false alarms grouped by what
the marked text is (a clinical abbreviation, a drug, a lab value, a time, ...), as JSON and markdown."""

from collections import Counter, defaultdict
from collections.abc import Sequence

import regex as re

from deid.text.scoring import IGNORE, Span

_TIME = re.compile(
    r"(?i)\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?|\d{3,4}\s*(?:h|hr|hrs|hours)?|\d{1,2}\s*[ap]\.?m\.?|noon|midnight"
)
_RANGE = re.compile(r"\d+(?:\.\d+)?\s*(?:/|-|–|to)\s*\d+(?:\.\d+)?(?:\s*\p{L}+)?")
_NUMBER = re.compile(r"[#~<>]?\d[\d.,]*\s*(?:%|\p{L}{1,6}(?:/\p{L}{1,4})?)?")
_ALNUM_CODE = re.compile(r"(?=.*\d)(?=.*\p{L})[\p{L}\d./-]+")
_WEB = re.compile(r"\S*\.\S+")


def shape(text: str) -> str:
    """The text's shape: letters to A/a, digits to 9, runs collapsed, so `7/22` and `12/01` are one class.

    >>> shape("7/22"), shape("LEONA"), shape("Hampton"), shape("(617) 555-0101")
    ('9/9', 'A', 'Aa', '(9) 9-9')
    """
    out = []
    for ch in text:
        c = "A" if ch.isupper() else "a" if ch.islower() else "9" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)[:24]


def false_alarm_class(text: str, marked: str) -> str:
    """What a marked span that is no gold PHI is: time, vital-sign or lab range, number or lab value,
    code, clinical abbreviation, drug, clinical term, eponym, dictionary word, name-like word, web-like."""
    from deid.text.lexicon import (
        CLINICAL_ACRONYMS,
        CLINICAL_TERMS,
        COMMON_WORDS,
        DRUG_BRANDS,
        DRUG_SUFFIXES,
        EPONYMS,
        FIRST_NAMES,
        SURNAMES,
    )

    s = marked.strip()
    low = s.lower().strip(".,:;'’()")
    words = [w for w in re.findall(r"\p{L}+", low)]
    if _TIME.fullmatch(s):
        return "time"
    if _RANGE.fullmatch(s):
        return "vital-sign or lab range"
    if _NUMBER.fullmatch(s):
        return "number or lab value"
    if _ALNUM_CODE.fullmatch(s):
        return "code (letters and digits)"
    if "." in s and _WEB.fullmatch(s) and not s.endswith("."):
        return "web-like (missing space)"
    if (words and all(w in CLINICAL_ACRONYMS for w in words)) or (len(s) <= 4 and s.isupper()):
        return "clinical abbreviation"
    if words and any(w.endswith(DRUG_SUFFIXES) or w in DRUG_BRANDS for w in words):
        return "drug"
    if words and all(w in CLINICAL_TERMS or w in CLINICAL_ACRONYMS or w in COMMON_WORDS for w in words):
        return "clinical term or common word"
    if words and any(w in EPONYMS for w in words):
        return "eponym"
    if words and any(w in FIRST_NAMES or w in SURNAMES for w in words):
        return "name-like (unannotated person?)"
    if words and _dictionary_words(words):
        return "dictionary word"
    return "other"


def _dictionary_words(words: list[str]) -> bool:
    from deid.text.words import known_word

    return all(known_word(w) for w in words)


def error_report(
    texts: Sequence[str], gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]], *, examples: int = 0
) -> dict[str, object]:
    """{"misses": {gold group: {shape: n}}, "false_alarms": {class: {predicted group: n}}, with up to
    `examples` texts per class when asked (off by default: the misses are PHI)."""
    misses: dict[str, Counter] = defaultdict(Counter)
    false_alarms: dict[str, Counter] = defaultdict(Counter)
    miss_examples: dict[str, list[str]] = defaultdict(list)
    alarm_examples: dict[str, list[str]] = defaultdict(list)
    for text, g, p in zip(texts, gold, pred, strict=True):
        for span in g:
            if span.group == IGNORE or any(span.start < q.end and q.start < span.end for q in p):
                continue
            key = shape(text[span.start : span.end])
            misses[span.group][key] += 1
            if len(miss_examples[span.group]) < examples:
                miss_examples[span.group].append(_in_context(text, span))
        for span in p:
            if any(span.start < q.end and q.start < span.end for q in g):
                continue
            cls = false_alarm_class(text, text[span.start : span.end])
            false_alarms[cls][span.group] += 1
            if len(alarm_examples[cls]) < examples:
                alarm_examples[cls].append(_in_context(text, span))
    by_size = sorted(false_alarms.items(), key=lambda kv: -sum(kv[1].values()))
    report: dict[str, object] = {
        "misses": {k: dict(v.most_common()) for k, v in sorted(misses.items())},
        "false_alarms": {k: dict(v.most_common()) for k, v in by_size},
    }
    if examples:
        report["miss_examples"] = dict(miss_examples)
        report["false_alarm_examples"] = dict(alarm_examples)
    return report


def _in_context(text: str, span: Span, width: int = 25) -> str:
    before = text[max(0, span.start - width) : span.start].replace("\n", " ")
    after = text[span.end : span.end + width].replace("\n", " ")
    return f"{before}[[{text[span.start : span.end]}]]{after}"


def to_markdown(reports: dict[str, dict[str, object]]) -> str:
    """One section per system: misses by gold group and shape, false alarms by class and predicted group."""
    lines = ["# De-identification error report", ""]
    for system, rep in reports.items():
        lines += [f"## {system}", "", "### Misses (gold PHI not overlapped), by gold group and shape", ""]
        lines += ["| gold group | shape | n |", "|---|---|---|"]
        for group, shapes in rep["misses"].items():
            lines += [f"| {group} | `{s}` | {n} |" for s, n in shapes.items()]
        lines += ["", "### False alarms (marked, overlapping no gold PHI), by what they are", ""]
        lines += ["| class | n | as |", "|---|---|---|"]
        for cls, groups in rep["false_alarms"].items():
            as_ = ", ".join(f"{g} {n}" for g, n in groups.items())
            lines.append(f"| {cls} | {sum(groups.values())} | {as_} |")
        for key, title in (("miss_examples", "Missed"), ("false_alarm_examples", "False alarm")):
            for cls, items in rep.get(key, {}).items():
                lines += ["", f"{title} examples, {cls}:", ""]
                lines += [f"- `{x}`" for x in items]
        lines.append("")
    return "\n".join(lines)
