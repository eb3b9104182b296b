"""The sample generator's own machinery (no server needed): objIDs and its checks."""
import subprocess
import sys

import numpy as np
import pytest

from localtap import generate, sample


def test_objids_follow_mast_s_definition():
    # KQ UMa's real objID was made from a position 0.2" from its mean one: the same zone and
    # RA digits to 1e-4 deg, as MAST's definition predicts
    made = int(generate.objid_for(sample.KQ_UMA.ra, sample.KQ_UMA.dec))
    assert made // 10**13 == sample.KQ_UMA.objid // 10**13 == 19036
    assert abs(made // 10**4 % 10**9 - sample.KQ_UMA.objid // 10**4 % 10**9) < 100
    # the zone digits count 0.0083333 deg zones from the south pole
    assert int(generate.objid_for(0.0, -90.0)) == 0
    assert int(generate.objid_for(359.9999995, 89.9)) == 21588_359999999_0863


def test_colliding_generated_objids_move_and_real_ones_stay():
    ids = np.array([7, 7, 7, 8, 5], dtype=np.int64)
    real = np.array([False, True, False, False, False])
    unique = generate.make_unique(ids, real)
    assert unique[1] == 7                        # the real ID is kept
    assert len(set(unique)) == 5 and (unique >= ids).all() and (unique - ids).max() <= 2
    with pytest.raises(generate.SampleError, match="two real rows share an objID"):
        generate.make_unique(np.array([3, 3]), np.array([True, True]))


def test_the_generator_s_checks_survive_python_dash_o():
    # bare asserts vanish under -O; the generator's checks must not
    done = subprocess.run(
        [sys.executable, "-O", "-c",
         "from localtap.generate import require; require(1 == 2, 'the check ran')"],
        capture_output=True, text=True)
    assert done.returncode != 0
    assert "SampleError: the check ran" in done.stderr
