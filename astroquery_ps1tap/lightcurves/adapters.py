"""PS1 detections as `lightkurve` light curves.

`to_lightcurves` turns the detections of one object into a `PS1LightCurveCollection` (a
`~lightkurve.LightCurveCollection`) with one `~lightkurve.LightCurve` per filter (``g r i z y``
order); `to_lightcurves_by_object` does the same for tables of many objects, lazily;
`combine_bands` merges the filters of one object into a single curve of magnitude differences
(with a ``filterID`` column), the tutorial's way of folding an eclipsing binary; `as_collection`
is the one conversion of a table, a curve or a collection into a collection.

Every curve has

* ``time``: `~astropy.time.Time` from ``obsTime`` (MJD, **TAI** time scale), a fresh object per
  curve (``LightCurve.bin`` fails on curves that share one);
* ``flux``, ``flux_err``: PSF flux in Jy (``flux="ap"`` or ``"kron"`` for the others);
* ``mag``, ``mag_err``: AB magnitudes from `~astroquery_ps1tap.schema.flux_to_mag`
  (``-2.5 log10(flux / Jy) + AB_ZEROPOINT`` and ``MAG_ERR_FACTOR * flux_err / flux``), with the
  plain ``mag`` unit (``u.ABmag`` breaks ``bin`` and ``remove_outliers``); NaN where the flux is
  not positive;
* ``dmag``: ``mag`` minus the object's mean magnitude in that filter (``meta["MEAN_MAG"]``; where
  it came from is in ``meta["DMAG_REFERENCE"]``);
* ``psfQfPerfect``, ``infoFlag``, ``infoFlag2``, ``infoFlag3``, ``detectID`` (or
  ``forcedWarpID``) when the input has them, and ``quality``: the `PS1QualityFlags` bits.

**Masking policy** (lightkurve's, as in its file readers): points whose ``quality`` has a bit of
``quality_bitmask`` set are *removed*; points flagged only by other bits are kept, with the bits
visible in ``quality``.  Each curve's ``meta`` records the bitmask (``QUALITY_BITMASK``), how many
points the filter had (``N_INPUT``) and how many were removed (``N_MASKED``, with a count per
flag in ``MASKED_FLAGS``).  ``quality_bitmask="none"`` keeps every point.  A filter whose every
point was removed is left out of the collection with a `PS1LightCurveWarning` saying so.
"""
import warnings
from collections.abc import Mapping

import lightkurve as lk
import numpy as np
from astropy import units as u
from astropy.io import registry
from astropy.table import Row, Table
from astropy.time import Time
from astropy.utils.exceptions import AstropyUserWarning

from .. import schema, tables
from .quality import PS1QualityFlags

__all__ = ["to_lightcurves", "to_lightcurves_by_object", "LightCurvesByObject", "combine_bands",
           "as_collection", "PS1LightCurveCollection", "PS1LightCurveWarning", "MISSION",
           "quality_bits"]

#: ``meta["MISSION"]`` of every curve.
MISSION = "Pan-STARRS1"
_FLUX_KINDS = ("psf", "ap", "kron")


class PS1LightCurveWarning(AstropyUserWarning):
    """Something in the detections could not go into the light curves as it was."""


class _CollectionRead(registry.UnifiedReadWrite):
    """``PS1LightCurveCollection.read(filename, format="ps1", ...)``: astropy's unified I/O.

    Formats: ``"ps1"`` (`~astroquery_ps1tap.lightcurves.read_ps1_lightcurves`).
    """

    def __init__(self, instance, cls):
        super().__init__(instance, cls, "read", registry=None)

    def __call__(self, *args, **kwargs):
        return self.registry.read(self._cls, *args, **kwargs)


class _CollectionWrite(registry.UnifiedReadWrite):
    """``lcs.write(filename, format="ps1", ...)``: astropy's unified I/O.

    Formats: ``"ps1"`` (`~astroquery_ps1tap.lightcurves.write_ps1_lightcurves`).
    """

    def __init__(self, instance, cls):
        super().__init__(instance, cls, "write", registry=None)

    def __call__(self, *args, **kwargs):
        self.registry.write(self._instance, *args, **kwargs)


