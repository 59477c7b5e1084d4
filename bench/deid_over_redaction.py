"""Over-redaction on PHI-free clinical prose (MTSamples): the share of words `find_phi` marks, and what
marks them (which recognizer or rule, which label, what the marked text is and its shape).

    .venv/bin/python bench/deid_over_redaction.py [--part check] [--limit N] [--examples 5] [--json out.json]

The corpus (../shared/data/notes-mtsamples/curated, no gold annotations) is split by document: a note is in
the check part when sha256(file name) % 3 == 0 (deid.text.corpora.in_check_part, the same rule as
`longitude deid eval --format brat --part check`); rules are tuned on the other two thirds only. A word is
an alphanumeric run, counted as in `longitude deid eval` (deid.text.evaluation.over_redaction).

Attribution: the analyzer's results for each note are recorded before the final filtering (every
recognizer's hit, named by its recognizer: a rule's name, `tagger`, `spacy`, `shape`, `repeated`,
`known`), and those the final filter drops (deid.text.clinical_guard) are counted by reason; a marked
word is credited to the hits that overlap it, or to `list` when only the engine's list spreading
(deid.text.proper_nouns.spread_over_lists) put it there.
"""

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import regex as re

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared/data/notes-mtsamples/curated"
_WORD = re.compile(r"[^\W_]+")  # as deid.text.evaluation counts words


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--part", choices=("all", "tuning", "check"), default="check")
    ap.add_argument("--limit", type=int, default=None, help="score the first N notes of the part")
    ap.add_argument("--offset", type=int, default=0, help="skip the first N notes of the part")
    ap.add_argument("--examples", type=int, default=0, help="print up to N marked texts per class")
    ap.add_argument("--no-tagger", action="store_true", help="the rules alone")
    ap.add_argument(
        "--no-guard", action="store_true", help="without the final filter (clinical_guard): the before"
    )
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--dump", type=Path, default=None, help="write every marked span (JSON lines) here")
    args = ap.parse_args()
    if not args.corpus.exists():
        sys.exit(f"no corpus at {args.corpus}")

    from deid.text.corpora import read_corpus, select_part

    if args.no_guard:
        import deid.text.clinical_guard as guard

        guard.drop_clinical = lambda text, results: list(results)
        guard.clinical_reason = lambda *args: None  # the engine's filter on list-spread names too
    docs = select_part(read_corpus(args.corpus, "brat"), args.part)[args.offset :]
    docs = docs[: args.limit] if args.limit else docs
    report = measure(
        [d.text for d in docs],
        tagger=not args.no_tagger,
        examples=args.examples,
        dump=args.dump,
        guard_on=not args.no_guard,
    )
    report.update(corpus=str(args.corpus), part=args.part, offset=args.offset, guard=not args.no_guard)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def measure(
    texts: list[str], tagger: bool = True, examples: int = 0, dump: Path | None = None, guard_on: bool = True
) -> dict:
    from deid.text.clinical_guard import clinical_reason
    from deid.text.engine import analyzer, chunks, find_phi_batch
    from deid.text.error_report import false_alarm_class, shape

    engine = analyzer()
    recorded: dict[str, list] = {}
    original = engine.analyze

    def recording(text, *a, **kw):
        results = original(text, *a, **kw)
        recorded[text] = results
        return results

    engine.analyze = recording
    try:
        find_phi_batch(texts[:1], tagger=tagger)  # warm-up outside the timing
        t0 = time.perf_counter()
        found = find_phi_batch(texts, tagger=tagger)
        seconds = time.perf_counter() - t0
    finally:
        del engine.analyze
    words = marked = 0
    by_source, by_label, by_class, by_shape = Counter(), Counter(), Counter(), Counter()
    by_date_class = Counter()  # DATE words by what the date holds (HIPAA: elements other than the year)
    dropped = Counter()  # raw hits the final stage removed (deid.text.clinical_guard), by reason
    quotes: dict[str, list[str]] = defaultdict(list)
    dumped = []
    for text, spans in zip(texts, found, strict=True):
        raw = []
        for s, e in chunks(text):
            raw += [(r.start + s, r.end + s, _source(r), r.entity_type) for r in recorded.get(text[s:e], [])]
        for s, e, src, label in raw:
            reason = clinical_reason(text, s, e, label, src) if src != "known" and guard_on else None
            if reason is not None:
                dropped[f"{reason} ({src} {label})"] += 1
        raw = [(s, e, src) for s, e, src, _ in raw]
        for x in spans if dump else ():
            srcs = sorted({src for s, e, src in raw if x.start < e and s < x.end}) or ["list"]
            dumped.append({"source": "+".join(srcs), "label": x.label, "text": text[x.start : x.end],
                           "context": text[max(0, x.start - 40) : x.end + 40]})  # fmt: skip
        for m in _WORD.finditer(text):
            words += 1
            ws, we = m.span()
            span = next((x for x in spans if ws < x.end and x.start < we), None)
            if span is None:
                continue
            marked += 1
            sources = sorted({src for s, e, src in raw if ws < e and s < we}) or ["list"]
            key = "+".join(sources)
            piece = text[span.start : span.end]
            cls = false_alarm_class(text, piece)
            by_source[(key, span.label)] += 1
            by_label[span.label] += 1
            by_class[cls] += 1
            if span.label == "DATE":
                by_date_class[date_class(piece)] += 1
            by_shape[shape(m.group())] += 1
            if examples and ws <= span.start < we and len(quotes[key]) < examples:
                quotes[key].append(f"{span.label}: {text[max(0, span.start - 30) : span.end + 30]!r}")
    if dump:
        dump.write_text("".join(json.dumps(d) + "\n" for d in dumped))
    return {
        "notes": len(texts),
        "words": words,
        "marked": marked,
        "share": marked / words if words else None,
        "seconds": round(seconds, 1),
        "tagger": tagger,
        "by_source": [{"source": k, "label": lab, "words": n} for (k, lab), n in by_source.most_common()],
        "by_label": dict(by_label.most_common()),
        "by_class": dict(by_class.most_common()),
        "by_date_class": dict(by_date_class.most_common()),
        "by_shape": dict(by_shape.most_common(20)),
        "dropped_by_final_stage": dict(dropped.most_common()),
        "examples": dict(quotes),
    }


