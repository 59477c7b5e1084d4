"""CPU cost of denying every patient's names, identifiers, phones, e-mails and street lines of the root in notes
(issue 14/15): the notes step on a demo root without the root-wide matcher, with names only, and with all,
alternated in one process; then the matcher alone on the demo root and (names) at a larger root.

Usage: nice .venv/bin/python bench/root_names_cost.py [--patients 200] [--repeat 2] [--scale 5000]
"""

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SECRET = b"bench-secret-0123456789"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--scale", type=int, default=5000, help="patients for the matcher-only measurement")
    args = ap.parse_args()

    import polars as pl

    import pipelines.defs.known_phi as known_phi
    import pipelines.defs.notes.deidentify as notes_step
    from deid.pseudonym import Keyring
    from deid.text.lexicon import FIRST_NAMES, SURNAMES
    from deid.text.root_identifiers import RootIdentifiers
    from deid.text.root_names import RootNames
    from deid.text.root_phi import RootPhi
    from deid.text.words import known_word
    from pipelines.defs.fhir.ingest import ingest_fhir
    from pipelines.defs.notes.files import ingest_note_files
    from quality.phi_audit import name_phrases
    from schemas.layout import Layout
    from synthetic import generate_landing

    real = notes_step.root_phi
    modes = {
        "without": lambda layout: RootPhi(RootNames(()), RootIdentifiers()),
        "names": lambda layout: RootPhi(real(layout).names, RootIdentifiers()),
        "with": real,
    }
    with tempfile.TemporaryDirectory() as tmp:
        layout, keys = Layout(Path(tmp)), Keyring(SECRET)
        generate_landing(layout.landing, args.patients, 7, workers=1)
        ingest_fhir(layout, keys, 4)
        ingest_note_files(layout, keys, 4)
        texts = pl.read_parquet(sorted(layout.raw.glob("*/notes/*/*.parquet")), columns=["text"])["text"]
        print(f"demo root: {args.patients} patients, {len(texts)} notes, {texts.str.len_chars().sum()} chars")
        for rep in range(args.repeat):
            for mode, matcher in modes.items():
                notes_step.root_phi = matcher
                known_phi._root_phi.cache_clear()
                cpu = time.process_time()
                n = sum(notes_step.deidentify_shard(layout, keys, k, (0.8, 0.1, 0.1))["notes"] for k in range(4))
                print(f"rep {rep} {mode:7s} matcher: notes step {time.process_time() - cpu:.2f} CPU s ({n} notes)")
        notes_step.root_phi = real
        known_phi._root_phi.cache_clear()
        _matcher_cost("the demo root's names and identifiers", lambda: real(layout), texts)
        known_phi._root_phi.cache_clear()
        _matcher_cost("the demo root's names", lambda: real(layout).names, texts)
        known_phi._root_phi.cache_clear()
        _matcher_cost("the demo root's identifiers", lambda: real(layout).identifiers, texts)
        rng = random.Random(0)
        people = [[rng.choice(FIRST_NAMES), rng.choice(SURNAMES)] for _ in range(args.scale)]
        phrases = [p for parts in people for p in name_phrases(parts)]
        _matcher_cost(f"{args.scale} patients' names", lambda: RootNames(phrases, is_common=known_word), texts)


def _matcher_cost(label: str, build, texts) -> None:
    """CPU seconds to build one matcher and to run it over every note."""
    cpu = time.process_time()
    matcher = build()
    built = time.process_time() - cpu
    cpu = time.process_time()
    hits = sum(len(matcher.spans(t)) for t in texts)
    print(
        f"matcher of {label}: build {built:.3f} CPU s, {_size(matcher)} keys; "
        f"all {len(texts)} notes {time.process_time() - cpu:.3f} CPU s, {hits} spans"
    )


def _size(matcher) -> int:
    return matcher.names.size + matcher.identifiers.size if hasattr(matcher, "names") else matcher.size


if __name__ == "__main__":
    main()
