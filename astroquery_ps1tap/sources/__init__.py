"""Where PS1 DR2 data come from: one folder per source, each behind `base.Source`.

* `astroquery_ps1tap.sources.tap`: a TAP service (MAST's, or any with the PS1 schema).
* `astroquery_ps1tap.sources.hats`: PS1's HATS catalogs (Parquet), read with LSDB on Dask.
"""
