"""Pan-STARRS1 DR2 through MAST's TAP service, astroquery style.

>>> from astroquery_ps1tap import PanstarrsTap, PanstarrsTapClass, conf

``PanstarrsTap`` is a ready client for ``conf.server`` (or the ``PS1TAP_SERVER`` environment
variable); ``PanstarrsTapClass(server=...)`` makes one for another service.  Light-curve adapters,
plots and period search live in `astroquery_ps1tap.lightcurves`, `astroquery_ps1tap.plots` and
`astroquery_ps1tap.periods`; they import lightkurve and matplotlib only when used.
"""
from astropy import config as _config

__version__ = "0.1.0"


class Conf(_config.ConfigNamespace):
    """Configuration parameters for `astroquery_ps1tap`."""

    server = _config.ConfigItem(
        "https://mast.stsci.edu/vo-tap/api/v0.1/ps1dr2",
        "Base URL of the PS1 DR2 TAP service (the PS1TAP_SERVER environment variable overrides it).")
    timeout = _config.ConfigItem(
        60.0, "Seconds allowed to connect, and between bytes of an answer, for each HTTP request.")
    row_limit = _config.ConfigItem(
        100000, "Most rows one query may return (MAST's maximum is 100000); a result cut at this "
                "limit is reported, never passed on silently.")
    retries = _config.ConfigItem(3, "How many times a failed request is tried again.")
    deadline = _config.ConfigItem(
        1800.0, "Seconds allowed for one whole query: retries, async waiting and download; for "
                "many objects, for all their batches together.")
    sync_max_rows = _config.ConfigItem(
        50000, "Queries expected to return more rows than this run as async jobs.")
    objid_chunk_size = _config.ConfigItem(
        250, "Most objIDs listed in the ADQL of one detections query.")
    upload_chunk_size = _config.ConfigItem(
        500, "Most objIDs sent as an uploaded table in one query (services that accept uploads).")
    max_workers = _config.ConfigItem(4, "Batches of a multi-object request run at once.")


conf = Conf()

from .sources.tap import PanstarrsTap, PanstarrsTapClass  # noqa: E402

__all__ = ["PanstarrsTap", "PanstarrsTapClass", "Conf", "conf"]


# --- Lazy top-level exports --------------------------------------------------------------------
# ``from astroquery_ps1tap import to_lightcurves, find_period, plot_lightcurves`` imports the module
# that defines the name on first use (module ``__getattr__``, PEP 562), so that
# ``import astroquery_ps1tap`` itself imports neither lightkurve nor matplotlib.

#: Name -> module that defines it.
_LAZY = {
    "to_lightcurves": "astroquery_ps1tap.lightcurves",
    "to_lightcurves_by_object": "astroquery_ps1tap.lightcurves",
    "combine_bands": "astroquery_ps1tap.lightcurves",
    "PS1QualityFlags": "astroquery_ps1tap.lightcurves",
    "read_ps1_lightcurves": "astroquery_ps1tap.lightcurves",
    "write_ps1_lightcurves": "astroquery_ps1tap.lightcurves",
    "find_period": "astroquery_ps1tap.periods",
    "find_periods": "astroquery_ps1tap.periods",
    "plot_lightcurves": "astroquery_ps1tap.plots",
    "plot_folded": "astroquery_ps1tap.plots",
    "plot_combined": "astroquery_ps1tap.plots",
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value          # the next look-up does not come here
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
