"""Multi-band Lomb–Scargle periodograms: the frequency grid, the power, its peaks and false alarms.

The model is the *shared-phase multi-band* model of VanderPlas & Ivezić (2015): ``nterms``
harmonics common to all filters plus a free mean per filter (the ``nterms_band=0`` case of
`astropy.timeseries.LombScargleMultiband`).  Its power, in the standard normalisation, is
``1 - chi2(f) / chi2_0`` where ``chi2_0`` is that of the per-filter means alone.

* `multiband_power`: one light curve, numpy, vectorised over frequencies (closed form for
  ``nterms=1``, batched normal equations otherwise);
* `multiband_peaks`: many light curves at once on one shared grid, keeping only the highest
  peaks of each (the full spectra of 10,000 objects would not fit in memory).  With numba
  installed (the ``fast`` extra) a compiled kernel runs over the objects in parallel, stepping
  the sines and cosines from one frequency to the next by rotation instead of evaluating them;
  without it, `multiband_power` runs object by object.  Both give the same peaks.

The grid: a peak of a light curve spanning ``T`` days is ``~1/T`` wide, so `frequency_grid`
spaces frequencies by ``1 / (oversample * T)``.
"""
import numpy as np

__all__ = ["frequency_grid", "multiband_power", "multiband_peaks", "analytic_fap", "band_index",
           "centre_by_band", "local_maxima", "harmonic_chi2", "harmonic_chi2_many", "n_visits"]


def frequency_grid(baseline, *, min_period=0.1, max_period=50.0, oversample=5):
    """Return a regular frequency grid (1/d) for a light curve spanning ``baseline`` days.

    Spacing ``1 / (oversample * baseline)``; from ``1/max_period`` to ``1/min_period``.

    Examples
    --------
    >>> f = frequency_grid(1800.0, min_period=0.1, max_period=50.0)
    >>> len(f), round(float(f[1] - f[0]) * 1800 * 5, 6)
    (89821, 1.0)
    """
    if not (0 < min_period < max_period):
        raise ValueError(f"need 0 < min_period < max_period, got {min_period}, {max_period}")
    if not baseline > 0:
        raise ValueError("the light curve needs points at more than one time")
    step = 1.0 / (oversample * baseline)
    return np.arange(1.0 / max_period, 1.0 / min_period + step / 2, step)


def band_index(bands):
    """``(names, index)``: the distinct filters and each point's position among them."""
    return np.unique(np.asarray(bands), return_inverse=True)


def centre_by_band(y, index, weights=None):
    """``y`` minus its filter's weighted mean (``weights``) or median (``weights=None``).

    Examples
    --------
    >>> centre_by_band(np.array([1.0, 3.0, 10.0, 14.0, 11.0]), np.array([0, 0, 1, 1, 1])).tolist()
    [-1.0, 1.0, -1.0, 3.0, 0.0]
    """
    y = np.asarray(y, dtype=float)
    index = np.asarray(index)
    out = y.copy()
    for b in np.unique(index):
        sel = index == b
        if weights is None:
            out[sel] -= np.median(y[sel])
        else:
            out[sel] -= np.average(y[sel], weights=np.asarray(weights)[sel])
    return out


