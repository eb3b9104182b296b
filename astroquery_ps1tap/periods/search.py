"""The period of one light curve: `find_period` and what it returns, `PeriodResult`.

PS1's 3π survey saw each object in pairs of exposures ~15 minutes apart, a few pairs per filter
per year, over ~4 years: 60–90 points spread over five filters and ~1800 days.  No single filter
has enough points for a periodogram, and a 1800-day baseline makes every peak very narrow, so
lightkurve's ``to_periodogram`` defaults (a coarse grid, 65–5781 d for this cadence) miss short
periods altogether.  `find_period` fits all filters at once with the shared-phase multi-band
model (`~astroquery_ps1tap.periods.periodograms`), on a grid of ``oversample`` points per peak
width, and refines its best peaks on a 20× finer grid.

Strategies (``eclipsing``):

* ``"auto"`` (default): points far fainter than the rest of their filter
  (`~astroquery_ps1tap.periods.eclipses.eclipse_points`) are left out of a sinusoid's
  periodogram: between eclipses a close binary varies twice per orbit (the ellipsoidal
  variation), so its highest peak is at half the orbital period; `doubling_test`, with the
  eclipses back in, doubles it when alternate cycles differ.  If that periodogram is not
  significant (false-alarm probability above 5 %: a binary flat between its eclipses), or there
  are no such points, all points are searched with 3 harmonics, doubled when the F-test is very
  significant (p < ``alpha``) or when a significant variable of less than half a day looks
  like a contact binary at half its orbit (`grey_test`: shape and colour); a pulsator keeps its
  period.
* ``True``: the eclipse search and rule of `~astroquery_ps1tap.periods.eclipses`.
* ``False``: the highest peak of a sinusoid's periodogram, never doubled.

False alarms: ``result.false_alarm_probability`` is
`~astroquery_ps1tap.periods.periodograms.analytic_fap` for ``M = nterms × (f_max - f_min) ×
baseline`` independent frequencies and ``K = n_filters + 2 nterms`` parameters, where ``N``
counts *visits* (points closer in time than ``min_period / 4`` count once: PS1's exposure pairs
are not independent at the periods searched).  It is rough.  With ``n_shuffles > 0`` the data are
also permuted within each filter (times kept) that many times and searched again on the same
grid: ``result.false_alarm_bootstrap = (1 + #shuffles with a peak >= p) / (1 + n_shuffles)``,
which cannot go below ``1 / (1 + n_shuffles)``.  The eclipse search has no analytic estimate
(NaN); use ``n_shuffles``.
"""
from dataclasses import dataclass, field

import numpy as np
from astropy import units as u
from astropy.table import Table

from .eclipses import MIN_ECLIPSE_POINTS, eclipse_points, eclipse_power, eclipse_rule
from .inputs import light_curve_arrays
from .periodograms import (analytic_fap, band_index, centre_by_band, frequency_grid,
                           harmonic_chi2, local_maxima, multiband_power, n_visits)

__all__ = ["find_period", "PeriodResult", "doubling_test", "string_length", "amplitude_ratio",
           "chromatic_index", "grey_test"]

#: False-alarm probability below which a period is called significant (`find_periods`'s
#: ``significant`` column, and the colour test); measured on simulated non-variable stars in
#: ``benchmarks/bench_periods.py``.
RECOMMENDED_FAP = 1e-3
#: The periodogram without the eclipses is used only if its false-alarm probability is below this.
ELLIPSOIDAL_MAX_FAP = 0.05
#: Amplitudes of a pulsating star in g, r, i, z, y relative to g (RR Lyrae stars: the amplitude
#: falls towards the red as the star's temperature changes over the cycle), for
#: `chromatic_index`; eclipses and tidally distorted stars vary nearly alike in all filters.
PULSATOR_AMPLITUDES = (1.0, 0.75, 0.6, 0.5, 0.45)
#: `grey_test` doubles a sinusoidal variable when the evidence for a contact binary at twice its
#: period (twice the log-likelihood ratio, shape + colour) exceeds this: doubling must be
#: e**2 ~ 7 times as likely as keeping the periodogram's period.  Chosen on one simulated
#: population and measured on another (``benchmarks/bench_periods.py``).
GREY_EVIDENCE = 4.0
#: Only variables with shorter periodogram periods (d) are tested (contact binaries' orbits last
#: less than ~1 d, and they vary twice per orbit).
GREY_MAX_PERIOD = 0.5


