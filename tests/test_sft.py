"""SFT on a data set (``rlvr sft``), and the stage-3 pipeline, on the tiny model and rlvr/Arithmetic-v0.

The data set comes from rejection sampling a cold-started tiny model (about 40% right on level 1 with
the equation template); fine-tuning on its own accepted answers must lower the loss on them and raise
held-out accuracy.
"""

import argparse
import json
from pathlib import Path

import pytest
import torch

from rlvr import envs
from rlvr.trainers.algorithms.config import GRPOConfig
from rlvr.trainers.algorithms.grpo import train_grpo
from rlvr.trainers.cli.sample_sft import add_sample_arguments, add_sft_arguments, run_sample, run_sft
from rlvr.trainers.models.logprobs import pad_batch
from rlvr.trainers.models.policy import build_tiny_model, load_policy
from rlvr.trainers.pipelines.sample import SampleConfig, sample
from rlvr.trainers.pipelines.sft import (
    SFTConfig,
    SFTExample,
    SFTInputError,
    completion_loss,
    encode_example,
    examples_from_dataset,
    load_sft_dataset,
    train_sft,
)
from rlvr.trainers.rollout.episodes import PromptRenderer
from rlvr.trainers.run.metrics import read_metrics

EASY = {"level": 1, "template": "equation"}


@pytest.fixture(scope="module")
def sampled(cold_started_tiny, tmp_path_factory) -> Path:
    """Accepted completions of the cold-started model: 256 prompts, so most of the 81 problems are covered."""
    out = tmp_path_factory.mktemp("sampled")
    sample(
        SampleConfig(
            env_options=EASY, model=str(cold_started_tiny), out=out, prompts=256, k=8, max_new_tokens=4, progress=False
        )
    )
    return out


def sft_config(data: Path, model: Path, out: Path, **overrides) -> SFTConfig:
    values = dict(
        data=data,
        model=str(model),
        out=out,
        learning_rate=3e-4,
        epochs=10,
        batch_size=32,
        eval_prompts=200,
        max_new_tokens=4,
        tensorboard=False,
        progress=False,
    )
    values.update(overrides)
    return SFTConfig(**values)


def data_loss(model_path: Path, data: Path) -> float:
    """Mean loss (nats per completion token) of a saved model on every row of a data set."""
    model, tokenizer = load_policy(str(model_path))
    renderer = PromptRenderer(tokenizer)
    encoded = [encode_example(renderer, e) for e in examples_from_dataset(load_sft_dataset(data))]
    batch = pad_batch([ids for ids, _ in encoded], [mask for _, mask in encoded], tokenizer.pad_token_id)
    with torch.no_grad():
        return float(completion_loss(model, batch))


def test_sft_on_accepted_samples_lowers_the_loss_and_raises_held_out_accuracy(cold_started_tiny, sampled, tmp_path):
    result = train_sft(sft_config(sampled, cold_started_tiny, tmp_path / "sft"))
    assert result.model_dir == tmp_path / "sft" / "final"
    assert data_loss(result.model_dir, sampled) < data_loss(cold_started_tiny, sampled) - 0.05
    assert result.eval_after["accuracy"] > result.eval_before["accuracy"] + 0.03, (
        result.eval_before,
        result.eval_after,
    )
    records = read_metrics(tmp_path / "sft" / "metrics.jsonl")
    train = [r for r in records if r["split"] == "train"]
    assert [r["step"] for r in train] == list(range(1, len(result.losses) + 1))
    assert [r["loss"] for r in train] == pytest.approx(result.losses)
    assert [r["step"] for r in records if r["split"] == "eval"] == [0, len(result.losses)]
    assert (tmp_path / "sft" / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_steps_override_epochs_and_jsonl_is_read(cold_started_tiny, sampled, tmp_path):
    result = train_sft(
        sft_config(
            sampled / "samples.jsonl", cold_started_tiny, tmp_path / "sft", steps=7, batch_size=4, eval_prompts=0
        )
    )
    assert len(result.losses) == 7 and result.eval_before == {} and result.eval_after == {}
    assert result.examples == len(load_sft_dataset(sampled))
    load_policy(str(result.model_dir))  # loadable


def test_rows_with_messages_use_the_prompt_messages_only(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"prompt": "1 + 1 =", "completion": " 2"}) + "\n")
    assert examples_from_dataset(load_sft_dataset(path)) == [
        SFTExample("1 + 1 =", [{"role": "user", "content": "1 + 1 ="}], " 2")
    ]


def _sft_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="rlvr sft")
    add_sft_arguments(parser)
    return run_sft(parser.parse_args(list(argv)))


