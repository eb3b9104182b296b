"""Shaping results: one place where service output becomes what users get.

Every table that leaves the package passes through `shape` (any PS1 table) or `shape_detections`
(single-epoch or forced measurements). They give the canonical column spelling whatever letter case
the service used, units from the PS1 schema (never from the response, whose units are wrong or
missing), exact 64-bit identifiers, ``-999`` and NaN masked, and text as `str`.  Both are idempotent,
so tables from other tools (``astroquery.mast.Catalogs``, CasJobs CSV exports, saved VOTables, files
written by ``ps1tap``) can be passed through them too.
"""

import warnings

import numpy as np
from astropy import units as u
from astropy.table import MaskedColumn, Table, vstack
from astroquery.exceptions import NoResultsWarning

from . import schema

__all__ = ["shape", "shape_detections", "ensure_detections", "empty_measurements", "merge_measurements",
           "add_separation", "nearest_object", "nearest_matches", "text", "DETECTION_COLUMNS",
           "MISSING"]

#: Sentinel the PS1 database uses for "no value".
MISSING = -999

#: Canonical columns of a detections table, in order (``forcedWarpID`` only for forced photometry;
#: ``ra``/``dec`` only for single-epoch detections).
DETECTION_COLUMNS = ("objID", "detectID", "forcedWarpID", "filterID", "filter", "obsTime", "ra", "dec",
                     "psfFlux", "psfFluxErr", "apFlux", "apFluxErr", "kronFlux", "kronFluxErr",
                     "psfMajorFWHM", "psfMinorFWHM", "psfQfPerfect", "infoFlag", "infoFlag2", "infoFlag3")

_FLOAT_TYPES = ("REAL", "DOUBLE")


def _to_int64(values):
    """Exact int64 from ints, floats that hold integers, or text (objID arrives as text from
    MAST's catalogs API); never through float for big values."""
    data = np.ma.getdata(values)
    mask = np.ma.getmaskarray(values)
    if data.dtype.kind in "iu":
        return np.ma.MaskedArray(data.astype(np.int64), mask=mask)
    if data.dtype.kind in "SUO":
        text = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in data.tolist()])
        empty = np.isin(np.char.strip(text), ("", "--", "nan", "NaN", "None"))
        mask = mask | empty
        text = np.where(mask, "0", text)
        try:
            return np.ma.MaskedArray(text.astype(np.int64), mask=mask)
        except ValueError:
            bad = next(v for v in text if not v.strip().lstrip("-").isdigit())
            raise ValueError(f"integer column holds a non-integer value {bad!r}") from None
    # floats: only exact when below 2**53
    finite = np.isfinite(data)
    if np.any(np.abs(data[finite & ~mask]) >= 2**53):
        raise ValueError("64-bit identifiers arrived as floating point and lost precision; "
                         "read the file with the identifier columns as integers or text")
    mask = mask | ~finite
    return np.ma.MaskedArray(np.where(mask, 0, data).astype(np.int64), mask=mask)


def _to_str(values):
    data = np.ma.getdata(values)
    mask = np.ma.getmaskarray(values)
    if data.dtype.kind == "S":
        data = np.char.decode(data, "ascii")
    elif data.dtype.kind == "O":
        data = np.array([v.decode() if isinstance(v, bytes) else ("" if v is None else str(v))
                         for v in data.tolist()], dtype=str)
    return np.ma.MaskedArray(data.astype(str), mask=mask)


def _shape_column(col, column):
    """Return a MaskedColumn of the canonical dtype and unit for schema `Column` ``column``."""
    if column.dbtype in schema.INTEGER_TYPES:
        data = _to_int64(col)
        data.mask |= np.ma.getdata(data) == MISSING
    elif column.dbtype in _FLOAT_TYPES:
        raw = np.ma.getdata(col)
        if raw.dtype.kind in "SUO":
            raw = np.array([np.nan if v in (None, "", b"") else float(v) for v in raw.tolist()])
        data = np.asarray(raw, dtype=np.float64)
        data = np.ma.MaskedArray(data, mask=np.ma.getmaskarray(col) | ~np.isfinite(data)
                                 | (data == MISSING))
    else:
        data = _to_str(col)
    return MaskedColumn(data, name=column.name, unit=column.unit or None,
                        description=column.description or None)


