"""PS1 DR2's HATS catalogs read with LSDB: where they are, what is in them, how to read little.

STScI publishes PS1 DR2 as HATS collections (HEALPix-partitioned Parquet, each with a 10 arcsec
margin catalog) under one root, by default ``s3://stpubdata/panstarrs/ps1/public/hats``:

* ``otmo``: one row per object, ObjectThin + MeanObject (``dbo.MeanObjectView``'s columns);
* ``detection``: one row per single-epoch detection (``dbo.Detection``'s columns);
* ``forced_mean_object``: ObjectThin + ForcedMeanObject (``dbo.ForcedMeanObjectView``'s columns).

Reading little is the point: an objID encodes the position of its object (MAST's "PS1 Object
Identifiers", `objid_positions`), so a look-up by objID reads only the partitions within
`LOOKUP_RADIUS_ARCSEC` of those positions and filters them on objID (`Catalogs.rows_of`), never
the whole catalog.  Everything here returns raw `~astropy.table.Table` objects in the catalogs'
column names; `astroquery_ps1tap.tables` shapes them, as it does TAP answers.

lsdb, hats and dask are imported when first used (`import_lsdb`), never with the package.
"""
import contextlib
import os
import warnings

import numpy as np
from astropy.table import MaskedColumn, Table
from astroquery.exceptions import InvalidQueryError

from ... import schema
from ...targets import number, parse_bands, parse_min_detections

__all__ = ["DEFAULT_PATH", "CATALOGS", "Catalogs", "CatalogError", "objid_positions", "objid_moc",
           "import_lsdb", "root_path"]

#: STScI's public PS1 DR2 HATS root (anonymous S3).
DEFAULT_PATH = "s3://stpubdata/panstarrs/ps1/public/hats"
#: Catalog name -> the TAP table whose columns (and column names) it holds.
CATALOGS = {"otmo": "dbo.MeanObjectView", "detection": "dbo.Detection",
            "forced_mean_object": "dbo.ForcedMeanObjectView"}
#: Measurements within this distance of the position an objID encodes are read for it: the
#: decoded position is good to well under 1" and detections scatter ~2.4" around their object.
LOOKUP_RADIUS_ARCSEC = 10.0
#: Height of the declination zones objIDs count (degrees; MAST, "PS1 Object Identifiers").
ZONE_HEIGHT = 0.0083333
INSTALL = 'pip install "astroquery_ps1tap[hats]"'


class CatalogError(OSError):
    """A HATS catalog is missing, unreadable, or lacks columns the package needs."""


def root_path(path=None):
    """The HATS root in use: ``path``, else ``$PS1HATS_PATH``, else ``conf.hats_path``."""
    if path is not None:
        return str(path).rstrip("/")
    from ... import conf

    return (os.environ.get("PS1HATS_PATH") or conf.hats_path).rstrip("/")


def import_lsdb():
    """Import lsdb (and with it hats, nested-pandas, dask), or say what to install."""
    try:
        import dask  # noqa: F401  (each is needed; the first missing one is named)
        import lsdb
        import mocpy  # noqa: F401
    except ImportError as error:
        raise ImportError(f"the HATS source needs lsdb, hats, nested-pandas and dask "
                          f"({error.name} is not installed): {INSTALL}") from error
    return lsdb


@contextlib.contextmanager
def quiet():
    """Silence the deprecation chatter of pandas/nested-pandas inside lsdb calls (only there)."""
    with warnings.catch_warnings():
        try:
            from pandas.errors import Pandas4Warning
            warnings.simplefilter("ignore", Pandas4Warning)
        except ImportError:
            pass
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"(nested_pandas|lsdb)")
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                module=r"(nested_pandas|lsdb|hats|dask)")
        yield


