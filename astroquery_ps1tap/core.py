"""`PanstarrsTapClass`: Pan-STARRS1 DR2 at MAST's TAP service, astroquery style.

Each public method validates its arguments and builds ADQL (`astroquery_ps1tap.adql`), sends it
through the one query path (`astroquery_ps1tap.service.TapService.run`), and shapes the answer
(`astroquery_ps1tap.results`).
"""
import os
import re
import warnings

import numpy as np
from astropy import units as u
from astropy.table import Table, vstack
from astroquery.exceptions import InvalidQueryError, NoResultsWarning
from astroquery.query import BaseQuery, BaseVOQuery

from . import adql, conf, results, schema
from .batch import PartialResultError, PartialResultWarning, run_batches
from .service import ResultCache, RetryingSession, TapService, warn_or_raise_truncated

__all__ = ["PanstarrsTapClass", "PanstarrsTap"]

#: Objects per square degree assumed when guessing the size of a cone's answer (PS1 is denser in
#: the Galactic plane; this only decides between a sync request and an async job).
_OBJECTS_PER_SQ_DEG = 60000
#: Measurements per object assumed when guessing the size of a detections answer.
_DETECTIONS_PER_OBJECT = 100

_TOP = re.compile(r"^\s*SELECT\s+(?:ALL\s+|DISTINCT\s+)?TOP\s+(\d+)", re.IGNORECASE)