def amplitude_ratio(t, y, dy, bands, frequency):
    """The amplitude of a shared-phase sinusoid in g over that in i, z and y, and its error.

    The sinusoid (shared phase and shape) is fitted to all filters; then the residuals of g, and
    of i, z and y together, from their filters' means are regressed on it, giving each group's
    scale (errors scaled up by the fit's reduced chi-square when it exceeds 1).  ``bands`` are
    filter codes (0..4 for g r i z y).  NaN without 3 points in g and in i/z/y.

    Examples
    --------
    >>> t = np.sort(np.random.default_rng(0).uniform(0, 900, 80))
    >>> bands = np.arange(80) % 5
    >>> y = np.array([1.0, 0.75, 0.6, 0.5, 0.45])[bands] * np.sin(2 * np.pi * t / 0.3)
    >>> ratio, error = amplitude_ratio(t, y, np.full(80, 0.01), bands, 1 / 0.3)
    >>> round(ratio, 2), bool(error < 0.05)
    (1.97, True)
    """
    t, y, dy, bands = (np.asarray(a) for a in (t, y, dy, bands))
    w = dy.astype(float) ** -2.0
    resid = centre_by_band(y, bands, w)
    phase = 2 * np.pi * frequency * (t - t.min())
    design = np.column_stack([np.sin(phase), np.cos(phase)])
    coef = np.linalg.lstsq(design * np.sqrt(w)[:, None], resid * np.sqrt(w), rcond=None)[0]
    model = design @ coef
    scale, var = [], []
    for group in (bands == 0, bands >= 2):
        norm = np.sum(w[group] * model[group] ** 2)
        if group.sum() < 3 or not norm > 0:
            return np.nan, np.nan
        a = np.sum(w[group] * model[group] * resid[group]) / norm
        chi2 = np.sum(w[group] * (resid[group] - a * model[group]) ** 2) / (group.sum() - 1)
        scale.append(a)
        var.append(max(chi2, 1.0) / norm)
    if not (scale[0] > 0 and scale[1] > 0):
        return np.nan, np.nan
    ratio = scale[0] / scale[1]
    return float(ratio), float(ratio * np.sqrt(var[0] / scale[0] ** 2 + var[1] / scale[1] ** 2))


def chromatic_index(t, y, dy, bands, frequency):
    """How much a sinusoidal variable's amplitude changes with filter: 0 grey, 1 pulsator-like.

    A sinusoid of ``frequency`` (shared phase) is fitted to all filters; then the light curve is
    fitted again as ``mean per filter + (a + b (k - 1)) × sinusoid``, where ``k`` is the
    pulsator's amplitude in each filter relative to g (`PULSATOR_AMPLITUDES`).  The index
    ``c = b / a`` is 0 when all filters vary alike and 1 when the amplitudes fall from g to y as
    an RR Lyrae star's do.  Unlike `amplitude_ratio` it uses every filter, so it works without g
    points.  Returns ``(c, error)`` (error scaled up by the fit's reduced chi-square when that
    exceeds 1; NaN when the filters present cannot tell).  ``bands`` are filter codes (0..4 for
    g r i z y; others count as grey).

    Examples
    --------
    >>> t = np.sort(np.random.default_rng(0).uniform(0, 900, 80))
    >>> bands = np.arange(80) % 4 + 1                    # r, i, z, y: no g at all
    >>> wave = np.sin(2 * np.pi * t / 0.3)
    >>> pulsator = np.array(PULSATOR_AMPLITUDES)[bands] * wave
    >>> [round(chromatic_index(t, y, np.full(80, 0.01), bands, 1 / 0.3)[0], 1)
    ...  for y in (pulsator, 0.6 * wave)]
    [1.0, 0.0]
    """
    t, y, dy = (np.asarray(a, dtype=float) for a in (t, y, dy))
    bands = np.asarray(bands)
    _, index = band_index(bands)
    law = np.ones(len(bands))
    known = (bands >= 0) & (bands < len(PULSATOR_AMPLITUDES))
    law[known] = np.asarray(PULSATOR_AMPLITUDES)[bands[known].astype(int)]
    if len(t) < index.max() + 4 or np.ptp(law) == 0:
        return np.nan, np.nan
    sw = 1.0 / dy
    phase = 2 * np.pi * frequency * (t - t.min())
    wave = np.column_stack([np.sin(phase), np.cos(phase)])
    means = np.eye(index.max() + 1)[index]
    coef = np.linalg.lstsq(np.column_stack([wave, means]) * sw[:, None], y * sw, rcond=None)[0]
    shape = wave @ coef[:2]
    design = np.column_stack([shape, (law - 1) * shape, means]) * sw[:, None]
    coef, _, rank, _ = np.linalg.lstsq(design, y * sw, rcond=None)
    dof = len(t) - design.shape[1]
    if rank < design.shape[1] or dof <= 0 or not coef[0] > 0:
        return np.nan, np.nan
    scale = max(np.sum((y * sw - design @ coef) ** 2) / dof, 1.0)
    cov = np.linalg.inv(design.T @ design)[:2, :2] * scale
    a, b = coef[:2]
    c = b / a
    var = (cov[1, 1] - 2 * c * cov[0, 1] + c * c * cov[0, 0]) / a**2
    return float(c), float(np.sqrt(max(var, 0.0)))


