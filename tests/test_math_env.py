"""rlvr/Math-v0: registration, options, word-problem episodes, GSM8K and MATH files, and its rubric's properties."""

from __future__ import annotations

import json
import warnings

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import strategies as st

from rlvr import envs
from rlvr.envs.math.env import (
    LEVELS,
    TEMPLATES,
    MathSource,
    MathTask,
    WordProblemSource,
    detect_format,
    load_math,
    math_rubric,
)
from rlvr.envs.math.problems import PROBLEMS
from rlvr.verifiers.properties import check_rubric

ID = "rlvr/Math-v0"

GSM8K_ROWS = [
    {
        "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
        "How many clips did Natalia sell altogether in April and May?",
        "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
        "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
    },
    {
        "question": "A shop sells 40 chairs at $30 each. How much money does it make?",
        "answer": "It makes 40*30 = $<<40*30=1200>>1200.\n#### 1,200",
    },
    {"question": "How tall is the tree?", "answer": "Nobody measured it."},
]

MATH_ROWS = [
    {
        "problem": "Find the positive root of $x^2 - 7x + 10 = 0$.",
        "solution": "Factoring, $(x-2)(x-5)=0$, so $x=\\boxed{2}$ or $x=5$; the larger root is $\\boxed{5}$.",
        "level": "Level 2",
        "type": "Algebra",
    },
    {
        "problem": "What is $\\sin 60^\\circ$?",
        "solution": "From the 30-60-90 triangle, $\\sin 60^\\circ = \\boxed{\\dfrac{\\sqrt{3}}{2}}$.",
        "level": "Level 1",
        "type": "Precalculus",
    },
    {"problem": "Prove that there are infinitely many primes.", "solution": "Suppose not. ...", "level": "Level ?"},
    {
        "problem": "Compute $\\dbinom{5}{2}$.",
        "solution": "$\\dbinom{5}{2} = \\frac{5 \\cdot 4}{2} = \\boxed{10}$.",
        "level": "Level ?",
        "type": "Counting & Probability",
    },
]


@pytest.fixture(scope="module")
def gsm8k_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("gsm8k") / "gsm8k.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in GSM8K_ROWS))
    return str(path)


@pytest.fixture(scope="module")
def math_file(tmp_path_factory):
    import datasets

    path = tmp_path_factory.mktemp("math") / "math.parquet"
    datasets.Dataset.from_list(MATH_ROWS).to_parquet(str(path))
    return str(path)


def load_quietly(source: str, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_math(source, **options)


def oracle(env: gymnasium.Env, task: MathTask) -> str:
    return env.unwrapped.template.answer_completion(task.reference_answer())


# --- registration and options ---------------------------------------------------------


def test_math_v0_is_registered_with_a_description():
    assert ID in gymnasium.registry and gymnasium.registry[ID].namespace == "rlvr"
    description = envs.list_envs()[ID]
    assert "GSM8K" in description and "MATH" in description
    assert list(envs.entry(ID).templates) == ["boxed", "r1", "plain"]


def test_check_env_passes():
    env = gymnasium.make(ID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    env.close()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"min_steps": 0}, "min_steps"),
        ({"min_steps": 4, "max_steps": 2}, "min_steps"),
        ({"size": 7}, "size"),
        ({"level": 9}, "level"),
        ({"level": 2, "size": 3}, "size"),
        ({"problems": ["no_such_shape"]}, "problems"),
        ({"problems": ["ages"], "min_steps": 5, "max_steps": 6}, "min_steps"),
        ({"split": "test"}, "split"),
        ({"dataset": "x.jsonl", "size": 3}, "size"),
        ({"dataset": "x.jsonl", "format": "csv"}, "format"),
        ({"difficulty": 3}, "difficulty"),
    ],
)
def test_a_bad_option_is_a_config_error_naming_the_field(options, field):
    with pytest.raises(envs.ConfigError, match=field):
        envs.make(ID, **options)


