"""Per-object summaries of many objects (`astroquery_ps1tap.bulk`).

A summary must say what the object's light curves say — the same points kept, the same mean and
scatter of magnitudes, the same time span — without building them, and every target must be
accounted for: summarised, or listed with the reason it was not.
"""
import warnings

import numpy as np
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astroquery_ps1tap import PanstarrsTapClass, schema
from astroquery_ps1tap.bulk import (NO_MEASUREMENTS, NO_OBJECT, bulk_summaries, quality_cut,
                                    read_summaries, read_targets, summarize)
from astroquery_ps1tap.lightcurves import PS1LightCurveWarning, PS1QualityFlags, to_lightcurves_by_object
from localtap import sample

KQ, EB1, EB2 = sample.KQ_UMA, sample.KIC_2161623, sample.KIC_8153568


def assert_same_as_lightcurves(rows, by_object):
    """Every summary row equals what the object's light curves give, filter by filter."""
    assert sorted(by_object) == rows["objID"].tolist()
    for i, objid in enumerate(rows["objID"].tolist()):
        with warnings.catch_warnings():    # filters emptied by the cut are warned about there
            warnings.filterwarnings("ignore", category=PS1LightCurveWarning)
            curves = {lc.meta["FILTER"]: lc for lc in by_object[objid]}
        times = []
        for band in schema.FILTERS:
            lc = curves.get(band)
            n = 0 if lc is None else len(lc)
            assert rows[f"{band}_n"][i] == n, (objid, band)
            if n == 0:
                assert np.isnan(rows[f"{band}_mean_mag"][i])
                continue
            mag = np.asarray(lc["mag"].value)
            times.append(lc.time.tai.mjd)
            assert rows[f"{band}_mean_mag"][i] == pytest.approx(np.mean(mag), abs=1e-12)
            assert rows[f"{band}_mean_mag_err"][i] == pytest.approx(np.mean(lc["mag_err"].value), abs=1e-12)
            if n > 1:
                assert rows[f"{band}_std_mag"][i] == pytest.approx(np.std(mag, ddof=1), rel=1e-9)
            else:
                assert np.isnan(rows[f"{band}_std_mag"][i])
        assert rows["n_good"][i] == sum(len(lc) for lc in curves.values())
        if times:
            times = np.concatenate(times)
            assert rows["t_first"][i] == times.min() and rows["t_last"][i] == times.max()
            assert rows["time_span"][i] == pytest.approx(times.max() - times.min())
        else:
            assert np.isnan(rows["time_span"][i])


def constructed_detections(seed=3, n_objects=40):
    """Detections of many objects, unsorted, with every kind of point the quality cut removes."""
    rng = np.random.default_rng(seed)
    per_object = rng.integers(1, 60, n_objects)
    objid = np.repeat(10**17 + rng.choice(10**9, n_objects, replace=False), per_object)
    n = len(objid)
    flux = 10 ** (-0.4 * (rng.uniform(14, 21, n) - schema.AB_ZEROPOINT))
    flux[rng.random(n) < 0.03] *= -1                         # non-positive flux
    flux[rng.random(n) < 0.02] = np.nan                      # missing flux
    qf = np.where(rng.random(n) < 0.1, rng.uniform(0.2, 0.9, n), rng.uniform(0.9, 1.0, n))
    qf[rng.random(n) < 0.02] = 0.9                            # exactly at the threshold: kept
    table = Table({"objID": objid, "filterID": rng.integers(1, 6, n),
                   "obsTime": rng.uniform(55000, 56800, n), "psfFlux": flux,
                   "psfFluxErr": np.abs(flux) * 0.02 + 1e-6, "psfQfPerfect": qf,
                   "infoFlag": rng.choice([0, 0x8, 0x1000], n, p=[0.9, 0.05, 0.05])})
    table[-1]["psfQfPerfect"] = 0.5                           # the last object's last point is bad
    return table[rng.permutation(n)]


