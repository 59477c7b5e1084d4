"""Rules and the learned tagger together, as one Presidio recognizer: the rules' hits are the tagger's
features; the tagger adds what it finds over its per-type thresholds; a rule hit below the strong score
stands only where the tagger gives its tokens enough probability of PHI; the plain tagger (the same CRF
without the rules' hits) adds what it finds with confidence, where the rules have nothing to say."""

from collections.abc import Mapping, Sequence
from contextvars import ContextVar

import regex as re
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from deid.text.note_names import clinical_only, medical_text, repeated_names, wordy
from deid.text.tagger import PLAIN_MODEL_NAME, PhiTagger, TaggedText, phi_tagger, project_label
from deid.text.tagger_features import Hint

# Off for a call that wants the rules alone (find_phi_batch(tagger=False)).
TAGGER_ON: ContextVar[bool] = ContextVar("deid_tagger_on", default=True)
# Hits that stand whatever the tagger says: the subject's own record.
_ALWAYS = ("known",)
_CONTEXT = ("shape", "spacy")


def source_class(result: RecognizerResult) -> str:
    """`known`, `shape` (capitalisation and word lists), `spacy` (the general NER model) or `pattern`."""
    meta = result.recognition_metadata or {}
    name = meta.get(RecognizerResult.RECOGNIZER_NAME_KEY, "")
    return name if name in _ALWAYS or name in _CONTEXT else "pattern"


def hints(results: Sequence[RecognizerResult]) -> list[Hint]:
    return [(r.start, r.end, r.entity_type, source_class(r), float(r.score)) for r in results]


def veto_threshold(veto: Mapping[str, float], cls: str, label: str) -> float:
    """The least tagger probability a hit of this class and label needs: `class:LABEL`, else `class`."""
    return veto.get(f"{cls}:{label}", veto.get(cls, 0.0))


def combine(results: Sequence[RecognizerResult], tagged: TaggedText, veto: Mapping[str, float],
            strong: float = 1.01) -> list:  # fmt: skip
    """The rule hits that stand: the known record's, those scored `strong` or more, a name that both the
    shape pass and the NER model found, and the others where the highest PHI probability the tagger gives
    a token they cover reaches their veto threshold."""
    names = [(r.start, r.end, source_class(r)) for r in results if r.entity_type == "NAME"]
    out = []
    for r in results:
        cls = source_class(r)
        if cls in _ALWAYS or r.score >= strong:
            out.append(r)
            continue
        if (
            r.entity_type == "NAME"
            and cls in _CONTEXT
            and any(c in _CONTEXT and c != cls and s < r.end and r.start < e for s, e, c in names)
        ):
            out.append(r)  # two independent readings agree ("CHF, Mary K., seen today")
            continue
        v = veto_threshold(veto, cls, r.entity_type)
        if v <= 0 or tagged.phi(r.start, r.end) >= v:
            out.append(r)
    return out


def tagger_results(text: str, tagger: PhiTagger, tagged: TaggedText, min_score: float = 0.0) -> list:
    """The tagger's spans over their type's threshold, scored with their mean probability (floored at
    `min_score`: the type's threshold has decided already, the analyzer's cut must not decide again)."""
    out = []
    for s, e, type_, p in tagger.spans(text, tagged):
        score = max(p, min_score)
        out.append(
            RecognizerResult(
                entity_type=project_label(text, s, e, type_), start=s, end=e, score=score,
                analysis_explanation=AnalysisExplanation(recognizer="tagger", original_score=p),
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: "tagger"},
            )
        )  # fmt: skip
    return out


