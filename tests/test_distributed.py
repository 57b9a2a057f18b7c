"""Multi-process GRPO with torchrun: 2 processes on gloo, on the CPU."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from safetensors.torch import load_file

from rlvr.trainers.run.distributed import DistContext, init_distributed, shard
from rlvr.trainers.run.metrics import read_metrics

RLVR = str(Path(sys.executable).with_name("rlvr"))


def test_single_process_context_is_a_no_op():
    context = init_distributed()
    assert not context.enabled and context.is_main
    assert context.mean({"a": 1.5}) == {"a": 1.5}
    context.barrier()


def test_shard_gives_each_process_its_contiguous_share():
    items = list(range(8))
    assert shard(items, DistContext(rank=0, world_size=2)) == [0, 1, 2, 3]
    assert shard(items, DistContext(rank=1, world_size=2)) == [4, 5, 6, 7]
    with pytest.raises(ValueError, match="evenly"):
        shard(items, DistContext(rank=0, world_size=3))


def _close(rank: int, folder: str, delays: tuple[float, float], clean: bool) -> None:
    """One of two gloo processes: wait ``delays[rank]`` s, close, and write how long closing took."""
    dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=2)
    time.sleep(delays[rank])
    started = time.monotonic()
    DistContext(rank=rank, world_size=2).close(clean)
    Path(folder, f"rank{rank}").write_text(f"{time.monotonic() - started} {dist.is_initialized()}")
    if dist.is_initialized():  # an unclean close left the group: end it here, as the launcher would
        dist.destroy_process_group()


def closing(tmp_path: Path, delays: tuple[float, float], clean: bool) -> list[tuple[float, bool]]:
    """Per rank: seconds its ``close`` took and whether it was still in the group afterwards."""
    torch.multiprocessing.spawn(_close, args=(str(tmp_path), delays, clean), nprocs=2)
    fields = [(tmp_path / f"rank{rank}").read_text().split() for rank in range(2)]
    return [(float(seconds), still_in == "True") for seconds, still_in in fields]


def test_a_clean_close_waits_for_every_process_before_leaving_the_group(tmp_path):
    (early, early_still_in), (late, late_still_in) = closing(tmp_path, (0.0, 2.0), clean=True)
    assert early >= 1.5 > late  # the early process waited at the barrier for the late one
    assert not early_still_in and not late_still_in


def test_a_close_after_an_error_leaves_at_once_without_a_collective(tmp_path):
    (early, early_still_in), _ = closing(tmp_path, (0.0, 2.0), clean=False)
    assert early < 1.0  # no barrier with a process that may be stuck elsewhere
    assert early_still_in


def torchrun_train(run_dir: Path, steps: int, *flags: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    command += ["--no-python", RLVR, "train"]
    command += ["--env-options", json.dumps({"level": 1, "template": "equation"}), "--output-dir", str(run_dir)]
    command += ["--steps", str(steps), "--cold-start-steps", "30", "--prompts-per-step", "4", "--group-size", "4"]
    command += ["--max-new-tokens", "4", "--learning-rate", "1e-3", "--beta", "0.04", "--eval-prompts", "8"]
    command += ["--eval-every", "2", "--save-every", "2", "--progress", "false", "--tensorboard", "false", *flags]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_torchrun_with_two_processes_trains_in_step(tmp_path):
    run_dir = tmp_path / "run"
    result = torchrun_train(run_dir, 4)
    rows = read_metrics(run_dir / "metrics.jsonl")
    assert [r["step"] for r in rows if r["split"] == "train"] == [1, 2, 3, 4]  # logged once, by process 0
    assert [r["step"] for r in rows if r["split"] == "eval"] == [0, 2, 4]
    assert (run_dir / "final" / "config.json").exists()
    assert (run_dir / "checkpoints" / "latest").read_text().strip() == "step-00000004"
    assert result.stdout.count("held-out accuracy") == 1  # process 0 reports


def test_fsdp_shards_the_model_and_resumes_exactly_from_sharded_checkpoints(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    torchrun_train(straight, 6, "--fsdp", "true")
    torchrun_train(resumed, 4, "--fsdp", "true")
    assert (resumed / "checkpoints" / "step-00000004" / "sharded").is_dir()
    torchrun_train(resumed, 6, "--fsdp", "true")

    def train_rewards(run_dir: Path) -> list[float]:
        return [r["reward"] for r in read_metrics(run_dir / "metrics.jsonl") if r["split"] == "train"]

    assert len(train_rewards(resumed)) == 6
    assert train_rewards(resumed) == train_rewards(straight)
    assert any(reward > 0 for reward in train_rewards(straight))  # a real signal went through
    first = load_file(straight / "final" / "model.safetensors")
    second = load_file(resumed / "final" / "model.safetensors")
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


def test_torchrun_runs_ppo_with_policy_and_critic_in_step(tmp_path):
    run_dir = tmp_path / "ppo"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    command += ["--no-python", RLVR, "train", "--trainer", "ppo", "--output-dir", str(run_dir)]
    command += ["--env-options", json.dumps({"level": 1, "template": "equation"}), "--steps", "3"]
    command += ["--cold-start-steps", "30", "--prompts-per-step", "8", "--max-new-tokens", "4", "--kl-coef", "0.05"]
    command += ["--learning-rate", "1e-3", "--eval-prompts", "8", "--progress", "false", "--tensorboard", "false"]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment)
    assert result.returncode == 0, result.stderr[-3000:]  # the run checks that both processes' policies agree
    assert [r["step"] for r in read_metrics(run_dir / "metrics.jsonl") if r["split"] == "train"] == [1, 2, 3]
    saved = torch.load(run_dir / "checkpoints" / "step-00000003" / "model.pt", weights_only=True)
    assert any(name.startswith("critic.") for name in saved)


def test_torchrun_with_async_rollouts_keeps_the_replicas_in_step(tmp_path):
    run_dir = tmp_path / "async"
    torchrun_train(run_dir, 4, "--async-rollouts", "true")  # the run fails if the replicas drift apart
    assert [r["step"] for r in read_metrics(run_dir / "metrics.jsonl") if r["split"] == "train"] == [1, 2, 3, 4]
    saved = torch.load(run_dir / "checkpoints" / "step-00000004" / "model.pt", weights_only=True)
    assert any(name.startswith("behaviour.") for name in saved)
