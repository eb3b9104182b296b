"""Facts about the local sample database that tests (and people) can rely on.

Every number here is produced *by construction* by ``localtap/generate.py`` (which asserts
them after generating), so a test can compare a TAP answer with these constants without
knowing how the data were made.  Counts marked "as at MAST" are the real service's answers
to the MAST "PS1 DR2 TAP" tutorial's queries.

Importable without numpy or DaCHS: ``from localtap import sample`` (repository root on sys.path).
"""

#: The TAP base URL the server answers on by default (port: env PS1TAP_LOCAL_PORT, default 8080).
DEFAULT_PORT = 8080

#: Server-side row limits, as at MAST (default MAXREC and hard limit).
MAXREC_DEFAULT = 100000
MAXREC_HARD = 100000

#: PS1 filters, dbo.Filter (filterID 1..5).
FILTERS = {1: "g", 2: "r", 3: "i", 4: "z", 5: "y"}

# --- The M87 field (tutorial's first query) -------------------------------------------------
M87_RA = 187.706
M87_DEC = 12.391
M87_RADIUS = 0.2                 # degrees, the tutorial's cone
M87_N_MULTI = 6927               # nDetections > 1 inside the cone (as at MAST)
M87_N_SINGLE = 1200              # nDetections == 1 inside the cone (sample only)
M87_FIELD_RADIUS = 0.25          # objects are generated out to here (a ring outside the cone)
#: objID of M87 itself (a real row, first of the tutorial's displayed rows).
M87_OBJID = 122861877059169881
#: The 19 real rows of the tutorial's M87 result are in the database verbatim.
M87_N_REAL_ROWS = 19


class Star:
    """One of the tutorial's three stars, with its real PS1 DR2 identifiers and counts."""

    def __init__(self, name, objid, ra, dec, cone_ra, cone_dec, counts, n_good, period, t0=None,
                 kind=""):
        self.name = name
        self.objid = objid                  # real objID
        self.ra = ra                        # real raMean (deg)
        self.dec = dec                      # real decMean (deg)
        self.cone_ra = cone_ra              # where the tutorial's 1-arcsec cone was centred
        self.cone_dec = cone_dec
        self.counts = dict(zip("grizy", counts))   # detections per filter (as at MAST)
        self.n_detections = sum(counts)     # nDetections (as at MAST)
        self.n_good = n_good                # detections with psfQfPerfect >= 0.9
        self.period = period                # days
        self.t0 = t0                        # epoch of primary minimum as the tutorial gives it
        self.kind = kind

    def __repr__(self):
        return f"Star({self.name!r}, objid={self.objid})"


KQ_UMA = Star("KQ UMa", 190361393344112894, 139.33445305334158, 68.63505916169231,
              139.33446271609, 68.63508880829, (8, 10, 21, 13, 14), 63, 0.48636,
              kind="RR Lyrae (RRab)")
#: The tutorial's bad z point of KQ UMa.
KQ_UMA_BAD_Z_OBSTIME = 55933.5264577
KQ_UMA_BAD_Z_QF = 0.322986
KQ_UMA_BAD_Z_DETECTID = 183252627520000234

KIC_2161623 = Star("KIC 2161623", 153102917444859851, 291.74446283634614, 37.59099888154969,
                   291.744461, 37.59102, (10, 16, 12, 15, 14), 45, 2.2834698, 54999.599837,
                   kind="detached eclipsing binary")
KIC_8153568 = Star("KIC 8153568", 160802869044447231, 286.90445005122217, 44.00547945471509,
                   286.90445, 44.00551, (16, 15, 31, 10, 16), 60, 3.6071431, 54999.289794,
                   kind="eclipsing binary with a visible secondary eclipse")
STARS = (KQ_UMA, KIC_2161623, KIC_8153568)
#: Out-of-eclipse light of the binaries (magnitudes, per filter g, r, i, z, y), on top of the
#: eclipses: semi-amplitudes of the ellipsoidal variation (tidally distorted stars: a
#: cos(4 pi phase) term, light minima at phases 0 and 0.5, i.e. period P/2; nearly grey,
#: 0.06 mag peak-to-peak) and of the reflection / irradiation effect (cos(2 pi phase),
#: brightest at phase 0.5).  Phase 0 = primary minimum.
EB_ELLIPSOIDAL = {"KIC 2161623": (0.0324, 0.0312, 0.030, 0.0288, 0.0288),
                  "KIC 8153568": (0.0324, 0.0312, 0.030, 0.0288, 0.0288)}
EB_REFLECTION = {"KIC 2161623": (0.004, 0.005, 0.005, 0.006, 0.006),
                 "KIC 8153568": (0.005, 0.006, 0.006, 0.007, 0.007)}
#: Period search on the good points (psfQfPerfect >= 0.9, positive flux; AB magnitudes with
#: their errors, one band per filter; points fainter than their band's median by > 5 robust
#: sigma -- deep in eclipse -- left out): astropy's LombScargleMultiband (nterms_band=0) over
#: 1/50..10 d^-1 peaks at this fraction of the period: P for KQ UMa, P/2 for the binaries
#: (the ellipsoidal variation dominates between eclipses); folded on P the binaries' points
#: scatter less than on P/2 (unequal eclipses).  tests/localtap/test_sample_periods.py.
PERIODOGRAM_PEAK_FACTOR = {"KQ UMa": 1.0, "KIC 2161623": 0.5, "KIC 8153568": 0.5}
#: The tutorial's cone radius for the stars (1 arcsec).
STAR_CONE_RADIUS = 1.0 / 3600.0
#: The eclipsing binaries' t0 is BJD-2400000 (the tutorial's bjd0); in MJD (obsTime) the
#: primary minimum falls at t0 - 0.5 (+ n*P).  The generator uses that.
EB_T0_TO_MJD = -0.5
#: Forced photometry: number of warps (ForcedWarpMeasurement rows) at each star; includes
#: warps where the star was not detected.
STAR_N_WARPS = {"KQ UMa": 74, "KIC 2161623": 75, "KIC 8153568": 96}

# --- The bulk field (scale work; left out by ``server.py start --no-bulk``) -----------------
BULK_RA = 213.704                # the PS1 Medium Deep field MD07 (Extended Groth Strip)
BULK_DEC = 53.083
BULK_RADIUS = 0.5                # degrees; every bulk object lies inside this cone
BULK_N_OBJECTS = 12000
BULK_N_DETECTIONS = 1100000      # dbo.Detection rows of the bulk objects
BULK_N_EXPOSURES = 450           # warps (exposures) covering the field
BULK_N_FORCED_OBJECTS = 250      # bulk objects with forced photometry on every warp
BULK_N_FORCED = BULK_N_FORCED_OBJECTS * BULK_N_EXPOSURES

#: The fields do not overlap: M87 (187.7, +12.4), the stars (139.3 +68.6, 291.7 +37.6,
#: 286.9 +44.0, each with a few neighbours within 0.05 deg) and the bulk field (213.7, +53.1).
STAR_FIELD_RADIUS = 0.05
STAR_FIELD_N_NEIGHBOURS = 40