def _rename_map(names, table, strip_forced=False):
    """Map present column names to (canonical name, schema Column) for ``table``."""
    mapping = {}
    for name in names:
        column = schema.find_column(table, name)
        if column is None:
            continue
        target = column.name
        if strip_forced and target[:1] == "F" and target[1:2].islower():
            target = target[1:]
        mapping[name] = (target, column)
    return mapping


def shape(table, source_table):
    """Return ``table`` with canonical names, types, units and masks of ``source_table``'s schema.

    Columns not in the schema (computed ones such as ``separation``) are kept as they are.

    Parameters
    ----------
    table : `~astropy.table.Table`
        A result, from the service or elsewhere.
    source_table : str
        The PS1 table (or alias, e.g. ``"mean"``) the columns come from.

    Returns
    -------
    `~astropy.table.Table`
        A new table; masked where the database had ``-999``, NULL or NaN.

    Examples
    --------
    >>> from astropy.table import Table
    >>> t = shape(Table({"OBJID": ["190361393344112894"], "gmeanpsfmag": [-999.0]}), "mean")
    >>> t.colnames, int(t["objID"][0]), bool(t["gMeanPSFMag"].mask[0]), t["gMeanPSFMag"].unit
    (['objID', 'gMeanPSFMag'], 190361393344112894, True, Unit("mag"))
    """
    return _shape_into(table, _rename_map(table.colnames, schema.resolve_table(source_table)))


def _shape_into(table, mapping):
    out = Table(meta=dict(table.meta))
    out.meta.pop("description", None)
    for name in table.colnames:
        if name in mapping:
            target, column = mapping[name]
            if target in out.colnames:
                raise ValueError(f"columns {name!r} and {target!r} are the same PS1 column")
            out[target] = _shape_column(table[name], column)
            out[target].name = target
        else:
            out[name] = table[name]
    return out


