"""The compiled multi-band periodogram kernel (numba; the ``fast`` extra).

`peaks_many` computes each object's nterms=1 shared-phase multi-band power on the shared grid
``f0 + k df`` (`power_one`) and keeps its highest local maxima, each then located on a finer
grid; objects run in parallel (``numba.prange``).  The sines and cosines of a block of
``_LANES`` frequencies are stepped to the next block by one rotation per point (4 multiplications
and 2 additions instead of two transcendental functions) and recomputed exactly every
``_RESYNC`` blocks, which bounds the rounding drift to ~1e-13.  Same arithmetic as
`~astroquery_ps1tap.periods.periodograms.multiband_power` with ``nterms=1``.
"""
import numba
import numpy as np

_LANES = 16        # frequencies stepped together (SIMD lanes)
_RESYNC = 64       # blocks between exact sines and cosines


@numba.njit(fastmath=True, boundscheck=False, cache=True, nogil=True)
def power_one(tt, ww, wr, bstart, f0, df, nf, power):
    """nterms=1 power of one object (points sorted by band, bstart: band offsets) on the
    grid f0 + k df, k < nf."""
    n = len(tt)
    n_bands = len(bstart) - 1
    c = np.empty((n, _LANES))
    s = np.empty((n, _LANES))
    rc = np.empty(n)
    rs = np.empty(n)
    for j in range(n):
        rc[j] = np.cos(2 * np.pi * _LANES * df * tt[j])
        rs[j] = np.sin(2 * np.pi * _LANES * df * tt[j])
    wband = np.zeros(n_bands)
    wtot = 0.0
    chi0 = 0.0
    for b in range(n_bands):
        for j in range(bstart[b], bstart[b + 1]):
            wband[b] += ww[j]
            if ww[j] > 0:
                chi0 += wr[j] * wr[j] / ww[j]
        wtot += wband[b]
    a = np.zeros(_LANES)
    q = np.zeros(_LANES)
    c2 = np.zeros(_LANES)
    s2 = np.zeros(_LANES)
    yc = np.zeros(_LANES)
    ys = np.zeros(_LANES)
    ss = np.zeros(_LANES)
    cc = np.zeros(_LANES)
    sc = np.zeros(_LANES)
    for k0 in range(0, nf, _LANES):
        if k0 % (_LANES * _RESYNC) == 0:
            for j in range(n):
                for m in range(_LANES):
                    ph = 2 * np.pi * (f0 + (k0 + m) * df) * tt[j]
                    c[j, m] = np.cos(ph)
                    s[j, m] = np.sin(ph)
        for m in range(_LANES):
            ss[m] = 0.0
            cc[m] = 0.0
            sc[m] = 0.0
            yc[m] = 0.0
            ys[m] = 0.0
            c2[m] = 0.0
            s2[m] = 0.0
        for b in range(n_bands):
            for m in range(_LANES):
                a[m] = 0.0
                q[m] = 0.0
            for j in range(bstart[b], bstart[b + 1]):
                wj = ww[j]
                wrj = wr[j]
                r1 = rc[j]
                r2 = rs[j]
                for m in range(_LANES):
                    cj = c[j, m]
                    sj = s[j, m]
                    a[m] += wj * cj
                    q[m] += wj * sj
                    c2[m] += wj * (cj * cj - sj * sj)
                    s2[m] += wj * cj * sj
                    yc[m] += wrj * cj
                    ys[m] += wrj * sj
                    c[j, m] = cj * r1 - sj * r2
                    s[j, m] = sj * r1 + cj * r2
            if wband[b] > 0:
                iw = 1.0 / wband[b]
                for m in range(_LANES):
                    ss[m] -= q[m] * q[m] * iw
                    cc[m] -= a[m] * a[m] * iw
                    sc[m] -= a[m] * q[m] * iw
        for m in range(_LANES):
            k = k0 + m
            if k < nf:
                sss = ss[m] + 0.5 * (wtot - c2[m])
                ccc = cc[m] + 0.5 * (wtot + c2[m])
                scc = sc[m] + s2[m]
                det = sss * ccc - scc * scc
                p = 0.0
                if det > 1e-12 * (sss + ccc) ** 2 and chi0 > 0:
                    p = (ys[m] * ys[m] * ccc - 2 * ys[m] * yc[m] * scc
                         + yc[m] * yc[m] * sss) / det / chi0
                power[k] = min(max(p, 0.0), 1.0)


@numba.njit(boundscheck=False, cache=True, nogil=True)
def top_maxima(values, n_top, sep, idx, best):
    """The ``n_top`` highest local maxima of ``values`` at least ``sep`` apart, into ``idx`` and
    ``best`` (highest first; -1 where there are fewer)."""
    nf = len(values)
    for i in range(n_top):
        best[i] = -1.0
        idx[i] = 0
    for k in range(1, nf - 1):
        p = values[k]
        if p >= values[k - 1] and p >= values[k + 1] and p > best[n_top - 1]:
            clash = -1
            for i in range(n_top):
                if best[i] >= 0 and abs(idx[i] - k) < sep:
                    clash = i
                    break
            if clash >= 0:
                if p <= best[clash]:
                    continue
                for i in range(clash, n_top - 1):       # drop the weaker neighbour
                    best[i] = best[i + 1]
                    idx[i] = idx[i + 1]
                best[n_top - 1] = -1.0
            i = n_top - 1
            while i > 0 and best[i - 1] < p:
                best[i] = best[i - 1]
                idx[i] = idx[i - 1]
                i -= 1
            best[i] = p
            idx[i] = k


