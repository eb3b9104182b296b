"""Pan-STARRS1 DR2 through MAST's TAP service or PS1's HATS catalogs, astroquery style.

>>> from astroquery_ps1tap import PanstarrsTap, PanstarrsTapClass, PanstarrsHats, conf

``PanstarrsTap`` is a ready client for ``conf.server`` (or the ``PS1TAP_SERVER`` environment
variable); ``PanstarrsTapClass(server=...)`` makes one for another service.  ``PanstarrsHats``
reads the same data from PS1's HATS catalogs with LSDB (``pip install "astroquery_ps1tap[hats]"``;
``conf.hats_path`` or ``PS1HATS_PATH``), with the same methods and the same tables.
Light-curve adapters, plots and period search (`astroquery_ps1tap.lightcurves`,
`astroquery_ps1tap.plots`, `astroquery_ps1tap.periods`) are also top-level names that import
lightkurve and matplotlib only when first used.
"""
from astropy import config as _config

__version__ = "0.1.0"


class Conf(_config.ConfigNamespace):
    """Configuration parameters for `astroquery_ps1tap`."""

    server = _config.ConfigItem(
        "https://mast.stsci.edu/vo-tap/api/v0.1/ps1dr2",
        "Base URL of the PS1 DR2 TAP service, or a MAST service name: 'ps1dr2' (legacy) or "
        "'mast_catalogs' (newer). The PS1TAP_SERVER environment variable overrides it.")
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
    hats_path = _config.ConfigItem(
        "s3://stpubdata/panstarrs/ps1/public/hats",
        "Root of PS1 DR2's HATS catalogs (otmo, detection, forced_mean_object) for PanstarrsHats; "
        "the PS1HATS_PATH environment variable overrides it.")
    schema = _config.ConfigItem(
        ["auto", "dbo", "ps1_dr2"],
        "PS1 schema to query: 'dbo' (MAST's legacy service), 'ps1_dr2' (its newer one), or 'auto': "
        "the one the service has, learnt from its TAP_SCHEMA ('dbo' where it has both).")


conf = Conf()

from .sources.hats import PanstarrsHats, PanstarrsHatsClass  # noqa: E402  (lsdb loads on first use)
from .sources.tap import PanstarrsTap, PanstarrsTapClass  # noqa: E402

__all__ = ["PanstarrsTap", "PanstarrsTapClass", "PanstarrsHats", "PanstarrsHatsClass", "Conf", "conf"]


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
