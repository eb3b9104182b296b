"""Simulated PS1 light curves: cadences from the sample database, populations, and truth."""
import numpy as np
import pytest

from astroquery_ps1tap.periods import KINDS, ps1_cadences, simulate_detections, simulate_population


def test_the_idealised_cadence_is_ps1_like():
    det = simulate_detections("rrlyrae", 0.48636, seed=0)
    t = np.sort(det["obsTime"])
    assert 60 <= len(det) <= 90 and set(det["filter"]) == set("grizy")
    assert 1000 < t[-1] - t[0] < 1500 + 365
    assert np.sum(np.diff(t) < 0.02) >= len(det) // 2 - 2       # visit pairs ~15 min apart


def test_the_stored_cadences_are_ps1_3pi_like():
    cadences = ps1_cadences()
    counts = np.array([len(t) for t, _ in cadences])
    spans = np.array([np.ptp(t) for t, _ in cadences])
    assert len(cadences) >= 300 and np.median(counts) > 55
    assert np.all((spans > 1400) & (spans < 2000))
    assert all(set(np.unique(f)) <= {1, 2, 3, 4, 5} for _, f in cadences)
    pairs = [np.mean(np.diff(np.sort(t)) < 0.03) for t, _ in cadences]
    assert np.median(pairs) > 0.1                  # exposure pairs, many broken by detection


@pytest.mark.parametrize("kind", KINDS)
def test_a_population_has_its_truth(kind):
    det, truth = simulate_population(kind, 20, seed=1, first_objid=100)
    assert truth["objID"].tolist() == list(range(100, 120))
    assert set(np.unique(det["objID"])) == set(truth["objID"])
    assert (np.all(np.isnan(truth["period"])) if kind == "constant"
            else np.all((truth["period"] > 0.2) & (truth["period"] < 10)))
    assert np.mean(det["psfQfPerfect"] < 0.9) < 0.08       # ~3 % flagged bad points
    again, _ = simulate_population(kind, 20, seed=1, first_objid=100)
    assert np.array_equal(again["psfFlux"], det["psfFlux"])


def test_bad_kind():
    with pytest.raises(ValueError, match="kind must be"):
        simulate_population("cepheid", 5)
    with pytest.raises(ValueError, match="kind must be"):
        simulate_detections("cepheid", 5.0)
