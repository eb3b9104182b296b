"""The multi-band periodogram: astropy's shared-phase model, its grid, and the compiled kernel."""
import numpy as np
import pytest
from astropy.timeseries import LombScargleMultiband

from astroquery_ps1tap.periods import (frequency_grid, multiband_peaks, multiband_power,
                                       simulate_population)
from astroquery_ps1tap.periods.inputs import objects_arrays
from astroquery_ps1tap.periods.periodograms import (analytic_fap, harmonic_chi2,
                                                    harmonic_chi2_many, local_maxima)

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def stars():
    """Four RRc stars on PS1 cadences as flat arrays (objects_arrays)."""
    det, truth = simulate_population("rrc", 4, seed=3)
    return objects_arrays(det), truth


@pytest.mark.parametrize("nterms", [1, 2])
def test_multiband_power_is_astropys_shared_phase_model(stars, nterms):
    (_, starts, t, y, dy, band), _ = stars
    sl = slice(starts[0], starts[1])
    freq = np.linspace(0.05, 5, 300)
    ours = multiband_power(t[sl], y[sl], dy[sl], band[sl], freq, nterms=nterms)
    theirs = LombScargleMultiband(t[sl], y[sl], band[sl], dy[sl], nterms_base=nterms,
                                  nterms_band=0).power(freq, method="flexible")
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_grid_spacing_follows_the_baseline():
    freq = frequency_grid(1800.0, min_period=0.05, max_period=30.0, oversample=5)
    assert freq[0] == pytest.approx(1 / 30) and freq[-1] == pytest.approx(20, abs=1e-4)
    assert np.diff(freq) == pytest.approx(1 / (5 * 1800))
    with pytest.raises(ValueError, match="min_period < max_period"):
        frequency_grid(1800.0, min_period=2, max_period=1)


def test_the_kernel_and_numpy_find_the_same_peaks(stars):
    """The compiled kernel steps sines and cosines by rotation; numpy evaluates them."""
    (_, starts, t, y, dy, band), truth = stars
    freq = frequency_grid(2000.0, max_period=5.0, oversample=2)
    fast = multiband_peaks(t, y, dy, band, starts, freq, n_peaks=5, engine="numba")
    slow = multiband_peaks(t, y, dy, band, starts, freq, n_peaks=5, engine="numpy")
    np.testing.assert_allclose(fast[0], slow[0], rtol=1e-12)
    np.testing.assert_allclose(fast[1], slow[1], atol=1e-9)
    assert np.all(np.abs(1 / fast[0][:, 0] - truth["period"]) / truth["period"] < 1e-3)


def test_the_kernel_power_is_multiband_power_at_the_peaks(stars):
    (_, starts, t, y, dy, band), _ = stars
    freq = frequency_grid(2000.0, max_period=5.0, oversample=2)
    f, p = multiband_peaks(t, y, dy, band, starts, freq, n_peaks=3)
    for o in range(len(starts) - 1):
        sl = slice(starts[o], starts[o + 1])
        np.testing.assert_allclose(multiband_power(t[sl], y[sl], dy[sl], band[sl], f[o]), p[o],
                                   rtol=1e-9)


@pytest.mark.parametrize("nterms", [1, 3])
def test_harmonic_fits_agree_between_engines(stars, nterms):
    (_, starts, t, y, dy, band), truth = stars
    freqs = np.column_stack([1 / truth["period"], 0.5 / truth["period"], np.full(4, np.nan)])
    fast = harmonic_chi2_many(t, y, dy, band, starts, freqs, nterms, engine="numba")
    slow = harmonic_chi2_many(t, y, dy, band, starts, freqs, nterms, engine="numpy")
    np.testing.assert_allclose(fast, slow, rtol=1e-6)
    assert np.all(np.isnan(fast[:, 2]))
    sl = slice(starts[0], starts[1])
    assert harmonic_chi2(t[sl], y[sl], dy[sl], band[sl], freqs[0, 0], nterms)[1] == 5 + 2 * nterms


def test_local_maxima_keep_their_distance():
    power = np.array([0, 5, 4.9, 5.1, 0, 1, 0, 3, 0.0])
    assert local_maxima(power, 3).tolist() == [3, 1, 7]
    assert local_maxima(power, 3, min_separation=3).tolist() == [3, 7]


def test_false_alarm_probability_falls_with_power_and_rises_with_frequencies():
    fap = analytic_fap(np.array([0.2, 0.5, 0.8]), 40, 7, 20000)
    assert np.all(np.diff(fap) < 0) and fap[0] == pytest.approx(1.0)
    assert analytic_fap(0.5, 40, 7, 100) < analytic_fap(0.5, 40, 7, 20000)
    assert analytic_fap(0.9, 7, 7, 100) == 1.0            # no degrees of freedom left
