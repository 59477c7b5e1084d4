"""The Annex E action table resolved into one rule per attribute for our profile.

Our profile is the Basic Application Level Confidentiality Profile with two options applied:
Retain Longitudinal Temporal Information with Modified Dates (every `dates=C` attribute is shifted by the
subject's offset instead of removed) and Clean Descriptors (every `desc=C` text attribute is kept only when it
passes `deid.dicom.clean.is_clean`, otherwise it gets its basic action).

Compound basic actions are resolved toward keeping the attribute present but empty, which satisfies the IOD
whichever type (1, 2 or 3) the attribute has in a given IOD and never keeps a value:
X/Z, Z/D, X/Z/D -> Z; X/D -> D; X/Z/U* -> U* (keep the sequence, replace the UIDs inside it).
"""

from dataclasses import dataclass
from enum import Enum
from functools import cache

from deid.dicom.annex_e_table import TABLE_E1_1


class Action(Enum):
    REMOVE = "X"
    EMPTY = "Z"
    DUMMY = "D"
    UID = "U"
    UID_SEQUENCE = "U*"  # keep a sequence, de-identify its items (UIDs inside get replaced)
    SHIFT = "C-dates"  # Modified Dates option: shift dates by the subject's offset; times of day are kept
    CLEAN = "C-desc"  # Clean Descriptors option
    KEEP = "K"


_COMPOUND = {
    "X": Action.REMOVE,
    "Z": Action.EMPTY,
    "D": Action.DUMMY,
    "U": Action.UID,
    "X/Z": Action.EMPTY,
    "Z/D": Action.EMPTY,
    "X/Z/D": Action.EMPTY,
    "X/D": Action.DUMMY,
    "X/Z/U*": Action.UID_SEQUENCE,
}


@dataclass(frozen=True, slots=True)
class Rule:
    """What happens to one attribute: `action`, and `fallback` when a CLEAN value turns out not clean."""

    action: Action
    fallback: Action
    name: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    exact: dict[int, Rule]
    # (mask, value, rule): repeating groups such as Overlay Data (60xx,3000) and Curve Data (50xx,xxxx)
    patterns: tuple[tuple[int, int, Rule], ...]
    clean_tags: frozenset[int] = frozenset()  # attributes under Clean Descriptors

    def rule(self, tag: int) -> Rule | None:
        """The rule for a standard (even group) tag, or None if the table does not list it.

        >>> load_table().rule(0x00100010).action
        <Action.EMPTY: 'Z'>
        >>> load_table().rule(0x60023000).name
        'Overlay Data'
        >>> load_table().rule(0x00280010) is None
        True
        """
        found = self.exact.get(tag)
        if found is not None:
            return found
        for mask, value, rule in self.patterns:
            if tag & mask == value:
                return rule
        return None


def _rule(basic: str, options: str, name: str, *, modified_dates: bool, clean_descriptors: bool) -> Rule:
    base = _COMPOUND[basic]
    opts = tuple(tuple(o.split("=", 1)) for o in options.split())
    od = dict(opts)
    if modified_dates and od.get("dates") == "C":
        return Rule(Action.SHIFT, base, name, opts)
    if clean_descriptors and od.get("desc") == "C":
        return Rule(Action.CLEAN, base, name, opts)
    return Rule(base, base, name, opts)


def _mask(tag: str) -> tuple[int, int]:
    mask = int("".join("0" if c == "x" else "f" for c in tag), 16)
    value = int(tag.replace("x", "0"), 16)
    return mask, value


@cache
def load_table(*, modified_dates: bool = True, clean_descriptors: bool = True) -> Table:
    """Parse Table E.1-1 and resolve each row into a Rule for the chosen options."""
    exact: dict[int, Rule] = {}
    patterns = []
    for line in TABLE_E1_1.strip().splitlines():
        tag, basic, options, name = line.split("|")
        rule = _rule(basic, options, name, modified_dates=modified_dates, clean_descriptors=clean_descriptors)
        if "x" in tag:
            patterns.append((*_mask(tag), rule))
        else:
            if int(tag, 16) in exact:
                raise ValueError(f"Table E.1-1 lists {tag} twice")
            exact[int(tag, 16)] = rule
    clean = frozenset(tag for tag, rule in exact.items() if rule.action is Action.CLEAN)
    return Table(exact=exact, patterns=tuple(patterns), clean_tags=clean)
