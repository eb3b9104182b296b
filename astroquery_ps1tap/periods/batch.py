"""Periods of many objects at once: `find_periods`, one table row per object.

The strategy of `~astroquery_ps1tap.periods.find_period` (``eclipsing="auto"``), reorganised so
that the expensive part runs once for all objects, compiled and in parallel:

1. every object's points are read into a few flat arrays (`~.inputs.objects_arrays`); points far
   fainter than the rest of their filter (`~.eclipses.eclipse_points`) are set aside;
2. one frequency grid serves all objects (spacing ``1 / (oversample × longest baseline)``), and
   the sinusoid's multi-band periodogram of each object is scanned on it, keeping only its
   ``n_candidates`` highest peaks, each located on a 16× finer grid, and the
   ``HARMONIC_CANDIDATES`` highest peaks of its harmonic sum (power at f, 2f and 3f: narrow
   eclipses) (`~.periodograms.multiband_peaks`: the numba kernel of the ``fast`` extra, 2 cores);
3. for objects with eclipse points whose periodogram is not significant (uncalibrated
   false-alarm probability above 5 %, as in `find_period`), step 2 runs again with all points;
4. per object, the candidates are compared with a finer model — ``nterms`` harmonics
   (`~.periodograms.harmonic_chi2_many` around each candidate, compiled) — and the best kept (the
   candidate list of VanderPlas & Ivezić, then a finer model to choose among them); a harmonic-sum
   peak at half or a third of a sinusoid candidate is left to step 5; objects with eclipse points
   keep the sinusoid's best peak;
5. an F-test (as `~.search.doubling_test`) doubles the period when alternate cycles differ
   (p < ``alpha``); objects with eclipse points whose cycles look alike go to the eclipse rule
   (`~.eclipses.eclipse_rule`), and significant variables with periods below half a day to the
   contact-binary test (`~.search.grey_test`: shape and colour), as in `find_period`.

The false-alarm probability counts ``INDEPENDENT_FREQUENCIES`` independent frequencies per
``1/baseline`` (calibrated on simulated non-variable stars; see its note).  The coarse scan needs
fewer frequencies per peak than `find_period`'s full scan (2 rather than 5): a peak missed by the
coarse grid's top is still among the candidates, which are refined.
"""
import numpy as np
from astropy import units as u
from astropy.table import Table

from .eclipses import MIN_ECLIPSE_POINTS, eclipse_points_many, eclipse_rule
from .inputs import objects_arrays
from .periodograms import analytic_fap, frequency_grid, harmonic_chi2_many, multiband_peaks
from .search import ELLIPSOIDAL_MAX_FAP, GREY_MAX_PERIOD, RECOMMENDED_FAP, grey_test

__all__ = ["find_periods", "RECOMMENDED_FAP", "INDEPENDENT_FREQUENCIES"]

#: Independent frequencies per unit of ``(f_max - f_min) × baseline`` in `find_periods`'
#: false-alarm probability (`~.periodograms.analytic_fap`).  Far fewer than one: PS1 observes at
#: night, so a peak at ``f`` comes with aliases at ``f ± 1, 2, ... / d`` that are not
#: independent of it.  Fitted by maximum likelihood on the tail (analytic false-alarm
#: probability below 0.5) of 4,000 simulated non-variable stars on PS1 cadences (0.151 ± 0.007)
#: and verified on 4,000 others (``benchmarks/bench_periods.py --calibrate 4000``): there a
#: fraction 0.102 of the non-variables has a false-alarm probability below 0.1, 0.011 below 0.01
#: and 0.0010 below 0.001 (but 0.31 below 0.5: the bulk, far from any threshold, stays cautious).
INDEPENDENT_FREQUENCIES = 0.15
#: Extra candidates per object from the harmonic sum of its periodogram (`multiband_peaks`):
#: narrow eclipses spread their power over many harmonics.
HARMONIC_CANDIDATES = 5
HARMONICS = 3


