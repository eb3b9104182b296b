"""Magnitude plots of PS1 light curves (matplotlib), the tutorial's figures in one call each.

* `plot_lightcurves`: one panel per filter, stacked, shared time axis (MJD, TAI), magnitude axes
  inverted (brighter up), raw magnitudes or differences from the mean (``column="dmag"``);
* `plot_folded`: the same folded on a period and epoch, one or two cycles; given a combined
  curve (`~astroquery_ps1tap.lightcurves.combine_bands`) one panel with every filter in its
  colour, which is how an eclipsing binary's eclipses show;
* `plot_combined`: `~astroquery_ps1tap.lightcurves.combine_bands` then `plot_folded`, two
  cycles: the tutorial's eclipsing-binary figure;
* `plot_periodogram`: the power of a `~astroquery_ps1tap.periods.find_period` search.

Every function returns the `~matplotlib.figure.Figure` (stacked panels) or
`~matplotlib.axes.Axes` (one panel) it drew on and accepts an existing one.  lightkurve's own
``plot``/``scatter``/``errorbar`` work on the same curves (they plot flux, non-inverted).

Filter colours are Rubin Observatory's plotting colours for the same band names
(`FILTER_COLORS`).
"""
import numpy as np

from .lightcurves import as_collection, combine_bands
from .schema import FILTERS

from lightkurve import LightCurve  # noqa: I100  (after .lightcurves, which imports it quietly)

__all__ = ["plot_lightcurves", "plot_folded", "plot_combined", "plot_periodogram", "FILTER_COLORS"]

#: Conventional colours of g r i z y (as Rubin Observatory plots its bands of the same names).
FILTER_COLORS = {"g": "#49be61", "r": "#c61c00", "i": "#ffc200", "z": "#f341a2",
                 "y": "#5d0000"}


def _curves(data):
    """The curves of `~astroquery_ps1tap.lightcurves.as_collection` that have points."""
    curves = [lc for lc in as_collection(data) if len(lc)]
    if not curves:
        raise ValueError("nothing to plot: no points")
    return curves


def _values(lc, name):
    col = lc[name]
    return np.asarray(getattr(col, "value", col), dtype=float)


def _ylabel(lc, column):
    band = lc.meta.get("FILTER", "")
    if column == "dmag":
        mean = lc.meta.get("MEAN_MAG")
        if isinstance(mean, (int, float)):
            return f"{band} [mag − {mean:.2f}]"
        return f"{band} Δmag"
    return f"{band} [mag]"


def _draw(ax, x, lc, column, color, errorbars, connect, label=None):
    y = _values(lc, column)
    err = _values(lc, "mag_err") if errorbars and "mag_err" in lc.colnames else None
    style = dict(color=color, marker="o", markersize=4, linestyle="-" if connect else "none",
                 linewidth=0.8, label=label)
    if err is not None:
        ax.errorbar(x, y, yerr=err, elinewidth=0.8, capsize=0, **style)
    else:
        ax.plot(x, y, **style)


def _figure(fig, n, sharey):
    import matplotlib.pyplot as plt
    if fig is None:
        fig, axes = plt.subplots(n, 1, sharex=True, sharey=sharey, squeeze=False,
                                 figsize=(8, 1.8 * n + 0.8), layout="constrained")
        return fig, list(axes[:, 0])
    fig.clear()
    fig.set_layout_engine("constrained")  # room for the title and labels, no empty bands
    axes = fig.subplots(n, 1, sharex=True, sharey=sharey, squeeze=False)
    return fig, list(axes[:, 0])


def plot_lightcurves(data, *, column="mag", fig=None, errorbars=True, connect=False,
                     sharey=False, title=None):
    """Plot each filter in its own panel, stacked, against time (the tutorial's first plots).

    Parameters
    ----------
    data : `~lightkurve.LightCurveCollection`, `~lightkurve.LightCurve` or `~astropy.table.Table`
        Curves from `~astroquery_ps1tap.lightcurves.to_lightcurves`, or detections (converted).
    column : {"mag", "dmag"}
        Magnitudes, or differences from each filter's mean magnitude.
    fig : `~matplotlib.figure.Figure`, optional
        Cleared and drawn on; a new figure otherwise.
    errorbars, connect : bool
        Draw magnitude error bars; join the points with lines (as the tutorial did).
    sharey : bool
        One magnitude scale for all panels (useful with ``column="dmag"``).
    title : str, optional
        Figure title (default: the object's ``LABEL`` without the filter).

    Returns
    -------
    `~matplotlib.figure.Figure`

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from astroquery_ps1tap.periods import simulate_detections
    >>> fig = plot_lightcurves(simulate_detections("rrlyrae", 0.48636), column="dmag")
    >>> len(fig.axes), bool(fig.axes[0].yaxis_inverted())
    (5, True)
    """
    curves = _curves(data)
    fig, axes = _figure(fig, len(curves), sharey)
    for ax, lc in zip(axes, curves):
        band = lc.meta.get("FILTER", "")
        _draw(ax, lc.time.tai.mjd, lc, column, FILTER_COLORS.get(band, "k"), errorbars, connect)
        ax.set_ylabel(_ylabel(lc, column))
        if not sharey or ax is axes[0]:
            if not ax.yaxis_inverted():
                ax.invert_yaxis()
    axes[-1].set_xlabel("MJD (TAI)")
    target = curves[0].meta.get("TARGETID")
    fig.suptitle(title if title is not None else (f"PS1 {target}" if target is not None else ""))
    return fig


