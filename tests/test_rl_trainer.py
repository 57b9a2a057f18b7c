"""The shared training loop and its run directory: resume only the same run, one run at a time, Ctrl-C, reruns."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from rlvr import envs
from rlvr.trainers.algorithms.config import GRPOConfig, TrainerConfigError
from rlvr.trainers.algorithms.grpo import GRPOTrainer, train_grpo
from rlvr.trainers.run.metrics import read_metrics

EASY = {"level": 1, "template": "equation"}


def config(run_dir: Path, **overrides) -> GRPOConfig:
    values = dict(
        env="rlvr/Arithmetic-v0",
        env_options=EASY,
        model="tiny",
        output_dir=run_dir,
        steps=2,
        prompts_per_step=2,
        group_size=2,
        max_new_tokens=4,
        cold_start_steps=0,
        eval_prompts=4,
        pass_k=1,
        eval_every=0,
        save_every=0,
        progress=False,
        tensorboard=False,
    )
    values.update(overrides)
    return GRPOConfig(**values)


def records(run_dir: Path, split: str) -> list[dict]:
    return [r for r in read_metrics(run_dir / "metrics.jsonl") if r["split"] == split]


def test_resuming_with_other_problem_settings_is_refused_naming_them(tmp_path):
    train_grpo(config(tmp_path))
    with pytest.raises(TrainerConfigError, match=r"learning_rate: 1e-06 there, 0\.001 here") as refused:
        train_grpo(config(tmp_path, steps=3, learning_rate=1e-3))
    assert "resume=false" in str(refused.value) and "overwrite=true" in str(refused.value)


def test_resuming_with_more_steps_continues_and_keeps_the_first_evaluation(tmp_path):
    first = train_grpo(config(tmp_path))
    second = train_grpo(config(tmp_path, steps=4, eval_every=10))
    assert second.eval_before == first.eval_before  # measured once, before the first step of the first run
    assert [r["step"] for r in records(tmp_path, "train")] == [1, 2, 3, 4]
    times = [r["time"] for r in read_metrics(tmp_path / "metrics.jsonl")]
    assert times == sorted(times)  # never runs backwards across the resume
    resumes = [json.loads(line) for line in (tmp_path / "resumes.jsonl").read_text().splitlines()]
    assert resumes == [{"step": 2, "changed": {"eval_every": [0, 10], "steps": [2, 4]}}]


def test_the_run_directory_says_which_trainer_and_config_made_it(tmp_path):
    from rlvr.trainers.run.run_dir import read_run_record

    train_grpo(config(tmp_path))
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["trainer"] == "grpo" and record["config"]["env_options"] == EASY
    train_grpo(config(tmp_path, steps=3))
    resumed = read_run_record(tmp_path)
    assert resumed is not None and resumed["config"]["steps"] == 3 and resumed["started"] == record["started"]


def test_a_finished_run_run_again_is_not_trained_or_evaluated_again(tmp_path):
    first = train_grpo(config(tmp_path))
    before = (tmp_path / "metrics.jsonl").read_bytes()
    again = train_grpo(config(tmp_path))
    assert again.already_finished and again.steps == 2
    assert (again.eval_before, again.eval_after) == (first.eval_before, first.eval_after)
    assert (tmp_path / "metrics.jsonl").read_bytes() == before


def test_overwrite_starts_over_in_the_same_directory(tmp_path):
    train_grpo(config(tmp_path))
    (tmp_path / "notes.txt").write_text("mine")
    result = train_grpo(config(tmp_path, learning_rate=1e-3, overwrite=True))
    assert not result.already_finished and [r["step"] for r in records(tmp_path, "train")] == [1, 2]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def _train_command(run_dir: Path, steps: int) -> list[str]:
    command = [str(Path(sys.executable).with_name("rlvr")), "train", "--env-options", json.dumps(EASY)]
    command += ["--output-dir", str(run_dir), "--steps", str(steps), "--cold-start-steps", "0"]
    command += ["--prompts-per-step", "2", "--group-size", "2", "--max-new-tokens", "4", "--eval-prompts", "4"]
    return [*command, "--pass-k", "1", "--eval-every", "0", "--save-every", "0", "--progress", "false"]


def test_ctrl_c_stops_at_a_step_with_a_checkpoint_and_the_directory_is_held_meanwhile(tmp_path):
    run = subprocess.Popen(_train_command(tmp_path, 100_000), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "metrics.jsonl").exists() or len(records(tmp_path, "train")) < 2:
            assert time.monotonic() < deadline and run.poll() is None, "the run did not get going"
            time.sleep(0.05)
        with pytest.raises(TrainerConfigError, match=f"in use by process {run.pid}"):
            GRPOTrainer(config(tmp_path))  # a second run in the same directory, while the first lives
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("rlvr train:")]
    assert len(lines) == 1 and "stopped at step" in lines[0] and "Traceback" not in stderr
    stopped_at = int(lines[0].split("stopped at step ")[1].split()[0])
    latest = (tmp_path / "checkpoints" / "latest").read_text().strip()
    assert latest == f"step-{stopped_at:08d}"
    assert not (tmp_path / "run.lock").exists()


def test_the_progress_bar_shows_reward_accuracy_kl_loss_and_the_latest_evaluation(tmp_path, capsys):
    train_grpo(config(tmp_path, progress=True, beta=0.04))
    shown = capsys.readouterr().err
    for field in ("reward=", "acc=", "kl=", "loss=", "eval_acc="):
        assert field in shown, shown[-400:]


# --- mixtures ---------------------------------------------------------------------------------------------------

ARITHMETIC = {"id": "rlvr/Arithmetic-v0", "options": EASY, "weight": 3}
MATH = {"id": "rlvr/Math-v0", "options": {"level": 1, "template": "plain"}}


def mixture(run_dir: Path, **overrides) -> GRPOConfig:
    values = dict(env_options={}, mixture=[ARITHMETIC, MATH], prompts_per_step=8, group_size=2)
    values.update(overrides)
    return config(run_dir, **values)


def test_a_mixture_draws_each_prompts_env_by_weight_and_a_group_never_mixes_envs(tmp_path):
    trainer = GRPOTrainer(mixture(tmp_path))
    try:
        drawn = []
        for step in range(6):
            episodes = trainer.collect(step, trainer.engine)
            for start in range(0, len(episodes), 2):
                group = episodes[start : start + 2]
                assert len({e.env for e in group}) == 1 and len({e.seed for e in group}) == 1
                prompt = trainer.tokenizer.decode(group[0].token_ids[: group[0].loss_mask.index(1)])
                assert prompt.endswith("=") == (group[0].env == "rlvr/Arithmetic-v0")  # the env's own prompt
            drawn += [episodes[i].env for i in range(0, len(episodes), 2)]
            again = trainer.collect(step, trainer.engine)  # a resumed run draws the same envs and tasks
            assert [(e.env, e.seed) for e in again] == [(e.env, e.seed) for e in episodes]
        assert 0.5 < drawn.count("rlvr/Arithmetic-v0") / len(drawn) < 0.95 and "rlvr/Math-v0" in drawn
    finally:
        trainer.close()


def test_a_mixture_logs_each_envs_curves_and_evaluates_each_env_and_the_weighted_total(tmp_path):
    result = train_grpo(mixture(tmp_path, steps=3))
    train = records(tmp_path, "train")
    for name in ("rlvr/Arithmetic-v0", "rlvr/Math-v0"):
        assert all(f"env/{name}/share" in r and f"env/{name}/reward" in r for r in train)
    assert all(abs(sum(r[f"env/{n}/share"] for n in ("rlvr/Arithmetic-v0", "rlvr/Math-v0")) - 1) < 1e-9 for r in train)
    after = result.eval_after
    expected = (3 * after["env/rlvr/Arithmetic-v0/accuracy"] + after["env/rlvr/Math-v0/accuracy"]) / 4
    assert after["accuracy"] == pytest.approx(expected)
    assert "env/rlvr/Math-v0/pass@1" in after


def test_a_single_env_run_logs_no_per_env_metrics(tmp_path):
    train_grpo(config(tmp_path))
    assert not any(name.startswith("env/") for r in read_metrics(tmp_path / "metrics.jsonl") for name in r)


def test_a_loss_weight_scales_that_envs_advantages(tmp_path):
    from rlvr.trainers.rollout.episodes import Episode

    trainer = GRPOTrainer(mixture(tmp_path, mixture=[{**ARITHMETIC, "loss_weight": 0.0}, MATH]))
    try:
        episodes = [Episode(0, 1, [1], [1], env="rlvr/Arithmetic-v0"), Episode(1, 2, [1], [1], env="rlvr/Math-v0")]
        weighted = trainer.env_weighted(episodes, torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        assert weighted.tolist() == [[0.0, 0.0], [3.0, 4.0]]
    finally:
        trainer.close()


def test_mixture_settings_that_cannot_hold_are_named():
    with pytest.raises(ValueError, match="give each env's options in its entry"):
        GRPOConfig(mixture=[MATH], env_options={"level": 1})
    with pytest.raises(ValueError, match="names an env twice"):
        GRPOConfig(mixture=[MATH, MATH])


# --- curricula --------------------------------------------------------------------------------------------------


def _digits(trainer, episode) -> int:
    prompt = trainer.tokenizer.decode(episode.token_ids[: episode.loss_mask.index(1)])
    return max(len(part) for part in prompt.replace("=", " ").replace("+", " ").replace("-", " ").split())


def test_a_schedule_resets_every_prompt_at_its_steps_level(tmp_path):
    schedule = [{"schedule": [[0, 1], [3, 2]]}]
    trainer = GRPOTrainer(config(tmp_path, curriculum=schedule, prompts_per_step=4))
    try:
        early, late = trainer.collect(2, trainer.engine), trainer.collect(3, trainer.engine)
        assert all(e.reset_options == {"level": 1} and _digits(trainer, e) == 1 for e in early)
        assert all(e.reset_options == {"level": 2} for e in late) and max(_digits(trainer, e) for e in late) == 2
        assert trainer.curriculum_levels(3) == {"curriculum/rlvr/Arithmetic-v0/level": 2.0}
    finally:
        trainer.close()


def test_the_rule_moves_up_on_the_outcomes_it_sees_and_resumes_at_its_level(tmp_path):
    rule = [{"levels": [1, 2], "threshold": 0.5, "window": 4}]
    trainer = GRPOTrainer(config(tmp_path, curriculum=rule, save_every=1))
    try:
        episodes = trainer.collect(0, trainer.engine)
        assert {e.reset_options["level"] for e in episodes} == {1}
        for e in episodes:
            e.status = "ok"
        trainer._observe_curricula(episodes)
        assert trainer.curricula[0][2].level == 1
        assert {e.reset_options["level"] for e in trainer.collect(1, trainer.engine)} == {2}
        trainer._save()
    finally:
        trainer.close()
    resumed = GRPOTrainer(config(tmp_path, curriculum=rule, save_every=1))
    try:
        assert resumed._resume() and resumed.curricula[0][2].level == 1
    finally:
        resumed.close()


@pytest.mark.parametrize(
    ("curriculum", "said"),
    [
        ({"option": "digits", "levels": [1, 2]}, "take no reset option 'digits' (they take ['level'])"),
        ({"levels": [1, 99]}, "level=99 is refused by the env"),
        ({"env": "rlvr/Math-v0", "levels": [1, 2]}, "names none of the run's envs"),
    ],
)
def test_a_curriculum_the_env_cannot_follow_is_named(tmp_path, curriculum, said):
    with pytest.raises(TrainerConfigError, match=re.escape(said)):
        GRPOTrainer(config(tmp_path, curriculum=[curriculum]))


def test_a_rule_cannot_run_with_asynchronous_rollouts():
    with pytest.raises(ValueError, match="async_rollouts"):
        GRPOConfig(curriculum=[{"levels": [1, 2]}], async_rollouts=True)


def test_single_and_multi_turn_envs_mix_in_one_batch(tmp_path):
    two_turns = {"id": "rlvr/Arithmetic-v0", "options": {**EASY, "max_turns": 2}}
    trainer = GRPOTrainer(mixture(tmp_path, mixture=[{"id": "rlvr/Arithmetic-v0", "options": EASY}, two_turns]))
    try:
        episodes = [e for step in range(3) for e in trainer.collect(step, trainer.engine)]
        by_env = {name: [e.turns for e in episodes if e.env == name] for name in trainer.env_names}
        single, multi = trainer.env_names
        assert set(by_env[single]) == {1} and max(by_env[multi]) == 2  # wrong first answers got a second turn
        batch = trainer.padded(episodes[:16])
        assert batch.loss_mask.shape[0] == 16
    finally:
        trainer.close()


def test_a_curriculum_moves_any_env_whose_tasks_take_the_option(tmp_path):
    schedule = [{"schedule": [[0, 1], [2, 4]]}]
    trainer = GRPOTrainer(config(tmp_path, env="rlvr/Math-v0", env_options={}, curriculum=schedule))
    try:
        for step, level in ((0, 1), (2, 4)):
            episodes = trainer.collect(step, trainer.engine)
            assert {e.reset_options["level"] for e in episodes} == {level}
            env = envs.make("rlvr/Math-v0")
            expected = env.reset(seed=episodes[0].seed, options={"level": level})[0]
            assert trainer.tokenizer.decode(episodes[0].token_ids[: episodes[0].loss_mask.index(1)]) == expected
    finally:
        trainer.close()
