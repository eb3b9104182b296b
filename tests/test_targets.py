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


class TestTextPositions:
    """Text is read as astropy's SkyCoord reads it; without units, sexagesimal RA is in hours (as
    SIMBAD and catalogues print it) and decimal RA in degrees; what stays ambiguous is refused."""

    M87 = SkyCoord("12h30m49.42s +12d23m28.0s")

    @pytest.mark.parametrize("text", [
        "12 30 49.42 +12 23 28.0",          # SIMBAD's form
        "12:30:49.42 +12:23:28.0",
        "12 30 49.42, +12 23 28.0",
        "12 30 49.42 12 23 28.0",           # six fields, no sign: three and three, as astropy splits
        "J123049.42+122328.0",
        "12h30m49.42s +12d23m28.0s",
    ])
    def test_sexagesimal_ra_is_hours(self, text):
        ra, dec = targets.parse_position(text)
        assert ra == pytest.approx(self.M87.ra.deg, abs=1e-6)
        assert dec == pytest.approx(self.M87.dec.deg, abs=1e-6)

    def test_the_same_as_skycoord_with_units_for_every_form_it_reads(self):
        for text in ["12 30 49.42 -12 23 28.0", "00 42 44.3 +41 16 09", "23:59:59.9 -89:59:59"]:
            expected = SkyCoord(text, unit=(u.hourangle, u.deg))
            assert targets.parse_position(text) == pytest.approx((expected.ra.deg, expected.dec.deg))

    def test_decimal_numbers_are_degrees(self):
        assert targets.parse_position("187.70592 12.39111") == (187.70592, 12.39111)

    def test_decimal_ra_with_sexagesimal_dec_is_refused_showing_both_readings(self):
        with pytest.raises(InvalidQueryError) as error:
            targets.parse_position("12.5 +12 23 28")
        message = str(error.value)
        assert "two readings" in message
        assert "ra=187.500000" in message and "ra=12.500000" in message

    def test_sexagesimal_ra_beyond_24_hours_is_refused_with_the_degree_reading(self):
        with pytest.raises(InvalidQueryError, match=r"not an hour angle.*ra=187.705833.*'187d42m21s'"):
            targets.parse_position("187 42 21 +12 23 28")

    def test_where_ra_ends_must_be_clear(self):
        with pytest.raises(InvalidQueryError, match="where the RA ends"):
            targets.parse_position("12 30 45")

    def test_numeric_text_is_never_sent_to_a_name_resolver(self):
        assert targets.looks_like_coordinates("12 30 45")  # refused by parse_position, not resolved
        assert targets.looks_like_coordinates("12 30 49.42 +12 23 28.0")
        assert not targets.looks_like_coordinates("KQ UMa")
        assert not targets.looks_like_coordinates("3C 273")


class TestOtherInputs:
    @pytest.mark.parametrize("text", ["１２３", "²", "٣", "12\u00b3"])
    def test_objids_are_ascii_digits_only(self, text):
        with pytest.raises(ValueError, match="not a whole non-negative number"):
            targets.parse_objids([text])
        assert not targets.is_objid(text)

    @pytest.mark.parametrize("bad", [5, 1.0, b"g", {"g": 1}])
    def test_bands_given_as_a_bare_value_are_refused(self, bad):
        with pytest.raises(InvalidQueryError, match="bands must be filter names"):
            targets.parse_bands(bad)

    def test_bands_in_any_spelling(self):
        assert targets.parse_bands("g, r") == [1, 2] == targets.parse_bands(["r", "G"])

    def test_one_column_name_is_a_name_not_its_letters(self):
        assert targets.parse_columns("psfFlux") == ["psfFlux"]
        with pytest.raises(InvalidQueryError, match="column names"):
            targets.parse_columns(["objID", 3])
        with pytest.raises(InvalidQueryError, match="list of column names"):
            targets.parse_columns(42)

    @pytest.mark.parametrize("flux, quality, message", [
        ("aperture", "default", "flux must be one of"),
        (None, "default", "flux must be one of"),
        ("psf", "strict", "quality_bitmask"),
        ("psf", -1, "quality_bitmask"),
        ("psf", 2.5, "quality_bitmask"),
    ])
    def test_light_curve_options(self, flux, quality, message):
        with pytest.raises(ValueError, match=message):
            targets.check_lightcurve_options(flux, quality)

    @pytest.mark.parametrize("bad", [0, -1.5, float("nan"), float("inf"), "1", True])
    def test_positive_numbers(self, bad):
        with pytest.raises(ValueError, match="period must be a finite positive number"):
            targets.positive_number(bad, "period")
