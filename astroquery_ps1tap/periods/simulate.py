"""Simulated PS1 light curves, for examples, tests and benchmarks.

* `simulate_detections`: one star on an idealised 3π-like cadence (40 visit pairs in five-month
  seasons over four years), for examples;
* `simulate_population`: many stars of one class — RR Lyrae (``"rrab"``, ``"rrc"``), detached
  eclipsing binaries with U- or V-shaped eclipses of a range of depths and widths
  (``"eb_detached"``), contact binaries (``"wuma"``) and non-variables (``"constant"``) — each on a
  cadence drawn from `ps1_cadences`, the epochs of real and sample-database objects, with noise
  growing towards faint magnitudes and bad points (flagged and not).  Returns the detections
  (canonical columns) and the truth.

The cadences (``astroquery_ps1tap/data/ps1_cadences.npz``, made by
``benchmarks/make_cadences.py`` from the local sample database): the good epochs of the
tutorial's three stars (real PS1 3π epochs) and of 300 bulk-field objects with 50–110
detections, 45–109 epochs each over 4–5 years.
"""
import functools
from pathlib import Path

import numpy as np
from astropy.table import Table

from .. import schema, tables

__all__ = ["simulate_detections", "simulate_population", "ps1_cadences", "KINDS"]

#: Classes `simulate_population` makes.
KINDS = ("rrab", "rrc", "eb_detached", "wuma", "constant")


def _detections(objid, times, filter_id, mag, mag_err, qf):
    """A canonical detections table from magnitudes (fluxes through `schema.mag_to_flux`)."""
    flux = schema.mag_to_flux(mag)
    table = Table({"objID": np.asarray(objid, dtype=np.int64),
                   "detectID": np.arange(len(times), dtype=np.int64) + 10**17,
                   "filterID": np.asarray(filter_id, dtype=np.int64), "obsTime": times,
                   "psfFlux": flux, "psfFluxErr": flux * np.asarray(mag_err) / schema.MAG_ERR_FACTOR,
                   "psfQfPerfect": qf, "infoFlag": np.full(len(times), 0x6200045, dtype=np.int64)})
    return tables.shape_detections(table)


_MEAN_MAGS = {"g": 15.04, "r": 14.55, "i": 14.21, "z": 14.28, "y": 14.30}
_RR_AMPLITUDE = {"g": 1.0, "r": 0.75, "i": 0.6, "z": 0.5, "y": 0.45}


def _rrlyrae_shape(phase):
    """RRab-like light curve in magnitudes (0 at mean light, negative = brighter):
    a fast rise over 15 % of the cycle and a slow decline."""
    rise = 0.15
    light = np.where(phase < rise, phase / rise, 1 - (phase - rise) / (1 - rise))
    return -(light - 0.5)


def _eclipse_shape(phase, depth1, depth2, width, profile="U"):
    """Eclipses (in magnitudes, positive = fainter) at phase 0 and 0.5, half-width ``width`` in
    phase; ``profile`` "U" (parabolic) or "V" (grazing)."""
    d0 = np.minimum(phase, 1 - phase) / width
    d1 = np.abs(phase - 0.5) / width
    if profile == "V":
        shape0, shape1 = np.clip(1 - d0, 0, None), np.clip(1 - d1, 0, None)
    else:
        shape0, shape1 = np.clip(1 - d0**2, 0, None), np.clip(1 - d1**2, 0, None)
    return depth1 * shape0 + depth2 * shape1