class PS1LightCurveCollection(lk.LightCurveCollection):
    """A `~lightkurve.LightCurveCollection` whose curves can also be picked by filter name.

    ``lcs["z"]`` is the z-band curve (a `KeyError` names the filters present); integer
    indices, slices and every lightkurve method work as usual.  ``read`` and ``write`` go
    through astropy's unified I/O registry, where the ``ps1`` format is registered.
    """

    read = registry.UnifiedReadWriteMethod(_CollectionRead)
    write = registry.UnifiedReadWriteMethod(_CollectionWrite)

    def __getitem__(self, key):
        if isinstance(key, str):
            for lc in self.data:
                if lc.meta.get("FILTER") == key:
                    return lc
            raise KeyError(f"no {key!r} light curve here; the filters are {self.filters}")
        return super().__getitem__(key)

    @property
    def filters(self):
        """The filters of the curves, in order (``['g', 'r', ...]``)."""
        return [lc.meta.get("FILTER") for lc in self.data]


_FLOAT_COLUMNS = ("obsTime", "psfQfPerfect", "ra", "dec")
_INT_COLUMNS = ("filterID", "infoFlag", "infoFlag2", "infoFlag3", "detectID", "forcedWarpID")


def _plain(col, fill, dtype):
    """A column as a plain ndarray with masked entries replaced by ``fill``."""
    data = np.asarray(np.ma.getdata(col)).astype(dtype, copy=False)
    mask = np.ma.getmaskarray(col)
    return np.where(mask, fill, data) if mask.any() else data


def _arrays(table, kind):
    """The columns the light curves use, as plain arrays (NaN or 0 where masked).

    Working on plain arrays, not on table rows, is what keeps a light curve at ~1 ms: astropy
    row selection of masked columns costs ~20 ms per filter.
    """
    cols = {}
    for name in _FLOAT_COLUMNS + (f"{kind}Flux", f"{kind}FluxErr"):
        if name in table.colnames:
            cols[name] = _plain(table[name], np.nan, np.float64)
    for name in _INT_COLUMNS:
        if name in table.colnames:
            cols[name] = _plain(table[name], 0, np.int64)
    for band, name in _row_mean_columns(table).items():
        values = _plain(table[name], np.nan, np.float64)
        cols[f"mean:{band}"] = np.where(values == tables.MISSING, np.nan, values)
    return cols


def _take(cols, index):
    return {name: values[index] for name, values in cols.items()}


def quality_bits(cols, flux_name, min_qf):
    """The `PS1QualityFlags` bits of every row of ``cols``, and a note: ``(int32 array, str)``.

    ``cols`` maps column names to plain arrays: ``flux_name`` and, where present,
    ``flux_name + "Err"``, ``psfQfPerfect`` (below ``min_qf`` sets LOW_QF) and ``infoFlag``.
    The note says which bits could not be evaluated for lack of a column ("" if none).  The light
    curves use it; so does `astroquery_ps1tap.bulk.summarize`, so that their cuts are one.
    """
    q = PS1QualityFlags
    fvals = cols[flux_name]
    quality = np.zeros(len(fvals), dtype=np.int32)
    notes = []
    if flux_name + "Err" in cols:
        evals = cols[flux_name + "Err"]
        missing = ~np.isfinite(fvals) | ~np.isfinite(evals)
    else:
        evals = np.full(len(fvals), np.nan)
        missing = ~np.isfinite(fvals)
        notes.append(f"no {flux_name}Err column: flux_err is NaN, LOW_SNR not evaluated")
    quality[missing] |= q.MISSING_FLUX
    with np.errstate(invalid="ignore"):
        quality[np.isfinite(fvals) & (fvals <= 0)] |= q.NONPOSITIVE_FLUX
        quality[~missing & (fvals < q.MIN_SNR * evals)] |= q.LOW_SNR
    if "psfQfPerfect" in cols:
        qf = cols["psfQfPerfect"]
        quality[~np.isfinite(qf)] |= q.MISSING_QF
        with np.errstate(invalid="ignore"):
            quality[qf < min_qf] |= q.LOW_QF
    else:
        notes.append("no psfQfPerfect column: LOW_QF and MISSING_QF not evaluated")
    if "infoFlag" in cols:
        info = cols["infoFlag"]
        for name, bit in q.INFO_FLAG_BITS.items():
            quality[(info & bit) != 0] |= getattr(q, name)
    return quality, "; ".join(notes)