class PanstarrsTapClass(BaseVOQuery, BaseQuery):
    """Query Pan-STARRS1 DR2 through an IVOA TAP service (MAST's by default).

    Parameters
    ----------
    server : str, optional
        TAP base URL.  Default: the ``PS1TAP_SERVER`` environment variable if set, else
        ``conf.server`` (MAST).
    timeout : float, optional
        Seconds for each HTTP request to connect and between bytes (default ``conf.timeout``).
    retries : int, optional
        Retries of a failed request (default ``conf.retries``).
    deadline : float, optional
        Seconds allowed for one whole query (default ``conf.deadline``).

    Examples
    --------
    >>> from astroquery_ps1tap import PanstarrsTapClass
    >>> ps1 = PanstarrsTapClass(server="http://localhost:8080/tap")
    >>> print(ps1.query_region("187.706 12.391", "0.2 deg", columns=["objID", "nDetections"],
    ...                        get_query_payload=True))
    SELECT o.objID, o.nDetections, o.raMean, o.decMean
    FROM dbo.MeanObjectView AS o
    WHERE CONTAINS(POINT('ICRS', o.raMean, o.decMean), CIRCLE('ICRS', 187.706, 12.391, 0.2)) = 1
      AND o.nDetections >= 2
    """

    def __init__(self, server=None, *, timeout=None, retries=None, deadline=None):
        super().__init__()
        self._server = server
        self._timeout = timeout
        self._retries = retries
        self._deadline = deadline
        user_agent = self._session.headers["User-Agent"]
        self._session = RetryingSession()
        self._session.headers["User-Agent"] = f"astroquery_ps1tap {user_agent}"
        self._services = {}

    # ---- configuration ------------------------------------------------------------------------
    @property
    def server(self):
        """The TAP base URL in use (explicit > ``PS1TAP_SERVER`` > ``conf.server``)."""
        return (self._server or os.environ.get("PS1TAP_SERVER") or conf.server).rstrip("/")

    @property
    def service(self):
        """The `~astroquery_ps1tap.service.TapService` for `server` (timeouts, retries, cache)."""
        self._session.timeout = float(self._timeout if self._timeout is not None else conf.timeout)
        self._session.retries = int(self._retries if self._retries is not None else conf.retries)
        url = self.server
        if url not in self._services:
            self._services[url] = TapService(url, self._session, ResultCache(self.cache_location))
        return self._services[url]

    def clear_cache(self):
        """Remove every cached answer of this client's cache location."""
        ResultCache(self.cache_location).clear()

    # ---- the one place queries are sent from ---------------------------------------------------
    def _run(self, query, *, maxrec=None, async_job=None, expected_rows=None, cache=True,
             uploads=None, deadline=None):
        maxrec = _positive(conf.row_limit if maxrec is None else maxrec, "maxrec")
        if async_job is None:
            async_job = expected_rows is not None and expected_rows > conf.sync_max_rows
        deadline = self._deadline if deadline is None else deadline
        result = self.service.run(query, maxrec=maxrec, async_job=bool(async_job),
                                  deadline=float(conf.deadline if deadline is None else deadline),
                                  cache=cache, uploads=uploads)
        top = _TOP.match(query)
        if not result.overflow and len(result.table) >= maxrec and not (top and int(top.group(1)) <= maxrec):
            result.overflow = True  # a service that cut at MAXREC without saying so
        return result

    # ---- raw ADQL ------------------------------------------------------------------------------
    def query_tap(self, query, *, async_job=None, maxrec=None, uploads=None, cache=True,
                  on_truncation="warn", deadline=None, get_query_payload=False):
        """Run an ADQL query as written and return the table the service sent.

        Parameters
        ----------
        query : str
            ADQL.  Qualify PS1 tables with ``dbo.`` and give them aliases to stay portable.
        async_job : bool, optional
            Run as an async (UWS) job; default: a synchronous request (one round trip).
        maxrec : int, optional
            Row limit (default ``conf.row_limit``, MAST's maximum 100000).
        uploads : dict, optional
            ``{"name": Table}`` usable as ``TAP_UPLOAD.name`` where the service allows uploads.
        cache : bool
            Use the on-disk cache.
        on_truncation : {"warn", "raise"}
            What to do if the result was cut at the row limit: a `MaxResultsWarning` or an error.
        deadline : float, optional
            Seconds for the whole query.
        get_query_payload : bool
            Return the query instead of running it.

        Returns
        -------
        `~astropy.table.Table`
            As the service sent it (column names and units unchanged; ``query_region`` and
            ``get_detections`` give canonical ones).

        Examples
        --------
        >>> from astroquery_ps1tap import PanstarrsTap
        >>> filters = PanstarrsTap.query_tap(
        ...     "SELECT f.filterID, f.filterType FROM dbo.Filter AS f ORDER BY f.filterID")
        >>> list(filters["filterType"])
        ['g', 'r', 'i', 'z', 'y']
        """
        if not isinstance(query, str) or not query.strip():
            raise InvalidQueryError(f"query must be a non-empty ADQL string, got {query!r}")
        _check_on_truncation(on_truncation)
        if get_query_payload:
            return query
        result = self._run(query, maxrec=maxrec, async_job=async_job, cache=cache, uploads=uploads,
                           deadline=deadline)
        warn_or_raise_truncated(result, what="query_tap", on_truncation=on_truncation,
                                advice="Narrow the query (or add TOP), or split it into parts.")
        return result.table

    # ---- objects -------------------------------------------------------------------------------
    def query_region(self, coordinates, radius, *, table="mean", columns=None, min_detections=2,
                     column_filters=None, top=None, async_job=None, maxrec=None, cache=True,
                     on_truncation="warn", get_query_payload=False):
        """Objects within ``radius`` of a position, nearest first.

        Parameters
        ----------
        coordinates : `~astropy.coordinates.SkyCoord`, str or (ra, dec)
            The centre, in any frame; strings like ``"187.706 12.391"`` or sexagesimal; a pair of
            numbers is (ra, dec) in degrees.
        radius : `~astropy.units.Quantity`, `~astropy.coordinates.Angle`, str or float
            Cone radius (a number is degrees); at most 0.5 deg.
        table : str
            ``"mean"`` (``dbo.MeanObjectView``, default), ``"stack"`` (``dbo.StackObjectView``),
            ``"forced_mean"`` (``dbo.ForcedMeanObjectView``), or another object table's name.
        columns : list of str, optional
            Columns to return (any letter case); default: objID, positions, detection counts and
            mean PSF magnitudes.  ``objID``, ``raMean`` and ``decMean`` are always included.
        min_detections : int or None
            Keep objects with ``nDetections >= min_detections``.  The default, 2, is the MAST
            tutorial's advice (``nDetections > 1``): objects detected once are mostly artifacts.
            ``None`` turns the cut off.
        column_filters : dict, optional
            Cuts without ADQL: ``{"gMeanPSFMag": (14, 18)}`` (inclusive range; ``None`` for an open
            end), ``{"ng": [3, 4]}`` (any of), ``{"qualityFlag": 16}`` (equal).
        top : int, optional
            At most this many objects (``TOP n``; which ones is up to the service).
        async_job : bool, optional
            Force an async job (True) or a sync request (False); default chosen from the cone's
            expected size.
        maxrec : int, optional
            Row limit (default ``conf.row_limit``).
        cache : bool
            Use the on-disk cache.
        on_truncation : {"warn", "raise"}
            A result cut at the row limit gives a `MaxResultsWarning`, or an error.
        get_query_payload : bool
            Return the ADQL instead of running it.

        Returns
        -------
        `~astropy.table.Table`
            Canonical column names and units, ``-999`` masked, plus ``separation`` (arcsec) from
            the centre; sorted by it.

        Examples
        --------
        The tutorial's cone around M87 (6927 objects, at MAST as in the local sample):

        >>> import astropy.units as u
        >>> from astroquery_ps1tap import PanstarrsTap
        >>> m87 = PanstarrsTap.query_region("187.706 12.391", 0.2 * u.deg)
        >>> len(m87), m87.colnames[:3], m87["separation"].unit
        (6927, ['objID', 'raMean', 'decMean'], Unit("arcsec"))
        """
        ra, dec = adql.parse_position(coordinates)
        radius_deg = adql.parse_radius(radius)
        table = schema.resolve_table(table)
        _check_on_truncation(on_truncation)
        query = adql.cone_query(ra, dec, radius_deg, table=table, columns=columns,
                                min_detections=min_detections, column_filters=column_filters, top=top)
        if get_query_payload:
            return query
        expected = np.pi * radius_deg**2 * _OBJECTS_PER_SQ_DEG
        result = self._run(query, maxrec=maxrec, async_job=async_job, expected_rows=expected,
                           cache=cache)
        warn_or_raise_truncated(result, what="query_region", on_truncation=on_truncation,
                                advice="Use a smaller radius, column_filters or min_detections, "
                                       "or tile the region into smaller cones.")
        shaped = results.shape(result.table, table)
        return _add_separation(shaped, ra, dec)

    def query_object(self, object_name, radius=1 * u.arcsec, **kwargs):
        """Objects near a named target: the name is resolved (Sesame), then as `query_region`.

        Parameters
        ----------
        object_name : str
            A name Sesame knows (SIMBAD, NED, VizieR), e.g. ``"KQ UMa"``.
        radius : `~astropy.units.Quantity`, str or float
            Cone radius (default 1 arcsec).
        **kwargs
            As for `query_region`.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            If the name cannot be resolved.
        """
        coordinates = resolve_name(object_name)
        return self.query_region(coordinates, radius, **kwargs)

    # ---- measurements --------------------------------------------------------------------------
    def get_detections(self, objid, *, photometry="detection", bands=None, min_qf=None, columns=None,
                       chunk_size=None, upload=None, max_workers=None, progress=None, on_error="raise",
                       async_job=None, cache=True, on_truncation="warn", get_query_payload=False):
        """Every measurement of one object or many, in every filter.

        One object, or up to ``chunk_size`` of them, take one query.  Longer lists are split into
        batches run a few at a time, with a progress bar; the result is the same as fetching the
        objects one by one.

        Parameters
        ----------
        objid : int, str, or sequence of them (list, array, Table column)
            PS1 objIDs (exact integers or decimal text; duplicates are fetched once).
        photometry : {"detection", "forced"}
            ``"detection"``: single-epoch detections (``dbo.Detection``); ``"forced"``: forced
            photometry on every warp (``dbo.ForcedWarpMeasurement``), which includes epochs where
            the object was not detected.  Both come back under the same column names
            (``psfFlux``, ``psfQfPerfect``, ``infoFlag``, ...).
        bands : str or list, optional
            Filters to fetch, e.g. ``"gri"``; default all five.
        min_qf : float, optional
            Server-side quality cut ``psfQfPerfect >= min_qf`` (the tutorial uses 0.9).
        columns : list of str, optional
            Columns of the measurement table (default: identifiers, time, fluxes, FWHM,
            ``psfQfPerfect`` and flags).  ``objID``, ``filterID``, ``obsTime`` are always included.
        chunk_size : int, optional
            Most objIDs per query when they are listed in the ADQL (default
            ``conf.objid_chunk_size``).
        upload : bool, optional
            Send long lists as an uploaded table (``TAP_UPLOAD``) in batches of
            ``conf.upload_chunk_size``.  Default: when the list is longer than one chunk and the
            service declares an upload method (asked once); MAST's PS1 service declares none.
        max_workers : int, optional
            Batches run at once (default ``conf.max_workers``).
        progress : bool, optional
            Show a progress bar; default: when there is more than one batch.
        on_error : {"raise", "warn"}
            When some batches still fail after retries: raise
            `~astroquery_ps1tap.batch.PartialResultError` (its ``result`` holds what succeeded, its
            ``failed`` the objIDs to retry), or warn and return the partial table with
            ``meta["complete"] = False`` and ``meta["failed_objIDs"]``.
        async_job : bool, optional
            Force async jobs or sync requests; default chosen from the expected size.
        cache : bool
            Use the on-disk cache.
        on_truncation : {"warn", "raise"}
            Batches cut at the row limit are split and fetched again automatically; only a single
            object with more rows than the limit can remain truncated, and is then reported.
        get_query_payload : bool
            Return the ADQL (a list of queries when there is more than one batch).

        Returns
        -------
        `~astropy.table.Table`
            Canonical columns (see `astroquery_ps1tap.results.shape_detections`): ``objID``,
            ``detectID``, ``filterID``, ``filter`` (g r i z y), ``obsTime`` (MJD, **TAI**), fluxes
            in Jy, ...; sorted by objID, filterID, obsTime.  ``meta["missing_objIDs"]`` lists
            requested objects with no measurements (a `NoResultsWarning` says so too).

        Examples
        --------
        KQ UMa's 66 detections, and the 45 good ones of an eclipsing binary:

        >>> from astroquery_ps1tap import PanstarrsTap
        >>> det = PanstarrsTap.get_detections(190361393344112894)
        >>> len(det), sorted(set(det["filter"].tolist())), det["obsTime"].unit
        (66, ['g', 'i', 'r', 'y', 'z'], Unit("d"))
        >>> len(PanstarrsTap.get_detections(153102917444859851, min_qf=0.9))
        45
        """
        ids = adql.parse_objids(objid)
        return self._measurements(
            ids, with_means=False, photometry=photometry, bands=bands, min_qf=min_qf, columns=columns,
            chunk_size=chunk_size, upload=upload, max_workers=max_workers, progress=progress,
            on_error=on_error, async_job=async_job, cache=cache, on_truncation=on_truncation,
            get_query_payload=get_query_payload)

    def _measurements(self, ids, *, with_means, photometry, bands, min_qf, columns, chunk_size, upload,
                      max_workers, progress, on_error, async_job, cache, on_truncation,
                      get_query_payload):
        """Measurements of validated objIDs ``ids``: batched, concurrent, failures accounted for."""
        _check_on_truncation(on_truncation)
        if on_error not in ("raise", "warn"):
            raise ValueError(f"on_error must be 'raise' or 'warn', got {on_error!r}")
        options = dict(photometry=photometry, columns=columns, bands=bands, min_qf=min_qf,
                       with_means=with_means)
        adql.detections_query(ids[:1], **options)  # every option is checked before any request
        chunk_size = _positive(chunk_size or conf.objid_chunk_size, "chunk_size")
        if upload is None:
            upload = len(ids) > chunk_size and not get_query_payload and self.service.upload_supported()
        size = _positive(conf.upload_chunk_size, "conf.upload_chunk_size") if upload else chunk_size
        batches = [ids[i:i + size] for i in range(0, len(ids), size)]
        if get_query_payload:
            queries = [adql.detections_query(None if upload else batch, upload="ids" if upload else None,
                                             **options) for batch in batches]
            return queries[0] if len(queries) == 1 else queries

        def fetch(batch):
            return self._fetch_batch(batch, upload=bool(upload), async_job=async_job, cache=cache,
                                     on_truncation=on_truncation, **options)

        tables, failures = run_batches(batches, fetch, max_workers=max_workers or conf.max_workers,
                                       progress=progress, description=f"PS1 {photometry}s")
        failed_index = {index for index, _ in failures}
        fetched = [t for index, parts in enumerate(tables) if index not in failed_index for t in parts]
        done = np.concatenate([b for i, b in enumerate(batches) if i not in failed_index] or [ids[:0]])
        detections = _finish_detections(fetched, done, template=_empty_measurements(**options))
        if failures:
            failed = np.concatenate([batches[i] for i, _ in failures])
            detections.meta["complete"] = False
            detections.meta["failed_objIDs"] = failed.tolist()
            message = (f"{len(failures)} of {len(batches)} batches failed after retries "
                       f"({len(failed)} of {len(ids)} objIDs; first error: {failures[0][1]}). The "
                       f"result for the other {len(ids) - len(failed)} objIDs is complete; fetch the "
                       "failed objIDs again with the same call")
            if on_error == "raise":
                raise PartialResultError(message + " (they are this error's .failed; what succeeded "
                                         "is its .result).", detections, failed.tolist(),
                                         [error for _, error in failures])
            warnings.warn(message + " (they are listed in meta['failed_objIDs']).", PartialResultWarning)
        return detections

    def _fetch_batch(self, ids, *, upload, async_job, cache, on_truncation, **options):
        """Fetch one batch; a batch cut at the row limit is halved and fetched again."""
        if upload:
            query = adql.detections_query(None, upload="ids", **options)
            uploads = {"ids": Table({"objID": np.asarray(ids, dtype=np.int64)})}
        else:
            query, uploads = adql.detections_query(ids, **options), None
        result = self._run(query, async_job=async_job, cache=cache, uploads=uploads,
                           expected_rows=len(ids) * _DETECTIONS_PER_OBJECT)
        if result.overflow and len(ids) > 1:
            half = len(ids) // 2
            return [table for part in (ids[:half], ids[half:])
                    for table in self._fetch_batch(part, upload=upload, async_job=async_job, cache=cache,
                                                   on_truncation=on_truncation, **options)]
        warn_or_raise_truncated(result, what=f"measurements of objID {ids[0]}",
                                on_truncation=on_truncation,
                                advice="Fetch this object by bands (bands='g', ...) or with min_qf.")
        return [result.table]

    def get_lightcurves(self, target, *, radius=1 * u.arcsec, photometry="detection", bands=None,
                        min_qf=None, flux="psf", quality_bitmask="default", progress=None,
                        on_error="raise", cache=True, get_query_payload=False):
        """Light curves as lightkurve objects: one `~lightkurve.LightCurve` per filter.

        Parameters
        ----------
        target : str, `~astropy.coordinates.SkyCoord`, tuple, int, or a sequence of objIDs/positions
            One target — a name (resolved with Sesame), a position (SkyCoord, string, or an
            ``(ra, dec)`` tuple in degrees), or a PS1 objID — or many: a list, array or Table
            column of objIDs, or a SkyCoord array of positions.  One objID or position takes one
            query; many are fetched in batches (positions are first matched to objIDs in as few
            queries as possible).
        radius : `~astropy.units.Quantity`, str or float
            Search radius around a position (default 1 arcsec); the object nearest the position is
            used.
        photometry, bands, min_qf
            As for `get_detections`.
        flux : {"psf", "ap", "kron"}
            Which flux becomes the light curve's ``flux``.
        quality_bitmask : str or int
            Which quality flags hide points (see `astroquery_ps1tap.lightcurves.to_lightcurves`);
            ``"default"`` is the tutorial's cut (``psfQfPerfect >= 0.9``, positive flux).
        progress, on_error
            For many targets, as for `get_detections`.
        cache : bool
            Use the on-disk cache.
        get_query_payload : bool
            Return the ADQL instead.

        Returns
        -------
        `lightkurve.LightCurveCollection` or `~astroquery_ps1tap.lightcurves.LightCurvesByObject`
            For one target, its curves in g r i z y order with ``mag``, ``mag_err``, ``dmag`` (from
            the object's mean magnitudes) and time in TAI.  For many, a mapping objID →
            collection, built lazily on access.

        Examples
        --------
        >>> from astroquery_ps1tap import PanstarrsTap
        >>> lcs = PanstarrsTap.get_lightcurves(190361393344112894)
        >>> [lc.meta["FILTER"] for lc in lcs]
        ['g', 'r', 'i', 'z', 'y']
        >>> folded = lcs[2].fold(period=0.48636)

        By name (needs Sesame, on the internet):

        >>> lcs = PanstarrsTap.get_lightcurves("KQ UMa")  # doctest: +REMOTE_DATA
        """
        many = _many_targets(target)
        if many is not None:
            return self._many_lightcurves(many, radius=radius, photometry=photometry, bands=bands,
                                          min_qf=min_qf, flux=flux, quality_bitmask=quality_bitmask,
                                          progress=progress, on_error=on_error, cache=cache,
                                          get_query_payload=get_query_payload)
        if get_query_payload:
            return self._target_measurements(target, radius=radius, photometry=photometry, bands=bands,
                                             min_qf=min_qf, cache=cache, get_query_payload=True)
        from .lightcurves import to_lightcurves

        detections = self._target_measurements(target, radius=radius, photometry=photometry,
                                               bands=bands, min_qf=min_qf, cache=cache)
        return to_lightcurves(detections, flux=flux, quality_bitmask=quality_bitmask)

    def _target_measurements(self, target, *, radius, photometry, bands, min_qf, cache,
                             get_query_payload=False):
        """Canonical measurements (with mean magnitudes) of the one object a target names."""
        if isinstance(target, (int, np.integer)) or (isinstance(target, str) and target.strip().isdigit()):
            position = None
            query = adql.detections_query(adql.parse_objids(target), with_means=True,
                                          photometry=photometry, bands=bands, min_qf=min_qf)
        else:
            if isinstance(target, str) and not _looks_like_coordinates(target):
                target = resolve_name(target)
            position = adql.parse_position(target)
            query = adql.lightcurve_query(*position, adql.parse_radius(radius), photometry=photometry,
                                          bands=bands, min_qf=min_qf)
        if get_query_payload:
            return query
        result = self._run(query, cache=cache, expected_rows=_DETECTIONS_PER_OBJECT)
        warn_or_raise_truncated(result, what="get_lightcurves", advice="Use a smaller radius.")
        if not len(result.table):
            raise InvalidQueryError(f"no PS1 {photometry} measurements found for {target!r}"
                                    + (f" within {radius}" if position else ""))
        detections = results.shape_detections(result.table)
        return detections if position is None else _nearest_object(detections, *position)

    def _many_lightcurves(self, targets, *, radius, flux, quality_bitmask, get_query_payload, **options):
        from astropy.coordinates import SkyCoord

        if isinstance(targets, SkyCoord):
            matches = self.match_positions(targets, radius, cache=options["cache"],
                                           get_query_payload=get_query_payload)
            if get_query_payload:
                return matches
            ids = adql.parse_objids(np.ma.getdata(matches["objID"])[~np.ma.getmaskarray(matches["objID"])])
        else:
            ids = adql.parse_objids(targets)
        detections = self._measurements(ids, with_means=True, columns=None, chunk_size=None, upload=None,
                                         max_workers=None, async_job=None, on_truncation="warn",
                                         get_query_payload=get_query_payload, **options)
        if get_query_payload:
            return detections
        from .lightcurves import to_lightcurves_by_object

        return to_lightcurves_by_object(detections, flux=flux, quality_bitmask=quality_bitmask)

    def match_positions(self, coordinates, radius=1 * u.arcsec, *, min_detections=2, chunk_size=None,
                        upload=None, cache=True, get_query_payload=False):
        """The PS1 object nearest each of many positions, in as few queries as possible.

        Where the service accepts table uploads, the positions go up as a table and are matched
        on the server (``conf.upload_chunk_size`` positions per query); elsewhere (MAST declares
        no upload method) each query holds ``chunk_size`` OR-ed cones.  The nearest object within
        the radius is chosen here.

        Parameters
        ----------
        coordinates : `~astropy.coordinates.SkyCoord`
            The positions (any frame; an array).
        radius : `~astropy.units.Quantity`, str or float
            Match radius (default 1 arcsec).
        min_detections : int or None
            As for `query_region` (default 2).
        chunk_size : int, optional
            Cones per query without uploads (default 100).
        upload : bool, optional
            Force or forbid the upload path; default: where the service declares uploads.
        cache : bool
            Use the on-disk cache.
        get_query_payload : bool
            Return the ADQL instead.

        Returns
        -------
        `~astropy.table.Table`
            One row per position, in input order: ``index``, ``objID`` (masked where nothing lies
            within the radius), ``raMean``, ``decMean``, ``nDetections``, ``separation`` (arcsec).
        """
        from astropy.coordinates import SkyCoord

        if not isinstance(coordinates, SkyCoord) or coordinates.isscalar:
            raise InvalidQueryError("match_positions takes a SkyCoord array of positions; for one "
                                    "position use query_region")
        icrs = coordinates.icrs
        ra, dec = np.asarray(icrs.ra.deg, dtype=float), np.asarray(icrs.dec.deg, dtype=float)
        if not (np.isfinite(ra).all() and np.isfinite(dec).all()):
            bad = int(np.flatnonzero(~(np.isfinite(ra) & np.isfinite(dec)))[0])
            raise InvalidQueryError(f"position {bad} is not finite: {coordinates[bad]!r}")
        radius_deg = adql.parse_radius(radius)
        if upload is None:
            upload = len(ra) > 1 and not get_query_payload and self.service.upload_supported()
        size = _positive(conf.upload_chunk_size if upload else (chunk_size or 100), "chunk_size")
        starts = list(range(0, len(ra), size))
        queries = [adql.match_query(None if upload else (ra[i:i + size], dec[i:i + size]), radius_deg,
                                    upload="positions" if upload else None,
                                    min_detections=min_detections) for i in starts]
        if get_query_payload:
            return queries[0] if len(queries) == 1 else queries

        def fetch(start):
            uploads = None
            if upload:
                stop = min(start + size, len(ra))
                uploads = {"positions": Table({"idx": np.arange(start, stop), "ra": ra[start:stop],
                                               "dec": dec[start:stop]})}
            result = self._run(queries[start // size], cache=cache, uploads=uploads,
                               expected_rows=size * 2)
            warn_or_raise_truncated(result, what="match_positions", advice="Use a smaller radius.")
            return results.shape(result.table, "mean")

        tables, failures = run_batches(starts, fetch, max_workers=conf.max_workers,
                                       description="PS1 position matches")
        if failures:
            raise failures[0][1]
        return _nearest_matches(tables, ra, dec, radius_deg)

    # ---- metadata ------------------------------------------------------------------------------
    def list_tables(self, *, cache=True, get_query_payload=False):
        """Tables the service publishes, from its ``TAP_SCHEMA`` (one query, cached).

        Parameters
        ----------
        cache : bool
            Use the on-disk cache.
        get_query_payload : bool
            Return the ADQL instead of running it.

        Returns
        -------
        `~astropy.table.Table`
            ``table_name`` (``dbo.MeanObjectView``, ...) and ``description``.
        """
        query = "SELECT t.table_name, t.description FROM TAP_SCHEMA.tables AS t"
        if get_query_payload:
            return query
        table = self._run(query, cache=cache).table
        names = [schema.resolve_table(n) if _known_table(n) else n for n in _text(table["table_name"])]
        out = Table({"table_name": names, "description": _text(table["description"])})
        out.sort("table_name")
        return out

    def list_columns(self, table, *, cache=True, get_query_payload=False):
        """Columns of a table: canonical name, datatype, unit (from the PS1 schema), description.

        All of the service's columns are fetched in one query (cached) and filtered here, which
        works whatever letter case the service uses for table names.

        Parameters
        ----------
        table : str
            A table name or alias (``"mean"``, ``"dbo.Detection"``, ``"Detection"``).
        cache : bool
            Use the on-disk cache.
        get_query_payload : bool
            Return the ADQL instead of running it.

        Examples
        --------
        >>> from astroquery_ps1tap import PanstarrsTap
        >>> columns = PanstarrsTap.list_columns("detection")
        >>> print(columns[columns["name"] == "obsTime"]["unit"][0])
        d
        """
        table = schema.resolve_table(table)
        query = ("SELECT c.table_name, c.column_name, c.datatype, c.unit, c.description "
                 "FROM TAP_SCHEMA.columns AS c")
        if get_query_payload:
            return query
        served = self._run(query, cache=cache).table
        keep = np.char.lower(_text(served["table_name"]).astype(str)) == table.lower()
        if not keep.any():
            raise InvalidQueryError(f"the service at {self.server} does not publish {table}")
        rows = served[keep]
        names, units = [], []
        for name, unit in zip(_text(rows["column_name"]), _text(rows["unit"])):
            known = schema.find_column(table, name.strip('"'))
            names.append(known.name if known else name)
            units.append(known.unit if known else unit)
        return Table({"name": names, "datatype": _text(rows["datatype"]), "unit": units,
                      "description": _text(rows["description"])})


# ---- helpers ------------------------------------------------------------------------------------
def _check_on_truncation(value):
    if value not in ("warn", "raise"):
        raise ValueError(f"on_truncation must be 'warn' or 'raise', got {value!r}")


def _text(column):
    return np.array([v.decode() if isinstance(v, bytes) else ("" if v is np.ma.masked or v is None
                                                                else str(v))
                     for v in column.tolist()], dtype=str)


def _known_table(name):
    try:
        schema.resolve_table(name)
        return True
    except InvalidQueryError:
        return False


def _looks_like_coordinates(text):
    try:
        adql.parse_position(text)
        return True
    except InvalidQueryError:
        return False


def resolve_name(object_name):
    """Resolve a target name to ICRS coordinates with astropy's Sesame resolver.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        If the name is not a non-empty string or cannot be resolved (or the resolver is
        unreachable); the message says so and suggests passing coordinates.
    """
    from astropy.coordinates import SkyCoord
    from astropy.coordinates.name_resolve import NameResolveError

    if not isinstance(object_name, str) or not object_name.strip():
        raise InvalidQueryError(f"object_name must be a non-empty string, got {object_name!r}")
    try:
        return SkyCoord.from_name(object_name.strip())
    except NameResolveError as exc:
        raise InvalidQueryError(f"could not resolve the name {object_name!r}: {exc}. Check the "
                                "name, or give coordinates instead.") from None


def _add_separation(table, ra, dec):
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


def _nearest_object(detections, ra, dec):
    """Keep the measurements of the object whose mean position is nearest (ra, dec)."""
    ids, first = np.unique(np.ma.getdata(detections["objID"]), return_index=True)
    if len(ids) == 1:
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


def _finish_detections(tables, ids, template):
    """One shaped table from the batches' answers; report requested objIDs with no rows."""
    nonempty = [t for t in tables if len(t)]
    if len(nonempty) > 1:
        combined = vstack(nonempty, metadata_conflicts="silent")
    else:
        combined = nonempty[0] if nonempty else template
    detections = results.shape_detections(combined)
    found = np.unique(np.ma.getdata(detections["objID"]))
    missing = ids[~np.isin(ids, found)]
    detections.meta["missing_objIDs"] = missing.tolist()
    if len(missing):
        shown = ", ".join(str(i) for i in missing[:5]) + (" ..." if len(missing) > 5 else "")
        warnings.warn(f"{len(missing)} of {len(ids)} objIDs have no measurements: {shown} "
                      "(listed in meta['missing_objIDs'])", NoResultsWarning)
    return detections


def _positive(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _empty_measurements(*, photometry, columns, with_means, **_):
    """An empty table with the columns a measurements query returns (for empty answers)."""
    table = adql.PHOTOMETRY_TABLES[photometry]
    names = [(table, n) for n in adql._with_keys(
        columns or (adql.DETECTION_SELECT if photometry == "detection" else adql.FORCED_SELECT))]
    if with_means:
        names += [("mean", n) for n in adql.LIGHTCURVE_MEAN_SELECT]
    found = [schema.find_column(t, n) for t, n in names]
    return Table(names=[c.name for c in found], dtype=[_NUMPY_TYPES[c.dbtype] for c in found])


def _many_targets(target):
    """The targets as objIDs or a SkyCoord array if ``target`` names many, else None."""
    from astropy.coordinates import SkyCoord

    if isinstance(target, SkyCoord):
        return None if target.isscalar else target
    if isinstance(target, (str, bytes, tuple)) or np.ndim(target) == 0:
        return None
    return target


def _nearest_matches(tables, ra, dec, radius_deg):
    """One row per position: the nearest matched object (objID masked where there is none)."""
    from astropy.coordinates import SkyCoord

    n = len(ra)
    columns = {"objID": np.ma.masked_all(n, dtype=np.int64), "raMean": np.ma.masked_all(n),
               "decMean": np.ma.masked_all(n), "nDetections": np.ma.masked_all(n, dtype=np.int64),
               "separation": np.ma.masked_all(n)}
    found = [t for t in tables if len(t)]
    if found:
        candidates = vstack(found, metadata_conflicts="silent") if len(found) > 1 else found[0]
        objects = SkyCoord(np.ma.getdata(candidates["raMean"]), np.ma.getdata(candidates["decMean"]),
                           unit="deg")
        i_pos, i_obj, sep, _ = objects.search_around_sky(SkyCoord(ra, dec, unit="deg"),
                                                         radius_deg * u.deg)
        order = np.lexsort((sep.deg, i_pos))
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


_NUMPY_TYPES = {"BIGINT": np.int64, "INTEGER": np.int32, "SMALLINT": np.int16, "TINYINT": np.uint8,
                "REAL": np.float32, "DOUBLE": np.float64, "STRING": str}


PanstarrsTap = PanstarrsTapClass()
