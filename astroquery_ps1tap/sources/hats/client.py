"""`PanstarrsHatsClass`: Pan-STARRS1 DR2 from its HATS catalogs, with the TAP client's methods.

The methods (`query_region`, `query_object`, `get_detections`, `get_lightcurves`,
`match_positions`) come from `astroquery_ps1tap.client.PS1Client` over a
`~astroquery_ps1tap.sources.hats.HatsSource`, so their results are the TAP client's, column for
column; going from one star to a million is a change of client object, and from a laptop to a
cluster a Dask ``Client``.
"""
from ...client import PS1Client
from .catalogs import Catalogs, root_path
from .source import HatsSource

__all__ = ["PanstarrsHatsClass", "PanstarrsHats"]


class PanstarrsHatsClass(PS1Client):
    """Query Pan-STARRS1 DR2 from its HATS catalogs with LSDB (``pip install "astroquery_ps1tap[hats]"``).

    Parameters
    ----------
    path : str or path-like, optional
        The root holding the catalogs ``otmo``, ``detection`` (and ``forced_mean_object``).
        Default: the ``PS1HATS_PATH`` environment variable if set, else ``conf.hats_path``
        (STScI's public copy, ``s3://stpubdata/panstarrs/ps1/public/hats``, read anonymously).
    client : `dask.distributed.Client`, optional
        Run the work on this Dask client (a ``LocalCluster`` or a real cluster).  Default: the
        distributed client active in the session, if any, else dask's synchronous scheduler.
        Each method also takes ``client=`` for one call.

    Examples
    --------
    >>> from astroquery_ps1tap.sources.hats import PanstarrsHatsClass
    >>> PanstarrsHatsClass("/data/ps1/hats").path
    '/data/ps1/hats'

    The methods are those of `~astroquery_ps1tap.sources.tap.PanstarrsTapClass`; options that
    only a TAP service has are refused with a message saying so:

    >>> PanstarrsHatsClass("/data/ps1/hats").get_detections(190361393344112894, async_job=True)
    Traceback (most recent call last):
    ...
    astroquery.exceptions.InvalidQueryError: 'async_job' is not an option of the HATS source (TAP-only: ...
    """

    def __init__(self, path=None, *, client=None):
        self._path = path
        self._client = client
        self._sources = {}

    @property
    def path(self):
        """The root of the catalogs in use (explicit > ``PS1HATS_PATH`` > ``conf.hats_path``)."""
        return root_path(self._path)

    @property
    def source(self):
        """The `~astroquery_ps1tap.sources.hats.HatsSource` for `path`."""
        path = self.path
        if path not in self._sources:
            self._sources[path] = HatsSource(Catalogs(path), client=self._client)
        return self._sources[path]


PanstarrsHats = PanstarrsHatsClass()
