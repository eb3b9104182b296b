"""`PS1Client`: the public methods of every PS1 client, written once over a source.

A call walks one way, downward::

    PS1Client.get_lightcurves(target)
      -> astroquery_ps1tap.targets      what the user gave: objIDs, positions, names (resolved once)
      -> self.source (a Source)         TAP (ADQL through the one query path) or HATS (LSDB on Dask)
      -> astroquery_ps1tap.tables       canonical names, units, masks, types, order
      -> astroquery_ps1tap.lightcurves  lightkurve objects

`~astroquery_ps1tap.sources.tap.PanstarrsTapClass` and
`~astroquery_ps1tap.sources.hats.PanstarrsHatsClass` are this class with a source; what only one
source can do (raw ADQL, table listing) is on that class alone.
"""
import inspect
import warnings

import numpy as np
from astropy import units as u
from astroquery.exceptions import InvalidQueryError, NoResultsWarning

from . import schema, tables, targets
from .batch import BatchNotRun, PartialResultError, PartialResultWarning

__all__ = ["PS1Client", "NoMeasurementsError"]


class PS1Client:
    """The methods every PS1 DR2 client has, whatever its source.

    Subclasses provide the `source` property (a `~astroquery_ps1tap.sources.base.Source`).
    Options that only some sources understand (TAP: ``async_job``, ``maxrec``, ``cache``,
    ``chunk_size``, ``upload``, ``max_workers``, ``on_truncation``, ``get_query_payload``, ...)
    are passed on as keyword arguments; one the source does not have is refused, before any
    request, with a message naming the options it has.
    """

    @property
    def source(self):
        """The `~astroquery_ps1tap.sources.base.Source` queries go to."""
        raise NotImplementedError

    def _call(self, method, *args, **options):
        """Call ``source.method``, first refusing options it does not understand."""
        source = self.source
        function = getattr(source, method)
        parameters = inspect.signature(function).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            unknown = [name for name in options if name not in parameters]
            if unknown:
                reason = source.unsupported.get(unknown[0], "")
                accepted = [n for n, p in parameters.items()
                            if p.kind is p.KEYWORD_ONLY and n not in options]
                raise InvalidQueryError(
                    f"{unknown[0]!r} is not an option of the {source.name} source"
                    + (f" ({reason})" if reason else "")
                    + f"; its other options here are: {', '.join(accepted) or 'none'}")
        return function(*args, **options)

    # ---- objects -------------------------------------------------------------------------------
    def query_region(self, coordinates, radius, *, table="mean", columns=None, min_detections=2,
                     column_filters=None, top=None, **options):
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
            At most this many objects (which ones is up to the source).
        **options
            Options of the source (TAP: ``async_job``, ``maxrec``, ``cache``, ``on_truncation``,
            ``get_query_payload``; see `~astroquery_ps1tap.sources.tap.TapSource.cone`).

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
        ra, dec = targets.parse_position(coordinates)
        radius_deg = targets.parse_radius(radius)
        table = schema.resolve_table(table)
        columns = targets.parse_columns(columns)
        raw = self._call("cone", ra, dec, radius_deg, table=table, columns=columns,
                         min_detections=min_detections, column_filters=column_filters, top=top,
                         **options)
        if options.get("get_query_payload"):
            return raw
        served = schema.resolve_table(table, getattr(self.source, "schema", None))  # as queried
        return tables.add_separation(tables.shape(raw, served), ra, dec)

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
        coordinates = targets.resolve_name(object_name)
        return self.query_region(coordinates, radius, **kwargs)

    def match_positions(self, coordinates, radius=1 * u.arcsec, *, min_detections=2, **options):
        """The PS1 object nearest each of many positions, in as few requests as possible.

        Parameters
        ----------
        coordinates : `~astropy.coordinates.SkyCoord`
            The positions (any frame; an array).
        radius : `~astropy.units.Quantity`, str or float
            Match radius (default 1 arcsec).
        min_detections : int or None
            As for `query_region` (default 2).
        **options
            Options of the source (TAP: ``chunk_size``, ``upload``, ``cache``,
            ``get_query_payload``; see `~astroquery_ps1tap.sources.tap.TapSource.near`).

        Returns
        -------
        `~astropy.table.Table`
            One row per position, in input order: ``index``, ``objID`` (masked where nothing lies
            within the radius), ``raMean``, ``decMean``, ``nDetections``, ``separation`` (arcsec).
        """
        ra, dec = _positions(coordinates)
        radius_deg = targets.parse_radius(radius)
        raw = self._call("near", ra, dec, radius_deg, min_detections=min_detections, **options)
        if options.get("get_query_payload"):
            return raw
        return tables.nearest_matches(tables.shape(raw, "mean"), ra, dec, radius_deg)

    # ---- measurements --------------------------------------------------------------------------
    def get_detections(self, objid, *, photometry="detection", bands=None, min_qf=None, columns=None,
                       progress=None, on_error="raise", **options):
        """Every measurement of one object or many, in every filter.

        Many objIDs are fetched in batches (TAP) or partition by partition (HATS), with a progress
        bar; the result is the same as fetching the objects one by one.

        Parameters
        ----------
        objid : int, str, or sequence of them (list, array, Table column)
            PS1 objIDs (exact integers or decimal text; duplicates are fetched once).
        photometry : {"detection", "forced"}
            ``"detection"``: single-epoch detections (``Detection``); ``"forced"``: forced
            photometry on every warp (``ForcedWarpMeasurement``), which includes epochs where the
            object was not detected.  Both come back under the same column names (``psfFlux``,
            ``psfQfPerfect``, ``infoFlag``, ...).
        bands : str or list, optional
            Filters to fetch, e.g. ``"gri"``; default all five.
        min_qf : float, optional
            Quality cut ``psfQfPerfect >= min_qf`` applied at the source (the tutorial uses 0.9).
        columns : list of str, optional
            Columns of the measurement table (default: identifiers, time, fluxes, FWHM,
            ``psfQfPerfect`` and flags).  ``objID``, ``filterID``, ``obsTime`` are always included.
        progress : bool, optional
            Show a progress bar; default: when there is more than one batch.
        on_error : {"raise", "warn"}
            When some batches still fail after retries: raise
            `~astroquery_ps1tap.batch.PartialResultError` (its ``result`` holds what succeeded, its
            ``failed`` the objIDs to retry), or warn and return the partial table with
            ``meta["complete"] = False`` and ``meta["failed_objIDs"]``.
        **options
            Options of the source (TAP: ``chunk_size``, ``upload``, ``max_workers``,
            ``async_job``, ``cache``, ``on_truncation``, ``get_query_payload``; see
            `~astroquery_ps1tap.sources.tap.TapSource.measurements`).

        Returns
        -------
        `~astropy.table.Table`
            Canonical columns (see `astroquery_ps1tap.tables.shape_detections`): ``objID``,
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
        _refuse_own_options("get_detections", options, ("with_means", "warn_missing"))
        ids = targets.parse_objids(objid)
        targets.parse_bands(bands)
        return self._measurements(ids, photometry=photometry, bands=bands, min_qf=min_qf,
                                  columns=targets.parse_columns(columns), with_means=False, progress=progress,
                                  on_error=on_error, **options)

    def _measurements(self, ids, *, on_error, warn_missing=True, **request):
        """Canonical measurements of validated objIDs ``ids``, every failure accounted for."""
        if on_error not in ("raise", "warn"):
            raise ValueError(f"on_error must be 'raise' or 'warn', got {on_error!r}")
        fetched = self._call("measurements", ids, **request)
        if request.get("get_query_payload"):
            return fetched
        template = tables.empty_measurements(photometry=request["photometry"],
                                             columns=request["columns"],
                                             with_means=request["with_means"])
        detections = tables.merge_measurements(fetched.tables, fetched.done, template)
        if warn_missing:
            _warn_missing(detections, fetched.done, request)
        if fetched.failures:
            _report_failures(detections, fetched, on_error)
        return detections

    def get_lightcurves(self, target, *, radius=1 * u.arcsec, photometry="detection", bands=None,
                        min_qf=None, flux="psf", quality_bitmask="default", progress=None,
                        on_error="raise", **options):
        """Light curves as lightkurve objects: one `~lightkurve.LightCurve` per filter.

        Parameters
        ----------
        target : str, `~astropy.coordinates.SkyCoord`, tuple, int, or a sequence of objIDs/positions
            One target — a name (resolved with Sesame), a position (SkyCoord, string, or an
            ``(ra, dec)`` tuple in degrees), or a PS1 objID — or many: a list, array or Table
            column of objIDs, or a SkyCoord array of positions.  Many are fetched in batches
            (positions are first matched to objIDs with `match_positions`).
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
        **options
            Options of the source (TAP: ``cache``, ``on_truncation``, ``get_query_payload``;
            for objIDs also those of `get_detections`).  ``columns`` and ``with_means`` are
            not options here: light curves need their own columns and always fetch the means.

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
        _refuse_own_options("get_lightcurves", options, ("columns", "with_means", "warn_missing"))
        targets.check_lightcurve_options(flux, quality_bitmask)  # before anything is fetched
        targets.parse_bands(bands)
        request = dict(photometry=photometry, bands=bands, min_qf=min_qf, progress=progress,
                       on_error=on_error, **options)
        payload = options.get("get_query_payload")
        many = targets.many_targets(target)
        if many is not None:
            detections = self._many_measurements(many, radius, request)
            if payload:
                return detections
            from .lightcurves import to_lightcurves_by_object

            return to_lightcurves_by_object(detections, flux=flux, quality_bitmask=quality_bitmask)
        detections = self._target_measurements(target, radius, request)
        if payload:
            return detections
        from .lightcurves import to_lightcurves

        return to_lightcurves(detections, flux=flux, quality_bitmask=quality_bitmask)

    def _target_measurements(self, target, radius, request):
        """Canonical measurements, with means, of the one object a target names."""
        if targets.is_objid(target):
            ids = targets.parse_objids(target)
            position = None
            detections = self._measurements(ids, columns=None, with_means=True, warn_missing=False,
                                            **request)
        else:
            if isinstance(target, str) and not targets.looks_like_coordinates(target):
                target = targets.resolve_name(target)
            position = targets.parse_position(target)
            on_error = request.pop("on_error")
            fetched = self._call("cone_measurements", *position, targets.parse_radius(radius),
                                 **request)
            if request.get("get_query_payload"):
                return fetched
            template = tables.empty_measurements(photometry=request["photometry"], with_means=True)
            detections = tables.merge_measurements(fetched.tables, fetched.done, template)
            if fetched.failures:
                _report_failures(detections, fetched, on_error)
        if request.get("get_query_payload"):
            return detections
        if not len(detections):
            raise NoMeasurementsError(f"no PS1 {request['photometry']} measurements found for "
                                      f"{target!r}" + (f" within {radius}" if position else "")
                                      + _cuts(request))
        return detections if position is None else tables.nearest_object(detections, *position)

    def _many_measurements(self, many, radius, request):
        from astropy.coordinates import SkyCoord

        if isinstance(many, SkyCoord):
            match_options = {k: v for k, v in request.items()
                             if k not in ("photometry", "bands", "min_qf", "on_error")}
            matches = self.match_positions(many, radius, **match_options)
            if request.get("get_query_payload"):
                return matches
            found = ~np.ma.getmaskarray(matches["objID"])
            ids = targets.parse_objids(np.ma.getdata(matches["objID"])[found])
        else:
            ids = targets.parse_objids(many)
        return self._measurements(ids, columns=None, with_means=True, **request)


