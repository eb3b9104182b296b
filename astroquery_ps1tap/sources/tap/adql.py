"""Building ADQL: pure functions, no network.

Values reach these builders already validated (`astroquery_ps1tap.targets`: positions and radii
are finite numbers in range, identifiers exact non-negative integers); here names of tables and
columns are checked against the PS1 schema (and written in its spelling), and text values are
quoted.  Anything else raises
`~astroquery.exceptions.InvalidQueryError` (or `ValueError`) naming the offending value, before any
network call.

Every builder takes the ``schema`` to write for: ``"dbo"`` (MAST's legacy PS1 service) or
``"ps1_dr2"`` (its newer one), and names tables through `astroquery_ps1tap.ps1.resolve_table`.
The ADQL is portable: tables are qualified with their schema and given aliases, columns are
qualified by alias, no ``Filter`` table or NATURAL JOIN is used (filter names come from
``filterID``), and geometry is written in the form each service was seen to accept (with the
``'ICRS'`` argument for ``dbo``, without it for ``ps1_dr2``), which DaCHS accepts too.
"""
import numbers

import numpy as np
from astroquery.exceptions import InvalidQueryError

from ... import schema as ps1
from ...schema import (DEFAULT_SCHEMA, DETECTION_SELECT, FORCED_SELECT, LIGHTCURVE_MEAN_SELECT,
                       MEAN_SELECT, PHOTOMETRY_TABLES)
from ...targets import number as _number
from ...targets import parse_bands, parse_min_detections, parse_position

__all__ = ["cone_query", "detections_query", "lightcurve_query", "match_query", "column_conditions",
           "metadata_query"]


# ---- values ---------------------------------------------------------------------------------------
def _fmt(value):
    """ADQL literal of a finite float, exact enough for positions (repr round-trips)."""
    return repr(float(value))


def _select_list(table, columns, alias):
    names = [ps1.resolve_column(table, c) for c in columns]
    if len(set(n.lower() for n in names)) != len(names):
        raise InvalidQueryError(f"columns listed twice: {list(columns)!r}")
    return ", ".join(f"{alias}.{n}" for n in names)


def _literal(table, column, value):
    """ADQL literal of ``value`` for ``column`` (numbers for numeric columns, quoted text else)."""
    dbtype = ps1.find_column(table, column).dbtype
    if dbtype == "STRING":
        if not isinstance(value, str):
            raise InvalidQueryError(f"{column} holds text; got {value!r}")
        return "'" + value.replace("'", "''") + "'"
    if dbtype in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT") and isinstance(value, numbers.Integral) \
            and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    return _fmt(_number(value, f"value for {column}"))


def column_conditions(table, column_filters, alias):
    """ADQL conditions for ``{column: value}`` filters (value, (min, max) inclusive, or list).

    Examples
    --------
    >>> column_conditions("mean", {"gMeanPSFMag": (None, 20), "ng": [3, 4]}, "o")
    ['o.gMeanPSFMag <= 20.0', 'o.ng IN (3, 4)']
    """
    conditions = []
    for name, value in (column_filters or {}).items():
        column = ps1.resolve_column(table, name)
        ref = f"{alias}.{column}"
        if isinstance(value, tuple):
            if len(value) != 2 or (value[0] is None and value[1] is None):
                raise InvalidQueryError(f"range for {column} must be (min, max) with at least one "
                                        f"bound, got {value!r}")
            low, high = value
            if low is not None:
                conditions.append(f"{ref} >= {_literal(table, column, low)}")
            if high is not None:
                conditions.append(f"{ref} <= {_literal(table, column, high)}")
        elif isinstance(value, (list, np.ndarray)):
            if len(value) == 0:
                raise InvalidQueryError(f"empty list of values for {column}")
            conditions.append(f"{ref} IN ({', '.join(_literal(table, column, v) for v in value)})")
        else:
            conditions.append(f"{ref} = {_literal(table, column, value)}")
    return conditions


def _detections_cut(table, min_detections):
    """The ``nDetections`` condition (the tutorial's ``nDetections > 1`` is ``min_detections=2``)."""
    cut = parse_min_detections(table, min_detections)
    return [] if cut is None else [f"o.nDetections >= {cut}"]


#: The coordinate-system argument of POINT and CIRCLE in each schema's service: MAST's legacy
#: service is given 'ICRS' (as in its tutorial); the ps1_dr2 service was seen answering without it.
_FRAME = {"dbo": "'ICRS', ", "ps1_dr2": ""}


def _circle(schema, point, ra, dec, radius):
    """``CONTAINS(POINT(point), CIRCLE(ra, dec, radius)) = 1`` as ``schema``'s service accepts it;
    ``point``, ``ra``, ``dec``, ``radius`` are ADQL expressions."""
    frame = _FRAME[schema]
    return f"CONTAINS(POINT({frame}{point}), CIRCLE({frame}{ra}, {dec}, {radius})) = 1"


