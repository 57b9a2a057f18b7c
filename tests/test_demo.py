"""The demo's sample completions: for every registered env, the right one scores the most."""

import pytest

from rlvr import envs
from rlvr.envs.cli.demo import run_demo


@pytest.mark.parametrize("env_id", sorted(envs.list_envs()))
def test_the_right_sample_scores_the_maximum_and_every_other_sample_less(env_id, capsys):
    rows = {row["name"]: row["reward"] for row in run_demo(env_id, seed=3, options={})}
    best = rows.pop("right answer")
    assert best == max(envs.make(env_id).unwrapped.reward_range)
    for name, reward in rows.items():
        assert reward is not None and reward < best, name
    assert "reference answer" in capsys.readouterr().out
