#!/usr/bin/env python3
"""Generate the deterministic PS1-DR2-shaped sample database for the local TAP server.

Writes one PostgreSQL binary COPY file per table (``<Table>.pgcopy``) plus ``<Table>.columns``
(the column list of the COPY) and ``manifest.json`` (row counts) into an output directory.
The RD written by ``make_rd.py`` loads those files with ``COPY ... FROM STDIN (FORMAT binary)``.

Usage: python localtap/generate.py OUTDIR [--no-bulk]

What is in it (numbers in ``sample.py``):

* the M87 field of the tutorial: exactly 6927 objects with nDetections > 1 inside the 0.2 deg
  cone (19 of them the real rows the tutorial displayed), plus nDetections == 1 objects and a
  ring of objects just outside the cone;
* the tutorial's three variable stars at their real positions with their real objIDs, mean
  rows and every real detection row the reference material has; the other epochs are
  synthesised from physical light-curve models with PS1's cadence (visit pairs 15-25 min
  apart), so the per-filter counts and the psfQfPerfect >= 0.9 counts equal MAST's;
* a bulk field (PS1 Medium Deep field MD07) of 12000 objects and 1.1 million detections.

All random numbers come from numpy Generators with fixed seeds; counts are exact by
construction (they do not depend on the random stream).
"""
import argparse
import csv
import json
import struct
import sys
import time
from pathlib import Path

import numpy as np

if __package__:                 # imported as localtap.generate (repository root importable)
    from . import sample
else:                           # run as a script: its own directory is on sys.path
    import sample

HERE = Path(__file__).resolve().parent

SCHEMA_PATH = HERE.parent / "astroquery_ps1tap" / "data" / "ps1dr2_schema.json"
REAL = HERE / "realrows"

BANDS = "grizy"
TABLES = ["Filter", "DetectionFlags", "DetectionFlags2", "DetectionFlags3", "ObjectThin",
          "MeanObject", "StackObjectThin", "ForcedMeanObject", "Detection",
          "ForcedWarpMeasurement"]
AB_ZP = 8.90                                   # AB mag of 1 Jy
DEPTH = np.array([22.0, 21.8, 21.5, 20.9, 19.7])       # single-epoch 5 sigma depth g r i z y
STACK_DEPTH = np.array([23.3, 23.2, 23.1, 22.3, 21.4])
EXPTIME = np.array([43.0, 40.0, 45.0, 30.0, 30.0])
ZP1S = np.array([24.56, 24.76, 24.61, 24.22, 23.28])    # instrumental zero points (1 s)
FWHM0 = np.array([1.31, 1.19, 1.11, 1.07, 1.02])        # median seeing, arcsec
# Poisson term of the PSF flux error, Jy (from the real rows: sigma^2 ~ k * flux)
KERR = np.array([1.5e-8, 1.25e-8, 2.0e-8, 3.0e-8, 7.8e-8])
INFOFLAGS = np.array([102760517, 102760517, 102760517, 102760517, 102760453, 102760581],
                     dtype=np.int64)
INFOFLAG3 = np.array([7374912, 7374912, 7374912, 124815424, 40929344, 57706560, 74483776,
                      124782656, 7342144, 108038208], dtype=np.int32)
DEG = np.pi / 180.0


class SampleError(RuntimeError):
    """The generated data break a fact the sample promises (``sample.py``)."""


def require(condition, message):
    """Raise SampleError(message) unless condition holds (a check that ``python -O`` keeps)."""
    if not bool(condition):
        raise SampleError(message)


def flux_of(mag):
    return 10.0 ** (-0.4 * (np.asarray(mag, dtype=np.float64) - AB_ZP))


def mag_of(flux):
    return -2.5 * np.log10(flux) + AB_ZP


# ------------------------------------------------------------------------------------------
# Binary COPY writer
# ------------------------------------------------------------------------------------------
PGTYPE = {"BIGINT": ">i8", "INTEGER": ">i4", "SMALLINT": ">i2", "TINYINT": ">i2",
          "REAL": ">f4", "DOUBLE": ">f8"}


def load_schema():
    with open(SCHEMA_PATH) as f:
        raw = json.load(f)
    return {k.split(".", 1)[1]: v for k, v in raw.items()}


def sql_name(name):
    return '"value"' if name.lower() == "value" else name.lower()


def write_pgcopy(outdir, table, schema, data, nrows):
    """Write data (dict column -> array or scalar) as a PostgreSQL binary COPY file.

    Columns of the schema not in data are NULL.  Strings must be numpy bytes arrays (fixed
    width) or lists of str (variable width; small tables only).
    """
    cols = schema[table]
    known = {c[0] for c in cols}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{table}: columns not in schema: {sorted(unknown)}")
    variable = any(isinstance(v, list) for v in data.values())
    names = [c[0] for c in cols]
    with open(outdir / f"{table}.columns", "w") as f:
        f.write(", ".join(sql_name(n) for n in names) + "\n")
    header = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
    path = outdir / f"{table}.pgcopy"
    if variable:
        with open(path, "wb") as f:
            f.write(header)
            for i in range(nrows):
                parts = [struct.pack(">h", len(cols))]
                for name, dbtype, _, _ in cols:
                    if name not in data:
                        parts.append(struct.pack(">i", -1))
                        continue
                    v = data[name]
                    v = v[i] if isinstance(v, (list, np.ndarray)) else v
                    if dbtype == "STRING":
                        b = str(v).encode()
                    else:
                        b = np.array(v, dtype=PGTYPE[dbtype]).tobytes()
                    parts.append(struct.pack(">i", len(b)) + b)
                f.write(b"".join(parts))
            f.write(struct.pack(">h", -1))
        return
    fields = [("nf", ">i2")]
    for name, dbtype, _, _ in cols:
        fields.append((name + "__len", ">i4"))
        if name in data:
            if dbtype == "STRING":
                arr = np.asarray(data[name])
                if arr.dtype.kind != "S":
                    raise TypeError(f"{table}.{name}: strings must be a numpy bytes array or "
                                    f"a list of str, not {arr.dtype}")
                fields.append((name, arr.dtype))
            else:
                fields.append((name, PGTYPE[dbtype]))
    rec = np.empty(nrows, dtype=fields)
    rec["nf"] = len(cols)
    for name, dbtype, _, _ in cols:
        if name in data:
            rec[name + "__len"] = rec.dtype[name].itemsize
            v = data[name]
            if dbtype not in ("STRING", "REAL", "DOUBLE"):
                v = np.asarray(v)
                if v.dtype.kind == "f":
                    raise TypeError(f"{table}.{name}: float data for integer column")
            rec[name] = v
        else:
            rec[name + "__len"] = -1
    with open(path, "wb") as f:
        f.write(header)
        rec.tofile(f)
        f.write(struct.pack(">h", -1))


# ------------------------------------------------------------------------------------------
# Sky, identifiers, cadence
# ------------------------------------------------------------------------------------------
#: Height of PS1's declination zones in degrees (MAST, "PS1 Object Identifiers").
ZONE_HEIGHT = 0.0083333


def objid_for(ra, dec):
    """objIDs by MAST's definition ("PS1 Object Identifiers") from positions in degrees.

    With ``z = (dec + 90) / 0.0083333``, ``zid = floor(z)`` and ``zresid = z - zid``:
    ``objID = zid * 10**13 + floor(ra * 10**6) * 10**4 + floor(zresid * 10**4)``.  The real stars'
    and M87 rows' objIDs follow it (from their positions when the IDs were made); the package
    decodes it independently (``astroquery_ps1tap.sources.hats``), so the sample tests that.

    >>> int(objid_for(139.33446271609, 68.63508880829)[()])   # KQ UMa's mean position
    190361393344622868
    """
    z = (np.asarray(dec, dtype=np.float64) + 90.0) / ZONE_HEIGHT
    zid = np.floor(z)
    resid = np.floor((z - zid) * 10**4).astype(np.int64)
    ra_digits = np.floor(np.asarray(ra, dtype=np.float64) * 10**6).astype(np.int64)
    return zid.astype(np.int64) * 10**13 + ra_digits * 10**4 + resid


def make_unique(objid, fixed):
    """objIDs made unique: a generated ID equal to an earlier one (or to a real one, ``fixed``)
    moves up by one in its last digit (3 mas of declination) until it is free.  Returns a copy."""
    objid = np.array(objid, dtype=np.int64)
    fixed = np.asarray(fixed, dtype=bool)
    if len(np.unique(objid[fixed])) != fixed.sum():
        raise SampleError("two real rows share an objID")
    while True:
        order = np.lexsort((~fixed, objid))         # per ID: real rows first, then by position
        ids = objid[order]
        again = np.zeros(len(ids), dtype=bool)
        again[1:] = ids[1:] == ids[:-1]
        if not again.any():
            return objid
        objid[order[again]] += 1


def random_in_annulus(rng, n, ra0, dec0, r_in, r_out):
    """Uniform points on the sphere between r_in and r_out (deg) of (ra0, dec0)."""
    c_in, c_out = np.cos(r_in * DEG), np.cos(r_out * DEG)
    cosr = rng.uniform(c_out, c_in, n)
    r = np.arccos(cosr)
    pa = rng.uniform(0, 2 * np.pi, n)
    d0, a0 = dec0 * DEG, ra0 * DEG
    sind = np.sin(d0) * np.cos(r) + np.cos(d0) * np.sin(r) * np.cos(pa)
    dec = np.arcsin(sind)
    dra = np.arctan2(np.sin(pa) * np.sin(r) * np.cos(d0), np.cos(r) - np.sin(d0) * sind)
    return (a0 + dra) / DEG % 360.0, dec / DEG


