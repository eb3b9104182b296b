"""What the package knows about the PS1 DR2 schema at MAST.

Table and column names in the service's spelling, their database types and units, the filters, and
the flag bits.  Everything here is read from ``data/ps1dr2_schema.json`` (built by
``tools/build_schema.py`` from MAST's own catalogues), never from a service response: the live
service has returned the same columns in different letter case and with wrong units over time (see
the developer notes), so results are shaped against this schema.

MAST serves PS1 DR2 in two schemas (`SCHEMAS`): ``dbo`` (the legacy service, CasJobs names such as
``dbo.MeanObjectView``) and ``ps1_dr2`` (the newer, Postgres-backed service, snake_case names such
as ``ps1_dr2.mean_object``).  A ``ps1_dr2`` table has the rows and columns of one ``dbo`` table,
sometimes with a few more (``data/ps1_dr2_tables.json``); `resolve_table` turns any table name or
alias into its name in either schema.  Column names are the same in both.

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

__all__ = ["FILTERS", "FILTER_IDS", "SCHEMAS", "DEFAULT_SCHEMA", "MAST_SERVICES", "TABLE_ALIASES",
           "Column", "tables", "resolve_table", "schema_of", "parse_schema", "ps1_dr2_table_seen",
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


#: The schemas PS1 DR2 is served in: MAST's legacy service (``dbo``) and its newer one (``ps1_dr2``).
SCHEMAS = ("dbo", "ps1_dr2")
#: The schema used where a service has both (the one MAST's "PS1 DR2 TAP" tutorial uses).
DEFAULT_SCHEMA = "dbo"

#: MAST's TAP services with PS1 DR2, by name: ``ps1dr2`` (legacy, schema ``dbo``) and
#: ``mast_catalogs`` (newer, Postgres-backed, schema ``ps1_dr2`` among MAST's other catalogues).
#: MAST states for both: at most 100,000 rows per query (the default and the maximum), async
#: jobs of at most 1,200 s, about 5 queries at once; neither declares a table upload method.
MAST_SERVICES = {
    "ps1dr2": "https://mast.stsci.edu/vo-tap/api/v0.1/ps1dr2",
    "mast_catalogs": "https://mast.stsci.edu/vo-tap/api/v0.1/mast_catalogs",
}

#: Short names accepted wherever a table is asked for (their ``dbo`` tables; `resolve_table`
#: gives the ``ps1_dr2`` equivalents).
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


def _data(name):
    return json.loads((Path(__file__).with_name("data") / name).read_text())


@functools.lru_cache(maxsize=None)
def _schema():
    raw = _data("ps1dr2_schema.json")
    return {table: {c[0].lower(): Column(*c) for c in cols} for table, cols in raw.items()}


@functools.lru_cache(maxsize=None)
def _ps1_dr2_tables():
    return _data("ps1_dr2_tables.json")


@functools.lru_cache(maxsize=None)
def _equivalents():
    """``{table: {schema: the table serving its purpose in that schema}}``.

    A ``ps1_dr2`` table stands for the ``dbo`` table it is the same as (``same_as``) and for the
    ``dbo`` tables listed in ``stands_for`` (``forced_mean_object``, which has positions, for
    ``ForcedMeanObjectView``); back in ``dbo`` it is its ``same_as`` table.
    """
    pairs = {}
    for new, spec in _ps1_dr2_tables().items():
        for old in [spec["same_as"]] + spec.get("stands_for", []):
            pairs[old] = {"dbo": old, "ps1_dr2": new}
        pairs[new] = {"dbo": spec["same_as"], "ps1_dr2": new}
    return pairs


@functools.lru_cache(maxsize=None)
def _table_index():
    index = {}
    for table in sorted(_schema()):  # dbo first: a bare name both schemas have means the dbo one
        index[table.lower()] = table
        index.setdefault(table.split(".", 1)[1].lower(), table)
    return index


def schema_of(table):
    """The schema of a qualified table name (``"dbo"`` or ``"ps1_dr2"``)."""
    return table.split(".", 1)[0]


def parse_schema(name):
    """``name`` if it is one of `SCHEMAS` (any case), else an `InvalidQueryError` naming them.

    Examples
    --------
    >>> parse_schema("PS1_DR2")
    'ps1_dr2'
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in SCHEMAS:
        raise InvalidQueryError(f"schema must be one of {', '.join(map(repr, SCHEMAS))}, got {name!r}")
    return key


def tables(schema=None):
    """Return the qualified names of the tables known in ``schema`` (default: both schemas).

    Examples
    --------
    >>> len(tables("dbo")), tables("ps1_dr2")[:2]
    (64, ['ps1_dr2.detection', 'ps1_dr2.forced_mean_object'])
    """
    names = sorted(_schema())
    return names if schema is None else [t for t in names if schema_of(t) == parse_schema(schema)]


def ps1_dr2_table_seen(table):
    """Whether a ``ps1_dr2`` table was seen in MAST's own material (False: its name is inferred)."""
    return bool(_ps1_dr2_tables()[table]["seen"])


def _suggest(word, candidates):
    lookup = {}
    for c in candidates:
        lookup.setdefault(c.lower(), c)  # the first spelling (dbo's) of a name both schemas have
    close = difflib.get_close_matches(word.lower(), list(lookup), n=3, cutoff=0.6)
    return ", ".join(repr(lookup[c]) for c in close)


def resolve_table(name, schema=None):
    """Return the canonical qualified name of a table, in ``schema`` if given.

    This is the one place table names are resolved: every alias and table name, of either schema,
    goes through it.

    Parameters
    ----------
    name : str
        A short alias (``"mean"``, ``"stack"``, ``"forced_mean"``, ``"detection"``, ``"forced"``),
        or a table name of either schema, qualified or not, in any letter case.
    schema : {"dbo", "ps1_dr2"} or None
        Give the table's name in this schema (the equivalent table when ``name`` is of the other
        one); None: as named (aliases name ``dbo`` tables).

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        If the table is unknown (the message suggests close names), or has no equivalent in
        ``schema``.

    Examples
    --------
    >>> resolve_table("mean")
    'dbo.MeanObjectView'
    >>> resolve_table("DETECTION")
    'dbo.Detection'
    >>> resolve_table("mean", "ps1_dr2"), resolve_table("ps1_dr2.stack_object", "dbo")
    ('ps1_dr2.mean_object', 'dbo.StackObjectView')
    """
    if not isinstance(name, str):
        raise InvalidQueryError(f"table must be a string, got {name!r}")
    key = name.strip().lower()
    if key in TABLE_ALIASES:
        table = TABLE_ALIASES[key]
    else:
        try:
            table = _table_index()[key]
        except KeyError:
            hint = _suggest(key.split(".")[-1],
                            [t.split(".", 1)[1] for t in tables()] + list(TABLE_ALIASES))
            raise InvalidQueryError(
                f"unknown table {name!r}" + (f"; did you mean {hint}?" if hint else "")
                + " (list_tables() lists them)") from None
    if schema is None or schema_of(table) == parse_schema(schema):
        return table
    try:
        return _equivalents()[table][schema]
    except KeyError:
        raise InvalidQueryError(
            f"{table} has no equivalent in schema {schema!r}; the {schema} tables known are: "
            f"{', '.join(tables(schema))}") from None


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