def _mean_table(mean):
    """Shape a mean-object Table, Row or mapping into a canonical MeanObjectView table."""
    if mean is None:
        return None
    if isinstance(mean, Row):
        mean = mean.table[mean.index:mean.index + 1]
    elif isinstance(mean, Mapping):
        mean = Table({k: [v] for k, v in mean.items()})
    elif not isinstance(mean, Table):
        raise TypeError(f"mean must be an astropy Table or Row of mean-object columns, not "
                        f"{type(mean).__name__}")
    return tables.shape(mean, "mean")


def _mean_row(mean_table, objid):
    """The row of ``mean_table`` for ``objid`` (a one-row table may lack ``objID``), or None."""
    if mean_table is None or len(mean_table) == 0:
        return None
    if "objID" in mean_table.colnames:
        ids = np.ma.getdata(mean_table["objID"])
        hit = np.flatnonzero(ids == objid)
        if len(hit):
            return mean_table[int(hit[0])]
        return None
    if len(mean_table) == 1:
        return mean_table[0]
    raise ValueError("a mean table of several rows needs an objID column")


def _valid(value):
    if value is None or value is np.ma.masked:
        return None
    value = float(value)
    return value if np.isfinite(value) and value != tables.MISSING else None


def _row_mean_columns(table):
    """``{band: column name}`` of per-row ``{f}MeanPSFMag`` columns, any letter case."""
    lower = {name.lower(): name for name in table.colnames}
    return {band: lower[f"{band}meanpsfmag"] for band in schema.FILTERS
            if f"{band}meanpsfmag" in lower}


def _position(cols, mean_row):
    """(RA, Dec) of the object: the mean row's raMean/decMean, else the median of the
    detections' positions (forced photometry has none), else (None, None)."""
    if mean_row is not None and "raMean" in mean_row.colnames and "decMean" in mean_row.colnames:
        ra, dec = _valid(mean_row["raMean"]), _valid(mean_row["decMean"])
        if ra is not None and dec is not None:
            return ra, dec
    if "ra" in cols and "dec" in cols:
        ra, dec = cols["ra"], cols["dec"]
        good = np.isfinite(ra) & np.isfinite(dec)
        if good.any():
            return float(np.median(ra[good])), float(np.median(dec[good]))
    return None, None


