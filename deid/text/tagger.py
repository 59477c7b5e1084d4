"""The learned PHI tagger: a linear-chain CRF (CRFsuite) over tokens, read from the versioned artifact that
ships with the package, giving each token a marginal probability per PHI type (its Presidio recognizer, with
the rules, is deid.text.combine.StackedPhiRecognizer)."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
import regex as re

from deid.text.crf_marginals import MarginalScorer, id_matrix, scorer, with_rows
from deid.text.tagger_card import check_card
from deid.text.tagger_features import Hint, base_features, tokenize, vocabulary, with_hints

MODEL_DIR = Path(__file__).parent / "models"
MODEL_NAME = "phi_crf_v1"
# The same CRF without the rules' hits among its features: evidence of its own, for what the rules miss.
PLAIN_MODEL_NAME = "phi_crf_v1_plain"
# The tagger's types; each becomes one of the project's labels (deid.text.spans.LABELS) on output.
TYPES = ("NAME", "DATE", "LOCATION", "CONTACT", "ID", "AGE")
# A token is the tagger's PHI of a type when its marginal probability of that type reaches the type's
# threshold (tuned on the tuning part of the development split; docs/deidentification.md). The card of the
# artifact may carry its own; these are the fallback.
DEFAULT_THRESHOLDS = {"NAME": 0.5, "DATE": 0.5, "LOCATION": 0.5, "CONTACT": 0.5, "ID": 0.5, "AGE": 0.5}
# Longer token sequences are tagged in pieces cut at line breaks (the features look two tokens away).
MAX_TOKENS = 2_000
_FACILITY = re.compile(
    r"(?i)\b(?:hospital|hosp|clinic|center|centre|medical|memorial|infirmary|hospice|rehab|nursing|health)\b"
)
_EMAIL = re.compile(r"\S+@\S+")
_URL = re.compile(r"(?i)(?:https?://|www\.)\S+")
_NOTHING: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TaggedText:
    """Tokens of a text and, per token, the probability of each type (B and I together); `phi[i]` is
    1 - P(O)."""

    tokens: list[tuple[int, int]]
    probs: list[Mapping[str, float]]
    begins: list[Mapping[str, float]]

    def phi(self, start: int, end: int) -> float:
        """The highest probability of any PHI type over the tokens that [start, end) overlaps."""
        best = 0.0
        for (s, e), p in zip(self.tokens, self.probs, strict=True):
            if s < end and start < e and p:
                best = max(best, sum(p.values()))
            elif s >= end:
                break
        return best

    def type_probability(self, start: int, end: int, type_: str) -> float:
        best = 0.0
        for (s, e), p in zip(self.tokens, self.probs, strict=True):
            if s < end and start < e:
                best = max(best, p.get(type_, 0.0))
            elif s >= end:
                break
        return best


class PhiTagger:
    """The CRF and its card (version, training data digest, thresholds)."""

    def __init__(self, model_path: Path, card: dict) -> None:
        import pycrfsuite

        self.model_path = model_path
        self.card = card
        self.thresholds = {**DEFAULT_THRESHOLDS, **card.get("thresholds", {})}
        # Least tagger probability a rule hit needs, by `class:LABEL` or `class` (deid.text.combine).
        self.veto: dict[str, float] = dict(card.get("veto", {}))
        # Rule hits scored this much or more stand without the tagger's word.
        self.strong: float = float(card.get("strong", 1.01))
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open(str(model_path))
        self.labels = list(self._tagger.labels())
        # The attributes the model has weights for (CRFsuite drops any other from a sequence it reads).
        self.attributes = frozenset(attr for attr, _ in self._tagger.info().state_features)
        self._known: frozenset[str] | None = None
        self._scorers: dict[frozenset[str], MarginalScorer | None] = {}

    @classmethod
    def load(cls, name: str = MODEL_NAME, directory: Path = MODEL_DIR) -> "PhiTagger":
        model = directory / f"{name}.crfsuite"
        card_path = directory / f"{name}.json"
        if not model.exists():
            raise FileNotFoundError(f"PHI tagger model {model} is missing: run `longitude deid train`")
        card = json.loads(card_path.read_text()) if card_path.exists() else {}
        check_card(card, card_path, TYPES)  # a card the code contradicts warns (TaggerCardWarning), never silently
        return cls(model, card)

    def tag(self, text: str, hints: Sequence[Hint] = ()) -> TaggedText:
        """Marginal probabilities per token; `hints` are the rules' hits on the text (features)."""
        known = self.known_attributes()
        fast = self._scorer(known)
        form = "bytes" if fast is None else "ids"
        tokens, pieces = token_features(text, known, form)
        if not tokens:
            return TaggedText([], [], [])
        probs: list[Mapping[str, float]] = []
        begins: list[Mapping[str, float]] = []
        others = [(j, label[2:], label[0] == "B") for j, label in enumerate(self.labels) if label != "O"]
        o = self.labels.index("O") if "O" in self.labels else None
        for lo, hi, base, ids in pieces:
            piece = tokens[lo:hi]
            lo_char, hi_char = piece[0][0], piece[-1][1]
            xseq = with_hints(base, piece, [h for h in hints if h[0] < hi_char and lo_char < h[1]], form, known)
            if fast is None:
                marginals = self._crfsuite_marginals(xseq)
            else:  # the base ids, with the rows of the tokens at or beside a rule hit in their place
                marginals = fast.marginals(with_rows(ids, xseq, base))  # (n, L)
            n = len(piece)
            # where O is all but certain every other label is under 1e-4: nothing to keep (an empty dict)
            uncertain = list(range(n)) if o is None else np.flatnonzero(~(marginals[:, o] >= 0.9999)).tolist()
            # the certain tokens share one read-only empty mapping: no two dicts per token to build and collect
            piece_probs: list[Mapping[str, float]] = [_NOTHING] * n
            piece_begins: list[Mapping[str, float]] = [_NOTHING] * n
            for t, row in zip(uncertain, marginals[uncertain].tolist(), strict=True):
                p: dict[str, float] = {}
                b: dict[str, float] = {}
                piece_probs[t], piece_begins[t] = p, b
                for j, type_, begin in others:
                    m = row[j]
                    if m < 1e-4:
                        continue
                    p[type_] = p.get(type_, 0.0) + m
                    if begin:
                        b[type_] = m
            probs.extend(piece_probs)
            begins.extend(piece_begins)
        return TaggedText(tokens, probs, begins)

    def _crfsuite_marginals(self, xseq: list) -> np.ndarray:
        """(tokens, labels) marginals of a sequence in bytes, by CRFsuite's Tagger."""
        self._tagger.set(xseq)
        marginal = self._tagger.marginal
        return np.array([[marginal(label, t) for label in self.labels] for t in range(len(xseq))])

    def _scorer(self, known: frozenset[str] | None) -> MarginalScorer | None:
        """The fast scorer over the ids of `known` (checked against CRFsuite once), None without `known`."""
        if known is None:
            return None
        if known not in self._scorers:
            self._scorers[known] = scorer(self.model_path, vocabulary(known), self._tagger)
        return self._scorers[known]

    def known_attributes(self) -> frozenset[str]:
        """The attributes worth building for this model: those of both shipped models when it is one of
        them (one set, so the two share a text's features), else its own."""
        if self._known is None:
            shipped = _shipped_attributes()
            self._known = shipped if self.attributes <= shipped else self.attributes
        return self._known

    def spans(self, text: str, tagged: TaggedText | None = None,
              thresholds: dict[str, float] | None = None) -> list[tuple[int, int, str, float]]:  # fmt: skip
        """(start, end, tagger type, mean probability) of each run of tokens of one type over its threshold."""
        tagged = tagged if tagged is not None else self.tag(text)
        thresholds = thresholds or self.thresholds
        out: list[tuple[int, int, str, float]] = []
        run: list[int] = []
        run_type = None

        def close() -> None:
            while run and not text[tagged.tokens[run[-1]][0]].isalnum():
                run.pop()
            while run and not text[tagged.tokens[run[0]][0]].isalnum():
                run.pop(0)
            if run:
                score = sum(tagged.probs[i].get(run_type, 0.0) for i in run) / len(run)
                out.append((tagged.tokens[run[0]][0], tagged.tokens[run[-1]][1], run_type, round(score, 3)))
            run.clear()

        for i, p in enumerate(tagged.probs):
            best = max(p, key=p.get) if p else None
            if best is None or p[best] < thresholds.get(best, 0.5):
                if run:  # most tokens are no PHI: nothing to close
                    close()
                run_type = None
                continue
            new_entity = tagged.begins[i].get(best, 0.0) > p[best] - tagged.begins[i].get(best, 0.0)
            if best != run_type or new_entity:
                close()
            run_type = best
            run.append(i)
        close()
        return out