def grey_test(t, y, dy, bands, frequency):
    """Is a sinusoidal variable of ``frequency`` a contact binary seen at half its orbital period?

    Two hypotheses with as many parameters: a pulsating star of period ``1 / frequency`` and a
    contact binary of twice that period.  The evidence for the binary, twice the log-likelihood
    ratio, adds

    * the shape: the chi-square of two harmonics of ``frequency`` minus that of two harmonics of
      ``frequency / 2`` (unequal minima favour the orbit; a pulsator's harmonics favour
      ``frequency``), in units of the reduced chi-square of four harmonics of ``frequency / 2``;
    * the colour: ``(1 - 2c) / error**2`` for the `chromatic_index` ``c`` (pulsators change
      colour as they vary, binaries hardly).

    The period is doubled when the evidence exceeds `GREY_EVIDENCE`.  Returns ``(grey, note)``.
    """
    t, y, dy = (np.asarray(a, dtype=float) for a in (t, y, dy))
    bands = np.asarray(bands)
    keep = _clip_outliers(t, y, dy, bands, frequency / 2, 4)
    t, y, dy, bands = t[keep], y[keep], dy[keep], bands[keep]
    chi_p = harmonic_chi2(t, y, dy, bands, frequency, 2)[0]
    chi_2p = harmonic_chi2(t, y, dy, bands, frequency / 2, 2)[0]
    chi_full, k = harmonic_chi2(t, y, dy, bands, frequency / 2, 4)
    scale = max(chi_full / (len(t) - k), 1.0) if len(t) > k else np.inf
    c, error = chromatic_index(t, y, dy, bands, frequency)
    return grey_decision(chi_p, chi_2p, scale, c, error)


def _clip_outliers(t, y, dy, bands, frequency, nterms, n_sigma=5.0):
    """Points within ``n_sigma`` robust standard deviations (1.4826 × the median absolute
    normalised residual, at least 1) of ``nterms`` harmonics of ``frequency``."""
    _, index = band_index(bands)
    phase = 2 * np.pi * np.outer(t - t.min(), np.arange(1, nterms + 1)) * frequency
    design = np.column_stack([np.eye(index.max() + 1)[index], np.sin(phase), np.cos(phase)])
    if len(t) <= design.shape[1] + 2:
        return np.ones(len(t), bool)
    coef = np.linalg.lstsq(design / dy[:, None], y / dy, rcond=None)[0]
    resid = (y - design @ coef) / dy
    sigma = max(1.4826 * np.median(np.abs(resid)), 1.0)
    return np.abs(resid) <= n_sigma * sigma


