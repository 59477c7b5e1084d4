"""The evaluation harness: our de-identifier and Presidio's default configuration on the same corpus, in
the same run, scored per entity group at span and token level."""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache

import regex as re

from deid.text.corpora import AnnotatedDoc
from deid.text.scoring import Span, group_of, score

SYSTEMS = ("longitude", "presidio-default")
ALL_SYSTEMS = ("longitude", "longitude-rules", "presidio-default")

# Presidio's entity names -> our scoring groups (what its default anonymizer would redact).
_PRESIDIO_TO_OURS = {"PERSON": "NAME", "DATE_TIME": "DATE", "LOCATION": "LOCATION", "PHONE_NUMBER": "PHONE",
                     "EMAIL_ADDRESS": "EMAIL", "URL": "URL", "IP_ADDRESS": "IP", "US_SSN": "SSN",
                     "ORGANIZATION": "FACILITY"}  # fmt: skip


@lru_cache(maxsize=1)
def presidio_default():
    """Presidio's default AnalyzerEngine (default recognizers, default NER mapping and context
    enhancement) on the same offline spaCy model; the email recognizer's domain check uses the bundled
    public-suffix list instead of fetching it (identical answers, no network)."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    from deid.text.engine import SPACY_MODEL
    from deid.text.recognizers import OfflineEmailRecognizer

    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]}
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine())
    for rec in engine.registry.recognizers:
        if isinstance(rec, EmailRecognizer):
            rec.validate_result = OfflineEmailRecognizer.validate_result.__get__(rec)
    return engine


def _run_longitude(docs: Sequence[AnnotatedDoc], n_process: int, tagger: bool = True) -> list[list[Span]]:
    from deid.text.engine import find_phi_batch

    found = find_phi_batch([d.text for d in docs], [d.known for d in docs], n_process=n_process, tagger=tagger)
    return [[Span(s.start, s.end, group_of(s.label)) for s in spans] for spans in found]


def _run_rules(docs: Sequence[AnnotatedDoc], n_process: int) -> list[list[Span]]:
    """Our rules alone, without the learned tagger."""
    return _run_longitude(docs, n_process, tagger=False)


def _run_presidio(docs: Sequence[AnnotatedDoc], n_process: int) -> list[list[Span]]:
    engine = presidio_default()
    out = []
    for d in docs:
        results = engine.analyze(d.text, language="en")
        out.append([Span(r.start, r.end, group_of(_PRESIDIO_TO_OURS.get(r.entity_type, r.entity_type)))
                    for r in results])  # fmt: skip
    return out


_RUNNERS: dict[str, Callable[[Sequence[AnnotatedDoc], int], list[list[Span]]]] = {
    "longitude": _run_longitude,
    "longitude-rules": _run_rules,
    "presidio-default": _run_presidio,
}


def evaluate(
    docs: Sequence[AnnotatedDoc], systems: Sequence[str] = SYSTEMS, *, n_process: int = 1, errors: bool = False,
    examples: int = 0,
) -> dict[str, object]:  # fmt: skip
    """{"corpus": counts, "systems": {name: {"span": table, "token": table, "over_redaction", "seconds",
    "notes_per_s", "chars_per_s"[, "errors"]}}, "speedup": ours / presidio notes per second}. Each system
    is warmed up (model loaded) before it is timed. `over_redaction` is the share of words outside gold
    PHI that the system marks (on a corpus without PHI, of all words)."""
    gold = [[Span(g.start, g.end, group_of(g.label, d.text[g.start : g.end])) for g in d.spans] for d in docs]
    chars = sum(len(d.text) for d in docs)
    report: dict[str, object] = {
        "corpus": {
            "notes": len(docs),
            "chars": chars,
            "gold_spans": sum(len(g) for g in gold),
            "gold_by_label": dict(Counter(g.label for d in docs for g in d.spans)),
            "unlocated_gold": dict(Counter(u for d in docs for u in d.unlocated)),
            "with_known_phi": sum(d.known is not None for d in docs),
        },
        "systems": {},
    }
    for name in systems:
        runner = _RUNNERS[name]
        runner(docs[:1], 1)  # warm-up: build the engine outside the timing
        t0 = time.perf_counter()
        pred = runner(docs, n_process)
        seconds = time.perf_counter() - t0
        tables = score(zip((d.text for d in docs), gold, pred, strict=True))
        tables["recall_by_label"] = _recall_by_label(docs, pred)
        tables["over_redaction"] = over_redaction([d.text for d in docs], gold, pred)
        if errors:
            from deid.text.error_report import error_report

            tables["errors"] = error_report([d.text for d in docs], gold, pred, examples=examples)
        tables.update(seconds=seconds, notes_per_s=len(docs) / seconds if seconds else float("inf"),
                      chars_per_s=chars / seconds if seconds else float("inf"))  # fmt: skip
        report["systems"][name] = tables
    s = report["systems"]
    if "longitude" in s and "presidio-default" in s:
        report["speedup"] = s["longitude"]["notes_per_s"] / s["presidio-default"]["notes_per_s"]
    return report


_WORD = re.compile(r"[^\W_]+")


def over_redaction(texts: Sequence[str], gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> dict:
    """{"words", "marked", "share"}: words (alphanumeric tokens) overlapping no gold span, and how many
    of them a predicted span overlaps."""
    words = marked = 0
    for text, g, p in zip(texts, gold, pred, strict=True):
        for m in _WORD.finditer(text):
            s, e = m.span()
            if any(s < x.end and x.start < e for x in g):
                continue
            words += 1
            marked += any(s < x.end and x.start < e for x in p)
    return {"words": words, "marked": marked, "share": marked / words if words else float("nan")}


def _recall_by_label(docs: Sequence[AnnotatedDoc], pred: list[list[Span]]) -> dict[str, dict[str, float]]:
    """Span recall per original corpus label (gold overlapped by any detection)."""
    n, found = Counter(), Counter()
    for d, p in zip(docs, pred, strict=True):
        for g in d.spans:
            if group_of(g.label, d.text[g.start : g.end]) == "IGNORE":
                continue
            n[g.label] += 1
            found[g.label] += any(g.start < q.end and q.start < g.end for q in p)
    return {label: {"n": n[label], "recall": found[label] / n[label]} for label in sorted(n)}
