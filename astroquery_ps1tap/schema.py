"""What the package knows about the PS1 DR2 schema at MAST.

Table and column names in the service's spelling, their database types and units, the filters, and
the flag bits.  Everything here is read from ``data/ps1dr2_schema.json`` (built by
``tools/build_schema.py`` from MAST's own catalogues), never from a service response: the live
service has returned the same columns in different letter case and with wrong units over time (see
the developer notes), so results are shaped against this schema.

Look-ups are case-insensitive and return the canonical spelling; unknown names raise
`~astroquery.exceptions.InvalidQueryError` with a "did you mean" suggestion.
"""
import difflib
import functools
import json
import math
from collections import namedtuple
from pathlib import Path

from astroquery.exceptions import InvalidQueryError

__all__ = ["FILTERS", "FILTER_IDS", "TABLE_ALIASES", "Column", "tables", "resolve_table",
           "columns", "resolve_column", "INFO_FLAGS", "AB_ZEROPOINT", "MAG_ERR_FACTOR", "NUMPY_TYPES",
           "INTEGER_TYPES", "flux_to_mag", "mag_to_flux", "DETECTION_SELECT", "FORCED_SELECT",
           "MEAN_SELECT", "LIGHTCURVE_MEAN_SELECT", "PHOTOMETRY_TABLES", "MEASUREMENT_KEYS",
           "with_measurement_keys"]

#: PS1 filters in wavelength order; ``filterID`` 1..5 in ``dbo.Filter``.
FILTERS = ("g", "r", "i", "z", "y")
FILTER_IDS = {i + 1: band for i, band in enumerate(FILTERS)}

#: AB magnitude of a 1 Jy source: ``mag = -2.5 log10(flux / Jy) + AB_ZEROPOINT`` (PS1 fluxes are in Jy).
AB_ZEROPOINT = 8.90
#: ``mag_err = MAG_ERR_FACTOR * flux_err / flux`` (first-order error propagation, 2.5 / ln 10).
MAG_ERR_FACTOR = 2.5 / math.log(10)

#: Database column types of the PS1 schema (``Column.dbtype``) and the numpy type each holds.
NUMPY_TYPES = {"BIGINT": "int64", "INTEGER": "int32", "SMALLINT": "int16", "TINYINT": "uint8",
               "REAL": "float32", "DOUBLE": "float64", "STRING": "str"}
#: The integer ones (identifiers, counts, flags).
INTEGER_TYPES = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT")


def flux_to_mag(flux, flux_err=None):
    """AB magnitude (and its error) of a flux in Jy; NaN where the flux is not positive.

    Examples
    --------
    >>> float(flux_to_mag(1.0))
    8.9
    >>> mag, err = flux_to_mag(1e-3, 1e-5)
    >>> round(float(mag), 2), round(float(err), 4)
    (16.4, 0.0109)
    """
    import numpy as np

    flux = np.asarray(flux, dtype=float)
    positive = flux > 0
    safe = np.where(positive, flux, 1.0)
    mag = np.where(positive, -2.5 * np.log10(safe) + AB_ZEROPOINT, np.nan)
    if flux_err is None:
        return mag
    err = np.where(positive, MAG_ERR_FACTOR * np.asarray(flux_err, dtype=float) / safe, np.nan)
    return mag, err


def mag_to_flux(mag):
    """Flux in Jy of an AB magnitude (the inverse of `flux_to_mag`).

    Examples
    --------
    >>> float(mag_to_flux(8.90))
    1.0
    """
    import numpy as np

    return 10 ** (-0.4 * (np.asarray(mag, dtype=float) - AB_ZEROPOINT))


#: Short names accepted wherever a table is asked for.
TABLE_ALIASES = {
    "mean": "dbo.MeanObjectView",
    "stack": "dbo.StackObjectView",
    "forced_mean": "dbo.ForcedMeanObjectView",
    "detection": "dbo.Detection",
    "forced": "dbo.ForcedWarpMeasurement",
}

#: Columns fetched by default for each kind of photometry.  Canonical names after shaping are the
#: single-epoch ones (forced photometry's ``F`` prefix is dropped by `astroquery_ps1tap.tables.shape_detections`).
DETECTION_SELECT = ("objID", "detectID", "filterID", "obsTime", "ra", "dec", "psfFlux", "psfFluxErr",
                    "apFlux", "apFluxErr", "kronFlux", "kronFluxErr", "psfMajorFWHM", "psfMinorFWHM",
                    "psfQfPerfect", "infoFlag", "infoFlag2", "infoFlag3")
FORCED_SELECT = ("objID", "detectID", "forcedWarpID", "filterID", "obsTime", "FpsfFlux", "FpsfFluxErr",
                 "FapFlux", "FapFluxErr", "FkronFlux", "FkronFluxErr", "FpsfMajorFWHM", "FpsfMinorFWHM",
                 "FpsfQfPerfect", "FinfoFlag", "FinfoFlag2", "FinfoFlag3")
MEAN_SELECT = ("objID", "raMean", "decMean", "nDetections", "ng", "nr", "ni", "nz", "ny",
               "gMeanPSFMag", "rMeanPSFMag", "iMeanPSFMag", "zMeanPSFMag", "yMeanPSFMag")