@numba.njit(boundscheck=False, cache=True, nogil=True)
def harmonic_sum(power, f0, df, harmonics, out):
    """``out[k]``: the power at ``f = f0 + k df`` plus, for h = 2..harmonics, the highest power
    within ``h - 1`` grid steps of ``h f`` (0 beyond the grid)."""
    nf = len(power)
    for k in range(nf):
        acc = power[k]
        f = f0 + k * df
        for h in range(2, harmonics + 1):
            j = int(np.floor((h * f - f0) / df + 0.5))
            m = 0.0
            for jj in range(j - (h - 1), j + h):
                if 0 <= jj < nf and power[jj] > m:
                    m = power[jj]
            acc += m
        out[k] = acc


@numba.njit(boundscheck=False, cache=True, nogil=True)
def refine_peaks(tt, ww, wro, bs, f0, df, idx, best, refine, harmonics, out_f, out_p):
    """Each maximum ``idx[i]`` of a grid (``f0``, ``df``) refined on a grid ``refine`` times
    finer, to the highest power summed over its first ``harmonics`` harmonics (1: the power
    itself); NaN and 0 where ``best[i] < 0`` (no maximum)."""
    n_fine = 2 * refine + 1
    dfine = df / refine
    fine = np.zeros(n_fine)
    total = np.zeros(n_fine)
    for i in range(len(idx)):
        if best[i] < 0:
            out_f[i] = np.nan
            out_p[i] = 0.0
            continue
        fs = f0 + idx[i] * df - df
        total[:] = 0.0
        for h in range(1, harmonics + 1):
            power_one(tt, ww, wro, bs, h * fs, h * dfine, n_fine, fine)
            for j in range(n_fine):
                total[j] += fine[j]
        j = np.argmax(total)
        out_f[i] = fs + j * dfine
        out_p[i] = total[j]


@numba.njit(parallel=True, boundscheck=False, cache=True)
def peaks_many(t, w, wr, bstart, starts, f0, df, nf, n_top, sep, refine, out_f, out_p,
               harmonics, out_hf, out_hp):
    n_obj = len(starts) - 1
    n_h = out_hf.shape[1]
    for o in numba.prange(n_obj):
        s0 = starts[o]
        s1 = starts[o + 1]
        tt = t[s0:s1] - t[s0]
        ww = w[s0:s1]
        wro = wr[s0:s1]
        bs = bstart[o]
        power = np.zeros(nf)
        power_one(tt, ww, wro, bs, f0, df, nf, power)
        idx = np.empty(n_top, np.int64)
        best = np.empty(n_top)
        top_maxima(power, n_top, sep, idx, best)
        refine_peaks(tt, ww, wro, bs, f0, df, idx, best, refine, 1, out_f[o], out_p[o])
        if n_h == 0:
            continue
        # candidates of the harmonic sum (narrow eclipses spread their power over harmonics)
        hsum = np.zeros(nf)
        harmonic_sum(power, f0, df, harmonics, hsum)
        hidx = np.empty(n_h, np.int64)
        hbest = np.empty(n_h)
        top_maxima(hsum, n_h, sep, hidx, hbest)
        refine_peaks(tt, ww, wro, bs, f0, df, hidx, hbest, refine, harmonics, out_hf[o],
                     out_hp[o])


@numba.njit(boundscheck=False, cache=True, nogil=True)
def harmonic_chi2(tt, yy, ww, bb, freq, nterms):
    """Weighted chi-square of a mean per filter + ``nterms`` harmonics of ``freq`` (the model
    of `~astroquery_ps1tap.periods.search._chi2`), by normal equations."""
    n = len(tt)
    present = np.zeros(16, np.int64) - 1
    n_b = 0
    for j in range(n):
        if present[bb[j]] < 0:
            present[bb[j]] = n_b
            n_b += 1
    p = n_b + 2 * nterms
    gram = np.zeros((p, p))
    rhs = np.zeros(p)
    row = np.zeros(p)
    yw2 = 0.0
    for j in range(n):
        row[:] = 0.0
        row[present[bb[j]]] = 1.0
        for h in range(nterms):
            ph = 2 * np.pi * (h + 1) * freq * tt[j]
            row[n_b + 2 * h] = np.sin(ph)
            row[n_b + 2 * h + 1] = np.cos(ph)
        w = ww[j]
        for a in range(p):
            rhs[a] += w * row[a] * yy[j]
            for b in range(a, p):
                gram[a, b] += w * row[a] * row[b]
        yw2 += w * yy[j] * yy[j]
    trace = 0.0
    for a in range(p):
        trace += gram[a, a]
        for b in range(a):
            gram[a, b] = gram[b, a]
    for a in range(p):
        gram[a, a] += 1e-12 * trace
    coef = np.linalg.solve(gram, rhs)
    chi2 = yw2
    for a in range(p):
        chi2 -= coef[a] * rhs[a]
    return max(chi2, 0.0)


@numba.njit(parallel=True, boundscheck=False, cache=True)
def chi2_many(t, y, w, band, starts, freqs, nterms, out):
    """``out[o, k]``: `harmonic_chi2` of object ``o`` at ``freqs[o, k]`` (NaN frequency: NaN)."""
    n_obj = len(starts) - 1
    for o in numba.prange(n_obj):
        s0 = starts[o]
        s1 = starts[o + 1]
        tt = t[s0:s1] - t[s0]
        for k in range(freqs.shape[1]):
            if np.isfinite(freqs[o, k]):
                out[o, k] = harmonic_chi2(tt, y[s0:s1], w[s0:s1], band[s0:s1], freqs[o, k], nterms)
            else:
                out[o, k] = np.nan
