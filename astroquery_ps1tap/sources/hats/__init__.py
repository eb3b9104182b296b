"""PS1 DR2 from its HATS catalogs (HEALPix-partitioned Parquet), read with LSDB on Dask.

* `catalogs`: where the catalogs are, what is in them, how to read little of them.
* `source`: `HatsSource`, the `~astroquery_ps1tap.sources.base.Source` over them.
* `client`: `PanstarrsHatsClass` and the ready `PanstarrsHats`.

Importing this package does not import lsdb, hats or dask; they are imported when first used, and
without them the error says what to install (``pip install "astroquery_ps1tap[hats]"``).
"""
from .client import PanstarrsHats, PanstarrsHatsClass
from .source import HatsSource

__all__ = ["PanstarrsHats", "PanstarrsHatsClass", "HatsSource"]
