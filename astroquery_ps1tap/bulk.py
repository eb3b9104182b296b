"""Per-object summaries of many PS1 objects, computed where the data are.

A user with 10^5–10^6 targets wants, per object, the numbers that matter — how many good points
in each filter, their mean magnitude and scatter, the time span, optionally a period — and the
light curves of the few that turn out interesting.  Building one `~lightkurve.LightCurve` costs
about a millisecond, so this module never builds any: `summarize` works on plain numpy arrays of
many objects at once (a sort where the rows are not in objID order, a few ``bincount`` calls;
no per-object Python loop), inside each HATS partition or TAP batch, and `bulk_summaries`
streams the rows to Parquet so that memory is bounded by a partition or batch, not by the
number of targets.

The quality cut is the light curves' own (`~astroquery_ps1tap.lightcurves.PS1QualityFlags`,
``quality_bitmask="default"``: ``psfQfPerfect >= 0.9``, positive flux, flux and error present),
imported from there, so a summary's counts and magnitudes are those of the object's light curves.
Magnitudes are AB, from `astroquery_ps1tap.schema.flux_to_mag`.

Examples
--------
>>> import numpy as np
>>> from astroquery_ps1tap.bulk import summarize
>>> det = {"objID": np.array([7, 7, 7, 9]), "filterID": np.array([1, 1, 2, 1]),
...        "obsTime": np.array([55000.0, 55010.0, 55003.0, 55001.0]),
...        "psfFlux": np.array([1.0e-3, 1.1e-3, 2.0e-3, 5.0e-4]),
...        "psfFluxErr": np.full(4, 1e-5), "psfQfPerfect": np.array([1.0, 1.0, 1.0, 0.5])}
>>> rows = summarize(det)
>>> rows["objID"].tolist(), rows["g_n"].tolist(), rows["n_good"].tolist()
([7, 9], [2, 0], [3, 0])
>>> round(float(rows["g_mean_mag"][0]), 3), float(rows["time_span"][0])
(16.348, 10.0)
"""
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import schema

__all__ = ["summarize", "summary_columns", "bulk_summaries", "BulkSummaries", "SummaryWriter",
           "read_summaries",
           "read_targets", "Targets", "INPUT_COLUMNS", "add_bulk_parser", "bulk_main"]

#: Columns of the measurements that `summarize` reads (``infoFlag`` only for bitmasks that use it).
INPUT_COLUMNS = ("objID", "filterID", "obsTime", "psfFlux", "psfFluxErr", "psfQfPerfect", "infoFlag")
#: Columns of the objects that give each summary its position.
POSITION_COLUMNS = ("raMean", "decMean")
#: Version of the summary table's layout (in its metadata).
FORMAT_VERSION = "1"

_BAND_FIELDS = (("n", "int32", "points kept by the quality cut"),
                ("mean_mag", "float64", "mean AB magnitude of the points kept (mag)"),
                ("std_mag", "float64", "standard deviation of those magnitudes, ddof=1 (mag)"),
                ("mean_mag_err", "float64", "mean magnitude error of those points (mag)"))
_PERIOD_FIELDS = (("period", "float64", "best period of the multi-band search (d)"),
                  ("period_power", "float64", "periodogram power of that period (0..1)"),
                  ("period_fap", "float64", "false-alarm probability of that peak"))


def summary_columns(period_search=False):
    """The summary table's columns: ``[(name, numpy dtype, description), ...]`` in order.

    Examples
    --------
    >>> [name for name, _, _ in summary_columns()][:8]
    ['objID', 'raMean', 'decMean', 'n_detections', 'n_good', 'g_n', 'g_mean_mag', 'g_std_mag']
    """
    columns = [("objID", "int64", "PS1 object identifier"),
               ("raMean", "float64", "mean right ascension of the object (deg)"),
               ("decMean", "float64", "mean declination of the object (deg)"),
               ("n_detections", "int32", "measurements of the object, before the quality cut"),
               ("n_good", "int32", "measurements kept by the quality cut, all filters")]
    for band in schema.FILTERS:
        columns += [(f"{band}_{name}", dtype, f"{band}: {text}") for name, dtype, text in _BAND_FIELDS]
    columns += [("t_first", "float64", "first good point, MJD (TAI)"),
                ("t_last", "float64", "last good point, MJD (TAI)"),
                ("time_span", "float64", "t_last - t_first (d)"),
                ("quality_bitmask", "int32", "PS1QualityFlags bits that removed points"),
                ("min_qf", "float32", "psfQfPerfect below this set LOW_QF")]
    if period_search:
        columns += list(_PERIOD_FIELDS)
    return columns


# ---- the quality cut: the light curves' own --------------------------------------------------
def _quality_flags():
    """`PS1QualityFlags` and the function computing its bits (the light curves' definition)."""
    from .lightcurves.adapters import quality_bits
    from .lightcurves.quality import PS1QualityFlags

    return PS1QualityFlags, quality_bits


def quality_cut(quality_bitmask="default", min_qf=0.9):
    """``{"quality_bitmask": int, "min_qf": float}`` for a bitmask name or integer (validated).

    Examples
    --------
    >>> quality_cut()
    {'quality_bitmask': 7, 'min_qf': 0.9}
    """
    flags, _ = _quality_flags()
    min_qf = float(min_qf)
    if not 0.0 <= min_qf <= 1.0:
        raise ValueError(f"min_qf must be between 0 and 1, not {min_qf!r}")
    return {"quality_bitmask": flags.bitmask(quality_bitmask), "min_qf": min_qf}


# ---- plain arrays from any table -------------------------------------------------------------
def _names(data):
    if hasattr(data, "colnames"):
        return list(data.colnames)
    if hasattr(data, "column_names"):
        return list(data.column_names)
    return list(data.keys()) if hasattr(data, "keys") else list(data.columns)


def _array(data, name, dtype, fill):
    """Column ``name`` of a dict / astropy / pandas / pyarrow table as a plain ndarray.

    Masked, null and NA entries become ``fill``; objID-like integers never pass through float.
    """
    values = data[name]
    if hasattr(values, "to_numpy") and hasattr(values, "combine_chunks"):   # pyarrow
        values = values.to_numpy(zero_copy_only=False)
        if values.dtype == object:
            values = np.array([fill if v is None else v for v in values])
    elif hasattr(values, "to_numpy"):                                        # pandas
        try:
            values = values.to_numpy(dtype=dtype, na_value=fill)
        except (TypeError, ValueError):
            values = values.to_numpy()
    mask = np.ma.getmaskarray(values) if np.ma.isMaskedArray(values) else None
    values = np.asarray(np.ma.getdata(values))
    if np.dtype(dtype).kind in "iu" and values.dtype.kind == "f":
        if np.any(np.isfinite(values) & (np.abs(values) >= 2**53)):
            raise ValueError(f"{name} arrived as floating point and lost precision; read it as an "
                             "integer or text column")
        bad = ~np.isfinite(values)
        values = np.where(bad, fill, values)
    out = values.astype(dtype, copy=False)
    if mask is not None and mask.any():
        out = np.where(mask, fill, out)
    return out


def _columns(data, names):
    present = {n.lower(): n for n in _names(data)}
    for name in names:     # forced photometry: FpsfFlux is psfFlux, ...
        if name.lower() not in present and "f" + name.lower() in present:
            present[name.lower()] = present["f" + name.lower()]
    missing = [n for n in names if n.lower() not in present and n != "infoFlag"]
    if missing:
        raise ValueError(f"the measurements have no {', '.join(missing)} column (columns: "
                         f"{', '.join(_names(data))})")
    cols = {}
    for name in names:
        if name.lower() not in present:
            continue
        integer = name in ("objID", "filterID", "infoFlag")
        cols[name] = _array(data, present[name.lower()], np.int64 if integer else np.float64,
                            0 if integer else np.nan)
    return cols