def simulate_detections(kind, period, *, epoch=55000.0, n_pairs=40, start=55200.0, years=4,
                        noise=0.015, depths=(0.6, 0.3), width=0.06, profile="U",
                        in_eclipse=0.0, objid=190361393344112894, bad_fraction=0.03, seed=0):
    """Make a detections table of one variable star with PS1 3π-like cadence.

    ``n_pairs`` visit pairs (two exposures ~15 minutes apart, each pair in one random filter)
    in yearly ~5-month observing seasons over ``years`` years; so ~80 points over five
    filters.  A fraction ``bad_fraction`` of points has a low ``psfQfPerfect`` (0.2–0.8) and a
    magnitude off by 0.5–3 mag, like KQ UMa's bad z point.

    Parameters
    ----------
    kind : {"rrlyrae", "eclipsing", "constant"}
        ``"eclipsing"``: eclipses of ``depths`` (mag) at phases 0 and 0.5, half-width ``width``
        (in phase), ``profile`` ``"U"`` or ``"V"``.
    period : float
        Days.
    epoch : float
        MJD of phase 0 (maximum light or primary eclipse).
    depths : (primary, secondary)
        Eclipse depths in magnitudes; each a number or five numbers (g r i z y).
    in_eclipse : float
        Fraction of the visits moved into the primary eclipse (sparse surveys catch few
        eclipses by chance; this makes a binary whose eclipses were caught).

    Returns
    -------
    `~astropy.table.Table`
        A canonical detections table (`~astroquery_ps1tap.tables.shape_detections`).

    Examples
    --------
    >>> det = simulate_detections("eclipsing", 2.2834698, seed=3)
    >>> len(det), sorted(set(det["filter"].tolist()))
    (80, ['g', 'i', 'r', 'y', 'z'])
    """
    rng = np.random.default_rng(seed)
    seasons = rng.integers(0, years, n_pairs)
    nights = np.floor(start + 365.25 * seasons + rng.uniform(0, 150, n_pairs))
    t0 = nights + rng.uniform(0.2, 0.6, n_pairs)
    bands = rng.choice(schema.FILTERS, n_pairs)
    gap = rng.uniform(0.008, 0.018, n_pairs)
    times = np.column_stack([t0, t0 + gap]).ravel()
    bands = np.repeat(bands, 2)
    if kind == "eclipsing" and in_eclipse > 0:
        move = np.repeat(rng.random(n_pairs) < in_eclipse, 2)
        cycle = np.floor((times - epoch) / period)
        shift = rng.uniform(-0.7, 0.7, n_pairs).repeat(2) * width
        first = np.repeat(np.arange(n_pairs) * 2, 2)
        offset = times - times[first]                 # keep the pair's spacing
        times = np.where(move, epoch + (cycle[first] + shift) * period + offset, times)
    phase = ((times - epoch) / period) % 1.0
    if kind == "rrlyrae":
        amp = np.array([_RR_AMPLITUDE[b] for b in bands])
        signal = amp * _rrlyrae_shape(phase)
    elif kind == "eclipsing":
        index = np.array([schema.FILTERS.index(b) for b in bands])
        primary = np.broadcast_to(np.asarray(depths[0], dtype=float), (5,))[index]
        secondary = np.broadcast_to(np.asarray(depths[1], dtype=float), (5,))[index]
        signal = _eclipse_shape(phase, primary, secondary, width, profile)
    elif kind == "constant":
        signal = np.zeros(len(times))
    else:
        raise ValueError(f"kind must be 'rrlyrae', 'eclipsing' or 'constant', not {kind!r}")
    mag = np.array([_MEAN_MAGS[b] for b in bands]) + signal + rng.normal(0, noise, len(times))
    qf = np.clip(rng.normal(0.995, 0.004, len(times)), 0.9, 1.0)
    bad = rng.random(len(times)) < bad_fraction
    qf[bad] = rng.uniform(0.2, 0.8, bad.sum())
    mag[bad] += rng.uniform(0.5, 3.0, bad.sum())
    return _detections(np.full(len(times), objid, dtype=np.int64), times,
                       np.array([schema.FILTERS.index(b) + 1 for b in bands]), mag,
                       np.full(len(times), noise), qf)


@functools.lru_cache(maxsize=1)
def ps1_cadences():
    """The stored cadences: a list of ``(obsTime, filterID)`` array pairs, one per object.

    Examples
    --------
    >>> cadences = ps1_cadences()
    >>> len(cadences) > 300, all(45 <= len(t) <= 110 for t, _ in cadences)
    (True, True)
    """
    data = np.load(Path(__file__).resolve().parents[1] / "data" / "ps1_cadences.npz")
    starts = data["starts"]
    return [(data["time"][a:b], data["filter_id"][a:b].astype(np.int64))
            for a, b in zip(starts[:-1], starts[1:])]


_AMPLITUDE = np.array([1.0, 0.75, 0.6, 0.5, 0.45])     # pulsation amplitude per filter, g = 1
_COLOUR = np.array([0.5, 0.0, -0.15, -0.2, -0.25])      # typical mag - r of these stars


def _rr_shape(phase, rise):
    """Pulsator in magnitudes about mean light (negative = brighter): a rise lasting ``rise``
    of the cycle and a slower decline, smoothed at the corners."""
    light = np.where(phase < rise, phase / rise, 1 - (phase - rise) / (1 - rise))
    return -(light - 0.5)


def _eclipses(phase, depth1, depth2, width, v_shaped):
    d0 = np.minimum(phase, 1 - phase) / width
    d1 = np.abs(phase - 0.5) / width
    shape = (lambda d: np.clip(1 - d, 0, None)) if v_shaped else \
        (lambda d: np.clip(1 - d**2, 0, None) ** 0.5)
    return depth1 * shape(d0) + depth2 * shape(d1)