def _positions(coordinates):
    """ICRS (ra, dec) arrays in degrees of a SkyCoord array, checked finite."""
    from astropy.coordinates import SkyCoord

    if not isinstance(coordinates, SkyCoord) or coordinates.isscalar:
        raise InvalidQueryError("match_positions takes a SkyCoord array of positions; for one "
                                "position use query_region")
    icrs = coordinates.icrs
    ra, dec = np.asarray(icrs.ra.deg, dtype=float), np.asarray(icrs.dec.deg, dtype=float)
    if not (np.isfinite(ra).all() and np.isfinite(dec).all()):
        bad = int(np.flatnonzero(~(np.isfinite(ra) & np.isfinite(dec)))[0])
        raise InvalidQueryError(f"position {bad} is not finite: {coordinates[bad]!r}")
    return ra, dec


def _report_failures(detections, fetched, on_error):
    """Mark ``detections`` incomplete and raise or warn, naming exactly what failed."""
    failed = np.concatenate([batch for batch, _ in fetched.failures])
    errors = [error for _, error in fetched.failures]
    detections.meta["complete"] = False
    detections.meta["failed_objIDs"] = failed.tolist()
    total = len(fetched.done) + len(failed)
    if total == 1:
        message = f"objID {failed[0]} could not be fetched: {errors[0]}"
    else:
        tried = [error for error in errors if not isinstance(error, BatchNotRun)]
        not_run = len(errors) - len(tried)
        plural = "es" if fetched.n_batches > 1 else ""
        message = (f"{len(errors)} of {fetched.n_batches} batch{plural} failed ({len(failed)} of "
                   f"{total} objIDs")
        if tried:
            message += f"; first error, after retries: {tried[0]}"
        if not_run:
            message += f"; {not_run} of them: {next(e for e in errors if isinstance(e, BatchNotRun))}"
        message += ")."
        if len(fetched.done):
            message += (f" The result for the other {len(fetched.done)} objIDs is complete; fetch the "
                        "failed objIDs again with the same call")
        else:
            message += " Nothing was fetched; fetch them again with the same call"
    if on_error == "raise":
        raise PartialResultError(message + " (they are this error's .failed; what succeeded is its "
                                 ".result).", detections, failed.tolist(), errors)
    warnings.warn(message + " (they are listed in meta['failed_objIDs']).", PartialResultWarning)