# One text: the two taggers read it one after the other; a long note's chunks are not all kept.
@lru_cache(maxsize=1)
def token_features(
    text: str, known: frozenset[str] | None = None, form: str = "bytes"
) -> tuple[list[tuple[int, int]], list[tuple[int, int, list[tuple], np.ndarray | None]]]:
    """A text's tokens and, per piece of at most about MAX_TOKENS tokens, (first, end, features without the
    rules' hits, those outside `known` left out, in `form` as the taggers read them, and in the "ids" form
    their id_matrix): computed once for the two taggers that read the same text one after the other."""
    tokens = tokenize(text)
    if not tokens:
        return tokens, []
    out = []
    for lo, hi in _pieces(text, tokens):
        base = base_features(text, tokens[lo:hi], known, form)
        out.append((lo, hi, base, id_matrix(base) if form == "ids" else None))
    return tokens, out


@lru_cache(maxsize=1)
def _shipped_attributes() -> frozenset[str]:
    """The attributes of the shipped taggers together (an empty set when none is there)."""
    out: set[str] = set()
    for name in (MODEL_NAME, PLAIN_MODEL_NAME):
        if (tagger := phi_tagger(name)) is not None:
            out |= tagger.attributes
    return frozenset(out)


def _pieces(text: str, tokens: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Token index ranges of at most about MAX_TOKENS, cut where a line breaks when one is near."""
    if len(tokens) <= MAX_TOKENS:
        return [(0, len(tokens))]
    out, lo = [], 0
    while lo < len(tokens):
        hi = min(len(tokens), lo + MAX_TOKENS)
        if hi < len(tokens):
            for j in range(hi, max(lo + MAX_TOKENS // 2, lo + 1), -1):
                if "\n" in text[tokens[j - 1][1] : tokens[j][0]]:
                    hi = j
                    break
        out.append((lo, hi))
        lo = hi
    return out


def project_label(text: str, start: int, end: int, type_: str) -> str:
    """The project's label (deid.text.spans.LABELS) for a span the tagger typed."""
    value = text[start:end]
    if type_ == "LOCATION":
        return "FACILITY" if _FACILITY.search(value) else "LOCATION"
    if type_ == "CONTACT":
        return "EMAIL" if _EMAIL.fullmatch(value) else "URL" if _URL.match(value) else "PHONE"
    return type_


@lru_cache(maxsize=2)
def phi_tagger(name: str = MODEL_NAME) -> PhiTagger | None:
    """A shipped tagger, loaded once per process; None (the rules work alone) if its artifact is absent."""
    try:
        return PhiTagger.load(name)
    except FileNotFoundError:
        return None
