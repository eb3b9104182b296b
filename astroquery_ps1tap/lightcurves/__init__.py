"""PS1 DR2 detections as `lightkurve <https://docs.lightkurve.org>`_ light curves.

* `adapters <astroquery_ps1tap.lightcurves.adapters>`: `to_lightcurves`,
  `to_lightcurves_by_object`, `combine_bands`, `as_collection`;
* `quality <astroquery_ps1tap.lightcurves.quality>`: `PS1QualityFlags`, the bits of the
  ``quality`` column, a lightkurve ``QualityFlags`` class;
* `io <astroquery_ps1tap.lightcurves.io>`: `read_ps1_lightcurves`, `read_ps1_lightcurve`,
  `write_ps1_lightcurves`, `read_ps1_table`.

Importing this package imports lightkurve (~2 s) and registers the readers and the writer, here
and only here, as the ``ps1`` format of astropy's unified I/O for `~lightkurve.LightCurve` and
`~lightkurve.LightCurveCollection` (as lightkurve's ``io/__init__.py`` registers its own).
``import astroquery_ps1tap`` alone imports neither lightkurve nor this package.
"""
import warnings

from astropy.io import registry

with warnings.catch_warnings():
    # lightkurve 2.6 warns at import that an optional dependency (oktopus) is missing
    warnings.filterwarnings("ignore", message=".*tpfmodel submodule is not available.*")
    import lightkurve as _lk

from .adapters import (MISSION, LightCurvesByObject, PS1LightCurveCollection,  # noqa: E402
                       PS1LightCurveWarning, as_collection, combine_bands, to_lightcurves,
                       to_lightcurves_by_object)
from .io import (FORMAT, read_ps1_lightcurve, read_ps1_lightcurves, read_ps1_table,  # noqa: E402
                 write_ps1_lightcurves)
from .quality import PS1QualityFlags  # noqa: E402

__all__ = ["to_lightcurves", "to_lightcurves_by_object", "LightCurvesByObject", "combine_bands",
           "as_collection", "PS1LightCurveCollection", "PS1LightCurveWarning", "PS1QualityFlags",
           "MISSION", "read_ps1_lightcurve", "read_ps1_lightcurves", "read_ps1_table",
           "write_ps1_lightcurves", "FORMAT"]

registry.register_reader(FORMAT, _lk.LightCurve, read_ps1_lightcurve)
registry.register_reader(FORMAT, _lk.LightCurveCollection, read_ps1_lightcurves)
registry.register_writer(FORMAT, _lk.LightCurve, write_ps1_lightcurves)
registry.register_writer(FORMAT, _lk.LightCurveCollection, write_ps1_lightcurves)