class TestSummarize:
    """The vectorised computation, on constructed detections (no server)."""

    @pytest.mark.parametrize("bitmask", ["default", "none", "hard"])
    def test_equals_the_light_curves_of_every_object(self, bitmask):
        det = constructed_detections()
        rows = summarize(det, quality_bitmask=bitmask)
        by_object = to_lightcurves_by_object(det, quality_bitmask=bitmask)
        if bitmask == "none":      # points without a magnitude are kept, but have no magnitude
            det = det[np.isfinite(det["psfFlux"]) & (det["psfFlux"] > 0)]
            by_object = to_lightcurves_by_object(det, quality_bitmask=bitmask)
            rows = {k: v for k, v in summarize(det, quality_bitmask=bitmask).items()}
        assert_same_as_lightcurves(rows, by_object)

    def test_rows_in_runs_of_objects_in_any_order(self):
        # HATS partitions hold rows in sky order: mostly one run per object, in no objID order,
        # an object sometimes split in two runs; summaries must not depend on the order
        det = constructed_detections()
        det = det[np.argsort(det["objID"], kind="stable")]
        ids = np.unique(det["objID"])
        first_half = np.isin(det["objID"], ids[::2]) & (det["obsTime"] < 56000)
        runs = np.random.default_rng(5).permutation(len(ids))
        rank = np.where(first_half, -1, runs[np.searchsorted(ids, det["objID"])])
        in_runs = det[np.argsort(rank, kind="stable")]
        assert np.any(np.diff(in_runs["objID"]) < 0)
        rows = summarize(in_runs)
        assert_same_as_lightcurves(rows, to_lightcurves_by_object(det))
        sorted_rows = summarize(det)      # the same, but for the order of the sums' terms
        for name in rows:
            np.testing.assert_allclose(rows[name], sorted_rows[name], rtol=1e-13, equal_nan=True,
                                       err_msg=name)

    def test_the_cut_is_the_light_curves_default_and_is_recorded(self):
        assert quality_cut() == {"quality_bitmask": PS1QualityFlags.DEFAULT_BITMASK, "min_qf": 0.9}
        rows = summarize(constructed_detections())
        assert set(rows["quality_bitmask"].tolist()) == {PS1QualityFlags.DEFAULT_BITMASK}
        assert set(rows["min_qf"].tolist()) == {np.float32(0.9)}

    def test_counts_before_and_after_the_cut(self):
        det = constructed_detections()
        rows = summarize(det)
        ids, counts = np.unique(det["objID"], return_counts=True)
        assert rows["objID"].tolist() == ids.tolist()
        assert rows["n_detections"].tolist() == counts.tolist()
        keep = np.asarray((det["psfQfPerfect"] >= 0.9) & (det["psfFlux"] > 0))
        assert rows["n_good"].sum() == np.count_nonzero(keep)
        assert sum(rows[f"{b}_n"].sum() for b in schema.FILTERS) == rows["n_good"].sum()

    def test_an_object_with_no_good_point_has_a_row_of_zeros_and_nans(self):
        det = {"objID": np.array([5, 5]), "filterID": np.array([1, 2]),
               "obsTime": np.array([55000.0, 55001.0]), "psfFlux": np.array([1e-3, -1e-4]),
               "psfFluxErr": np.array([1e-5, 1e-5]), "psfQfPerfect": np.array([0.3, 1.0])}
        rows = summarize(det)
        assert rows["n_detections"].tolist() == [2] and rows["n_good"].tolist() == [0]
        assert rows["g_n"].tolist() == [0] and np.isnan(rows["g_mean_mag"][0])
        assert np.isnan(rows["time_span"][0])

    def test_positions_from_the_rows_or_the_objects_table(self):
        det = {"objID": np.array([9, 7, 7]), "filterID": np.array([1, 1, 1]),
               "obsTime": np.array([1.0, 2.0, 3.0]), "psfFlux": np.full(3, 1e-3),
               "psfFluxErr": np.full(3, 1e-5), "psfQfPerfect": np.ones(3)}
        rows = summarize(det, Table({"objID": [7, 9, 11], "raMean": [10.0, 20.0, 30.0],
                                     "decMean": [-1.0, -2.0, -3.0]}))
        assert rows["objID"].tolist() == [7, 9]
        assert rows["raMean"].tolist() == [10.0, 20.0] and rows["decMean"].tolist() == [-1.0, -2.0]
        with_means = dict(det, raMean=np.array([1.0, 2.0, 2.0]), decMean=np.array([3.0, 4.0, 4.0]))
        assert summarize(with_means)["raMean"].tolist() == [2.0, 1.0]

    def test_period_search_gives_find_periods_results_per_object(self):
        from astropy.table import vstack

        from astroquery_ps1tap.periods import find_periods, simulate_detections

        det = vstack([simulate_detections("rrlyrae", 0.48636, seed=1, objid=11),
                      simulate_detections("rrlyrae", 0.61234, seed=2, objid=12)])
        rows = summarize(det, period_search=True)
        assert [round(p, 4) for p in rows["period"]] == [0.4864, 0.6123]
        keep = np.asarray((det["psfQfPerfect"] >= 0.9) & (det["psfFlux"] > 0))
        direct = find_periods(det[keep])
        np.testing.assert_array_equal(rows["period"], direct["period"].value)
        np.testing.assert_array_equal(rows["period_power"], direct["power"])
        np.testing.assert_array_equal(rows["period_fap"], direct["false_alarm_probability"])
        assert "period" not in summarize(det)

    def test_empty_measurements_give_no_rows(self):
        names = ("objID", "filterID", "obsTime", "psfFlux", "psfFluxErr", "psfQfPerfect")
        empty = {name: np.zeros(0) for name in names}
        assert len(summarize(empty)["objID"]) == 0

    def test_bad_input_says_what_is_missing(self):
        with pytest.raises(ValueError, match="no psfQfPerfect column"):
            summarize({"objID": [1], "filterID": [1], "obsTime": [1.0], "psfFlux": [1.0],
                       "psfFluxErr": [0.1]})
        with pytest.raises(ValueError, match="filterID 7 is not a PS1 filter"):
            summarize({"objID": [1], "filterID": [7], "obsTime": [1.0], "psfFlux": [1.0],
                       "psfFluxErr": [0.1], "psfQfPerfect": [1.0]})
        with pytest.raises(ValueError, match="quality_bitmask"):
            summarize(constructed_detections(), quality_bitmask="strict")