def simulate_population(kind, n, *, seed=0, first_objid=1, cadences=None, bad_fraction=0.03,
                        outlier_fraction=0.01):
    """Simulate ``n`` stars of one class on PS1 cadences.

    Parameters
    ----------
    kind : str
        One of `KINDS`:

        * ``"rrab"``: period 0.45–0.85 d, g amplitude 0.5–1.2 mag, a fast rise (10–20 % of the
          cycle) and a slow decline;
        * ``"rrc"``: period 0.24–0.42 d, g amplitude 0.25–0.6 mag, nearly sinusoidal (rise 35–50 %);
        * ``"eb_detached"``: period 0.5–10 d (log-uniform), primary eclipse 0.2–1.0 mag deep,
          secondary 0–100 % of it, eclipses 4–16 % of the cycle in all, half U-shaped and half
          V-shaped, ellipsoidal variation 0–0.04 mag;
        * ``"wuma"``: contact binaries, period 0.22–0.5 d, continuously varying with two minima per
          orbit, 0.1–0.6 mag, minima differing by 0–20 % of that;
        * ``"constant"``: no variation.
    n : int
        Number of stars.
    seed : int
        Random seed: the same seed gives the same stars.
    first_objid : int
        objIDs are ``first_objid, first_objid + 1, ...``.
    cadences : list, optional
        ``(obsTime, filterID)`` pairs to draw from (default `ps1_cadences`).
    bad_fraction : float
        Points with a low ``psfQfPerfect`` (0.2–0.8) and 0.5–3 mag too faint (the quality cut
        removes them).
    outlier_fraction : float
        Points 0.1–0.5 mag off (either way) that nothing flags.

    Returns
    -------
    detections : `~astropy.table.Table`
        Canonical detections of all stars.
    truth : `~astropy.table.Table`
        One row per star: ``objID``, ``kind``, ``period`` (d; NaN for constants), ``r_mag``,
        ``amplitude`` (mag, g or deepest eclipse), and for binaries ``v_shaped`` and
        ``secondary_ratio``.

    Examples
    --------
    >>> det, truth = simulate_population("rrab", 3, seed=1)
    >>> len(truth), bool(np.all((truth["period"] > 0.45) & (truth["period"] < 0.85)))
    (3, True)
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    rng = np.random.default_rng(seed)
    cadences = ps1_cadences() if cadences is None else cadences
    pick = rng.integers(0, len(cadences), n)
    r_mag = rng.uniform(14.0, 19.5, n)
    epoch = rng.uniform(0, 1, n)
    log_uniform = np.exp(rng.uniform(np.log(0.5), np.log(10.0), n))
    period = {"rrab": rng.uniform(0.45, 0.85, n), "rrc": rng.uniform(0.24, 0.42, n),
              "eb_detached": log_uniform, "wuma": rng.uniform(0.22, 0.5, n),
              "constant": np.full(n, np.nan)}[kind]
    amplitude = {"rrab": rng.uniform(0.5, 1.2, n), "rrc": rng.uniform(0.25, 0.6, n),
                 "eb_detached": rng.uniform(0.2, 1.0, n), "wuma": rng.uniform(0.1, 0.6, n),
                 "constant": np.zeros(n)}[kind]
    rise = rng.uniform(0.10, 0.20, n) if kind == "rrab" else rng.uniform(0.35, 0.5, n)
    ratio = rng.uniform(0, 1, n) if kind == "eb_detached" else rng.uniform(0.8, 1.0, n)
    width = rng.uniform(0.02, 0.08, n)
    v_shaped = rng.random(n) < 0.5
    ellipsoidal = rng.uniform(0, 0.04, n)
    parts, truth_rows = [], []
    for k in range(n):
        times, fid = cadences[pick[k]]
        b = fid - 1
        phase = (times / period[k] + epoch[k]) % 1.0 if kind != "constant" else np.zeros(len(times))
        if kind in ("rrab", "rrc"):
            signal = amplitude[k] * _AMPLITUDE[b] * _rr_shape(phase, rise[k])
        elif kind == "eb_detached":
            signal = (_eclipses(phase, amplitude[k], amplitude[k] * ratio[k], width[k], v_shaped[k])
                      + ellipsoidal[k] * 0.5 * (1 - np.cos(4 * np.pi * phase)))
        elif kind == "wuma":
            signal = amplitude[k] * (0.5 * (1 - np.cos(4 * np.pi * phase))
                                     + 0.5 * (1 - ratio[k]) * 0.5 * (1 - np.cos(2 * np.pi * phase)))
        else:
            signal = np.zeros(len(times))
        mean = r_mag[k] + _COLOUR[b]
        # PS1-like errors: ~4 mmag floor, sky noise reaching 0.2 mag at ~21.8 (r)
        sigma = np.hypot(0.004, 0.2 * 10 ** (0.4 * (mean - 21.8)))
        mag = mean + signal + rng.normal(0, 1, len(times)) * sigma
        qf = np.clip(rng.normal(0.995, 0.004, len(times)), 0.9, 1.0)
        bad = rng.random(len(times)) < bad_fraction
        qf[bad] = rng.uniform(0.2, 0.8, bad.sum())
        mag[bad] += rng.uniform(0.5, 3.0, bad.sum())
        wild = ~bad & (rng.random(len(times)) < outlier_fraction)
        mag[wild] += rng.choice([-1, 1], wild.sum()) * rng.uniform(0.1, 0.5, wild.sum())
        objid = first_objid + k
        parts.append((np.full(len(times), objid), times, fid, mag, sigma, qf))
        truth_rows.append((objid, kind, period[k], r_mag[k], amplitude[k], bool(v_shaped[k]),
                           ratio[k]))
    objid, times, fid, mag, sigma, qf = (np.concatenate(p) for p in zip(*parts))
    truth = Table(rows=truth_rows, names=("objID", "kind", "period", "r_mag", "amplitude",
                                          "v_shaped", "secondary_ratio"))
    truth["period"].unit = "d"
    return _detections(objid, times, fid, mag, sigma, qf), truth