def _phase(lc, period, epoch):
    from astropy.time import Time
    mjd = lc.time.tai.mjd
    if epoch is None:
        epoch = 0.0
    elif isinstance(epoch, Time):
        epoch = epoch.tai.mjd
    period = float(period.to_value("d")) if hasattr(period, "to_value") else float(period)
    if not period > 0:
        raise ValueError(f"period must be positive, got {period}")
    return ((mjd - float(epoch)) / period) % 1.0, period


def plot_folded(data, period, epoch=None, *, column="dmag", cycles=1, fig=None, ax=None,
                errorbars=True, title=None):
    """Plot light curves folded on ``period``: phase ``((t - epoch) / period) mod 1``.

    Parameters
    ----------
    data : `~lightkurve.LightCurveCollection`, `~lightkurve.LightCurve` or `~astropy.table.Table`
        A collection (one panel per filter, returns the Figure), or one curve — e.g. from
        `~astroquery_ps1tap.lightcurves.combine_bands`, whose filters are drawn in their
        colours on one panel (returns the Axes).
    period : float or `~astropy.units.Quantity`
        Days.
    epoch : float or `~astropy.time.Time`, optional
        Phase zero: MJD in the TAI scale of ``obsTime`` (a `~astropy.time.Time` is converted),
        e.g. the time of primary minimum; default MJD 0.
    column : {"dmag", "mag"}
        What is plotted (a combined curve has both).
    cycles : {1, 2}
        Two cycles (phase 0–2) show an eclipse or maximum whole.
    fig, ax : optional
        Where to draw (``fig`` for a collection, ``ax`` for one curve).

    Returns
    -------
    `~matplotlib.figure.Figure` or `~matplotlib.axes.Axes`

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from astroquery_ps1tap.lightcurves import to_lightcurves, combine_bands
    >>> from astroquery_ps1tap.periods import simulate_detections
    >>> lcs = to_lightcurves(simulate_detections("eclipsing", 3.6071431, epoch=54999.29))
    >>> ax = plot_folded(combine_bands(lcs), 3.6071431, 54999.29, cycles=2)
    >>> bool(ax.get_xlim()[1] > 1.9), bool(ax.yaxis_inverted())
    (True, True)
    """
    if cycles not in (1, 2):
        raise ValueError(f"cycles must be 1 or 2, not {cycles!r}")
    curves = _curves(data)
    single = isinstance(data, LightCurve) or len(curves) == 1 and ax is not None
    if single:
        import matplotlib.pyplot as plt
        lc = curves[0]
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.5))
        phase, period = _phase(lc, period, epoch)
        if "filterID" in lc.colnames:
            ids = np.asarray(lc["filterID"]).astype(int)
            names = np.array(FILTERS + ("?",))
            known = (ids >= 1) & (ids <= len(FILTERS))
            bands = np.where(known, names[np.clip(ids - 1, 0, len(FILTERS))], "?")
            for band in [b for b in FILTERS + ("?",) if b in set(bands.tolist())]:
                sel = bands == band
                for k in range(cycles):
                    _draw(ax, phase[sel] + k, lc[sel], column, FILTER_COLORS.get(band, "k"),
                          errorbars, False, label=band if k == 0 else None)
            ax.legend(loc="best", fontsize="small", ncol=len(set(bands)))
        else:
            band = lc.meta.get("FILTER", "")
            for k in range(cycles):
                _draw(ax, phase + k, lc, column, FILTER_COLORS.get(band, "k"), errorbars, False)
        ax.set_ylabel("Δmag" if column == "dmag" else "mag")
        ax.set_xlabel(f"phase (P = {period:.7g} d)")
        ax.set_xlim(-0.02 * cycles, 1.02 * cycles)
        if not ax.yaxis_inverted():
            ax.invert_yaxis()
        target = lc.meta.get("TARGETID")
        ax.set_title(title if title is not None else f"PS1 {target}")
        return ax

    fig, axes = _figure(fig, len(curves), False)
    for ax_, lc in zip(axes, curves):
        band = lc.meta.get("FILTER", "")
        phase, period = _phase(lc, period, epoch)
        for k in range(cycles):
            _draw(ax_, phase + k, lc, column, FILTER_COLORS.get(band, "k"), errorbars, False)
        ax_.set_ylabel(_ylabel(lc, column))
        ax_.invert_yaxis()
    axes[-1].set_xlim(-0.02 * cycles, 1.02 * cycles)
    axes[-1].set_xlabel(f"phase (P = {period:.7g} d)")
    target = curves[0].meta.get("TARGETID")
    fig.suptitle(title if title is not None else f"PS1 {target}")
    return fig


