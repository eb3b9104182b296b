"""The ``quality`` bits of PS1 light curves behave as lightkurve's own quality flags.

`PS1QualityFlags` is a `lightkurve.utils.QualityFlags`: ``decode`` gives descriptions and
``create_quality_mask`` the points a bitmask keeps, exactly as for Kepler and TESS, so code
written for lightkurve's classes works on PS1 curves too.
"""
import numpy as np
import pytest

from astroquery_ps1tap import schema
from astroquery_ps1tap.lightcurves import PS1QualityFlags, to_lightcurves
from astroquery_ps1tap.periods import simulate_detections

from lightkurve.utils import KeplerQualityFlags, QualityFlags  # noqa: I100  (imported quietly above)

pytestmark = pytest.mark.filterwarnings("error")

Q = PS1QualityFlags


def test_a_lightkurve_quality_flags_class():
    assert issubclass(Q, QualityFlags)
    assert Q.decode.__func__ is QualityFlags.decode.__func__
    assert Q.create_quality_mask.__func__ is QualityFlags.create_quality_mask.__func__


def test_decode_gives_descriptions_as_lightkurve_does():
    assert KeplerQualityFlags.decode(KeplerQualityFlags.AttitudeTweak) == ["Attitude tweak"]
    assert Q.decode(Q.LOW_QF | Q.SATSTAR) == ["psfQfPerfect below min_qf",
                                              "infoFlag SATSTAR: peak above saturation"]
    assert Q.decode(0) == []
    assert Q.decode(np.int32(Q.LOW_SNR)) == ["flux / flux_err below 5"]


def test_every_bit_has_a_name_and_a_description():
    names = Q.names()
    assert list(names) == [1 << k for k in range(13)]              # 13 bits, no gaps, lowest first
    assert set(names) == set(Q.STRINGS)
    assert all(getattr(Q, name) == bit for bit, name in names.items())
    assert Q.HARDEST_BITMASK == sum(names)
    assert Q.HARD_BITMASK == Q.HARDEST_BITMASK & ~Q.LOW_SNR


def test_infoflag_bits_are_the_schemas():
    for name, info_bit in Q.INFO_FLAG_BITS.items():
        assert info_bit == schema.INFO_FLAGS[name] and name in Q.names().values()


def test_named_bitmasks_and_bad_ones():
    assert [Q.bitmask(name) for name in ("none", "default", "hard", "hardest")] == [0, 7, 4095, 8191]
    assert Q.bitmask("HARD") == Q.HARD_BITMASK and Q.bitmask(np.int64(3)) == 3
    for bad in ("soft", -1, 1.5, True, None):
        with pytest.raises(ValueError, match="quality_bitmask"):
            Q.bitmask(bad)


def test_create_quality_mask_keeps_the_points_without_the_bitmask_bits():
    quality = np.array([0, Q.LOW_QF, Q.SATSTAR, Q.SATSTAR | Q.MISSING_FLUX])
    assert Q.create_quality_mask(quality, bitmask="default").tolist() == [True, False, True, False]
    assert Q.create_quality_mask(quality, bitmask="hard").tolist() == [True, False, False, False]
    assert Q.create_quality_mask(quality, bitmask=Q.SATSTAR).tolist() == [True, True, False, False]
    assert Q.create_quality_mask(quality, bitmask=None).all()


def test_the_light_curves_remove_what_create_quality_mask_removes():
    det = simulate_detections("rrlyrae", 0.48636, seed=3)
    rng = np.random.default_rng(3)
    det["psfQfPerfect"] = rng.uniform(0.85, 1.0, len(det))              # a third below 0.9
    det["infoFlag"] = np.where(rng.uniform(size=len(det)) < 0.2, schema.INFO_FLAGS["SATSTAR"], 0)
    everything = to_lightcurves(det, quality_bitmask="none")
    for bitmask in ("default", "hard", Q.SATSTAR):
        masked = to_lightcurves(det, quality_bitmask=bitmask)
        removed = 0
        for full, kept in zip(everything, masked):
            keep = Q.create_quality_mask(np.asarray(full["quality"]), bitmask=bitmask)
            np.testing.assert_array_equal(kept.time.mjd, full.time.mjd[keep])
            assert kept.meta["N_MASKED"] == (~keep).sum()
            removed += (~keep).sum()
        assert 0 < removed < len(det)