def multiband_power(t, y, dy, bands, frequency, *, nterms=1, chunk=None):
    """Shared-phase multi-band Lomb–Scargle power (standard normalisation, 0..1).

    Same as ``LombScargleMultiband(t, y, bands, dy, nterms_base=nterms, nterms_band=0)
    .power(frequency, method="flexible")``, much faster.

    Parameters
    ----------
    t, y, dy : array-like
        Times (d), magnitudes, magnitude errors (``dy=None``: equal weights).
    bands : array-like
        Filter of each point.
    frequency : array-like
        Frequencies (1/d).
    nterms : int
        Harmonics in the model: 1 for a sinusoid; 3 follows eclipses much better.

    Examples
    --------
    >>> t = np.sort(np.random.default_rng(0).uniform(0, 400, 60))
    >>> bands = np.repeat(["g", "r"], 30)
    >>> y = np.sin(2 * np.pi * t / 0.6) + np.where(bands == "r", 1.0, 0.0)
    >>> f = np.linspace(0.5, 3, 20000)
    >>> round(float(1 / f[np.argmax(multiband_power(t, y, None, bands, f))]), 3)
    0.6
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    dy = np.ones_like(y) if dy is None else np.asarray(dy, dtype=float)
    good = np.isfinite(t) & np.isfinite(y) & np.isfinite(dy) & (dy > 0)
    t, y, dy = t[good], y[good], dy[good]
    _, index = band_index(np.asarray(bands)[good])
    frequency = np.asarray(frequency, dtype=float)
    power = np.zeros(len(frequency))
    if len(t) < 3:
        return power
    w = 1.0 / dy**2
    resid = centre_by_band(y, index, w)
    chi0 = np.sum(w * resid**2)
    if chi0 <= 0:
        return power
    onehot = np.zeros((len(t), index.max() + 1))
    onehot[np.arange(len(t)), index] = 1.0
    wb = onehot * w[:, None]                       # (N, B) weights per band
    wsum = wb.sum(axis=0)
    t = t - t.min()
    wr = w * resid
    if nterms > 1:
        return _multiband_power_n(t, wr, w, wb, wsum, chi0, frequency, int(nterms),
                                  chunk or max(16, 2_000_000 // (nterms * len(t))))
    chunk = chunk or max(64, 4_000_000 // len(t))   # ~4 million basis values at a time
    for start in range(0, len(frequency), chunk):
        phase = 2 * np.pi * frequency[start:start + chunk, None] * t[None, :]
        s, c = np.sin(phase), np.cos(phase)
        sb = (s @ wb) / wsum                         # weighted per-filter means of sin, cos
        cb = (c @ wb) / wsum
        ss = (s * s) @ w - (sb * sb) @ wsum
        cc = (c * c) @ w - (cb * cb) @ wsum
        sc = (s * c) @ w - (sb * cb) @ wsum
        ys = s @ wr
        yc = c @ wr
        det = ss * cc - sc * sc
        with np.errstate(invalid="ignore", divide="ignore"):
            reduction = (ys * ys * cc - 2 * ys * yc * sc + yc * yc * ss) / det
        power[start:start + chunk] = np.where(det > 1e-12 * (ss + cc) ** 2, reduction / chi0, 0.0)
    return np.clip(power, 0.0, 1.0)


def _multiband_power_n(t, wr, w, wb, wsum, chi0, frequency, nterms, chunk):
    power = np.zeros(len(frequency))
    k = np.arange(1, nterms + 1)
    eye = np.eye(2 * nterms)
    for start in range(0, len(frequency), chunk):
        omega = 2 * np.pi * frequency[start:start + chunk]
        phase = omega[:, None, None] * k[None, :, None] * t[None, None, :]
        basis = np.concatenate([np.sin(phase), np.cos(phase)], axis=1)     # (F, 2n, N)
        means = (basis @ wb) / wsum                                        # (F, 2n, B)
        gram = (basis * w) @ basis.transpose(0, 2, 1) \
            - (means * wsum) @ means.transpose(0, 2, 1)
        rhs = basis @ wr                                                   # (F, 2n)
        gram += eye * (1e-10 * np.trace(gram, axis1=1, axis2=2))[:, None, None]
        sol = np.linalg.solve(gram, rhs[..., None])[..., 0]
        power[start:start + chunk] = np.sum(rhs * sol, axis=1) / chi0
    return np.clip(power, 0.0, 1.0)


def harmonic_chi2(t, y, dy, bands, frequency, nterms):
    """Weighted chi-square of a mean per filter + ``nterms`` harmonics of ``frequency``, and the
    number of parameters (least squares).

    Examples
    --------
    >>> t = np.linspace(0, 50, 40)
    >>> chi2, k = harmonic_chi2(t, np.sin(2 * np.pi * t / 3.0), np.ones(40), np.zeros(40), 1 / 3.0, 1)
    >>> bool(chi2 < 1e-20), k
    (True, 3)
    """
    _, index = band_index(bands)
    phase = 2 * np.pi * np.outer(t - t.min(), np.arange(1, nterms + 1)) * frequency
    design = np.column_stack([np.eye(index.max() + 1)[index], np.sin(phase), np.cos(phase)])
    sw = 1.0 / dy
    coef, *_ = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)
    return float(np.sum(((y - design @ coef) * sw) ** 2)), design.shape[1]


def harmonic_chi2_many(t, y, dy, band, starts, frequencies, nterms, *, engine="auto"):
    """`harmonic_chi2` of many objects, each at its own frequencies.

    ``frequencies[i]`` are object ``i``'s (NaN: skipped, NaN out); arrays as in
    `multiband_peaks`.  Returns an array shaped like ``frequencies``.
    """
    frequencies = np.atleast_2d(np.asarray(frequencies, dtype=float))
    out = np.full(frequencies.shape, np.nan)
    kernel = _kernel("chi2_many") if engine != "numpy" else None
    if engine == "numba" and kernel is None:
        raise ImportError("engine='numba' needs numba: pip install 'astroquery_ps1tap[fast]'")
    t, y, dy, band = (np.asarray(a) for a in (t, y, dy, band))
    starts = np.asarray(starts, dtype=np.int64)
    if kernel is not None:
        # per-filter centring first: the model is blind to it, and it keeps the sums small
        n_obj = len(starts) - 1
        n_bands = int(band.max()) + 1 if len(band) else 1
        key = np.repeat(np.arange(n_obj), np.diff(starts)) * n_bands + band
        w = 1.0 / dy**2
        mean = np.bincount(key, weights=w * y, minlength=n_obj * n_bands) / np.maximum(
            np.bincount(key, weights=w, minlength=n_obj * n_bands), 1e-300)
        kernel(t.astype(float), (y - mean[key]).astype(float), w.astype(float),
               band.astype(np.int64), starts, frequencies, int(nterms), out)
        return out
    for o in range(len(starts) - 1):
        sl = slice(starts[o], starts[o + 1])
        for k, f in enumerate(frequencies[o]):
            if np.isfinite(f):
                out[o, k] = harmonic_chi2(t[sl], y[sl], dy[sl], band[sl], f, nterms)[0]
    return out


def local_maxima(power, n, min_separation=1):
    """Indices of the ``n`` highest local maxima of ``power``, at least ``min_separation`` apart.

    Examples
    --------
    >>> local_maxima(np.array([0, 3, 1, 0, 5, 4, 0, 2, 0.0]), 2).tolist()
    [4, 1]
    """
    power = np.asarray(power)
    if len(power) < 3:
        return np.argsort(power)[::-1][:n]
    local = np.flatnonzero((power[1:-1] >= power[:-2]) & (power[1:-1] >= power[2:])) + 1
    local = local[np.argsort(power[local], kind="stable")[::-1]]
    chosen = []
    for i in local:
        if all(abs(i - j) >= min_separation for j in chosen):
            chosen.append(i)
            if len(chosen) == n:
                break
    return np.array(chosen, dtype=int)


def analytic_fap(power, n_visits, n_params, n_frequencies):
    """Rough false-alarm probability of the highest of ``n_frequencies`` independent peaks.

    ``1 - (1 - (1 - p)^((N - K) / 2))^M`` for peak power ``p`` (standard normalisation),
    ``N = n_visits`` independent points, ``K = n_params`` and ``M = n_frequencies``.  Works on
    arrays (one value per object).

    Examples
    --------
    >>> round(float(analytic_fap(0.5, 40, 7, 30000)), 3), float(analytic_fap(0.01, 40, 7, 30000))
    (0.277, 1.0)
    """
    power = np.asarray(power, dtype=float)
    n_visits = np.asarray(n_visits, dtype=float)
    dof = np.maximum(n_visits - n_params, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        single = np.exp(0.5 * dof * np.log1p(-np.clip(power, 0.0, 1.0 - 1e-16)))
        fap = -np.expm1(np.maximum(np.asarray(n_frequencies, dtype=float), 1.0)
                        * np.log1p(-np.minimum(single, 1.0 - 1e-16)))
    fap = np.where((dof <= 0) | (single >= 1.0), 1.0, fap)
    return fap if fap.ndim else float(fap)


def n_visits(t, separation):
    """Points closer in time than ``separation`` (an exposure pair) count once.

    Examples
    --------
    >>> n_visits(np.array([0.0, 0.01, 3.0, 3.02, 9.0]), 0.025)
    3
    """
    t = np.sort(np.asarray(t, dtype=float))
    return 1 + int(np.count_nonzero(np.diff(t) > separation)) if len(t) else 0


# ----------------------------------------------------------------------------------------------
# Many light curves on one grid

_KERNEL = []


def _kernel(name="peaks_many"):
    """A compiled kernel of `._kernel`, or None without numba."""
    if not _KERNEL:
        try:
            from . import _kernel as module
        except ImportError:
            module = None
        _KERNEL.append(module)
    return getattr(_KERNEL[0], name) if _KERNEL[0] is not None else None


def multiband_peaks(t, y, dy, band, starts, frequency, *, n_peaks=10, refine=16,
                    min_separation=2, n_harmonic_peaks=0, harmonics=3, engine="auto"):
    """The highest peaks of the nterms=1 multi-band periodograms of many light curves.

    Parameters
    ----------
    t, y, dy : `~numpy.ndarray`
        Times (d), magnitudes and errors of all objects, concatenated; within each object the
        points sorted by filter.  A point with ``dy <= 0`` or NaN is left out of the fit.
    band : `~numpy.ndarray` of int
        Filter index of each point (0..4).
    starts : `~numpy.ndarray` of int
        Object ``i`` is ``t[starts[i]:starts[i + 1]]``.
    frequency : `~numpy.ndarray`
        A regular grid (`frequency_grid`), shared by all objects.
    n_peaks : int
        Peaks kept per object (local maxima, at least ``min_separation`` grid steps apart).
    refine : int
        Each peak is then located on a grid ``refine`` times finer, ±1 step around it.
    n_harmonic_peaks : int
        Also this many peaks of the *harmonic sum*: the power at ``f`` plus the highest power
        near ``2f``, ... ``harmonics × f`` (a narrow eclipse spreads its power over many
        harmonics, so its period may be missing among the highest peaks of a sinusoid), each
        located on the finer grid by the sum of the powers at its harmonics.
    engine : {"auto", "numba", "numpy"}
        The compiled kernel (numba, the ``fast`` extra) or `multiband_power` object by object.

    Returns
    -------
    frequency, power : `~numpy.ndarray` of shape (n_objects, n_peaks)
        Highest first; NaN frequency and 0 power where an object has fewer peaks.  With
        ``n_harmonic_peaks``, two more arrays of shape (n_objects, n_harmonic_peaks): the
        frequencies and summed powers of the harmonic sum's peaks.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.concatenate([np.sort(rng.uniform(0, 900, 60)) for _ in range(2)])
    >>> band = np.tile(np.repeat([0, 1], 30), 2)
    >>> y = np.sin(2 * np.pi * t / np.repeat([0.61, 2.3], 60)) + band
    >>> f, p = multiband_peaks(t, y, np.full(120, 0.05), band, np.array([0, 60, 120]),
    ...                        frequency_grid(900, oversample=3), n_peaks=3)
    >>> np.round(1 / f[:, 0], 3).tolist()
    [0.61, 2.3]
    """
    if engine not in ("auto", "numba", "numpy"):
        raise ValueError(f"engine must be 'auto', 'numba' or 'numpy', not {engine!r}")
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    dy = np.asarray(dy, dtype=float)
    band = np.asarray(band, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    frequency = np.asarray(frequency, dtype=float)
    n_obj = len(starts) - 1
    out_f = np.full((n_obj, n_peaks), np.nan)
    out_p = np.zeros((n_obj, n_peaks))
    out_hf = np.full((n_obj, n_harmonic_peaks), np.nan)
    out_hp = np.zeros((n_obj, n_harmonic_peaks))
    if n_obj == 0 or len(frequency) < 3:
        return (out_f, out_p, out_hf, out_hp) if n_harmonic_peaks else (out_f, out_p)
    df = float(frequency[1] - frequency[0])
    kernel = _kernel() if engine != "numpy" else None
    if engine == "numba" and kernel is None:
        raise ImportError("engine='numba' needs numba: pip install 'astroquery_ps1tap[fast]'")
    ok = np.isfinite(t) & np.isfinite(y) & np.isfinite(dy) & (dy > 0)
    w = np.where(ok, 1.0 / np.where(ok, dy, 1.0) ** 2, 0.0)
    y = np.where(ok, y, 0.0)
    t = np.where(np.isfinite(t), t, 0.0)
    # per-object, per-band weighted means: the residuals the model fits
    n_bands = int(band.max()) + 1 if len(band) else 1
    obj = np.repeat(np.arange(n_obj), np.diff(starts))
    key = obj * n_bands + band
    wsum = np.bincount(key, weights=w, minlength=n_obj * n_bands)
    ysum = np.bincount(key, weights=w * y, minlength=n_obj * n_bands)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(wsum > 0, ysum / wsum, 0.0)
    wr = w * (y - mean[key])
    order = np.argsort(key, kind="stable")          # within each object, by filter
    t, y, dy, w, wr, band, key = (a[order] for a in (t, y, dy, w, wr, band, key))
    if kernel is None:
        for o in range(n_obj):
            sl = slice(starts[o], starts[o + 1])
            good = w[sl] > 0
            if good.sum() < 3:
                continue
            tt, yy, ee, bb = t[sl][good], y[sl][good], dy[sl][good], band[sl][good]
            power = multiband_power(tt, yy, ee, bb, frequency)
            for i, k in enumerate(local_maxima(power, n_peaks, min_separation)):
                fine = np.linspace(frequency[k] - df, frequency[k] + df, 2 * refine + 1)
                fine_power = multiband_power(tt, yy, ee, bb, fine)
                j = int(np.argmax(fine_power))
                out_f[o, i], out_p[o, i] = fine[j], fine_power[j]
            if n_harmonic_peaks:
                hsum = _harmonic_sum(power, frequency[0], df, harmonics)
                for i, k in enumerate(local_maxima(hsum, n_harmonic_peaks, min_separation)):
                    fine = np.linspace(frequency[k] - df, frequency[k] + df, 2 * refine + 1)
                    total = sum(multiband_power(tt, yy, ee, bb, h * fine)
                                for h in range(1, harmonics + 1))
                    j = int(np.argmax(total))
                    out_hf[o, i], out_hp[o, i] = fine[j], total[j]
        return (out_f, out_p, out_hf, out_hp) if n_harmonic_peaks else (out_f, out_p)
    # band offsets within each object (points sorted by band within an object)
    counts = np.bincount(key, minlength=n_obj * n_bands).reshape(n_obj, n_bands)
    bstart = np.zeros((n_obj, n_bands + 1), dtype=np.int64)
    bstart[:, 1:] = np.cumsum(counts, axis=1)
    kernel(t, w, wr, bstart, starts, float(frequency[0]), df, len(frequency), int(n_peaks),
           int(min_separation), int(refine), out_f, out_p, int(harmonics), out_hf, out_hp)
    return (out_f, out_p, out_hf, out_hp) if n_harmonic_peaks else (out_f, out_p)


def _harmonic_sum(power, f0, df, harmonics):
    """numpy twin of `._kernel.harmonic_sum`."""
    nf = len(power)
    f = f0 + np.arange(nf) * df
    out = power.copy()
    for h in range(2, harmonics + 1):
        j = np.floor((h * f - f0) / df + 0.5).astype(np.int64)
        best = np.zeros(nf)
        for d in range(-(h - 1), h):
            jj = j + d
            ok = (jj >= 0) & (jj < nf)
            best[ok] = np.maximum(best[ok], power[jj[ok]])
        out += best
    return out
