"""Eclipses in sparse multi-band light curves: the points caught in eclipse, an eclipse search,
and the rule that tells an eclipsing binary's period from half of it.

A binary with two similar eclipses per orbit looks like a variable of *half* its period, and
that is what a periodogram finds.  Narrow eclipses (a few percent of the cycle) are also poorly
followed by sinusoids.

* `eclipse_points`: points far fainter than the rest of their filter.  With PS1's 0.1–0.3 %
  errors two points in eclipse outweigh all the others in a periodogram's fit, so the search
  (`~astroquery_ps1tap.periods.find_period`) leaves them out and finds the out-of-eclipse
  (ellipsoidal) variation at half the orbital period;
* `eclipse_power`: a matched filter of V-shaped dips over phase-binned, filter-normalised
  magnitudes (``find_period(..., eclipsing=True)``);
* `eclipse_rule`: given the eclipse search's period ``P`` (the interval between the eclipses it
  stacks), decide between ``P`` and ``2P`` from the depths, in magnitudes above each filter's
  out-of-eclipse median:

  1. a secondary dip half a cycle after the primary, > 3 standard errors: ``P``;
  2. else, folded on ``2P``, alternate eclipses differ by > 3 standard errors: ``2P``;
  3. else two similar eclipses per orbit are assumed: ``2P`` (the classic convention; wrong
     for a binary whose secondary eclipse was never observed: look at the fold).
"""
import numpy as np

from .periodograms import band_index, centre_by_band

__all__ = ["eclipse_points", "eclipse_points_many", "eclipse_power", "eclipse_rule", "MIN_ECLIPSE_POINTS"]

#: Points in eclipse (`eclipse_points`) that make a search treat a star as an eclipsing binary.
MIN_ECLIPSE_POINTS = 2


def _pairs_once(t):
    """Points closer than 0.05 d (an exposure pair) count once."""
    return 1 + int(np.count_nonzero(np.diff(np.sort(t)) > 0.05)) if len(t) else 0


def eclipse_points(y, bands, *, n_sigma=5.0, passes=3):
    """Points far fainter than the rest of their filter: in eclipse.

    A point is in eclipse when its magnitude exceeds its filter's median by more than
    ``n_sigma`` robust standard deviations, iterated ``passes`` times without the points already
    found.  The robust standard deviation (1.4826 × the median absolute deviation) is the larger
    of the filter's own and that of all filters pooled, so that a filter whose few points happen
    to bunch at one phase of a pulsating star does not mistake its other points for eclipses.
    Only the faint side counts: eclipses dim a star, nothing brightens it that way.

    Examples
    --------
    >>> y = np.array([15.0, 15.01, 14.99, 15.02, 14.98, 15.0, 16.2])
    >>> eclipse_points(y, np.zeros(7)).tolist()
    [False, False, False, False, False, False, True]
    """
    y = np.asarray(y, dtype=float)
    _, index = band_index(bands)
    return eclipse_points_many(y, index, np.array([0, len(y)]), n_sigma=n_sigma, passes=passes)