class TestTargets:
    """`read_targets`: objIDs, positions, tables and files, refused clearly when unusable."""

    @pytest.mark.parametrize("extension", [".csv", ".ecsv", ".fits", ".parquet"])
    def test_objids_from_a_file_are_exact(self, tmp_path, extension):
        path = tmp_path / f"targets{extension}"
        Table({"objid": [KQ.objid, EB1.objid], "note": ["a", "b"]}).write(path)
        assert read_targets(path).objid.tolist() == [KQ.objid, EB1.objid]
        assert read_targets(str(path)).kind == "objID"

    @pytest.mark.parametrize("names", [("ra", "dec"), ("RAMEAN", "decMean"), ("RAJ2000", "DEJ2000")])
    def test_positions_from_a_table(self, names):
        targets = read_targets(Table({names[0]: [361.0, 10.0], names[1]: [5.0, -5.0]}))
        assert targets.kind == "position" and targets.ra.tolist() == [1.0, 10.0]

    def test_other_forms(self):
        assert read_targets(KQ.objid).objid.tolist() == [KQ.objid]
        assert read_targets(np.array([str(KQ.objid)])).objid.tolist() == [KQ.objid]
        assert len(read_targets(SkyCoord([1, 2], [3, 4], unit="deg"))) == 2

    def test_unusable_targets_are_refused_with_the_reason(self, tmp_path):
        with pytest.raises(ValueError, match="no such targets file"):
            read_targets(tmp_path / "nothing.csv")
        with pytest.raises(ValueError, match="cannot tell the format"):
            read_targets(tmp_path / "targets.txt")
        with pytest.raises(ValueError, match="neither an objID column nor ra/dec"):
            read_targets(Table({"name": ["KQ UMa"]}))
        with pytest.raises(ValueError, match="floating point"):
            read_targets(np.array([1.9036139334411290e17]))
        with pytest.raises(ValueError, match="target 1 has no valid position"):
            read_targets(Table({"ra": [1.0, np.nan], "dec": [2.0, 3.0]}))
        with pytest.raises(ValueError, match="target 1 is not a whole"):
            read_targets(["1", "KQ UMa"])


