"""`TapSource`: PS1 DR2 at a TAP service, as a `~astroquery_ps1tap.sources.base.Source`.

Each method builds ADQL with the pure builders of `astroquery_ps1tap.sources.tap.adql` and sends it
through `TapSource.run`, the one place TAP queries leave from (which hands them to
`~astroquery_ps1tap.sources.tap.service.TapService`: retries, deadline, cache, sync or async).
Answers go back as the service sent them; `astroquery_ps1tap.client.PS1Client` shapes them.

The ADQL is written for the PS1 schema the service has (``dbo`` or ``ps1_dr2``), learnt from its
``TAP_SCHEMA`` with one query (`TapSource.metadata`) unless chosen explicitly, and every query is
checked against the tables and columns the service publishes before it is sent.
"""
import re
import threading

import numpy as np
from astropy.table import Table, vstack
from astroquery.exceptions import InvalidQueryError

from ... import conf
from ... import schema as ps1
from ...batch import Batches, run_batches, run_id_batches
from ..base import Source
from . import adql
from .metadata import ServiceMetadata, references
from .service import count_option, seconds_option, truncation_report, warn_or_raise_truncated

__all__ = ["TapSource"]

#: Objects per square degree assumed when guessing the size of a cone's answer (PS1 is denser in
#: the Galactic plane; this only decides between a sync request and an async job).
_OBJECTS_PER_SQ_DEG = 60000
#: Measurements per object assumed when guessing the size of a detections answer.
_DETECTIONS_PER_OBJECT = 100

_TOP = re.compile(r"^\s*SELECT\s+(?:ALL\s+|DISTINCT\s+)?TOP\s+(\d+)", re.IGNORECASE)