def plot_combined(data, period, epoch=None, *, column="dmag", cycles=2, ax=None, errorbars=True,
                  title=None):
    """Fold all filters of one object together on one panel (the tutorial's eclipsing-binary plot).

    `~astroquery_ps1tap.lightcurves.combine_bands` (differences from each filter's mean) then
    `plot_folded`, two cycles by default; each filter in its colour.

    Parameters
    ----------
    data : `~lightkurve.LightCurveCollection` or `~astropy.table.Table`
        Curves from `~astroquery_ps1tap.lightcurves.to_lightcurves`, or detections (converted);
        an already combined `~lightkurve.LightCurve` is used as it is.
    period, epoch, column, cycles, ax, errorbars, title
        As in `plot_folded`.

    Returns
    -------
    `~matplotlib.axes.Axes`

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from astroquery_ps1tap.periods import simulate_detections
    >>> det = simulate_detections("eclipsing", 2.2834698, epoch=54999.1)
    >>> ax = plot_combined(det, 2.2834698, 54999.1)
    >>> len(ax.get_legend().get_texts())
    5
    """
    combined = data if isinstance(data, LightCurve) else combine_bands(as_collection(data))
    return plot_folded(combined, period, epoch, column=column, cycles=cycles, ax=ax,
                       errorbars=errorbars, title=title)


def plot_periodogram(result, *, ax=None, mark=True, n_candidates=5):
    """Plot the power of a `~astroquery_ps1tap.periods.PeriodResult` against period (log scale).

    The peaks are marked from above, never covered: the chosen periodogram peak by a filled
    triangle, the other top candidates (``result.candidates``, up to ``n_candidates``) by open
    ones, and the adopted period, when the search doubled it, by a star; the legend, above the
    axes, gives their periods.  A new figure uses constrained layout, so the labels stay inside
    it.

    Returns
    -------
    `~matplotlib.axes.Axes`

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from astroquery_ps1tap.periods import find_period, simulate_detections
    >>> ax = plot_periodogram(find_period(simulate_detections("rrlyrae", 0.48636), eclipsing=False))
    >>> ax.get_xscale(), ax.get_legend().get_texts()[0].get_text()
    ('log', 'peak 0.486365 d')
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    periods = 1.0 / result.frequency
    ax.plot(periods, result.power_spectrum, color="0.35", linewidth=0.5)
    ax.set_xscale("log")
    ax.set_xlim(periods.min(), periods.max())
    ax.set_xlabel("period (d)")
    ax.set_ylabel(f"multi-band power (nterms={result.nterms})")
    top = max(float(np.max(result.power_spectrum)) if len(result.power_spectrum) else 0.0,
              float(np.max(result.candidates["power"])) if len(result.candidates) else 0.0, 1e-3)
    lift = 0.06 * top                                # markers sit this far above their peak
    ax.set_ylim(0, 1.25 * top)
    if mark:
        cand = result.candidates[:n_candidates]
        cand_p = result.best_periods[:n_candidates].to_value("d")
        best = result.periodogram_period.to_value("d")
        others = ~np.isclose(cand_p, best, rtol=1e-9)
        ax.plot([best], [result.power + lift], linestyle="none", marker="v", markersize=8,
                color="tab:red", label=f"peak {best:.6g} d")
        if others.any():
            listed = ", ".join(f"{p:.4g}" for p in sorted(cand_p[others]))
            ax.plot(cand_p[others], np.asarray(cand["power"])[others] + lift, linestyle="none",
                    marker="v", markersize=6, markerfacecolor="none", color="tab:blue",
                    label=f"candidates {listed} d")
        if result.doubled:
            adopted = result.period.to_value("d")
            at = np.interp(np.log(adopted), np.log(periods[::-1]), result.power_spectrum[::-1])
            ax.plot([adopted], [at + lift], linestyle="none", marker="*", markersize=11,
                    color="tab:orange", label=f"adopted {adopted:.6g} d (doubled)")
        # above the axes, where it hides no peak (constrained layout makes room)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3, fontsize="small",
                  frameon=False, borderaxespad=0.2)
    return ax
