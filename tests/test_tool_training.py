"""Training and sampling on tool envs: GRPO, PPO, a mixture with a plain env, and rejection sampling."""

from __future__ import annotations

import json

import pytest

from rlvr.cli import main

CALCULATOR = {"level": 1, "template": "equation", "tools": ["calculator"], "tool_prompt": "brief"}
FLAGS = ["--output-dir", "{out}", "--progress", "false", "--tensorboard", "false", "--eval-prompts", "4"]


def _records(out) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("trainer", ["grpo", "ppo"])
def test_a_tool_env_trains_after_a_cold_start_on_tool_traces_and_logs_the_call_share(trainer, tmp_path):
    argv = ["train", "--trainer", trainer, "--env", "rlvr/Arithmetic-v0", "--env-options", json.dumps(CALCULATOR)]
    argv += ["--steps", "2", "--cold-start-steps", "40", "--max-new-tokens", "80", "--group-size", "4"]
    argv += [flag.format(out=tmp_path) for flag in FLAGS]
    assert main(argv) == 0
    records = _records(tmp_path)
    train = [r for r in records if r["split"] == "train"]
    assert train and all(0.0 <= r["tools/call_share"] <= 1.0 for r in train)
    assert any(r["tools/call_share"] > 0 for r in train), "the cold start taught the call"
    assert "tool_call_share" in [r for r in records if r["split"] == "eval"][-1]


def test_a_mixture_of_a_tool_env_and_a_plain_env_trains_with_per_env_metrics(tmp_path):
    argv = ["train", "--mix", f"rlvr/Arithmetic-v0:{json.dumps(CALCULATOR)}", "--mix", "rlvr/Math-v0"]
    argv += ["--steps", "2", "--cold-start-steps", "0", "--max-new-tokens", "8"]
    argv += [flag.format(out=tmp_path) for flag in FLAGS]
    assert main(argv) == 0
    first = next(r for r in _records(tmp_path) if r["split"] == "train")
    assert "tools/call_share" in first and "env/rlvr/Math-v0/share" in first


def test_rejection_sampling_on_a_tool_env_writes_the_whole_conversations(cold_started_tiny, tmp_path):
    argv = ["sample", "--env", "rlvr/Arithmetic-v0", "--env-options", json.dumps(CALCULATOR)]
    argv += ["--model", str(cold_started_tiny), "--prompts", "3", "--k", "2", "--max-new-tokens", "8"]
    argv += ["--min-reward", "0", "--out", str(tmp_path), "--progress", "false"]
    assert main(argv) == 0
    rows = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert rows and all("calculator" in json.dumps(row) for row in rows)