def _power_at(t, y, dy, band, starts, obj, frequency, engine):
    """Each object's sinusoid periodogram power (`~.periodograms.multiband_power`) at its own
    ``frequency`` (NaN where that is NaN): ``1 - chi2 / chi2_0``, chi2_0 that of the means per
    filter alone."""
    chi2 = harmonic_chi2_many(t, y, dy, band, starts, frequency[:, None], 1, engine=engine)[:, 0]
    n_obj = len(starts) - 1
    n_bands = int(band.max()) + 1 if len(band) else 1
    key = obj * n_bands + band
    w = 1.0 / dy**2
    mean = np.bincount(key, weights=w * y, minlength=n_obj * n_bands) / np.maximum(
        np.bincount(key, weights=w, minlength=n_obj * n_bands), 1e-300)
    chi0 = np.bincount(obj, weights=w * (y - mean[key]) ** 2, minlength=n_obj)
    with np.errstate(invalid="ignore", divide="ignore"):
        power = np.where(chi0 > 0, 1.0 - chi2 / chi0, 0.0)
    return np.where(np.isfinite(frequency), np.clip(power, 0.0, 1.0), np.nan)


def _visits(t, obj, n_obj, separation):
    """Per object: points closer in time than ``separation`` to the previous one count once."""
    order = np.lexsort((t, obj))
    ts, os_ = t[order], obj[order]
    new = np.r_[True, (os_[1:] != os_[:-1]) | (np.diff(ts) > separation)]
    return np.bincount(os_[new], minlength=n_obj)


def _subset(starts, members):
    """Point indices and starts of the objects ``members``."""
    counts = np.diff(starts)[members]
    index = np.concatenate([np.arange(starts[o], starts[o + 1]) for o in members]) \
        if len(members) else np.zeros(0, dtype=np.int64)
    return index, np.r_[0, np.cumsum(counts)].astype(np.int64)


