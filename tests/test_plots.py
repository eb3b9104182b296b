"""The tutorial's figures, one call each: stacked filters against time, folded curves (one or
two cycles), the combined curve of an eclipsing binary, the periodogram.  Agg backend."""
import matplotlib
import numpy as np
import pytest
from astropy import units as u
from astropy.table import vstack

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from astroquery_ps1tap.lightcurves import PS1LightCurveWarning, combine_bands, to_lightcurves  # noqa: E402
from astroquery_ps1tap.periods import find_period, simulate_detections  # noqa: E402
from astroquery_ps1tap.plots import (FILTER_COLORS, plot_combined, plot_folded,  # noqa: E402
                                     plot_lightcurves, plot_periodogram)

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def kq_uma_detections(real_rows):
    return vstack([real_rows("kq_uma_detections"), real_rows("kq_uma_bad_z_point")])


@pytest.fixture
def kq_uma(kq_uma_detections, real_rows):
    return to_lightcurves(kq_uma_detections, real_rows("kq_uma_meanobjectview"),
                          quality_bitmask="none")


def test_stacked_panels_share_time_and_show_magnitudes_brighter_up(kq_uma):
    fig = plot_lightcurves(kq_uma)
    axes = fig.axes
    assert len(axes) == 4                                   # g r z y in the sample
    assert all(ax.yaxis_inverted() for ax in axes)
    assert axes[0].get_shared_x_axes().joined(axes[0], axes[-1])
    assert [ax.get_ylabel() for ax in axes] == ["g [mag]", "r [mag]", "z [mag]", "y [mag]"]
    assert axes[-1].get_xlabel() == "MJD (TAI)"
    assert fig.texts[0].get_text() == "PS1 190361393344112894"
    line = axes[0].lines[0]
    assert matplotlib.colors.same_color(line.get_color(), FILTER_COLORS["g"])
    assert line.get_marker() == "o"


def test_dmag_panels_name_the_mean(kq_uma):
    fig = plot_lightcurves(kq_uma, column="dmag", sharey=True, errorbars=False, connect=True)
    assert fig.axes[0].get_ylabel() == "g [mag − 15.04]"
    assert fig.axes[0].yaxis_inverted() and fig.axes[-1].yaxis_inverted()  # one shared axis


def test_the_bad_z_point_stands_out_in_dmag_and_goes_with_the_default_mask(kq_uma):
    z = [lc for lc in kq_uma if lc.filter == "z"][0]
    fig = plot_lightcurves(z, column="dmag")
    assert np.nanmax(fig.axes[0].lines[0].get_ydata()) == pytest.approx(3.36, abs=0.01)


def test_folded_collection_one_or_two_cycles():
    lcs = to_lightcurves(simulate_detections("rrlyrae", 0.48636, seed=0))
    fig = plot_folded(lcs, 0.48636 * u.d, cycles=2)
    assert len(fig.axes) == 5
    x = fig.axes[0].lines[0].get_xdata()
    assert x.min() >= 0 and x.max() < 2 and fig.axes[0].get_xlim()[1] > 1.9
    assert "P = 0.48636 d" in fig.axes[-1].get_xlabel()
    fig1 = plot_folded(lcs, 0.48636)
    assert fig1.axes[0].get_xlim()[1] < 1.1
    with pytest.raises(ValueError, match="cycles"):
        plot_folded(lcs, 0.48636, cycles=3)
    with pytest.raises(ValueError, match="period must be positive"):
        plot_folded(lcs, 0.0)


def test_combined_eclipsing_binary_folded_on_one_panel():
    """The tutorial's KIC 8153568 figure: all filters' dmag, two cycles, the eclipses show."""
    epoch = 54999.289794
    lcs = to_lightcurves(simulate_detections("eclipsing", 3.6071431, epoch=epoch,
                                             depths=(0.6, 0.25), seed=0))
    ax = plot_folded(combine_bands(lcs), 3.6071431, epoch, cycles=2)
    assert ax.yaxis_inverted()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list("grizy")
    # the deepest points sit at phase 0 (or 1): the primary eclipse
    xs = np.concatenate([line.get_xdata() for line in ax.lines])
    ys = np.concatenate([line.get_ydata() for line in ax.lines])
    assert min(xs[np.argmax(ys)] % 1.0, 1 - xs[np.argmax(ys)] % 1.0) < 0.06


def test_epoch_as_time_object():
    from astropy.time import Time
    lcs = to_lightcurves(simulate_detections("rrlyrae", 0.48636, seed=0))
    a = plot_folded(lcs[0], 0.48636, 55000.0)
    b = plot_folded(lcs[0], 0.48636, Time(55000.0, format="mjd", scale="tai").utc)
    np.testing.assert_allclose(a.lines[0].get_xdata(), b.lines[0].get_xdata(), atol=1e-9)


def test_periodogram_plot_marks_the_doubling():
    det = simulate_detections("eclipsing", 3.6071431, depths=(0.6, 0.25), seed=0)
    result = find_period(det)
    ax = plot_periodogram(result)
    assert ax.get_xscale() == "log" and result.doubled
    curve, peak, candidates, adopted = ax.lines
    x, y = peak.get_data()                         # the chosen peak is marked above, not covered
    assert x[0] == result.periodogram_period.to_value("d") and y[0] > result.power
    assert len(candidates.get_xdata()) == len(result.candidates) - 1
    assert adopted.get_xdata()[0] == result.period.to_value("d")
    assert ax.get_ylim()[1] > y[0]


def test_lightkurves_own_plots_still_work():
    lcs = to_lightcurves(simulate_detections("rrlyrae", 0.48636, seed=0))
    ax = lcs.plot()
    lcs[0].scatter(ax=ax)
    lcs[0].errorbar(column="mag")
    combined = combine_bands(lcs)
    combined.fold(period=0.48636).scatter()


def test_nothing_to_plot():
    lcs = to_lightcurves(simulate_detections("rrlyrae", 0.48636, seed=0))
    with pytest.raises(ValueError, match="no points"):
        plot_lightcurves(lcs[:0])


def test_plot_combined_as_the_command_line_uses_it():
    det = simulate_detections("eclipsing", 2.2834698, epoch=54999.1, seed=1)
    lcs = to_lightcurves(det)
    ax = plot_combined(lcs, period=2.2834698, epoch=54999.1, cycles=2)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list("grizy")
    assert ax.get_xlim()[1] > 1.9


def test_every_plot_takes_detections_a_curve_or_a_collection(kq_uma_detections):
    """Tables are converted with the default quality mask (KQ UMa's bad z point, its only z point
    here, goes with a warning), as `as_collection` does for every consumer."""
    with pytest.warns(PS1LightCurveWarning, match="filter z"):
        fig = plot_lightcurves(kq_uma_detections)
    assert [ax.get_ylabel() for ax in fig.axes] == ["g [mag]", "r [mag]", "y [mag]"]
    with pytest.warns(PS1LightCurveWarning, match="filter z"):
        lcs = to_lightcurves(kq_uma_detections)
    assert len(plot_folded(lcs["y"], 0.48636).lines) == 1        # one curve: one panel, an Axes
    with pytest.raises(TypeError, match="expected a detections Table"):
        plot_lightcurves({"g": lcs["g"]})
