"""Period search in sparse multi-band PS1 light curves.

* `find_period`: one object, with its periodogram and candidates (`PeriodResult`);
* `find_periods`: many objects at once, one table row per object (a compiled kernel with the
  ``fast`` extra, numba);
* `frequency_grid`, `multiband_power`, `multiband_peaks`: the shared-phase multi-band
  Lomb–Scargle periodogram (`~astroquery_ps1tap.periods.periodograms`);
* `eclipse_points`, `eclipse_power`, `eclipse_rule`: eclipses
  (`~astroquery_ps1tap.periods.eclipses`);
* `simulate_detections`, `simulate_population`, `ps1_cadences`: simulated PS1 light curves for
  examples, tests and benchmarks (`~astroquery_ps1tap.periods.simulate`).

How often these are right, class by class, is measured in ``benchmarks/bench_periods.py`` and
tabulated in the documentation (:doc:`/periods`).
"""
from .batch import find_periods
from .eclipses import eclipse_points, eclipse_power, eclipse_rule
from .periodograms import analytic_fap, frequency_grid, multiband_peaks, multiband_power
from .search import (RECOMMENDED_FAP, PeriodResult, amplitude_ratio, chromatic_index,
                     doubling_test, find_period, grey_test, string_length)
from .simulate import KINDS, ps1_cadences, simulate_detections, simulate_population

__all__ = ["find_period", "find_periods", "PeriodResult", "RECOMMENDED_FAP", "frequency_grid",
           "multiband_power", "multiband_peaks", "analytic_fap", "eclipse_points",
           "eclipse_power", "eclipse_rule", "doubling_test", "string_length", "amplitude_ratio",
           "chromatic_index", "grey_test",
           "simulate_detections", "simulate_population", "ps1_cadences", "KINDS"]
