"""B6: how often the period search is right, class by class, and how fast it is at survey scale.

Populations of simulated PS1 light curves (`astroquery_ps1tap.periods.simulate_population`:
RRab, RRc, detached eclipsing binaries with U- or V-shaped eclipses, W UMa contact binaries,
non-variables; cadences of real and sample-database objects, 45–109 good epochs over 4–5 years)
are searched with `find_periods`.  Printed, per class: the fraction whose period is within 1 %
of the truth and within 0.01 d (VanderPlas & Ivezić's criterion), the fraction with the truth
among the top five peaks, at half or twice the truth, at a one-day alias, and the fraction called
significant (false-alarm probability below ``RECOMMENDED_FAP``); for the non-variables that is the
false-positive rate, and the calibration (fraction with FAP < α against α; ``--calibrate N``:
the number of independent frequencies fitted on N non-variables, the calibration measured on N
others).

Speed, side by side in one run: `find_periods` on 1,000 and 10,000 light curves (per curve);
today's `find_period` (the implementation of commit ``BEFORE``, read with ``git show``) in a loop
over a sample of the same stars; astropy's ``LombScargleMultiband`` (``method="fast"``) over the
same sample.  Lines start with ``B6``.

Usage::

    python benchmarks/bench_periods.py                # ~10 minutes on 2 cores
    python benchmarks/bench_periods.py --quick        # fewer stars, for a smoke test
    python benchmarks/bench_periods.py --recovery-only --calibrate 4000   # false alarms
    python benchmarks/bench_periods.py --sample 100   # find_period on 100 stars per class (~30 min)
"""
import argparse
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from astroquery_ps1tap.periods import (KINDS, RECOMMENDED_FAP, find_periods,  # noqa: E402
                                       frequency_grid, simulate_population)
from astroquery_ps1tap.periods.inputs import light_curve_arrays  # noqa: E402

#: The last commit with the single-module period search ("today's find_period").
BEFORE = "1d596a8"


