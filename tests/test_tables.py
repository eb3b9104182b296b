"""Results are shaped once: canonical names, schema units, exact ids, -999 masked, text as str."""
import warnings

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from astroquery_ps1tap import tables

KQ_UMA = 190361393344112894


def service_like_detections(**overrides):
    """Three detections as the live service has sent them: lower-case names, bytes, wrong units."""
    table = Table({
        "objid": [KQ_UMA] * 3,
        "detectid": [183252627520000234, 153347716310000010, 153441340410000012],
        "filterid": np.array([4, 1, 2], dtype=np.uint8),
        "filterType": np.array([b"z", b"g", b"r"]),
        "obstime": [55933.5264577, 55634.477414, 55635.4136426],
        "psfflux": np.array([0.000317945, 0.00826192, -999.0], dtype=np.float32),
        "psfQfPerfect": np.array([0.322986, 0.992916, 0.998509], dtype=np.float32),
        "infoFlag": [102760453, 102760517, 102760517],
    })
    table["obstime"].unit = "yr"  # what MAST's metadata says; the values are MJD
    table.update(overrides) if overrides else None
    return table


class TestShapeDetections:
    def test_canonical_names_units_and_order(self):
        det = tables.shape_detections(service_like_detections())
        assert det.colnames[:5] == ["objID", "detectID", "filterID", "filter", "obsTime"]
        assert det["filter"].tolist() == ["g", "r", "z"]  # sorted by filterID then obsTime
        assert det["obsTime"].unit == u.d and det["psfFlux"].unit == u.Jy
        assert det["objID"].dtype == np.int64 and det["objID"][0] == KQ_UMA
        assert det.meta["PHOTOMETRY"] == "detection"

    def test_minus_999_is_masked_not_a_flux(self):
        det = tables.shape_detections(service_like_detections())
        assert det["psfFlux"].mask.tolist() == [False, True, False]

    def test_filter_from_filterid_when_no_filtertype(self):
        table = service_like_detections()
        del table["filterType"]
        assert tables.shape_detections(table)["filter"].tolist() == ["g", "r", "z"]

    def test_filter_from_text_filtertype_when_no_filterid(self):
        table = service_like_detections()
        del table["filterid"]
        table["filterType"] = ["z", "g", "r"]
        det = tables.shape_detections(table)
        assert det["filterID"].tolist() == [1, 2, 4]

    def test_objid_as_text_is_exact(self):
        table = service_like_detections()
        table["objid"] = [str(KQ_UMA)] * 3  # astroquery.mast.Catalogs sends objID as text
        assert tables.shape_detections(table)["objID"][0] == KQ_UMA

    def test_objid_as_float_above_2_53_is_refused(self):
        table = service_like_detections()
        table["objid"] = np.array([KQ_UMA] * 3, dtype=float)
        with pytest.raises(ValueError, match="lost precision"):
            tables.shape_detections(table)

    def test_forced_photometry_gets_the_same_names(self):
        forced = Table({"objID": [1, 1], "forcedWarpID": [7, 8], "filterID": [1, 1],
                        "obsTime": [55000.1, 55000.0], "FpsfFlux": [1e-5, -2e-6],
                        "FpsfFluxErr": [1e-6, 1e-6], "FpsfQfPerfect": [1.0, 0.99], "FinfoFlag": [0, 0]})
        det = tables.shape_detections(forced)
        assert {"psfFlux", "psfFluxErr", "psfQfPerfect", "infoFlag"} <= set(det.colnames)
        assert det.meta["PHOTOMETRY"] == "forced"
        assert det["obsTime"].tolist() == [55000.0, 55000.1]

    def test_unknown_filter_is_an_error(self):
        table = service_like_detections()
        table["filterType"] = ["z", "g", "u"]
        del table["filterid"]
        with pytest.raises(ValueError, match="unknown PS1 filter 'u'"):
            tables.shape_detections(table)

    def test_not_detections(self):
        with pytest.raises(ValueError, match="no objid, obstime"):
            tables.shape_detections(Table({"ra": [1.0]}))

    def test_idempotent_and_ensure_skips_shaped_tables(self):
        det = tables.shape_detections(service_like_detections())
        again = tables.shape_detections(det)
        assert again.colnames == det.colnames and (again["objID"] == det["objID"]).all()
        assert tables.ensure_detections(det) is det

    def test_empty_table(self):
        det = tables.shape_detections(service_like_detections()[:0])
        assert len(det) == 0 and "filter" in det.colnames

    def test_no_warnings(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tables.shape_detections(service_like_detections())


def test_shape_mean_table():
    table = Table({"OBJID": [KQ_UMA], "RAMean": [139.33445305334158], "gmeanpsfmag": [-999.0],
                   "separation": [0.1]})
    shaped = tables.shape(table, "mean")
    assert shaped.colnames == ["objID", "raMean", "gMeanPSFMag", "separation"]
    assert shaped["raMean"].unit == u.deg and shaped["gMeanPSFMag"].mask[0]
