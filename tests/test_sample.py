"""Rejection sampling (``rlvr sample``) on the tiny model and rlvr/Arithmetic-v0 (level 1, equation template)."""

import argparse
import json
from pathlib import Path

import datasets
import pytest

from rlvr import envs
from rlvr.trainers.cli.sample_sft import add_sample_arguments, run_sample
from rlvr.trainers.pipelines.sample import SAMPLE_SEED_OFFSET, AcceptanceChecks, SampleConfig, sample
from rlvr.trainers.pipelines.sft import load_sft_dataset
from rlvr.trainers.run.evaluate import EVAL_SEED_OFFSET
from rlvr.verifiers import Score, Status

EASY = {"level": 1, "template": "equation"}


def config(cold_started_tiny: Path, out: Path, **overrides) -> SampleConfig:
    values = dict(
        env_options=EASY, model=str(cold_started_tiny), out=out, prompts=24, k=8, max_new_tokens=4, progress=False
    )
    values.update(overrides)
    return SampleConfig(**values)


def test_kept_completions_score_the_max_reward_and_are_distinct(cold_started_tiny, tmp_path):
    result = sample(config(cold_started_tiny, tmp_path / "s"))
    rows, summary = result.dataset.to_list(), result.summary
    assert rows and summary["kept"] == len(rows)
    assert 0 < summary["accepted"] < summary["drawn"] == 24 * 8  # some right, some wrong: the filter filtered
    env = envs.make("rlvr/Arithmetic-v0", **EASY)
    high = env.unwrapped.reward_range[1]
    for row in rows:  # re-judge every kept completion with the env's own rubric
        prompt, info = env.reset(seed=row["seed"])
        assert prompt == row["prompt"]
        assert env.unwrapped.rubric.score(row["completion"], info["task"]).reward == high == row["reward"]
        assert row["messages"][-1] == {"role": "assistant", "content": row["completion"]}
        assert SAMPLE_SEED_OFFSET <= row["seed"] < EVAL_SEED_OFFSET
    assert len({(r["prompt"], r["completion"]) for r in rows}) == len(rows)
    per_prompt = summary["per_prompt"]
    assert [p["seed"] for p in per_prompt] == [SAMPLE_SEED_OFFSET + i for i in range(24)]
    assert sum(p["accepted"] for p in per_prompt) == summary["accepted"]
    assert summary["unsolved"] == [p["seed"] for p in per_prompt if p["accepted"] == 0]
    assert all(p["acceptance_rate"] == p["accepted"] / 8 for p in per_prompt)


def test_identical_completions_of_a_prompt_are_kept_once(cold_started_tiny, tmp_path):
    # greedy decoding draws the same completion k times
    result = sample(config(cold_started_tiny, tmp_path / "s", temperature=0.0, k=4, min_reward=0.0))
    summary = result.summary
    assert summary["drawn"] == 24 * 4 and summary["distinct"] == 24
    assert all(p["accepted"] in (0, 4) and p["kept"] <= 1 for p in summary["per_prompt"])
    prompts = [row["prompt"] for row in result.dataset]
    assert len(prompts) == len(set(prompts))  # and a prompt posed under two seeds is not repeated either


def test_min_reward_zero_keeps_every_judged_completion(cold_started_tiny, tmp_path):
    result = sample(config(cold_started_tiny, tmp_path / "s", min_reward=0.0))
    assert result.summary["accepted"] == result.summary["drawn"]
    assert any(row["reward"] == 0.0 for row in result.dataset)


def test_extra_acceptance_checks_are_required_too(cold_started_tiny, tmp_path):
    def no_leading_space(completion: str, task) -> Score:
        return Score.correct() if not completion.startswith(" ") else Score.fail(Status.WRONG)

    def cannot_judge(completion: str, task) -> Score:
        return Score.no_judgement(Status.VERIFIER_ERROR)

    base = sample(config(cold_started_tiny, tmp_path / "base"))
    picky = sample(config(cold_started_tiny, tmp_path / "picky"), AcceptanceChecks([no_leading_space], threshold=1.0))
    assert {r["completion"] for r in picky.dataset} == {
        r["completion"] for r in base.dataset if not r["completion"].startswith(" ")
    }
    assert picky.summary["accepted_by_rubric"] == base.summary["accepted_by_rubric"]
    unjudged = sample(config(cold_started_tiny, tmp_path / "none"), AcceptanceChecks([cannot_judge], threshold=0.0))
    assert unjudged.summary["kept"] == 0


def test_the_written_data_set_round_trips(cold_started_tiny, tmp_path):
    result = sample(config(cold_started_tiny, tmp_path / "s"))
    rows = result.dataset.to_list()
    from_disk = datasets.load_from_disk(str(tmp_path / "s" / "data"))
    assert from_disk.to_list() == rows
    lines = [json.loads(line) for line in (tmp_path / "s" / "samples.jsonl").read_text().splitlines()]
    assert lines == rows
    assert load_sft_dataset(tmp_path / "s").to_list() == rows  # the run directory, as rlvr sft reads it
    assert load_sft_dataset(tmp_path / "s" / "samples.jsonl").to_list() == rows
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert summary["kept"] == len(rows) and json.loads(rows[0]["env_options"]) == EASY