def grey_decision(chi_p, chi_2p, scale, c, error):
    """`grey_test`'s decision from its parts: ``(grey, note)``."""
    shape = (chi_p - chi_2p) / scale if np.isfinite(scale) else 0.0
    colour = (1 - 2 * c) / error**2 if np.isfinite(c) and error > 0 else 0.0
    evidence = shape + colour
    grey = bool(evidence > GREY_EVIDENCE)
    return grey, (f"contact-binary evidence {evidence:.1f} (shape {shape:.1f}, colour index "
                  f"{c:.2f} ± {error:.2f})" + (": doubled" if grey else ""))


def doubling_test(t, y, dy, bands, period, *, nterms=3):
    """Does the light curve repeat every ``period``, or only every ``2 * period``?

    Nested least-squares models: ``nterms`` harmonics of ``period`` (plus a mean per filter)
    against ``2 * nterms`` harmonics of ``2 * period``, which contain the first model and add
    the odd harmonics of ``2 * period`` (a difference between alternate cycles, such as unequal
    eclipses).  Returns the F statistic and its p-value: a small p-value means ``2 * period``.

    Examples
    --------
    >>> t = np.sort(np.random.default_rng(0).uniform(0, 300, 80))
    >>> y = np.cos(2 * np.pi * t / 3.0) + 0.5 * np.cos(np.pi * t / 3.0)
    >>> _, p = doubling_test(t, y, np.full(80, 0.05), np.zeros(80), 3.0)
    >>> bool(p < 1e-6)
    True
    """
    from scipy import stats
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    dy = np.asarray(dy, dtype=float)
    chi1, k1 = harmonic_chi2(t, y, dy, bands, 1.0 / period, nterms)
    chi2, k2 = harmonic_chi2(t, y, dy, bands, 0.5 / period, 2 * nterms)
    dof = len(t) - k2
    if dof <= 0 or chi2 <= 0:
        return np.nan, 1.0
    fstat = ((chi1 - chi2) / (k2 - k1)) / (chi2 / dof)
    return float(fstat), float(stats.f.sf(fstat, k2 - k1, dof))