def angsep(ra1, dec1, ra2, dec2):
    ra1, dec1, ra2, dec2 = (np.asarray(x) * DEG for x in (ra1, dec1, ra2, dec2))
    s = (np.sin((dec2 - dec1) / 2) ** 2
         + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2)
    return 2 * np.arcsin(np.sqrt(s)) / DEG


def radec_to_gal_ecl(ra, dec):
    a, d = np.asarray(ra) * DEG, np.asarray(dec) * DEG
    v = np.array([np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)])
    gal = np.array([[-0.0548755604162154, -0.8734370902348850, -0.4838350155487132],
                    [+0.4941094278755837, -0.4448296299600112, +0.7469822444972189],
                    [-0.8676661490190047, -0.1980763734312015, +0.4559837761750669]])
    g = gal @ v
    eps = 23.4392911 * DEG
    ecl = np.array([[1, 0, 0], [0, np.cos(eps), np.sin(eps)], [0, -np.sin(eps), np.cos(eps)]])
    e = ecl @ v
    lon = lambda w: np.arctan2(w[1], w[0]) / DEG % 360.0  # noqa: E731
    lat = lambda w: np.arcsin(np.clip(w[2], -1, 1)) / DEG  # noqa: E731
    return lon(g), lat(g), lon(e), lat(e), v


def objname_for(ra, dec):
    """IAU names like 'PSO J002353.230-323148.612' (fixed width, bytes)."""
    ra = np.asarray(ra)
    dec = np.asarray(dec)
    ms = np.round(ra / 15.0 * 3600e3).astype(np.int64) % (24 * 3600 * 1000)
    hh, rem = np.divmod(ms, 3600 * 1000)
    mm, rem = np.divmod(rem, 60 * 1000)
    sign = np.where(dec < 0, "-", "+")
    das = np.round(np.abs(dec) * 3600e3).astype(np.int64)
    dd, drem = np.divmod(das, 3600 * 1000)
    dm, drem = np.divmod(drem, 60 * 1000)
    names = [f"PSO J{h:02d}{m:02d}{r / 1000:06.3f}{s}{d:02d}{n:02d}{q / 1000:06.3f}"
             for h, m, r, s, d, n, q in zip(hh, mm, rem, sign, dd, dm, drem)]
    return np.array(names, dtype="S26")


def observable_nights(ra, lo, hi):
    """Integer MJDs in [lo, hi] on which a target at this RA is well up at night."""
    mjd = np.arange(int(lo), int(hi) + 1)
    sun = (280.46 + 0.9856474 * (mjd - 51544.5)) % 360.0
    dist = np.abs((ra - (sun + 180.0) + 180.0) % 360.0 - 180.0)
    return mjd[dist < 70.0]


def make_visits(rng, ra, n_exp, lo=55200, hi=56990, taken=(), want=None, want_frac=0.0,
                avoid=None):
    """Exposure times for one filter: visit pairs 15-25 min apart on observable nights.

    n_exp may be odd (the last visit is a single exposure).  Returns sorted MJDs.
    want(t) -> bool array, want_frac: the fraction of visits to place where want is true
    (used to make sure an eclipsing binary's sparse light curve catches some eclipses);
    avoid(t) -> bool array: the other visits are placed where avoid is false.
    """
    nights = observable_nights(ra, lo, hi)
    nights = nights[~np.isin(nights, np.asarray(list(taken), dtype=int))]
    n_vis = (n_exp + 1) // 2
    n_want = int(round(want_frac * n_vis)) if want is not None else 0
    starts = []
    if n_want:
        fr = np.linspace(0.24, 0.60, 37)
        cand = (nights[:, None] + fr[None, :])
        ok = want(cand.ravel()).reshape(cand.shape) & want(cand.ravel() + 0.0125).reshape(
            cand.shape)
        good_n = np.nonzero(ok.any(axis=1))[0]
        pick = rng.choice(good_n, min(n_want, len(good_n)), replace=False)
        for k in pick:
            starts.append(cand[k, rng.choice(np.nonzero(ok[k])[0])])
        nights = np.delete(nights, pick)
    if avoid is None:
        rest = rng.choice(nights, n_vis - len(starts), replace=False)
        starts += list(rest + rng.uniform(0.24, 0.60, len(rest)))
    else:
        fr = np.linspace(0.24, 0.60, 37)
        cand = (nights[:, None] + fr[None, :])
        ok = ~(avoid(cand.ravel()) | avoid(cand.ravel() + 0.0174)).reshape(cand.shape)
        good_n = np.nonzero(ok.any(axis=1))[0]
        pick = rng.choice(good_n, n_vis - len(starts), replace=False)
        for k in pick:
            starts.append(cand[k, rng.choice(np.nonzero(ok[k])[0])]
                          + rng.uniform(-0.005, 0.005))
    t = []
    for t1 in np.sort(starts):
        t.append(t1)
        if len(t) < n_exp:
            t.append(t1 + rng.uniform(15.0, 25.0) / 1440.0)
    return np.sort(np.round(np.array(t), 7))


class Exposures:
    """The warps of one field: time, filter and observing conditions of each exposure."""

    def __init__(self, rng, ra, n_per_band, taken=()):
        times, fids = [], []
        used = set(taken)
        for b, n in enumerate(n_per_band):
            t = make_visits(rng, ra, n, taken=used)
            used |= set(np.floor(t).astype(int))
            times.append(t)
            fids.append(np.full(n, b + 1))
        self.obsTime = np.concatenate(times)
        self.filterID = np.concatenate(fids).astype(np.int16)
        self.setup(rng)

    @classmethod
    def from_times(cls, rng, times, fids):
        self = cls.__new__(cls)
        self.obsTime = np.asarray(times, dtype=np.float64)
        self.filterID = np.asarray(fids, dtype=np.int16)
        self.setup(rng)
        return self

    def setup(self, rng):
        n = len(self.obsTime)
        b = self.filterID - 1
        self.n = n
        self.band = b
        self.airMass = (1.0 + rng.gamma(2.0, 0.12, n)).astype(np.float32)
        self.fwhm = (FWHM0[b] * np.exp(rng.normal(0, 0.15, n)) * self.airMass ** 0.6)
        self.expTime = EXPTIME[b]
        self.zp = (ZP1S[b] - 0.1 * (self.airMass - 1.0) + rng.normal(0, 0.02, n))
        self.depth = DEPTH[b] - 2.5 * np.log10(self.fwhm / FWHM0[b]) - 0.1 * (self.airMass - 1)
        self.code = np.round((self.obsTime - 40000.0) * 1e5).astype(np.int64)
        self.imageID = self.code * 100 + rng.integers(0, 60, n)
        self.telluricExt = rng.normal(0.0, 0.01, n).astype(np.float32)

    def band_index(self, b):
        return np.nonzero(self.filterID == b + 1)[0]


# ------------------------------------------------------------------------------------------
# Object populations
# ------------------------------------------------------------------------------------------
def draw_mags(rng, n, bright=12.0, faint=23.6, slope=0.28, m50=22.3):
    """r magnitudes with number counts rising ~10^(0.28 m) and rolling off near 22.3."""
    grid = np.linspace(bright, faint, 2000)
    pdf = 10 ** (slope * (grid - faint)) / (1 + np.exp((grid - m50) / 0.25))
    cdf = np.cumsum(pdf)
    cdf /= cdf[-1]
    return np.interp(rng.random(n), cdf, grid)


def draw_colours(rng, n, r):
    """grizy magnitudes from r: a stellar locus plus galaxies (faint end)."""
    is_gal = rng.random(n) < np.clip((r - 18.0) / 6.0, 0.02, 0.55)
    gr_star = np.where(rng.random(n) < 0.55, rng.normal(0.45, 0.12, n), rng.normal(1.30, 0.15, n))
    gr_gal = rng.normal(0.75, 0.2, n)
    gr = np.where(is_gal, gr_gal, gr_star)
    gr = np.clip(gr, -0.3, 1.65)
    ri = np.where(is_gal, 0.35 * gr + rng.normal(0.05, 0.08, n),
                  np.where(gr < 1.2, 0.37 * gr - 0.06, 0.38 + 1.8 * (gr - 1.2)))
    ri = ri + rng.normal(0, 0.04, n)
    iz = 0.45 * ri + 0.02 + rng.normal(0, 0.03, n)
    zy = 0.35 * ri + 0.01 + rng.normal(0, 0.03, n)
    g = r + gr
    i = r - ri
    z = i - iz
    y = z - zy
    return np.stack([g, r, i, z, y], axis=1), is_gal


def detection_counts(rng, mags, n_exp, pmax=0.8):
    """Per-band numbers of single-epoch detections given how many warps cover the field."""
    p = pmax / (1.0 + np.exp((mags - DEPTH[None, :]) / 0.22))
    return rng.binomial(np.asarray(n_exp)[None, :], p).astype(np.int64)


def force_total(rng, counts, n_exp, target):
    """Adjust counts (in place, by +-1 steps) so that counts.sum() == target exactly."""
    diff = int(counts.sum()) - int(target)
    step = -1 if diff > 0 else 1
    while diff != 0:
        if step < 0:
            ok = np.argwhere(counts >= 3)
        else:
            ok = np.argwhere((counts >= 2) & (counts < np.asarray(n_exp)[None, :]))
        pick = ok[rng.permutation(len(ok))[:abs(diff)]]
        counts[pick[:, 0], pick[:, 1]] += step
        diff = int(counts.sum()) - int(target)
    return counts


