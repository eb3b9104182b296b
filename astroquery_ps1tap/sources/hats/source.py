"""`HatsSource`: PS1 DR2 from its HATS catalogs, as a `~astroquery_ps1tap.sources.base.Source`.

Each method reads what it needs through `~astroquery_ps1tap.sources.hats.catalogs.Catalogs`
(cones with ``ConeSearch``; objIDs through the positions they encode; positions through a MOC of
cones) and returns raw tables in the catalogs' column names, which are the TAP service's; the
shared `~astroquery_ps1tap.client.PS1Client` shapes them exactly as it shapes TAP answers.

Work runs partition by partition on Dask: on the ``client`` given (a `dask.distributed.Client`,
local or on a cluster), else on the distributed client active in the session, else on dask's
synchronous scheduler, with a progress bar.
"""
import numpy as np
from astroquery.exceptions import InvalidQueryError

from ... import schema
from ...batch import Batches
from ..base import Source
from .catalogs import CATALOGS, column_filters_of, detections_filter, measurement_filters

__all__ = ["HatsSource"]

#: objIDs per batch of a measurements request (each batch is one lsdb computation; a failed batch
#: is reported with its objIDs, the others are kept).
BATCH_SIZE = 20000

_TAP_ONLY = "TAP-only: it has no meaning for HATS catalogs, which are read directly"
#: Options of the TAP source that mean nothing here, and why.
UNSUPPORTED = {name: _TAP_ONLY for name in (
    "async_job", "maxrec", "cache", "on_truncation", "chunk_size", "upload", "max_workers",
    "deadline", "get_query_payload")}
UNSUPPORTED["get_query_payload"] = ("TAP-only: there is no query text to return; HATS catalogs "
                                    "are read directly")
UNSUPPORTED["cache"] = "TAP-only: HATS catalogs are read directly, nothing is cached"