def string_length(t, y, bands, period, epoch=0.0):
    """Lafler–Kinman string length of the filter-centred data folded at ``period``.

    Sum of squared differences between phase-neighbours (wrapping around), divided by twice
    the sum of squared deviations: ~1 for noise, small for a coherent fold.

    Examples
    --------
    >>> t = np.linspace(0, 100, 200)
    >>> y = np.sin(2 * np.pi * t / 3.3)
    >>> string_length(t, y, np.zeros(200), 3.3) < 0.05 < 0.5 < string_length(t, y, np.zeros(200), 2.9)
    True
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    bands = np.asarray(bands)
    good = np.isfinite(t) & np.isfinite(y)
    t, y, bands = t[good], y[good], bands[good]
    resid = centre_by_band(y, band_index(bands)[1])
    order = np.argsort(((t - epoch) / period) % 1.0, kind="stable")
    folded = resid[order]
    diffs = np.diff(np.r_[folded, folded[:1]])
    denom = 2 * np.sum((resid - resid.mean()) ** 2)
    return float(np.sum(diffs**2) / denom) if denom > 0 else np.nan


@dataclass
class PeriodResult:
    """What `find_period` found.

    Attributes
    ----------
    period : `~astropy.units.Quantity`
        The best period (d), after the eclipsing-binary rule.
    periodogram_period : `~astropy.units.Quantity`
        The period of the highest periodogram peak (before that rule).
    power : float
        Periodogram power at ``periodogram_period`` (standard normalisation, 0..1).
    doubled : bool
        Whether ``period`` is twice the periodogram's (eclipsing-binary rule).
    doubling_p : float
        p-value of `doubling_test` at the periodogram's period: small means the light curve
        differs between alternate cycles, so the period is twice the periodogram's.
    nterms : int
        Harmonics of the periodogram model.
    method : str
        ``"lomb-scargle"`` (multi-band periodogram) or ``"eclipse"`` (eclipse search,
        ``eclipsing=True``).
    rule : str
        Why ``period`` is what it is (e.g. ``"alternate eclipses differ in depth"``).
    secondary_z, odd_even_z : float
        Eclipse search only: significance (in standard errors) of a secondary eclipse half a cycle
        after the primary, and of a depth difference between alternate eclipses at twice the
        period; NaN otherwise.
    candidates : `~astropy.table.Table`
        The top periodogram peaks: ``period``, ``power``, ``doubling_F``, ``doubling_p``,
        ``dispersion`` (Lafler–Kinman string length at P) and ``dispersion_2p`` (at 2P).
    frequency, power_spectrum : `~numpy.ndarray`
        The periodogram (1/d, power).
    false_alarm_probability : float
        Analytic estimate (see the module notes); NaN for the eclipse search.
    false_alarm_bootstrap : float or None
        From ``n_shuffles`` shuffles, or None.
    shuffle_max_power : `~numpy.ndarray`
        Highest peak of each shuffle.
    n_points, n_filters, baseline
        The data searched.
    """
    period: u.Quantity
    periodogram_period: u.Quantity
    power: float
    doubled: bool
    doubling_p: float
    nterms: int
    method: str
    rule: str
    secondary_z: float
    odd_even_z: float
    candidates: Table
    frequency: np.ndarray = field(repr=False)
    power_spectrum: np.ndarray = field(repr=False)
    false_alarm_probability: float = np.nan
    false_alarm_bootstrap: float = None
    shuffle_max_power: np.ndarray = field(default_factory=lambda: np.array([]), repr=False)
    n_points: int = 0
    n_filters: int = 0
    baseline: float = 0.0

    @property
    def false_alarm(self):
        """The bootstrap false-alarm estimate if shuffles were run, else the analytic one."""
        if self.false_alarm_bootstrap is not None:
            return self.false_alarm_bootstrap
        return self.false_alarm_probability

    @property
    def best_periods(self):
        """Candidate periods, strongest periodogram peak first (d)."""
        return self.candidates["period"].quantity


def _fap(power, t, n_params, freq, baseline, nterms, min_period):
    """`analytic_fap` of the highest peak of a search on ``freq``."""
    m_eff = max(1.0, nterms * (freq[-1] - freq[0]) * baseline)
    return analytic_fap(power, n_visits(t, min_period / 4), n_params, m_eff)


def _refined_candidates(spectrum, freq, power, n, oversample):
    """The ``n`` best peaks of ``power``, each located on a 20x finer grid (``spectrum(f)``)."""
    step = freq[1] - freq[0] if len(freq) > 1 else 1.0
    rows = []
    for i in local_maxima(power, n, min_separation=max(2, int(oversample))):
        fine = np.linspace(freq[i] - step, freq[i] + step, 41)
        fine = fine[fine > 0]
        fine_power = spectrum(fine)
        j = int(np.argmax(fine_power))
        rows.append((1.0 / fine[j], float(fine_power[j])))
    rows.sort(key=lambda r: -r[1])
    return np.array([r[0] for r in rows[:n]]), np.array([r[1] for r in rows[:n]])


def _shuffled_maxima(spectrum, y, dy, bands, n_shuffles, seed):
    """Highest peak of ``spectrum`` for ``n_shuffles`` copies of the data permuted within each
    filter (times kept)."""
    rng = np.random.default_rng(seed)
    out = np.empty(n_shuffles)
    for j in range(n_shuffles):
        ys, dys = y.copy(), dy.copy()
        for band in np.unique(bands):
            idx = np.flatnonzero(bands == band)
            perm = rng.permutation(idx)
            ys[idx], dys[idx] = y[perm], dy[perm]
        out[j] = spectrum(ys, dys).max()
    return out


def find_period(data, *, column="mag", min_period=None, max_period=50.0, oversample=None,
                nterms=None, n_candidates=5, eclipsing="auto", alpha=1e-4, n_shuffles=0,
                seed=0):
    """Search a PS1 light curve (all filters together) for its period.

    Parameters
    ----------
    data : `~lightkurve.LightCurveCollection`, `~lightkurve.LightCurve` or `~astropy.table.Table`
        Curves from `~astroquery_ps1tap.lightcurves.to_lightcurves` (one per filter), a combined
        curve from `~astroquery_ps1tap.lightcurves.combine_bands` (``filterID`` column), or a
        detections table (converted with the default quality mask).
    column : str
        The column searched (``"mag"``; ``"dmag"`` gives the same periods).
    min_period, max_period : float
        Search range in days.  The default 0.1 d (0.2 d with ``eclipsing=True``) to 50 d covers
        RR Lyrae stars, Cepheids and most eclipsing binaries; go down to ~0.05 d for
        short-period binaries (a longer grid, a longer search).
    oversample : float
        Grid points per ``1/baseline`` (the width of a sinusoid's peak): 5 by default, 30 for
        the eclipse search of ``eclipsing=True`` (an eclipse lasting a few percent of the cycle
        gives a peak that much narrower).
    nterms : int, optional
        Harmonics of the periodogram model; default 1 (a sinusoid) with ``eclipsing=False``,
        3 otherwise (narrow eclipses need harmonics).
    n_candidates : int
        How many periodogram peaks are refined and kept as candidates.
    eclipsing : {"auto", True, False}
        ``True`` for a known eclipsing binary: the eclipse search and the eclipse rule;
        otherwise the multi-band Lomb–Scargle periodogram, doubled by ``"auto"`` when
        alternate cycles differ (see `astroquery_ps1tap.periods.search`).
    alpha : float
        Significance level of the doubling test for ``eclipsing="auto"``.
    n_shuffles : int
        Shuffled copies searched for a bootstrap false-alarm estimate (each costs about as much
        as the search itself).
    seed : int
        Random seed for the shuffles.

    Returns
    -------
    `PeriodResult`

    Examples
    --------
    >>> from astroquery_ps1tap.periods import simulate_detections
    >>> det = simulate_detections("rrlyrae", 0.48636, seed=1)
    >>> result = find_period(det, eclipsing=False)
    >>> round(float(result.period.to_value("d")), 4), result.doubled
    (0.4864, False)
    """
    if eclipsing not in ("auto", True, False):
        raise ValueError(f"eclipsing must be 'auto', True or False, not {eclipsing!r}")
    box = eclipsing is True
    min_period = min_period if min_period is not None else (0.2 if box else 0.1)
    oversample = oversample if oversample is not None else (30 if box else 5)
    t, y, dy, bands = light_curve_arrays(data, column)
    n_filters = len(np.unique(bands))
    baseline = float(t.max() - t.min())
    freq = frequency_grid(baseline, min_period=min_period, max_period=max_period,
                          oversample=oversample)
    # eclipses: a few points far fainter than the rest of their filter would dominate a
    # periodogram's fit; the out-of-eclipse (ellipsoidal) light curve is searched first
    in_eclipse = eclipse_points(y, bands) if eclipsing == "auto" else np.zeros(len(y), bool)
    plans = [True, False] if int(in_eclipse.sum()) >= MIN_ECLIPSE_POINTS else [False]
    for ellipsoidal in plans:
        terms = int(nterms if nterms is not None else
                    (1 if (eclipsing is False or ellipsoidal) else 3))
        if terms < 1:
            raise ValueError("nterms must be at least 1")
        k = n_filters + 2 * terms
        if len(t) < k + 2:
            raise ValueError(f"{len(t)} usable points in {n_filters} filters are too few for a "
                             f"period search with nterms={terms} (need at least {k + 2})")
        fit = ~in_eclipse if ellipsoidal else np.ones(len(y), bool)
        tf, yf, dyf, bf = t[fit], y[fit], dy[fit], bands[fit]

        def spectrum(frequency, yy=yf, dyy=dyf, tf=tf, bf=bf, terms=terms):
            if box:
                return eclipse_power(t, yy, bands, frequency)[0]
            return multiband_power(tf, yy, dyy, bf, frequency, nterms=terms)

        power = spectrum(freq)
        if box:
            # the eclipse search's peaks are narrower than its grid can follow everywhere:
            # refine 20 of them, scored with 4x finer phase bins (the true period aligns its
            # eclipse points more tightly than an alias does)
            periods, powers = _refined_candidates(
                lambda f: eclipse_power(t, y, bands, f, n_bins=200, half_widths=(4, 8, 16))[0],
                freq, power, max(n_candidates, 20), oversample)
            periods, powers = periods[:n_candidates], powers[:n_candidates]
        else:
            periods, powers = _refined_candidates(spectrum, freq, power, n_candidates, oversample)
        fap = np.nan if box else _fap(powers[0], tf, k, freq, baseline, terms, min_period)
        if not ellipsoidal or fap < ELLIPSOIDAL_MAX_FAP:
            break            # else: no significant light curve outside the eclipses; all points

    tests = [doubling_test(tf, yf, dyf, bf, p, nterms=terms) for p in periods]
    candidates = Table({"period": periods * u.d, "power": powers,
                        "doubling_F": [f for f, _ in tests],
                        "doubling_p": [p for _, p in tests],
                        "dispersion": [string_length(t, y, bands, p) for p in periods],
                        "dispersion_2p": [string_length(t, y, bands, 2 * p) for p in periods]})
    p_double = tests[0][1]
    z_sec = z_oe = np.nan
    if box:
        # polish the best period with 4x finer phase bins (the eclipse statistic is flat
        # across a bin's worth of frequency): the middle of the flat top
        step = freq[1] - freq[0]
        fine = np.linspace(1.0 / periods[0] - step, 1.0 / periods[0] + step, 201)
        fine_power = eclipse_power(t, y, bands, fine, n_bins=200, half_widths=(4, 8, 16))[0]
        top = np.flatnonzero(fine_power >= fine_power.max() * (1 - 1e-9))
        periods[0] = 1.0 / fine[top[len(top) // 2]]
        candidates["period"][0] = periods[0]
        best, doubled, rule, z_sec, z_oe = eclipse_rule(t, y, bands, periods[0])
    elif ellipsoidal:
        # the out-of-eclipse light curve repeats twice per orbit; unequal eclipses (all points
        # now) make alternate cycles differ
        _, p_double = doubling_test(t, y, dy, bands, periods[0], nterms=3)
        doubled = p_double < alpha
        rule = (f"{int(in_eclipse.sum())} points in eclipse left out of the periodogram; "
                + ("doubled: with the eclipses, alternate cycles differ (doubling test)" if doubled
                   else "alternate cycles alike (doubling test)"))
        if not doubled:          # similar eclipses: the eclipse rule
            _, doubled, why, _, _ = eclipse_rule(t, y, bands, periods[0])
            rule += "; eclipse rule: " + why
        best = 2 * periods[0] if doubled else periods[0]
    else:
        doubled = eclipsing == "auto" and p_double < alpha
        rule = ("alternate cycles differ (doubling test)" if doubled
                else "periodogram peak" + (" (never doubled)" if eclipsing is False else ""))
        if eclipsing == "auto" and not doubled and periods[0] < GREY_MAX_PERIOD \
                and fap < RECOMMENDED_FAP:
            doubled, why = grey_test(t, y, dy, bands, 1.0 / periods[0])
            rule += "; " + why
        best = 2 * periods[0] if doubled else periods[0]

    shuffle_max = np.array([])
    fap_boot = None
    if n_shuffles:
        shuffle_max = _shuffled_maxima(lambda yy, dyy: spectrum(freq, yy, dyy), yf, dyf, bf,
                                       n_shuffles, seed)
        fap_boot = float((1 + np.sum(shuffle_max >= powers[0])) / (1 + n_shuffles))

    return PeriodResult(
        period=best * u.d, periodogram_period=periods[0] * u.d, power=float(powers[0]),
        doubled=bool(doubled), doubling_p=float(p_double), nterms=terms,
        method="eclipse" if box else ("lomb-scargle, eclipses excluded" if ellipsoidal
                                      else "lomb-scargle"), rule=rule, secondary_z=float(z_sec),
        odd_even_z=float(z_oe), candidates=candidates, frequency=freq, power_spectrum=power,
        false_alarm_probability=fap, false_alarm_bootstrap=fap_boot,
        shuffle_max_power=shuffle_max, n_points=int(len(t)), n_filters=int(n_filters),
        baseline=baseline)