def _make_lightcurve(cols, band, objid, mean_row, kind, bitmask, min_qf, position, photometry):
    """Build the LightCurve of one filter of one object from its rows (plain arrays)."""
    flux_name = f"{kind}Flux"
    n_input = len(cols["obsTime"])
    quality, note = quality_bits(cols, flux_name, min_qf)
    keep = (quality & bitmask) == 0
    removed = quality[~keep]
    masked_flags = {name: int(np.count_nonzero(removed & bit))
                    for bit, name in PS1QualityFlags.names().items()
                    if bit & bitmask and np.any(removed & bit)}
    if not keep.all():
        cols = _take(cols, keep)
        quality = quality[keep]
    n = len(quality)

    flux = cols[flux_name]
    err = cols.get(flux_name + "Err", np.full(n, np.nan))
    mag, mag_err = schema.flux_to_mag(flux, err)

    reference, mean_mag = "none", None
    if mean_row is not None and f"{band}MeanPSFMag" in mean_row.colnames:
        mean_mag = _valid(mean_row[f"{band}MeanPSFMag"])
        reference = "mean" if mean_mag is not None else reference
    if mean_mag is None and f"mean:{band}" in cols:
        values = cols[f"mean:{band}"]
        values = values[np.isfinite(values)]
        if len(values):
            mean_mag, reference = float(values[0]), "detections"
    if mean_mag is None and np.isfinite(mag).any():
        mean_mag, reference = float(np.median(mag[np.isfinite(mag)])), "median"
    dmag = mag - (mean_mag if mean_mag is not None else np.nan)

    columns = {"flux": flux * u.Jy, "flux_err": err * u.Jy,
               "mag": mag * u.mag, "mag_err": mag_err * u.mag, "dmag": dmag * u.mag}
    for name in ("psfQfPerfect", "infoFlag", "infoFlag2", "infoFlag3", "detectID",
                 "forcedWarpID"):
        if name in cols:
            columns[name] = cols[name]
    columns["quality"] = quality
    meta = {
        "TARGETID": objid, "OBJID": objid, "FILTER": band, "LABEL": f"PS1 {objid} {band}",
        "MISSION": MISSION, "TELESCOP": "PS1", "RA": position[0], "DEC": position[1],
        "FLUX_ORIGIN": flux_name, "PHOTOMETRY": photometry,
        "TIMESYS": "TAI", "MEAN_MAG": mean_mag, "DMAG_REFERENCE": reference,
        "QUALITY_BITMASK": bitmask, "MIN_QF": min_qf, "N_INPUT": n_input,
        "N_MASKED": int(n_input - n), "MASKED_FLAGS": masked_flags,
    }
    if note:
        meta["QUALITY_NOTE"] = note
    time = Time(cols["obsTime"], format="mjd", scale="tai")
    return lk.LightCurve(time=time, data=columns, meta=meta)


def _check_kind(flux, table):
    kind = str(flux).lower()
    if kind.endswith("flux"):
        kind = kind[:-4]
    if kind not in _FLUX_KINDS:
        raise ValueError(f"flux must be one of {', '.join(map(repr, _FLUX_KINDS))}, not {flux!r}")
    if f"{kind}Flux" not in table.colnames and len(table):
        have = [k for k in _FLUX_KINDS if f"{k}Flux" in table.colnames]
        raise ValueError(f"no {kind}Flux column in the detections; available: "
                         f"{', '.join(have) or 'none'}")
    return kind


def _collection(cols, objid, mean_row, kind, bitmask, min_qf, filters, photometry):
    """LightCurveCollection of the rows of one object (plain arrays, any order)."""
    band_ids = cols["filterID"]
    times = cols["obsTime"]
    if len(band_ids) > 1 and np.any((np.diff(band_ids) < 0)
                                    | ((np.diff(band_ids) == 0) & (np.diff(times) < 0))):
        cols = _take(cols, np.lexsort((times, band_ids)))
        band_ids = cols["filterID"]
    cuts = np.flatnonzero(np.diff(band_ids)) + 1
    starts, stops = np.r_[0, cuts], np.r_[cuts, len(band_ids)]
    position = _position(cols, mean_row)
    curves, emptied = [], []
    for start, stop in zip(starts, stops):
        band = schema.FILTERS[int(band_ids[start]) - 1]
        if filters is not None and band not in filters:
            continue
        lc = _make_lightcurve(_take(cols, slice(start, stop)), band, objid, mean_row, kind,
                              bitmask, min_qf, position, photometry)
        if len(lc) == 0:
            emptied.append(f"{band} ({lc.meta['N_INPUT']} points: "
                           + ", ".join(f"{k} {v}" for k, v in lc.meta["MASKED_FLAGS"].items())
                           + ")")
        else:
            curves.append(lc)
    if emptied:
        warnings.warn(f"object {objid}: every point of filter {'; '.join(emptied)} was removed "
                      f"by quality_bitmask={bitmask}; that filter is left out (pass "
                      f"quality_bitmask='none' or a smaller min_qf to keep them)",
                      PS1LightCurveWarning, stacklevel=3)
    return PS1LightCurveCollection(curves)


