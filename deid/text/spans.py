"""PhiSpan, the label set, and how overlapping detections are resolved into one list."""

from dataclasses import dataclass

# The label set. HIPAA Safe Harbor's 18 identifiers fold into these; see docs/deidentification.md.
LABELS = (
    "NAME",  # people: patients, relatives, clinicians, staff
    "DATE",  # every element of a date finer than the year, plus bare years and seasons with a year
    "AGE",  # ages over 89 (younger ages are not identifiers)
    "ID",  # MRNs, account, health-plan, licence, device, card and other record numbers
    "SSN",  # US social security numbers
    "PHONE",  # phone, fax and pager numbers
    "EMAIL",
    "URL",
    "IP",
    "ADDRESS",  # street address, PO box, unit
    "LOCATION",  # city, county, state, country or other named place
    "ZIP",
    "FACILITY",  # hospitals, clinics, practices, pharmacies
    "ORGANIZATION",  # employers and other named organisations
)

# When two detections overlap, the one with the higher priority keeps the label; ties go to the longer.
_PRIORITY = {
    "SSN": 9,
    "EMAIL": 9,
    "URL": 8,
    "IP": 8,
    "PHONE": 7,
    "DATE": 7,
    "ID": 6,
    "AGE": 6,
    "ADDRESS": 5,
    "ZIP": 5,
    "NAME": 4,
    "FACILITY": 3,
    "LOCATION": 2,
    "ORGANIZATION": 1,
}


@dataclass(frozen=True, slots=True, order=True)
class PhiSpan:
    """One piece of PHI in a text: characters [start, end) carry `label`, detected with `score` in [0, 1]."""

    start: int
    end: int
    label: str
    score: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"bad span [{self.start}, {self.end})")
        if self.label not in _PRIORITY:
            raise ValueError(f"unknown PHI label {self.label!r}; expected one of {LABELS}")


def resolve(spans: list[PhiSpan]) -> list[PhiSpan]:
    """Sorted, non-overlapping spans: overlapping detections merge into one span (their union) whose
    label is that of a member covering the whole union if there is one, else of the highest-priority
    member (then the longest), so no PHI character is dropped.

    >>> resolve([PhiSpan(0, 4, "NAME", 0.6), PhiSpan(2, 9, "DATE", 0.9), PhiSpan(12, 14, "ZIP")])
    [PhiSpan(start=0, end=9, label='DATE', score=0.9), PhiSpan(start=12, end=14, label='ZIP', score=1.0)]
    """
    out: list[PhiSpan] = []
    group: list[PhiSpan] = []
    end = -1
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if group and span.start >= end:
            out.append(_merge(group))
            group = []
        group.append(span)
        end = max(end, span.end) if len(group) > 1 else span.end
    if group:
        out.append(_merge(group))
    return out


def _merge(group: list[PhiSpan]) -> PhiSpan:
    if len(group) == 1:
        return group[0]
    start, end = min(s.start for s in group), max(s.end for s in group)
    # A confident span that covers all the others names the whole ("St. Agatha's" over "Agatha").
    covering = [s for s in group if s.start == start and s.end == end and s.score >= 0.7] or group
    best = max(covering, key=lambda s: (_PRIORITY[s.label], s.end - s.start, s.score))
    return PhiSpan(start, end, best.label, best.score)