@pytest.fixture(scope="module")
def tap(ps1tap_server):
    return PanstarrsTapClass(server=ps1tap_server)


@pytest.fixture(scope="module")
def bulk_ids(tap):
    """About 60 objects of the sample's bulk field, and the tutorial's three stars."""
    cone = tap.query_region((sample.BULK_RA, sample.BULK_DEC), 0.04, cache=False)
    return np.r_[np.asarray(cone["objID"]), [KQ.objid, EB1.objid, EB2.objid]]


@pytest.mark.server
class TestTap:
    """Summaries through the TAP client, against the local server."""

    def test_summaries_equal_the_objects_light_curves(self, tap, bulk_ids):
        result = bulk_summaries(tap, bulk_ids, progress=False, cache=False, step=25)
        assert result.n_objects == len(bulk_ids) and len(result.unmatched) == 0
        lcs = tap.get_lightcurves(bulk_ids, cache=False, progress=False)
        table = result.table
        assert_same_as_lightcurves({name: np.asarray(table[name]) for name in table.colnames}, lcs)
        kq = table[table["objID"] == KQ.objid][0]
        assert kq["n_detections"] == KQ.n_detections and kq["n_good"] == KQ.n_good
        assert kq["raMean"] == pytest.approx(KQ.ra) and table["r_mean_mag"].unit == "mag"

    def test_every_target_is_accounted_for(self, tap, bulk_ids):
        no_forced = int(bulk_ids[0])       # bulk objects mostly have no forced photometry
        forced_ids = [KQ.objid, no_forced, 5, KQ.objid]
        result = bulk_summaries(tap, forced_ids, photometry="forced", progress=False, cache=False)
        assert result.n_targets == 4 and result.n_objects == 1        # KQ UMa once, for two targets
        unmatched = {int(row["target"]): (int(row["objID"]), row["reason"]) for row in result.unmatched}
        assert unmatched == {1: (no_forced, NO_MEASUREMENTS), 2: (5, NO_OBJECT)}
        assert result.counts() == {NO_MEASUREMENTS: 1, NO_OBJECT: 1} and result.complete
        assert "2 objects" not in result.report() and "1 no object" in result.report()

    def test_positions_are_matched_to_the_nearest_object(self, tap):
        stars = SkyCoord([KQ.cone_ra, EB1.ra, 10.0], [KQ.cone_dec, EB1.dec, -20.0], unit="deg")
        result = bulk_summaries(tap, stars, radius=1.0, progress=False, cache=False)
        assert result.table["objID"].tolist() == sorted([KQ.objid, EB1.objid])
        assert result.unmatched["target"].tolist() == [2]
        assert result.unmatched["reason"].tolist() == [NO_OBJECT]
        assert result.unmatched["ra"][0] == 10.0 and result.unmatched["objID"][0] == 0

    def test_parquet_streaming_round_trip(self, tap, bulk_ids, tmp_path):
        in_memory = bulk_summaries(tap, np.r_[bulk_ids, 7], progress=False, cache=False)
        path = tmp_path / "summaries.parquet"
        streamed = bulk_summaries(tap, np.r_[bulk_ids, 7], output=path, progress=False,
                                  cache=False, step=20)
        assert streamed.table is None and streamed.path == path
        parquet = pq.ParquetFile(path)
        assert parquet.metadata.num_row_groups == 4          # one per step of 20 objects
        read = streamed.read()
        for name in in_memory.table.colnames:
            np.testing.assert_array_equal(read[name], in_memory.table[name])
        metadata = {k.decode(): v.decode() for k, v in parquet.metadata.metadata.items()}
        assert metadata["ps1tap.quality_bitmask"] == "7" and metadata["ps1tap.min_qf"] == "0.9"
        assert metadata["ps1tap.targets"] == str(len(bulk_ids) + 1)
        assert metadata["ps1tap.no_object"] == "1"
        unmatched = pq.read_table(path.with_name("summaries.unmatched.parquet")).to_pydict()
        assert unmatched["objID"] == [7] and unmatched["reason"] == [NO_OBJECT]
        reopened = read_summaries(path)
        assert reopened.n_targets == len(bulk_ids) + 1 and reopened.n_objects == len(bulk_ids)
        assert reopened.counts() == {NO_OBJECT: 1} and reopened.quality == streamed.quality
        few = streamed.read(columns=["objID", "r_std_mag"], filters=[("objID", "=", KQ.objid)])
        assert few.colnames == ["objID", "r_std_mag"] and len(few) == 1
        with pytest.raises(ValueError, match="exists"):
            bulk_summaries(tap, bulk_ids, output=path, progress=False)

    def test_light_curves_of_a_subset_afterwards(self, tap, bulk_ids):
        result = bulk_summaries(tap, bulk_ids, progress=False, cache=False)
        chosen = result.table["objID"][result.table["n_good"] > 0][:2]
        lcs = result.lightcurves(chosen, cache=False, progress=False)
        assert sorted(lcs) == sorted(chosen.tolist())
        for objid in chosen:
            row = result.table[result.table["objID"] == objid][0]
            assert sum(len(lc) for lc in lcs[int(objid)]) == row["n_good"]

    def test_bad_arguments_are_refused_before_any_query(self, tmp_path):
        offline = PanstarrsTapClass(server="http://127.0.0.1:9/tap")   # nothing listens there
        for kwargs, message in (({"output": tmp_path / "out.csv"}, "Parquet"),
                                ({"radius": "two arcsec"}, "not an angle"),
                                ({"photometry": "stack"}, "photometry"),
                                ({"quality_bitmask": "best"}, "quality_bitmask"),
                                ({"output": tmp_path / "no" / "out.parquet"}, "no such directory")):
            with pytest.raises(ValueError, match=message):
                bulk_summaries(offline, [KQ.objid], **kwargs)