def _cone(alias, ra, dec, radius, schema):
    return _circle(schema, f"{alias}.raMean, {alias}.decMean", _fmt(ra), _fmt(dec), _fmt(radius))


def _limit(top):
    if top is None:
        return ""
    if isinstance(top, (bool, np.bool_)) or not isinstance(top, numbers.Integral) or top <= 0:
        raise InvalidQueryError(f"top must be a positive integer, got {top!r}")
    return f"TOP {int(top)} "


# ---- queries ----------------------------------------------------------------------------------
def cone_query(ra, dec, radius, *, table="mean", columns=None, min_detections=2,
               column_filters=None, top=None, schema=DEFAULT_SCHEMA):
    """ADQL for objects of an object table within ``radius`` degrees of (``ra``, ``dec``).

    Parameters
    ----------
    ra, dec, radius : float
        Centre and radius in degrees (validated already: see `parse_position`, `parse_radius`).
    table : str
        Object table or alias (``"mean"`` = ``dbo.MeanObjectView``, ``"stack"``, ``"forced_mean"``).
    columns : list of str or None
        Columns to select; default: identifiers, positions, counts, mean PSF magnitudes.
    min_detections : int or None
        Keep objects with ``nDetections >= min_detections`` (default 2, i.e. the tutorial's
        ``nDetections > 1``, which removes most spurious objects); None for no cut.
    column_filters : dict
        ``{column: value | (min, max) | [values]}``.
    top : int or None
        ``TOP n``.
    schema : {"dbo", "ps1_dr2"}
        The schema to write for (``table`` is taken to its equivalent there).

    Examples
    --------
    >>> print(cone_query(187.706, 12.391, 0.2, columns=["objID", "raMean", "decMean"]))
    SELECT o.objID, o.raMean, o.decMean
    FROM dbo.MeanObjectView AS o
    WHERE CONTAINS(POINT('ICRS', o.raMean, o.decMean), CIRCLE('ICRS', 187.706, 12.391, 0.2)) = 1
      AND o.nDetections >= 2
    >>> print(cone_query(187.706, 12.391, 0.2, columns=["objID"], schema="ps1_dr2"))
    SELECT o.objID, o.raMean, o.decMean
    FROM ps1_dr2.mean_object AS o
    WHERE CONTAINS(POINT(o.raMean, o.decMean), CIRCLE(187.706, 12.391, 0.2)) = 1
      AND o.nDetections >= 2
    """
    schema = ps1.parse_schema(schema)
    table = ps1.resolve_table(table, schema)
    if columns is None:
        columns = [c for c in MEAN_SELECT if ps1.find_column(table, c)]
    columns = list(columns)
    for needed in ("objID", "raMean", "decMean"):  # the client needs them to compute separations
        if not any(c.lower() == needed.lower() for c in columns if isinstance(c, str)):
            columns.append(needed)
    conditions = [_cone("o", ra, dec, radius, schema)] + _detections_cut(table, min_detections)
    conditions += column_conditions(table, column_filters, "o")
    return (f"SELECT {_limit(top)}{_select_list(table, columns, 'o')}\nFROM {table} AS o\n"
            f"WHERE " + "\n  AND ".join(conditions))


def _photometry(photometry, schema):
    try:
        return ps1.resolve_table(PHOTOMETRY_TABLES[photometry], schema)
    except (KeyError, TypeError):
        raise InvalidQueryError(f"photometry must be 'detection' or 'forced', got {photometry!r}") from None


def _photometry_conditions(table, alias, bands, min_qf):
    conditions = []
    ids = parse_bands(bands)
    if len(ids) < len(ps1.FILTERS):
        conditions.append(f"{alias}.filterID IN ({', '.join(map(str, ids))})")
    if min_qf is not None:
        qf = _number(min_qf, "min_qf")
        if not 0 <= qf <= 1:
            raise InvalidQueryError(f"min_qf must be within [0, 1], got {min_qf!r}")
        prefix = "F" if ps1.resolve_table(table, "dbo") == PHOTOMETRY_TABLES["forced"] else ""
        conditions.append(f"{alias}.{prefix}psfQfPerfect >= {_fmt(qf)}")
    return conditions


