"""Reading and writing PS1 light-curve files: small functions for astropy's unified I/O.

The readers take PS1 detection (or forced photometry) files however they were fetched: CasJobs
CSV exports, VOTables saved from TOPCAT or the MAST portal, ``astroquery.mast.Catalogs``
detection tables saved to disk (objID as text, no ``filterType``), the files that the ``ps1tap``
command writes, and the files `write_ps1_lightcurves` writes.  Columns are recognised by
`~astroquery_ps1tap.tables.ensure_detections`; identifiers are read as text from CSV files and
converted to int64 exactly (a CSV reader that guessed float would lose the last digits of 18–19
digit objIDs).

`astroquery_ps1tap.lightcurves` registers them, once, as the ``ps1`` format of
`~lightkurve.LightCurve` and `~lightkurve.LightCurveCollection` (as lightkurve registers its own
readers), so ``LightCurve.read(path, format="ps1", filter="g")``, ``lc.write(path,
format="ps1")`` and ``PS1LightCurveCollection.read(path, format="ps1")`` work as well as the
functions themselves.
"""
import csv
import gzip
import warnings

import numpy as np
from astropy import units as u
from astropy.table import Table

from .. import formats, schema, tables
from .adapters import PS1LightCurveWarning, as_collection, to_lightcurves

__all__ = ["read_ps1_table", "read_ps1_lightcurve", "read_ps1_lightcurves",
           "write_ps1_lightcurves", "FORMAT"]

#: Name of the format registered with astropy's unified I/O.
FORMAT = "ps1"

#: Columns read as text from CSV files (then converted exactly): the 64-bit identifiers.
_ID_COLUMNS = {"objid", "detectid", "forcedwarpid", "forcedsummaryid", "ippobjid", "ippdetectid",
               "imageid", "uniquepspsp2id"}
#: Light-curve columns written back under their database names (all but the flux).
_WRITTEN_COLUMNS = ("psfQfPerfect", "infoFlag", "infoFlag2", "infoFlag3", "detectID",
                    "forcedWarpID")


def _csv_header(path):
    """Column names of a CSV file (skipping ``#`` comment lines), to mark the id columns."""
    opener = gzip.open if str(path).lower().endswith(".gz") else open
    with opener(path, "rt", newline="") as handle:
        for line in handle:
            if line.strip() and not line.lstrip().startswith("#"):
                return [name.strip().strip("[]") for name in next(csv.reader([line]))]
    return []


def read_ps1_table(filename, *, table_format=None, **kwargs):
    """Read a PS1 detections file into an (unshaped) `~astropy.table.Table`, ids exact.

    Parameters
    ----------
    filename : str or path-like
        A file named as `~astroquery_ps1tap.formats.SUFFIX_FORMATS` lists (``.csv``/``.txt``:
        comma separated, ``#`` comments allowed; ``.ecsv``; ``.xml``/``.vot``: VOTable;
        ``.fits``; ``.parquet``), optionally gzipped; other names are left to astropy to
        identify.
    table_format : str, optional
        An astropy table format, to override the guess from the file name.
    **kwargs
        Passed to `astropy.table.Table.read`.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "det.csv")
    >>> _ = open(path, "w").write("objID,filterID,obsTime,psfFlux\\n9223372036854775806,1,55000.5,1e-3\\n")
    >>> int(read_ps1_table(path)["objID"][0])
    9223372036854775806
    """
    fmt = table_format
    if fmt is None:
        try:
            fmt = formats.table_format(filename, compressed=True)
        except ValueError:
            return Table.read(filename, **kwargs)     # astropy may still recognise it
    if fmt == "ascii.csv":
        from astropy.io.ascii import convert_numpy
        names = _csv_header(filename)
        converters = {name: [convert_numpy(str)] for name in names
                      if name.lower() in _ID_COLUMNS}
        kwargs.setdefault("comment", "#")
        return Table.read(filename, format="ascii.csv", converters=converters, **kwargs)
    return Table.read(filename, format=fmt, **kwargs)