# --- word problems ---------------------------------------------------------------------


def test_the_default_prompt_asks_for_a_boxed_answer_to_a_word_problem():
    env = gymnasium.make(ID)
    prompt, info = env.reset(seed=0)
    task = info["task"]
    assert prompt == f"{task.question}\nPlease reason step by step, and put your final answer within \\boxed{{}}."
    assert task.source == "procedural" and task.problem in PROBLEMS
    assert task.solution.endswith(f"#### {task.answer}") and task.reference_answer() == task.answer


def test_same_seed_same_problem_across_env_copies():
    prompts = {gymnasium.make(ID).reset(seed=42)[0] for _ in range(3)}
    assert len(prompts) == 1
    env = gymnasium.make(ID)
    assert env.reset(options={"index": 5})[0] == env.reset(seed=9, options={"index": 5})[0]


def test_level_and_problem_reset_options_work_as_a_curriculum():
    source = WordProblemSource()
    for level, preset in LEVELS.items():
        task = source.get(3, level=level)
        steps = task.solution.count("<<")
        assert task.level == level and preset["min_steps"] <= steps <= preset["max_steps"]
    for name in PROBLEMS:
        assert source.get(1, problem=name).problem == name
    with pytest.raises(ValueError, match="unknown problem"):
        source.get(0, problem="no_such_shape")
    with pytest.raises(ValueError, match="unknown reset option"):
        source.get(0, difficulty=2)


def test_config_options_shape_the_problems():
    source = MathSource(problems=["coins", "animal_legs"], min_steps=4, max_steps=4, size=1)
    for index in range(20):
        task = source.get(index)
        assert task.problem in {"coins", "animal_legs"} and task.solution.count("<<") == 4
    assert MathSource(level=4).get(0).level == 4


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_the_reference_answer_scores_the_maximum_and_a_wrong_one_less(name):
    env = gymnasium.make(ID, template=name, level=5)
    high = env.unwrapped.reward_range[1]
    for seed in range(15):
        _, info = env.reset(seed=seed)
        task = info["task"]
        assert env.step(oracle(env, task))[1] == high
        env.reset(seed=seed)
        wrong = env.unwrapped.template.answer_completion(str(int(task.answer) + 1))
        assert env.step(wrong)[1] < high


def test_the_r1_template_adds_the_format_reward():
    env = gymnasium.make(ID, template="r1")
    assert env.unwrapped.rubric.weights == {"accuracy": 1.0, "format": 0.2}
    _, info = env.reset(seed=0)
    answer = info["task"].answer
    assert env.step(f"<think>add them</think><answer>{answer}</answer>")[1] == pytest.approx(1.2)


# --- GSM8K and MATH files ----------------------------------------------------------------


def test_a_gsm8k_file_loads_with_commas_dropped_and_records_without_an_answer_left_out(gsm8k_file):
    with pytest.warns(UserWarning, match=r"left out 1 of 3 records with no final answer .*rows 2"):
        records = load_math(gsm8k_file)
    assert records.format == "gsm8k" and records.skipped == (2,)
    assert [t.answer for t in records.tasks] == ["72", "1200"]
    first = records.tasks[0]
    assert first.question == GSM8K_ROWS[0]["question"] and first.solution == GSM8K_ROWS[0]["answer"]
    assert first.source == gsm8k_file and first.problem is None


def test_a_math_file_takes_the_last_box_with_nested_braces_and_keeps_level_and_subject(math_file):
    records = load_quietly(math_file)
    assert records.format == "math" and records.skipped == (2,)
    several_boxes, nested, unknown_level = records.tasks
    assert several_boxes.answer == "5"
    assert nested.answer == "\\dfrac{\\sqrt{3}}{2}"
    assert (several_boxes.level, several_boxes.subject) == (2, "Algebra")
    assert (unknown_level.level, unknown_level.answer) == (None, "10")
    assert nested.solution == MATH_ROWS[1]["solution"]


