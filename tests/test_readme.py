"""README's code runs as written: every Python block, in order, and every `rlvr` command line parses."""

import re
import shlex
from pathlib import Path

import pytest

from rlvr.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


@pytest.fixture(scope="module")
def after() -> dict[str, dict]:
    """Run every Python block of README in order, in one namespace, as a reader would.

    Returns the names as they stand after each block, keyed by a phrase that
    identifies the block (later blocks may reuse a name, such as ``reward``).
    """
    names: dict = {}
    snapshots = {}
    for block in blocks("python"):
        exec(block, names)
        snapshots[block] = dict(names)
    return snapshots


def names_after(after: dict[str, dict], phrase: str) -> dict:
    (names,) = [names for block, names in after.items() if phrase in block]
    return names


def test_every_python_block_runs(after):
    assert len(after) == len(blocks("python")) >= 5


def test_use_an_environment_scores_the_right_answer_one(after):
    names = names_after(after, 'gymnasium.make("rlvr/Arithmetic-v0")')
    assert names["reward"] == 1.0 and names["terminated"] is True


def test_register_a_task_family_makes_the_env_by_name(after):
    env = names_after(after, "envs.register(")["env"]
    prompt, info = env.reset(seed=0)
    assert prompt.startswith("Reverse the word") and env.step(info["task"].answer)[1] == 1.0


def test_give_an_env_tools_makes_an_env_whose_tool_answers(after):
    env = names_after(after, "tools=[lookup]")["env"]
    _, info = env.reset(seed=0)
    country = info["task"].question.split()[-1].rstrip("?")
    call = f'<tool_call>{{"name": "lookup", "arguments": {{"country": "{country}"}}}}</tool_call>'
    observation, *_ = env.step(call)
    assert observation == f"<tool_response>\n{info['task'].answer}\n</tool_response>\n"
    assert env.step(info["task"].answer)[1] == 1.0


def test_run_model_written_code_gives_the_commented_results(after):
    names = names_after(after, "shared_pool()")
    assert names["pool"].run("print(input()[::-1])", stdin="abc").stdout == "cba\n"
    report = names["report"]
    assert (report.passed, report.total, report.fraction) == (2, 2, 1.0)


def test_use_with_another_trainer_exports_rows_and_a_working_reward(after):
    names = names_after(after, "to_dataset(")
    dataset, reward = names["dataset"], names["reward"]
    assert len(dataset) == 1000 and {"prompt", "task", "answer"} <= set(dataset.column_names)
    rows = dataset.select(range(4))
    right = [f"Final Answer: The final answer is {answer}. I hope it is correct." for answer in rows["answer"]]
    assert reward(rows["prompt"], right, task=rows["task"]) == [1.0] * 4


def command_lines() -> list[list[str]]:
    """Each `rlvr ...` command of README's bash blocks, as argv after `rlvr` (continuations joined)."""
    lines = []
    for block in blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and Path(words[0]).name == "rlvr" and "--help" not in words:
                lines.append(words[1:])
    return lines


@pytest.mark.parametrize("argv", command_lines(), ids=lambda argv: " ".join(argv)[:60])
def test_every_rlvr_command_line_in_readme_parses(argv):
    arguments = build_parser(argv).parse_args(argv)
    assert arguments.command == argv[0]


def test_quick_start_names_the_scripts_that_exist():
    for script in re.findall(r"^bash (\.ci/\w+)", README, flags=re.MULTILINE):
        assert (ROOT / script).is_file(), script
