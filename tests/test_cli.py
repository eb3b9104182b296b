"""The ``ps1tap`` command: data on stdout or in files, status on stderr, one clear line on failure."""
import os
import subprocess
import sys

import pytest
from astropy.table import Table

from astroquery_ps1tap.cli import EXIT_EMPTY, EXIT_FILE, EXIT_INPUT, EXIT_OK, EXIT_SERVICE, main
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

    def test_either_schema_of_the_service(self, run):
        outputs = [run("--schema", schema, "detections", str(KQ.objid)) for schema in ("dbo", "ps1_dr2")]
        assert [status for status, _, _ in outputs] == [EXIT_OK, EXIT_OK]
        assert outputs[0][1] == outputs[1][1] and len(outputs[0][1].strip().splitlines()) == 1 + 66

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


UNREACHABLE = ["--server", "http://127.0.0.1:9/tap", "--timeout", "1"]


def ps1tap(*args, **kwargs):
    """The installed command in a subprocess (for what only a real process has: pipes, closed fds)."""
    return subprocess.run([sys.executable, "-m", "astroquery_ps1tap.cli", *args], capture_output=True,
                          text=True, cwd=os.getcwd(), **kwargs)


class TestExitCodes:
    """Every command: 1 when the service cannot be reached, 2 for bad input, 4 for a local file
    problem, each said as such; every option is checked before anything is sent (here the server
    is unreachable, so a request would give 1)."""

    @pytest.mark.parametrize("args", [
        ["lightcurve", "190361393344112894"], ["region", "187.7 12.4", "1arcsec"],
        ["detections", "190361393344112894"], ["query", "SELECT f.filterID FROM dbo.Filter AS f"]])
    def test_unreachable_service(self, capsys, args):
        assert main(UNREACHABLE + args) == EXIT_SERVICE
        assert "the service at http://127.0.0.1:9/tap failed" in capsys.readouterr().err

    @pytest.mark.parametrize("args, message", [
        (["lightcurve", "12.5 +12 23 28"], "two readings"),
        (["lightcurve", "1", "--quality", "strict"], "quality_bitmask"),
        (["lightcurve", "1", "--plot", "kq.docx"], "cannot plot to 'kq.docx'"),
        (["lightcurve", "1", "--bands", "gq"], "unknown PS1 filter 'q'"),
        (["lightcurve", "1", "--radius", "-1 arcsec"], "radius must be positive"),
        (["region", "187 42 21 +12 23 28", "1arcsec"], "not an hour angle"),
        (["detections", "１２３"], "not a whole non-negative number"),
        (["detections", "1", "--bands", "5"], "unknown PS1 filter '5'"),
        (["detections"], "give objIDs"),
    ])
    def test_bad_input_before_any_request(self, capsys, args, message):
        assert main(UNREACHABLE + args) == EXIT_INPUT
        err = capsys.readouterr().err
        assert message in err and "failed" not in err

    @pytest.mark.parametrize("args", [
        ["lightcurve", "1", "--period", "0"], ["lightcurve", "1", "--period", "nan"],
        ["lightcurve", "1", "--epoch", "inf"], ["query", "SELECT 1", "--maxrec", "0"],
        ["--timeout", "-1", "query", "SELECT 1"], ["region", "1 2", "1deg", "--min-detections", "-1"],
        ["lightcurve", "1", "--flux", "aperture"]])
    def test_option_values_that_cannot_work_are_usage_errors(self, capsys, args):
        with pytest.raises(SystemExit) as exit_:
            main(UNREACHABLE[:2] + args)
        assert exit_.value.code == EXIT_INPUT
        assert "Traceback" not in capsys.readouterr().err

    def test_a_missing_objid_file_is_a_file_problem(self, capsys, tmp_path):
        assert main(UNREACHABLE + ["detections", "--from-file", str(tmp_path / "nope.txt")]) == EXIT_FILE
        err = capsys.readouterr().err
        assert "cannot read the objID file" in err and "No such file" in err and "service" not in err

    @pytest.mark.parametrize("option", ["--output", "--plot"])
    def test_an_output_folder_that_does_not_exist(self, capsys, tmp_path, option):
        path = str(tmp_path / "no" / ("kq.csv" if option == "--output" else "kq.png"))
        assert main(UNREACHABLE + ["lightcurve", "1", option, path]) == EXIT_FILE
        assert "does not exist" in capsys.readouterr().err

    def test_no_standard_input_for_the_query(self):
        done = ps1tap(*UNREACHABLE, "query", "-", stdin=subprocess.DEVNULL)
        assert done.returncode == EXIT_INPUT  # empty ADQL: refused before sending
        assert "non-empty ADQL" in done.stderr


@pytest.mark.server
class TestLocalFilesWithTheServer:
    def test_an_unwritable_output_is_a_file_problem_not_the_service(self, ps1tap_server):
        done = ps1tap("--server", ps1tap_server, "detections", str(KQ.objid), "--output",
                      "/sys/kq.csv")
        assert done.returncode == EXIT_FILE
        assert "cannot write /sys/kq.csv" in done.stderr and "service" not in done.stderr

    def test_a_reader_that_goes_away(self, ps1tap_server):
        child = subprocess.Popen([sys.executable, "-m", "astroquery_ps1tap.cli", "--server", ps1tap_server,
                                  "--no-cache", "region", f"{sample.M87_RA} {sample.M87_DEC}", "0.2deg"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout.readline().startswith("objID")
        child.stdout.close()  # as "| head -1" does
        err = child.stderr.read()
        assert child.wait() == EXIT_FILE
        assert "broken pipe" in err and "Traceback" not in err and "Exception ignored" not in err

    def test_a_closed_standard_output(self, ps1tap_server):
        done = subprocess.run(f'"{sys.executable}" -m astroquery_ps1tap.cli --server {ps1tap_server} '
                              f'detections {KQ.objid} >&-', shell=True, capture_output=True, text=True)
        assert done.returncode == EXIT_FILE
        assert "standard output is closed" in done.stderr

    def test_every_point_removed_by_a_cut_says_which_cut(self, ps1tap_server, capsys):
        status = main(["--server", ps1tap_server, "lightcurve", str(KQ.objid), "--min-qf", "1",
                       "--bands", "g"])
        assert status == EXIT_EMPTY
        assert "pass the cuts min_qf=1.0 and bands='g'" in capsys.readouterr().err
