"""Period search on PS1-like data: ~80 points in five filters over four years, in visit pairs.

The data are synthesised (`simulate_detections`) with the tutorial's three stars' periods: the
RR Lyrae star KQ UMa (0.48636 d) and the eclipsing binaries KIC 2161623 (2.2834698 d, similar
eclipses) and KIC 8153568 (3.6071431 d, a clearly shallower secondary eclipse).
"""
import numpy as np
import pytest
from astropy.timeseries import LombScargleMultiband

from astroquery_ps1tap.lightcurves import combine_bands, to_lightcurves
from astroquery_ps1tap.periods import (PeriodResult, doubling_test, eclipse_power, find_period,
                                       frequency_grid, multiband_power, simulate_detections,
                                       string_length)

pytestmark = pytest.mark.filterwarnings("error")

RR_LYRAE = 0.48636
EB_SIMILAR = 2.2834698
EB_SECONDARY = 3.6071431


def arrays(det):
    lcs = to_lightcurves(det)
    t = np.concatenate([lc.time.mjd for lc in lcs])
    y = np.concatenate([lc["mag"].value for lc in lcs])
    dy = np.concatenate([lc["mag_err"].value for lc in lcs])
    bands = np.concatenate([[lc.filter] * len(lc) for lc in lcs])
    return t, y, dy, bands


def test_the_simulated_cadence_is_ps1_like():
    det = simulate_detections("rrlyrae", RR_LYRAE, seed=0)
    t = np.sort(det["obsTime"])
    assert 60 <= len(det) <= 90 and set(det["filter"]) == set("grizy")
    assert 1000 < t[-1] - t[0] < 1500 + 365
    gaps = np.diff(np.sort(det["obsTime"]))
    assert np.sum(gaps < 0.02) >= len(det) // 2 - 2       # visit pairs ~15 min apart