def test_a_model_that_solves_nothing_writes_an_empty_data_set_with_its_columns(tmp_path):
    result = sample(
        SampleConfig(
            env_options=EASY, model="tiny", out=tmp_path / "s", prompts=3, k=2, max_new_tokens=4, progress=False
        )
    )
    assert result.summary["kept"] == 0 and len(result.summary["unsolved"]) == 3
    reloaded = datasets.load_from_disk(str(tmp_path / "s" / "data"))
    assert len(reloaded) == 0 and {"prompt", "messages", "completion", "reward", "seed", "env"} <= set(
        reloaded.column_names
    )


def test_prompt_seeds_may_not_reach_the_evaluation_seeds():
    with pytest.raises(ValueError, match="evaluation seeds"):
        SampleConfig(first_prompt=EVAL_SEED_OFFSET - SAMPLE_SEED_OFFSET, prompts=1)


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="rlvr sample")
    add_sample_arguments(parser)
    return run_sample(parser.parse_args(list(argv)))


def test_cli_writes_the_data_set_and_reports(cold_started_tiny, tmp_path, capsys):
    out = tmp_path / "cli"
    code = _cli(
        "--env-options", json.dumps(EASY), "--model", str(cold_started_tiny), "--prompts", "8", "--k", "4",
        "--max-new-tokens", "4", "--temperature", "0.8", "--seed", "3", "--out", str(out), "--progress", "false",
    )  # fmt: skip
    assert code == 0
    assert "accepted" in capsys.readouterr().out
    assert (out / "data").is_dir() and (out / "summary.json").exists()


def test_cli_errors_name_the_flag(tmp_path):
    with pytest.raises(SystemExit, match="--k"):
        _cli("--k", "0", "--out", str(tmp_path))
    with pytest.raises(SystemExit, match="--model"):
        _cli("--model", str(tmp_path / "missing"), "--prompts", "1", "--out", str(tmp_path), "--progress", "false")


@pytest.fixture()
def even_grader_url():
    """A real OpenAI-compatible endpoint on 127.0.0.1 whose 'model' grades by a rule: 1 for an even answer, else 0."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = body["messages"][0]["content"]
            quoted = " ".join(line[2:] for line in prompt.splitlines() if line.startswith("| "))
            digits = "".join(c for c in quoted if c.isdigit())
            grade = "1" if digits and int(digits) % 2 == 0 else "0"
            answer = json.dumps({"choices": [{"message": {"role": "assistant", "content": f"Score: {grade}"}}]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_a_model_grader_endpoint_must_accept_the_kept_completions_too(cold_started_tiny, tmp_path, even_grader_url):
    common = ["--env-options", json.dumps(EASY), "--model", str(cold_started_tiny), "--prompts", "16", "--k", "4"]
    common += ["--max-new-tokens", "4", "--progress", "false"]
    assert _cli(*common, "--out", str(tmp_path / "rubric")) == 0
    assert _cli(*common, "--out", str(tmp_path / "graded"), "--grader-url", even_grader_url) == 0
    by_rubric = load_sft_dataset(tmp_path / "rubric").to_list()
    graded = load_sft_dataset(tmp_path / "graded").to_list()
    assert graded and all(int(row["completion"]) % 2 == 0 for row in graded)
    assert len(graded) < len(by_rubric)  # the odd right answers were dropped by the grader
    assert {(r["seed"], r["completion"]) for r in graded} <= {(r["seed"], r["completion"]) for r in by_rubric}


def test_a_mixture_samples_each_prompt_from_an_env_drawn_by_weight(tmp_path):
    mixture = ['rlvr/Arithmetic-v0:{"level": 1, "template": "equation"}@3', "rlvr/Math-v0"]
    result = sample(
        SampleConfig(mixture=mixture, prompts=24, k=2, max_new_tokens=3, min_reward=0.0, out=tmp_path, progress=False)
    )
    summary = result.summary
    envs_drawn = [entry["env"] for entry in summary["per_prompt"]]
    assert set(envs_drawn) == {"rlvr/Arithmetic-v0", "rlvr/Math-v0"}
    assert envs_drawn.count("rlvr/Arithmetic-v0") > envs_drawn.count("rlvr/Math-v0")
    assert summary["env"] == "rlvr/Arithmetic-v0 + rlvr/Math-v0" and summary["min_reward"]["rlvr/Math-v0"] == 0.0
    rows = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    for row in rows:  # each row names the env that judged it, with that env's options
        assert (row["env"], json.loads(row["env_options"])) in [
            ("rlvr/Arithmetic-v0", {"level": 1, "template": "equation"}),
            ("rlvr/Math-v0", {}),
        ]
        assert row["prompt"].endswith("=") == (row["env"] == "rlvr/Arithmetic-v0")
