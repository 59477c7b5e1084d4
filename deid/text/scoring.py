"""Scoring a de-identifier against gold PHI: recall, precision and F2 per entity group, at span level
(a gold span counts as found when any detection overlaps it) and token level (alphanumeric tokens)."""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import regex as re

GROUPS = ("NAME", "DATE", "AGE", "ID", "CONTACT", "LOCATION", "FACILITY", "OTHER")
# The strictest target (recall >= 0.99) is on these.
CORE_GROUPS = ("NAME", "DATE", "ID", "CONTACT")
IGNORE = "IGNORE"

# Corpus and system labels -> scoring group. Not PHI under HIPAA, so neither credited nor penalised: job
# titles and honorifics (TITLE), nationalities and religions (NRP), ages under 90.
_GROUP_OF = {
    **dict.fromkeys(("PERSON", "NAME", "PATIENT", "DOCTOR", "USERNAME", "FIRST_NAME", "LAST_NAME", "PER"), "NAME"),
    # PhysioNet deid gold standard: patients, clinicians, relatives and proxies
    **dict.fromkeys(("PTNAME", "HCPNAME", "RELATIVEPROXYNAME"), "NAME"),
    **dict.fromkeys(("DATE", "DATE_TIME", "DOB", "TIME", "DATEYEAR"), "DATE"),
    **dict.fromkeys(("AGE",), "AGE"),
    **dict.fromkeys(
        (
            "ID",
            "IDNUM",
            "MRN",
            "MEDICAL_RECORD_NUMBER",
            "MEDICALRECORD",
            "HEALTH_PLAN_BENEFICIARY_NUMBER",
            "HEALTHPLAN",
            "UNIQUE_IDENTIFIER",
            "ACCOUNT_NUMBER",
            "ACCOUNT",
            "CERTIFICATE_LICENSE_NUMBER",
            "LICENSE",
            "SSN",
            "US_SSN",
            "SOCIAL_SECURITY_NUMBER",
            "CREDIT_CARD",
            "IBAN_CODE",
            "US_DRIVER_LICENSE",
            "US_PASSPORT",
            "US_BANK_NUMBER",
            "US_ITIN",
            "MEDICAL_LICENSE",
            "DEVICE",
            "BIOID",
            "VEHICLE",
            "UK_NHS",
            "CRYPTO",
        ),
        "ID",
    ),
    **dict.fromkeys(
        (
            "PHONE",
            "PHONE_NUMBER",
            "FAX",
            "FAX_NUMBER",
            "EMAIL",
            "EMAIL_ADDRESS",
            "URL",
            "DOMAIN_NAME",
            "IP",
            "IP_ADDRESS",
            "MAC_ADDRESS",
        ),
        "CONTACT",
    ),
    **dict.fromkeys(
        (
            "ADDRESS",
            "STREET_ADDRESS",
            "STREET",
            "CITY",
            "STATE",
            "COUNTRY",
            "ZIP",
            "ZIP_CODE",
            "GPE",
            "LOCATION",
            "GEOGRAPHIC_LOCATION",
            "LOCATION_OTHER",
            "LOC",
        ),
        "LOCATION",
    ),
    **dict.fromkeys(("FACILITY", "HOSPITAL", "ORGANIZATION", "ORG", "FAC", "COMPANY"), "FACILITY"),
    **dict.fromkeys(("TITLE", "NRP", "PROFESSION", "OCCUPATION", "RELIGION"), IGNORE),
}
_HONORIFICS = frozenset("dr mr mrs ms miss mx prof doctor".split())
_TOKEN = re.compile(r"[^\W_]+")


def group_of(label: str, text: str = "") -> str:
    """Scoring group of a gold or predicted label; ages under 90 are not PHI.

    >>> group_of("US_SSN"), group_of("AGE", "46"), group_of("AGE", "93"), group_of("NRP"), group_of("X")
    ('ID', 'IGNORE', 'AGE', 'IGNORE', 'OTHER')
    """
    group = _GROUP_OF.get(label.upper().replace("-", "_"), "OTHER")
    if group == "AGE":
        digits = re.findall(r"\d+", text)
        if digits and int(digits[0]) <= 89:
            return IGNORE
    return group


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    group: str


