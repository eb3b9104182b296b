"""Building ADQL: pure functions, no network.

Every value placed in a query passes through a validator here first, so that a query can only mean
what its arguments say: positions and radii become finite numbers in range, identifiers become
exact non-negative integers, names of tables and columns are checked against the PS1 schema (and
written in its spelling), and text values are quoted.  Anything else raises
`~astroquery.exceptions.InvalidQueryError` (or `ValueError`) naming the offending value, before any
network call.

The ADQL is portable: tables are qualified with ``dbo.`` and given aliases, and columns are
qualified by alias, which both MAST and other TAP servers (DaCHS) accept.
"""
import math
import numbers

import numpy as np
from astroquery.exceptions import InvalidQueryError

from . import schema

__all__ = ["parse_position", "parse_radius", "parse_objids", "parse_bands", "cone_query",
           "detections_query", "lightcurve_query", "match_query", "MAX_RADIUS_DEG"]

#: Largest cone radius accepted, in degrees (MAST rejects or times out on wider cones; tile instead).
MAX_RADIUS_DEG = 0.5

#: Largest objID PS1 can have (int64).
_MAX_OBJID = 2**63 - 1

#: Columns fetched by default for each kind of photometry.  Canonical names after shaping are the
#: single-epoch ones (forced photometry's ``F`` prefix is dropped by `results.shape_detections`).
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
PHOTOMETRY_TABLES = {"detection": "dbo.Detection", "forced": "dbo.ForcedWarpMeasurement"}