def assign_epochs(rng, counts, exposures):
    """Pick which exposures detect each object: returns (object index, exposure index)."""
    oi, ei = [], []
    for b in range(5):
        idx = exposures.band_index(b)
        nb = len(idx)
        if nb == 0:
            continue
        c = counts[:, b]
        if (c > nb).any():
            raise ValueError("more detections than exposures")
        u = rng.random((len(c), nb))
        rank = np.argsort(np.argsort(u, axis=1), axis=1)
        o, k = np.nonzero(rank < c[:, None])
        oi.append(o)
        ei.append(idx[k])
    return np.concatenate(oi), np.concatenate(ei)


def flux_error(flux, band, depth):
    sky = flux_of(depth) / 5.0
    return np.sqrt(KERR[band] * np.abs(flux) + sky ** 2)


def qf_perfect(rng, n, bad_frac=0.02):
    """psfQfPerfect: mostly > 0.99, a tail to 0.95, a few bad ones."""
    q = 1.0 - np.abs(rng.normal(0, 0.002, n)) - rng.exponential(0.002, n)
    tail = rng.random(n) < 0.06
    q[tail] = rng.uniform(0.93, 0.995, tail.sum())
    bad = rng.random(n) < bad_frac
    q[bad] = rng.uniform(0.2, 0.89, bad.sum())
    return np.clip(q, 0.0, 1.0)


def detection_rows(rng, objid, ra, dec, oi, exposures, ei, mag_true, is_gal, qf=None,
                   flux_override=None):
    """Detection columns for detections (object oi[k] on exposure ei[k])."""
    n = len(oi)
    band = exposures.band[ei]
    depth = exposures.depth[ei]
    m = mag_true[oi, band] if mag_true.ndim == 2 else mag_true
    ftrue = flux_of(m)
    err = flux_error(ftrue, band, depth)
    flux = ftrue + err * rng.normal(0, 1, n)
    flux = np.where(flux > 0.3 * err, flux, ftrue)   # a detection is a detection
    if flux_override is not None:
        mask = ~np.isnan(flux_override)
        flux[mask] = flux_override[mask]
    if qf is None:
        qf = qf_perfect(rng, n)
    snr = flux / err
    pos_err = np.clip(0.7 * exposures.fwhm[ei] / np.maximum(snr, 1.0), 0.004, 0.5)   # arcsec
    cosd = np.cos(dec[oi] * DEG)
    dra = rng.normal(0, 1, n) * pos_err / 3600.0 / cosd
    ddec = rng.normal(0, 1, n) * pos_err / 3600.0
    gal = is_gal[oi]
    apflux = flux * np.where(gal, 1.25, 1.0) * (1 + rng.normal(0, 0.01, n))
    kron = flux * np.where(gal, 1.4, 1.02) * (1 + rng.normal(0, 0.015, n))
    fwhm = exposures.fwhm[ei]
    major = fwhm * (1 + np.abs(rng.normal(0, 0.06, n)))
    minor = fwhm * (1 - np.abs(rng.normal(0, 0.06, n)))
    info = INFOFLAGS[rng.integers(0, 4, n)]
    info = np.where(qf < 0.9, 102760581, info)
    info = np.where(gal, info | 0x800000, info)
    zp = exposures.zp[ei] + 2.5 * np.log10(exposures.expTime[ei])
    return {
        "objID": objid[oi], "ra": ra[oi] + dra, "dec": dec[oi] + ddec,
        "raErr": pos_err, "decErr": pos_err,
        "filterID": exposures.filterID[ei], "obsTime": exposures.obsTime[ei],
        "imageID": exposures.imageID[ei], "expTime": exposures.expTime[ei],
        "airMass": exposures.airMass[ei], "zp": zp, "telluricExt": exposures.telluricExt[ei],
        "psfFlux": flux, "psfFluxErr": err, "psfMajorFWHM": major, "psfMinorFWHM": minor,
        "psfTheta": rng.uniform(-90, 90, n), "psfCore": rng.normal(0.5, 0.1, n),
        "psfLikelihood": rng.uniform(0.0, 1.0, n), "psfQf": np.minimum(1.0, qf + 0.002),
        "psfQfPerfect": qf, "psfChiSq": rng.gamma(4.0, 0.3, n),
        "extNSigma": np.where(gal, rng.uniform(3, 30, n), rng.normal(0, 1, n)),
        "momentXX": fwhm ** 2 / 5.5, "momentXY": rng.normal(0, 0.02, n),
        "momentYY": fwhm ** 2 / 5.5, "momentR1": 0.6 * fwhm, "momentRH": 0.45 * fwhm,
        "momentM3C": rng.normal(0, 0.05, n), "momentM3S": rng.normal(0, 0.05, n),
        "momentM4C": rng.normal(0, 0.05, n), "momentM4S": rng.normal(0, 0.05, n),
        "apFlux": apflux, "apFluxErr": err * 1.05, "apFillF": np.full(n, 1.0),
        "apRadius": np.full(n, 2.9), "kronFlux": kron, "kronFluxErr": err * 1.3,
        "kronRad": 2.5 * fwhm * np.where(gal, 1.8, 1.0),
        "sky": rng.normal(0.0, 2.0e-7, n), "skyErr": np.full(n, 1.5e-7),
        "xPos": rng.uniform(10, 4800, n), "yPos": rng.uniform(10, 4800, n),
        "xPosErr": pos_err / 0.258, "yPosErr": pos_err / 0.258,
        "pltScale": np.full(n, 0.258), "posAngle": rng.uniform(-180, 180, n),
        "infoFlag": info, "infoFlag2": np.full(n, 128, dtype=np.int32),
        "infoFlag3": INFOFLAG3[rng.integers(0, len(INFOFLAG3), n)],
        "processingVersion": np.full(n, 3, dtype=np.int16),
        "surveyID": np.zeros(n, dtype=np.int16), "dvoRegionID": np.full(n, 0, dtype=np.int32),
        "randomDetID": rng.random(n),
    }


# ------------------------------------------------------------------------------------------
# Variable-star models
# ------------------------------------------------------------------------------------------
def rrab_shape(phase):
    """RRab light-curve shape in magnitudes, zero mean, peak-to-peak 1: fast rise, slow decline."""
    k = np.arange(1, 7)
    w = 0.78 ** k / k
    s = (np.sin(2 * np.pi * np.multiply.outer(phase, k)) * w).sum(axis=-1)
    grid = np.linspace(0, 1, 2001)
    sg = (np.sin(2 * np.pi * np.multiply.outer(grid, k)) * w).sum(axis=-1)
    # s is a smoothed sawtooth: high just after phase 0 (maximum light = small magnitude)
    return -(s - sg.mean()) / (sg.max() - sg.min())


RR_AMP = np.array([1.05, 0.80, 0.60, 0.50, 0.45])     # peak-to-peak, mag, g..y


def eclipse_dmag(t, band, period, t0_mjd, prim, sec, half_width, shape=0.6, sec_phase=0.5):
    """Magnitude excess of a detached eclipsing binary.

    prim, sec: per-band (g..y) flux fractions lost at the centre of primary / secondary
    eclipse; shape: exponent of the profile (1 - |x|^2)^shape, or "V" for a V-shaped
    (grazing) eclipse.
    """
    ph = ((t - t0_mjd) / period) % 1.0
    f = np.ones_like(t)
    for centre, depth in ((0.0, np.asarray(prim)), (sec_phase, np.asarray(sec))):
        x = ((ph - centre + 0.5) % 1.0 - 0.5) * period / half_width
        inside = np.abs(x) < 1
        prof = (1 - np.abs(x[inside])) if shape == "V" else (1 - x[inside] ** 2) ** shape
        f[inside] -= depth[band[inside]] * prof
    return -2.5 * np.log10(f)


# ------------------------------------------------------------------------------------------
def read_real(name):
    with open(REAL / f"nb_votap_2024-02_{name}_shown_rows.csv") as f:
        rows = [r for r in csv.reader(line for line in f if not line.startswith("#"))]
    head, body = rows[0], rows[1:]
    return [dict(zip(head, r)) for r in body]