def test_a_math_answer_column_is_preferred_to_the_boxes(tmp_path):
    row = {"problem": "What is 1 + 1?", "solution": "It is $\\boxed{2}$.", "answer": "two", "subject": "Prealgebra"}
    row["level"] = 1
    path = tmp_path / "math500.jsonl"
    path.write_text(json.dumps(row) + "\n")
    (task,) = load_math(str(path)).tasks
    assert (task.answer, task.subject, task.level) == ("two", "Prealgebra", 1)


def test_the_format_is_told_from_the_columns_or_given():
    assert detect_format(["question", "answer"]) == "gsm8k"
    assert detect_format(["problem", "solution", "level", "type"]) == "math"
    for columns in (["question", "problem"], ["text", "label"]):
        with pytest.raises(ValueError, match="format='gsm8k'"):
            detect_format(columns)


def test_a_file_lacking_the_formats_field_is_an_error_naming_it(tmp_path, gsm8k_file):
    path = tmp_path / "odd.jsonl"
    path.write_text(json.dumps({"question": "What is 2 + 2?", "solution": "4"}) + "\n")
    with pytest.raises(ValueError, match="'answer'"):
        load_math(str(path))
    with pytest.raises(ValueError, match="'problem'"):
        load_math(gsm8k_file, format="math")


def test_a_data_set_with_no_usable_record_is_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text(json.dumps(GSM8K_ROWS[2]) + "\n")
    with pytest.raises(ValueError, match="none of its 1 records"):
        load_math(str(path))


def test_a_data_set_source_serves_its_records_in_order_and_refuses_generator_options(gsm8k_file):
    with pytest.warns(UserWarning, match="left out 1"):
        source = MathSource(dataset=gsm8k_file)
    assert source.size == 2 and source.skipped == (2,)
    assert source.get(1).answer == "1200"
    with pytest.raises(ValueError, match="unknown reset option"):
        source.get(0, problem="ages")
    with pytest.raises(IndexError):
        source.get(2)


def test_records_from_files_score_their_reference_answer_in_an_env(gsm8k_file, math_file):
    for path in (gsm8k_file, math_file):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            env = gymnasium.make(ID, dataset=path)
        for index in range(env.unwrapped.source.size):
            _, info = env.reset(options={"index": index})
            assert env.step(oracle(env, info["task"]))[1] == 1.0
    env.reset(options={"index": 1})  # sin 60 degrees, written another way
    assert env.step("So the answer is $\\boxed{\\frac{\\sqrt{3}}{2}}$.")[1] == 1.0
    env.reset(options={"index": 1})
    assert env.step("So the answer is $\\boxed{\\frac{1}{2}}$.")[1] == 0.0


# --- the rubric's properties -------------------------------------------------------------


def wrong_answers(template):
    def strategy(task: MathTask) -> st.SearchStrategy[str]:
        return st.integers(10**6, 10**7).map(lambda x: template.answer_completion(str(x)))

    return strategy


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_rubric_properties_on_word_problems(name):
    template = TEMPLATES[name]
    tasks = st.builds(
        lambda index, level: WordProblemSource().get(index, level=level),
        st.integers(0, 2**40),
        st.sampled_from(sorted(LEVELS)),
    )
    check_rubric(
        math_rubric(template),
        tasks=tasks,
        reference=lambda task: template.answer_completion(task.answer),
        wrong=wrong_answers(template),
        max_examples=25,
    )


@pytest.mark.parametrize("name", ["boxed", "r1"])
def test_rubric_properties_on_file_records(name, gsm8k_file, math_file):
    template = TEMPLATES[name]
    records = [*load_quietly(gsm8k_file).tasks, *load_quietly(math_file).tasks]
    check_rubric(
        math_rubric(template),
        tasks=st.sampled_from(records),
        reference=lambda task: template.answer_completion(task.answer),
        wrong=wrong_answers(template),
        max_examples=20,
    )