def old_find_period():
    """``find_period`` as it was at commit BEFORE (loaded from git, not copied)."""
    source = subprocess.run(["git", "show", f"{BEFORE}:astroquery_ps1tap/periods.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    # results.py has since become tables.py (same functions)
    source = source.replace("from . import results, schema", "from . import schema, tables as results")
    module = types.ModuleType("astroquery_ps1tap._periods_before")
    module.__package__ = "astroquery_ps1tap"
    exec(compile(source, "periods.py@" + BEFORE, "exec"), module.__dict__)
    return module.find_period


def score(found, truth, candidates=None):
    """Per star: within 1 %, within 0.01 d, truth among candidates, at P/2 or 2P, one-day alias."""
    found = np.asarray(found, dtype=float)
    truth = np.asarray(truth, dtype=float)
    with np.errstate(invalid="ignore"):
        rel = np.abs(found - truth) / truth
        within = rel < 0.01
        within_d = np.abs(found - truth) < 0.01
        harmonic = ((np.abs(found - truth / 2) / truth < 0.005)
                    | (np.abs(found - 2 * truth) / truth < 0.02))
        df = np.abs(1 / found - 1 / truth)
        alias = ~within & (np.abs(df - np.round(df)) < 0.01 * (1 / truth)) & (np.round(df) >= 1)
    top = within if candidates is None else within | np.any(
        np.abs(np.asarray(candidates) - truth[:, None]) / truth[:, None] < 0.01, axis=1)
    return within, within_d, top, harmonic, alias


def populations(n, seed):
    out = {}
    for i, kind in enumerate(KINDS):
        out[kind] = simulate_population(kind, n, seed=seed + i, first_objid=1 + i * 10**6)
    return out


def recovery(pops):
    print("B6 recovery (find_periods defaults; fractions of each class)")
    print(f"B6 {'class':<14}{'n':>5}{'1%':>7}{'0.01d':>7}{'top5':>7}{'P/2,2P':>8}{'1d-alias':>9}"
          f"{'signif':>8}")
    rows_by_kind = {}
    for kind, (det, truth) in pops.items():
        rows = find_periods(det)
        rows_by_kind[kind] = rows
        assert np.all(rows["objID"] == truth["objID"])
        groups = [(kind, np.ones(len(truth), bool))]
        if kind == "eb_detached":
            groups += [("  U-shaped", ~truth["v_shaped"]), ("  V-shaped", truth["v_shaped"]),
                       ("  depth>0.5", truth["amplitude"] > 0.5)]
        for name, sel in groups:
            if kind == "constant":
                sig = rows["significant"][sel].mean()
                print(f"B6 {name:<14}{sel.sum():>5}{'':>7}{'':>7}{'':>7}{'':>8}{'':>9}{sig:>8.3f}"
                      f"   <- false-positive rate at FAP < {RECOMMENDED_FAP:g}")
                continue
            w, wd, top, harm, alias = score(rows["period"].value[sel], truth["period"][sel],
                                            rows["candidates"].value[sel])
            print(f"B6 {name:<14}{sel.sum():>5}{w.mean():>7.3f}{wd.mean():>7.3f}{top.mean():>7.3f}"
                  f"{harm.mean():>8.3f}{alias.mean():>9.3f}{rows['significant'][sel].mean():>8.3f}")
    fap = rows_by_kind["constant"]["false_alarm_probability"]
    print("B6 calibration on non-variables: fraction with FAP < alpha  "
          + "  ".join(f"{a:g}: {np.mean(fap < a):.3f}" for a in (0.001, 0.01, 0.05, 0.1, 0.5)))
    return rows_by_kind


def sample_of(pops, per_class):
    from astropy.table import vstack
    dets, truths = [], []
    for det, truth in pops.values():
        ids = set(truth["objID"][:per_class].tolist())
        dets.append(det[np.isin(det["objID"], list(ids))])
        truths.append(truth[:per_class])
    return vstack(dets), vstack(truths)


def side_by_side(pops, per_class):
    """Old find_period, astropy LombScargleMultiband and find_periods on the same stars."""
    from astropy.timeseries import LombScargleMultiband
    det, truth = sample_of(pops, per_class)
    ids = truth["objID"]
    find_period = old_find_period()
    by_object = {int(i): det[det["objID"] == i] for i in ids}
    # find_periods on the sample (warm: the kernel is compiled and cached by then)
    start = time.perf_counter()
    rows = find_periods(det)
    t_new = (time.perf_counter() - start) / len(ids)
    old, t_old = [], 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in ids:
            start = time.perf_counter()
            try:
                old.append(find_period(by_object[int(i)]).period.to_value("d"))
            except ValueError:
                old.append(np.nan)
            t_old += time.perf_counter() - start
    t_old /= len(ids)
    lsmb, t_lsmb = [], 0.0
    for i in ids:
        start = time.perf_counter()
        t, y, dy, band = light_curve_arrays(by_object[int(i)])
        freq = frequency_grid(np.ptp(t), oversample=5)
        with np.errstate(divide="ignore", invalid="ignore"):    # filters with few points
            power = LombScargleMultiband(t, y, band, dy).power(freq, method="fast")
        lsmb.append(1 / freq[np.argmax(power)])
        t_lsmb += time.perf_counter() - start
    t_lsmb /= len(ids)
    print(f"B6 side by side on the same {len(ids)} stars ({per_class} per class):")
    variable = np.array([k != "constant" for k in truth["kind"]])
    for name, found, per in (("find_period (before)", old, t_old),
                             ("LombScargleMultiband fast", lsmb, t_lsmb),
                             ("find_periods", rows["period"].value, t_new)):
        w = score(np.asarray(found)[variable], truth["period"][variable])[0]
        by_kind = "  ".join(f"{k}: {score(np.asarray(found)[truth['kind'] == k], truth['period'][truth['kind'] == k])[0].mean():.2f}"  # noqa: E501
                            for k in KINDS if k != "constant")
        print(f"B6   {name:<27} {per * 1e3:9.1f} ms per curve   variables within 1 %: "
              f"{w.mean():.3f}   ({by_kind})")
    print("B6   per class, find_period (before) / find_periods:")
    print(f"B6   {'class':<14}{'n':>5}{'1%':>13}{'0.01d':>13}{'P/2,2P':>13}{'1d-alias':>13}")
    for kind in KINDS:
        sel = np.asarray(truth["kind"] == kind)
        if kind == "constant" or not sel.any():
            continue
        cells = [score(np.asarray(found)[sel], truth["period"][sel])
                 for found in (old, rows["period"].value)]
        print(f"B6   {kind:<14}{sel.sum():>5}" + "".join(
            f"{cells[0][j].mean():>7.3f} /{cells[1][j].mean():>5.3f}" for j in (0, 1, 3, 4)))
    print(f"B6   speed-up of find_periods: {t_old / t_new:.0f}x find_period (before), "
          f"{t_lsmb / t_new:.0f}x LombScargleMultiband fast")
    return t_old, t_lsmb


def speed(sizes, seed, t_old, t_lsmb):
    from astropy.table import vstack
    for size in sizes:
        per = size // len(KINDS)
        parts = [simulate_population(kind, per, seed=seed + 50 + i, first_objid=1 + i * 10**6)
                 for i, kind in enumerate(KINDS)]
        det = vstack([p[0] for p in parts])
        truth = vstack([p[1] for p in parts])
        start = time.perf_counter()
        rows = find_periods(det)
        elapsed = time.perf_counter() - start
        variable = truth["kind"] != "constant"
        w = score(rows["period"].value[variable], truth["period"][variable])[0]
        per_curve = elapsed / len(truth)
        print(f"B6 find_periods on {len(truth):,} light curves ({len(det):,} detections): "
              f"{elapsed:.1f} s, {per_curve * 1e3:.2f} ms per curve; variables within 1 %: "
              f"{w.mean():.3f}; {t_old / per_curve:.0f}x find_period (before), "
              f"{t_lsmb / per_curve:.0f}x LombScargleMultiband fast")


def calibrate(n, fit_seed, check_seed):
    """False alarms on non-variable stars: analytic vs calibrated, fitted on one population and
    measured on another.

    The calibrated false-alarm probability is `analytic_fap` with ``s × (f_max - f_min) ×
    baseline`` independent frequencies; ``s`` is fitted by maximum likelihood on population
    ``fit_seed``: under the null, ``X = -ln(1 - FAP)`` computed with ``s = 1`` is exponential with
    rate ``s``; only its tail (analytic FAP < 0.5) is fitted, the rest is censored.  The
    fractions with FAP < alpha are then measured on population ``check_seed`` (with their
    binomial standard errors).
    """
    from astroquery_ps1tap.periods import batch

    def null_statistics(seed):
        det, _ = simulate_population("constant", n, seed=seed, first_objid=1)
        calls = []
        original = batch.analytic_fap

        def spy(power, n_visits, n_params, n_frequencies):
            calls.append([np.array(a, dtype=float, ndmin=1)
                          for a in (power, n_visits, n_params, n_frequencies)])
            return original(power, n_visits, n_params, n_frequencies)
        batch.analytic_fap = spy
        try:
            rows = find_periods(det)
        finally:
            batch.analytic_fap = original
        power, n_vis, n_par, n_freq = calls[0]
        if len(calls) > 1:         # objects searched again with all their points
            again = np.flatnonzero((rows["n_eclipse_points"] >= 2)
                                   & np.array(["without" not in m for m in rows["method"]]))
            for a, b in zip((power, n_vis, n_par, n_freq), calls[1]):
                a[again] = b
        n_freq = n_freq / batch.INDEPENDENT_FREQUENCIES            # per unit of df × T
        log_single = 0.5 * np.maximum(n_vis - n_par, 0) * np.log1p(-power)
        x = -n_freq * np.log1p(-np.exp(log_single))                # -ln(1 - FAP) at s = 1
        return x, np.asarray(rows["false_alarm_probability"])

    x_fit, _ = null_statistics(fit_seed)
    x_cut = -np.log(0.5)
    rate = np.sum(x_fit < x_cut) / np.sum(np.minimum(x_fit, x_cut))
    boot = np.random.default_rng(0)
    spread = np.std([np.sum(xb < x_cut) / np.sum(np.minimum(xb, x_cut)) for xb in
                     (x_fit[boot.integers(0, n, n)] for _ in range(200))])
    print(f"B6 calibration: {n} non-variables (seed {fit_seed}): independent frequencies per "
          f"df x T = {rate:.3f} +- {spread:.3f} (in use: {batch.INDEPENDENT_FREQUENCIES})")
    x_check, fap = null_statistics(check_seed)
    print(f"B6 calibration on {n} other non-variables (seed {check_seed}): fraction with FAP < alpha")
    print(f"B6   {'alpha':>7}{'analytic (s=1)':>22}{'find_periods':>22}")
    for alpha in (0.5, 0.1, 0.05, 0.01, 0.001):
        raw = np.sum(-np.expm1(-x_check) < alpha)
        used = np.sum(fap < alpha)
        print(f"B6   {alpha:>7g}" + "".join(
            f"{k / n:>13.4f} +- {np.sqrt(max(k, 1)) / n:.4f}" for k in (raw, used)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="stars per class for recovery")
    parser.add_argument("--sample", type=int, default=20,
                        help="stars per class for the side-by-side with find_period")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="50 per class, sample 4, 1,000")
    parser.add_argument("--recovery-only", action="store_true")
    parser.add_argument("--calibrate", type=int, default=0, metavar="N",
                        help="also calibrate false alarms on N non-variables (seeds 5000, 6000)")
    args = parser.parse_args()
    if args.quick:
        args.n, args.sample, args.sizes = 50, 4, [1000]
    pops = populations(args.n, args.seed)
    find_periods(pops["rrab"][0][:500])          # compile (or load the cached kernel) first
    recovery(pops)
    if args.calibrate:
        calibrate(args.calibrate, 5000, 6000)
    if args.recovery_only:
        return
    t_old, t_lsmb = side_by_side(pops, args.sample)
    speed(args.sizes, args.seed, t_old, t_lsmb)


if __name__ == "__main__":
    main()
