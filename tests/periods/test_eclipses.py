"""Eclipses: points caught in eclipse, the eclipse search, and the rule between P and 2P."""
import numpy as np
import pytest

from astroquery_ps1tap.periods import (eclipse_points, eclipse_power, eclipse_rule,
                                       simulate_population)
from astroquery_ps1tap.periods.eclipses import eclipse_points_many
from astroquery_ps1tap.periods.inputs import objects_arrays

pytestmark = pytest.mark.filterwarnings("error")


def test_eclipse_points_of_many_objects_are_each_objects():
    (_, starts, _, y, _, band) = objects_arrays(simulate_population("eb_detached", 40, seed=4)[0])
    many = eclipse_points_many(y, band, starts)
    one_by_one = np.concatenate([eclipse_points(y[a:b], band[a:b])
                                 for a, b in zip(starts[:-1], starts[1:])])
    assert np.array_equal(many, one_by_one) and many.sum() > 40


def test_pulsators_have_no_eclipse_points_but_binaries_do():
    counts = {}
    for kind in ("rrab", "eb_detached"):
        ids, starts, _, y, _, band = objects_arrays(simulate_population(kind, 100, seed=5)[0])
        points = eclipse_points_many(y, band, starts)
        counts[kind] = np.add.reduceat(points.astype(int), starts[:-1])
    assert np.mean(counts["rrab"] >= 2) <= 0.03
    assert np.mean(counts["eb_detached"] >= 2) >= 0.5


def test_eclipse_power_peaks_at_the_eclipse_period():
    t = np.sort(np.random.default_rng(3).uniform(0, 1500, 120))
    y = np.where(((t / 3.3) % 1.0) < 0.04, 0.4, 0.0)
    freq = np.linspace(0.2, 0.4, 40001)
    power, phase, width = eclipse_power(t, y, np.zeros(120), freq)
    assert 1 / freq[np.argmax(power)] == pytest.approx(3.3, rel=5e-4)
    assert 0 < width[np.argmax(power)] <= 0.2


def make_binary(secondary, n=400, period=2.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 1500, n))
    phase = (t / period) % 1.0
    y = (np.where(np.minimum(phase, 1 - phase) < 0.03, 0.6, 0.0)
         + np.where(np.abs(phase - 0.5) < 0.03, secondary, 0.0) + rng.normal(0, 0.01, n))
    return t, y, np.zeros(n)


def test_the_rule_keeps_the_period_when_the_secondary_eclipse_shows():
    t, y, bands = make_binary(secondary=0.3)
    period, doubled, rule, z_sec, _ = eclipse_rule(t, y, bands, 2.0)
    assert not doubled and period == 2.0 and z_sec > 3 and "secondary" in rule


def test_the_rule_doubles_a_period_that_stacks_two_unequal_eclipses():
    t, y, bands = make_binary(secondary=0.3)
    period, doubled, rule, _, z_oe = eclipse_rule(t, y, bands, 1.0)
    assert doubled and period == 2.0 and z_oe > 3
