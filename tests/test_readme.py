"""README's code that claims to run, runs."""

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_use_an_environment_snippet_runs_and_scores_one(capsys):
    snippet = next(block for block in python_blocks() if 'gymnasium.make("rlvr/Arithmetic-v0")' in block)
    namespace: dict = {}
    exec(snippet, namespace)
    assert namespace["reward"] == 1.0
    assert namespace["terminated"] is True
    assert "status=ok" in capsys.readouterr().out


def test_quick_start_names_the_scripts_that_exist():
    root = Path(__file__).resolve().parents[1]
    for script in re.findall(r"^bash (\.ci/\w+)", README, flags=re.MULTILINE):
        assert (root / script).is_file(), script


def test_run_model_written_code_snippet_runs_as_commented():
    snippet = next(block for block in python_blocks() if "shared_pool()" in block)
    namespace: dict = {}
    exec(snippet, namespace)
    assert namespace["pool"].run("print(input()[::-1])", stdin="abc").stdout == "cba\n"
    report = namespace["report"]
    assert (report.passed, report.total, report.fraction) == (2, 2, 1.0)


def test_use_with_another_trainer_snippet_exports_rows_and_a_working_reward():
    snippet = next(block for block in python_blocks() if "to_dataset(" in block)
    namespace: dict = {}
    exec(snippet, namespace)
    dataset, reward = namespace["dataset"], namespace["reward"]
    assert len(dataset) == 1000 and {"prompt", "task", "answer"} <= set(dataset.column_names)
    rows = dataset.select(range(4))
    right = [f"Final Answer: The final answer is {answer}. I hope it is correct." for answer in rows["answer"]]
    assert reward(rows["prompt"], right, task=rows["task"]) == [1.0] * 4