#: Why a public method sets a source option itself (it cannot be passed to that method).
_OWN_OPTIONS = {
    "with_means": "get_lightcurves fetches each object's means with its measurements; "
                  "query_region and query_object give the means of objects",
    "columns": "light curves are built from their own columns; use get_detections(columns=...) "
               "for others",
}


def _refuse_own_options(method, options, own):
    """Refuse, before any request, a source option that ``method`` sets itself."""
    for name in own:
        if name in options:
            reason = _OWN_OPTIONS.get(name)
            raise InvalidQueryError(f"{name!r} is not an option of {method}"
                                    + (f": {reason}" if reason else ""))


def _warn_missing(detections, ids, request):
    """A `NoResultsWarning` naming the requested objIDs that have no measurements."""
    missing = detections.meta["missing_objIDs"]
    if missing:
        shown = ", ".join(str(i) for i in missing[:5]) + (" ..." if len(missing) > 5 else "")
        warnings.warn(f"{len(missing)} of {len(ids)} objIDs have no measurements{_cuts(request)}: "
                      f"{shown} (listed in meta['missing_objIDs'])", NoResultsWarning)


def _cuts(request):
    """The cuts that may have removed every measurement, for "no measurements" messages."""
    cuts = [f"{name}={request[name]!r}" for name in ("min_qf", "bands") if request.get(name) is not None]
    if not cuts:
        return ""
    return (f" that pass the cut{'s' if len(cuts) > 1 else ''} {' and '.join(cuts)} (without "
            f"{'them' if len(cuts) > 1 else 'it'}, there may be some)")


class NoMeasurementsError(InvalidQueryError):
    """The target was found (or is an objID) but has no measurements, or none that pass the cuts."""