def _group_median(values, groups, n_groups, mask):
    """Median of ``values[mask]`` within each group (0..n_groups-1; NaN for an empty group)."""
    idx = np.flatnonzero(mask)
    order = np.lexsort((values[idx], groups[idx]))
    sorted_values = values[idx][order]
    counts = np.bincount(groups[idx], minlength=n_groups)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    lo = np.minimum(first + (counts - 1) // 2, max(len(idx) - 1, 0))
    hi = np.minimum(first + counts // 2, max(len(idx) - 1, 0))
    with np.errstate(invalid="ignore"):
        median = 0.5 * (sorted_values[lo] + sorted_values[hi]) if len(idx) else \
            np.zeros(n_groups)
    return np.where(counts > 0, median, np.nan), counts


def eclipse_points_many(y, band, starts, *, n_sigma=5.0, passes=3):
    """`eclipse_points` of many objects at once: object ``i`` is ``y[starts[i]:starts[i + 1]]``,
    ``band`` integer filter codes.  Group medians by sorting, no loop over objects.

    Examples
    --------
    >>> y = np.array([15.0, 15.01, 14.99, 15.02, 14.98, 15.0, 16.2, 12.0, 12.01, 11.99])
    >>> eclipse_points_many(y, np.zeros(10, int), np.array([0, 7, 10])).nonzero()[0].tolist()
    [6]
    """
    y = np.asarray(y, dtype=float)
    band = np.asarray(band, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    n_obj = len(starts) - 1
    obj = np.repeat(np.arange(n_obj), np.diff(starts))
    n_bands = int(band.max()) + 1 if len(band) else 1
    group = obj * n_bands + band
    n_groups = n_obj * n_bands
    out = np.zeros(len(y), dtype=bool)
    for _ in range(passes):
        median, counts = _group_median(y, group, n_groups, ~out)
        residual = y - median[group]                     # NaN where a filter has no point left
        absolute = np.abs(residual)
        finite = np.isfinite(absolute) & ~out
        pooled = 1.4826 * _group_median(np.where(finite, absolute, 0.0), obj, n_obj, finite)[0]
        own = 1.4826 * _group_median(np.where(finite, absolute, 0.0), group, n_groups, finite)[0]
        sigma = np.fmax(own, pooled[np.arange(n_groups) // n_bands])
        usable = (counts >= 3) & (sigma > 0)
        with np.errstate(invalid="ignore"):
            out |= usable[group] & (residual > n_sigma * sigma[group])
    return out


def _normalized_residuals(y, bands):
    """Magnitudes minus each filter's median, divided by that filter's standard deviation, so
    that filters whose eclipses are deeper (bluer filters, often) do not dominate."""
    _, index = band_index(bands)
    r = centre_by_band(y, index)
    for b in np.unique(index):
        sel = index == b
        scale = np.std(r[sel])
        if scale > 0:
            r[sel] /= scale
    return r - r.mean()


def eclipse_power(t, y, bands, frequency, *, n_bins=50, half_widths=(1, 2, 4), min_in=3,
                  chunk=4096):
    """Multi-band eclipse search: a matched filter with V-shaped (triangular) dips.

    For each frequency, the data (filter-normalised residuals, `_normalized_residuals`, equal
    weights) are folded into ``n_bins`` phase bins, and a triangular dip of each half-width in
    ``half_widths`` (in bins: 1, 2, 4 of 50 are 2 %, 4 %, 8 % of the cycle) is centred on every
    bin; a dip needs at least ``min_in`` points under it.  The power is the fraction of the
    variance the best dip explains, ``(Σ T r)² / (Σ T² − (Σ T)² / N) / Σ r²`` for template
    values ``T`` at the points.  A triangle follows real eclipses (deepest at mid-eclipse)
    better than a box: in tests on sparse PS1-like data it found the period (or half of it)
    far more often than a box least-squares search.

    Returns
    -------
    power, phase, width : `~numpy.ndarray`
        The power at each frequency, and the centre phase (from the earliest time) and full
        width (phase) of the best dip.

    Examples
    --------
    >>> t = np.sort(np.random.default_rng(1).uniform(0, 1000, 150))
    >>> y = np.where(((t / 2.5) % 1.0) < 0.05, 0.5, 0.0)
    >>> f = np.linspace(0.3, 0.5, 20001)
    >>> power, phase, width = eclipse_power(t, y, np.zeros(150), f)
    >>> round(float(1 / f[np.argmax(power)]), 3)
    2.5
    """
    t = np.asarray(t, dtype=float)
    r = _normalized_residuals(y, bands)
    frequency = np.asarray(frequency, dtype=float)
    total = np.sum(r * r)
    n_all = len(r)
    power = np.zeros(len(frequency))
    best_phase = np.zeros(len(frequency))
    best_width = np.zeros(len(frequency))
    if total <= 0 or n_all < 2 * min_in:
        return power, best_phase, best_width
    t = t - t.min()
    pad = max(half_widths)
    for start in range(0, len(frequency), chunk):
        nf = min(chunk, len(frequency) - start)
        phase = (frequency[start:start + nf, None] * t[None, :]) % 1.0
        key = (np.arange(nf)[:, None] * n_bins
               + np.minimum((phase * n_bins).astype(np.int64), n_bins - 1)).ravel()
        counts = np.bincount(key, minlength=nf * n_bins).reshape(nf, n_bins).astype(float)
        sums = np.bincount(key, weights=np.broadcast_to(r, (nf, n_all)).ravel(),
                           minlength=nf * n_bins).reshape(nf, n_bins)
        counts = np.concatenate([counts[:, -pad:], counts, counts[:, :pad]], axis=1)
        sums = np.concatenate([sums[:, -pad:], sums, sums[:, :pad]], axis=1)
        rows = np.arange(nf)
        for h in half_widths:
            st = np.zeros((nf, n_bins))
            qt = np.zeros((nf, n_bins))
            lt = np.zeros((nf, n_bins))
            n_in = np.zeros((nf, n_bins))
            for k in range(-h, h + 1):
                weight = 1.0 - abs(k) / (h + 0.5)
                c = counts[:, pad + k:pad + k + n_bins]
                st += weight * sums[:, pad + k:pad + k + n_bins]
                qt += weight * weight * c
                lt += weight * c
                n_in += c
            with np.errstate(invalid="ignore", divide="ignore"):
                den = qt - lt * lt / n_all
                stat = np.where((st > 0) & (n_in >= min_in) & (den > 0), st * st / den, 0.0)
            j = np.argmax(stat, axis=1)
            value = stat[rows, j] / total
            better = value > power[start:start + nf]
            power[start:start + nf][better] = value[better]
            best_phase[start:start + nf][better] = ((j[better] + 0.5) / n_bins) % 1.0
            best_width[start:start + nf][better] = (2 * h + 1) / n_bins
    return power, best_phase, best_width


def eclipse_rule(t, y, bands, period, *, z_min=3.0):
    """Decide between ``period`` (the eclipse search's) and twice it for an eclipsing binary.

    Depths are compared in magnitudes above each filter's out-of-eclipse median (normalised
    residuals would make a shallow eclipse in a filter without deep points look deep).
    Returns (period, doubled, rule, z_secondary, z_odd_even)."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    bands = np.asarray(bands)
    _, phase0, width = eclipse_power(t, y, bands, np.array([1.0 / period]))
    phase0, half = float(phase0[0]), 0.75 * max(float(width[0]), 0.02)
    cycles = (t - t.min()) / period - phase0
    phase = cycles % 1.0                                     # primary eclipse at phase 0

    def dist(ph, centre):
        return np.abs((ph - centre + 0.5) % 1.0 - 0.5)

    out = (dist(phase, 0.0) > 1.5 * half) & (dist(phase, 0.5) > 1.5 * half)
    resid = y.copy()
    for band in np.unique(bands):                # out-of-eclipse median of each filter
        sel = bands == band
        resid[sel] -= np.median(y[sel & out] if np.any(sel & out) else y[sel])
    if out.sum() < 3:
        return 2 * period, True, "two similar eclipses per orbit assumed", np.nan, np.nan
    sigma = 1.4826 * np.median(np.abs(resid[out] - np.median(resid[out])))
    sigma = max(sigma, 1e-3)
    # the secondary's depth: residuals weighted by a triangle as wide as the primary
    weight = np.clip(1.0 - dist(phase, 0.5) / half, 0.0, None)
    z_sec = 0.0
    if np.count_nonzero(weight) and weight.sum() > 0:
        depth = np.sum(weight * resid) / weight.sum()
        error = sigma * np.sqrt(np.sum(weight**2)) / weight.sum()
        n_vis = _pairs_once(t[weight > 0])
        error *= np.sqrt(max(1.0, np.count_nonzero(weight) / n_vis))   # pairs are not independent
        z_sec = float(depth / error)
    phase2 = (phase / 2.0 + 0.5 * (np.floor(cycles) % 2)) % 1.0
    a = dist(phase2, 0.0) < half / 2
    b = dist(phase2, 0.5) < half / 2
    z_oe = 0.0
    if a.any() and b.any():
        sa = max(np.std(resid[a], ddof=1) if a.sum() > 1 else 0.0, sigma)
        sb = max(np.std(resid[b], ddof=1) if b.sum() > 1 else 0.0, sigma)
        err = np.sqrt(sa**2 / _pairs_once(t[a]) + sb**2 / _pairs_once(t[b]))
        z_oe = float(abs(resid[a].mean() - resid[b].mean()) / err)
    if z_sec > z_min:
        return period, False, "secondary eclipse seen half a cycle after the primary", z_sec, z_oe
    if z_oe > z_min:
        return 2 * period, True, "alternate eclipses differ in depth", z_sec, z_oe
    return 2 * period, True, "two similar eclipses per orbit assumed", z_sec, z_oe