@pytest.fixture
def run_bulk(ps1tap_server, capsys, tmp_path, monkeypatch):
    """``ps1tap bulk ...`` through `astroquery_ps1tap.cli.main`; returns (status, stdout, stderr)."""
    from astroquery_ps1tap import cli

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def run(*args):
        status = cli.main(["--server", ps1tap_server, "-q", "bulk", *args])
        out, err = capsys.readouterr()
        return status, out, err
    return run


@pytest.mark.server
class TestCommand:
    def test_a_file_of_objids_to_parquet(self, run_bulk, tmp_path, bulk_ids):
        targets = tmp_path / "targets.csv"
        Table({"objID": np.r_[bulk_ids[:5], 3]}).write(targets)
        out = tmp_path / "out.parquet"
        status, stdout, stderr = run_bulk(str(targets), "--output", str(out))
        assert status == 0 and stdout == "" and stderr == ""
        assert pq.read_table(out).num_rows == 5
        assert pq.read_table(tmp_path / "out.unmatched.parquet").to_pydict()["objID"] == [3]

    def test_exit_statuses(self, run_bulk, tmp_path):
        targets = tmp_path / "targets.ecsv"
        Table({"objID": [3, 4]}).write(targets)
        assert run_bulk(str(targets), "--output", str(tmp_path / "a.parquet"))[0] == 3   # nothing
        status, _, err = run_bulk(str(tmp_path / "missing.csv"), "--output", str(tmp_path / "b.parquet"))
        assert status == 2 and "no such targets file" in err
        status, _, err = run_bulk(str(targets), "--output", str(tmp_path / "c.csv"))
        assert status == 2 and "Parquet" in err
        status, _, err = run_bulk(str(targets), "--output", str(tmp_path / "d.parquet"),
                                  "--source", "gaia")
        assert status == 2 and "--source" in err
