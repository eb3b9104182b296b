"""Light curves in, plain arrays out: the one place the period search reads its input.

A detections table (the canonical columns of `~astroquery_ps1tap.tables.shape_detections`:
``objID``, ``filterID``/``filter``, ``obsTime`` (MJD, TAI), ``psfFlux``, ``psfFluxErr``,
``psfQfPerfect``) is turned into AB magnitudes with `~astroquery_ps1tap.schema.flux_to_mag`,
keeping points with ``psfQfPerfect >= min_qf`` and a positive flux (the tutorial's cut, the
default quality mask of `~astroquery_ps1tap.lightcurves.to_lightcurves`).  Light curves
(lightkurve objects, one per filter or combined with a ``filterID`` column) are read as they
are: their own quality mask has already been applied.
"""
from collections.abc import Mapping

import numpy as np

from .. import schema, tables

__all__ = ["light_curve_arrays", "objects_arrays"]


def _band_codes(names):
    """0..4 for g r i z y (or filterID 1..5); other names after them, in sorted order."""
    names = np.asarray(names).astype(str)
    lookup = {band: i for i, band in enumerate(schema.FILTERS)}
    lookup.update({str(fid): fid - 1 for fid in schema.FILTER_IDS})
    extra = sorted(set(names.tolist()) - set(lookup))
    lookup.update({name: len(schema.FILTERS) + i for i, name in enumerate(extra)})
    return np.array([lookup[n] for n in names], dtype=np.int64) if len(names) else \
        np.zeros(0, dtype=np.int64)


def _from_detections(table, min_qf):
    det = tables.ensure_detections(table)
    flux = np.asarray(np.ma.filled(det["psfFlux"].astype(float), np.nan))
    err = np.asarray(np.ma.filled(det["psfFluxErr"].astype(float), np.nan))
    keep = np.isfinite(flux) & (flux > 0) & np.isfinite(err)
    if "psfQfPerfect" in det.colnames and min_qf is not None:
        qf = np.asarray(np.ma.filled(det["psfQfPerfect"].astype(float), np.nan))
        keep &= qf >= min_qf
    mag, mag_err = schema.flux_to_mag(flux[keep], err[keep])
    return (np.asarray(np.ma.getdata(det["objID"]), dtype=np.int64)[keep],
            np.asarray(np.ma.getdata(det["obsTime"]), dtype=float)[keep], mag, mag_err,
            np.asarray(np.ma.getdata(det["filterID"]), dtype=np.int64)[keep] - 1)


def _curve_columns(lc, column):
    """(t, y, dy, band names) of one lightkurve LightCurve."""
    y = np.asarray(getattr(lc[column], "value", lc[column]), dtype=float)
    name = "mag_err" if column in ("mag", "dmag") and "mag_err" in lc.colnames else "flux_err"
    dy = np.asarray(getattr(lc[name], "value", lc[name]), dtype=float)
    if "filterID" in lc.colnames:
        bands = np.asarray(lc["filterID"]).astype(int).astype(str)
    else:
        bands = np.full(len(lc), str(lc.meta.get("FILTER", "?")))
    return lc.time.tai.mjd, y, dy, bands


def light_curve_arrays(data, column="mag", *, min_qf=0.9):
    """``(t, y, dy, band)`` of one object: times (MJD, TAI), magnitudes, errors, filter codes.

    ``data`` is a `~lightkurve.LightCurveCollection`, a `~lightkurve.LightCurve` or a detections
    table of one object.  Filter codes are 0..4 for g r i z y.

    Examples
    --------
    >>> from astroquery_ps1tap.periods import simulate_detections
    >>> t, y, dy, band = light_curve_arrays(simulate_detections("constant", 1.0, seed=0))
    >>> len(t) < 80, sorted(set(band.tolist()))
    (True, [0, 1, 2, 3, 4])
    """
    if hasattr(data, "colnames") and not hasattr(data, "fold"):
        ids, t, y, dy, band = _from_detections(data, min_qf)
        if len(np.unique(ids)) > 1:
            raise ValueError(f"the table holds {len(np.unique(ids))} objects; use find_periods "
                             "for many objects, or select one objID")
        return _require_points(t, y, dy, band)
    curves = [data] if hasattr(data, "fold") else list(data)
    parts = [_curve_columns(lc, column) for lc in curves if len(lc)]
    if not parts:
        raise ValueError("no points to search")
    t, y, dy, names = (np.concatenate(p) for p in zip(*parts))
    return _require_points(t, y, dy, _band_codes(names))


