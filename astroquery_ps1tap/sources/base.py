"""The small interface every PS1 data source implements.

A source answers four questions, on validated inputs (ICRS degrees as floats or float arrays,
objIDs as an int64 array), and returns tables *as the source holds them* (the service's column
names, in any letter case).  Everything else — reading targets, resolving names, shaping into
canonical tables, choosing the nearest object, reporting missing objects and failed batches,
light curves — is written once, in `astroquery_ps1tap.client.PS1Client`, and shared by every
source.

Options a source understands beyond these (TAP: ``async_job``, ``maxrec``, ``cache``, ...; HATS:
``client``, ...) are keyword arguments of its methods; `PS1Client` refuses an option the source
does not have with a message naming the source and the options it has.
"""
import abc

import numpy as np

__all__ = ["Source"]


class Source(abc.ABC):
    """What a PS1 DR2 source can do.  Subclasses: `~astroquery_ps1tap.sources.tap.TapSource`,
    `~astroquery_ps1tap.sources.hats.HatsSource`."""

    #: Short name used in messages (``"TAP"``, ``"HATS"``).
    name = "source"

    #: Options of the shared client's methods that only some sources support, with the reason
    #: the others give when one is passed to them (filled by each source).
    unsupported = {}

    def describe(self):
        """Where the data come from, for messages (a URL or a path)."""
        return self.name

    @abc.abstractmethod
    def cone(self, ra, dec, radius_deg, *, table="mean", columns=None, min_detections=2,
             column_filters=None, top=None):
        """Objects of an object table (``"mean"``, ``"stack"``, ...) within ``radius_deg`` of
        (``ra``, ``dec``): a table with at least ``objID``, ``raMean``, ``decMean``."""

    @abc.abstractmethod
    def measurements(self, ids, *, photometry="detection", bands=None, min_qf=None, columns=None,
                     with_means=False, progress=None):
        """Every measurement of the objects ``ids``, with their mean position, ``nDetections``
        and mean magnitudes when ``with_means``: a `~astroquery_ps1tap.batch.Batches`."""

    @abc.abstractmethod
    def near(self, ra, dec, radius_deg, *, min_detections=2, progress=None):
        """``objID, raMean, decMean, nDetections`` of every object within ``radius_deg`` of any of
        the positions (arrays): the candidates from which the nearest per position is chosen."""

    def cone_measurements(self, ra, dec, radius_deg, *, photometry="detection", bands=None,
                          min_qf=None, min_detections=2, **options):
        """Measurements, with means, of the objects within ``radius_deg`` of one position.

        The default asks `cone` for the objects, then `measurements` for them; a source that can
        do both at once (TAP: one joined query) overrides it.  Returns a
        `~astroquery_ps1tap.batch.Batches`.
        """
        from ..batch import Batches

        objects = self.cone(ra, dec, radius_deg, columns=["objID"], min_detections=min_detections,
                            **options)
        names = {n.lower(): n for n in objects.colnames}
        ids = np.unique(np.asarray(np.ma.getdata(objects[names["objid"]]), dtype=np.int64))
        if not len(ids):
            return Batches([], ids, [])
        return self.measurements(ids, photometry=photometry, bands=bands, min_qf=min_qf,
                                 with_means=True, **options)
