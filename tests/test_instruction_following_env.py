"""rlvr/InstructionFollowing-v0: registration, options, episodes, the IFEval loader, and its reward."""

from __future__ import annotations

import json
import warnings

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

from rlvr import envs
from rlvr.envs.instruction_following.env import (
    TEMPLATES,
    InstructionSource,
    InstructionTask,
    break_one,
    ifeval_task,
    load_ifeval,
)

ID = "rlvr/InstructionFollowing-v0"

ROWS = [
    {
        "key": 1,
        "prompt": "Write a haiku about rain. Do not use any commas.",
        "instruction_id_list": ["punctuation:no_comma"],
        "kwargs": [{"num_words": None}],
    },
    {
        "key": 2,
        "prompt": "Write a note. Wrap it in quotes and give it a title.",
        "instruction_id_list": ["startend:quotation", "detectable_format:title"],
        "kwargs": [{}, {}],
    },
    {
        "key": 3,
        "prompt": "Write a riddle in the style of a pirate.",
        "instruction_id_list": ["pirate:speak"],
        "kwargs": [{}],
    },
]

IFBENCH_ROWS = [
    {
        "key": "ifbench-1",
        "prompt": "Describe your day. Include exactly 2 numbers in the response.",
        "instruction_id_list": ["count:numbers", "punctuation:no_comma"],
        "kwargs": [{"N": 2, "small_n": None, "sep": None}, {"N": None, "small_n": None, "sep": None}],
    },
    {
        "key": "ifbench-2",
        "prompt": "List fruit. Answer with a list of items, instead of bullet points use SEPARATOR.",
        "instruction_id_list": ["format:list"],
        "kwargs": [{"N": None, "small_n": None, "sep": "SEPARATOR"}],
    },
]


@pytest.fixture
def ifeval_file(tmp_path):
    path = tmp_path / "ifeval.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in ROWS) + "\n")
    return path


def test_registered():
    assert ID in envs.list_envs()
    assert ID in gymnasium.registry


def test_check_env():
    env = gymnasium.make(ID)
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("reward_mode", ["fraction", "all"])
def test_reference_scores_the_max_and_breaking_one_scores_less(template, reward_mode):
    env = gymnasium.make(ID, template=template, reward_mode=reward_mode, min_constraints=2, max_constraints=3)
    think = "<think>Plan it.</think>\n" if template == "r1" else ""
    broken_seen = 0
    for seed in range(20):
        _, info = env.reset(seed=seed)
        task = info["task"]
        assert task.reward_mode == reward_mode and task.loose is False
        _, reward, terminated, _, _ = env.step(think + task.reference_answer())
        assert reward == 1.0 and terminated
        broken = break_one(task)
        if broken is not None:
            broken_seen += 1
            env.reset(seed=seed)
            _, low, _, _, step_info = env.step(think + broken[1])
            assert low < 1.0, broken
            assert step_info["score"]["accuracy"].details["failed"] == [broken[0]]
            if reward_mode == "fraction":
                assert low == pytest.approx(1 - 1 / len(task.instruction_ids))
            else:
                assert low == 0.0
    assert broken_seen >= 15


def test_demo_completions_rank():
    env = gymnasium.make(ID)
    _, info = env.reset(seed=3)
    samples = info["task"].demo_completions(env.unwrapped.template)
    rewards = {}
    for name, completion in samples.items():
        env.reset(seed=3)
        rewards[name] = env.step(completion)[1]
    assert rewards["right answer"] == 1.0
    assert rewards["empty"] == 0.0
    assert all(value <= 1.0 for value in rewards.values())


def test_prompt_holds_base_and_instructions():
    env = gymnasium.make(ID, instructions=["startend:quotation"], min_constraints=1, max_constraints=1)
    prompt, info = env.reset(seed=0)
    task = info["task"]
    assert "Wrap your entire response with double quotation marks." in prompt
    assert task.instruction_ids == ["startend:quotation"] and task.kwargs == [{}]
    assert task.prompt_text == task.question