def _select_object(table, objid):
    ids = np.ma.getdata(table["objID"])
    if objid is not None:
        keep = ids == np.int64(int(objid))
        if not keep.any():
            raise ValueError(f"objID {objid} is not in the file")
        return table[keep]
    unique = np.unique(ids)
    if len(unique) > 1:
        shown = ", ".join(str(i) for i in unique[:5]) + (", ..." if len(unique) > 5 else "")
        raise ValueError(f"the file holds {len(unique)} objects ({shown}); pass objid= to choose "
                         f"one, or use astroquery_ps1tap.lightcurves.to_lightcurves_by_object")
    return table


def _read_detections(filename, objid, table_format, read_kwargs):
    try:
        table = read_ps1_table(filename, table_format=table_format, **(read_kwargs or {}))
    except TypeError as exc:   # TimeSeries.read turns a TypeError into a misleading message
        raise ValueError(f"could not read {filename} as a table: {exc}") from exc
    return _select_object(tables.ensure_detections(table), objid)


def read_ps1_lightcurves(filename, *, objid=None, mean=None, flux="psf",
                         quality_bitmask="default", min_qf=0.9, filters=None,
                         table_format=None, read_kwargs=None):
    """Read a PS1 detections file into a `~astroquery_ps1tap.lightcurves.PS1LightCurveCollection`.

    Registered as the ``ps1`` format of `~lightkurve.LightCurveCollection` (and so of
    ``PS1LightCurveCollection.read``).

    Parameters
    ----------
    filename : str or path-like
        The file (see `read_ps1_table` for the formats).
    objid : int or str, optional
        The object to read, if the file holds several.
    mean, flux, quality_bitmask, min_qf, filters
        As in `~astroquery_ps1tap.lightcurves.to_lightcurves`.
    table_format : str, optional
        An astropy table format, if the file name does not tell.
    read_kwargs : dict, optional
        Passed to `astropy.table.Table.read`.

    Examples
    --------
    >>> import tempfile, os
    >>> from astropy.table import Table
    >>> path = os.path.join(tempfile.mkdtemp(), "det.ecsv")
    >>> Table({"objID": [190361393344112894] * 2, "filterID": [1, 5], "obsTime": [55634.48, 55933.54],
    ...        "psfFlux": [8.3e-3, 7.9e-3], "psfFluxErr": [1.1e-5, 2.5e-5],
    ...        "psfQfPerfect": [0.99, 0.997]}).write(path)
    >>> lcs = read_ps1_lightcurves(path)
    >>> lcs.filters, lcs["y"].meta["TARGETID"]
    (['g', 'y'], 190361393344112894)
    """
    det = _read_detections(filename, objid, table_format, read_kwargs)
    return to_lightcurves(det, mean, flux=flux, quality_bitmask=quality_bitmask, min_qf=min_qf,
                          filters=filters)


