"""What users give as targets becomes exact positions and objIDs, or a clear error, before any request."""
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import Angle, SkyCoord
from astropy.table import Column, MaskedColumn
from astroquery.exceptions import InvalidQueryError

from astroquery_ps1tap import targets

KQ_UMA = (139.33446271609, 68.63508880829)


class TestPositions:
    @pytest.mark.parametrize("coordinates", [
        KQ_UMA,
        list(KQ_UMA),
        (KQ_UMA[0] * u.deg, KQ_UMA[1] * u.deg),
        "139.33446271609 68.63508880829",
        "139.33446271609, 68.63508880829",
        SkyCoord(*KQ_UMA, unit="deg"),
        SkyCoord(*KQ_UMA, unit="deg").galactic,
        SkyCoord(*KQ_UMA, unit="deg").to_string("hmsdms", precision=5),
    ])
    def test_every_form_gives_icrs_degrees(self, coordinates):
        ra, dec = targets.parse_position(coordinates)
        assert ra == pytest.approx(KQ_UMA[0], abs=1e-7)
        assert dec == pytest.approx(KQ_UMA[1], abs=1e-7)

    @pytest.mark.parametrize("bad, message", [
        ("not a position", "could not read coordinates"),
        ((10, 95), "dec must be within"),
        ((np.nan, 10), "must be finite"),
        ((10 * u.s, 5), "must be an angle"),
        ((True, 5), "must be a number"),
        (42, "could not read coordinates"),
        (SkyCoord([1, 2], [3, 4], unit="deg"), "one position"),
        ("10 20; DROP TABLE dbo.Detection", "could not read coordinates"),
    ])
    def test_bad_positions_are_refused(self, bad, message):
        with pytest.raises(InvalidQueryError, match=message):
            targets.parse_position(bad)

    def test_ra_wraps_into_range(self):
        assert targets.parse_position((-10, 0))[0] == 350


class TestRadius:
    @pytest.mark.parametrize("radius", [1 * u.arcsec, Angle("1s"), "1 arcsec", 1 / 3600, "0.000277777777778"])
    def test_forms(self, radius):
        assert targets.parse_radius(radius) == pytest.approx(1 / 3600)

    @pytest.mark.parametrize("bad, message", [
        (0, "must be positive"), (-1 * u.arcsec, "must be positive"), (5 * u.deg, "larger than"),
        ("two arcsec", "could not read radius"), (1 * u.m, "must be an angle"), (np.inf, "finite"),
    ])
    def test_refused(self, bad, message):
        with pytest.raises(InvalidQueryError, match=message):
            targets.parse_radius(bad)


class TestObjIDs:
    def test_exact_int64_from_ints_text_and_columns(self):
        big = 190361393344112894  # > 2**53: would not survive a float
        assert targets.parse_objids(big).tolist() == [big]
        assert targets.parse_objids(str(big)).tolist() == [big]
        assert targets.parse_objids(np.int64(big)).tolist() == [big]
        assert targets.parse_objids(Column([big, 153102917444859851])).tolist() == [big, 153102917444859851]
        assert targets.parse_objids(np.array([b"153102917444859851"])).tolist() == [153102917444859851]

    def test_duplicates_are_fetched_once_in_first_seen_order(self):
        assert targets.parse_objids([3, 1, 3, 2, 1]).tolist() == [3, 1, 2]

    @pytest.mark.parametrize("bad, message", [
        ([1.9036139334411290e17], "not an integer"), ([-5], "out of range"), (["12a"], "not a whole"),
        ([], "no objIDs"), ([True], "not an integer"), (["1 OR 1=1"], "not a whole"),
        ([2**64], "out of range"),
    ])
    def test_refused_with_the_value_named(self, bad, message):
        with pytest.raises(ValueError, match=message):
            targets.parse_objids(bad)

    def test_masked_value_refused(self):
        with pytest.raises(ValueError, match="position 1 is missing"):
            targets.parse_objids(MaskedColumn([1, 2], mask=[False, True]))


