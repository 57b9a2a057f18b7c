"""rlvr/Arithmetic-v0: task generation, options, levels, and its rubric's properties."""

import gymnasium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr import envs
from rlvr.envs.arithmetic.env import (
    LEVELS,
    ArithmeticConfig,
    ArithmeticSource,
    ArithmeticTask,
    evaluate,
    long_multiplication,
)
from rlvr.envs.core.templates import BUILTIN_TEMPLATES
from rlvr.verifiers.properties import check_rubric


def test_default_is_the_fireworks_experiment():
    env = gymnasium.make("rlvr/Arithmetic-v0")
    prompt, info = env.reset(seed=0)
    task = info["task"]
    a, b = task.operands
    assert task.operations == ("*",)
    assert 1000 <= a <= 9999 and 10 <= b <= 99
    assert task.answer == a * b
    assert prompt.endswith(f'"Final Answer: the final answer is X. I hope it is correct." {a} * {b}')
    assert env.step(f"Final Answer: the final answer is {a * b}. I hope it is correct.")[1] == 1.0


def test_same_seed_same_expression_across_env_copies():
    questions = {gymnasium.make("rlvr/Arithmetic-v0").reset(seed=42)[1]["task"].question for _ in range(4)}
    assert len(questions) == 1


def test_index_option_is_deterministic():
    env = gymnasium.make("rlvr/Arithmetic-v0")
    assert env.reset(options={"index": 5})[0] == env.reset(seed=9, options={"index": 5})[0]


@pytest.mark.parametrize("index", range(200))
def test_operands_have_the_configured_digits_and_the_answer_is_exact(index):
    source = ArithmeticSource(digits=[3, 2, 1], operations=["+", "-", "*", "/"])
    task = source.get(index)
    assert [len(str(x)) for x in task.operands] == [3, 2, 1]
    assert task.answer == evaluate(task.operands, task.operations)


def test_division_is_always_exact_even_in_chains():
    source = ArithmeticSource(digits=[6, 2, 1, 1], operations=["/"])
    for index in range(300):
        task = source.get(index)
        a, b, c, d = task.operands
        assert a % b == 0 and (a // b) % c == 0 and (a // b // c) % d == 0
        assert task.answer == a // b // c // d


def test_dividend_grows_when_its_digits_cannot_hold_the_divisors():
    task = ArithmeticSource(digits=[1, 2, 2], operations=["/"]).get(0)
    a, b, c = task.operands
    assert a % (b * c) == 0 and task.answer == a // b // c


def test_evaluate_applies_precedence_and_rejects_inexact_division():
    assert evaluate([2, 3, 4], ["+", "*"]) == 14
    assert evaluate([20, 4, 2, 3], ["/", "-", "*"]) == -1
    with pytest.raises(ValueError, match="not exact"):
        evaluate([7, 2], ["/"])


def test_one_digits_entry_repeats_for_num_operands():
    config = ArithmeticConfig(digits=[2], num_operands=4)
    assert config.digits == [2, 2, 2, 2]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"digits": [0, 2]}, "digits"),
        ({"digits": [2, 2, 2], "num_operands": 2}, "num_operands"),
        ({"operations": ["%"]}, "operations"),
        ({"operations": []}, "operations"),
        ({"level": 99}, "level"),
        ({"level": 2, "digits": [3, 3]}, "level"),
        ({"digits": [5]}, "two operands"),
    ],
)
def test_bad_options_name_the_field(options, field):
    with pytest.raises(envs.ConfigError, match=field):
        envs.make("rlvr/Arithmetic-v0", **options)


def test_level_option_sets_the_preset():
    task = ArithmeticSource(level=1).get(3)
    assert task.level == 1 and task.operations == ("+",)


def test_level_reset_option_works_as_a_curriculum():
    env = gymnasium.make("rlvr/Arithmetic-v0")
    for level in sorted(LEVELS):
        task = env.reset(seed=1, options={"level": level})[1]["task"]
        assert task.level == level
        assert [len(str(x)) for x in task.operands] == LEVELS[level]["digits"]
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"difficulty": 2})


@pytest.mark.parametrize("name", sorted(BUILTIN_TEMPLATES))
def test_every_template_rewards_the_oracle_completion(name):
    env = gymnasium.make("rlvr/Arithmetic-v0", template=name, level=6)
    for seed in range(20):
        _, info = env.reset(seed=seed)
        reward = env.step(env.unwrapped.template.answer_completion(str(info["task"].answer)))[1]
        assert reward == env.unwrapped.reward_range[1]


def test_r1_template_adds_the_format_reward():
    env = gymnasium.make("rlvr/Arithmetic-v0", template="r1")
    assert env.unwrapped.rubric.weights == {"accuracy": 1.0, "format": 0.2}
    _, info = env.reset(seed=0)
    answer = info["task"].answer
    assert env.step(f"<think>multiply</think><answer>{answer}</answer>")[1] == pytest.approx(1.2)
    env.reset(seed=0)
    assert env.step(f"<think>multiply</think><answer>{answer + 1}</answer>")[1] == pytest.approx(0.2)
    env.reset(seed=0)
    assert env.step(f"{answer}</think><answer>{answer}</answer>")[1] == pytest.approx(1.2)  # prefilled think