_MONTH = r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\p{L}*\.?"
_DATE_CLASSES = (  # first match wins; "day" = a day of the month is written, "month" = a month is
    (
        "day and month (PHI)",
        rf"\d{{1,4}}[/.-]\d{{1,2}}(?:[/.-]\d{{1,4}})?\b.*|{_MONTH}\s+\d{{1,2}}\b.*"
        rf"|(?:the\s+)?\d{{1,2}}(?i:st|nd|rd|th)?(?:\s+of)?[\s-]+{_MONTH}.*",
    ),
    (
        "month (PHI)",
        rf"(?:{_MONTH}(?:\s+of)?,?\s+)?'?\d{{2,4}}|{_MONTH}|(?i:(?:last|next|this|past)\s+\p{{L}}+)"
        rf"|.*(?i:spring|summer|fall|autumn|winter|christmas|easter|thanksgiving).*",
    ),
    ("day alone", r"(?i:(?:the\s+)?\d{1,2}(?:st|nd|rd|th)?)"),
)


def date_class(piece: str) -> str:
    """What a DATE span holds: a day and a month, a month (or a season) with or without a year, a year
    alone (HIPAA's Safe Harbor keeps years; the PhysioNet gold marks them), a day alone, or other."""
    t = " ".join(piece.split())
    if re.fullmatch(r"'?(?:1[89]|20)\d\d'?|'\d\d|\d\d'", t):
        return "year alone (kept by Safe Harbor)"
    if re.fullmatch(r"\d{1,2}/(?:\d{4}|3[2-9]|[4-9]\d|0\d)", t):
        return "month (PHI)"  # 4/96, 03/2001, 10/07: a month and its year
    for name, pattern in _DATE_CLASSES:
        if re.fullmatch(pattern, t):
            return name
    return "other"


def _source(result) -> str:
    meta = result.recognition_metadata or {}
    return meta.get("recognizer_name") or "?"


def print_report(r: dict) -> None:
    print(f"{r['part']} part: {r['notes']} notes, {r['words']} words, {r['marked']} marked "
          f"({100 * r['share']:.3f}%), {r['seconds']} s, tagger {'on' if r['tagger'] else 'off'}")  # fmt: skip
    print("\nmarked words by source and label:")
    for row in r["by_source"]:
        print(f"  {row['words']:6d}  {row['source']:40s} {row['label']}")
    for key in ("by_label", "by_class", "by_date_class", "by_shape", "dropped_by_final_stage"):
        print(f"\n{key.replace('_', ' ')}:")
        for k, n in r[key].items():
            print(f"  {n:6d}  {k}")
    for key, quotes in r["examples"].items():
        print(f"\n{key}:")
        for q in quotes:
            print(f"    {q}")


if __name__ == "__main__":
    main()