class Sky:
    """Objects and their detections / forced photometry, accumulated field by field."""

    def __init__(self):
        self.objects = []
        self.dets = []
        self.fwm = []
        self.n = 0
        self.n_exp = 0

    def add_objects(self, objID, ra, dec, mags, is_gal, counts, n_warps, mean_override=None,
                    real=False):
        """real: bool or per-object bools, True where objID is a real PS1 objID (kept as is)."""
        n = len(objID)
        if mean_override is None:
            mean_override = np.full((n, 5), np.nan)
        self.objects.append(dict(objID=np.asarray(objID, dtype=np.int64),
                                 real=np.broadcast_to(np.asarray(real, dtype=bool), (n,)),
                                 ra=np.asarray(ra),
                                 dec=np.asarray(dec), mags=mags, is_gal=is_gal,
                                 counts=counts, n_warps=np.broadcast_to(n_warps, (n, 5)),
                                 mean_override=mean_override))
        off = self.n
        self.n += n
        return off

    def add_exposures(self, exposures):
        off = self.n_exp
        self.n_exp += exposures.n
        return off

    def cat(self, what):
        parts = getattr(self, what)
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def forced_rows(rng, objid, ra, dec, oi, exposures, ei, ftrue, qf=None):
    """ForcedWarpMeasurement columns for (object oi[k], warp ei[k]); ftrue in Jy."""
    n = len(oi)
    band = exposures.band[ei]
    err = flux_error(ftrue, band, exposures.depth[ei])
    flux = ftrue + err * rng.normal(0, 1, n)
    if qf is None:
        qf = qf_perfect(rng, n)
    fwhm = exposures.fwhm[ei]
    return {
        "objID": objid[oi], "filterID": exposures.filterID[ei],
        "obsTime": exposures.obsTime[ei], "expTime": exposures.expTime[ei],
        "airMass": exposures.airMass[ei], "telluricExt": exposures.telluricExt[ei],
        "zp": exposures.zp[ei] + 2.5 * np.log10(exposures.expTime[ei]),
        "FpsfFlux": flux, "FpsfFluxErr": err, "FpsfQfPerfect": qf,
        "FpsfQf": np.minimum(1.0, qf + 0.002), "FpsfChiSq": rng.gamma(4.0, 0.3, n),
        "FpsfMajorFWHM": fwhm * 1.03, "FpsfMinorFWHM": fwhm * 0.97,
        "FpsfTheta": rng.uniform(-90, 90, n), "FpsfCore": rng.normal(0.5, 0.1, n),
        "FapFlux": flux * (1 + rng.normal(0, 0.01, n)), "FapFluxErr": err * 1.05,
        "FapFillF": np.full(n, 1.0), "FapRadius": np.full(n, 2.9),
        "FkronFlux": flux * 1.02, "FkronFluxErr": err * 1.3, "FkronRad": 2.5 * fwhm,
        "Fsky": rng.normal(0.0, 2.0e-7, n), "FskyErr": np.full(n, 1.5e-7),
        "FmomentXX": fwhm ** 2 / 5.5, "FmomentXY": rng.normal(0, 0.02, n),
        "FmomentYY": fwhm ** 2 / 5.5, "FmomentR1": 0.6 * fwhm, "FmomentRH": 0.45 * fwhm,
        "FmomentM3C": rng.normal(0, 0.05, n), "FmomentM3S": rng.normal(0, 0.05, n),
        "FmomentM4C": rng.normal(0, 0.05, n), "FmomentM4S": rng.normal(0, 0.05, n),
        "FinfoFlag": np.where(qf < 0.9, 102760581, INFOFLAGS[rng.integers(0, 4, n)]),
        "FinfoFlag2": np.full(n, 128, dtype=np.int32),
        "FinfoFlag3": INFOFLAG3[rng.integers(0, len(INFOFLAG3), n)],
        "FccdID": rng.integers(0, 60, n).astype(np.int16),
        "xPosChip": rng.uniform(10, 4800, n), "yPosChip": rng.uniform(10, 4800, n),
        "processingVersion": np.full(n, 3, dtype=np.int16),
        "surveyID": np.zeros(n, dtype=np.int16), "tessID": np.ones(n, dtype=np.int16),
        "dvoRegionID": np.zeros(n, dtype=np.int32),
        "projectionID": np.full(n, 1000, dtype=np.int16) + (dec[oi] + 90).astype(np.int16),
        "skyCellID": rng.integers(0, 100, n).astype(np.int16),
        "randomWarpID": rng.random(n),
        "_e": ei,
    }


def add_field(rng, sky, objid, ra, dec, mags, is_gal, counts, exposures, mean_override=None,
              forced=None, real=False):
    """Objects with their detections (and forced photometry for indices ``forced``)."""
    n_warps = np.array([len(exposures.band_index(b)) for b in range(5)])
    off = sky.add_objects(objid, ra, dec, mags, is_gal, counts, n_warps, mean_override, real)
    eoff = sky.add_exposures(exposures)
    oi, ei = assign_epochs(rng, counts, exposures)
    d = detection_rows(rng, objid, ra, dec, oi, exposures, ei, mags, is_gal)
    d["_o"] = oi + off
    d["_e"] = ei + eoff
    d["detectID"] = np.zeros(len(oi), dtype=np.int64)
    sky.dets.append(d)
    if forced is not None and len(forced):
        fo = np.repeat(np.asarray(forced), exposures.n)
        fe = np.tile(np.arange(exposures.n), len(forced))
        f = forced_rows(rng, objid, ra, dec, fo, exposures, fe,
                        flux_of(mags[fo, exposures.band[fe]]))
        f["_o"] = fo + off
        f["_e"] = fe + eoff
        sky.fwm.append(f)


def m87_field(rng, sky):
    real = read_real("m87_cone_meanobjectview")
    rid = np.array([int(r["objID"]) for r in real], dtype=np.int64)
    rra = np.array([float(r["RAMean"]) for r in real])
    rdec = np.array([float(r["DecMean"]) for r in real])
    rcounts = np.array([[int(r["n" + b]) for b in BANDS] for r in real])
    rmean = np.array([[float(r[b + "MeanPSFMag"]) for b in BANDS] for r in real])
    require((angsep(rra, rdec, sample.M87_RA, sample.M87_DEC) < sample.M87_RADIUS).all(),
            "a real M87 row lies outside the tutorial's cone")
    require((rcounts.sum(1) > 1).all(), "a real M87 row has nDetections <= 1")
    n_exp = np.array([18, 26, 24, 16, 16])
    exposures = Exposures(rng, sample.M87_RA, n_exp)
    # candidates: disk of radius 0.2 (inside the cone) and the ring out to 0.25
    edge = 1.5 / 3600.0            # keep generated objects 1.5" away from the cone's edge
    groups = []
    for r_in, r_out, n_multi, n_single in (
            (0.0, sample.M87_RADIUS - edge, sample.M87_N_MULTI - len(real), sample.M87_N_SINGLE),
            (sample.M87_RADIUS + edge, sample.M87_FIELD_RADIUS, 3880, 670)):
        n_cand = 3 * (n_multi + n_single)
        ra, dec = random_in_annulus(rng, n_cand, sample.M87_RA, sample.M87_DEC, r_in, r_out)
        r = draw_mags(rng, n_cand)
        mags, gal = draw_colours(rng, n_cand, r)
        counts = detection_counts(rng, mags, n_exp, pmax=0.5)
        tot = counts.sum(1)
        multi = np.nonzero(tot > 1)[0][:n_multi]
        require(len(multi) == n_multi, f"M87 field: {len(multi)} candidates with "
                f"nDetections > 1 between {r_in} and {r_out} deg, {n_multi} needed")
        # nDetections == 1: faint sources caught once (or artefacts), in one filter
        single = np.nonzero(tot <= 1)[0][:n_single]
        require(len(single) == n_single, f"M87 field: {len(single)} candidates with "
                f"nDetections <= 1 between {r_in} and {r_out} deg, {n_single} needed")
        faint = draw_mags(rng, n_single, bright=21.0, faint=23.0)
        smags, sgal = draw_colours(rng, n_single, faint)
        mags[single], gal[single] = smags, sgal
        counts[single] = 0
        best = np.argmax(DEPTH[None, :] - smags + rng.normal(0, 0.3, smags.shape), axis=1)
        counts[single, best] = 1
        keep = np.sort(np.concatenate([multi, single]))
        groups.append((ra[keep], dec[keep], mags[keep], gal[keep], counts[keep]))
    # the real rows: true magnitudes = their mean magnitudes where detected
    rr = np.clip(np.where(rmean[:, 1] > 0, rmean[:, 1], 20.0), 10, 23)
    tmags, tgal = draw_colours(rng, len(real), rr)
    tmags = np.where(rmean > 0, rmean, tmags)
    override = np.where(rcounts > 0, rmean, np.nan)
    ra = np.concatenate([rra] + [g[0] for g in groups])
    dec = np.concatenate([rdec] + [g[1] for g in groups])
    mags = np.concatenate([tmags] + [g[2] for g in groups])
    gal = np.concatenate([tgal] + [g[3] for g in groups])
    counts = np.concatenate([rcounts] + [g[4] for g in groups])
    override = np.concatenate([override, np.full((len(ra) - len(real), 5), np.nan)])
    objid = np.concatenate([rid, objid_for(ra[len(real):], dec[len(real):])])
    add_field(rng, sky, objid, ra, dec, mags, gal, counts, exposures, override,
              forced=np.arange(0, 200), real=np.arange(len(ra)) < len(real))
    return exposures


def neighbours(rng, sky, star, exposures):
    """A few field objects around a star (none within 3 arcsec of it)."""
    n = sample.STAR_FIELD_N_NEIGHBOURS
    ra, dec = random_in_annulus(rng, n, star.ra, star.dec, 3.0 / 3600, sample.STAR_FIELD_RADIUS)
    r = draw_mags(rng, n)
    mags, gal = draw_colours(rng, n, r)
    n_exp = np.array([len(exposures.band_index(b)) for b in range(5)])
    counts = detection_counts(rng, mags, n_exp)
    counts[counts.sum(1) == 0, 1] = 1
    add_field(rng, sky, objid_for(ra, dec), ra, dec, mags, gal, counts, exposures)


# ---- the three stars ----------------------------------------------------------------------
REAL_DET_COLS = ["detectID", "obsTime", "ra", "dec", "psfFlux", "psfFluxErr", "psfMajorFWHM",
                 "psfMinorFWHM", "psfQfPerfect", "apFlux", "apFluxErr", "infoFlag",
                 "infoFlag2", "infoFlag3"]


def real_rows(names):
    rows = []
    seen = set()
    for name in names:
        for r in read_real(name):
            if r["detectID"] in seen:
                continue
            seen.add(r["detectID"])
            rows.append(r)
    return rows


