"""PS1 DR2 through a TAP service: `PanstarrsTapClass` over `TapSource`.

* `adql`: pure functions that build ADQL;
* `service`: the one query path (sync/async, retries, deadline, cache);
* `source`: `TapSource`, the `~astroquery_ps1tap.sources.base.Source` of a TAP service;
* `client`: `PanstarrsTapClass` and the ready `PanstarrsTap`.
"""
from .client import PanstarrsTap, PanstarrsTapClass
from .source import TapSource

__all__ = ["PanstarrsTap", "PanstarrsTapClass", "TapSource"]