def detections_query(objids, *, photometry="detection", columns=None, bands=None, min_qf=None,
                     upload=None, with_means=False, schema=DEFAULT_SCHEMA):
    """ADQL for the measurements of the objects ``objids`` (validated int64 array).

    Parameters
    ----------
    objids : sequence of int or None
        The objects, placed in the query as an ``IN`` list; None when ``upload`` is given.
    photometry : {"detection", "forced"}
        Single-epoch detections (``dbo.Detection``) or forced photometry on every warp
        (``dbo.ForcedWarpMeasurement``).
    columns : list of str or None
        Columns of that table (default: identifiers, time, fluxes, shape, quality, flags).
    bands : str, list or None
        Filters to keep (``"gri"``); None for all.
    min_qf : float or None
        Server-side cut ``psfQfPerfect >= min_qf`` (the tutorial uses 0.9).
    upload : str or None
        Name of an uploaded table with an ``objID`` column to join instead of an ``IN`` list
        (``TAP_UPLOAD.<upload>``), for services that accept uploads.
    with_means : bool
        Also select each object's mean position, ``nDetections`` and mean PSF magnitudes from
        ``dbo.MeanObjectView`` (what a light curve needs), in the same query.
    schema : {"dbo", "ps1_dr2"}
        The schema to write for.

    Examples
    --------
    >>> print(detections_query([190361393344112894], columns=["objID", "obsTime"], min_qf=0.9))
    SELECT d.objID, d.filterID, d.obsTime
    FROM dbo.Detection AS d
    WHERE d.objID = 190361393344112894
      AND d.psfQfPerfect >= 0.9
    ORDER BY d.objID, d.filterID, d.obsTime
    >>> print(detections_query(None, columns=["psfFlux"], upload="ids"))
    SELECT d.objID, d.filterID, d.obsTime, d.psfFlux
    FROM TAP_UPLOAD.ids AS u
    JOIN dbo.Detection AS d ON d.objID = u.objID
    ORDER BY d.objID, d.filterID, d.obsTime
    >>> print(detections_query([1, 2], columns=["psfFlux"], with_means=True, schema="ps1_dr2"))
    ... # doctest: +NORMALIZE_WHITESPACE
    SELECT d.objID, d.filterID, d.obsTime, d.psfFlux,
      o.raMean, o.decMean, o.nDetections, o.gMeanPSFMag, o.rMeanPSFMag, o.iMeanPSFMag,
      o.zMeanPSFMag, o.yMeanPSFMag
    FROM ps1_dr2.mean_object AS o
    JOIN ps1_dr2.detection AS d ON d.objID = o.objID
    WHERE o.objID IN (1, 2)
    ORDER BY d.objID, d.filterID, d.obsTime
    """
    schema = ps1.parse_schema(schema)
    table = _photometry(photometry, schema)
    mean = ps1.resolve_table("mean", schema)
    key = "o" if with_means else "d"
    if upload is not None:
        if not (isinstance(upload, str) and upload.isidentifier()):
            raise InvalidQueryError(f"upload table name must be an identifier, got {upload!r}")
        source = f"TAP_UPLOAD.{upload} AS u\nJOIN " + (
            f"{mean} AS o ON o.objID = u.objID\nJOIN {table} AS d ON d.objID = o.objID"
            if with_means else f"{table} AS d ON d.objID = u.objID")
        conditions = []
    else:
        ids = [int(i) for i in objids]
        source = (f"{mean} AS o\nJOIN {table} AS d ON d.objID = o.objID" if with_means
                  else f"{table} AS d")
        conditions = [f"{key}.objID = {ids[0]}" if len(ids) == 1
                      else f"{key}.objID IN ({', '.join(map(str, ids))})"]
    return _measurements(source, conditions, photometry, bands, min_qf, columns, with_means, schema)


def _measurements(source, conditions, photometry, bands, min_qf, columns, with_means, schema):
    table = _photometry(photometry, schema)
    default = DETECTION_SELECT if photometry == "detection" else FORCED_SELECT
    columns = ps1.with_measurement_keys(columns or default)
    select = _select_list(table, columns, "d")
    if with_means:
        mean = ps1.resolve_table("mean", schema)
        select += ",\n  " + _select_list(mean, LIGHTCURVE_MEAN_SELECT, "o")
    conditions = conditions + _photometry_conditions(table, "d", bands, min_qf)
    where = ("\nWHERE " + "\n  AND ".join(conditions)) if conditions else ""
    return f"SELECT {select}\nFROM {source}{where}\nORDER BY d.objID, d.filterID, d.obsTime"