def star_epochs(rng, star, fixed, plan, taken, want=None, avoid=None):
    """Synthesise epochs: plan = {band: [(n, kind, lo, hi), ...]} -> list of dicts.

    kind: "good" (psfQfPerfect >= 0.9; placed where avoid(t) is false, if avoid is given),
    "bad" (psfQfPerfect < 0.9), "nodet", or a key of want (dict kind -> want(t) -> bool
    array): good, placed where want(t) is true (an eclipsing binary's eclipses).
    """
    out = []
    used = set(taken)
    for b, specs in plan.items():
        for n, kind, lo, hi in specs:
            if n == 0:
                continue
            placed = want is not None and kind in want
            t = make_visits(rng, star.ra, n, lo=lo, hi=hi, taken=used,
                            want=want[kind] if placed else None, want_frac=1.0 * placed,
                            avoid=avoid if kind == "good" else None)
            kind = "good" if placed else kind
            used |= set(np.floor(t).astype(int))
            for tt in t:
                out.append({"obsTime": tt, "filterID": b + 1, "kind": kind})
    return out


def build_star(rng, sky, star, real_full, real_partial, plan, model, n_extra_warps=8,
               want=None, avoid=None):
    """One of the tutorial's stars: real rows + synthesised epochs from the light-curve model.

    real_full: rows with every Detection column the reference has; real_partial: dicts with
    obsTime, filterID, psfFlux, psfQfPerfect only.  plan: synthesised epochs per band.
    """
    fixed = []
    for r in real_full:
        d = {k: r[k] for k in REAL_DET_COLS}
        d["filterID"] = int(r.get("filterid") or r.get("filterID"))
        d["kind"] = "real"
        fixed.append(d)
    for r in real_partial:
        fixed.append(dict(r, kind="partial"))
    taken = {int(float(d["obsTime"])) for d in fixed}
    synth = star_epochs(rng, star, fixed, plan, taken, want, avoid)
    taken |= {int(d["obsTime"]) for d in synth}
    nx = np.bincount(rng.choice(5, n_extra_warps), minlength=5)
    extra_plan = {b: [(int(nx[b]), "nodet", 55200, 56990)] for b in range(5)}
    extra = star_epochs(rng, star, fixed, extra_plan, taken)
    epochs = fixed + synth
    t = np.array([float(d["obsTime"]) for d in epochs])
    fid = np.array([int(d["filterID"]) for d in epochs])
    exposures = Exposures.from_times(rng, np.concatenate([t, [d["obsTime"] for d in extra]]),
                                     np.concatenate([fid, [d["filterID"] for d in extra]]))
    n = len(epochs)
    band = fid - 1
    mtrue = model(exposures.obsTime, exposures.band)
    kinds = np.array([d["kind"] for d in epochs])
    qf = qf_perfect(rng, n, bad_frac=0.0)
    bad = kinds == "bad"
    qf[bad] = rng.uniform(0.3, 0.89, bad.sum())
    fl = flux_of(mtrue[:n]) * (1 + 0.003 * rng.normal(0, 1, n))
    dim = bad & (rng.random(n) < 0.5)
    fl[dim] *= rng.uniform(0.05, 0.9, dim.sum())            # masked pixels eat flux
    override = np.full(n, np.nan)
    override[bad] = fl[bad]
    for k, d in enumerate(epochs):
        if d["kind"] in ("real", "partial"):
            qf[k] = float(d["psfQfPerfect"])
            override[k] = float(d["psfFlux"])
    objid = np.array([star.objid])
    ra, dec = np.array([star.ra]), np.array([star.dec])
    oi = np.zeros(n, dtype=int)
    det = detection_rows(rng, objid, ra, dec, oi, exposures, np.arange(n), mtrue[:n],
                         np.array([False]), qf=qf, flux_override=override)
    # synthesised good points follow the model with the error the row states
    det["detectID"] = np.zeros(n, dtype=np.int64)
    for k, d in enumerate(epochs):
        if d["kind"] == "real":
            for c in REAL_DET_COLS:
                det[c][k] = (int(d[c]) if c in ("detectID", "infoFlag", "infoFlag2", "infoFlag3")
                             else float(d[c]))
            det["infoFlag"][k] = int(d["infoFlag"])
        elif d["kind"] == "partial":
            det["detectID"][k] = int(d.get("detectID", 0))
    counts = np.bincount(band, minlength=5)[None, :]
    n_warps = np.bincount(exposures.band, minlength=5)
    real_mean = np.array([[star.mean[b] for b in BANDS]])
    off = sky.add_objects(objid, ra, dec, real_mean, np.array([False]), counts, n_warps,
                          real_mean.copy(), real=True)
    eoff = sky.add_exposures(exposures)
    det["_o"] = oi + off
    det["_e"] = np.arange(n) + eoff
    sky.dets.append(det)
    # forced photometry on every warp, including the ones without a detection
    nw = exposures.n
    fqf = np.concatenate([qf, rng.uniform(0.02, 0.6, nw - n)])
    ftrue = flux_of(mtrue) * np.concatenate([np.ones(n), rng.uniform(0.0, 0.5, nw - n)])
    f = forced_rows(rng, objid, ra, dec, np.zeros(nw, dtype=int), exposures, np.arange(nw),
                    ftrue, qf=fqf)
    f["_o"] = np.full(nw, off)
    f["_e"] = np.arange(nw) + eoff
    sky.fwm.append(f)
    return exposures, det


def kq_uma(rng, sky):
    star = sample.KQ_UMA
    mean = read_real("kq_uma_meanobjectview")[0]
    star.mean = {b: float(mean[b + "MeanPSFMag"]) for b in BANDS}
    full = real_rows(["kq_uma_detections", "kq_uma_bad_z_point"])
    partial = []
    bad_id = str(sample.KQ_UMA_BAD_Z_DETECTID)
    for r in read_real("kq_uma_z_sorted"):
        if abs(float(r["obsTime"]) - sample.KQ_UMA_BAD_Z_OBSTIME) < 1e-6:
            continue                       # the full row of the bad point is in `full`
        partial.append({"obsTime": r["obsTime"], "filterID": 4,
                        "psfFlux": flux_of(float(r["mag"])), "psfQfPerfect": r["psfQfPerfect"]})
    require(any(r["detectID"] == bad_id for r in full),
            f"KQ UMa's bad z point (detectID {bad_id}) is missing from the real rows")
    # RR Lyrae: fit the phase of the template to the real good points; per filter with
    # enough points also its zero point and amplitude (PS1's mean magnitudes of a variable
    # are not the light curve's mean), the other filters follow the template
    pts = [(float(r["obsTime"]), int(r["filterid"]) - 1, mag_of(float(r["psfFlux"])))
           for r in full if float(r["psfQfPerfect"]) >= 0.9]
    pts += [(float(r["obsTime"]), 3, mag_of(r["psfFlux"])) for r in partial]
    t, b, m = (np.array(x) for x in zip(*pts))
    mb = np.array([star.mean[x] for x in BANDS])
    best = None
    for ep in np.linspace(0, star.period, 2000, endpoint=False):
        shape = rrab_shape(((t - 55000.0 - ep) / star.period) % 1.0)
        chi, zp, amp = 0.0, mb.copy(), RR_AMP.copy()
        for k in range(5):
            sel = b == k
            if sel.sum() >= 5:
                A = np.stack([np.ones(sel.sum()), shape[sel]], axis=1)
                (c, a), *_ = np.linalg.lstsq(A, m[sel], rcond=None)
                if a <= 0.2:
                    chi = np.inf
                    break
                zp[k], amp[k] = c, a
            chi += np.sum((m[sel] - zp[k] - amp[k] * shape[sel]) ** 2)
        if best is None or chi < best[0]:
            best = (chi, ep, zp, amp)
    _, ep, zp, amp = best
    epoch = 55000.0 + ep
    # filters without enough real points: offset from the mean like the fitted ones
    fitted = [k for k in range(5) if (b == k).sum() >= 5]
    shift = np.mean([zp[k] - mb[k] for k in fitted])
    for k in range(5):
        if k not in fitted:
            zp[k] = mb[k] + shift
            amp[k] = RR_AMP[k] * np.mean([amp[j] / RR_AMP[j] for j in fitted])

    def model(tt, bb):
        return zp[bb] + amp[bb] * rrab_shape(((tt - epoch) / star.period) % 1.0)

    plan = {1: [(9, "good", 55636, 56990)], 2: [(20, "good", 55200, 56990), (1, "bad", 55200, 56990)],
            4: [(4, "good", 55200, 55933)]}
    return build_star(rng, sky, star, full, partial, plan, model)


def eb_model(star, level, period_offset_mjd, prim, sec, half_width, shape, sec_phase=0.5,
             reflection=0.0, ellipsoidal=0.0):
    """Eclipses plus the out-of-eclipse light of a close binary, in magnitudes.

    ellipsoidal: per-band (g..y) semi-amplitude of the ellipsoidal variation (tidally
    distorted stars: light minima at phases 0 and 0.5, i.e. period P/2), the term that makes
    a periodogram of such a binary peak at P/2; reflection: per-band semi-amplitude of the
    reflection/irradiation effect (brightest at phase 0.5, period P).
    """
    t0 = star.t0 + sample.EB_T0_TO_MJD + period_offset_mjd
    reflection = np.broadcast_to(np.asarray(reflection, dtype=np.float64), (5,))
    ellipsoidal = np.broadcast_to(np.asarray(ellipsoidal, dtype=np.float64), (5,))

    def model(tt, bb):
        ph = 2 * np.pi * ((tt - t0) / star.period % 1.0)
        return (level[bb] + eclipse_dmag(tt, bb, star.period, t0, prim, sec, half_width, shape,
                                         sec_phase)
                + reflection[bb] * np.cos(ph) + ellipsoidal[bb] * np.cos(2 * ph))
    return model