def shape_detections(table):
    """Return a canonical detections table from single-epoch or forced PS1 measurements.

    Accepts the service's columns in any letter case (``filterid``, ``FPSFFLUX``), forced
    photometry's ``F``-prefixed names (mapped to the single-epoch names: ``FpsfFlux`` → ``psfFlux``),
    ``filterType`` as bytes or str or absent (then derived from ``filterID``), and identifiers as
    integers or text.  The result has a ``filter`` column (``g r i z y``), ``obsTime`` as MJD in
    the TAI time scale (unit ``d``), fluxes in Jy, is sorted by ``objID``, ``filterID``, ``obsTime``,
    and records ``meta["PHOTOMETRY"]`` = ``"detection"`` or ``"forced"``.

    Raises
    ------
    ValueError
        If ``objID``, ``obsTime`` or a filter column is missing, or a filter is not one of PS1's.

    Examples
    --------
    >>> from astropy.table import Table
    >>> raw = Table({"objid": [190361393344112894, 190361393344112894], "filterType": [b"z", b"g"],
    ...              "obsTime": [55933.53, 55634.48], "psfFlux": [3.2e-4, 8.3e-3]})
    >>> det = shape_detections(raw)
    >>> det["filter"].tolist(), det["psfFlux"].unit, det.meta["PHOTOMETRY"]
    (['g', 'z'], Unit("Jy"), 'detection')
    """
    names = table.colnames
    lower = {n.lower(): n for n in names}
    forced = any(n.lower().startswith("fpsfflux") for n in names)
    source = "dbo.ForcedWarpMeasurement" if forced else "dbo.Detection"
    mapping = _rename_map(names, source, strip_forced=forced)
    missing = [c for c in ("objid", "obstime") if c not in lower]
    if missing:
        raise ValueError(f"not a PS1 detections table: no {', '.join(missing)} column "
                         f"(columns: {', '.join(names)})")
    for alias in ("filtertype", "filter"):
        if alias in lower:
            mapping.pop(lower[alias], None)
    out = _shape_into(table, mapping)

    filter_name = next((lower[a] for a in ("filter", "filtertype") if a in lower), None)
    if filter_name is not None:
        bands = np.char.lower(np.char.strip(_to_str(out[filter_name]).filled("")))
        del out[filter_name]
        known = np.isin(bands, schema.FILTERS)
        if not known.all():
            raise ValueError(f"unknown PS1 filter {str(bands[~known][0])!r}; expected one of "
                             f"{', '.join(schema.FILTERS)}")
        present, inverse = np.unique(bands, return_inverse=True)
        band_ids = np.array([schema.FILTERS.index(b) + 1 for b in present], dtype=np.int64)[inverse]
        if "filterID" not in out.colnames:
            out["filterID"] = MaskedColumn(band_ids.astype(np.int64), description="Filter identifier")
    elif "filterID" in out.colnames:
        ids = np.ma.getdata(out["filterID"])
        if np.ma.getmaskarray(out["filterID"]).any() or not np.isin(ids, list(schema.FILTER_IDS)).all():
            bad = ids[~np.isin(ids, list(schema.FILTER_IDS))]
            raise ValueError(f"filterID {bad[0] if len(bad) else 'NULL'!r} is not a PS1 filter (1..5)")
        bands = np.array(schema.FILTERS)[ids - 1]
    else:
        raise ValueError("not a PS1 detections table: neither filterID nor filterType is present")
    out["filter"] = MaskedColumn(bands.astype("U1"), description="PS1 filter: g, r, i, z or y")

    out["obsTime"].unit = u.d
    out["obsTime"].description = "Modified Julian Date at mid-exposure, TAI time scale"
    if np.ma.getmaskarray(out["objID"]).any() or np.ma.getmaskarray(out["obsTime"]).any():
        raise ValueError("detections with no objID or obsTime cannot be placed in a light curve")

    order = [c for c in DETECTION_COLUMNS if c in out.colnames]
    out = out[order + [c for c in out.colnames if c not in order]]
    keys = (np.ma.getdata(out["obsTime"]), np.ma.getdata(out["filterID"]), np.ma.getdata(out["objID"]))
    index = np.lexsort(keys)
    if not np.array_equal(index, np.arange(len(out))):
        out = out[index]
    out.meta["PHOTOMETRY"] = "forced" if forced else "detection"
    return out


def ensure_detections(table):
    """Return ``table`` itself if `shape_detections` already shaped it, else its shaped copy.

    Lets every consumer accept raw or canonical tables without paying for shaping twice.
    """
    if table.meta.get("PHOTOMETRY") in ("detection", "forced") and "filter" in table.colnames:
        return table
    return shape_detections(table)


def empty_measurements(*, photometry="detection", columns=None, with_means=False):
    """An empty raw measurements table with the columns a measurements request returns.

    Stands in for the answer when no object has any measurement, so that the shaped result still
    has every canonical column, with its type and unit.
    """
    table = schema.PHOTOMETRY_TABLES[photometry]
    default = schema.DETECTION_SELECT if photometry == "detection" else schema.FORCED_SELECT
    names = [(table, n) for n in schema.with_measurement_keys(columns or default)]
    if with_means:
        names += [("mean", n) for n in schema.LIGHTCURVE_MEAN_SELECT]
    found = [schema.find_column(t, n) for t, n in names]
    return Table(names=[c.name for c in found], dtype=[schema.NUMPY_TYPES[c.dbtype] for c in found])


def merge_measurements(raw_tables, ids, template):
    """One canonical detections table from the raw answers for objIDs ``ids``.

    Requested objIDs with no measurements are listed in ``meta["missing_objIDs"]``.
    """
    nonempty = [t for t in raw_tables if len(t)]
    if len(nonempty) > 1:
        combined = vstack(nonempty, metadata_conflicts="silent")
    else:
        combined = nonempty[0] if nonempty else template
    detections = shape_detections(combined)
    found = np.unique(np.ma.getdata(detections["objID"]))
    missing = ids[~np.isin(ids, found)]
    detections.meta["missing_objIDs"] = missing.tolist()
    return detections