def find_periods(data=None, *, objid=None, time=None, mag=None, mag_err=None, band=None,
                 min_period=0.1, max_period=50.0, oversample=2, n_candidates=10, nterms=3,
                 alpha=1e-4, min_qf=0.9, column="mag", engine="auto"):
    """Search many light curves for their periods at once; one table row per object.

    Parameters
    ----------
    data : `~astropy.table.Table` or mapping, optional
        A detections table of many objects (canonical columns: ``objID``, ``filterID`` or
        ``filter``, ``obsTime``, ``psfFlux``, ``psfFluxErr``, ``psfQfPerfect``; points with
        ``psfQfPerfect < min_qf`` or a flux that is not positive are left out), or a mapping
        objID → light curves such as `~astroquery_ps1tap.lightcurves.LightCurvesByObject`
        (slower: each object's curves are built first).
    objid, time, mag, mag_err, band : array-like, optional
        Instead of ``data``: one entry per point (``time`` in MJD, ``band`` names or 0..4).
    min_period, max_period : float
        Search range (d).
    oversample : float
        Grid points per ``1/baseline`` of the coarse scan (2; the candidates are refined).
    n_candidates : int
        Peaks kept per object.
    nterms : int
        Harmonics of the model that chooses among the candidates (1: the highest peak).
    alpha : float
        Significance of the doubling test.
    min_qf : float
        Quality cut on ``psfQfPerfect`` for detections tables.
    column : str
        The light curves' column searched (mapping input).
    engine : {"auto", "numba", "numpy"}
        The scan's implementation: numba (the ``fast`` extra) when installed, else numpy
        (~70× slower, same results).

    Returns
    -------
    `~astropy.table.Table`
        One row per object, in objID order: ``objID``, ``period`` (d), ``periodogram_period``
        (before doubling), ``power`` (the sinusoid's, at the periodogram period),
        ``false_alarm_probability`` (analytic, calibrated: see ``INDEPENDENT_FREQUENCIES``), ``significant``
        (``false_alarm_probability < RECOMMENDED_FAP``), ``doubled``, ``doubling_p``,
        ``n_points``, ``n_filters``, ``n_eclipse_points``, ``method``, and ``candidates``
        (periods of the top five peaks, d).  An object with too few points has NaN periods
        and says so in ``method``.

    Examples
    --------
    >>> from astropy.table import vstack
    >>> from astroquery_ps1tap.periods import simulate_detections
    >>> det = vstack([simulate_detections("rrlyrae", 0.48636, seed=1, objid=1),
    ...               simulate_detections("rrlyrae", 0.61234, seed=2, objid=2)])
    >>> rows = find_periods(det)
    >>> rows["objID"].tolist(), [round(float(p), 4) for p in rows["period"]]
    ([1, 2], [0.4864, 0.6123])
    """
    if int(nterms) < 1:
        raise ValueError("nterms must be at least 1")
    ids, starts, t, y, dy, band_code = objects_arrays(
        data, objid=objid, time=time, mag=mag, mag_err=mag_err, band=band, column=column,
        min_qf=min_qf)
    n_obj = len(ids)
    counts = np.diff(starts)
    obj = np.repeat(np.arange(n_obj), counts)
    n_filters = np.bincount(np.unique(obj * 16 + band_code) // 16, minlength=n_obj)
    enough = counts >= n_filters + 2 * int(nterms) + 2
    # 1. eclipse points
    in_eclipse = eclipse_points_many(y, band_code, starts) & np.repeat(enough, counts)
    n_ecl = np.bincount(obj, weights=in_eclipse,
                        minlength=n_obj).astype(np.int64)
    ellipsoidal = enough & (n_ecl >= MIN_ECLIPSE_POINTS)
    # 2. one grid for all
    spans = (np.maximum.reduceat(t, starts[:-1]) - np.minimum.reduceat(t, starts[:-1])
             if n_obj else np.zeros(0))
    baseline = float(spans[enough].max()) if enough.any() else 1.0
    freq = frequency_grid(baseline, min_period=min_period, max_period=max_period,
                          oversample=oversample)
    fit_err = np.where(in_eclipse & np.repeat(ellipsoidal, counts), np.inf, dy)
    cand_f = np.full((n_obj, n_candidates), np.nan)
    cand_p = np.zeros((n_obj, n_candidates))
    cand_h = np.full((n_obj, HARMONIC_CANDIDATES), np.nan)

    def search(members, err):
        """The candidates of these objects, from their points weighted by ``err``."""
        index, sub_starts = _subset(starts, members)
        cand_f[members], cand_p[members], cand_h[members], _ = multiband_peaks(
            t[index], y[index], err[index], band_code[index], sub_starts, freq,
            n_peaks=n_candidates, n_harmonic_peaks=HARMONIC_CANDIDATES, harmonics=HARMONICS,
            engine=engine)

    sel = np.flatnonzero(enough)
    if len(sel):
        search(sel, fit_err)
    visits = _visits(t, obj, n_obj, min_period / 4)
    n_kept = visits - np.where(ellipsoidal, n_ecl, 0)
    m_eff = INDEPENDENT_FREQUENCIES * (freq[-1] - freq[0]) * np.maximum(spans, 1e-9)
    fap = analytic_fap(cand_p[:, 0], n_kept, n_filters + 2, m_eff)
    # 3. binaries flat between their eclipses: all points (judged, as in find_period, by the
    # uncalibrated estimate: one independent frequency per 1/baseline)
    uncalibrated = analytic_fap(cand_p[:, 0], n_kept, n_filters + 2,
                                m_eff / INDEPENDENT_FREQUENCIES)
    again = np.flatnonzero(ellipsoidal & ~(uncalibrated < ELLIPSOIDAL_MAX_FAP))
    if len(again):
        search(again, dy)
        ellipsoidal[again] = False
        fap[again] = analytic_fap(cand_p[again, 0], visits[again], n_filters[again] + 2,
                                  m_eff[again])
    # 4. the finer model chooses among the candidates; then the doubling test
    chosen = cand_f[:, 0].copy()
    method = np.where(enough, np.where(ellipsoidal, "sinusoid without eclipse points",
                                       "sinusoid"), "too few points").astype(object)
    choose = np.flatnonzero(enough & ~ellipsoidal & np.isfinite(chosen)) if nterms > 1 else []
    if len(choose):
        step = freq[1] - freq[0]
        # the harmonic sum's peaks at a sinusoid candidate or its half or third are no news
        # (half or whole is for the doubling tests below); the others join the candidates
        sub = cand_f[choose, None, :] / np.array([1.0, 2.0, 3.0])[:, None]
        known = np.any(np.abs(cand_h[choose, :, None, None] - sub[:, None]) < step,
                       axis=(2, 3))
        both = np.concatenate([cand_f[choose], np.where(known, np.nan, cand_h[choose])], axis=1)
        grid = (both[:, :, None] + np.linspace(-0.5, 0.5, 5) * step / 4).reshape(
            len(choose), -1)
        index, sub_starts = _subset(starts, choose)
        chi2 = harmonic_chi2_many(t[index], y[index], dy[index], band_code[index], sub_starts,
                                  grid, nterms, engine=engine)
        chi2 = np.where(np.isfinite(chi2), chi2, np.inf)
        chosen[choose] = grid[np.arange(len(choose)), np.argmin(chi2, axis=1)]
        method[choose] = f"{n_candidates}+{HARMONIC_CANDIDATES} candidates, {nterms} harmonics"
    peak_period = 1.0 / chosen
    # the sinusoid's power at the chosen frequency itself (which may be a harmonic-sum peak, or
    # a finer point than the candidate's), with the points its periodogram was computed on
    searched_err = np.where(in_eclipse & np.repeat(ellipsoidal, counts), np.inf, dy)
    power = _power_at(t, y, searched_err, band_code, starts, obj, chosen, engine)
    from scipy import stats
    p_double = np.full(n_obj, np.nan)
    for group, terms in ((ellipsoidal, 3), (~ellipsoidal, int(nterms))):
        members = np.flatnonzero(group & enough & np.isfinite(chosen))
        if not len(members):
            continue
        index, sub_starts = _subset(starts, members)
        args = (t[index], y[index], dy[index], band_code[index], sub_starts)
        chi_p = harmonic_chi2_many(*args, chosen[members, None], terms, engine=engine)[:, 0]
        chi_2p = harmonic_chi2_many(*args, chosen[members, None] / 2, 2 * terms,
                                    engine=engine)[:, 0]
        dof = counts[members] - (n_filters[members] + 4 * terms)
        with np.errstate(invalid="ignore", divide="ignore"):
            fstat = ((chi_p - chi_2p) / (2 * terms)) / (chi_2p / dof)
            p_double[members] = np.where((dof > 0) & (chi_2p > 0),
                                         stats.f.sf(fstat, 2 * terms, np.maximum(dof, 1)), 1.0)
    doubled = p_double < alpha
    # binaries whose eclipses are alike: the eclipse rule (a secondary eclipse half a cycle
    # after the primary keeps P; else two eclipses per orbit, 2P)
    for o in np.flatnonzero(ellipsoidal & ~doubled & np.isfinite(chosen)):
        sl = slice(starts[o], starts[o + 1])
        _, doubled[o], rule, _, _ = eclipse_rule(t[sl], y[sl], band_code[sl], peak_period[o])
        method[o] += "; eclipse rule: " + rule
    # pulsators change colour as they vary, binaries hardly: a grey sinusoid is a contact binary
    # seen at half its orbital period
    grey = np.flatnonzero(enough & ~ellipsoidal & ~doubled & (peak_period < GREY_MAX_PERIOD)
                          & (fap < RECOMMENDED_FAP))
    if len(grey):
        for o in grey:
            sl = slice(starts[o], starts[o + 1])
            doubled[o], note = grey_test(t[sl], y[sl], dy[sl], band_code[sl], chosen[o])
            method[o] += "; " + note
    period = np.where(doubled, 2 * peak_period, peak_period)
    top = np.full((n_obj, 5), np.nan)
    k = min(5, n_candidates)
    top[:, :k] = 1.0 / cand_f[:, :k]
    fap = np.where(enough, fap, np.nan)
    return Table({"objID": ids, "period": period * u.d, "periodogram_period": peak_period * u.d,
                  "power": power, "false_alarm_probability": fap,
                  "significant": fap < RECOMMENDED_FAP, "doubled": doubled,
                  "doubling_p": p_double, "n_points": counts, "n_filters": n_filters,
                  "n_eclipse_points": n_ecl, "method": method.astype(str),
                  "candidates": top * u.d})