def positive(value, what):
    """``value`` as an int if it is a positive integer, else a `ValueError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def check_on_truncation(value):
    """Refuse an ``on_truncation`` other than ``"warn"`` or ``"raise"``."""
    if value not in ("warn", "raise"):
        raise ValueError(f"on_truncation must be 'warn' or 'raise', got {value!r}")


class TapSource(Source):
    """PS1 DR2 through one TAP service.

    Parameters
    ----------
    service : `~astroquery_ps1tap.sources.tap.service.TapService`
        The service (its URL, HTTP session, cache).
    deadline : float or None
        Seconds allowed for one whole query (default ``conf.deadline``).
    schema : {"dbo", "ps1_dr2"} or None
        The PS1 schema to query; None: the one the service has (``dbo`` where it has both).
    """

    name = "TAP"

    def __init__(self, service, deadline=None, schema=None):
        self.service = service
        self.deadline = deadline
        self.requested_schema = None if schema is None else ps1.parse_schema(schema)
        self._metadata = None
        self._metadata_lock = threading.Lock()

    def describe(self):
        return f"the TAP service at {self.service.url}"

    # ---- what the service publishes --------------------------------------------------------
    def metadata(self, cache=True):
        """The service's PS1 schemas, tables and columns (`ServiceMetadata`): one ``TAP_SCHEMA``
        query, asked once per source (and kept in the on-disk cache like any answer)."""
        with self._metadata_lock:
            if self._metadata is None:
                # not cut by a row limit lowered for data queries (MAST's dbo has 5,535 columns)
                maxrec = max(conf.row_limit, type(conf).row_limit.defaultvalue)
                answer = self.run(adql.metadata_query(), maxrec=maxrec, cache=cache)
                warn_or_raise_truncated(answer, what="the service's TAP_SCHEMA", on_truncation="raise",
                                        advice="Choose the schema with schema=... .")
                self._metadata = ServiceMetadata(answer.table, self.service.url)
            return self._metadata

    @property
    def schema(self):
        """The PS1 schema queries are written for: the one asked for, else the service's
        (``dbo`` where it has both; learning it takes one query)."""
        if self.requested_schema is not None:
            return self.requested_schema
        return self.metadata().choose()

    def _refuse_bad_input(self, build):
        """Refuse input no schema accepts before the query that learns the schema is sent.

        ``build(schema)`` builds the query (pure); once the schema is known it is built for it.
        """
        if self.requested_schema is not None or self._metadata is not None:
            return
        errors = []
        for schema in ps1.SCHEMAS:
            try:
                build(schema)
                return
            except (InvalidQueryError, ValueError) as exc:
                errors.append(exc)
        raise errors[0]

    def _check(self, query):
        """Refuse ``query`` (built here) if it needs a table or column the service lacks."""
        metadata = self.metadata()
        metadata.choose(self.requested_schema)  # the schema asked for must be there
        metadata.require(references(query))
        return query

    # ---- the one place queries are sent from ---------------------------------------------------
    def run(self, query, *, maxrec=None, async_job=None, expected_rows=None, cache=True,
            uploads=None, deadline=None):
        """Send ``query``; return the service's `~astroquery_ps1tap.sources.tap.service.QueryResult`.

        ``async_job=None`` chooses an async job when ``expected_rows`` exceeds
        ``conf.sync_max_rows``.  A result with as many rows as ``maxrec`` is marked truncated even
        when the service did not say so (unless the query's own ``TOP`` explains it).
        """
        maxrec = count_option(maxrec, "row_limit", "maxrec")
        sync_max_rows = count_option(None, "sync_max_rows", "")
        if async_job is None:
            async_job = expected_rows is not None and expected_rows > sync_max_rows
        deadline = seconds_option(deadline, "deadline", default=self.deadline)
        result = self.service.run(query, maxrec=maxrec, async_job=bool(async_job), deadline=deadline,
                                  cache=cache, uploads=uploads)
        top = _TOP.match(query)
        if not result.overflow and len(result.table) >= maxrec and not (top and int(top.group(1)) <= maxrec):
            result.overflow = True  # a service that cut at MAXREC without saying so
        return result

    # ---- the Source interface ------------------------------------------------------------------
    def cone(self, ra, dec, radius_deg, *, table="mean", columns=None, min_detections=2,
             column_filters=None, top=None, async_job=None, maxrec=None, cache=True,
             on_truncation="warn", get_query_payload=False):
        """Objects in a cone: one query.

        Parameters
        ----------
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
        """
        check_on_truncation(on_truncation)

        def build(schema):
            return adql.cone_query(ra, dec, radius_deg, table=table, columns=columns,
                                   min_detections=min_detections, column_filters=column_filters,
                                   top=top, schema=schema)

        self._refuse_bad_input(build)
        query = build(self.schema)
        if get_query_payload:
            return query
        self._check(query)
        expected = np.pi * radius_deg**2 * _OBJECTS_PER_SQ_DEG
        result = self.run(query, maxrec=maxrec, async_job=async_job, expected_rows=expected,
                          cache=cache)
        warn_or_raise_truncated(result, what="query_region", on_truncation=on_truncation,
                                advice="Use a smaller radius, column_filters or min_detections, "
                                       "or tile the region into smaller cones.")
        return result.table

    def measurements(self, ids, *, photometry="detection", bands=None, min_qf=None, columns=None,
                     with_means=False, progress=None, chunk_size=None, upload=None, max_workers=None,
                     async_job=None, cache=True, on_truncation="warn", get_query_payload=False):
        """Measurements of objIDs, in batches run a few at a time.

        Parameters
        ----------
        chunk_size : int, optional
            Most objIDs per query when they are listed in the ADQL (default
            ``conf.objid_chunk_size``).
        upload : bool, optional
            Send long lists as an uploaded table (``TAP_UPLOAD``) in batches of
            ``conf.upload_chunk_size``.  Default: when the list is longer than one chunk and the
            service declares an upload method (asked once); MAST's PS1 service declares none.
        max_workers : int, optional
            Batches run at once (default ``conf.max_workers``).
        async_job : bool, optional
            Force async jobs or sync requests; default chosen from the expected size.
        cache : bool
            Use the on-disk cache.
        on_truncation : {"warn", "raise"}
            Batches cut at the row limit are split and fetched again automatically; only a single
            object with more rows than the limit can remain truncated, and is then reported.
        get_query_payload : bool
            Return the ADQL (a list of queries when there is more than one batch).
        """
        check_on_truncation(on_truncation)
        # settings are checked before any request (and 0 is refused, never taken for "default")
        chunk_size = count_option(chunk_size, "objid_chunk_size", "chunk_size")
        max_workers = count_option(max_workers, "max_workers", "max_workers")
        count_option(None, "upload_chunk_size", "")
        deadline = seconds_option(None, "deadline", default=self.deadline)
        options = dict(photometry=photometry, columns=columns, bands=bands, min_qf=min_qf,
                       with_means=with_means)
        self._refuse_bad_input(lambda schema: adql.detections_query(ids[:1], schema=schema, **options))
        options["schema"] = self.schema
        first = adql.detections_query(ids[:1], **options)  # every option is checked before any request
        if not get_query_payload:
            self._check(first)
        if upload is None:
            upload = len(ids) > chunk_size and not get_query_payload and self.service.upload_supported()
        size = positive(conf.upload_chunk_size, "conf.upload_chunk_size") if upload else chunk_size
        if get_query_payload:
            queries = [adql.detections_query(None if upload else ids[i:i + size],
                                             upload="ids" if upload else None, **options)
                       for i in range(0, len(ids), size)]
            return queries[0] if len(queries) == 1 else queries

        def fetch(batch):
            return self._fetch_batch(batch, upload=bool(upload), async_job=async_job, cache=cache,
                                     on_truncation=on_truncation, **options)

        return run_id_batches(ids, size, fetch, max_workers=max_workers, progress=progress,
                              description=f"PS1 {photometry}s", deadline=deadline)

    def _fetch_batch(self, ids, *, upload, async_job, cache, on_truncation, **options):
        """Fetch one batch; a batch cut at the row limit is halved and fetched again."""
        if upload:
            query = adql.detections_query(None, upload="ids", **options)
            uploads = {"ids": Table({"objID": np.asarray(ids, dtype=np.int64)})}
        else:
            query, uploads = adql.detections_query(ids, **options), None
        result = self.run(query, async_job=async_job, cache=cache, uploads=uploads,
                          expected_rows=len(ids) * _DETECTIONS_PER_OBJECT)
        if result.overflow and len(ids) > 1:
            half = len(ids) // 2
            return [table for part in (ids[:half], ids[half:])
                    for table in self._fetch_batch(part, upload=upload, async_job=async_job, cache=cache,
                                                   on_truncation=on_truncation, **options)]
        warn_or_raise_truncated(result, on_truncation=on_truncation,
                                **truncation_report(ids[0], options.get("photometry"),
                                                    options.get("bands"), options.get("min_qf")))
        return [result.table]

    def cone_measurements(self, ra, dec, radius_deg, *, photometry="detection", bands=None,
                          min_qf=None, min_detections=2, progress=None, cache=True,
                          on_truncation="warn", get_query_payload=False):
        """Measurements with means of the objects in a small cone: one joined query.

        ``on_truncation`` (``"warn"`` or ``"raise"``) says what a cut at the row limit does.
        """
        check_on_truncation(on_truncation)

        def build(schema):
            return adql.lightcurve_query(ra, dec, radius_deg, photometry=photometry, bands=bands,
                                         min_qf=min_qf, min_detections=min_detections, schema=schema)

        self._refuse_bad_input(build)
        query = build(self.schema)
        if get_query_payload:
            return query
        self._check(query)
        result = self.run(query, cache=cache, expected_rows=_DETECTIONS_PER_OBJECT)
        warn_or_raise_truncated(result, what="get_lightcurves", advice="Use a smaller radius.",
                                on_truncation=on_truncation)
        names = {n.lower(): n for n in result.table.colnames}
        done = np.unique(np.asarray(np.ma.getdata(result.table[names["objid"]]), dtype=np.int64))
        return Batches([result.table], done, [])

    def near(self, ra, dec, radius_deg, *, min_detections=2, progress=None, chunk_size=None,
             upload=None, cache=True, get_query_payload=False):
        """Candidate objects near many positions, in as few queries as possible.

        Where the service accepts table uploads, the positions go up as a table and are matched
        on the server (``conf.upload_chunk_size`` positions per query); elsewhere (MAST declares
        no upload method) each query holds ``chunk_size`` OR-ed cones.

        Parameters
        ----------
        chunk_size : int, optional
            Cones per query without uploads (default 100).
        upload : bool, optional
            Force or forbid the upload path; default: where the service declares uploads.
        cache : bool
            Use the on-disk cache.
        get_query_payload : bool
            Return the ADQL instead.
        """
        chunk_size = 100 if chunk_size is None else count_option(chunk_size, "", "chunk_size")
        upload_size = count_option(None, "upload_chunk_size", "")
        max_workers = count_option(None, "max_workers", "")
        deadline = seconds_option(None, "deadline", default=self.deadline)
        if upload is None:
            upload = len(ra) > 1 and not get_query_payload and self.service.upload_supported()
        size = upload_size if upload else chunk_size
        starts = list(range(0, len(ra), size))

        def build(schema):
            return [adql.match_query(None if upload else (ra[i:i + size], dec[i:i + size]), radius_deg,
                                     upload="positions" if upload else None,
                                     min_detections=min_detections, schema=schema) for i in starts]

        self._refuse_bad_input(build)
        queries = build(self.schema)
        if get_query_payload:
            return queries[0] if len(queries) == 1 else queries
        self._check(queries[0])

        def fetch(start):
            uploads = None
            if upload:
                stop = min(start + size, len(ra))
                uploads = {"positions": Table({"idx": np.arange(start, stop), "ra": ra[start:stop],
                                               "dec": dec[start:stop]})}
            result = self.run(queries[start // size], cache=cache, uploads=uploads,
                              expected_rows=size * 2)
            warn_or_raise_truncated(result, what="match_positions", advice="Use a smaller radius.")
            return result.table

        answers, failures = run_batches(starts, fetch, max_workers=max_workers, progress=progress,
                                        description="PS1 position matches", deadline=deadline)
        if failures:
            raise failures[0][1]
        found = [t for t in answers if len(t)]
        if not found:
            return answers[0]
        return vstack(found, metadata_conflicts="silent") if len(found) > 1 else found[0]