def _filters(filters):
    if filters is None:
        return None
    wanted = set(filters.lower()) if isinstance(filters, str) else {str(f).lower() for f in filters}
    unknown = wanted - set(schema.FILTERS)
    if unknown:
        raise ValueError(f"unknown PS1 filter(s) {', '.join(sorted(unknown))}; expected "
                         f"{', '.join(schema.FILTERS)}")
    return wanted


def to_lightcurves(detections, mean=None, *, flux="psf", quality_bitmask="default", min_qf=0.9,
                   filters=None):
    """Return the light curves of one PS1 object, one per filter, in ``g r i z y`` order.

    Parameters
    ----------
    detections : `~astropy.table.Table`
        Detections (or forced photometry) of one object, from this package, the TAP service,
        ``astroquery.mast.Catalogs``, a CasJobs CSV or a saved VOTable: anything
        `~astroquery_ps1tap.tables.ensure_detections` accepts.
    mean : `~astropy.table.Table`, `~astropy.table.Row` or dict, optional
        The object's mean-object row (``{f}MeanPSFMag`` in any letter case; ``-999`` means
        none), the reference of ``dmag``.  Without it, per-row ``{f}MeanPSFMag`` columns of
        ``detections`` are used, else the median magnitude of the points kept.
    flux : {"psf", "ap", "kron"}
        Which photometry becomes ``flux``.
    quality_bitmask : {"default", "none", "hard", "hardest"} or int
        Points with any of these `PS1QualityFlags` bits are removed (see the module notes).
    min_qf : float
        ``psfQfPerfect`` below this sets ``LOW_QF`` (0.9: the tutorial's cut).
    filters : str or sequence of str, optional
        Only these filters (e.g. ``"gr"``).

    Returns
    -------
    `PS1LightCurveCollection`
        Empty for an empty table.  A filter with no detections has no curve; a filter whose
        points were all removed is left out with a `PS1LightCurveWarning`.

    Raises
    ------
    ValueError
        If the table holds several objects (use `to_lightcurves_by_object`), or ``flux`` or
        ``quality_bitmask`` is not understood.

    Examples
    --------
    >>> from astropy.table import Table
    >>> det = Table({"objID": [190361393344112894] * 3, "filterType": ["g", "g", "z"],
    ...              "obsTime": [55634.477, 55634.490, 55933.526],
    ...              "psfFlux": [8.26e-3, 7.74e-3, 3.18e-4], "psfFluxErr": [1.1e-5, 1.1e-5, 6.7e-6],
    ...              "psfQfPerfect": [0.993, 0.998, 0.323]})
    >>> lcs = to_lightcurves(det, quality_bitmask="none")
    >>> [lc.filter for lc in lcs], lcs[0].time.scale, round(float(lcs[0].mag[0].value), 3)
    (['g', 'z'], 'tai', 14.108)
    >>> lcs[1].meta["DMAG_REFERENCE"], PS1QualityFlags.decode(lcs[1]["quality"][0])
    ('median', ['psfQfPerfect below min_qf'])
    """
    bitmask = PS1QualityFlags.bitmask(quality_bitmask)
    wanted = _filters(filters)
    det = tables.ensure_detections(detections)
    kind = _check_kind(flux, det)
    if len(det) == 0:
        return PS1LightCurveCollection([])
    ids = np.ma.getdata(det["objID"])
    if np.any(ids != ids[0]):
        raise ValueError(f"the detections hold {len(np.unique(ids))} objects; use "
                         f"to_lightcurves_by_object() for several objects")
    objid = int(ids[0])
    mean_row = _mean_row(_mean_table(mean), objid)
    return _collection(_arrays(det, kind), objid, mean_row, kind, bitmask, min_qf, wanted,
                       det.meta.get("PHOTOMETRY", "detection"))