# ---- values ---------------------------------------------------------------------------------------
def _number(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidQueryError(f"{what} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidQueryError(f"{what} must be finite, got {value!r}")
    return value


def _fmt(value):
    """ADQL literal of a finite float, exact enough for positions (repr round-trips)."""
    return repr(float(value))


def parse_position(coordinates):
    """Return ``(ra, dec)`` in degrees (ICRS) from any accepted form of a position.

    Parameters
    ----------
    coordinates : `~astropy.coordinates.SkyCoord`, str, or (ra, dec)
        A SkyCoord in any frame (transformed to ICRS); a string astropy can parse
        (``"139.3345 68.6351"``, ``"09h17m20.27s +68d38m06.3s"``; bare numbers are degrees); or a
        pair of numbers or Quantities (degrees).  Names are not resolved here: use ``query_object``.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        For anything else, or a position outside 0 <= ra < 360, -90 <= dec <= 90.

    Examples
    --------
    >>> parse_position((139.33446271609, 68.63508880829))
    (139.33446271609, 68.63508880829)
    >>> ra, dec = parse_position("09h17m20.27s +68d38m06.3s")
    >>> round(ra, 4), round(dec, 4)
    (139.3345, 68.6351)
    """
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    if isinstance(coordinates, SkyCoord):
        if not coordinates.isscalar:
            raise InvalidQueryError(f"one position is needed here, got {len(coordinates)}")
        icrs = coordinates.icrs
        ra, dec = float(icrs.ra.deg), float(icrs.dec.deg)
    elif isinstance(coordinates, str):
        text = coordinates.strip()
        try:
            parts = text.replace(",", " ").split()
            if len(parts) == 2 and all(_is_float(p) for p in parts):
                coord = SkyCoord(float(parts[0]), float(parts[1]), unit="deg")
            else:
                coord = SkyCoord(text, unit=(u.hourangle, u.deg) if ("h" in text or ":" in text)
                                 else u.deg)
        except (ValueError, u.UnitsError, TypeError) as exc:
            raise InvalidQueryError(
                f"could not read coordinates {coordinates!r} ({exc}); give a SkyCoord, "
                "'ra dec' in degrees, sexagesimal text, or use query_object() for a name") from None
        ra, dec = float(coord.icrs.ra.deg), float(coord.icrs.dec.deg)
    elif isinstance(coordinates, (tuple, list)) and len(coordinates) == 2:
        ra, dec = (_angle_deg(v, "ra" if i == 0 else "dec") for i, v in enumerate(coordinates))
    else:
        raise InvalidQueryError(
            f"could not read coordinates {coordinates!r}; give a SkyCoord, a string, or (ra, dec) "
            "in degrees")
    if not (0 <= ra < 360) and -360 < ra < 720:
        ra %= 360.0
    if not (0 <= ra < 360):
        raise InvalidQueryError(f"ra must be within [0, 360) degrees, got {ra!r}")
    if not (-90 <= dec <= 90):
        raise InvalidQueryError(f"dec must be within [-90, 90] degrees, got {dec!r}")
    return ra, dec


def _is_float(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _angle_deg(value, what):
    from astropy import units as u

    if isinstance(value, u.Quantity):
        try:
            value = value.to_value(u.deg)
        except u.UnitsError:
            raise InvalidQueryError(f"{what} must be an angle, got {value!r}") from None
        if np.ndim(value):
            raise InvalidQueryError(f"{what} must be a single value, got {value!r}")
    return _number(value, what)


def parse_radius(radius, *, maximum=MAX_RADIUS_DEG):
    """Return a cone radius in degrees.

    Parameters
    ----------
    radius : `~astropy.units.Quantity`, `~astropy.coordinates.Angle`, str or float
        ``2 * u.arcsec``, ``Angle("0.2d")``, ``"1 arcsec"``, or a number of degrees.
    maximum : float
        The largest radius allowed, in degrees.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        If the radius is not an angle, not positive, or larger than ``maximum``.

    Examples
    --------
    >>> parse_radius("1 arcsec") * 3600
    1.0
    >>> parse_radius(0.2)
    0.2
    """
    from astropy import units as u

    if isinstance(radius, str):
        try:
            radius = u.Quantity(radius)
        except (ValueError, TypeError):
            raise InvalidQueryError(f"could not read radius {radius!r}; give e.g. '2 arcsec', "
                                    "2 * u.arcsec or a number of degrees") from None
        if radius.unit == u.dimensionless_unscaled:
            radius = radius.value * u.deg
    deg = _angle_deg(radius, "radius")
    if deg <= 0:
        raise InvalidQueryError(f"radius must be positive, got {radius!r}")
    if deg > maximum:
        raise InvalidQueryError(
            f"radius {radius!r} is larger than the {maximum:g} deg this query allows; split the "
            "region into smaller cones")
    return deg


def parse_objids(objids):
    """Return PS1 objIDs as a 1-d int64 array, validated, duplicates removed, order kept.

    Parameters
    ----------
    objids : int, str, or sequence of them (list, array, Table column)
        Integers or decimal text.  Floats are refused: 18-digit objIDs do not survive them.

    Raises
    ------
    ValueError
        For an empty list, a masked/missing value, a float, a negative number, or text that is not
        a whole number; the message names the first offending value.

    Examples
    --------
    >>> parse_objids([190361393344112894, "153102917444859851", 190361393344112894])
    array([190361393344112894, 153102917444859851])
    """
    if isinstance(objids, (str, bytes, numbers.Integral)) or np.ndim(objids) == 0:
        objids = [objids]
    values = list(np.ma.getdata(objids).tolist()) if not isinstance(objids, list) else objids
    mask = np.ma.getmaskarray(objids) if np.ma.isMaskedArray(objids) or hasattr(objids, "mask") \
        else np.zeros(len(values), bool)
    if len(values) == 0:
        raise ValueError("no objIDs given")
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if mask[i]:
            raise ValueError(f"objID at position {i} is missing (masked)")
        if isinstance(value, bytes):
            value = value.decode()
        if isinstance(value, str):
            text = value.strip()
            if not text.isdigit():
                raise ValueError(f"objID {value!r} is not a whole non-negative number")
            value = int(text)
        elif isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise ValueError(f"objID {value!r} is not an integer; pass objIDs as integers or text "
                             "(floating point loses digits of 18-digit objIDs)")
        value = int(value)
        if value < 0 or value > _MAX_OBJID:
            raise ValueError(f"objID {value!r} is out of range (0 .. 2**63-1)")
        out[i] = value
    _, first = np.unique(out, return_index=True)
    return out[np.sort(first)]


def parse_bands(bands):
    """Return sorted PS1 filterIDs (1..5) for ``bands`` (``"gri"``, ``["g", "r"]``, or None = all).

    Examples
    --------
    >>> parse_bands("zg")
    [1, 4]
    """
    if bands is None:
        return list(schema.FILTER_IDS)
    items = list(bands) if isinstance(bands, str) else bands
    ids = set()
    for band in items:
        band_name = band.strip().lower() if isinstance(band, str) else band
        if band_name not in schema.FILTERS:
            raise InvalidQueryError(f"unknown PS1 filter {band!r}; choose from "
                                    f"{', '.join(schema.FILTERS)}")
        ids.add(schema.FILTERS.index(band_name) + 1)
    if not ids:
        raise InvalidQueryError("no filters given")
    return sorted(ids)


def _select_list(table, columns, alias):
    names = [schema.resolve_column(table, c) for c in columns]
    if len(set(n.lower() for n in names)) != len(names):
        raise InvalidQueryError(f"columns listed twice: {list(columns)!r}")
    return ", ".join(f"{alias}.{n}" for n in names)


def _literal(table, column, value):
    """ADQL literal of ``value`` for ``column`` (numbers for numeric columns, quoted text else)."""
    dbtype = schema.find_column(table, column).dbtype
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
        column = schema.resolve_column(table, name)
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
    if min_detections is None:
        return []
    if schema.find_column(table, "nDetections") is None:
        raise InvalidQueryError(f"{schema.resolve_table(table)} has no nDetections column; "
                                "use min_detections=None")
    if isinstance(min_detections, (bool, np.bool_)) or not isinstance(min_detections, numbers.Integral):
        raise InvalidQueryError(f"min_detections must be an integer or None, got {min_detections!r}")
    return [f"o.nDetections >= {int(min_detections)}"]


def _cone(alias, ra, dec, radius):
    return (f"CONTAINS(POINT('ICRS', {alias}.raMean, {alias}.decMean), "
            f"CIRCLE('ICRS', {_fmt(ra)}, {_fmt(dec)}, {_fmt(radius)})) = 1")


def _limit(top):
    if top is None:
        return ""
    if isinstance(top, (bool, np.bool_)) or not isinstance(top, numbers.Integral) or top <= 0:
        raise InvalidQueryError(f"top must be a positive integer, got {top!r}")
    return f"TOP {int(top)} "


# ---- queries ----------------------------------------------------------------------------------
def cone_query(ra, dec, radius, *, table="mean", columns=None, min_detections=2,
               column_filters=None, top=None):
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

    Examples
    --------
    >>> print(cone_query(187.706, 12.391, 0.2, columns=["objID", "raMean", "decMean"]))
    SELECT o.objID, o.raMean, o.decMean
    FROM dbo.MeanObjectView AS o
    WHERE CONTAINS(POINT('ICRS', o.raMean, o.decMean), CIRCLE('ICRS', 187.706, 12.391, 0.2)) = 1
      AND o.nDetections >= 2
    """
    table = schema.resolve_table(table)
    if columns is None:
        columns = [c for c in MEAN_SELECT if schema.find_column(table, c)]
    columns = list(columns)
    for needed in ("objID", "raMean", "decMean"):  # the client needs them to compute separations
        if not any(c.lower() == needed.lower() for c in columns if isinstance(c, str)):
            columns.append(needed)
    conditions = [_cone("o", ra, dec, radius)] + _detections_cut(table, min_detections)
    conditions += column_conditions(table, column_filters, "o")
    return (f"SELECT {_limit(top)}{_select_list(table, columns, 'o')}\nFROM {table} AS o\n"
            f"WHERE " + "\n  AND ".join(conditions))


def _photometry(photometry):
    try:
        return PHOTOMETRY_TABLES[photometry]
    except (KeyError, TypeError):
        raise InvalidQueryError(f"photometry must be 'detection' or 'forced', got {photometry!r}") from None


def _photometry_conditions(table, alias, bands, min_qf):
    conditions = []
    ids = parse_bands(bands)
    if len(ids) < len(schema.FILTERS):
        conditions.append(f"{alias}.filterID IN ({', '.join(map(str, ids))})")
    if min_qf is not None:
        qf = _number(min_qf, "min_qf")
        if not 0 <= qf <= 1:
            raise InvalidQueryError(f"min_qf must be within [0, 1], got {min_qf!r}")
        prefix = "F" if table == "dbo.ForcedWarpMeasurement" else ""
        conditions.append(f"{alias}.{prefix}psfQfPerfect >= {_fmt(qf)}")
    return conditions


def detections_query(objids, *, photometry="detection", columns=None, bands=None, min_qf=None,
                     upload=None, with_means=False):
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
    """
    table = _photometry(photometry)
    key = "o" if with_means else "d"
    if upload is not None:
        if not (isinstance(upload, str) and upload.isidentifier()):
            raise InvalidQueryError(f"upload table name must be an identifier, got {upload!r}")
        source = f"TAP_UPLOAD.{upload} AS u\nJOIN " + (
            f"dbo.MeanObjectView AS o ON o.objID = u.objID\nJOIN {table} AS d ON d.objID = o.objID"
            if with_means else f"{table} AS d ON d.objID = u.objID")
        conditions = []
    else:
        ids = [int(i) for i in objids]
        source = (f"dbo.MeanObjectView AS o\nJOIN {table} AS d ON d.objID = o.objID" if with_means
                  else f"{table} AS d")
        conditions = [f"{key}.objID = {ids[0]}" if len(ids) == 1
                      else f"{key}.objID IN ({', '.join(map(str, ids))})"]
    return _measurements(source, conditions, photometry, bands, min_qf, columns, with_means)


def _measurements(source, conditions, photometry, bands, min_qf, columns, with_means):
    table = _photometry(photometry)
    columns = _with_keys(columns or (DETECTION_SELECT if photometry == "detection" else FORCED_SELECT))
    select = _select_list(table, columns, "d")
    if with_means:
        select += ",\n  " + _select_list("mean", LIGHTCURVE_MEAN_SELECT, "o")
    conditions = conditions + _photometry_conditions(table, "d", bands, min_qf)
    where = ("\nWHERE " + "\n  AND ".join(conditions)) if conditions else ""
    return f"SELECT {select}\nFROM {source}{where}\nORDER BY d.objID, d.filterID, d.obsTime"


def _with_keys(columns):
    """Make sure the columns that order and group measurements are selected."""
    columns = list(columns)
    lowered = [c.lower() for c in columns if isinstance(c, str)]
    for position, key in enumerate(("objID", "filterID", "obsTime")):
        if key.lower() not in lowered:
            columns.insert(position, key)
            lowered.insert(position, key.lower())
    return columns


def lightcurve_query(ra, dec, radius, *, photometry="detection", bands=None, min_qf=None,
                     min_detections=2, columns=None):
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
    conditions = [_cone("o", ra, dec, radius)] + _detections_cut("mean", min_detections)
    source = f"dbo.MeanObjectView AS o\nJOIN {_photometry(photometry)} AS d ON d.objID = o.objID"
    return _measurements(source, conditions, photometry, bands, min_qf, columns, True)


def match_query(positions, radius, *, upload=None, min_detections=2):
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

    Examples
    --------
    >>> print(match_query(([10.0, 20.0], [1.0, 2.0]), 0.001, min_detections=None))
    SELECT o.objID, o.raMean, o.decMean, o.nDetections
    FROM dbo.MeanObjectView AS o
    WHERE (CONTAINS(POINT('ICRS', o.raMean, o.decMean), CIRCLE('ICRS', 10.0, 1.0, 0.001)) = 1
      OR CONTAINS(POINT('ICRS', o.raMean, o.decMean), CIRCLE('ICRS', 20.0, 2.0, 0.001)) = 1)
    """
    select = "o.objID, o.raMean, o.decMean, o.nDetections"
    cut = _detections_cut("mean", min_detections)
    if upload is not None:
        if not (isinstance(upload, str) and upload.isidentifier()):
            raise InvalidQueryError(f"upload table name must be an identifier, got {upload!r}")
        where = ("\nWHERE " + "\n  AND ".join(cut)) if cut else ""
        return (f"SELECT u.idx, {select}\nFROM TAP_UPLOAD.{upload} AS u\n"
                f"JOIN dbo.MeanObjectView AS o ON CONTAINS(POINT('ICRS', o.raMean, o.decMean), "
                f"CIRCLE('ICRS', u.ra, u.dec, {_fmt(radius)})) = 1{where}")
    ra, dec = positions
    cones = "\n  OR ".join(_cone("o", *parse_position((r, d)), radius) for r, d in zip(ra, dec))
    return f"SELECT {select}\nFROM dbo.MeanObjectView AS o\nWHERE " + "\n  AND ".join([f"({cones})"] + cut)
