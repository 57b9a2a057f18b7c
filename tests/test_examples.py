"""The examples run as documented."""

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_custom_env_example_registers_makes_and_property_tests():
    source = (EXAMPLES / "custom_env.py").read_text()
    assert len(source.splitlines()) < 40
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "custom_env.py")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Reverse the word")
    assert result.stdout.rstrip().endswith("-> 1.0")


def test_grpo_vs_ppo_example_writes_a_report_with_plots(tmp_path):
    command = [sys.executable, str(EXAMPLES / "grpo_vs_ppo.py"), "--out", str(tmp_path), "--steps", "3"]
    command += ["--cold-start-steps", "5", "--eval-every", "0", "--eval-prompts", "8"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = (tmp_path / "report.md").read_text()
    rows = [line for line in report.splitlines() if line.startswith(("| grpo |", "| ppo |"))]
    assert len(rows) == 2
    state = {row.split("|")[1].strip(): float(row.split("|")[6]) for row in rows}
    assert state["ppo"] > state["grpo"]  # the critic's weights, gradients and AdamW moments
    assert "PPO's peak RSS is" in report
    for image in ("learning_curves.png", "cost.png"):
        assert f"({image})" in report
        assert (tmp_path / image).read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "ppo" / "metrics.jsonl").exists() and (tmp_path / "grpo" / "metrics.jsonl").exists()


def test_r1_pipeline_runs_each_stage_on_what_the_one_before_wrote(tmp_path):
    environment = {
        **os.environ,
        "STEPS": "2",
        "PROMPTS": "16",
        "EVAL": "8",
        "RLVR": str(Path(sys.executable).with_name("rlvr")),
    }
    result = subprocess.run(
        ["bash", str(EXAMPLES / "r1_pipeline.sh"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("held-out accuracy") == 3  # both RL stages and the SFT
    for written in ("rl1/final/config.json", "sample/summary.json", "sft/final/config.json", "rl2/final/config.json"):
        assert (tmp_path / written).exists(), written