class StackedPhiRecognizer(LocalRecognizer):
    """The rule recognizers (`inner`) and the learned tagger inside Presidio as one recognizer: the rules
    run, their hits become the tagger's features, and the combination decides (module docstring). Without
    a tagger artifact (or with TAGGER_ON false) it returns the rules' hits unchanged."""

    def __init__(self, inner: Sequence[EntityRecognizer], tagger: PhiTagger | None = None,
                 min_score: float = 0.0, plain: PhiTagger | None = None) -> None:  # fmt: skip
        from deid.text.spans import LABELS

        self.inner = list(inner)
        self.tagger = tagger
        self.plain = plain
        self.min_score = min_score
        super().__init__(supported_entities=list(LABELS), name="StackedPhiRecognizer")

    def load(self) -> None:
        if self.tagger is None:
            self.tagger = phi_tagger()
            self.plain = phi_tagger(PLAIN_MODEL_NAME)

    def rule_results(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None) -> list:
        return [r for rec in self.inner for r in rec.analyze(text, entities, nlp_artifacts)]

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list:
        results = self.rule_results(text, entities, nlp_artifacts)
        if self.tagger is None or not TAGGER_ON.get():
            return results
        # hits under the analyzer's cut are no evidence either way
        results = [r for r in results if r.score >= self.min_score]
        tagged = self.tagger.tag(text, hints(results))
        kept = combine(results, tagged, self.tagger.veto, self.tagger.strong)
        added = tagger_results(text, self.tagger, tagged, self.min_score)
        if self.plain is not None:
            # numbers are the rules' to judge (a number is a ZIP only in a ZIP's place)
            plain = tagger_results(text, self.plain, self.plain.tag(text), self.min_score)
            added += [r for r in plain if _LETTER.search(text, r.start, r.end)]
        out = [r for r in kept + outside(text, added, kept) if not _clinical_reading(text, r)]
        return out + repeated(text, out)


# Readers that judge a span by its look and neighbours; a rule's hit has its own context to stand on.
_STATISTICAL = frozenset({"tagger", "spacy", "shape"})


def _clinical_reading(text: str, r: RecognizerResult) -> bool:
    """A name or place that only a statistical reader found, made of clinical words (note_names), in a
    text about medicine (elsewhere "Flovent" may be a company's name)."""
    name = (r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, "")
    return (
        name in _STATISTICAL
        and wordy(r.entity_type)
        and clinical_only(text[r.start : r.end])
        and medical_text(text)
    )


def repeated(text: str, results: Sequence[RecognizerResult]) -> list:
    """The note's other mentions of the words of its found names (note_names.repeated_names)."""
    names = [(r.start, r.end) for r in results if r.entity_type == "NAME"]
    taken = [(r.start, r.end) for r in results]
    return [
        RecognizerResult(
            "NAME", s, e, _REPEATED_SCORE,
            analysis_explanation=AnalysisExplanation(recognizer="repeated", original_score=_REPEATED_SCORE),
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: "repeated"},
        )
        for s, e in repeated_names(text, names, taken)
    ]  # fmt: skip


_REPEATED_SCORE = 0.6


def outside(text: str, added: Sequence[RecognizerResult], kept: Sequence[RecognizerResult]) -> list:
    """The parts of the tagger's spans that no kept rule hit covers: where the rules have a hit, its
    bounds and label stand (they decide the surrogate's kind and shape: a date range stays two dates, a
    hospital a facility); beside a hit, the tagger adds only a name's other words ("John" of "John Smith"
    where a rule had "Smith"): the word before a ZIP or the dash in a range is the rule's context."""
    taken = sorted((r.start, r.end) for r in kept)
    out = []
    for r in added:
        touches = any(s < r.end and r.start < e for s, e in taken)
        if touches and r.entity_type != "NAME":
            continue
        pieces, pos = [], r.start
        for s, e in taken:
            if e <= pos or s >= r.end:
                continue
            if s > pos:
                pieces.append((pos, s))
            pos = max(pos, e)
        if pos < r.end:
            pieces.append((pos, r.end))
        for s, e in pieces:
            while s < e and not text[s].isalnum():
                s += 1
            while e > s and not text[e - 1].isalnum():
                e -= 1
            if e - s >= 2 or (e - s == 1 and text[s].isalpha() and (s, e) == (r.start, r.end)):
                out.append(RecognizerResult(r.entity_type, s, e, r.score, r.analysis_explanation,
                                            r.recognition_metadata))  # fmt: skip
    return out


_LETTER = re.compile(r"\p{L}")