def fit_levels(star, full, shape_model):
    """Out-of-eclipse magnitude per filter: from the real good points where a filter has any
    (PS1's mean magnitudes of an eclipsing binary are not its out-of-eclipse level), else the
    mean magnitude shifted like the fitted filters."""
    mb = np.array([star.mean[b] for b in BANDS])
    t = np.array([float(r["obsTime"]) for r in full])
    b = np.array([int(r["filterid"]) - 1 for r in full])
    m = mag_of(np.array([float(r["psfFlux"]) for r in full]))
    good = np.array([float(r["psfQfPerfect"]) >= 0.9 for r in full])
    level = np.full(5, np.nan)
    resid = m - shape_model(t, b)
    for k in range(5):
        sel = good & (b == k)
        if sel.any():
            level[k] = np.median(resid[sel])
    shift = np.nanmedian(level - mb)
    return np.where(np.isfinite(level), level, mb + shift)


def eb_plan(good, bad, primary, secondary):
    """Synthesised epochs of a binary, per band (g..y): good = (n, lo, hi), bad = n; of the good
    exposures, primary[k] and secondary[k] are placed in the eclipses (on purpose, so that the
    sparse light curve shows both eclipses), the others out of eclipse."""
    plan = {}
    for k in range(5):
        n, lo, hi = good[k]
        plan[k] = [(primary[k], "primary", lo, hi), (secondary[k], "secondary", lo, hi),
                   (n - primary[k] - secondary[k], "good", lo, hi), (bad[k], "bad", 55200, 56990)]
    return plan


def eb_star(rng, sky, star, pars, good, bad, primary, secondary, min_depth):
    """An eclipsing binary: real rows + epochs synthesised from eb_model with the tutorial's
    period and epoch and per-filter levels fitted to the real good points.  The eclipse
    visits are placed where the eclipse is deeper than min_depth (primary, secondary: mag in
    r), the other good visits where the eclipses take < 0.005 mag (one-harmonic periodograms
    are dominated by points deep in eclipse; PS1's sparse sampling catches few of them)."""
    mean = read_real(star.key + "_meanobjectview")[0]
    star.mean = {b: float(mean[b + "MeanPSFMag"]) for b in BANDS}
    full = real_rows([star.key + "_detections_qf09"])
    extra = dict(reflection=sample.EB_REFLECTION[star.name],
                 ellipsoidal=sample.EB_ELLIPSOIDAL[star.name])
    level = fit_levels(star, full, eb_model(star, np.zeros(5), *pars, **extra))
    model = eb_model(star, level, *pars, **extra)
    t0 = star.t0 + sample.EB_T0_TO_MJD + pars[0]

    def eclipse_r(tt):          # eclipse depth (mag) in r, without the out-of-eclipse light
        return eclipse_dmag(tt, np.ones(len(tt), dtype=int), star.period, t0, *pars[1:])

    def near(tt, centre):
        return np.abs((((tt - t0) / star.period) - centre + 0.5) % 1.0 - 0.5) < 0.25

    want = {"primary": lambda tt: near(tt, 0.0) & (eclipse_r(tt) > min_depth[0]),
            "secondary": lambda tt: near(tt, pars[5] if len(pars) > 5 else 0.5)
            & (eclipse_r(tt) > min_depth[1])}
    return build_star(rng, sky, star, full, [], eb_plan(good, bad, primary, secondary), model,
                      want=want, avoid=lambda tt: eclipse_r(tt) > 0.005)


def kic2161623(rng, sky):
    star = sample.KIC_2161623
    star.key = "kic2161623"
    # V-shaped (grazing) primary 0.42 and secondary 0.082 of the light, half-width 0.062 d
    pars = (0.0, np.full(5, 0.42), np.full(5, 0.082), 0.062, "V")
    # good: g 8 (all real), r 10 (1 real; the others after it), i 8, z 9, y 10 (all real)
    good = [(0, 55200, 56990), (9, 55014, 56990), (8, 55200, 56990), (9, 55200, 56990),
            (0, 55200, 56990)]
    bad = [2, 6, 4, 6, 4]
    # one r visit pair near the centre of the primary eclipse (0.59 mag deep); the real g
    # pair at phase 0.49-0.50 shows the secondary
    return eb_star(rng, sky, star, pars, good, bad, primary=(0, 2, 0, 0, 0),
                   secondary=(0, 0, 0, 0, 0), min_depth=(0.4, 0.065))


def kic8153568(rng, sky):
    star = sample.KIC_8153568
    star.key = "kic8153568"
    # deep primary (93 % of the g light: 1.5 mag in g at phase ~0.02, as the real rows show)
    # and a secondary eclipse deeper in the red; half-width 0.23 d
    prim = 0.93 * np.array([1.0, 0.75, 0.55, 0.42, 0.30])
    sec = np.array([0.08, 0.12, 0.16, 0.19, 0.22])
    pars = (-0.05, prim, sec, 0.23, 0.6)
    # good: g 12 (9 real = the earliest), r 11, i 22, z 6 (1 real = the latest), y 9 (all real)
    good = [(3, 55749, 56990), (11, 55200, 56990), (22, 55200, 56990), (5, 55200, 56914),
            (0, 55200, 56990)]
    bad = [4, 4, 9, 4, 7]
    # visit pairs near the centre of the primary eclipse in r (1.3 mag) and i (0.8 mag) and of
    # the secondary in i (0.19 mag), besides the real g pair in primary and y pair at ingress
    return eb_star(rng, sky, star, pars, good, bad, primary=(0, 2, 2, 0, 0),
                   secondary=(0, 0, 2, 0, 0), min_depth=(1.0, 0.10))


def bulk_field(rng, sky):
    n = sample.BULK_N_OBJECTS
    n_exp = np.array([100, 100, 110, 100, 40])
    require(n_exp.sum() == sample.BULK_N_EXPOSURES,
            f"bulk field: {n_exp.sum()} exposures, sample.py says {sample.BULK_N_EXPOSURES}")
    exposures = Exposures(rng, sample.BULK_RA, n_exp)
    ra, dec = random_in_annulus(rng, n, sample.BULK_RA, sample.BULK_DEC, 0.0,
                                sample.BULK_RADIUS - 2.0 / 3600)
    r = draw_mags(rng, n, bright=13.0, faint=23.0, slope=0.22, m50=22.0)
    mags, gal = draw_colours(rng, n, r)
    counts = detection_counts(rng, mags, n_exp, pmax=0.85)
    counts[counts.sum(1) < 2, 1] = 2
    force_total(rng, counts, n_exp, sample.BULK_N_DETECTIONS)
    forced = rng.choice(n, sample.BULK_N_FORCED_OBJECTS, replace=False)
    add_field(rng, sky, objid_for(ra, dec), ra, dec, mags, gal, counts, exposures,
              forced=np.sort(forced))


# ---- tables ---------------------------------------------------------------------------------
def group_stats(key, nkeys, values, weights=None):
    cnt = np.bincount(key, minlength=nkeys)
    s = np.bincount(key, weights=values, minlength=nkeys)
    s2 = np.bincount(key, weights=values ** 2, minlength=nkeys)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / cnt
        std = np.sqrt(np.maximum(s2 / cnt - mean ** 2, 0.0))
    mn = np.full(nkeys, np.inf)
    mx = np.full(nkeys, -np.inf)
    np.minimum.at(mn, key, values)
    np.maximum.at(mx, key, values)
    return cnt, mean, std, mn, mx


def flag_tables():
    info = [("PSFMODEL", 0x1, "Source fitted with a psf model (linear or non-linear)"),
            ("EXTMODEL", 0x2, "Source fitted with an extended-source model"),
            ("FITTED", 0x4, "Source fitted with non-linear model (PSF or EXT; good or bad)"),
            ("FAIL", 0x8, "Fit (non-linear) failed (non-converge, off-edge, run to zero)"),
            ("POOR", 0x10, "Fit succeeds, but low-SN, high-Chisq, or large (for PSF -- drop?)"),
            ("PAIR", 0x20, "Source fitted with a double psf"),
            ("PSFSTAR", 0x40, "Source used to define PSF model"),
            ("SATSTAR", 0x80, "Source model peak is above saturation"),
            ("BLEND", 0x100, "Source is a blend with other sourcers"),
            ("EXTERNAL", 0x200, "Source based on supplied input position"),
            ("BADPSF", 0x400, "Failed to get good estimate of object's PSF"),
            ("DEFECT", 0x800, "Source is thought to be a defect"),
            ("SATURATED", 0x1000, "Source is thought to be saturated pixels (bleed trail)"),
            ("CR_LIMIT", 0x2000, "Source has crNsigma above limit"),
            ("EXT_LIMIT", 0x4000, "Source has extNsigma above limit"),
            ("MOMENTS_FAILURE", 0x8000, "Could not measure the moments"),
            ("SKY_FAILURE", 0x10000, "Could not measure the local sky"),
            ("SKYVAR_FAILURE", 0x20000, "Could not measure the local sky variance"),
            ("BELOW_MOMENTS_SN", 0x40000, "Moments not measured due to low S/N"),
            ("BIG_RADIUS", 0x100000, "Poor moments for small radius, try large radius"),
            ("AP_MAGS", 0x200000, "Source has an aperture magnitude"),
            ("BLEND_FIT", 0x400000, "Source was fitted as a blend"),
            ("EXTENDED_FIT", 0x800000, "Full extended fit was used"),
            ("EXTENDED_STATS", 0x1000000, "Extended aperture stats calculated")]
    tables = {"DetectionFlags": info}
    # infoFlag2/3: the bits that occur in the sample's data; their names are not in the
    # project's reference material, so they are listed by value only.
    for table, values in (("DetectionFlags2", [128]), ("DetectionFlags3", list(INFOFLAG3))):
        bits = sorted({1 << k for v in values for k in range(32) if int(v) >> k & 1})
        tables[table] = [(f"BIT_{b:#x}", b, "bit occurring in the sample data (name not recorded)")
                         for b in bits]
    return tables