# ---- the computation ---------------------------------------------------------------------------
def summarize(detections, objects=None, *, quality_bitmask="default", min_qf=0.9,
              period_search=False):
    """One summary row per object of a table of many objects' measurements, vectorised.

    Parameters
    ----------
    detections : dict of arrays, `~astropy.table.Table`, `pandas.DataFrame` or `pyarrow.Table`
        Measurements of any number of objects, in any order: ``objID``, ``filterID`` (1..5),
        ``obsTime`` (MJD, TAI), ``psfFlux`` and ``psfFluxErr`` (Jy), ``psfQfPerfect``, and
        ``infoFlag`` when the bitmask uses its bits (any letter case).  ``raMean``/``decMean``
        columns (as from a join with the objects), if present, give the positions.
    objects : table, optional
        ``objID``, ``raMean``, ``decMean`` of the objects (positions of objects whose rows lack
        them; objects here with no measurements get no row: they are reported by
        `bulk_summaries`).
    quality_bitmask : str or int
        As for the light curves (`~astroquery_ps1tap.lightcurves.to_lightcurves`): ``"default"``
        removes points with ``psfQfPerfect < min_qf``, a non-positive flux or a missing flux.
    min_qf : float
        The ``psfQfPerfect`` threshold (0.9, the tutorial's).
    period_search : bool or dict
        Also search each object's good points for a period with
        `astroquery_ps1tap.periods.find_periods` (a dict passes options to it).

    Returns
    -------
    dict of `~numpy.ndarray`
        The columns of `summary_columns`, one row per objID present, in increasing objID order.
        Per filter ``{f}_n`` counts the points kept, ``{f}_mean_mag``/``{f}_std_mag`` (ddof=1,
        NaN below 2 points)/``{f}_mean_mag_err`` describe those with a magnitude (all of them
        under the default cut).  ``t_first``, ``t_last``, ``time_span`` cover the kept points of
        all filters (NaN if none).  The cut is recorded in ``quality_bitmask`` and ``min_qf``.
    """
    cut = quality_cut(quality_bitmask, min_qf)
    bitmask = cut["quality_bitmask"]
    names = list(INPUT_COLUMNS)
    cols = _columns(detections, names)
    ids = cols["objID"]
    n_rows = len(ids)
    if n_rows and np.any(ids[1:] < ids[:-1]):
        order = _sorting_order(ids)
        cols = {name: values[order] for name, values in cols.items()}
        ids = cols["objID"]
    else:
        order = None
    bands = cols["filterID"]
    if n_rows and not (bands.min() >= min(schema.FILTER_IDS) and bands.max() <= max(schema.FILTER_IDS)):
        bad = bands[~np.isin(bands, list(schema.FILTER_IDS))][0]
        raise ValueError(f"filterID {bad} is not a PS1 filter (1..5)")
    new = np.r_[True, ids[1:] != ids[:-1]] if n_rows else np.zeros(0, bool)
    starts = np.flatnonzero(new)
    objid = ids[starts]
    n_obj = len(objid)
    obj = np.cumsum(new) - 1

    flags, quality_of = _quality_flags()
    quality, _ = quality_of(cols, "psfFlux", cut["min_qf"])
    good = (quality & bitmask) == 0
    mag, mag_err = schema.flux_to_mag(cols["psfFlux"], cols["psfFluxErr"])
    with_mag = good & np.isfinite(mag)

    out = {"objID": objid}
    out["raMean"], out["decMean"] = _positions(detections, objects, objid, starts, order)
    out["n_detections"] = np.diff(np.r_[starts, n_rows]).astype(np.int32)
    out["n_good"] = np.bincount(obj[good], minlength=n_obj).astype(np.int32)

    key = obj * 5 + (bands - 1)
    size = n_obj * 5
    count = np.bincount(key[good], minlength=size)
    k = key[with_mag]
    n_mag = np.bincount(k, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(k, weights=mag[with_mag], minlength=size) / n_mag
        dev2 = np.bincount(k, weights=(mag[with_mag] - mean[k]) ** 2, minlength=size)
        std = np.where(n_mag > 1, np.sqrt(dev2 / (n_mag - 1)), np.nan)
        mean_err = np.bincount(k, weights=mag_err[with_mag], minlength=size) / n_mag
    per_band = {"n": count.astype(np.int32), "mean_mag": mean, "std_mag": std, "mean_mag_err": mean_err}
    for i, band in enumerate(schema.FILTERS):
        for name, _, _ in _BAND_FIELDS:
            out[f"{band}_{name}"] = per_band[name].reshape(n_obj, 5)[:, i]

    first = np.full(n_obj, np.nan)
    last = np.full(n_obj, np.nan)
    if good.any():
        kept_obj = obj[good]
        kept_time = cols["obsTime"][good]
        has = np.flatnonzero(out["n_good"] > 0)
        at = np.searchsorted(kept_obj, has)
        first[has] = np.minimum.reduceat(kept_time, at)
        last[has] = np.maximum.reduceat(kept_time, at)
    out["t_first"], out["t_last"], out["time_span"] = first, last, last - first
    out["quality_bitmask"] = np.full(n_obj, bitmask, dtype=np.int32)
    out["min_qf"] = np.full(n_obj, cut["min_qf"], dtype=np.float32)
    if period_search:
        options = period_search if isinstance(period_search, dict) else {}
        out.update(_periods(cols, good, obj, objid, options))
    return {name: np.asarray(out[name]).astype(dtype, copy=False)
            for name, dtype, _ in summary_columns(bool(period_search))}


def _unique(values):
    """``np.unique`` of an integer array, by sorting (numpy 2's hashing ``unique`` is ~30x slower
    on int64 objIDs)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _sorting_order(ids):
    """The stable sorting order of ``ids``, found by sorting its runs of equal values (as
    ``np.argsort(ids, kind="stable")``, faster when each object's rows mostly come together)."""
    starts, lengths = _runs(ids)
    if len(starts) > len(ids) // 4:
        return np.argsort(ids, kind="stable")
    by_run = np.argsort(ids[starts], kind="stable")
    starts, lengths = starts[by_run], lengths[by_run]
    return np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(len(ids))


def _positions(detections, objects, objid, starts, order):
    """raMean/decMean of each object: from the measurement rows, else from ``objects``."""
    ra = np.full(len(objid), np.nan)
    dec = np.full(len(objid), np.nan)
    present = {n.lower(): n for n in _names(detections)}
    if "ramean" in present and "decmean" in present and len(starts):
        rows = starts if order is None else order[starts]
        ra = _array(detections, present["ramean"], np.float64, np.nan)[rows]
        dec = _array(detections, present["decmean"], np.float64, np.nan)[rows]
    if objects is not None and len(objid) and not (np.isfinite(ra).all() and np.isfinite(dec).all()):
        ocols = {n.lower(): n for n in _names(objects)}
        oid = _array(objects, ocols["objid"], np.int64, 0)
        sort = np.argsort(oid, kind="stable")
        pos = np.clip(np.searchsorted(oid[sort], objid), 0, max(len(oid) - 1, 0))
        hit = (oid[sort][pos] == objid) if len(oid) else np.zeros(len(objid), bool)
        fill = hit & ~(np.isfinite(ra) & np.isfinite(dec))
        ra[fill] = _array(objects, ocols["ramean"], np.float64, np.nan)[sort][pos][fill]
        dec[fill] = _array(objects, ocols["decmean"], np.float64, np.nan)[sort][pos][fill]
    return ra, dec


def _periods(cols, good, obj, objid, options):
    """Period, power and false-alarm probability of each object's good points (NaN where the
    search was not run), from `astroquery_ps1tap.periods.find_periods`."""
    from astropy.table import Table

    from .periods import find_periods

    kept = Table({"objID": cols["objID"][good], "filterID": cols["filterID"][good],
                  "obsTime": cols["obsTime"][good], "psfFlux": cols["psfFlux"][good],
                  "psfFluxErr": cols["psfFluxErr"][good],
                  "psfQfPerfect": cols["psfQfPerfect"][good]})
    found = find_periods(kept, **options)
    period = np.full(len(objid), np.nan)
    power = np.full(len(objid), np.nan)
    fap = np.full(len(objid), np.nan)
    if len(found):
        fid = np.asarray(found["objID"], dtype=np.int64)
        pos = np.searchsorted(objid, fid)
        period[pos] = np.asarray(getattr(found["period"], "value", found["period"]), dtype=float)
        power[pos] = np.asarray(found["power"], dtype=float)
        fap[pos] = np.asarray(found["false_alarm_probability"], dtype=float)
    return {"period": period, "period_power": power, "period_fap": fap}


# ---- targets -------------------------------------------------------------------------------------
_FILE_FORMATS = {".csv": "ascii.csv", ".ecsv": "ascii.ecsv", ".fits": "fits", ".fit": "fits",
                 ".parquet": "parquet", ".pq": "parquet"}
_POSITION_PAIRS = (("ra", "dec"), ("ramean", "decmean"), ("raj2000", "dej2000"), ("ra_icrs", "dec_icrs"))


@dataclass
class Targets:
    """What the user asked for, one entry per target, in input order.

    Either ``objid`` (int64) or ``ra``/``dec`` (degrees, ICRS) is set.
    """
    objid: np.ndarray = None
    ra: np.ndarray = None
    dec: np.ndarray = None
    origin: str = "targets"

    @property
    def kind(self):
        """``"objID"`` or ``"position"``."""
        return "objID" if self.objid is not None else "position"

    def __len__(self):
        return len(self.objid if self.objid is not None else self.ra)


def _objids(values, origin):
    """int64 objIDs from integers or decimal text (never through float), order and repeats kept."""
    if np.ma.isMaskedArray(values) and np.ma.getmaskarray(values).any():
        bad = int(np.flatnonzero(np.ma.getmaskarray(values))[0])
        raise ValueError(f"{origin}: objID of target {bad} is missing")
    data = np.asarray(np.ma.getdata(values))
    if data.ndim != 1 or len(data) == 0:
        raise ValueError(f"{origin}: no objIDs given")
    if data.dtype.kind in "iu":
        out = data.astype(np.int64)
    elif data.dtype.kind in "SUO":
        text = np.char.strip(np.asarray([v.decode() if isinstance(v, bytes) else str(v)
                                         for v in data.tolist()]))
        digits = np.char.isdigit(text)
        if not digits.all():
            bad = int(np.flatnonzero(~digits)[0])
            raise ValueError(f"{origin}: objID {text[bad]!r} of target {bad} is not a whole "
                             "non-negative number")
        out = text.astype(np.int64)
    else:
        raise ValueError(f"{origin}: objIDs arrived as {data.dtype} (floating point loses digits "
                         "of 18-digit objIDs); give them as integers or text")
    if (out < 0).any():
        bad = int(np.flatnonzero(out < 0)[0])
        raise ValueError(f"{origin}: objID {out[bad]} of target {bad} is negative")
    return out


def _positions_of(ra, dec, origin):
    ra = np.asarray(np.ma.filled(np.ma.asarray(ra, dtype=float), np.nan), dtype=float)
    dec = np.asarray(np.ma.filled(np.ma.asarray(dec, dtype=float), np.nan), dtype=float)
    bad = ~(np.isfinite(ra) & np.isfinite(dec) & (np.abs(dec) <= 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{origin}: target {i} has no valid position (ra={ra[i]}, dec={dec[i]}); "
                         "give degrees, with |dec| <= 90")
    if len(ra) == 0:
        raise ValueError(f"{origin}: no targets")
    return ra % 360.0, dec


def read_targets(targets):
    """Targets for `bulk_summaries` from objIDs, positions, a table or a file.

    Parameters
    ----------
    targets : int, sequence or array of objIDs, `~astropy.coordinates.SkyCoord`, table, or path
        A table (astropy, pandas, pyarrow, or a dict of columns) or a file (``.csv``, ``.ecsv``,
        ``.fits``, ``.parquet``) with an ``objID`` column, or else ``ra``/``dec`` (also
        ``raMean``/``decMean``, ``RAJ2000``/``DEJ2000``; degrees, ICRS), in any letter case.

    Returns
    -------
    `Targets`

    Raises
    ------
    ValueError
        For a missing file, an unknown extension, a table with neither objIDs nor positions, a
        missing value, or objIDs as floating point; the message says which target.

    Examples
    --------
    >>> read_targets([190361393344112894, "153102917444859851"]).objid
    array([190361393344112894, 153102917444859851])
    >>> read_targets({"RA": [139.33], "Dec": [68.63]}).kind
    'position'
    """
    from astropy.coordinates import SkyCoord

    origin = "targets"
    is_objid_text = isinstance(targets, str) and targets.strip().isdigit()
    if isinstance(targets, (str, os.PathLike)) and not is_objid_text:
        origin = str(targets)
        targets = _read_table_file(Path(targets))
    if isinstance(targets, SkyCoord):
        icrs = targets.icrs.reshape(-1)
        ra, dec = _positions_of(icrs.ra.deg, icrs.dec.deg, origin)
        return Targets(ra=ra, dec=dec, origin=origin)
    if isinstance(targets, (int, np.integer, str, bytes)):
        return Targets(objid=_objids(np.array([targets]), origin), origin=origin)
    try:
        names = _names(targets)
    except (AttributeError, TypeError):
        names = None
    if names is None or isinstance(targets, np.ndarray):
        return Targets(objid=_objids(np.asarray(targets) if not np.ma.isMaskedArray(targets)
                                     else targets, origin), origin=origin)
    lower = {n.lower(): n for n in names}
    if "objid" in lower:
        return Targets(objid=_objids(_raw(targets, lower["objid"]), origin), origin=origin)
    for ra_name, dec_name in _POSITION_PAIRS:
        if ra_name in lower and dec_name in lower:
            ra, dec = _positions_of(_raw(targets, lower[ra_name]), _raw(targets, lower[dec_name]), origin)
            return Targets(ra=ra, dec=dec, origin=origin)
    raise ValueError(f"{origin}: found neither an objID column nor ra/dec columns (columns: "
                     f"{', '.join(names) or 'none'})")


def _raw(table, name):
    values = table[name]
    if hasattr(values, "combine_chunks"):
        values = values.to_numpy(zero_copy_only=False)
    elif hasattr(values, "to_numpy") and not hasattr(values, "mask"):
        values = values.to_numpy()
    return values if np.ma.isMaskedArray(values) else np.asarray(values)


def _read_table_file(path):
    extension = path.suffix.lower()
    if extension not in _FILE_FORMATS:
        raise ValueError(f"cannot tell the format of {str(path)!r} from its extension; use one of "
                         f"{', '.join(_FILE_FORMATS)}")
    if not path.is_file():
        raise ValueError(f"no such targets file: {str(path)!r}")
    if _FILE_FORMATS[extension] == "parquet":
        _pyarrow()
        import pyarrow.parquet as pq

        return pq.read_table(path)
    from astropy.table import Table

    if extension == ".csv":   # objIDs as exact integers: never let a reader guess float
        converters = [_int64_converter(), _float_converter(), _str_converter()]
        return Table.read(path, format="ascii.csv", converters={"*": converters})
    return Table.read(path, format=_FILE_FORMATS[extension])


def _int64_converter():
    from astropy.io.ascii import convert_numpy

    return convert_numpy(np.int64)


def _float_converter():
    from astropy.io.ascii import convert_numpy

    return convert_numpy(np.float64)


def _str_converter():
    from astropy.io.ascii import convert_numpy

    return convert_numpy(str)


# ---- output ----------------------------------------------------------------------------------------
NO_OBJECT = "no object"
NO_MEASUREMENTS = "no measurements"
FAILED = "failed"


def _pyarrow():
    """pyarrow, or a clear message saying how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ImportError('Parquet files need pyarrow: pip install pyarrow (it comes with '
                          '"astroquery_ps1tap[hats]")') from None
    return pyarrow


def _arrow_schema(period_search, metadata):
    pa = _pyarrow()

    fields = [pa.field(name, pa.from_numpy_dtype(np.dtype(dtype)), metadata={"description": text})
              for name, dtype, text in summary_columns(period_search)]
    return pa.schema(fields, metadata={k: str(v) for k, v in metadata.items()})


class SummaryWriter:
    """Summary rows appended to a Parquet file as they are computed (memory: one batch).

    The unmatched targets go to a second Parquet file beside it, ``<name>.unmatched.parquet``,
    and the totals to the summary file's key-value metadata (``ps1tap.*`` keys) when it is closed.

    Parameters
    ----------
    path : str or Path
        A ``.parquet`` file; refused if it exists and ``overwrite`` is False.
    period_search : bool
        Whether the rows carry the period columns.
    metadata : dict
        Key-value metadata of the file (the quality cut, the source, ...).
    overwrite : bool
        Replace an existing file.
    """

    def __init__(self, path, *, period_search=False, metadata=None, overwrite=False):
        _pyarrow()
        import pyarrow.parquet as pq

        self.path = Path(path)
        if self.path.suffix.lower() not in (".parquet", ".pq"):
            raise ValueError(f"the summaries are written as Parquet: give a .parquet file, not "
                             f"{str(path)!r}")
        if self.path.exists() and not overwrite:
            raise ValueError(f"{str(path)!r} exists; remove it or pass overwrite=True")
        if not self.path.parent.is_dir():
            raise ValueError(f"no such directory: {str(self.path.parent)!r}")
        self.unmatched_path = self.path.with_name(self.path.stem + ".unmatched.parquet")
        self.schema = _arrow_schema(period_search, metadata or {})
        self.rows = 0
        # dictionaries only for the constant columns, statistics only for objID (the others'
        # statistics cannot prune a row group of a partition's objects; writing them doubled
        # the time of writing)
        self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd",
                                        use_dictionary=["quality_bitmask", "min_qf"],
                                        write_statistics=["objID"])

    def write(self, rows):
        """Append one batch of rows (a dict of arrays from `summarize`)."""
        import pyarrow as pa

        if len(rows["objID"]) == 0:
            return
        self._writer.write_table(pa.Table.from_pydict(
            {name: rows[name] for name in self.schema.names}, schema=self.schema))
        self.rows += len(rows["objID"])

    def close(self, unmatched, totals):
        """Write the unmatched targets' table and the totals; close the file."""
        import pyarrow.parquet as pq

        self._writer.add_key_value_metadata({f"ps1tap.{k}": str(v) for k, v in totals.items()})
        self._writer.close()
        pq.write_table(_arrow(unmatched), self.unmatched_path)

    def abort(self):
        """Close the file after an error (what was written stays readable)."""
        self._writer.close()


def read_summaries(path):
    """A `BulkSummaries` for a Parquet file written by `bulk_summaries` (or ``ps1tap bulk``).

    Nothing but the file's metadata and its unmatched targets is read; `BulkSummaries.read`
    reads the rows (or some columns or rows of them).
    """
    import pyarrow.parquet as pq
    from astropy.table import Table

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file: {str(path)!r}")
    metadata = {k.decode(): v.decode() for k, v in (pq.ParquetFile(path).metadata.metadata or {}).items()}
    if "ps1tap.targets" not in metadata:
        raise ValueError(f"{str(path)!r} is not a complete summaries file of ps1tap (no totals in "
                         "its metadata: was its writing interrupted?)")
    unmatched_path = path.with_name(path.stem + ".unmatched.parquet")
    unmatched = Table(pq.read_table(unmatched_path).to_pydict())
    quality = {"quality_bitmask": int(metadata["ps1tap.quality_bitmask"]),
               "min_qf": float(metadata["ps1tap.min_qf"])}
    return BulkSummaries(table=None, path=path, unmatched=unmatched,
                         n_targets=int(metadata["ps1tap.targets"]),
                         n_objects=int(metadata["ps1tap.objects"]), quality=quality,
                         source=metadata.get("ps1tap.source", ""), seconds=float("nan"))


def _arrow(table):
    import pyarrow as pa

    return pa.Table.from_pydict({name: np.asarray(table[name]) for name in table.colnames})


@dataclass
class BulkSummaries:
    """The outcome of `bulk_summaries`.

    Attributes
    ----------
    table : `~astropy.table.Table` or None
        The summaries (one row per object), when no ``output`` file was given.
    path : Path or None
        The Parquet file of the summaries, when one was given (read it with `read`).
    unmatched : `~astropy.table.Table`
        Every target with no summary: ``target`` (its index in the input), ``objID`` (0 where
        none), ``ra``/``dec`` (NaN for objID targets), ``reason``: ``"no object"`` (no such objID,
        or no object within the radius), ``"no measurements"`` (the object has none), or
        ``"failed"`` (its batch failed after retries: run it again).
    n_targets, n_objects : int
        Targets given; objects summarised (targets naming the same object share one row).
    quality : dict
        The cut: ``quality_bitmask`` and ``min_qf``.
    source : str
        Where the data came from.
    seconds : float
        Wall time.
    client : object
        The client the summaries came from: `lightcurves` asks it for light curves.
    """
    table: object
    path: Path
    unmatched: object
    n_targets: int
    n_objects: int
    quality: dict
    source: str
    seconds: float
    client: object = field(default=None, repr=False)

    def counts(self):
        """``{reason: number of targets}`` of the unmatched targets."""
        reasons, numbers = np.unique(np.asarray(self.unmatched["reason"], dtype=str), return_counts=True)
        return {str(r): int(n) for r, n in zip(reasons, numbers)}

    @property
    def complete(self):
        """True when no batch failed."""
        return FAILED not in self.counts()

    def read(self, columns=None, filters=None):
        """The summaries as an astropy Table in objID order (from memory, or read from the
        Parquet file, which holds them in the order they were computed: batch by batch or
        partition by partition).

        ``columns`` and pyarrow ``filters`` (e.g. ``[("r_std_mag", ">", 0.1)]``) read only part
        of a big file.
        """
        from astropy.table import Table

        if self.table is not None:
            table = self.table if columns is None else self.table[list(columns)]
            if filters:
                raise ValueError("filters apply to a Parquet file; select rows of .table instead")
            return table
        import pyarrow.parquet as pq

        table = Table(pq.read_table(self.path, columns=columns, filters=filters).to_pydict())
        if "objID" in table.colnames:
            table.sort("objID")      # the file holds them batch by batch, partition by partition
        return table

    def lightcurves(self, objids, **options):
        """Light curves of some of the objects, fetched from the same source (only those).

        ``options`` go to the client's ``get_lightcurves`` (default quality cut: the one the
        summaries used).
        """
        if self.client is None:
            raise ValueError("these summaries were read from a file: ask a client for the light "
                             "curves (client.get_lightcurves(objids))")
        options.setdefault("quality_bitmask", self.quality["quality_bitmask"])
        return self.client.get_lightcurves(np.asarray(objids, dtype=np.int64), **options)

    def report(self):
        """One line for people: what was summarised and what was not, and why."""
        parts = [f"{self.n_objects} objects summarised from {self.n_targets} targets in "
                 f"{self.seconds:.1f} s ({self.source})"]
        parts += [f"{n} {reason}" for reason, n in sorted(self.counts().items())]
        where = f" -> {self.path}" if self.path is not None else ""
        return "; ".join(parts) + where


# ---- the bulk operation ------------------------------------------------------------------------
#: Objects per TAP step: each step's measurements (~100 per object) are fetched in the client's
#: usual concurrent batches, summarised and written before the next step starts.
TAP_STEP = 5000
#: Positions matched to objIDs per step.
MATCH_STEP = 20000


def bulk_summaries(client, targets, *, output=None, period_search=False, radius=1.0,
                   quality_bitmask="default", min_qf=0.9, photometry="detection", progress=None,
                   overwrite=False, **options):
    """Per-object summaries of many targets, computed batch by batch (TAP) or partition by
    partition (HATS), written to Parquet as they come.

    Parameters
    ----------
    client : `~astroquery_ps1tap.PanstarrsTapClass` or a HATS client
        Where the measurements come from.
    targets : objIDs, `~astropy.coordinates.SkyCoord`, table, or file
        Anything `read_targets` accepts: objIDs, positions, a table or a CSV/ECSV/FITS/Parquet
        file with an ``objID`` column or ``ra``/``dec`` columns.
    output : str or Path, optional
        A ``.parquet`` file: the rows are appended to it as they are computed (memory stays
        bounded by one batch or partition), the unmatched targets go to
        ``<name>.unmatched.parquet``.  Without it, the summaries are returned in memory.
    period_search : bool or dict
        Also run the period search on each object's good points (a dict: options of
        `astroquery_ps1tap.periods.find_periods`).
    radius : float, `~astropy.units.Quantity` or str
        Match radius for positions (a number is arcseconds; default 1″): the nearest object.
    quality_bitmask, min_qf
        The quality cut, as for the light curves (default: ``psfQfPerfect >= 0.9``, positive
        flux).
    photometry : {"detection", "forced"}
        Single-epoch detections or forced photometry (TAP only).
    progress : bool, optional
        A progress bar on standard error (default: for more than one batch).
    overwrite : bool
        Replace an existing ``output``.
    **options
        For TAP: ``max_workers`` (queries at once), ``cache``, ``step`` (objects per step,
        default `TAP_STEP`); for HATS: ``dask_client`` (a `dask.distributed.Client`; default:
        the active one, else the synchronous scheduler).

    Returns
    -------
    `BulkSummaries`
        The summaries (``.table`` or ``.path``), the exact account of targets with no summary
        (``.unmatched``: no object, no measurements, or failed), and ``.lightcurves(objids)`` for
        the light curves of the interesting ones.

    Raises
    ------
    ValueError
        For bad targets, options or output, before any query.

    Examples
    --------
    >>> from astroquery_ps1tap import PanstarrsTap
    >>> from astroquery_ps1tap.bulk import bulk_summaries
    >>> result = bulk_summaries(PanstarrsTap, [190361393344112894, 1], progress=False)
    >>> result.n_objects, result.counts()
    (1, {'no object': 1})
    >>> row = result.table[0]
    >>> int(row["n_detections"]), int(row["n_good"]), int(row["i_n"])
    (66, 63, 20)
    """
    from astropy import units as u

    start = time.perf_counter()
    cut = quality_cut(quality_bitmask, min_qf)
    if photometry not in ("detection", "forced"):
        raise ValueError(f"photometry must be 'detection' or 'forced', not {photometry!r}")
    radius_arcsec = _radius_arcsec(radius)
    engine = _engine(client, options)
    if photometry == "forced" and engine.name != "tap":
        raise ValueError("forced photometry summaries come from TAP only: the HATS catalogs hold "
                         "single-epoch detections")
    wanted = read_targets(targets)
    metadata = {"ps1tap.format": FORMAT_VERSION, "ps1tap.source": engine.describe(),
                "ps1tap.photometry": photometry, "ps1tap.quality_bitmask": cut["quality_bitmask"],
                "ps1tap.min_qf": cut["min_qf"], "ps1tap.flux": "psf"}
    writer = (SummaryWriter(output, period_search=bool(period_search), metadata=metadata,
                            overwrite=overwrite) if output is not None else None)
    parts = []
    try:
        objid, ra, dec, reasons = engine.resolve(wanted, radius_arcsec * u.arcsec, progress)
        ids = _unique(objid[objid > 0])
        seen = np.zeros(len(ids), bool)
        failed = np.zeros(len(ids), bool)
        steps = engine.summaries(ids, cut=cut, period_search=period_search, photometry=photometry,
                                 progress=progress)
        for rows, _, failed_ids in steps:
            if writer is not None:
                writer.write(rows)
            else:
                parts.append(rows)
            seen[np.searchsorted(ids, rows["objID"])] = True
            if len(failed_ids):
                failed[np.searchsorted(ids, failed_ids)] = True
        no_rows = ids[~seen & ~failed]
        unknown = engine.unknown(no_rows) if wanted.kind == "objID" else no_rows[:0]
        at = np.searchsorted(ids, objid).clip(0, max(len(ids) - 1, 0))
        matched = objid > 0
        hit = np.zeros(len(objid), bool)
        if len(ids):
            hit[matched] = ids[at[matched]] == objid[matched]
        for mask, reason in ((failed, FAILED), (~seen & ~failed, NO_MEASUREMENTS)):
            flagged = np.zeros(len(objid), bool)
            flagged[hit] = mask[at[hit]]
            reasons[flagged & (reasons == "")] = reason
        reasons[np.isin(objid, unknown) & (reasons == NO_MEASUREMENTS)] = NO_OBJECT
        unmatched = _unmatched_table(wanted, objid, reasons)
        n_objects = int(seen.sum())
        totals = {"targets": len(wanted), "objects": n_objects,
                  **{reason.replace(" ", "_"): int(np.count_nonzero(reasons == reason))
                     for reason in (NO_OBJECT, NO_MEASUREMENTS, FAILED)}}
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    table = None
    if writer is not None:
        writer.close(unmatched, totals)
    else:
        table = _summary_table(parts, bool(period_search), metadata)
    return BulkSummaries(table=table, path=writer.path if writer is not None else None,
                         unmatched=unmatched, n_targets=len(wanted), n_objects=n_objects,
                         quality=cut, source=engine.describe(),
                         seconds=time.perf_counter() - start, client=client)


def _radius_arcsec(radius):
    from astropy import units as u
    from astropy.coordinates import Angle

    if isinstance(radius, (int, float, np.integer, np.floating)) and not isinstance(radius, bool):
        value = float(radius)
    else:
        try:
            value = Angle(radius).to_value(u.arcsec)
        except (ValueError, TypeError, u.UnitsError):
            raise ValueError(f"radius {radius!r} is not an angle (e.g. 1.0 for 1 arcsec, "
                             "'2 arcsec')") from None
    if not (np.isfinite(value) and 0 < value <= 60):
        raise ValueError(f"the match radius must be between 0 and 60 arcsec, not {value!r}")
    return value


def _unmatched_table(wanted, objid, reasons):
    from astropy.table import Table

    rows = np.flatnonzero(reasons != "")
    ra = wanted.ra[rows] if wanted.ra is not None else np.full(len(rows), np.nan)
    dec = wanted.dec[rows] if wanted.dec is not None else np.full(len(rows), np.nan)
    return Table({"target": rows.astype(np.int64), "objID": objid[rows].astype(np.int64),
                  "ra": ra, "dec": dec, "reason": reasons[rows].astype(str)})


def _summary_table(parts, period_search, metadata):
    from astropy.table import Table

    names = [(name, dtype, text) for name, dtype, text in summary_columns(period_search)]
    table = Table({name: np.concatenate([p[name] for p in parts]) if parts else np.zeros(0, dtype)
                   for name, dtype, _ in names}, meta=dict(metadata))
    for name, _, text in names:
        table[name].description = text
        if name.endswith("_mag") or name.endswith("_mag_err"):
            table[name].unit = "mag"
        elif name in ("raMean", "decMean"):
            table[name].unit = "deg"
        elif name in ("t_first", "t_last", "time_span", "period"):
            table[name].unit = "d"
    table.sort("objID")
    return table


def _engine_name(client):
    if isinstance(client, _HatsRoot) or getattr(getattr(client, "source", None), "name", None) == "HATS":
        return "hats"
    return "tap"


def _engine(client, options):
    """The source-specific half of `bulk_summaries` for this client."""
    if isinstance(client, _HatsRoot) or getattr(getattr(client, "source", None), "name", None) == "HATS":
        return _HatsEngine(client, **options)
    return _TapEngine(client, **options)


class _TapEngine:
    """Summaries from a TAP client: objIDs in steps, each step fetched in concurrent batches."""
    name = "tap"

    def __init__(self, client, *, max_workers=None, cache=True, step=TAP_STEP):
        if getattr(getattr(client, "source", None), "name", None) != "TAP":
            raise ValueError(f"bulk_summaries needs a PS1 client (PanstarrsTap, PanstarrsHats), not "
                             f"{type(client).__name__}")
        self.client = client
        self.max_workers = max_workers
        self.cache = cache
        self.step = int(step)
        if self.step < 1:
            raise ValueError(f"step must be a positive integer, not {step!r}")

    def describe(self):
        return f"tap:{self.client.server}"

    def resolve(self, wanted, radius, progress):
        """Per target: objID (0 where none) and the reason it has none (or "")."""
        if wanted.kind == "objID":
            return wanted.objid, wanted.ra, wanted.dec, np.full(len(wanted), "", dtype=object)
        return _match_positions(self.client, wanted, radius, progress, {"cache": self.cache})

    def summaries(self, ids, *, cut, period_search, photometry, progress):
        columns = _TAP_COLUMNS[photometry]
        bar = _bar(len(ids), "PS1 summaries", progress if progress is not None else
                   len(ids) > self.step, unit="object")
        try:
            for i in range(0, len(ids), self.step):
                part = ids[i:i + self.step]
                fetched = self.client.source.measurements(
                    part, photometry=photometry, columns=columns, with_means=True, progress=False,
                    max_workers=self.max_workers, cache=self.cache, on_truncation="raise")
                failed = (np.concatenate([np.asarray(f, dtype=np.int64) for f, _ in fetched.failures])
                          if fetched.failures else part[:0])
                rows = _concat_rows([summarize(table, quality_bitmask=cut["quality_bitmask"],
                                               min_qf=cut["min_qf"], period_search=period_search)
                                     for table in fetched.tables], bool(period_search))
                _advance(bar, len(part))
                yield rows, part, failed
        finally:
            _close(bar)

    def unknown(self, ids):
        """Which of these objIDs name no object (one query per 1,000)."""
        found = []
        for i in range(0, len(ids), 1000):
            part = ids[i:i + 1000]
            table = self.client.query_tap(
                "SELECT o.objID FROM dbo.MeanObjectView AS o WHERE o.objID IN ("
                + ", ".join(str(int(x)) for x in part) + ")", cache=self.cache)
            found.append(np.asarray(table.columns[0], dtype=np.int64))
        known = np.concatenate(found) if found else np.zeros(0, np.int64)
        return ids[~np.isin(ids, known)]


def _concat_rows(parts, period_search):
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([p[name] for p in parts]) if parts else np.zeros(0, dtype)
            for name, dtype, _ in summary_columns(period_search)}


def _match_positions(client, wanted, radius, progress, options):
    """objIDs of the nearest objects to the targets' positions (0 where none), in steps, with
    the client's own ``match_positions`` (the same choice as ``get_lightcurves``)."""
    from astropy.coordinates import SkyCoord

    objid = np.zeros(len(wanted), np.int64)
    bar = _bar(len(wanted), "matching positions", progress, unit="target")
    for i in range(0, len(wanted), MATCH_STEP):
        part = slice(i, i + MATCH_STEP)
        matches = client.match_positions(SkyCoord(wanted.ra[part], wanted.dec[part], unit="deg"),
                                         radius, **options)
        objid[part] = np.ma.filled(matches["objID"], 0)
        _advance(bar, len(matches))
    _close(bar)
    reasons = np.where(objid > 0, "", NO_OBJECT).astype(object)
    return objid, wanted.ra, wanted.dec, reasons


_TAP_COLUMNS = {"detection": ("objID", "filterID", "obsTime", "psfFlux", "psfFluxErr", "psfQfPerfect",
                              "infoFlag"),
                "forced": ("objID", "filterID", "obsTime", "FpsfFlux", "FpsfFluxErr", "FpsfQfPerfect",
                           "FinfoFlag")}


def _bar(total, description, progress, unit):
    if progress is None:
        progress = total > TAP_STEP
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit=unit, leave=False, file=sys.stderr)


def _advance(bar, n):
    if bar is not None:
        bar.update(n)


def _close(bar):
    if bar is not None:
        bar.close()


class _HatsRoot:
    """A HATS root holding ``otmo/`` and ``detection/`` collections (STScI's layout), for bulk
    summaries."""
    source_name = "hats"

    def __init__(self, path):
        self.path = Path(path)
        missing = [name for name in ("otmo", "detection") if not (self.path / name).is_dir()]
        if missing:
            raise ValueError(f"{str(self.path)!r} is not a PS1 HATS root: no {' or '.join(missing)} "
                             "catalog in it")

    def __repr__(self):
        return f"<PS1 HATS catalogs at {self.path}>"

    def structure(self):
        """The catalogs' `~astroquery_ps1tap.sources.hats.catalogs.Catalogs` (hats' structure of
        each, read once)."""
        if getattr(self, "_catalogs", None) is None:
            from .sources.hats.catalogs import Catalogs

            self._catalogs = Catalogs(self.path)
        return self._catalogs


class _HatsEngine:
    """Summaries from HATS catalogs, one Dask task per detection partition near the targets.

    hats gives the catalogs' structure (partition pixels and files, the margin catalog); the
    objIDs' encoded positions send each objID only to the partitions near it (`_HatsPlan`); each
    task reads with pyarrow the few columns it needs of its partition, its margin and the
    objects, keeps the targets' rows, and summarises them (`_summarize_pixel`): only the
    summaries leave a task.  The rows are those of lsdb's join of the objects with their
    detections (margins included), which this path used before: reading each partition with
    lsdb (a pandas frame with ``ra``/``dec``/``_healpix_29`` added) and merging them with pandas
    took 9.7x the pyarrow floor at 10^5 objects; see ``docs/bulk.rst`` (B5).  Positions are
    matched and unknown objIDs found with lsdb, as before.
    """
    name = "hats"

    def __init__(self, client, *, dask_client=None):
        self.client = client
        source = None if isinstance(client, _HatsRoot) else client.source
        #: the HATS source's catalogs (`PanstarrsHatsClass`): objIDs then choose the partitions
        #: read, through the positions they encode (MAST's definition)
        self.catalogs = getattr(source, "catalogs", None)
        self.root = Path(str(client.path)) if isinstance(client, _HatsRoot) else None
        self.dask_client = (dask_client if dask_client is not None
                            else getattr(source, "client", None) or _active_dask_client())

    def describe(self):
        return f"hats:{self.catalogs.root if self.catalogs is not None else self.root}"

    def _open(self, name, columns, filters=None, search_filter=None):
        if self.catalogs is not None:
            try:
                return self.catalogs.open(name, columns=list(columns), filters=filters,
                                          search_filter=search_filter)
            except ValueError as error:     # lsdb: no partition lies near any of the objects
                if "coverage" in str(error) or "empty" in str(error).lower():
                    return None
                raise
        import lsdb

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lsdb.open_catalog(self.root / name, columns=list(columns), filters=filters,
                                     search_filter=search_filter)

    def _pixels(self, ids):
        """The search that reads only the partitions near the objects (None: every partition)."""
        if self.catalogs is None:
            return None
        from lsdb.core.search.region_search import MOCSearch

        from .sources.hats.catalogs import objid_moc

        return MOCSearch(objid_moc(ids), fine=False)

    def resolve(self, wanted, radius, progress):
        if wanted.kind == "objID":
            return wanted.objid, wanted.ra, wanted.dec, np.full(len(wanted), "", dtype=object)
        if self.catalogs is not None:
            return _match_positions(self.client, wanted, radius, progress, {})
        import lsdb
        import pandas as pd

        objects = self._open("otmo", ("objID", "raMean", "decMean", "nDetections"),
                             filters=[("nDetections", ">=", 2)])
        frame = pd.DataFrame({"target": np.arange(len(wanted)), "ra": wanted.ra, "dec": wanted.dec})
        radius_arcsec = float(radius.to_value("arcsec"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            here = lsdb.from_dataframe(frame, ra_column="ra", dec_column="dec",
                                       margin_threshold=radius_arcsec)
            matched = here.crossmatch(objects, radius_arcsec=radius_arcsec, n_neighbors=1,
                                      suffixes=("", "_o"))
            found = self._compute(matched, progress)
        objid = np.zeros(len(wanted), np.int64)
        target = _plain(found, "target", np.int64)
        objid[target] = _plain(found, "objID_o", np.int64)
        reasons = np.where(objid > 0, "", NO_OBJECT).astype(object)
        return objid, wanted.ra, wanted.dec, reasons

    def _compute(self, catalog, progress):
        frame = catalog.to_dask_dataframe()
        if self.dask_client is not None:
            return self.dask_client.compute(frame).result()
        return frame.compute(scheduler="synchronous")

    def plan(self, ids, needed):
        """The partition tasks for these objIDs (`_HatsPlan.tasks`)."""
        catalogs = self.catalogs if self.catalogs is not None else self.client.structure()
        return _HatsPlan(catalogs).tasks(ids, needed)

    def summaries(self, ids, *, cut, period_search, photometry, progress):
        import dask

        if not len(ids):
            return
        flags, _ = _quality_flags()
        needed = [c for c in INPUT_COLUMNS if c != "infoFlag"]
        if cut["quality_bitmask"] & ~flags.DEFAULT_BITMASK & ~(flags.MISSING_QF | flags.LOW_SNR):
            needed.append("infoFlag")      # bits read from infoFlag
        tasks = self.plan(ids, needed)
        parts = [dask.delayed(_summarize_pixel, pure=True)(task, cut, period_search)
                 for task in tasks]
        bar = _bar(len(parts), "PS1 summaries", progress if progress is not None else len(parts) > 1,
                   unit="partition")
        empty = ids[:0]
        try:
            if self.dask_client is not None:
                from distributed import as_completed

                futures = self.dask_client.compute(parts)
                index = {future.key: k for k, future in enumerate(futures)}
                done, following = {}, 0
                for future in as_completed(futures):   # written in partition order, as they come
                    done[index[future.key]] = future.result()
                    future.release()
                    _advance(bar, 1)
                    while following in done:
                        yield done.pop(following), empty, empty
                        following += 1
            else:
                for part in parts:
                    rows = dask.compute(part, scheduler="synchronous")[0]
                    _advance(bar, 1)
                    yield rows, empty, empty
        finally:
            _close(bar)

    def unknown(self, ids):
        if not len(ids):
            return ids
        objects = self._open("otmo", ("objID", "raMean", "decMean"),
                             filters=[("objID", "in", ids.tolist())], search_filter=self._pixels(ids))
        if objects is None:
            return ids
        known = _plain(self._compute(objects, False), "objID", np.int64)
        return ids[~np.isin(ids, known)]


def _active_dask_client():
    """The active `dask.distributed.Client`, or None (then the synchronous scheduler is used)."""
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None


def _plain(frame, name, dtype):
    values = frame[name]
    return values.to_numpy(dtype=dtype) if hasattr(values, "to_numpy") else np.asarray(values, dtype)


# ---- HATS: hats plans the partitions, pyarrow reads them, numpy summarises ---------------------------
#: HEALPix order of the cells whose 3x3 blocks send an objID to the partitions near the position it
#: encodes: cells of ~103", so a block holds every point within ~64" of that position (hats'
#: ``order2mindist(11)``), far more than `~.sources.hats.catalogs.LOOKUP_RADIUS_ARCSEC`.
ASSIGN_ORDER = 11


@dataclass
class _PixelTask:
    """What one Dask task reads and summarises: the objects of one detection partition's pixel.

    An object belongs to the pixel its own position lies in (as in lsdb's join, which filters the
    objects to the aligned pixel); its detections lie in that partition or within 10″ of it, in
    the partition's margin (the margin catalog's partition of the same pixel).
    """
    pixel: object          # hats.pixel_math.HealpixPixel
    lower: int             # the pixel's range of spatial index (_healpix_29) values: [lower, upper)
    upper: int
    detections: tuple      # the detection partition's file and its margin's (each may be None)
    objects: tuple         # the object partitions' files that overlap the pixel
    ids: np.ndarray        # the targets' objIDs whose objects can lie in the pixel (sorted)
    columns: tuple         # the measurement columns read
    healpix_column: str    # the objects' spatial index column ("" if absent: computed from ra/dec)
    healpix_order: int


class _HatsPlan:
    """Which partitions of the PS1 HATS catalogs hold which targets, from hats' catalog structure
    (pixel lists, partition files) and the positions objIDs encode; no rows are read here."""

    def __init__(self, catalogs):
        import hats

        detection, _ = catalogs.structure("detection")
        objects, _ = catalogs.structure("otmo")
        self.detection = getattr(detection, "main_catalog", detection)
        margin_dir = getattr(detection, "default_margin_catalog_dir", None)
        self.margin = hats.read_hats(margin_dir) if margin_dir is not None else None
        if self.margin is None:
            warnings.warn(f"the detection catalog at {catalogs.location('detection')} has no margin "
                          "catalog: objects near a partition's edge lose the detections that lie "
                          "in the next partition", RuntimeWarning, stacklevel=4)
        self.objects = getattr(objects, "main_catalog", objects)

    def tasks(self, ids, columns):
        """One `_PixelTask` per detection pixel that may hold any of ``ids`` (sorted, unique)."""
        pixels, files = _partitions(self.detection)
        margins = _partitions(self.margin)[1] if self.margin is not None else {}
        extra = [p for p in margins if p not in files]      # margin rows only, no partition there
        lower, upper = _index_ranges(pixels + extra)
        order = np.argsort(lower)
        if np.any(lower[order][1:] < upper[order][:-1]):
            from .sources.hats.catalogs import CatalogError

            raise CatalogError("the detection catalog's margin partitions overlap its partitions "
                               "at other orders; this reader expects hats-import's layout")
        task_pixels = [(pixels + extra)[i] for i in order]
        lower, upper = lower[order], upper[order]
        object_pixels, object_files = _partitions(self.objects)
        object_lower, object_upper = _index_ranges(object_pixels)
        by_object = np.argsort(object_lower)
        object_lower, object_upper = object_lower[by_object], object_upper[by_object]
        info = self.objects.catalog_info
        healpix_column = info.healpix_column if self.objects.has_healpix_column() else ""
        tasks = []
        for k, ids_here in _assign(ids, lower, upper):
            pixel = task_pixels[k]
            first = np.searchsorted(object_upper, lower[k], side="right")
            last = np.searchsorted(object_lower, upper[k], side="left")
            tasks.append(_PixelTask(
                pixel=pixel, lower=int(lower[k]), upper=int(upper[k]),
                detections=(files.get(pixel), margins.get(pixel)),
                objects=tuple(object_files[object_pixels[j]] for j in by_object[first:last]),
                ids=ids_here, columns=tuple(columns), healpix_column=healpix_column,
                healpix_order=int(getattr(info, "healpix_order", None) or 29)))
        return tasks


def _partitions(catalog):
    """The catalog's partition pixels and ``{pixel: file}`` (hats' paths)."""
    from hats.io import paths

    pixels = list(catalog.get_healpix_pixels())
    base = catalog.catalog_base_dir
    suffix = getattr(catalog.catalog_info, "npix_suffix", ".parquet") or ".parquet"
    return pixels, {p: paths.pixel_catalog_file(base, p, npix_suffix=suffix) for p in pixels}


def _index_ranges(pixels):
    """``[lower, upper)`` spatial index (order 29) ranges of HEALPix pixels."""
    from hats.pixel_math.spatial_index import healpix_to_spatial_index

    lower = np.array([healpix_to_spatial_index(p.order, p.pixel) for p in pixels], dtype=np.int64)
    upper = np.array([healpix_to_spatial_index(p.order, p.pixel + 1) for p in pixels], dtype=np.int64)
    return lower.reshape(-1), upper.reshape(-1)


def _assign(ids, lower, upper):
    """``(k, objIDs)`` for each partition ``k`` (disjoint sorted ``[lower, upper)`` spatial index
    ranges) near the position an objID encodes: those that overlap the 3x3 block of
    `ASSIGN_ORDER` cells around it."""
    import cdshealpix.nested
    from hats.pixel_math.healpix_shim import radec2pix

    from .sources.hats.catalogs import objid_positions

    ra, dec = objid_positions(ids)
    cells = radec2pix(ASSIGN_ORDER, ra % 360.0, np.clip(dec, -90.0, 90.0)).astype(np.int64)
    block = cdshealpix.nested.neighbours(cells.astype(np.uint64), ASSIGN_ORDER).astype(np.int64)
    shift = 2 * (29 - ASSIGN_ORDER)
    valid = block >= 0
    first = np.searchsorted(upper, block << shift, side="right")
    last = np.searchsorted(lower, (block + 1) << shift, side="left")
    count = np.where(valid, np.maximum(last - first, 0), 0).ravel()
    total = int(count.sum())
    start = np.cumsum(count) - count
    partition = np.repeat(first.ravel(), count) + (np.arange(total) - np.repeat(start, count))
    target = np.repeat(np.repeat(np.arange(len(ids)), block.shape[1]), count)
    pairs = _unique(partition * len(ids) + target)            # by partition, then objID
    partition, target = pairs // len(ids), pairs % len(ids)
    cuts = np.flatnonzero(np.diff(partition)) + 1
    for part, chosen in zip(np.split(partition, cuts), np.split(target, cuts)):
        if len(part):
            yield int(part[0]), ids[chosen]


def _read_rows(path, columns, ids):
    """``columns`` of the rows of one Parquet partition whose objID is in ``ids`` (sorted), as
    plain arrays: only the row groups whose objID statistics allow one are read."""
    from hats.io import file_io

    parquet = file_io.read_parquet_file(path)
    metadata = parquet.metadata
    names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
    at = names.index("objID")
    groups = []
    for g in range(metadata.num_row_groups):
        stats = metadata.row_group(g).column(at).statistics
        if stats is None or not stats.has_min_max or (
                np.searchsorted(ids, stats.max, side="right") > np.searchsorted(ids, stats.min)):
            groups.append(g)
    table = parquet.read_row_groups(groups, columns=list(columns))
    keep = _rows_of(table["objID"].to_numpy(), ids)
    return {name: table[name].to_numpy()[keep] for name in columns}


def _rows_of(objid, ids):
    """Which rows have an objID in ``ids`` (sorted): a boolean mask.

    Each run of equal objIDs is looked up once: a partition's rows come in spatial-index order,
    which keeps most objects' detections together, so there are about as many runs as objects.
    """
    if not len(ids) or not len(objid):
        return np.zeros(len(objid), bool)
    starts, lengths = _runs(objid)
    heads = objid[starts]
    hit = ids[np.searchsorted(ids, heads).clip(0, len(ids) - 1)] == heads
    return np.repeat(hit, lengths)


def _runs(values):
    """Starts and lengths of the runs of equal values of a non-empty array."""
    starts = np.r_[0, np.flatnonzero(values[1:] != values[:-1]) + 1]
    return starts, np.diff(np.r_[starts, len(values)])


def _summarize_pixel(task, cut, period_search):
    """Summaries of the targets whose objects lie in one detection pixel (one Dask task).

    Reads, with pyarrow, only the needed columns of the object partitions overlapping the pixel
    and of the detection partition and its margin, keeping the rows of the task's objIDs; the
    objects are those whose position lies in the pixel; `summarize` does the rest.
    """
    position = ["objID", "raMean", "decMean"]
    index = [task.healpix_column] if task.healpix_column else []
    parts = [_read_rows(path, position + index, task.ids) for path in task.objects]
    objects = {name: np.concatenate([p[name] for p in parts]) if parts else np.zeros(0)
               for name in position + index}
    if task.healpix_column:       # the spatial index at order 29, as the pixels' ranges
        spatial = objects[task.healpix_column].astype(np.int64) << 2 * (29 - task.healpix_order)
    else:
        from hats.pixel_math.spatial_index import compute_spatial_index

        spatial = compute_spatial_index(objects["raMean"], objects["decMean"])
    mine = (spatial >= task.lower) & (spatial < task.upper)
    objects = {name: objects[name][mine] for name in position}
    objects["objID"] = objects["objID"].astype(np.int64)
    owned = _unique(objects["objID"])
    rows = [_read_rows(path, task.columns, owned) for path in task.detections
            if path is not None and len(owned)]
    detections = {name: np.concatenate([r[name] for r in rows]) if rows else np.zeros(0)
                  for name in task.columns}
    return summarize(detections, objects, quality_bitmask=cut["quality_bitmask"],
                     min_qf=cut["min_qf"], period_search=period_search)


# ---- the ``ps1tap bulk`` command ---------------------------------------------------------------------
def add_bulk_parser(commands):
    """Add the ``bulk`` subcommand to the ``ps1tap`` parser's subcommands."""
    bulk = commands.add_parser(
        "bulk", help="per-object summaries of many targets, written to Parquet",
        description="Per-object summaries (good points, mean magnitude and scatter per filter, "
                    "time span; optionally a period) of every target in a file, streamed to "
                    "Parquet. Targets with no object or no measurements are listed in "
                    "OUT.unmatched.parquet.")
    bulk.add_argument("targets", metavar="TARGETS_FILE",
                      help="CSV, ECSV, FITS or Parquet file with an objID column or ra/dec columns "
                           "(degrees)")
    bulk.add_argument("--output", dest="summaries", metavar="OUT.parquet", required=True,
                      help="the Parquet file of summaries")
    bulk.add_argument("--source", default="tap", metavar="tap|hats[:PATH]",
                      help="TAP (default: --server) or HATS catalogs at PATH (default: "
                           "$PS1HATS_PATH)")
    bulk.add_argument("--period-search", action="store_true",
                      help="also search each object for a period (find_periods: ~10-20 ms per object)")
    bulk.add_argument("--radius", default="1 arcsec", help="match radius for positions")
    bulk.add_argument("--photometry", choices=("detection", "forced"), default="detection")
    bulk.add_argument("--quality", default="default",
                      help="quality bitmask of the points kept: default (psfQfPerfect >= 0.9, "
                           "positive flux), hard, hardest, none, or an integer")
    bulk.add_argument("--overwrite", action="store_true", help="replace OUT.parquet if it exists")
    return bulk


def bulk_main(client, args, status):
    """Run ``ps1tap bulk`` (called by `astroquery_ps1tap.cli.main` with its TAP client).

    Returns the exit status: 0 done, 1 some batches failed (the others are written; the failed
    targets are listed as ``failed``), 3 no target had a summary.
    """
    from .cli import EXIT_EMPTY, EXIT_OK, EXIT_SERVICE

    source = _source_client(args.source, client)
    quality = int(args.quality) if args.quality.lstrip("-").isdigit() else args.quality
    cache = not getattr(args, "no_cache", False)
    options = {"cache": cache} if _engine_name(source) == "tap" else {}
    status(f"summarising the targets of {args.targets} from {_describe(source)}")
    result = bulk_summaries(source, args.targets, output=args.summaries,
                            period_search=args.period_search, radius=args.radius,
                            quality_bitmask=quality, photometry=args.photometry,
                            progress=not args.quiet, overwrite=args.overwrite, **options)
    status(result.report())
    if len(result.unmatched):
        listed = result.path.with_name(result.path.stem + ".unmatched.parquet")
        status(f"targets with no summary are listed in {listed}")
    if not result.complete:
        status("some batches failed after retries: run the command again on the targets listed "
               "as 'failed'")
        return EXIT_SERVICE
    return EXIT_OK if result.n_objects else EXIT_EMPTY


def _source_client(spec, tap_client):
    name, _, path = str(spec).partition(":")
    if name == "tap" and not path:
        return tap_client
    if name != "hats":
        raise ValueError(f"--source must be 'tap', 'hats' or 'hats:PATH', not {spec!r}")
    from .sources.hats import PanstarrsHatsClass

    return PanstarrsHatsClass(path or None)


def _describe(client):
    if hasattr(client, "server"):
        return client.server
    return f"the HATS catalogs at {client.path}"