@dataclass
class Tally:
    gold: Counter
    gold_found: Counter
    pred: Counter
    pred_correct: Counter

    @classmethod
    def empty(cls) -> "Tally":
        return cls(Counter(), Counter(), Counter(), Counter())

    def add(self, other: "Tally") -> None:
        for name in ("gold", "gold_found", "pred", "pred_correct"):
            getattr(self, name).update(getattr(other, name))

    def table(self) -> dict[str, dict[str, float | int]]:
        rows = {g: _metrics(self.gold[g], self.gold_found[g], self.pred[g], self.pred_correct[g]) for g in GROUPS
                if self.gold[g] or self.pred[g]}  # fmt: skip
        rows["ALL"] = _metrics(
            *(sum(c.values()) for c in (self.gold, self.gold_found, self.pred, self.pred_correct))
        )
        core = [g for g in CORE_GROUPS]
        rows["CORE"] = _metrics(*(sum(c[g] for g in core) for c in (self.gold, self.gold_found)),
                                *(sum(c[g] for g in core) for c in (self.pred, self.pred_correct)))  # fmt: skip
        return rows


def _metrics(n_gold: int, found: int, n_pred: int, correct: int) -> dict[str, float | int]:
    recall = found / n_gold if n_gold else float("nan")
    precision = correct / n_pred if n_pred else float("nan")
    if not n_gold or not n_pred:
        f2 = float("nan") if not n_gold else 0.0
    else:
        f2 = 5 * precision * recall / (4 * precision + recall) if precision + recall else 0.0
    return {"n_gold": n_gold, "found": found, "n_pred": n_pred, "correct": correct,
            "recall": recall, "precision": precision, "f2": f2}  # fmt: skip


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def score_doc(text: str, gold: Sequence[Span], pred: Sequence[Span]) -> tuple[Tally, Tally]:
    """(span tally, token tally) of one document. Matching ignores labels: a name caught as a place is
    still caught; the per-group precision is by the predicted group."""
    phi = [g for g in gold if g.group != IGNORE]
    ignored = [g for g in gold if g.group == IGNORE]
    spans = Tally.empty()
    for g in phi:
        spans.gold[g.group] += 1
        spans.gold_found[g.group] += any(_overlaps(g, p) for p in pred)
    for p in pred:
        if any(_overlaps(p, g) for g in phi):
            spans.pred[p.group] += 1
            spans.pred_correct[p.group] += 1
        elif not any(_overlaps(p, g) for g in ignored):
            spans.pred[p.group] += 1
    tokens = Tally.empty()
    for m in _TOKEN.finditer(text):
        tok = Span(m.start(), m.end(), "")
        g = next((g for g in gold if _overlaps(tok, g)), None)
        p = next((p for p in pred if _overlaps(tok, p)), None)
        if g is not None and (g.group == IGNORE or (m.group().lower() in _HONORIFICS and m.start() == g.start)):
            continue  # not PHI: neither credited nor penalised
        if g is not None:
            tokens.gold[g.group] += 1
            tokens.gold_found[g.group] += p is not None
        if p is not None:
            tokens.pred[p.group] += 1
            tokens.pred_correct[p.group] += g is not None
    return spans, tokens


def score(docs: Iterable[tuple[str, Sequence[Span], Sequence[Span]]]) -> dict[str, dict]:
    """Micro-averaged tables {"span": {group: metrics}, "token": {...}} over (text, gold, pred) triples."""
    span_total, token_total = Tally.empty(), Tally.empty()
    for text, gold, pred in docs:
        s, t = score_doc(text, gold, pred)
        span_total.add(s)
        token_total.add(t)
    return {"span": span_total.table(), "token": token_total.table()}