def read_ps1_lightcurve(filename, filter=None, *, objid=None, mean=None, flux="psf",
                        quality_bitmask="default", min_qf=0.9, table_format=None,
                        read_kwargs=None):
    """Read one filter of a PS1 detections file into a `~lightkurve.LightCurve`.

    Registered as ``LightCurve.read(filename, format="ps1", filter="g", ...)``.

    Parameters
    ----------
    filename : str or path-like
        The file (see `read_ps1_table` for the formats).
    filter : {"g", "r", "i", "z", "y"}, optional
        Required unless the file holds a single filter.
    objid, mean, flux, quality_bitmask, min_qf, table_format, read_kwargs
        As in `read_ps1_lightcurves`.

    Raises
    ------
    ValueError
        If ``filter`` is needed and missing, or the filter has no points left.

    Examples
    --------
    >>> import lightkurve as lk, tempfile, os
    >>> from astropy.table import Table
    >>> path = os.path.join(tempfile.mkdtemp(), "det.ecsv")
    >>> Table({"objID": [190361393344112894] * 2, "filterID": [1, 5], "obsTime": [55634.48, 55933.54],
    ...        "psfFlux": [8.3e-3, 7.9e-3], "psfFluxErr": [1.1e-5, 2.5e-5],
    ...        "psfQfPerfect": [0.99, 0.997]}).write(path)
    >>> lc = lk.LightCurve.read(path, format="ps1", filter="y")
    >>> lc.filter, len(lc), round(float(lc.mag[0].value), 2)
    ('y', 1, 14.16)
    """
    det = _read_detections(filename, objid, table_format, read_kwargs)
    present = [b for b in schema.FILTERS if b in set(det["filter"].tolist())]
    if filter is None:
        if len(present) != 1:
            raise ValueError(f"the file has filters {', '.join(present) or 'none'}: pass "
                             f"filter= to choose one, or read a LightCurveCollection")
        filter = present[0]
    band = str(filter).strip().lower()
    if band not in schema.FILTERS:
        raise ValueError(f"unknown PS1 filter {filter!r}; expected one of {', '.join(schema.FILTERS)}")
    if band not in present:
        raise ValueError(f"no {band} detections in {filename} (filters present: "
                         f"{', '.join(present) or 'none'})")
    with warnings.catch_warnings():    # an emptied filter is an error here, not a warning
        warnings.simplefilter("ignore", PS1LightCurveWarning)
        lcs = to_lightcurves(det, mean, flux=flux, quality_bitmask=quality_bitmask,
                             min_qf=min_qf, filters=band)
    if len(lcs) == 0:
        raise ValueError(f"every {band} point in {filename} was removed by the quality mask; "
                         f"pass quality_bitmask='none' to keep them")
    return lcs[0]


def _detections_of(curves):
    """The detections table that `to_lightcurves` makes ``curves`` from again.

    Database column names (``F``-prefixed for forced photometry, as the service sends them),
    ``obsTime`` as MJD in TAI whatever scale the curves' time is in, fluxes in Jy, each filter's
    reference magnitude as a ``{f}MeanPSFMag`` column and the position as ``ra``/``dec``.
    """
    objids = {lc.meta.get("TARGETID") for lc in curves}
    if len(objids) != 1 or None in objids:
        raise ValueError(f"the curves must be of one PS1 object (meta TARGETID); found "
                         f"{sorted(map(str, objids))}")
    origins = {lc.meta.get("FLUX_ORIGIN") for lc in curves}
    photometry = {lc.meta.get("PHOTOMETRY", "detection") for lc in curves}
    bands = [lc.meta.get("FILTER") for lc in curves]
    if (len(origins) != 1 or not {f"{k}Flux" for k in ("psf", "ap", "kron")} >= origins
            or len(photometry) != 1 or any(b not in schema.FILTERS for b in bands)):
        raise ValueError("only single-filter curves from to_lightcurves can be written (one flux "
                         "kind, one kind of photometry); a combine_bands curve cannot: write the "
                         "collection it was combined from")
    flux_name, = origins
    forced = photometry == {"forced"}
    if forced and flux_name != "psfFlux":
        raise ValueError(f"forced-photometry curves of {flux_name} cannot be written so that "
                         f"they read back as forced photometry; make them with flux='psf'")

    def stack(get):
        return np.concatenate([np.asarray(get(lc)) for lc in curves])

    objid, = objids
    ra, dec = curves[0].meta.get("RA"), curves[0].meta.get("DEC")
    try:
        columns = {
            "objID": stack(lambda lc: np.full(len(lc), objid, dtype=np.int64)),
            "filterID": stack(lambda lc: np.full(len(lc), schema.FILTERS.index(lc.meta["FILTER"])
                                                 + 1, dtype=np.int64)),
            "obsTime": stack(lambda lc: lc.time.tai.mjd),
            flux_name: stack(lambda lc: lc.flux.to_value(u.Jy)),
            flux_name + "Err": stack(lambda lc: lc.flux_err.to_value(u.Jy)),
        }
    except u.UnitsError as exc:
        raise ValueError(f"the curves' flux is not in Jy ({exc}); write the curves as "
                         f"to_lightcurves made them, not normalized ones") from None
    for name in _WRITTEN_COLUMNS:
        if all(name in lc.colnames for lc in curves):
            columns[name] = stack(lambda lc: lc[name])
    if ra is not None and dec is not None:
        columns["ra"] = np.full(len(columns["objID"]), ra)
        columns["dec"] = np.full(len(columns["objID"]), dec)
    for lc in curves:
        if lc.meta.get("DMAG_REFERENCE") in ("mean", "detections"):
            columns[f"{lc.meta['FILTER']}MeanPSFMag"] = np.full(len(columns["objID"]),
                                                                lc.meta["MEAN_MAG"])
    if forced:
        columns = {(f"F{name}" if schema.find_column("forced", f"F{name}") else name): values
                   for name, values in columns.items()}
    table = Table(columns)
    table["obsTime"].unit = u.d
    table.meta["TIMESYS"] = "TAI"
    return table