class LightCurvesByObject(Mapping):
    """Read-only mapping ``objID -> LightCurveCollection`` over a many-object detections table.

    The table is sorted once (a stable ``np.argsort`` of objID, skipped if already in that
    order) and split once at the index boundaries where objID changes (``np.flatnonzero`` of
    the differences); nothing else is done until an object is asked for.  Its rows are then
    taken from plain arrays of the table (made once, on first access), sorted by filter and
    time (a few dozen rows), and its collection is built (~1 ms per filter) and not kept.
    Iteration yields objIDs in increasing order.

    Use `to_lightcurves_by_object` to make one.

    Examples
    --------
    >>> from astropy.table import Table
    >>> det = Table({"objID": [2, 1, 2], "filterID": [1, 1, 2], "obsTime": [55000.0, 55001.0, 55002.0],
    ...              "psfFlux": [1e-3, 2e-3, 1e-3], "psfFluxErr": [1e-5, 1e-5, 1e-5],
    ...              "psfQfPerfect": [1.0, 1.0, 1.0]})
    >>> by_object = to_lightcurves_by_object(det)
    >>> list(by_object), by_object.counts()[2]
    ([1, 2], 2)
    >>> [lc.filter for lc in by_object[2]]
    ['g', 'r']
    """

    def __init__(self, detections, mean=None, **options):
        det = tables.ensure_detections(detections)
        self._kind = _check_kind(options.pop("flux", "psf"), det)
        self._bitmask = PS1QualityFlags.bitmask(options.pop("quality_bitmask", "default"))
        self._min_qf = options.pop("min_qf", 0.9)
        self._filters = _filters(options.pop("filters", None))
        if options:
            raise TypeError(f"unexpected option(s): {', '.join(options)}")
        ids = np.ma.getdata(det["objID"])
        if len(ids) < 2 or not np.any(ids[1:] < ids[:-1]):
            self._order = None
        else:
            self._order = np.argsort(ids, kind="stable")
            ids = ids[self._order]
        cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        self._starts = np.r_[0, cuts] if len(ids) else np.array([], dtype=np.intp)
        self._stops = np.r_[cuts, len(ids)] if len(ids) else np.array([], dtype=np.intp)
        self._ids = ids[self._starts]
        self._det = det
        self._mean = _mean_table(mean)
        self._cols = None

    def _locate(self, objid):
        try:
            key = np.int64(int(objid))
        except (TypeError, ValueError):
            raise KeyError(objid) from None
        pos = int(np.searchsorted(self._ids, key))
        if pos >= len(self._ids) or self._ids[pos] != key:
            raise KeyError(objid)
        return pos

    def rows(self, objid):
        """Return the canonical detection rows of one object (sorted by filterID, obsTime)."""
        pos = self._locate(objid)
        start, stop = int(self._starts[pos]), int(self._stops[pos])
        if self._order is None:
            return self._det[start:stop]
        return self._det[self._order[start:stop]]

    def __getitem__(self, objid):
        pos = self._locate(objid)
        if self._cols is None:           # plain arrays of the whole table, made once
            self._cols = _arrays(self._det, self._kind)
        start, stop = int(self._starts[pos]), int(self._stops[pos])
        index = slice(start, stop) if self._order is None else self._order[start:stop]
        objid = int(self._ids[pos])
        return _collection(_take(self._cols, index), objid,
                           _mean_row(self._mean, objid), self._kind, self._bitmask, self._min_qf,
                           self._filters, self._det.meta.get("PHOTOMETRY", "detection"))

    def __iter__(self):
        return iter(self._ids.tolist())

    def __len__(self):
        return len(self._ids)

    def __contains__(self, objid):
        try:
            self._locate(objid)
        except KeyError:
            return False
        return True

    def counts(self):
        """Return ``{objID: number of detections}`` (before quality masking)."""
        return dict(zip(self._ids.tolist(), (self._stops - self._starts).tolist()))

    def __repr__(self):
        return (f"<LightCurvesByObject: {len(self)} objects, {len(self._det)} "
                f"{self._det.meta.get('PHOTOMETRY', 'detection')} rows>")


