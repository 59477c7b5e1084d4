"""UCUM unit normalization: linear conversions between units of one dimension, for per-code canonical units."""

import polars as pl

# unit -> (dimension, factor, offset): value_in_base = value * factor + offset. Covers the units of routine
# labs and vitals; a pair of units not both listed here (or of different dimensions) is not converted.
# Molar <-> mass conversions need a molar mass per analyte and are deliberately absent.
_UNITS: dict[str, tuple[str, float, float]] = {
    # mass (base g)
    "kg": ("mass", 1e3, 0.0),
    "g": ("mass", 1.0, 0.0),
    "mg": ("mass", 1e-3, 0.0),
    "ug": ("mass", 1e-6, 0.0),
    "ng": ("mass", 1e-9, 0.0),
    "[lb_av]": ("mass", 453.59237, 0.0),
    "[oz_av]": ("mass", 28.349523125, 0.0),
    # length (base m)
    "m": ("length", 1.0, 0.0),
    "cm": ("length", 1e-2, 0.0),
    "mm": ("length", 1e-3, 0.0),
    "[in_i]": ("length", 0.0254, 0.0),
    "[ft_i]": ("length", 0.3048, 0.0),
    # volume (base L)
    "L": ("volume", 1.0, 0.0),
    "dL": ("volume", 0.1, 0.0),
    "mL": ("volume", 1e-3, 0.0),
    "uL": ("volume", 1e-6, 0.0),
    "fL": ("volume", 1e-15, 0.0),
    # temperature (base Cel)
    "Cel": ("temperature", 1.0, 0.0),
    "[degF]": ("temperature", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    "K": ("temperature", 1.0, -273.15),
    # mass concentration (base g/L)
    "g/L": ("mass/volume", 1.0, 0.0),
    "g/dL": ("mass/volume", 10.0, 0.0),
    "mg/dL": ("mass/volume", 1e-2, 0.0),
    "mg/L": ("mass/volume", 1e-3, 0.0),
    "mg/mL": ("mass/volume", 1.0, 0.0),
    "ug/mL": ("mass/volume", 1e-3, 0.0),
    "ug/dL": ("mass/volume", 1e-5, 0.0),
    "ug/L": ("mass/volume", 1e-6, 0.0),
    "ng/mL": ("mass/volume", 1e-6, 0.0),
    "ng/dL": ("mass/volume", 1e-8, 0.0),
    "pg/mL": ("mass/volume", 1e-9, 0.0),
    # molar concentration (base mol/L)
    "mol/L": ("substance/volume", 1.0, 0.0),
    "mmol/L": ("substance/volume", 1e-3, 0.0),
    "umol/L": ("substance/volume", 1e-6, 0.0),
    "nmol/L": ("substance/volume", 1e-9, 0.0),
    "pmol/L": ("substance/volume", 1e-12, 0.0),
    # pressure (base mm[Hg])
    "mm[Hg]": ("pressure", 1.0, 0.0),
    "kPa": ("pressure", 7.500615613, 0.0),
    "Pa": ("pressure", 7.500615613e-3, 0.0),
    # time (base s)
    "s": ("time", 1.0, 0.0),
    "min": ("time", 60.0, 0.0),
    "h": ("time", 3600.0, 0.0),
    "d": ("time", 86400.0, 0.0),
    "wk": ("time", 604800.0, 0.0),
    "a": ("time", 31557600.0, 0.0),
    # cell counts per volume (base 10*9/L)
    "10*9/L": ("count/volume", 1.0, 0.0),
    "10*3/uL": ("count/volume", 1.0, 0.0),
    "/uL": ("count/volume", 1e-3, 0.0),
    "10*12/L": ("count/volume", 1e3, 0.0),
    "10*6/uL": ("count/volume", 1e3, 0.0),
    # fractions
    "%": ("fraction", 1e-2, 0.0),
    "1": ("fraction", 1.0, 0.0),
}
_BY_LOWER = {u.lower(): u for u in _UNITS}


def canonical_spelling(unit: str | None) -> str | None:
    """The table's spelling of a unit, matched exactly then case-insensitively; other units pass unchanged.

    >>> canonical_spelling("mg/dl"), canonical_spelling("MG/DL"), canonical_spelling("beats/min")
    ('mg/dL', 'mg/dL', 'beats/min')
    """
    if unit is None:
        return None
    unit = unit.strip()
    if unit in _UNITS:
        return unit
    return _BY_LOWER.get(unit.lower(), unit)


def canonical_units(units: pl.Series) -> pl.Series:
    """canonical_spelling over a column, spelling each distinct unit once; always a String column.

    A column with no unit at all (a DICOM-only root) comes out String too, never Null-typed, so joins on
    (code, unit) keep working.

    >>> canonical_units(pl.Series([None, None], dtype=pl.Null)).dtype
    String
    >>> canonical_units(pl.Series(["MG/DL", None])).to_list()
    ['mg/dL', None]
    """
    units = units.cast(pl.String)
    distinct = units.unique().drop_nulls().to_list()
    spelled = [canonical_spelling(u) for u in distinct]
    return units.replace_strict(distinct, spelled, default=None, return_dtype=pl.String)


def conversion(source: str | None, target: str | None) -> tuple[float, float] | None:
    """(scale, shift) with value_in_target = value * scale + shift, or None when not convertible.

    >>> conversion("g/dL", "mg/dL")
    (1000.0, 0.0)
    >>> [round(x, 6) for x in conversion("[degF]", "Cel")]
    [0.555556, -17.777778]
    >>> conversion("mg/dL", "mmol/L") is None
    True
    >>> conversion(None, None)
    (1.0, 0.0)
    """
    source, target = canonical_spelling(source), canonical_spelling(target)
    if source == target:
        return (1.0, 0.0)
    if source not in _UNITS or target not in _UNITS:
        return None
    dim_s, f_s, o_s = _UNITS[source]
    dim_t, f_t, o_t = _UNITS[target]
    if dim_s != dim_t:
        return None
    # base = v * f_s + o_s; target = (base - o_t) / f_t
    return (f_s / f_t, (o_s - o_t) / f_t)
