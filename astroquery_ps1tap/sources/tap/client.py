"""`PanstarrsTapClass`: Pan-STARRS1 DR2 at MAST's TAP service, astroquery style.

The methods every client has (`query_region`, `get_detections`, `get_lightcurves`, ...) come from
`astroquery_ps1tap.client.PS1Client` over a `~astroquery_ps1tap.sources.tap.TapSource`; this
class adds what only a TAP service offers: raw ADQL (`query_tap`), table and column listing, and
the cache of answers.
"""
import os
from pathlib import Path

import numpy as np
from astropy.table import Table
from astroquery.exceptions import InvalidQueryError
from astroquery.query import BaseQuery, BaseVOQuery

from ... import conf
from ... import schema as _schema
from ...client import PS1Client
from . import adql
from .service import (ResultCache, RetryingSession, TapService, check_server, check_settings,
                      warn_or_raise_truncated)
from .source import TapSource, check_on_truncation

__all__ = ["PanstarrsTapClass", "PanstarrsTap"]


class PanstarrsTapClass(PS1Client, BaseVOQuery, BaseQuery):
    """Query Pan-STARRS1 DR2 through an IVOA TAP service (MAST's by default).

    Parameters
    ----------
    server : str, optional
        TAP base URL, or the name of one of MAST's PS1 services (``"ps1dr2"``, the legacy one, or
        ``"mast_catalogs"``, the newer one; `astroquery_ps1tap.schema.MAST_SERVICES`).  Default: the
        ``PS1TAP_SERVER`` environment variable if set, else ``conf.server`` (MAST's ``ps1dr2``).
    schema : {"dbo", "ps1_dr2"}, optional
        The PS1 schema to query: ``"dbo"`` (MAST's legacy service) or ``"ps1_dr2"`` (its newer
        one).  Default: ``conf.schema``, whose default ``"auto"`` takes the one the service has,
        learnt from its ``TAP_SCHEMA`` with one query (``dbo`` where it has both).
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

    def __init__(self, server=None, *, schema=None, timeout=None, retries=None, deadline=None):
        check_settings(timeout=timeout, retries=retries, deadline=deadline)  # before any request
        super().__init__()
        self._server = server
        self._schema = None if schema is None else _schema.parse_schema(schema)
        self._timeout = timeout
        self._retries = retries
        self._deadline = deadline
        user_agent = self._session.headers["User-Agent"]
        self._session = RetryingSession()
        self._session.headers["User-Agent"] = f"astroquery_ps1tap {user_agent}"
        self._sources = {}

    # ---- configuration ------------------------------------------------------------------------
    @property
    def server(self):
        """The TAP base URL in use (explicit > ``PS1TAP_SERVER`` > ``conf.server``); names of
        MAST's services (``"mast_catalogs"``) stand for their URLs."""
        server = (self._server or os.environ.get("PS1TAP_SERVER") or conf.server).strip()
        return _schema.MAST_SERVICES.get(server.lower(), server).rstrip("/")

    @property
    def schema(self):
        """The PS1 schema queried (``"dbo"`` or ``"ps1_dr2"``): the one asked for (``schema=``,
        else ``conf.schema``), else the one the service has (one ``TAP_SCHEMA`` query, then
        remembered)."""
        return self.source.schema

    @property
    def source(self):
        """The `~astroquery_ps1tap.sources.tap.TapSource` for `server` (timeouts, retries, cache)."""
        self._session.timeout, self._session.retries, _ = _settings(self._timeout, self._retries)
        url = check_server(self.server)
        requested = self._schema or (None if conf.schema == "auto" else _schema.parse_schema(conf.schema))
        if (url, requested) not in self._sources:
            service = TapService(url, self._session, ResultCache(self.cache_location))
            self._sources[url, requested] = TapSource(service, deadline=self._deadline, schema=requested)
        return self._sources[url, requested]

    @property
    def service(self):
        """The `~astroquery_ps1tap.sources.tap.service.TapService` for `server`."""
        return self.source.service

    def clear_cache(self):
        """Remove every cached answer of the cache location in use (`cache_location`)."""
        ResultCache(self.cache_location).clear()

    # ---- the answer cache: a location that cannot be used means "not cached", never a failure --
    @property
    def cache_location(self):
        """Where answers are cached: astroquery's cache directory for this class unless set.

        It is created when the first answer is written; one that cannot be created or written
        only means answers are not cached (one `~astroquery_ps1tap.sources.tap.service.CacheWarning`).
        Setting it moves the cache of every query from then on.
        """
        if self._cache_location is not None:
            return self._cache_location
        from astropy.config import paths

        return Path(paths.get_cache_dir(), "astroquery", self.name)

    @cache_location.setter
    def cache_location(self, location):
        self._cache_location = None if location is None else Path(location)
        for source in getattr(self, "_sources", {}).values():
            source.service.cache = ResultCache(self.cache_location)

    def reset_cache_location(self):
        """Go back to astroquery's cache directory for this class."""
        self.cache_location = None

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
        check_on_truncation(on_truncation)
        if get_query_payload:
            return query
        result = self.source.run(query, maxrec=maxrec, async_job=async_job, cache=cache, uploads=uploads,
                           deadline=deadline)
        warn_or_raise_truncated(result, what="query_tap", on_truncation=on_truncation,
                                advice=_query_tap_advice(result.row_limit))
        return result.table

    # ---- metadata ------------------------------------------------------------------------------
    def list_tables(self, *, cache=True, get_query_payload=False):
        """The PS1 tables the service publishes in the schema queried, from its ``TAP_SCHEMA``.

        The service's tables and columns are fetched with one query, once, and kept with the
        rest of what the client knows about the service (also in the on-disk cache).

        Parameters
        ----------
        cache : bool
            Use the on-disk cache.
        get_query_payload : bool
            Return the ADQL instead of running it.

        Returns
        -------
        `~astropy.table.Table`
            ``table_name`` (``dbo.MeanObjectView``, ... or ``ps1_dr2.mean_object``, ...) and
            ``description``.
        """
        if get_query_payload:
            return adql.metadata_query()
        source = self.source
        metadata = source.metadata(cache=cache)
        schema = metadata.choose(source.requested_schema)
        entries = [e for key, e in metadata.tables.items() if key.split(".", 1)[0] == schema]
        names = [_canonical_table(e["name"], schema) for e in entries]
        out = Table({"table_name": np.array(names, dtype=str),
                     "description": np.array([e["description"] for e in entries], dtype=str)})
        out.sort("table_name")
        return out

    def list_columns(self, table, *, cache=True, get_query_payload=False):
        """Columns of a table: canonical name, datatype, unit (from the PS1 schema), description.

        Parameters
        ----------
        table : str
            A table name or alias (``"mean"``, ``"dbo.Detection"``, ``"Detection"``,
            ``"ps1_dr2.mean_object"``), taken to its equivalent in the schema queried.
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
        _schema.resolve_table(table)  # an unknown name is refused before anything is sent
        if get_query_payload:
            return adql.metadata_query()
        source = self.source
        metadata = source.metadata(cache=cache)
        table = _schema.resolve_table(table, metadata.choose(source.requested_schema))
        served = metadata.table(table)["columns"].values()
        names, units = [], []
        for name, _, unit, _ in served:
            known = _schema.find_column(table, name)
            names.append(known.name if known else name)
            units.append(known.unit if known else unit)
        return Table({"name": np.array(names, dtype=str),
                      "datatype": np.array([c[1] for c in served], dtype=str),
                      "unit": np.array(units, dtype=str),
                      "description": np.array([c[3] for c in served], dtype=str)})


def _query_tap_advice(row_limit):
    """What to do about a truncated ``query_tap`` result: ask for more rows if the limit was the
    caller's own, else narrow or split the query."""
    if row_limit < conf.row_limit:
        return (f"Ask for more rows with maxrec= (this call asked for {row_limit}; the default is "
                f"conf.row_limit = {conf.row_limit}), or add TOP to say how many you want.")
    return "Narrow the query (or add TOP), or split it into parts."


def _settings(timeout, retries):
    """The session's timeout and retries: the client's, else ``conf``'s, checked either way."""
    if timeout is None:
        timeout = check_settings(timeout=conf.timeout, where="conf.")[0]
    if retries is None:
        retries = check_settings(retries=conf.retries, where="conf.")[1]
    return float(timeout), int(retries), None


def _canonical_table(name, schema):
    """A served table name in the PS1 schema's spelling where the schema knows it."""
    qualified = name if "." in name else f"{schema}.{name}"
    try:
        return _schema.resolve_table(qualified)
    except InvalidQueryError:
        return qualified


PanstarrsTap = PanstarrsTapClass()