def to_lightcurves_by_object(detections, mean=None, *, flux="psf", quality_bitmask="default",
                             min_qf=0.9, filters=None):
    """Return a lazy mapping ``objID -> LightCurveCollection`` for a table of many objects.

    Parameters are those of `to_lightcurves`; ``mean`` may be a mean-object table of many rows
    (matched on ``objID``).  The split costs one sort; each object's collection is built when it
    is asked for (``by_object[objid]``), so a million detections cost well under a second to
    split, not the ~30 s it takes to build 50,000 light curves.

    Returns
    -------
    `LightCurvesByObject`

    Examples
    --------
    >>> from astropy.table import Table
    >>> det = Table({"objID": ["153102917444859851", "190361393344112894"], "filterType": ["g", "z"],
    ...              "obsTime": [55002.5, 55933.5], "psfFlux": [5.0e-3, 3.2e-4],
    ...              "psfFluxErr": [6.7e-6, 6.7e-6], "psfQfPerfect": [0.999, 0.323]})
    >>> by_object = to_lightcurves_by_object(det, quality_bitmask="none")
    >>> len(by_object), 190361393344112894 in by_object, by_object[153102917444859851][0].filter
    (2, True, 'g')
    """
    return LightCurvesByObject(detections, mean, flux=flux, quality_bitmask=quality_bitmask,
                               min_qf=min_qf, filters=filters)


def combine_bands(collection, *, column="dmag"):
    """Merge the filters of one object into one light curve of magnitude differences.

    Eclipses are geometric and nearly the same depth in every filter, so the differences from
    each filter's mean magnitude (``dmag``) of all filters together sample the orbit far better
    than any one filter: fold the result to see the eclipses (the tutorial's method).

    Parameters
    ----------
    collection : `~lightkurve.LightCurveCollection`
        Curves from `to_lightcurves` (each with ``dmag``, ``mag``, ``mag_err``).
    column : {"dmag", "mag"}
        What becomes ``flux`` of the result.

    Returns
    -------
    `~lightkurve.LightCurve`
        Sorted by time; ``flux`` is ``dmag`` (unit ``mag``), ``flux_err`` is ``mag_err``, with
        columns ``mag``, ``mag_err``, ``dmag``, ``filterID`` (1..5 = g r i z y) and
        ``quality``; ``meta["FILTER"]`` lists the filters (e.g. ``"grizy"``),
        ``meta["MEAN_MAG"]`` the reference magnitude of each.  The filter is an integer column,
        not text: ``LightCurve.bin`` averages every column and fails on a text one.

    Raises
    ------
    ValueError
        If the collection is empty or holds curves of different objects.

    Examples
    --------
    >>> from astropy.table import Table
    >>> det = Table({"objID": [1, 1, 1, 1], "filterID": [1, 1, 2, 2],
    ...              "obsTime": [55000.0, 55000.5, 55000.2, 55000.7],
    ...              "psfFlux": [1.0e-3, 1.1e-3, 2.0e-3, 2.2e-3], "psfFluxErr": [1e-5] * 4,
    ...              "psfQfPerfect": [1.0] * 4})
    >>> lc = combine_bands(to_lightcurves(det))
    >>> lc["filterID"].tolist(), lc.meta["FILTER"], lc.flux.unit
    ([1, 2, 1, 2], 'gr', Unit("mag"))
    """
    curves = [lc for lc in collection if len(lc)]
    if not curves:
        raise ValueError("nothing to combine: the collection has no points")
    missing = [lc.meta.get("LABEL", "?") for lc in curves
               if lc.meta.get("FILTER") not in schema.FILTERS or "dmag" not in lc.colnames]
    if missing:
        raise ValueError(f"not single-filter curves from to_lightcurves: {', '.join(missing)}")
    if column not in ("dmag", "mag"):
        raise ValueError(f"column must be 'dmag' or 'mag', not {column!r}")
    targets = {lc.meta.get("TARGETID") for lc in curves}
    if len(targets) > 1:
        raise ValueError(f"the curves belong to several objects: {sorted(map(str, targets))}")
    time = np.concatenate([lc.time.tai.mjd for lc in curves])
    order = np.argsort(time, kind="stable")

    def stack(name, unit=None):
        values = np.concatenate([np.asarray(getattr(lc[name], "value", lc[name]))
                                 for lc in curves])[order]
        return values * unit if unit is not None else values

    band_ids = np.concatenate([np.full(len(lc), schema.FILTERS.index(lc.meta["FILTER"]) + 1)
                               for lc in curves])[order]
    data = {"flux": stack(column, u.mag), "flux_err": stack("mag_err", u.mag),
            "mag": stack("mag", u.mag), "mag_err": stack("mag_err", u.mag),
            "dmag": stack("dmag", u.mag), "filterID": band_ids.astype(np.int64),
            "quality": stack("quality").astype(np.int32)}
    first = curves[0].meta
    objid = first.get("TARGETID")
    filters = "".join(lc.meta.get("FILTER", "") for lc in curves)
    meta = {"TARGETID": objid, "OBJID": objid, "FILTER": filters,
            "LABEL": f"PS1 {objid} {filters} ({column})", "MISSION": MISSION, "TELESCOP": "PS1",
            "RA": first.get("RA"), "DEC": first.get("DEC"), "FLUX_ORIGIN": column,
            "PHOTOMETRY": first.get("PHOTOMETRY"), "TIMESYS": "TAI",
            "MEAN_MAG": {lc.meta["FILTER"]: lc.meta.get("MEAN_MAG") for lc in curves},
            "DMAG_REFERENCE": {lc.meta["FILTER"]: lc.meta.get("DMAG_REFERENCE") for lc in curves},
            "QUALITY_BITMASK": first.get("QUALITY_BITMASK"),
            "N_MASKED": sum(int(lc.meta.get("N_MASKED", 0)) for lc in curves)}
    return lk.LightCurve(time=Time(time[order], format="mjd", scale="tai"), data=data, meta=meta)