def add_separation(table, ra, dec):
    """Add ``separation`` (arcsec) from (``ra``, ``dec``) to an objects table and sort by it."""
    from astropy.coordinates import SkyCoord

    centre = SkyCoord(ra, dec, unit="deg")
    if len(table):
        positions = SkyCoord(np.ma.getdata(table["raMean"]), np.ma.getdata(table["decMean"]), unit="deg")
        separation = centre.separation(positions).to(u.arcsec)
    else:
        separation = np.zeros(0) * u.arcsec
    table["separation"] = separation
    table["separation"].description = "Angular distance from the centre of the search"
    table.sort(["separation", "objID"])
    return table


def nearest_object(detections, ra, dec):
    """Keep the measurements of the object whose mean position is nearest (``ra``, ``dec``).

    When several objects are in the table, a `~astroquery.exceptions.NoResultsWarning` names the
    one kept and how to choose another.
    """
    ids, first = np.unique(np.ma.getdata(detections["objID"]), return_index=True)
    if len(ids) <= 1:
        return detections
    from astropy.coordinates import SkyCoord

    rows = detections[first]
    separation = SkyCoord(ra, dec, unit="deg").separation(
        SkyCoord(np.ma.getdata(rows["raMean"]), np.ma.getdata(rows["decMean"]), unit="deg"))
    best = ids[np.argmin(separation)]
    warnings.warn(f"{len(ids)} PS1 objects lie within the search radius; using the nearest, objID "
                  f"{best} ({separation.min().to(u.arcsec):.2f} away). Give its objID, or a smaller "
                  "radius, to choose.", NoResultsWarning)
    return detections[np.ma.getdata(detections["objID"]) == best]


def nearest_matches(candidates, ra, dec, radius_deg):
    """One row per position: the nearest candidate object (objID masked where there is none).

    Parameters
    ----------
    candidates : `~astropy.table.Table`
        Shaped objects (``objID``, ``raMean``, ``decMean``, ``nDetections``) near the positions.
    ra, dec : array
        The positions, ICRS degrees.
    radius_deg : float
        The match radius.
    """
    from astropy.coordinates import SkyCoord

    n = len(ra)
    columns = {"objID": np.ma.masked_all(n, dtype=np.int64), "raMean": np.ma.masked_all(n),
               "decMean": np.ma.masked_all(n), "nDetections": np.ma.masked_all(n, dtype=np.int64),
               "separation": np.ma.masked_all(n)}
    if len(candidates):
        objects = SkyCoord(np.ma.getdata(candidates["raMean"]), np.ma.getdata(candidates["decMean"]),
                           unit="deg")
        i_pos, i_obj, sep, _ = objects.search_around_sky(SkyCoord(ra, dec, unit="deg"),
                                                         radius_deg * u.deg)
        order = np.lexsort((np.ma.getdata(candidates["objID"])[i_obj], sep.deg, i_pos))
        i_pos, i_obj, sep = i_pos[order], i_obj[order], sep[order]
        nearest = np.r_[True, i_pos[1:] != i_pos[:-1]] if len(i_pos) else np.zeros(0, bool)
        i_pos, i_obj = i_pos[nearest], i_obj[nearest]
        for name in ("objID", "raMean", "decMean", "nDetections"):
            if name in candidates.colnames:
                columns[name][i_pos] = np.ma.getdata(candidates[name])[i_obj]
        columns["separation"][i_pos] = sep[nearest].to_value(u.arcsec)
    out = Table({"index": np.arange(n), **columns})
    for name, unit in (("raMean", u.deg), ("decMean", u.deg), ("separation", u.arcsec)):
        out[name].unit = unit
    return out


def text(column):
    """A column's values as an array of `str` (bytes decoded, masked/None as ``""``)."""
    return np.array([v.decode() if isinstance(v, bytes) else ("" if v is np.ma.masked or v is None
                                                                else str(v))
                     for v in column.tolist()], dtype=str)
