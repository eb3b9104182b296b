"""The ``ps1tap`` command: data on stdout or in files, status on stderr, one clear line on failure."""
import subprocess

import pytest
from astropy.table import Table

from astroquery_ps1tap.cli import EXIT_EMPTY, EXIT_INPUT, EXIT_OK, EXIT_SERVICE, main
from localtap import sample

KQ, EB2 = sample.KQ_UMA, sample.KIC_8153568


@pytest.fixture
def run(ps1tap_server, capsys, tmp_path, monkeypatch):
    """Run ``ps1tap`` against the local server; returns (exit status, stdout, stderr)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def run(*args):
        status = main(["--server", ps1tap_server, *args])
        out, err = capsys.readouterr()
        return status, out, err
    return run


@pytest.mark.server
class TestWithTheServer:
    def test_region_to_stdout_as_csv(self, run):
        status, out, err = run("region", f"{sample.M87_RA} {sample.M87_DEC}", "0.2deg")
        assert status == EXIT_OK
        assert len(out.strip().splitlines()) == 1 + sample.M87_N_MULTI
        assert out.startswith("objID,raMean,decMean,nDetections")
        assert "6927 objects" in err

    def test_detections_to_a_file_with_exact_ids(self, run, tmp_path):
        path = tmp_path / "kq.ecsv"
        status, out, err = run("detections", str(KQ.objid), "--min-qf", "0.9", "--output", str(path))
        assert status == EXIT_OK and out == ""
        table = Table.read(path)
        assert table["objID"][0] == KQ.objid and len(table) == KQ.n_good

    def test_lightcurve_plot_folded_on_a_period(self, run, tmp_path):
        plot = tmp_path / "kq.png"
        status, _, err = run("lightcurve", str(KQ.objid), "--period", str(KQ.period), "--plot", str(plot))
        assert status == EXIT_OK and plot.stat().st_size > 10000
        assert "g: " in err and "plotted to" in err

    def test_lightcurve_from_coordinates_saved_and_read_back_by_lightkurve(self, run, tmp_path):
        from astroquery_ps1tap.lightcurves import read_ps1_lightcurves

        path = tmp_path / "eb.ecsv"
        status, _, _ = run("lightcurve", f"{EB2.cone_ra} {EB2.cone_dec}", "--output", str(path))
        assert status == EXIT_OK
        lcs = read_ps1_lightcurves(path)
        assert [lc.meta["FILTER"] for lc in lcs] == list("grizy")

    def test_period_search_folds_without_a_period(self, run, tmp_path):
        plot = tmp_path / "kq.png"
        status, _, err = run("lightcurve", str(KQ.objid), "--find-period", "--plot", str(plot))
        assert status == EXIT_OK and "period search: best period 0.486" in err and plot.exists()

    def test_combined_eclipsing_binary_fold(self, run, tmp_path):
        plot = tmp_path / "eb.png"
        status, _, _ = run("lightcurve", str(EB2.objid), "--min-qf", "0.9", "--combine", "--period",
                           str(EB2.period), "--epoch", str(EB2.t0 + sample.EB_T0_TO_MJD),
                           "--plot", str(plot))
        assert status == EXIT_OK and plot.exists()

    def test_raw_adql(self, run):
        status, out, _ = run("query", "SELECT f.filterID, f.filterType FROM dbo.Filter AS f ORDER BY f.filterID")
        assert status == EXIT_OK and out.splitlines() == ["filterID,filterType", "1,g", "2,r", "3,i", "4,z", "5,y"]

    def test_a_truncated_result_is_said_on_stderr(self, run):
        status, out, err = run("query", "SELECT o.objID FROM dbo.MeanObjectView AS o", "--maxrec", "5")
        assert status == EXIT_OK and len(out.splitlines()) == 1 + 5
        assert "warning: query_tap: the service returned only the first 5 rows" in err

    def test_nothing_found(self, run):
        status, out, err = run("region", "10 -10", "2arcsec")
        assert status == EXIT_EMPTY and out == "" and "nothing found" in err

    def test_an_adql_error_is_one_line(self, run):
        status, _, err = run("query", "SELECT nosuchcol FROM dbo.Filter AS f")
        assert status == EXIT_INPUT
        assert err.strip().splitlines()[-1].startswith("ps1tap: error: the TAP service rejected the query")
        assert "Traceback" not in err


class TestWithoutTheServer:
    def test_bad_input_is_one_clear_line(self, capsys):
        assert main(["--server", "http://127.0.0.1:9/tap", "region", "187 12", "0deg"]) == EXIT_INPUT
        err = capsys.readouterr().err
        assert "radius must be positive" in err and "Traceback" not in err

    def test_an_unreachable_server_is_one_clear_line(self, capsys):
        status = main(["--server", "http://127.0.0.1:9/tap", "--timeout", "1", "detections", "1"])
        err = capsys.readouterr().err
        assert status == EXIT_SERVICE
        assert "ps1tap: error: the service at http://127.0.0.1:9/tap failed" in err
        assert "Traceback" not in err

    def test_an_unknown_output_format_is_refused_before_querying(self, capsys, tmp_path):
        status = main(["--server", "http://127.0.0.1:9/tap", "detections", "1", "--output",
                       str(tmp_path / "x.parquet")])
        assert status == EXIT_INPUT
        assert "cannot tell the format of" in capsys.readouterr().err

    def test_the_console_script_is_installed(self):
        done = subprocess.run(["ps1tap", "--help"], capture_output=True, text=True)
        assert done.returncode == 0 and "lightcurve" in done.stdout