def generate(out, bulk=True):
    """Write the sample database's tables as COPY files into ``out``; returns row counts."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    schema = load_schema()
    tables, timing = simulate(bulk)
    t = time.time()
    rows = {}
    for name, (data, nrows) in tables.items():
        write_pgcopy(out, name, schema, data, nrows)
        rows[name] = nrows
    timing["write"] = time.time() - t
    with open(out / "manifest.json", "w") as f:
        json.dump({"rows": rows, "bulk": bulk, "timing": timing}, f, indent=1)
    return rows


def simulate(bulk=True):
    """The sample database in memory, checked against ``sample.py``.

    Returns ``(tables, timing)``: ``tables`` maps each table of ``TABLES`` to ``(data, nrows)``,
    data a dict column -> array (or list, for the small tables) holding the schema's columns
    that have values (the others are NULL).  The local TAP server and the local HATS catalogs
    are both made from it.
    """
    schema = load_schema()
    sky = Sky()
    timing = {}
    t = time.time()
    m87_field(np.random.default_rng(87), sky)
    for k, fn in enumerate((kq_uma, kic2161623, kic8153568)):
        exposures, _ = fn(np.random.default_rng(100 + k), sky)
        neighbours(np.random.default_rng(200 + k), sky, sample.STARS[k], exposures)
    if bulk:
        bulk_field(np.random.default_rng(53), sky)
    timing["simulate"] = time.time() - t

    OB = sky.cat("objects")
    D = sky.cat("dets")
    F = sky.cat("fwm")
    nobj = len(OB["objID"])
    # objIDs follow MAST's definition, so two generated objects a few mas apart would share
    # one: make them unique (real IDs untouched) and give the rows their object's ID
    OB["objID"] = make_unique(OB["objID"], OB["real"])
    D["objID"] = OB["objID"][D["_o"]]
    F["objID"] = OB["objID"][F["_o"]]
    require(len(np.unique(OB["objID"])) == nobj, "objID collision")

    # detectIDs: exposure code (MJD) * 1e8 + running number; real ones kept
    nd = len(D["objID"])
    code = np.round((D["obsTime"] - 40000.0) * 1e5).astype(np.int64)
    new = D["detectID"] == 0
    D["detectID"][new] = code[new] * 10**8 + np.arange(nd)[new]
    require(len(np.unique(D["detectID"])) == nd, "detectID collision")
    D["ippDetectID"] = np.arange(nd, dtype=np.int64) + 7 * 10**9
    D["uniquePspsP2id"] = np.arange(nd, dtype=np.int64) + 10**12
    ipp = np.arange(nobj, dtype=np.int64) * 13 + 4 * 10**11
    D["ippObjID"] = ipp[D["_o"]]

    # forced rows: link to the detection on the same warp, if any
    dkey = D["_o"].astype(np.int64) * 10**7 + D["_e"]
    fkey = F["_o"].astype(np.int64) * 10**7 + F["_e"]
    order = np.argsort(dkey)
    pos = np.searchsorted(dkey[order], fkey)
    pos = np.minimum(pos, nd - 1)
    hit = dkey[order][pos] == fkey
    F["detectID"] = np.where(hit, D["detectID"][order][pos], 0)
    nf = len(F["objID"])
    F["forcedWarpID"] = np.round((F["obsTime"] - 40000.0) * 1e5).astype(np.int64) * 10**8 + np.arange(nf)
    F["forcedSummaryID"] = np.arange(nf, dtype=np.int64) + 9 * 10**11
    F["uniquePspsFWid"] = np.arange(nf, dtype=np.int64) + 2 * 10**12
    F["ippObjID"] = ipp[F["_o"]]
    F["ippDetectID"] = np.where(hit, D["ippDetectID"][order][pos], 0)

    # per object and band statistics of the detections
    band = D["filterID"].astype(np.int64) - 1
    key = D["_o"] * 5 + band
    nk = nobj * 5
    mags = np.where(D["psfFlux"] > 0, mag_of(np.maximum(D["psfFlux"], 1e-30)), np.nan)
    ok = np.isfinite(mags)
    cnt, mean, std, mn, mx = group_stats(key[ok], nk, mags[ok])
    kmag = mag_of(np.maximum(D["kronFlux"], 1e-30))
    _, kmean, kstd, _, _ = group_stats(key, nk, kmag)
    amag = mag_of(np.maximum(D["apFlux"], 1e-30))
    _, amean, astd, _, _ = group_stats(key, nk, amag)
    merr = 1.0857 * D["psfFluxErr"] / np.maximum(D["psfFlux"], 1e-30)
    _, emean, _, _, _ = group_stats(key, nk, merr)
    qmax = np.full(nk, -999.0)
    np.maximum.at(qmax, key, D["psfQfPerfect"])
    ndet = np.bincount(key, minlength=nk).reshape(nobj, 5)
    require((ndet == OB["counts"]).all(), "detections disagree with the counts")
    # the mean magnitudes average every detection: none may have a flux <= 0
    require((cnt.reshape(nobj, 5) == ndet).all(),
            f"{int((~ok).sum())} detections have psfFlux <= 0 (no magnitude)")
    over = OB["mean_override"].reshape(-1)
    mean = np.where(np.isfinite(over), over, mean)
    has = ndet.reshape(-1) > 0

    def band_cols(values, fill=-999.0):
        v = np.where(has, values, fill).reshape(nobj, 5)
        return {b: v[:, i] for i, b in enumerate(BANDS)}

    n1 = ndet.reshape(-1)
    meanobj = {"objID": OB["objID"], "uniquePspsOBid": np.arange(nobj, dtype=np.int64) + 10**10}
    cols = {
        "MeanPSFMag": band_cols(mean), "MeanPSFMagErr": band_cols(
            np.where(n1 > 1, std / np.sqrt(np.maximum(n1, 1)), emean)),
        "MeanPSFMagStd": band_cols(np.where(n1 > 1, std, 0.0)),
        "MeanPSFMagNpt": band_cols(n1, 0), "MeanPSFMagMin": band_cols(mn),
        "MeanPSFMagMax": band_cols(mx), "MeanKronMag": band_cols(kmean),
        "MeanKronMagErr": band_cols(emean * 1.2 / np.sqrt(np.maximum(n1, 1))),
        "MeanKronMagStd": band_cols(np.where(n1 > 1, kstd, 0.0)), "MeanKronMagNpt": band_cols(n1, 0),
        "MeanApMag": band_cols(amean),
        "MeanApMagErr": band_cols(emean * 1.1 / np.sqrt(np.maximum(n1, 1))),
        "MeanApMagStd": band_cols(np.where(n1 > 1, astd, 0.0)), "MeanApMagNpt": band_cols(n1, 0),
        "QfPerfect": band_cols(qmax), "Flags": band_cols(np.where(n1 > 2, 114, 115), 0),
    }
    for suffix, per in cols.items():
        for b in BANDS:
            v = per[b]
            if suffix.endswith("Npt") or suffix == "Flags":
                v = v.astype(np.int64)
            meanobj[b + suffix] = v

    # ObjectThin
    ra, dec = OB["ra"], OB["dec"]
    lgal, bgal, lam, beta, xyz = radec_to_gal_ecl(ra, dec)
    ntot = ndet.sum(1)
    tmean = np.bincount(D["_o"], weights=D["obsTime"], minlength=nobj) / np.maximum(ntot, 1)
    instack = OB["mags"] < STACK_DEPTH[None, :]
    gal = OB["is_gal"]
    orng = np.random.default_rng(7)
    poserr = np.clip(0.3 / np.sqrt(np.maximum(ntot, 1)) * 10 ** (0.2 * (OB["mags"][:, 1] - 20)),
                     0.002, 0.3)
    objthin = {
        "objID": OB["objID"], "uniquePspsOBid": meanobj["uniquePspsOBid"], "ippObjID": ipp,
        "objName": objname_for(ra, dec), "surveyID": np.zeros(nobj, dtype=np.int16),
        "htmID": np.zeros(nobj, dtype=np.int64),
        "zoneID": np.floor((dec + 90) / 0.0083333).astype(np.int64),
        "tessID": np.ones(nobj, dtype=np.int16),
        "projectionID": (1000 + np.floor(dec + 90)).astype(np.int64),
        "skyCellID": orng.integers(0, 100, nobj).astype(np.int16),
        "randomID": orng.random(nobj), "batchID": np.ones(nobj, dtype=np.int64),
        "dvoRegionID": np.zeros(nobj, dtype=np.int64),
        "processingVersion": np.full(nobj, 3, dtype=np.int16),
        "objInfoFlag": np.where(ntot < 3, 436207617, 436207616) | np.where(gal, 0x800000, 0),
        "qualityFlag": np.where(ntot < 2, 0, np.where(gal, 53, 52)).astype(np.int16),
        "raStack": ra + orng.normal(0, 1e-6, nobj), "decStack": dec + orng.normal(0, 1e-6, nobj),
        "raStackErr": poserr * 0.7, "decStackErr": poserr * 0.7,
        "raMean": ra, "decMean": dec, "raMeanErr": poserr, "decMeanErr": poserr,
        "epochMean": np.where(ntot > 0, tmean, 55800.0),
        "posMeanChisq": orng.gamma(3.0, 0.4, nobj),
        "cx": xyz[0], "cy": xyz[1], "cz": xyz[2], "lambda": lam, "beta": beta,
        "l": lgal, "b": bgal,
        "nStackObjectRows": np.ones(nobj, dtype=np.int64),
        "nStackDetections": instack.sum(1), "nDetections": ntot,
    }
    for i, b in enumerate(BANDS):
        objthin["n" + b] = ndet[:, i]

    # StackObjectThin
    st = {"objID": OB["objID"], "uniquePspsSTid": np.arange(nobj, dtype=np.int64) + 3 * 10**10,
          "ippObjID": ipp, "surveyID": np.zeros(nobj, dtype=np.int16),
          "tessID": np.ones(nobj, dtype=np.int16), "projectionID": objthin["projectionID"],
          "skyCellID": objthin["skyCellID"], "randomStackObjID": orng.random(nobj),
          "primaryDetection": np.ones(nobj, dtype=np.int16),
          "bestDetection": np.ones(nobj, dtype=np.int64),
          "dvoRegionID": np.zeros(nobj, dtype=np.int64),
          "processingVersion": np.full(nobj, 3, dtype=np.int16)}
    for i, b in enumerate(BANDS):
        m = OB["mags"][:, i]
        ins = instack[:, i]
        err = np.clip(0.2 * 10 ** (0.4 * (m - STACK_DEPTH[i])) + 0.003, 0.003, 0.3)
        psf = m + orng.normal(0, 1, nobj) * err
        sid = np.arange(nobj, dtype=np.int64) + (5 + i) * 10**10
        for col, v in (("PSFMag", psf), ("PSFMagErr", err),
                       ("ApMag", psf - np.where(gal, 0.25, 0.0) + orng.normal(0, 0.01, nobj)),
                       ("ApMagErr", err * 1.1),
                       ("KronMag", psf - np.where(gal, 0.4, 0.02)), ("KronMagErr", err * 1.3)):
            st[b + col] = np.where(ins, v, -999.0)
        st[b + "ra"] = np.where(ins, ra, -999.0)
        st[b + "dec"] = np.where(ins, dec, -999.0)
        st[b + "raErr"] = np.where(ins, poserr, -999.0)
        st[b + "decErr"] = np.where(ins, poserr, -999.0)
        st[b + "Epoch"] = np.where(ins, 55800.0 + orng.normal(0, 30, nobj), -999.0)
        st[b + "nFrames"] = np.where(ins, OB["n_warps"][:, i], 0).astype(np.int64)
        st[b + "infoFlag"] = np.where(ins, 0x10000000 | np.where(gal, 0x800000, 0), 0).astype(np.int64)
        st[b + "infoFlag2"] = np.where(ins, 128, 0)
        st[b + "infoFlag3"] = np.where(ins, 7374912, 0)
        st[b + "infoFlag4"] = np.zeros(nobj, dtype=np.int64)
        st[b + "stackDetectID"] = np.where(ins, sid, 0)
        st[b + "stackImageID"] = np.where(ins, 10**9 + i * 10**6 + objthin["skyCellID"].astype(np.int64), 0)
        st[b + "ippDetectID"] = np.where(ins, sid + 1, 0)

    # ForcedMeanObject: from the true magnitudes and the number of warps
    fm = {"objID": OB["objID"], "uniquePspsFOid": np.arange(nobj, dtype=np.int64) + 4 * 10**10,
          "ippObjID": ipp, "nDetections": ntot, "batchID": np.ones(nobj, dtype=np.int64),
          "processingVersion": np.full(nobj, 3, dtype=np.int16),
          "randomForcedObjID": orng.random(nobj)}
    for i, b in enumerate(BANDS):
        nw = OB["n_warps"][:, i]
        has_w = nw > 0
        ftrue = flux_of(OB["mags"][:, i])
        ferr1 = flux_error(ftrue, np.full(nobj, i), np.full(nobj, DEPTH[i]))
        ferr = ferr1 / np.sqrt(np.maximum(nw, 1))
        flux = ftrue + ferr * orng.normal(0, 1, nobj)
        fmag = np.where(flux > 0, mag_of(np.maximum(flux, 1e-30)), -999.0)
        fmerr = np.where(flux > 0, 1.0857 * ferr / np.maximum(flux, 1e-30), -999.0)
        for col, v in (("FPSFFlux", flux), ("FPSFFluxErr", ferr), ("FPSFFluxStd", ferr1),
                       ("FPSFMag", fmag), ("FPSFMagErr", fmerr),
                       ("FApFlux", flux * np.where(gal, 1.25, 1.0)), ("FApFluxErr", ferr * 1.05),
                       ("FApFluxStd", ferr1 * 1.05), ("FApMag", fmag - np.where(gal, 0.24, 0.0)),
                       ("FApMagErr", fmerr * 1.05),
                       ("FKronFlux", flux * np.where(gal, 1.4, 1.02)), ("FKronFluxErr", ferr * 1.3),
                       ("FKronFluxStd", ferr1 * 1.3), ("FKronMag", fmag - np.where(gal, 0.37, 0.02)),
                       ("FKronMagErr", fmerr * 1.3),
                       ("E1", orng.normal(0, 0.05, nobj)), ("E2", orng.normal(0, 0.05, nobj))):
            fm[b + col] = np.where(has_w, v, -999.0)
        for col in ("nTotal", "nIncPSFFlux", "nIncApFlux", "nIncKronFlux"):
            fm[b + col] = nw.astype(np.int64)
        fm[b + "Flags"] = np.where(has_w, 114, 0).astype(np.int64)

    check(OB, D, F, objthin, bulk)
    tables = {"Filter": ({"filterID": [1, 2, 3, 4, 5], "filterType": list(BANDS)}, 5)}
    for name, entries in flag_tables().items():
        flags = {"name": [e[0] for e in entries], "value": [e[1] for e in entries],
                 "hexadecimal": [f"0x{e[1]:08X}" for e in entries],
                 "description": [e[2] for e in entries]}
        tables[name] = (flags, len(entries))
    for name, data in (("ObjectThin", objthin), ("MeanObject", meanobj),
                       ("StackObjectThin", st), ("ForcedMeanObject", fm)):
        tables[name] = (data, nobj)
    for name, data, n in (("Detection", D, nd), ("ForcedWarpMeasurement", F, nf)):
        names = {c[0] for c in schema[name]}
        tables[name] = ({k: v for k, v in data.items() if k in names}, n)
    require(list(tables) == TABLES, f"tables {list(tables)}, TABLES {TABLES}")
    return tables, timing


def check(OB, D, F, objthin, bulk):
    """Check the facts sample.py promises; raise SampleError naming the first one broken."""
    sep = angsep(objthin["raMean"], objthin["decMean"], sample.M87_RA, sample.M87_DEC)
    inside = sep < sample.M87_RADIUS
    n = ((objthin["nDetections"] > 1) & inside).sum()
    require(n == sample.M87_N_MULTI, f"M87 cone: {n} objects with nDetections > 1, "
            f"sample.M87_N_MULTI = {sample.M87_N_MULTI}")
    n = ((objthin["nDetections"] == 1) & inside).sum()
    require(n == sample.M87_N_SINGLE, f"M87 cone: {n} objects with nDetections == 1, "
            f"sample.M87_N_SINGLE = {sample.M87_N_SINGLE}")
    for star in sample.STARS:
        k = np.nonzero(OB["objID"] == star.objid)[0]
        require(len(k) == 1, f"{star.name}: {len(k)} objects with objID {star.objid}")
        d = D["_o"] == k[0]
        require(d.sum() == star.n_detections,
                f"{star.name}: {d.sum()} detections, {star.n_detections} expected")
        got = list(np.bincount(D["filterID"][d] - 1, minlength=5))
        want = [star.counts[b] for b in BANDS]
        require(got == want, f"{star.name}: detections per filter {got}, {want} expected")
        n = (D["psfQfPerfect"][d] >= np.float32(0.9)).sum()
        require(n == star.n_good, f"{star.name}: {n} detections with psfQfPerfect >= 0.9, "
                f"{star.n_good} expected")
        n = (F["objID"] == star.objid).sum()
        require(n == sample.STAR_N_WARPS[star.name],
                f"{star.name}: {n} forced warps, {sample.STAR_N_WARPS[star.name]} expected")
        cone = angsep(objthin["raMean"], objthin["decMean"], star.cone_ra, star.cone_dec)
        n = (cone < sample.STAR_CONE_RADIUS).sum()
        require(n == 1, f"{star.name}: {n} objects in the tutorial's 1 arcsec cone")
    if bulk:
        sep = angsep(objthin["raMean"], objthin["decMean"], sample.BULK_RA, sample.BULK_DEC)
        inb = np.nonzero(sep < sample.BULK_RADIUS)[0]
        require(len(inb) == sample.BULK_N_OBJECTS,
                f"bulk field: {len(inb)} objects, {sample.BULK_N_OBJECTS} expected")
        n = np.isin(D["_o"], inb).sum()
        require(n == sample.BULK_N_DETECTIONS,
                f"bulk field: {n} detections, {sample.BULK_N_DETECTIONS} expected")
        n = np.isin(F["_o"], inb).sum()
        require(n == sample.BULK_N_FORCED,
                f"bulk field: {n} forced warps, {sample.BULK_N_FORCED} expected")
    real = OB["real"]
    generated = objid_for(OB["ra"][~real], OB["dec"][~real])
    moved = OB["objID"][~real] - generated
    require(((moved >= 0) & (moved < 10)).all(),
            "a generated objID does not follow MAST's definition")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--no-bulk", action="store_true", help="leave out the bulk field")
    args = ap.parse_args(argv)
    t0 = time.time()
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    counts = generate(out, bulk=not args.no_bulk)
    print(f"generated {sum(counts.values())} rows in {time.time() - t0:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