#: Object columns joined onto each measurement for light curves (position and mean magnitudes).
LIGHTCURVE_MEAN_SELECT = ("raMean", "decMean", "nDetections", "gMeanPSFMag", "rMeanPSFMag",
                          "iMeanPSFMag", "zMeanPSFMag", "yMeanPSFMag")
#: The measurement table of each kind of photometry.
PHOTOMETRY_TABLES = {"detection": "dbo.Detection", "forced": "dbo.ForcedWarpMeasurement"}


#: The columns that identify, group and order measurements (the order of every detections table).
MEASUREMENT_KEYS = ("objID", "filterID", "obsTime")


def with_measurement_keys(columns):
    """``columns`` with the keys that order and group measurements (objID, filterID, obsTime).

    Examples
    --------
    >>> with_measurement_keys(["psfFlux"])
    ['objID', 'filterID', 'obsTime', 'psfFlux']
    """
    columns = list(columns)
    lowered = [c.lower() for c in columns if isinstance(c, str)]
    for position, key in enumerate(MEASUREMENT_KEYS):
        if key.lower() not in lowered:
            columns.insert(position, key)
            lowered.insert(position, key.lower())
    return columns


#: ``infoFlag`` bits of single-epoch and forced measurements (``dbo.DetectionFlags``).
INFO_FLAGS = {
    "PSFMODEL": 0x1, "EXTMODEL": 0x2, "FITTED": 0x4, "FAIL": 0x8, "POOR": 0x10, "PAIR": 0x20,
    "PSFSTAR": 0x40, "SATSTAR": 0x80, "BLEND": 0x100, "EXTERNAL": 0x200, "BADPSF": 0x400,
    "DEFECT": 0x800, "SATURATED": 0x1000, "CR_LIMIT": 0x2000, "EXT_LIMIT": 0x4000,
    "MOMENTS_FAILURE": 0x8000, "SKY_FAILURE": 0x10000, "SKYVAR_FAILURE": 0x20000,
    "BELOW_MOMENTS_SN": 0x40000, "BIG_RADIUS": 0x100000, "AP_MAGS": 0x200000,
    "BLEND_FIT": 0x400000, "EXTENDED_FIT": 0x800000, "EXTENDED_STATS": 0x1000000,
}

Column = namedtuple("Column", "name dbtype unit description")
Column.__doc__ = """One column of a PS1 DR2 table: canonical name, database type, unit string, description."""


@functools.lru_cache(maxsize=None)
def _schema():
    path = Path(__file__).with_name("data") / "ps1dr2_schema.json"
    raw = json.loads(path.read_text())
    return {table: {c[0].lower(): Column(*c) for c in cols} for table, cols in raw.items()}


@functools.lru_cache(maxsize=None)
def _table_index():
    index = {}
    for table in _schema():
        index[table.lower()] = table
        index.setdefault(table.split(".", 1)[1].lower(), table)
    return index


def tables():
    """Return the qualified names of all tables the service publishes (``dbo.MeanObjectView``, ...)."""
    return sorted(_schema())


def _suggest(word, candidates):
    lookup = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower(), list(lookup), n=3, cutoff=0.6)
    return ", ".join(repr(lookup[c]) for c in close)


def resolve_table(name):
    """Return the canonical qualified name of a table.

    Parameters
    ----------
    name : str
        A short alias (``"mean"``, ``"stack"``, ``"forced_mean"``, ``"detection"``, ``"forced"``),
        or a table name with or without ``dbo.``, in any letter case.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        If the table is unknown; the message suggests close names.

    Examples
    --------
    >>> resolve_table("mean")
    'dbo.MeanObjectView'
    >>> resolve_table("DETECTION")
    'dbo.Detection'
    """
    if not isinstance(name, str):
        raise InvalidQueryError(f"table must be a string, got {name!r}")
    key = name.strip().lower()
    if key in TABLE_ALIASES:
        return TABLE_ALIASES[key]
    try:
        return _table_index()[key]
    except KeyError:
        hint = _suggest(key.split(".")[-1], list(TABLE_ALIASES) + [t.split(".", 1)[1] for t in _schema()])
        raise InvalidQueryError(
            f"unknown table {name!r}" + (f"; did you mean {hint}?" if hint else "")
            + " (list_tables() lists them)") from None


def columns(table):
    """Return the `Column` records of a table, in schema order.

    Examples
    --------
    >>> [c.name for c in columns("dbo.Filter")]
    ['filterID', 'filterType']
    """
    return list(_schema()[resolve_table(table)].values())


def find_column(table, name):
    """Return the `Column` named ``name`` (any case) in ``table``, or None."""
    return _schema()[resolve_table(table)].get(name.lower())


def resolve_column(table, name):
    """Return the canonical spelling of a column of ``table``.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        If the column is not in the table; the message suggests close names.

    Examples
    --------
    >>> resolve_column("mean", "RAMEAN")
    'raMean'
    """
    if not isinstance(name, str):
        raise InvalidQueryError(f"column name must be a string, got {name!r}")
    column = find_column(table, name.strip())
    if column is None:
        table = resolve_table(table)
        hint = _suggest(name, [c.name for c in columns(table)])
        raise InvalidQueryError(
            f"unknown column {name!r} in {table}" + (f"; did you mean {hint}?" if hint else "")
            + f" (list_columns({table!r}) lists them)")
    return column.name
