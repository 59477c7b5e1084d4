"""What a PHI tagger's card must agree with when the model loads: the lexicons its features read now, and a
threshold for each of the tagger's types."""

import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path


class TaggerCardWarning(UserWarning):
    """The model loads and runs, but not as it was trained or tuned: retrain (`longitude deid train`)."""


@lru_cache(maxsize=1)
def _lexicon_fingerprint() -> str:
    """Once per process (a tenth of a second): both taggers' cards are checked against it."""
    from deid.text.tagger_features import lexicon_fingerprint

    return lexicon_fingerprint()


def card_problems(card: dict, card_path: Path, types: Sequence[str]) -> list[str]:
    """What of `card` the running code contradicts (the lexicons; a threshold for each of `types`), one
    sentence each: names and digests, never a text."""
    if not card:
        return [f"{card_path} is missing or empty: the tagger runs with the default thresholds and vetoes"]
    out = []
    recorded, now = card.get("lexicon_fingerprint"), _lexicon_fingerprint()
    if recorded != now:
        out.append(
            f"{card_path}: the model was trained on lexicons with fingerprint {recorded}, the lexicons now give "
            f"{now} (deid.text.lexicon, gazetteer or english-words changed): its lexicon features read "
            "differently than in training and its recall can drop; retrain with `longitude deid train` or "
            "restore the lexicons"
        )
    missing = [t for t in types if t not in card.get("thresholds", {})]
    if missing:
        out.append(f"{card_path}: no threshold for {', '.join(missing)}: the default 0.5 applies")
    return out


def check_card(card: dict, card_path: Path, types: Sequence[str]) -> None:
    """Warn (TaggerCardWarning) for each problem of `card_problems`. The model still loads: a lexicon edit
    changes the features of the words it touches, and without the tagger the rules alone find less; but
    never silently, and the tests fail when the shipped cards disagree (tests/deid/test_tagger_recipe.py)."""
    for problem in card_problems(card, card_path, types):
        warnings.warn(problem, TaggerCardWarning, stacklevel=3)