def test_bad_data_gets_an_error_naming_the_flag(tmp_path):
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(SFTInputError, match="no such file") as error:
        load_sft_dataset(missing)
    assert error.value.field == "data"
    with pytest.raises(SystemExit, match=r"--data .*no such file"):
        _sft_cli("--data", str(missing), "--out", str(tmp_path / "o"))

    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(json.dumps({"question": "1 + 1", "answer": "2"}) + "\n")
    with pytest.raises(SystemExit, match=r"--data .*no prompt or completion column.*\['question', 'answer'\]"):
        _sft_cli("--data", str(wrong), "--out", str(tmp_path / "o"))

    not_json = tmp_path / "bad.jsonl"
    not_json.write_text('{"prompt": "a", "completion": "b"}\nnot json\n')
    with pytest.raises(SystemExit, match=r"--data .*bad.jsonl:2"):
        _sft_cli("--data", str(not_json), "--out", str(tmp_path / "o"))

    with pytest.raises(SystemExit, match=r"--data .*not a data set directory"):
        _sft_cli("--data", str(tmp_path), "--out", str(tmp_path / "o"))

    with pytest.raises(SystemExit, match="--learning-rate"):
        _sft_cli("--data", str(wrong), "--learning-rate", "0")

    parser = argparse.ArgumentParser()
    add_sft_arguments(parser)
    with pytest.raises(SystemExit):  # --data is required
        parser.parse_args([])


def test_an_empty_data_set_is_refused(tmp_path):
    sample(
        SampleConfig(
            env_options=EASY, model="tiny", out=tmp_path / "s", prompts=2, k=1, max_new_tokens=4, progress=False
        )
    )
    with pytest.raises(SystemExit, match=r"--data .*no rows"):
        _sft_cli("--data", str(tmp_path / "s"), "--out", str(tmp_path / "o"))


def test_the_whole_pipeline_runs_on_the_files_each_step_writes(tmp_path, capsys):
    # cold-start SFT and a couple of GRPO steps: rlvr train writes run/final
    grpo = train_grpo(
        GRPOConfig(
            env_options=EASY,
            output_dir=tmp_path / "grpo",
            steps=2,
            cold_start_steps=20,
            prompts_per_step=4,
            group_size=4,
            max_new_tokens=4,
            learning_rate=3e-4,
            beta=0.0,
            eval_prompts=8,
            eval_every=0,
            save_every=0,
            progress=False,
            tensorboard=False,
        )
    )
    policy = grpo.output_dir / "final"
    # rlvr sample from the RL policy
    parser = argparse.ArgumentParser()
    add_sample_arguments(parser)
    flags = ["--env-options", json.dumps(EASY), "--model", str(policy), "--prompts", "32", "--k", "4"]
    flags += ["--max-new-tokens", "4", "--out", str(tmp_path / "sample"), "--progress", "false"]
    assert run_sample(parser.parse_args(flags)) == 0
    # rlvr sft on what it wrote; the evaluation env comes from the data
    flags = ["--data", str(tmp_path / "sample"), "--model", str(policy), "--out", str(tmp_path / "sft")]
    flags += ["--learning-rate", "3e-4", "--epochs", "2", "--batch-size", "16", "--eval-prompts", "16"]
    flags += ["--max-new-tokens", "4", "--tensorboard", "false", "--progress", "false"]
    assert _sft_cli(*flags) == 0
    printed = capsys.readouterr().out
    assert "held-out accuracy" in printed and "loss" in printed
    model, _ = load_policy(str(tmp_path / "sft" / "final"))
    assert model is not None


def test_a_tool_env_cold_starts_on_worked_traces_rendered_as_rollouts_render_them():
    from rlvr.trainers.pipelines.sft import worked_trace

    _, tokenizer = build_tiny_model()
    renderer = PromptRenderer(tokenizer)
    env = envs.make("rlvr/Arithmetic-v0", template="equation", tools=["calculator"])
    example = worked_trace(env, 3, renderer)
    assert example is not None and example.encoded is not None
    ids, mask = example.encoded
    _, info = env.reset(seed=3)
    task = info["task"]
    trained = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m])
    call = f'<tool_call>{{"name": "calculator", "arguments": {{"expression": "{task.question}"}}}}</tool_call>'
    assert trained == f"{call}</s> {task.answer}</s>"  # the call and the answer are learned ...
    masked = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if not m])
    assert f"<tool_response>\n{task.answer}\n</tool_response>" in masked  # ... the tool's real result is read
    assert encode_example(renderer, example) == (ids, mask)
    assert worked_trace(envs.make("rlvr/Arithmetic-v0"), 3, renderer) is None  # no tools: the plain example