@pytest.mark.parametrize(
    "completion",
    [
        "Final Answer: the final answer is {wrong}. I hope it is correct.\n"
        "Final Answer: the final answer is {right}. I hope it is correct.",
        "Final Answer: the final answer is {right} or {wrong}. I hope it is correct.",
        "The product is {right}.",
        "Final Answer: the final answer is X. I hope it is correct. {right}",
        "{right} " * 50,
        "",
    ],
    ids=["hedged-lines", "hedged-inline", "no-format", "placeholder", "stuffing", "empty"],
)
def test_ways_to_game_the_checker_earn_nothing(completion):
    env = gymnasium.make("rlvr/Arithmetic-v0")
    _, info = env.reset(seed=3)
    right = info["task"].answer
    assert env.step(completion.format(right=right, wrong=right + 1))[1] == 0.0


def arithmetic_tasks() -> st.SearchStrategy[ArithmeticTask]:
    levels = st.sampled_from(sorted(LEVELS))
    return st.builds(lambda i, level: ArithmeticSource(level=level).get(i), st.integers(0, 2**40), levels)


def wrong_answers(template):
    def strategy(task: ArithmeticTask) -> st.SearchStrategy[str]:
        deltas = st.integers(-(10**6), 10**6).filter(bool)
        return deltas.map(lambda d: template.answer_completion(str(task.answer + d)))

    return strategy


@pytest.mark.parametrize("name", sorted(BUILTIN_TEMPLATES))
def test_arithmetic_rubric_properties(name):
    template = BUILTIN_TEMPLATES[name]
    rubric = envs.entry("rlvr/Arithmetic-v0").make_rubric(template)
    check_rubric(
        rubric,
        tasks=arithmetic_tasks(),
        reference=lambda task: template.answer_completion(str(task.answer)),
        wrong=wrong_answers(template),
        max_examples=40,
    )


@settings(max_examples=50, deadline=None)
@given(index=st.integers(0, 2**62), level=st.sampled_from(sorted(LEVELS)))
def test_generated_tasks_are_consistent(index, level):
    task = ArithmeticSource(level=level).get(index)
    assert task.answer == evaluate(task.operands, task.operations)
    assert task.question == " ".join(
        [str(task.operands[0])] + [f"{op} {x}" for op, x in zip(task.operations, task.operands[1:], strict=True)]
    )


def test_the_calculator_option_gives_tool_episodes_that_pass_gymnasiums_checker():
    from gymnasium.utils.env_checker import check_env

    env = envs.make("rlvr/Arithmetic-v0", tools=["calculator"])
    text_env = env.unwrapped
    assert text_env.config.max_turns == 4 and list(text_env.toolbox.tools) == ["calculator"]
    check_env(text_env, skip_render_check=True)
    _, info = env.reset(seed=0)
    task = info["task"]
    expression = " ".join(
        str(part) for pair in zip(task.operands, [*task.operations, ""], strict=True) for part in pair
    ).strip()
    observation, *_ = env.step(
        f'<tool_call>{{"name": "calculator", "arguments": {{"expression": "{expression}"}}}}</tool_call>'
    )
    assert observation == f"<tool_response>\n{task.answer}\n</tool_response>\n"
    _, reward, terminated, _, _ = env.step(f"Final Answer: the final answer is {task.answer}. I hope it is correct.")
    assert reward == 1.0 and terminated


def test_a_tool_the_env_does_not_offer_is_a_config_error_naming_the_ones_it_does():
    with pytest.raises(envs.ConfigError, match=r"rlvr/Arithmetic-v0: tools \['search'\] are not offered.*calculator"):
        envs.make("rlvr/Arithmetic-v0", tools=["search"])


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**4))
def test_long_multiplications_every_step_is_true_and_it_ends_at_the_product(a, b):
    import math
    import re

    working = long_multiplication(a, b)
    for clause in re.split(r"[.,] ", working.rstrip(".")):
        if " = " not in clause:
            assert re.fullmatch(r"carry \d", clause), clause
            continue
        left, result = clause.removeprefix("So ").split(" = ")
        value = sum(math.prod(int(x) for x in term.split(" * ")) for term in left.split(" + "))
        assert value == int(result), clause
    assert working.endswith(f"So {a} * {b} = {a * b}.")
    rows = len(str(b))
    assert working.count(f"So {a} * ") == rows + (rows > 1)  # a row per digit, then the total


def test_only_products_of_two_positive_numbers_have_worked_reasoning():
    def task(operands, operations):
        return ArithmeticTask(
            question="", operands=operands, operations=operations, answer=evaluate(operands, operations)
        )

    assert task((47, 8), ("*",)).worked_reasoning() == (
        "7 * 8 = 56, carry 5. 4 * 8 = 32, 32 + 5 = 37. So 47 * 8 = 376."
    )
    assert task((3, 4), ("+",)).worked_reasoning() is None
    assert task((2, 3, 4), ("*", "*")).worked_reasoning() is None


def test_the_cold_starts_worked_example_writes_the_working_before_the_answer_line():
    from rlvr.trainers.pipelines.sft import worked_example

    env = envs.make("rlvr/Arithmetic-v0", level=3)
    _, info = env.reset(seed=7)
    a, b = info["task"].operands
    _, _, completion = worked_example(env, 7)
    assert completion == (
        f"{long_multiplication(a, b)}\nFinal Answer: the final answer is {a * b}. I hope it is correct."
    )
    assert env.step(completion)[1] == 1.0
    equation = envs.make("rlvr/Arithmetic-v0", level=3, template="equation")
    assert worked_example(equation, 7)[2] == f" {a * b}"  # no room for reasoning: the bare answer
