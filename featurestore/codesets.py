"""Named code sets (featurestore/codesets/*.yaml): one concept across vocabularies, for tasks and specs.

A code set lists the codes of one clinical concept as each kind of source delivers them: SNOMED CT (FHIR, and
OMOP standard concepts, which the omop-cdm54 mapping writes as `SNOMED//<concept_code>`), ICD-10-CM and
ICD-9-CM (claims and hospital extracts), LOINC. A task or feature spec names it with `{set: NAME}` wherever it
takes codes, so the same task runs on FHIR, OMOP and ICD-coded tables.
"""

from pathlib import Path

import yaml

CODESETS_DIR = Path(__file__).parent / "codesets"
_KEYS = {"name", "description", "codes", "prefix", "regex"}


def shipped_codesets() -> list[str]:
    return sorted(p.stem for p in CODESETS_DIR.glob("*.yaml"))


def load_codeset(name_or_path: str | Path) -> dict:
    """A code set's selector dict ({codes, prefix, regex}), by shipped name or YAML path."""
    path = Path(name_or_path)
    if not path.is_file():
        path = CODESETS_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise FileNotFoundError(
                f"no code set {str(name_or_path)!r}: not a file, nor one of {shipped_codesets()}"
            )
    raw = yaml.safe_load(path.read_text()) or {}
    if unknown := set(raw) - _KEYS:
        raise ValueError(f"{path.name}: unknown code set keys {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    prefixes = raw.get("prefix") or ()
    selector = {
        "codes": [str(c) for c in raw.get("codes") or ()],
        "prefix": [prefixes] if isinstance(prefixes, str) else [str(p) for p in prefixes],
        "regex": raw.get("regex"),
    }
    if not (selector["codes"] or selector["prefix"] or selector["regex"]):
        raise ValueError(f"{path.name}: a code set needs codes, prefix or regex")
    return selector


def expand_sets(raw: dict) -> dict:
    """A selector dict with its `set` (a name or a list) replaced by the sets' codes, prefixes and regexes.

    >>> sorted(expand_sets({"set": "hypertension", "codes": ["X//1"]})["codes"])[:2]
    ['SNOMED//10725009', 'SNOMED//1201005']
    """
    names = raw.get("set")
    names = [names] if isinstance(names, str) else list(names or ())
    out = {k: v for k, v in raw.items() if k != "set"}
    codes, prefixes = list(out.get("codes") or ()), out.get("prefix") or []
    prefixes = [prefixes] if isinstance(prefixes, str) else list(prefixes)
    regexes = [out["regex"]] if out.get("regex") else []
    for name in names:
        one = load_codeset(name)
        codes += one["codes"]
        prefixes += one["prefix"]
        regexes += [one["regex"]] if one["regex"] else []
    out["codes"], out["prefix"] = codes, prefixes
    out["regex"] = "|".join(f"(?:{r})" for r in regexes) if regexes else None
    return out