def as_collection(data, **options):
    """Return ``data`` as a `~lightkurve.LightCurveCollection` of one object's curves.

    The one conversion that plotting and period search apply to what they are given.

    Parameters
    ----------
    data : `~astropy.table.Table`, `~lightkurve.LightCurve` or `~lightkurve.LightCurveCollection`
        Detections of one object (converted with `to_lightcurves`), one curve (e.g. from
        `combine_bands`), a collection, or a sequence of curves.
    **options
        Passed to `to_lightcurves` (``mean``, ``flux``, ``quality_bitmask``, ``min_qf``,
        ``filters``); only for a table, since curves are already made.

    Returns
    -------
    `~lightkurve.LightCurveCollection`
        ``data`` itself if it is one, else a new `PS1LightCurveCollection`.

    Raises
    ------
    TypeError
        For anything else (a `LightCurvesByObject` must be indexed by objID first), or options
        given with curves.

    Examples
    --------
    >>> from astropy.table import Table
    >>> det = Table({"objID": [1, 1, 1], "filterID": [1, 1, 2], "obsTime": [55000.0, 55000.1, 55000.2],
    ...              "psfFlux": [1e-3, 1e-3, 2e-3], "psfFluxErr": [1e-5] * 3,
    ...              "psfQfPerfect": [0.5, 1.0, 1.0]})
    >>> [len(lc) for lc in as_collection(det)], [len(lc) for lc in as_collection(det, min_qf=0)]
    ([1, 1], [2, 1])
    >>> lcs = as_collection(det)
    >>> as_collection(lcs) is lcs, as_collection(lcs["r"]).filters
    (True, ['r'])
    """
    if isinstance(data, lk.LightCurveCollection):
        collection = data
    elif isinstance(data, lk.LightCurve):         # a LightCurve is a Table too: test it first
        collection = PS1LightCurveCollection([data])
    elif isinstance(data, Table):
        return to_lightcurves(data, **options)
    elif isinstance(data, (list, tuple)) and all(isinstance(x, lk.LightCurve) for x in data):
        collection = PS1LightCurveCollection(list(data))
    else:
        hint = (" (index it by objID: by_object[objid])" if isinstance(data, LightCurvesByObject)
                else "")
        raise TypeError(f"expected a detections Table, a LightCurve or a LightCurveCollection, not "
                        f"{type(data).__name__}{hint}")
    if options:
        raise TypeError(f"{', '.join(sorted(options))} only apply when converting a detections "
                        f"table; these are light curves already")
    return collection