def write_ps1_lightcurves(data, filename, *, overwrite=False, table_format=None, **kwargs):
    """Write PS1 light curves to a file that `read_ps1_lightcurves` reads back.

    The file is a PS1 detections table (what the service returns, what ``ps1tap --output``
    writes, what other PS1 tools read): ``objID``, ``filterID``, ``obsTime`` (MJD in the
    **TAI** scale, converted from whatever scale the curves' time is in; ``TIMESYS = 'TAI'``
    in the metadata), the flux the curves were made from and its error in Jy, ``psfQfPerfect``,
    the ``infoFlag`` columns, ``detectID`` (or ``forcedWarpID``), the position and each
    filter's reference magnitude.  Reading it back recomputes ``mag``, ``dmag`` and
    ``quality`` from these; pass the ``flux``, ``quality_bitmask`` and ``min_qf`` the curves
    were made with.

    Registered as the ``ps1`` format of ``LightCurve.write`` and ``PS1LightCurveCollection.write``.

    Parameters
    ----------
    data : `~lightkurve.LightCurve` or `~lightkurve.LightCurveCollection`
        Curves of one object from `~astroquery_ps1tap.lightcurves.to_lightcurves`.
    filename : str or path-like
        ``.fits``, ``.ecsv``, ``.csv``, ``.vot``... (`~astroquery_ps1tap.formats.SUFFIX_FORMATS`).
    overwrite : bool
        Replace an existing file.
    table_format : str, optional
        An astropy table format, if the file name does not tell.
    **kwargs
        Passed to `astropy.table.Table.write`.

    Raises
    ------
    ValueError
        If the curves are not single-filter PS1 curves of one object in Jy (e.g. normalized, or
        from `~astroquery_ps1tap.lightcurves.combine_bands`), or the file name does not tell the
        format.

    Examples
    --------
    >>> import tempfile, os
    >>> from astropy.table import Table
    >>> from astroquery_ps1tap.lightcurves import to_lightcurves
    >>> lcs = to_lightcurves(Table({"objID": [190361393344112894] * 2, "filterID": [1, 5],
    ...                             "obsTime": [55634.477414, 55933.54], "psfFlux": [8.3e-3, 7.9e-3],
    ...                             "psfFluxErr": [1.1e-5, 2.5e-5], "psfQfPerfect": [0.99, 0.997]}))
    >>> path = os.path.join(tempfile.mkdtemp(), "kq_uma.fits")
    >>> write_ps1_lightcurves(lcs, path)
    >>> again = read_ps1_lightcurves(path)
    >>> again["g"].time.scale, float(again["g"].time.mjd[0]), len(again["y"])
    ('tai', 55634.477414, 1)
    """
    curves = [lc for lc in as_collection(data) if len(lc)]
    if not curves:
        raise ValueError("nothing to write: the light curves have no points")
    fmt = table_format or formats.table_format(filename)
    _detections_of(curves).write(filename, format=fmt, overwrite=overwrite, **kwargs)