def test_determinism_per_seed():
    first = [gymnasium.make(ID).reset(seed=s)[1]["task"] for s in range(10)]
    second = [gymnasium.make(ID).reset(seed=s)[1]["task"] for s in range(10)]
    assert first == second
    assert len({t.question for t in first}) > 5


def test_loader_leaves_out_unknown_ids_with_a_counted_warning(ifeval_file):
    with pytest.warns(UserWarning, match="left out 1 of 3 records"):
        records = load_ifeval(str(ifeval_file))
    assert records.skipped == (2,)
    assert [t.instruction_ids for t in records.tasks] == [["punctuation:no_comma"], ROWS[1]["instruction_id_list"]]
    assert records.tasks[0].kwargs == [{}]  # None values dropped
    assert records.tasks[1].reference_answer() is not None


def test_env_on_a_local_file(ifeval_file):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = gymnasium.make(ID, dataset=str(ifeval_file), reward_mode="all", loose=True)
    prompt, info = env.reset(options={"index": 1})
    task = info["task"]
    assert prompt == ROWS[1]["prompt"] and task.loose and task.reward_mode == "all"
    _, reward, _, _, _ = env.step('"<<Note>>\nA short note."')
    assert reward == 1.0
    env.reset(options={"index": 1})
    assert env.step("<<Note>> without quotes")[1] == 0.0


def test_ifeval_task_rejects_bad_rows():
    assert ifeval_task({"prompt": "", "instruction_id_list": ["punctuation:no_comma"]}) is None
    assert ifeval_task({"prompt": "x", "instruction_id_list": ["a:b"], "kwargs": [{}]}) is None
    task = ifeval_task({"prompt": "x", "instruction_id_list": ["punctuation:no_comma"]})
    assert isinstance(task, InstructionTask) and task.kwargs == [{}]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"min_constraints": 3, "max_constraints": 2}, "min_constraints"),
        ({"max_constraints": 0}, "max_constraints"),
        ({"instructions": ["no:such"]}, "instructions"),
        ({"reward_mode": "mean"}, "reward_mode"),
        ({"split": "test"}, "split"),
        ({"dataset": "x.jsonl", "min_constraints": 2}, "min_constraints"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_config_errors_name_the_field(options, field):
    with pytest.raises(envs.ConfigError, match=field):
        gymnasium.make(ID, **options)


def test_source_is_procedural_by_default():
    source = InstructionSource()
    assert source.size is None and source.skipped == ()
    assert source.get(4) == source.get(4)


# --- IFBench -----------------------------------------------------------------------------


def test_loader_reads_ifbench_records_with_its_none_filled_kwargs(tmp_path):
    from rlvr.envs.instruction_following.env import load_ifbench

    path = tmp_path / "ifbench.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in IFBENCH_ROWS) + "\n")
    records = load_ifbench(str(path))
    assert records.skipped == ()
    assert [t.kwargs for t in records.tasks] == [[{"N": 2}, {}], [{"sep": "SEPARATOR"}]]
    env = gymnasium.make(ID, dataset=str(path))
    env.reset(options={"index": 0})
    assert env.step("I woke at 7 and slept at 11.")[1] == 1.0
    env.reset(options={"index": 0})
    assert env.step("I woke at 7, slept at 11 and dreamt of 3.")[1] == 0.0
    env.reset(options={"index": 1})
    assert env.step("SEPARATOR apple\nSEPARATOR pear")[1] == 1.0


def test_generated_tasks_may_draw_ifbench_ids_and_their_reference_scores_the_max():
    from rlvr.envs.instruction_following.prompts import IFBENCH_GENERATED

    env = gymnasium.make(ID, instructions=list(IFBENCH_GENERATED), min_constraints=1, max_constraints=2)
    seen = set()
    for seed in range(30):
        _, info = env.reset(seed=seed)
        task = info["task"]
        seen.update(task.instruction_ids)
        assert env.step(task.reference_answer())[1] == 1.0
    assert seen <= set(IFBENCH_GENERATED) and len(seen) >= 6


def test_ifbench_ids_the_generator_cannot_make_are_a_config_error_naming_them():
    with pytest.raises(envs.ConfigError, match="words:palindrome"):
        gymnasium.make(ID, instructions=["words:palindrome"])
