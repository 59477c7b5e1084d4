"""Recall by form on the seeded PHI stress set (synthetic/phi_stress.py): a gold span counts as found when
`deid.find_phi` covers every one of its letters and digits (any label; the full stop of "Ave." names no one);
each found date's surrogate must
keep the written shape (digits for digits, letters for letters in the same case, separators kept).

    PYTHONPATH=$PWD .venv/bin/python bench/deid_recall_stress.py check [--per-form 4] [--misses 20] [--out f.json]

Seeds 1-5 are the tuning half, 6-10 the check half: rules are fixed on the tuning half's misses only.
"""

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import regex as re

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HALVES = {"tuning": range(1, 6), "check": range(6, 11)}
_RUN = re.compile(r"\d+|\p{Lu}\p{Ll}+|\p{Lu}+|\p{Ll}+")


def shape(text: str) -> str:
    """'7/22' -> '9/9', 'Jul. 22' -> 'Aa. 9', "'92" -> "'9": what a surrogate must keep of a date."""

    def one(m: re.Match[str]) -> str:
        s = m.group()
        return "9" if s[0].isdigit() else "Aa" if s[0].isupper() and len(s) > 1 and s[1:].islower() else (
            "A" if s.isupper() else "a")  # fmt: skip

    return _RUN.sub(one, text)


def main() -> None:
    from deid.text import find_phi_batch
    from deid.text.surrogates import Surrogates
    from synthetic.phi_stress import stress_set

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("half", choices=tuple(HALVES))
    ap.add_argument("--per-form", type=int, default=4)
    ap.add_argument("--misses", type=int, default=0, help="print up to N missed spans per form")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    cases = [c for seed in HALVES[args.half] for c in stress_set(seed, args.per_form)]
    cpu = time.process_time()
    found = find_phi_batch([text for text, _ in cases])
    cpu = time.process_time() - cpu
    surrogates = Surrogates(7, -35, "shifted")
    gold, hit, misses = Counter(), Counter(), defaultdict(list)
    dates, kept, bad = Counter(), Counter(), defaultdict(list)
    for (text, spans), detected in zip(cases, found, strict=True):
        for s in spans:
            form = s["form"]
            gold[form] += 1
            need = {i for i in range(s["start"], s["end"]) if text[i].isalnum()}
            covered = {i for d in detected for i in range(max(d.start, s["start"]), min(d.end, s["end"]))}
            if need <= covered:
                hit[form] += 1
            else:
                misses[form].append(f"{text[s['start']:s['end']]!r} in {text.strip()!r} -> "
                                    f"{[(text[d.start:d.end], d.label) for d in detected]}")  # fmt: skip
            if s["label"] != "DATE":
                continue
            for d in detected:
                if d.label == "DATE" and d.start < s["end"] and s["start"] < d.end:
                    original = text[d.start : d.end]
                    out = surrogates.replace("DATE", original)
                    dates[form] += 1
                    if shape(out) == shape(original) and "[" not in out:
                        kept[form] += 1
                    else:
                        bad[form].append(f"{original!r} -> {out!r}")
    rows = {}
    print(f"{args.half} half: {len(cases)} cases, {sum(gold.values())} spans; find_phi {cpu:.1f} CPU s")
    print(f"{'form':28} {'gold':>5} {'recall':>7}  {'date surrogate keeps shape':>27}")
    for form in gold:
        r = hit[form] / gold[form]
        fmt = f"{kept[form]}/{dates[form]}" if dates[form] else ""
        rows[form] = {"gold": gold[form], "found": hit[form], "recall": round(r, 4),
                      "date_shape_kept": kept[form], "dates": dates[form]}  # fmt: skip
        print(f"{form:28} {gold[form]:5d} {r:7.3f}  {fmt:>27}")
        for line in misses[form][: args.misses]:
            print("    miss", line)
        for line in bad[form][: args.misses]:
            print("    shape", line)
    total = sum(hit.values()) / sum(gold.values())
    print(f"{'ALL':28} {sum(gold.values()):5d} {total:7.3f}  {sum(kept.values())}/{sum(dates.values())}")
    if args.out:
        args.out.write_text(json.dumps({"half": args.half, "per_form": args.per_form, "forms": rows,
                                        "recall": round(total, 4)}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