def _require_points(t, y, dy, band):
    good = np.isfinite(t) & np.isfinite(y) & np.isfinite(dy) & (dy > 0)
    if not good.any():
        raise ValueError("no points to search")
    return t[good], y[good], dy[good], band[good]


def objects_arrays(data=None, *, objid=None, time=None, mag=None, mag_err=None, band=None,
                   column="mag", min_qf=0.9):
    """Many objects as ``(objids, starts, t, y, dy, band)``: object ``i`` is
    ``t[starts[i]:starts[i + 1]]``, points sorted by objID, filter and time.

    ``data``: a detections table of many objects, or a mapping objID → light curves (e.g.
    `~astroquery_ps1tap.lightcurves.LightCurvesByObject`); or, without ``data``, equal-length
    arrays ``objid``, ``time`` (MJD), ``mag``, ``mag_err`` and ``band`` (names or codes).

    Examples
    --------
    >>> ids, starts, t, y, dy, band = objects_arrays(
    ...     objid=[7, 5, 7], time=[1.0, 2.0, 3.0], mag=[15.0, 16.0, 15.1],
    ...     mag_err=[0.01, 0.01, 0.01], band=["r", "g", "g"])
    >>> ids.tolist(), starts.tolist(), band.tolist()
    ([5, 7], [0, 1, 3], [0, 0, 1])
    """
    if data is None:
        arrays = [objid, time, mag, mag_err, band]
        if any(a is None for a in arrays):
            raise ValueError("give a detections table, a mapping objID -> light curves, or all "
                             "of objid, time, mag, mag_err and band")
        ids = np.asarray(objid, dtype=np.int64)
        t, y, dy = (np.asarray(a, dtype=float) for a in (time, mag, mag_err))
        codes = _band_codes(band) if np.asarray(band).dtype.kind in "USO" else \
            np.asarray(band, dtype=np.int64)
        if not len(ids) == len(t) == len(y) == len(dy) == len(codes):
            raise ValueError("objid, time, mag, mag_err and band must have the same length")
    elif isinstance(data, Mapping):
        parts = []
        for key, curves in data.items():
            t, y, dy, codes = light_curve_arrays(curves, column, min_qf=min_qf)
            parts.append((np.full(len(t), int(key), dtype=np.int64), t, y, dy, codes))
        if not parts:
            raise ValueError("no objects to search")
        ids, t, y, dy, codes = (np.concatenate(p) for p in zip(*parts))
    elif hasattr(data, "colnames"):
        ids, t, y, dy, codes = _from_detections(data, min_qf)
    else:
        raise TypeError(f"cannot read light curves from {type(data).__name__}: give a detections "
                        "table, a mapping objID -> light curves, or arrays")
    good = np.isfinite(t) & np.isfinite(y) & np.isfinite(dy) & (dy > 0)
    ids, t, y, dy, codes = ids[good], t[good], y[good], dy[good], codes[good]
    order = np.lexsort((t, codes, ids))
    ids, t, y, dy, codes = ids[order], t[order], y[order], dy[order], codes[order]
    cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.r_[0, cuts, len(ids)] if len(ids) else np.zeros(1, dtype=np.int64)
    return ids[starts[:-1]], starts.astype(np.int64), t, y, dy, codes
