"""Read PS1 detection files as light curves with astropy's unified I/O (``format="ps1"``).

After ``import astroquery_ps1tap.readers`` (or ``.lightcurves``)::

    lc = lightkurve.LightCurve.read("kq_uma.csv", format="ps1", filter="g")
    lcs = lightkurve.LightCurveCollection.read("kq_uma.csv", format="ps1")

work for PS1 detection (or forced photometry) files however they were fetched: CasJobs CSV
exports, VOTables saved from TOPCAT or the MAST portal, ``astroquery.mast.Catalogs`` detection
tables saved to disk (objID as text, no ``filterType``), and the ECSV, CSV, FITS or VOTable
files that the ``ps1tap`` command writes.  Columns are recognised by
`~astroquery_ps1tap.results.ensure_detections`; identifiers are read as text from CSV files and
converted to int64 exactly (a CSV reader that guessed float would lose the last digits of
18–19 digit objIDs).

lightkurve's ``LightCurveCollection`` has no ``read`` of its own; `register` gives it one that
goes through the same registry (it only dispatches to registered readers, of which ``ps1`` is
the only one for collections).
"""
import csv
import gzip
import warnings
from pathlib import Path

from astropy.io import registry
from astropy.table import Table

__all__ = ["register", "read_ps1_table", "read_ps1_lightcurve", "read_ps1_lightcurves",
           "FORMAT"]

#: Name of the format registered with astropy's unified I/O.
FORMAT = "ps1"

#: Columns read as text from CSV files (then converted exactly): the 64-bit identifiers.
_ID_COLUMNS = {"objid", "detectid", "forcedwarpid", "forcedsummaryid", "ippobjid", "ippdetectid",
               "imageid", "uniquepspsp2id"}

_SUFFIX_FORMATS = {".csv": "csv", ".txt": "csv", ".dat": "csv", ".ecsv": "ascii.ecsv",
                   ".xml": "votable", ".vot": "votable", ".votable": "votable",
                   ".fits": "fits", ".fit": "fits", ".fts": "fits", ".parquet": "parquet"}


def _table_format(path):
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz"):
        suffixes = suffixes[:-1]
    return _SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None


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
        ``.csv``/``.txt`` (comma separated, ``#`` comments allowed), ``.ecsv``, ``.xml``/``.vot``
        (VOTable), ``.fits``, ``.parquet``; optionally gzipped.
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
    fmt = table_format or _table_format(filename)
    if fmt == "csv":
        from astropy.io.ascii import convert_numpy
        names = _csv_header(filename)
        converters = {name: [convert_numpy(str)] for name in names
                      if name.lower() in _ID_COLUMNS}
        kwargs.setdefault("comment", "#")
        return Table.read(filename, format="ascii.csv", converters=converters, **kwargs)
    if fmt is None:
        return Table.read(filename, **kwargs)
    return Table.read(filename, format=fmt, **kwargs)


def _select_object(table, objid):
    import numpy as np
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
    from . import tables as results
    try:
        table = read_ps1_table(filename, table_format=table_format, **(read_kwargs or {}))
    except TypeError as exc:   # TimeSeries.read turns a TypeError into a misleading message
        raise ValueError(f"could not read {filename} as a table: {exc}") from exc
    return _select_object(results.ensure_detections(table), objid)


def read_ps1_lightcurves(filename, *, objid=None, mean=None, flux="psf",
                         quality_bitmask="default", min_qf=0.9, filters=None,
                         table_format=None, read_kwargs=None):
    """Read a PS1 detections file into a `~lightkurve.LightCurveCollection` (every filter).

    Registered as ``LightCurveCollection.read(filename, format="ps1", ...)``.

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
    >>> import lightkurve as lk, tempfile, os
    >>> from astropy.table import Table
    >>> import astroquery_ps1tap.readers
    >>> path = os.path.join(tempfile.mkdtemp(), "det.ecsv")
    >>> Table({"objID": [190361393344112894] * 2, "filterID": [1, 5], "obsTime": [55634.48, 55933.54],
    ...        "psfFlux": [8.3e-3, 7.9e-3], "psfFluxErr": [1.1e-5, 2.5e-5],
    ...        "psfQfPerfect": [0.99, 0.997]}).write(path)
    >>> lcs = lk.LightCurveCollection.read(path, format="ps1")
    >>> [lc.filter for lc in lcs], lcs[0].meta["TARGETID"]
    (['g', 'y'], 190361393344112894)
    """
    from .lightcurves import to_lightcurves
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
    >>> import astroquery_ps1tap.readers
    >>> path = os.path.join(tempfile.mkdtemp(), "det.ecsv")
    >>> Table({"objID": [190361393344112894] * 2, "filterID": [1, 5], "obsTime": [55634.48, 55933.54],
    ...        "psfFlux": [8.3e-3, 7.9e-3], "psfFluxErr": [1.1e-5, 2.5e-5],
    ...        "psfQfPerfect": [0.99, 0.997]}).write(path)
    >>> lc = lk.LightCurve.read(path, format="ps1", filter="y")
    >>> lc.filter, len(lc), round(float(lc.mag[0].value), 2)
    ('y', 1, 14.16)
    """
    from . import schema
    from .lightcurves import to_lightcurves
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
    from .lightcurves import PS1LightCurveWarning
    with warnings.catch_warnings():    # an emptied filter is an error here, not a warning
        warnings.simplefilter("ignore", PS1LightCurveWarning)
        lcs = to_lightcurves(det, mean, flux=flux, quality_bitmask=quality_bitmask,
                             min_qf=min_qf, filters=band)
    if len(lcs) == 0:
        raise ValueError(f"every {band} point in {filename} was removed by the quality mask; "
                         f"pass quality_bitmask='none' to keep them")
    return lcs[0]


class _CollectionRead(registry.UnifiedReadWrite):
    """``LightCurveCollection.read(...)``: read through astropy's unified I/O registry.

    Formats: ``"ps1"`` (PS1 detection files; see
    `astroquery_ps1tap.readers.read_ps1_lightcurves`).
    """

    def __init__(self, instance, cls):
        super().__init__(instance, cls, "read", registry=None)

    def __call__(self, *args, **kwargs):
        return self.registry.read(self._cls, *args, **kwargs)


def register():
    """Register the ``ps1`` format for ``LightCurve.read`` and ``LightCurveCollection.read``.

    Called when this module is imported; calling it again does nothing.

    Examples
    --------
    >>> register(); register()
    >>> from astropy.io import registry
    >>> import lightkurve as lk
    >>> registry.get_reader("ps1", lk.LightCurve).__name__
    'read_ps1_lightcurve'
    """
    from .lightcurves import _lightkurve
    lk = _lightkurve()
    for cls, reader in ((lk.LightCurve, read_ps1_lightcurve),
                        (lk.LightCurveCollection, read_ps1_lightcurves)):
        try:
            registry.get_reader(FORMAT, cls)
        except registry.IORegistryError:
            registry.register_reader(FORMAT, cls, reader)
    if not hasattr(lk.LightCurveCollection, "read"):
        lk.LightCurveCollection.read = registry.UnifiedReadWriteMethod(_CollectionRead)


register()