def objid_positions(ids):
    """The approximate position each objID encodes (MAST, "PS1 Object Identifiers").

    ``objID = zid * 10**13 + floor(ra * 10**6) * 10**4 + floor(zresid * 10**4)``, with zones of
    0.0083333 deg counted from the south pole: good to well under an arcsecond (the position
    when the ID was made), enough to choose the sky partitions to read, not for astrometry.

    Examples
    --------
    KQ UMa (mean position 139.33446, 68.63509):

    >>> ra, dec = objid_positions([190361393344112894])
    >>> round(float(ra[0]), 5), round(float(dec[0]), 5)
    (139.33441, 68.63511)
    """
    ids = np.asarray(ids, dtype=np.int64)
    zid = ids // 10**13
    ra = (ids // 10**4 % 10**9) * 1e-6
    dec = (zid + (ids % 10**4) * 1e-4) * ZONE_HEIGHT - 90.0
    return ra, dec


def _to_table(frame, columns):
    """A raw astropy Table of ``columns`` of an lsdb result (pyarrow-backed pandas).

    Values go through pyarrow, never through float: nulls become masks, int64 stays exact.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    out = Table()
    for name in columns:
        values = pa.array(frame[name]) if len(frame) else None
        if values is None:
            out[name] = MaskedColumn(np.zeros(0, dtype=_numpy_type(frame[name].dtype)))
            continue
        mask = values.is_null().to_numpy(zero_copy_only=False)
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            data = np.asarray(pc.fill_null(values, "").to_numpy(zero_copy_only=False), dtype=str)
        else:
            data = pc.fill_null(values, 0).to_numpy(zero_copy_only=False) if mask.any() \
                else values.to_numpy(zero_copy_only=False)
        out[name] = MaskedColumn(data, mask=mask)
    return out


def _numpy_type(dtype):
    numpy_type = getattr(dtype, "numpy_dtype", None)
    if numpy_type is None or numpy_type.kind == "O":
        return str
    return numpy_type


def _compute(catalog, *, client=None, progress=None, description="PS1 HATS"):
    """Compute a lazy lsdb catalog partition by partition; a pandas frame in partition order.

    On ``client`` (a `dask.distributed.Client`) if given, else on the active distributed client
    if there is one, else on dask's synchronous scheduler (one partition after another in this
    thread).  ``progress``: a tqdm bar (default: when there is more than one partition).
    """
    import dask
    import pandas as pd
    from tqdm.auto import tqdm

    parts = catalog.to_delayed()
    if not parts:
        return catalog.compute(progress_bar=False)        # no partition: lsdb gives the schema
    show = len(parts) > 1 if progress is None else bool(progress)
    if client is None:
        client = _active_client()
    with tqdm(total=len(parts), desc=description, disable=not show, leave=False) as bar:
        if client is not None:
            from distributed import as_completed

            futures = client.compute(parts)
            index = {future.key: k for k, future in enumerate(futures)}
            results = [None] * len(parts)
            for future in as_completed(futures):
                results[index[future.key]] = future.result()
                bar.update(1)
        else:
            results = []
            for part in parts:
                results.append(dask.compute(part, scheduler="synchronous")[0])
                bar.update(1)
    return pd.concat(results)


def _active_client():
    """The dask.distributed client in use (``with Client():`` or the default), or None."""
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:
        return None


class Catalogs:
    """The PS1 HATS collections under one root, opened lazily with LSDB.

    Parameters
    ----------
    path : str or path-like, optional
        The root holding ``otmo``, ``detection`` and (where present) ``forced_mean_object``;
        local or remote (``s3://`` is read anonymously).  Default: `root_path`.

    Examples
    --------
    >>> from astroquery_ps1tap.sources.hats.catalogs import Catalogs
    >>> Catalogs("/data/ps1/hats").location("detection")
    '/data/ps1/hats/detection'
    """

    def __init__(self, path=None):
        self.root = root_path(path)
        self._structures = {}

    def __repr__(self):
        return f"<PS1 HATS catalogs at {self.root}>"

    def location(self, name):
        """Where catalog ``name`` lives (the root joined with its name)."""
        return f"{self.root}/{name}"

    def structure(self, name):
        """The catalog's HATS metadata (no rows read), checked: a clear error if it is missing."""
        if name not in self._structures:
            import_lsdb()
            import hats

            where = self.location(name)
            try:
                with quiet():
                    found = hats.read_hats(where)
            except (FileNotFoundError, OSError, ValueError, KeyError) as error:
                raise CatalogError(
                    f"no PS1 HATS catalog {name!r} at {where}: expected a HATS collection "
                    f"(collection.properties) or catalog (hats.properties) there "
                    f"({type(error).__name__}: {error}). The root {self.root} should hold "
                    f"{', '.join(CATALOGS)} (set it with path=..., PS1HATS_PATH or "
                    "conf.hats_path)") from None
            main = getattr(found, "main_catalog", found)
            columns = set(getattr(main, "schema", None).names if getattr(main, "schema", None)
                          is not None else [])
            needed = {"objID"} | ({"raMean", "decMean", "nDetections"} if name != "detection"
                                  else {"filterID", "obsTime", "psfFlux"})
            missing = sorted(needed - columns) if columns else []
            if missing:
                raise CatalogError(f"the PS1 HATS catalog {name!r} at {where} has no "
                                   f"{', '.join(missing)} column(s); it is not a PS1 {name} "
                                   "catalog")
            self._structures[name] = (found, columns)
        return self._structures[name]

    def columns_of(self, name):
        """The column names the catalog holds (from its metadata)."""
        return self.structure(name)[1]

    def open(self, name, *, columns, search_filter=None, filters=None):
        """The catalog as a lazy lsdb Catalog (with its default margin): only ``columns``."""
        lsdb = import_lsdb()
        self.structure(name)
        present = self.columns_of(name)
        absent = [c for c in columns if present and c not in present]
        if absent:
            raise CatalogError(f"the PS1 HATS catalog {name!r} at {self.location(name)} has no "
                               f"column(s) {', '.join(absent)}")
        with quiet():
            try:
                return lsdb.open_catalog(self.location(name), columns=list(columns),
                                         search_filter=search_filter, filters=filters or None)
            except ValueError as error:
                if "empty" in str(error).lower():          # the search selects no partition
                    return None
                raise

    # ---- objects in a cone ------------------------------------------------------------------------
    def cone(self, name, ra, dec, radius_deg, *, columns, filters=None, client=None,
             progress=None):
        """Rows of ``name`` within ``radius_deg`` of (ra, dec): a raw Table of ``columns``."""
        lsdb = import_lsdb()
        catalog = self.open(name, columns=columns, filters=filters,
                            search_filter=lsdb.ConeSearch(ra, dec, radius_deg * 3600.0))
        return self._table(catalog, columns, client=client, progress=progress,
                           description=f"PS1 {name} cone")

    # ---- rows by objID ----------------------------------------------------------------------------
    def rows_of(self, name, ids, *, columns, filters=(), client=None, progress=None):
        """Every row of ``name`` with an objID in ``ids`` (int64 array): a raw Table.

        Reads only the partitions within `LOOKUP_RADIUS_ARCSEC` of the positions the objIDs
        encode, and filters them on objID as they are read (pyarrow filters).
        """
        import_lsdb()
        from lsdb.core.search.region_search import MOCSearch

        ids = np.unique(np.asarray(ids, dtype=np.int64))
        catalog = None
        if len(ids):
            catalog = self.open(name, columns=columns,
                                search_filter=MOCSearch(objid_moc(ids), fine=False),
                                filters=[("objID", "in", ids.tolist())] + list(filters))
        return self._table(catalog, columns, client=client, progress=progress,
                           description=f"PS1 {name}")

    # ---- objects near many positions ----------------------------------------------------------------
    def near(self, ra, dec, radius_deg, *, min_detections=2, client=None, progress=None):
        """``objID, raMean, decMean, nDetections`` of the otmo objects within ``radius_deg`` of
        any of the positions (arrays): the partitions that the cones touch are read partition
        by partition, their rows kept where they fall in the cones' MOC, then exactly within
        the radius of a position."""
        import_lsdb()
        from astropy import units as u
        from astropy.coordinates import SkyCoord
        from lsdb.core.search.region_search import MOCSearch

        columns = ["objID", "raMean", "decMean", "nDetections"]
        catalog = self.open("otmo", columns=columns,
                            filters=detections_filter("mean", min_detections),
                            search_filter=MOCSearch(_cones_at(ra, dec, radius_deg * 3600.0)))
        found = self._table(catalog, columns, client=client, progress=progress,
                            description="PS1 position matches")
        if len(found):
            objects = SkyCoord(found["raMean"].data, found["decMean"].data, unit="deg")
            _, inside, _, _ = objects.search_around_sky(SkyCoord(ra, dec, unit="deg"),
                                                        radius_deg * u.deg)
            found = found[np.isin(np.arange(len(found)), inside)]
        return found

    def _table(self, catalog, columns, *, client, progress, description):
        import pandas as pd

        if catalog is None:
            frame = pd.DataFrame({c: [] for c in columns})
        else:
            with quiet():
                frame = _compute(catalog, client=client, progress=progress,
                                 description=description)
        return _to_table(frame, columns)


def objid_moc(ids):
    """A `mocpy.MOC` of the `LOOKUP_RADIUS_ARCSEC` cones around the positions the objIDs encode
    (`objid_positions`): the sky where those objects' rows can be."""
    ra, dec = objid_positions(ids)
    return _cones_at(ra, dec, LOOKUP_RADIUS_ARCSEC)


def _cones_at(ra, dec, radius_arcsec):
    """A MOC covering cones of ``radius_arcsec`` around the positions (at a depth whose cells
    are about the cone's size, so that it stays small for many positions)."""
    import astropy.units as u
    from mocpy import MOC

    depth = int(np.clip(np.floor(np.log2(58.6 * 3600 / max(radius_arcsec, 0.01))), 3, 29))
    return MOC.from_cones(lon=np.asarray(ra) * u.deg, lat=np.asarray(dec) * u.deg,
                          radius=radius_arcsec * u.arcsec, max_depth=depth, union_strategy="large_cones")


# ---- pyarrow filters that mean what the TAP source's WHERE clauses mean ---------------------------------
def detections_filter(table, min_detections):
    """``[("nDetections", ">=", n)]`` (the tutorial's ``nDetections > 1`` is ``n = 2``)."""
    cut = parse_min_detections(table, min_detections)
    return [] if cut is None else [("nDetections", ">=", cut)]


def column_filters_of(table, column_filters):
    """pyarrow filters for ``{column: value}`` cuts: a value (equal), ``(min, max)`` inclusive
    (``None`` for an open end), or a list (any of).

    Examples
    --------
    >>> column_filters_of("mean", {"gMeanPSFMag": (None, 20), "ng": [3, 4]})
    [('gMeanPSFMag', '<=', 20.0), ('ng', 'in', [3, 4])]
    """
    out = []
    for name, value in (column_filters or {}).items():
        column = schema.resolve_column(table, name)
        if isinstance(value, tuple):
            if len(value) != 2 or (value[0] is None and value[1] is None):
                raise InvalidQueryError(f"range for {column} must be (min, max) with at least one "
                                        f"bound, got {value!r}")
            for op, bound in ((">=", value[0]), ("<=", value[1])):
                if bound is not None:
                    out.append((column, op, _value(table, column, bound)))
        elif isinstance(value, (list, np.ndarray)):
            if len(value) == 0:
                raise InvalidQueryError(f"empty list of values for {column}")
            out.append((column, "in", [_value(table, column, v) for v in value]))
        else:
            out.append((column, "==", _value(table, column, value)))
    return out


def _value(table, column, value):
    dbtype = schema.find_column(table, column).dbtype
    if dbtype == "STRING":
        if not isinstance(value, str):
            raise InvalidQueryError(f"{column} holds text; got {value!r}")
        return value
    if dbtype in schema.INTEGER_TYPES and isinstance(value, (int, np.integer)) \
            and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return number(value, f"value for {column}")


def measurement_filters(bands, min_qf):
    """pyarrow filters for a band selection and a ``psfQfPerfect`` cut."""
    out = []
    ids = parse_bands(bands)
    if len(ids) < len(schema.FILTERS):
        out.append(("filterID", "in", list(ids)))
    if min_qf is not None:
        qf = number(min_qf, "min_qf")
        if not 0 <= qf <= 1:
            raise InvalidQueryError(f"min_qf must be within [0, 1], got {min_qf!r}")
        out.append(("psfQfPerfect", ">=", qf))
    return out