def lightcurve_query(ra, dec, radius, *, photometry="detection", bands=None, min_qf=None,
                     min_detections=2, columns=None, schema=DEFAULT_SCHEMA):
    """ADQL for every measurement of the objects in a cone, with their mean magnitudes: one query.

    Joins ``dbo.MeanObjectView`` (position, counts, mean PSF magnitudes) to the measurements, so
    that a light curve from a position takes a single round trip.

    Examples
    --------
    >>> print(lightcurve_query(139.3345, 68.6351, 1 / 3600, columns=["psfFlux"]))  # doctest: +NORMALIZE_WHITESPACE
    SELECT d.objID, d.filterID, d.obsTime, d.psfFlux, o.raMean, o.decMean, o.nDetections,
      o.gMeanPSFMag, o.rMeanPSFMag, o.iMeanPSFMag, o.zMeanPSFMag, o.yMeanPSFMag
    FROM dbo.MeanObjectView AS o
    JOIN dbo.Detection AS d ON d.objID = o.objID
    WHERE CONTAINS(POINT('ICRS', o.raMean, o.decMean), CIRCLE('ICRS', 139.3345, 68.6351, 0.0002777777777777778)) = 1
      AND o.nDetections >= 2
    ORDER BY d.objID, d.filterID, d.obsTime
    """
    schema = ps1.parse_schema(schema)
    mean = ps1.resolve_table("mean", schema)
    conditions = [_cone("o", ra, dec, radius, schema)] + _detections_cut(mean, min_detections)
    source = f"{mean} AS o\nJOIN {_photometry(photometry, schema)} AS d ON d.objID = o.objID"
    return _measurements(source, conditions, photometry, bands, min_qf, columns, True, schema)


def match_query(positions, radius, *, upload=None, min_detections=2, schema=DEFAULT_SCHEMA):
    """ADQL finding the objects within ``radius`` degrees of many positions, in one query.

    Parameters
    ----------
    positions : (ra, dec) arrays in degrees, or None
        Placed in the query as OR-ed cones (for services without uploads); None with ``upload``.
    radius : float
        Match radius in degrees.
    upload : str or None
        Name of an uploaded table with ``idx``, ``ra``, ``dec`` columns, matched on the server.
    min_detections : int or None
        As for `cone_query`.
    schema : {"dbo", "ps1_dr2"}
        The schema to write for.

    Examples
    --------
    >>> print(match_query(([10.0, 20.0], [1.0, 2.0]), 0.001, min_detections=None))
    SELECT o.objID, o.raMean, o.decMean, o.nDetections
    FROM dbo.MeanObjectView AS o
    WHERE (CONTAINS(POINT('ICRS', o.raMean, o.decMean), CIRCLE('ICRS', 10.0, 1.0, 0.001)) = 1
      OR CONTAINS(POINT('ICRS', o.raMean, o.decMean), CIRCLE('ICRS', 20.0, 2.0, 0.001)) = 1)
    """
    schema = ps1.parse_schema(schema)
    mean = ps1.resolve_table("mean", schema)
    select = "o.objID, o.raMean, o.decMean, o.nDetections"
    cut = _detections_cut(mean, min_detections)
    if upload is not None:
        if not (isinstance(upload, str) and upload.isidentifier()):
            raise InvalidQueryError(f"upload table name must be an identifier, got {upload!r}")
        where = ("\nWHERE " + "\n  AND ".join(cut)) if cut else ""
        return (f"SELECT u.idx, {select}\nFROM TAP_UPLOAD.{upload} AS u\n"
                f"JOIN {mean} AS o ON "
                f"{_circle(schema, 'o.raMean, o.decMean', 'u.ra', 'u.dec', _fmt(radius))}{where}")
    ra, dec = positions
    cones = "\n  OR ".join(_cone("o", *parse_position((r, d)), radius, schema) for r, d in zip(ra, dec))
    return f"SELECT {select}\nFROM {mean} AS o\nWHERE " + "\n  AND ".join([f"({cones})"] + cut)


def metadata_query():
    """ADQL listing the PS1 tables and columns a service publishes, in both schemas: one query.

    The answer tells which of `astroquery_ps1tap.schema.SCHEMAS` the service has, and which
    columns each table has, so that a query needing a column the service lacks can be refused
    before it is sent.

    Examples
    --------
    >>> print(metadata_query())  # doctest: +NORMALIZE_WHITESPACE
    SELECT t.schema_name, t.table_name, t.description AS table_description, c.column_name,
      c.datatype, c.unit, c.description
    FROM TAP_SCHEMA.tables AS t
    JOIN TAP_SCHEMA.columns AS c ON c.table_name = t.table_name
    WHERE t.schema_name IN ('dbo', 'ps1_dr2')
    """
    names = ", ".join(f"'{name}'" for name in ps1.SCHEMAS)
    return ("SELECT t.schema_name, t.table_name, t.description AS table_description, c.column_name,\n"
            "  c.datatype, c.unit, c.description\n"
            "FROM TAP_SCHEMA.tables AS t\n"
            "JOIN TAP_SCHEMA.columns AS c ON c.table_name = t.table_name\n"
            f"WHERE t.schema_name IN ({names})")