class HatsSource(Source):
    """PS1 DR2 from the HATS catalogs under one root.

    Parameters
    ----------
    catalogs : `~astroquery_ps1tap.sources.hats.catalogs.Catalogs`
        The catalogs (their root path).
    client : `dask.distributed.Client`, optional
        Where to run; default: the active distributed client if any, else the synchronous
        scheduler.
    """

    name = "HATS"
    unsupported = UNSUPPORTED

    def __init__(self, catalogs, client=None):
        self.catalogs = catalogs
        self.client = client

    def describe(self):
        return f"the HATS catalogs at {self.catalogs.root}"

    def _client(self, client):
        return self.client if client is None else client

    # ---- the Source interface ------------------------------------------------------------------
    def cone(self, ra, dec, radius_deg, *, table="mean", columns=None, min_detections=2,
             column_filters=None, top=None, progress=None, client=None):
        """Objects in a cone: the partitions the cone touches, rows within it.

        Parameters
        ----------
        progress : bool, optional
            Show a progress bar (default: when more than one partition is read).
        client : `dask.distributed.Client`, optional
            Run on this client (default: the source's, else the active one, else synchronous).
        """
        table = schema.resolve_table(table)
        name = _catalog_of(table)
        if columns is None:
            columns = [c for c in schema.MEAN_SELECT if schema.find_column(table, c)]
        names = [schema.resolve_column(table, c) for c in columns]
        if len(set(names)) != len(names):
            raise InvalidQueryError(f"columns listed twice: {list(columns)!r}")
        names += [c for c in ("objID", "raMean", "decMean") if c not in names]
        filters = (detections_filter(table, min_detections)
                   + column_filters_of(table, column_filters))
        if top is not None and (isinstance(top, bool) or not isinstance(top, (int, np.integer))
                                or top <= 0):
            raise InvalidQueryError(f"top must be a positive integer, got {top!r}")
        found = self.catalogs.cone(name, ra, dec, radius_deg, columns=names, filters=filters,
                                   client=self._client(client), progress=progress)
        if top is not None and len(found) > top:
            found = found[np.argsort(found["objID"].data, kind="stable")[:top]]
        return found

    def measurements(self, ids, *, photometry="detection", bands=None, min_qf=None, columns=None,
                     with_means=False, progress=None, client=None):
        """Measurements of objIDs: the partitions near the positions the objIDs encode, filtered
        on objID, in batches of `BATCH_SIZE` objIDs.

        Parameters
        ----------
        client : `dask.distributed.Client`, optional
            Run on this client (default: the source's, else the active one, else synchronous).
        """
        table = _measurement_table(photometry)
        default = schema.DETECTION_SELECT
        names = schema.with_measurement_keys([schema.resolve_column(table, c)
                                              for c in (columns or default)])
        if len(set(names)) != len(names):
            raise InvalidQueryError(f"columns listed twice: {list(columns)!r}")
        filters = measurement_filters(bands, min_qf)
        ids = np.asarray(ids, dtype=np.int64)
        batches = [ids[i:i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]
        tables, done, failures = [], [], []
        for batch in batches:
            try:
                tables.append(self._measurements(batch, names, filters, with_means,
                                                 self._client(client), progress))
                done.append(batch)
            except (OSError, RuntimeError, ValueError) as error:
                if len(batches) == 1:
                    raise
                failures.append((batch, error))
        return Batches(tables, np.concatenate(done) if done else ids[:0], failures, len(batches))

    def _measurements(self, ids, names, filters, with_means, client, progress):
        rows = self.catalogs.rows_of("detection", ids, columns=names, filters=filters,
                                     client=client, progress=progress)
        if not with_means:
            return rows
        means = self.catalogs.rows_of("otmo", np.unique(rows["objID"].data),
                                      columns=["objID", *schema.LIGHTCURVE_MEAN_SELECT],
                                      client=client, progress=progress)
        # an inner join, as the TAP source's JOIN dbo.MeanObjectView
        order = np.argsort(means["objID"].data)
        at = np.searchsorted(means["objID"].data, rows["objID"].data, sorter=order)
        at = order[np.minimum(at, max(len(order) - 1, 0))] if len(order) else at
        keep = (means["objID"].data[at] == rows["objID"].data) if len(order) else \
            np.zeros(len(rows), bool)
        rows = rows[keep]
        for name in schema.LIGHTCURVE_MEAN_SELECT:
            rows[name] = means[name][at[keep]]
        return rows

    def near(self, ra, dec, radius_deg, *, min_detections=2, progress=None, client=None):
        """Candidate objects near many positions: the otmo partitions their cones touch.

        Parameters
        ----------
        client : `dask.distributed.Client`, optional
            Run on this client (default: the source's, else the active one, else synchronous).
        """
        detections_filter("mean", min_detections)        # checked before anything is read
        return self.catalogs.near(np.asarray(ra, dtype=float), np.asarray(dec, dtype=float),
                                  radius_deg, min_detections=min_detections,
                                  client=self._client(client), progress=progress)

    def cone_measurements(self, ra, dec, radius_deg, *, photometry="detection", bands=None,
                          min_qf=None, min_detections=2, progress=None, client=None):
        """Measurements with means of the objects in a small cone (objects first, then theirs)."""
        _measurement_table(photometry)
        return super().cone_measurements(ra, dec, radius_deg, photometry=photometry, bands=bands,
                                         min_qf=min_qf, min_detections=min_detections,
                                         progress=progress, client=client)


def _catalog_of(table):
    """The HATS catalog holding a TAP object table's columns, or a clear error."""
    for name, served in CATALOGS.items():
        if served == table:
            return name
    have = ", ".join(f"{name} ({served})" for name, served in CATALOGS.items())
    raise InvalidQueryError(f"{table} is not among PS1's HATS catalogs ({have}); query it "
                            "through the TAP source (PanstarrsTap)")


def _measurement_table(photometry):
    if photometry == "forced":
        raise InvalidQueryError("forced photometry (dbo.ForcedWarpMeasurement) is not among PS1's "
                                "HATS catalogs; use photometry='detection', or the TAP source "
                                "(PanstarrsTap) for forced photometry")
    if photometry != "detection":
        raise InvalidQueryError(f"photometry must be 'detection' or 'forced', got {photometry!r}")
    return schema.PHOTOMETRY_TABLES["detection"]
