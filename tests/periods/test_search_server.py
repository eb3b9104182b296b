"""The period search recovers the tutorial's three periods from the sample database.

The data come through the client, as a user gets them (``get_lightcurves``: the tutorial's
quality cut, all five filters), and `find_period` runs with its defaults.
"""

import pytest

from astroquery_ps1tap import PanstarrsTapClass
from astroquery_ps1tap.periods import find_period
from localtap import sample

pytestmark = pytest.mark.server


@pytest.mark.parametrize("star", sample.STARS, ids=lambda s: s.name)
def test_find_period_recovers_the_catalogue_period(ps1tap_server, tmp_path, star):
    client = PanstarrsTapClass(server=ps1tap_server)
    client.cache_location = tmp_path
    lcs = client.get_lightcurves(star.objid)
    result = find_period(lcs)
    assert result.period.to_value("d") == pytest.approx(star.period, rel=1e-4)
    assert result.false_alarm_probability < 0.05


def test_the_binaries_are_found_at_half_their_period_then_doubled(ps1tap_server, tmp_path):
    client = PanstarrsTapClass(server=ps1tap_server)
    client.cache_location = tmp_path
    for star in (sample.KIC_2161623, sample.KIC_8153568):
        result = find_period(client.get_lightcurves(star.objid))
        assert result.doubled and "points in eclipse left out" in result.rule
        assert result.periodogram_period.to_value("d") == pytest.approx(star.period / 2, rel=1e-4)
    rr = find_period(client.get_lightcurves(sample.KQ_UMA.objid))
    assert not rr.doubled and rr.method == "lomb-scargle"
