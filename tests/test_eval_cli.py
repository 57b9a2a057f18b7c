"""`rlvr eval` on the command line: what it prints, and one line for each mistake."""

from __future__ import annotations

import json

import pytest
from openai_server import serve

from rlvr.cli import main


def test_eval_prints_each_env_and_the_total(tmp_path, capsys):
    argv = ["eval", "--env", 'rlvr/Arithmetic-v0:{"level": 1}', "--env", "rlvr/Math-v0", "--tasks", "2"]
    argv += ["--samples", "2", "--max-new-tokens", "3", "--output-dir", str(tmp_path), "--progress", "false"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('rlvr/Arithmetic-v0:{"level":1}: accuracy ')
    assert lines[1].startswith("rlvr/Math-v0: accuracy ") and lines[2].startswith("total: accuracy ")
    assert "pass@2" in lines[2] and json.loads((tmp_path / "summary.json").read_text())["total"]["tasks"] == 4


def test_a_config_file_may_list_envs_with_weights(tmp_path, capsys):
    config = tmp_path / "eval.yaml"
    config.write_text(
        "env:\n  - {id: rlvr/Arithmetic-v0, options: {level: 1}, weight: 2}\n  - rlvr/Math-v0\n"
        f"tasks: 1\nsamples: 1\nmax_new_tokens: 2\noutput_dir: {tmp_path / 'out'}\nprogress: false\n"
    )
    assert main(["eval", "--config", str(config)]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [n["weight"] for n in summary["envs"].values()] == [2.0, 1.0]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--env", "rlvr/Nope-v0"], "rlvr/Arithmetic-v0"),  # the valid ids are listed
        (["--env", "rlvr/Math-v0:{level: 2}"], "not JSON"),
        (["--samples", "0"], "--samples: Input should be greater than or equal to 1"),
        (["--model", "/no/such/model"], "rlvr eval: --model: could not load"),
    ],
)
def test_mistakes_are_one_line(tmp_path, capsys, argv, said):
    try:
        code = main(["eval", *argv, "--tasks", "1", "--output-dir", str(tmp_path), "--progress", "false"])
        message = capsys.readouterr().err
    except SystemExit as stopped:
        code, message = 1, str(stopped.code)
    assert code != 0 and said in message and "Traceback" not in message
    assert len([line for line in message.splitlines() if line.strip()]) == 1


def test_a_server_that_refuses_is_one_line(tmp_path):
    refuse = serve(lambda path, body: (401, {"error": "bad key"}, {}))
    with refuse as server, pytest.raises(SystemExit) as stopped:
        main(["eval", "--endpoint", server.url, "--tasks", "1", "--output-dir", str(tmp_path), "--progress", "0"])
    assert str(stopped.value.code).startswith("rlvr eval: ") and "HTTP 401" in str(stopped.value.code)