@pytest.mark.parametrize("nterms", [1, 2])
def test_multiband_power_is_astropys_shared_phase_model(nterms):
    t, y, dy, bands = arrays(simulate_detections("rrlyrae", RR_LYRAE, seed=2))
    freq = np.linspace(0.05, 5, 300)
    ours = multiband_power(t, y, dy, bands, freq, nterms=nterms)
    theirs = LombScargleMultiband(t, y, bands, dy, nterms_base=nterms, nterms_band=0).power(
        freq, method="flexible")
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_grid_spacing_follows_the_baseline():
    freq = frequency_grid(1800.0, min_period=0.05, max_period=30.0, oversample=5)
    assert freq[0] == pytest.approx(1 / 30) and freq[-1] == pytest.approx(20, abs=1e-4)
    assert np.diff(freq) == pytest.approx(1 / (5 * 1800))
    with pytest.raises(ValueError, match="min_period < max_period"):
        frequency_grid(1800.0, min_period=2, max_period=1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_recovers_the_rr_lyrae_period_and_does_not_double_it(seed):
    result = find_period(simulate_detections("rrlyrae", RR_LYRAE, seed=seed))
    assert isinstance(result, PeriodResult)
    assert result.period.to_value("d") == pytest.approx(RR_LYRAE, rel=1e-4)
    assert not result.doubled
    assert result.false_alarm_probability < 1e-6


def test_a_sinusoid_model_is_enough_for_the_rr_lyrae_star():
    result = find_period(simulate_detections("rrlyrae", RR_LYRAE, seed=5), eclipsing=False)
    assert result.nterms == 1
    assert result.period.to_value("d") == pytest.approx(RR_LYRAE, rel=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_eclipsing_binary_with_similar_eclipses_needs_eclipsing_true(seed):
    """Narrow eclipses (6 % of the cycle) of similar depth: the eclipse search finds half the
    period (both eclipses stack), and eclipsing=True doubles it."""
    det = simulate_detections("eclipsing", EB_SIMILAR, epoch=54999.1, depths=(0.5, 0.45),
                              width=0.03, in_eclipse=0.25, noise=0.01, seed=seed)
    result = find_period(det, eclipsing=True)
    assert result.method == "eclipse" and result.doubled
    assert result.period.to_value("d") == pytest.approx(EB_SIMILAR, rel=1e-4)


@pytest.mark.parametrize("seed", [2, 3, 5])
def test_detached_binary_with_a_faint_v_shaped_secondary(seed):
    """Like the sample database's KIC 2161623: 0.59 mag V-shaped primary, 0.09 mag secondary,
    eclipses 5 % of the cycle."""
    det = simulate_detections("eclipsing", EB_SIMILAR, epoch=54999.1, depths=(0.59, 0.09),
                              width=0.027, profile="V", in_eclipse=0.35, noise=0.01, seed=seed)
    result = find_period(det, eclipsing=True)
    assert result.period.to_value("d") == pytest.approx(EB_SIMILAR, rel=1e-4)


def test_binary_whose_eclipse_depth_depends_on_the_filter():
    """Like the sample database's KIC 8153568: primary 2.9 mag deep in g, 0.4 in y."""
    det = simulate_detections("eclipsing", EB_SECONDARY, epoch=54998.79,
                              depths=([2.9, 1.5, 0.86, 0.59, 0.39], [0.09, 0.14, 0.19, 0.23, 0.27]),
                              width=0.064, in_eclipse=0.35, noise=0.01, seed=1)
    result = find_period(det, eclipsing=True)
    assert result.period.to_value("d") == pytest.approx(EB_SECONDARY, rel=1e-4)
    assert result.rule and not np.isnan(result.secondary_z)


def test_eclipse_power_peaks_at_the_eclipse_period():
    t = np.sort(np.random.default_rng(3).uniform(0, 1500, 120))
    y = np.where(((t / 3.3) % 1.0) < 0.04, 0.4, 0.0)
    freq = np.linspace(0.2, 0.4, 40001)
    power, phase, width = eclipse_power(t, y, np.zeros(120), freq)
    assert 1 / freq[np.argmax(power)] == pytest.approx(3.3, rel=5e-4)
    assert 0 < width[np.argmax(power)] <= 0.2


def test_eclipsing_binary_with_a_shallower_secondary_is_doubled_automatically():
    det = simulate_detections("eclipsing", EB_SECONDARY, epoch=54998.79, depths=(0.6, 0.25),
                              seed=0)
    result = find_period(det)                      # eclipsing="auto"
    assert result.periodogram_period.to_value("d") == pytest.approx(EB_SECONDARY / 2, rel=1e-4)
    assert result.doubled and result.doubling_p < 1e-4
    assert result.period.to_value("d") == pytest.approx(EB_SECONDARY, rel=1e-4)
    assert not find_period(det, eclipsing=False).doubled


def test_the_combined_curve_gives_the_same_answer():
    det = simulate_detections("eclipsing", EB_SECONDARY, depths=(0.6, 0.25), seed=0)
    combined = combine_bands(to_lightcurves(det))
    result = find_period(combined, column="dmag")
    assert result.period.to_value("d") == pytest.approx(EB_SECONDARY, rel=1e-4)
    assert result.n_filters == 5


def test_doubling_test_tells_alternate_cycles_apart():
    t, y, dy, bands = arrays(simulate_detections("eclipsing", EB_SECONDARY, depths=(0.6, 0.25),
                                                 seed=1))
    _, p_half = doubling_test(t, y, dy, bands, EB_SECONDARY / 2)
    assert p_half < 1e-4                           # the two eclipses differ
    t, y, dy, bands = arrays(simulate_detections("rrlyrae", RR_LYRAE, seed=1))
    _, p_rr = doubling_test(t, y, dy, bands, RR_LYRAE)
    assert p_rr > 1e-4                             # every cycle alike


def test_string_length_is_small_for_a_coherent_fold():
    t, y, dy, bands = arrays(simulate_detections("rrlyrae", RR_LYRAE, seed=1))
    assert string_length(t, y, bands, RR_LYRAE) < 0.5 < string_length(t, y, bands, 0.5123)


def test_a_constant_star_has_no_significant_period():
    result = find_period(simulate_detections("constant", 1.0, seed=3), n_shuffles=3)
    assert result.false_alarm_probability > 0.1
    assert result.false_alarm_bootstrap >= 0.25 and len(result.shuffle_max_power) == 3
    assert result.false_alarm == result.false_alarm_bootstrap      # the bootstrap, when run


def test_bootstrap_false_alarm_of_a_real_signal_is_at_its_floor():
    result = find_period(simulate_detections("rrlyrae", RR_LYRAE, seed=4), eclipsing=False,
                         n_shuffles=3)
    assert result.false_alarm_bootstrap == pytest.approx(1 / 4)
    assert np.all(result.shuffle_max_power < result.power)


def test_result_carries_the_periodogram_and_candidates():
    result = find_period(simulate_detections("rrlyrae", RR_LYRAE, seed=0), eclipsing=False,
                         n_candidates=3)
    assert len(result.frequency) == len(result.power_spectrum) > 10000
    assert len(result.candidates) == 3
    assert result.best_periods[0] == result.periodogram_period
    assert list(result.candidates.colnames) == ["period", "power", "doubling_F", "doubling_p",
                                                "dispersion", "dispersion_2p"]


def test_bad_input():
    det = simulate_detections("rrlyrae", RR_LYRAE, seed=0)
    with pytest.raises(ValueError, match="eclipsing must be"):
        find_period(det, eclipsing="maybe")
    with pytest.raises(ValueError, match="too few"):
        find_period(det[:6])
    with pytest.raises(ValueError, match="kind must be"):
        simulate_detections("cepheid", 5.0)
