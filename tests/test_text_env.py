"""TextEnv behaviour, on a small word-reversal family built here from real parts."""

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlvr.envs.core.task import DatasetSource, FunctionSource, Task
from rlvr.envs.core.templates import PromptTemplate
from rlvr.envs.core.text_env import (
    EnvConfig,
    TextEnv,
    combine_turn_rewards,
    retry_feedback,
    rubric_key,
    step_batch,
)
from rlvr.envs.core.tools import Tool
from rlvr.verifiers import AnswerFormat, Rubric, Score, Status


class WordTask(Task):
    answer: str


def make_word(rng: random.Random) -> WordTask:
    word = "".join(rng.choice("abcdef") for _ in range(6))
    return WordTask(question=f"Reverse {word}", answer=word[::-1])


def exact(completion: str, task: WordTask) -> Score:
    if completion.strip() == task.answer:
        return Score.correct()
    return Score.fail(Status.WRONG)


TEMPLATE = PromptTemplate(name="plain", answer_format=AnswerFormat.LAST_NUMBER, user="{question}")
RUBRIC = Rubric({"accuracy": (exact, 1.0)})


def make_env(**config) -> TextEnv:
    return TextEnv(FunctionSource(make_word), RUBRIC, TEMPLATE, EnvConfig(**config))


def test_same_seed_same_task_for_every_copy():
    prompts = {make_env().reset(seed=11)[0] for _ in range(8)}
    assert len(prompts) == 1


def test_different_seeds_and_unseeded_resets_vary():
    env = make_env()
    assert len({env.reset(seed=s)[0] for s in range(20)}) > 10
    env.reset(seed=0)
    assert len({env.reset()[0] for _ in range(20)}) > 10


def test_reset_info_has_task_messages_and_index():
    env = make_env()
    prompt, info = env.reset(seed=1)
    assert isinstance(info["task"], WordTask)
    assert info["messages"] == [{"role": "user", "content": prompt}]
    assert info["task"] == env.source.get(info["index"])


def test_index_option_picks_a_dataset_item():
    tasks = [WordTask(question=f"Reverse w{i}", answer=f"{i}w") for i in range(5)]
    env = TextEnv(DatasetSource(tasks), RUBRIC, TEMPLATE)
    assert env.reset(options={"index": 3})[0] == "Reverse w3"
    with pytest.raises(IndexError):
        env.reset(options={"index": 5})
    with pytest.raises(TypeError):
        env.reset(options={"index": "3"})


def test_seeded_reset_on_a_dataset_stays_in_range():
    tasks = [WordTask(question=f"Reverse w{i}", answer=f"{i}w") for i in range(3)]
    env = TextEnv(DatasetSource(tasks), RUBRIC, TEMPLATE)
    assert {env.reset(seed=s)[1]["index"] for s in range(30)} == {0, 1, 2}


def test_single_turn_step_scores_and_terminates():
    env = make_env()
    _, info = env.reset(seed=2)
    obs, reward, terminated, truncated, step_info = env.step(info["task"].answer)
    assert (obs, reward, terminated, truncated) == ("", 1.0, True, False)
    assert step_info["score"]["accuracy"].status is Status.OK
    assert step_info["status"] == "ok"
    assert step_info["messages"][-1] == {"role": "assistant", "content": info["task"].answer}


def test_wrong_answer_reports_status():
    env = make_env()
    env.reset(seed=2)
    _, reward, terminated, _, info = env.step("nope")
    assert reward == 0.0 and terminated
    assert info["status"] == "wrong"


def test_step_before_reset_or_after_the_end_is_an_error():
    env = make_env()
    with pytest.raises(RuntimeError, match="reset"):
        env.step("x")
    env.reset(seed=0)
    env.step("x")
    with pytest.raises(RuntimeError, match="reset"):
        env.step("x")


def test_non_text_action_is_a_type_error():
    env = make_env()
    env.reset(seed=0)
    with pytest.raises(TypeError, match="str"):
        env.step(42)


def test_oversized_completion_is_scored_not_rejected():
    env = make_env(max_completion_chars=10)
    env.reset(seed=0)
    _, reward, terminated, _, _ = env.step("z" * 100_000)
    assert reward == 0.0 and terminated


def test_prompt_longer_than_the_space_is_a_clear_error():
    env = make_env(max_prompt_chars=5)
    with pytest.raises(ValueError, match="max_prompt_chars"):
        env.reset(seed=0)


def test_multi_turn_feedback_becomes_the_next_observation_until_solved():
    env = make_env(max_turns=3)
    _, info = env.reset(seed=4)
    obs, reward, terminated, truncated, step_info = env.step("wrong")
    assert obs == "Your answer was not accepted (wrong). Please try again."
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert [m["role"] for m in step_info["messages"]] == ["user", "assistant", "user"]
    obs, reward, terminated, truncated, step_info = env.step(info["task"].answer)
    assert (obs, reward, terminated, truncated) == ("", 1.0, True, False)
    assert step_info["turn"] == 2


def test_multi_turn_truncates_at_max_turns():
    env = make_env(max_turns=2)
    env.reset(seed=4)
    assert env.step("wrong")[2:4] == (False, False)
    _, _, terminated, truncated, info = env.step("still wrong")
    assert (terminated, truncated) == (False, True)
    assert info["turn"] == 2


def test_custom_feedback_function_drives_the_conversation():
    def hint(task, completion, result):
        return None if result.status is Status.OK else f"Hint: it starts with {task.answer[0]}"

    env = TextEnv(FunctionSource(make_word), RUBRIC, TEMPLATE, EnvConfig(max_turns=4), feedback=hint)
    _, info = env.reset(seed=5)
    assert env.step("?")[0] == f"Hint: it starts with {info['task'].answer[0]}"


def test_retry_feedback_stops_when_every_criterion_is_ok():
    result = RUBRIC.score("abc", WordTask(question="q", answer="abc"))
    assert retry_feedback(WordTask(question="q", answer="abc"), "abc", result) is None


def test_reward_is_none_when_a_verifier_crashes():
    def broken(completion, task):
        raise RuntimeError("checker bug")

    env = TextEnv(FunctionSource(make_word), Rubric({"accuracy": (broken, 1.0)}), TEMPLATE)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("x")
    assert reward is None and terminated
    assert info["status"] == "verifier_error"


def test_reward_range_comes_from_the_rubric():
    rubric = Rubric({"accuracy": (exact, 1.0), "style": (exact, 0.5)})
    env = TextEnv(FunctionSource(make_word), rubric, TEMPLATE)
    assert env.reward_range == (0.0, 1.5)


def test_ansi_render_shows_the_conversation():
    env = TextEnv(FunctionSource(make_word), RUBRIC, TEMPLATE, render_mode="ansi")
    prompt, _ = env.reset(seed=0)
    env.step("my answer")
    assert env.render() == f"[user]\n{prompt}\n\n[assistant]\nmy answer"
    with pytest.raises(ValueError, match="render_mode"):
        TextEnv(FunctionSource(make_word), RUBRIC, TEMPLATE, render_mode="human")


def test_env_config_names_a_bad_field():
    with pytest.raises(Exception, match="max_turns"):
        EnvConfig(max_turns=0)


def test_step_batch_gives_what_step_gives_for_every_env():
    envs, copies = [make_env(max_turns=2) for _ in range(6)], [make_env(max_turns=2) for _ in range(6)]
    actions = []
    for index, (env, copy) in enumerate(zip(envs, copies, strict=True)):
        _, info = env.reset(seed=index // 2)
        copy.reset(seed=index // 2)
        actions.append(info["task"].answer if index % 2 else "wrong")
    batched = step_batch(envs, actions)
    one_by_one = [copy.step(action) for copy, action in zip(copies, actions, strict=True)]
    assert [result[:4] for result in batched] == [result[:4] for result in one_by_one]
    assert [result[4]["messages"] for result in batched] == [result[4]["messages"] for result in one_by_one]


def test_step_batch_judges_each_rubrics_completions_together():
    calls = []

    class Recording:
        def __call__(self, completion, task):
            return exact(completion, task)

        def score_batch(self, completions, tasks):
            calls.append(len(completions))
            return [exact(c, t) for c, t in zip(completions, tasks, strict=True)]

    shared = Rubric({"accuracy": (Recording(), 1.0)})
    envs = [TextEnv(FunctionSource(make_word), shared, TEMPLATE) for _ in range(4)] + [make_env()]
    for env in envs:
        env.reset(seed=0)
    step_batch(envs, ["a"] * 5)
    assert calls == [4]  # one batch for the four envs of one rubric; the fifth has a rubric of its own


def test_copies_of_one_registered_env_are_judged_as_one_batch(monkeypatch):
    """The G x prompts envs of a training step are separate gymnasium.make copies: one batch, not one per copy."""
    from rlvr import envs as registry
    from rlvr.verifiers.rubric import Rubric as RubricClass

    copies = [registry.make("rlvr/Math-v0", template="boxed") for _ in range(6)]
    other = registry.make("rlvr/Math-v0", template="r1")
    assert len({rubric_key(env) for env in copies}) == 1 and rubric_key(other) != rubric_key(copies[0])
    batches = []
    original = RubricClass.score_batch

    def counting(self, completions, tasks):
        batches.append(len(completions))
        return original(self, completions, tasks)

    monkeypatch.setattr(RubricClass, "score_batch", counting)  # counts the calls; the judging is the real one
    answers = []
    for index, env in enumerate([*copies, other]):
        _, info = env.reset(seed=index)
        answers.append(f"\\boxed{{{info['task'].answer}}}")
    results = step_batch([*copies, other], answers)
    assert sorted(batches) == [1, 6]
    assert [r[1] for r in results[:6]] == [1.0] * 6


def test_step_batch_refuses_what_step_refuses():
    env = make_env()
    with pytest.raises(RuntimeError, match="reset"):
        step_batch([env], ["x"])
    env.reset(seed=0)
    with pytest.raises(ValueError, match="2 actions for 1 envs"):
        step_batch([env], ["x", "y"])
    with pytest.raises(TypeError, match="completion text"):
        step_batch([env], [3])


# --- an episode's reward from its turns' rewards ------------------------------------------------------------


def test_the_last_rule_gives_the_final_turns_reward():
    assert combine_turn_rewards([0.5, 1.0], "last", 0.9, 0.0) == 1.0
    assert combine_turn_rewards([1.0], "last", 0.9, 0.0) == 1.0
    assert combine_turn_rewards([1.0, 0.0], "last", 0.9, 0.0) == 0.0


def test_the_discounted_rule_moves_the_final_reward_toward_the_lowest_per_extra_turn():
    assert combine_turn_rewards([0.5, 1.0], "discounted", 0.5, 0.0) == 0.5
    assert combine_turn_rewards([0.0, 0.0, 1.0], "discounted", 0.5, 0.0) == 0.25
    assert combine_turn_rewards([0.0, 1.0], "discounted", 0.5, -1.0) == 0.0  # -1 + (1 - -1) * 0.5
    assert combine_turn_rewards([1.0, -1.0], "discounted", 0.5, -1.0) == -1.0  # a failure stays the lowest
    assert combine_turn_rewards([0.0, 1.0], "discounted", 1.0, 0.0) == 1.0


def test_an_unjudged_turn_leaves_the_episode_unjudged():
    for rule in ("last", "discounted"):
        assert combine_turn_rewards([None, 1.0], rule, 0.9, 0.0) is None
        assert combine_turn_rewards([1.0, None], rule, 0.9, 0.0) is None


def test_combine_turn_rewards_refuses_what_it_cannot_combine():
    with pytest.raises(ValueError, match="at least one turn"):
        combine_turn_rewards([], "last", 0.9, 0.0)
    with pytest.raises(ValueError, match="sum"):
        combine_turn_rewards([1.0], "sum", 0.9, 0.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="turn_discount"):
        combine_turn_rewards([1.0], "discounted", 0.0, 0.0)


bounds = st.tuples(st.floats(-10, 10), st.floats(0, 10)).map(lambda pair: (pair[0], pair[0] + pair[1]))


@given(
    bounds=bounds,
    shares=st.lists(st.floats(0, 1), min_size=1, max_size=8),
    rule=st.sampled_from(["last", "discounted"]),
    discount=st.floats(0.01, 1.0),
)
def test_episode_reward_stays_in_range_and_never_grows_with_the_turns_taken(bounds, shares, rule, discount):
    low, high = bounds
    rewards = [low + share * (high - low) for share in shares]
    reward = combine_turn_rewards(rewards, rule, discount, low)
    tolerance = 1e-9 * (1 + abs(low) + abs(high))
    assert low - tolerance <= reward <= high + tolerance
    slower = combine_turn_rewards([low, *rewards], rule, discount, low)  # the same final reward, one turn later
    assert slower <= reward + tolerance


def test_env_config_documents_and_checks_the_episode_reward_rule():
    assert EnvConfig().episode_reward == "last" and EnvConfig().turn_discount == 0.9
    for name in ("episode_reward", "turn_discount"):
        assert EnvConfig.model_fields[name].description
    with pytest.raises(Exception, match="episode_reward"):
        EnvConfig(episode_reward="sum")
    with pytest.raises(Exception, match="turn_discount"):
        EnvConfig(turn_discount=0.0)
    with pytest.raises(Exception, match="turn_discount"):
        EnvConfig(turn_discount=1.5)


def test_episode_reward_applies_the_envs_rule_from_its_lowest_reward():
    rubric = Rubric({"accuracy": (exact, 1.0), "style": (exact, -0.5)})  # rewards from -0.5 to 1.0
    config = EnvConfig(max_turns=3, episode_reward="discounted", turn_discount=0.5)
    env = TextEnv(FunctionSource(make_word), rubric, TEMPLATE, config)
    assert env.reward_range == (-0.5, 1.0)
    assert env.episode_reward([0.5]) == 0.5
    assert env.episode_reward([-0.5, 0.5]) == 0.0  # -0.5 + (0.5 + 0.5) * 0.5
    assert make_env(max_turns=3).episode_reward([0.0, 1.0]) == 1.0  # the default rule: the last turn's


# --- tools ------------------------------------------------------------------------------------------------------

REVERSE = Tool(
    name="reverse",
    description="Reverse a word.",
    parameters={"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]},
    function=lambda word: word[::-1],
)


def tool_env(**config) -> TextEnv:
    config = {"tools": ("reverse",), "max_turns": 3, **config}
    return TextEnv(FunctionSource(make_word), RUBRIC, TEMPLATE, EnvConfig(**config), tools={"reverse": REVERSE})


def call(name: str, **arguments) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def test_a_tool_call_is_run_and_its_result_is_the_next_observation():
    env = tool_env()
    prompt, info = env.reset(seed=3)
    assert "<tools>" in prompt and info["tools"] == [REVERSE.schema()]
    word = info["task"].question.split()[-1]
    observation, reward, terminated, truncated, step_info = env.step(call("reverse", word=word))
    assert observation == f"<tool_response>\n{word[::-1]}\n</tool_response>\n"
    assert (reward, terminated, truncated, step_info["status"], step_info["score"]) == (
        0.0,
        False,
        False,
        "tool_call",
        {},
    )
    assert step_info["messages"][-2:] == [
        {"role": "assistant", "content": call("reverse", word=word)},
        {"role": "tool", "name": "reverse", "content": word[::-1]},
    ]
    assert step_info["new_messages"] == 1 and step_info["tool_calls"] == [{"name": "reverse", "ok": True}]
    _, reward, terminated, _, final = env.step(word[::-1])  # the answer, without a tool call, ends it
    assert (reward, terminated, final["status"]) == (1.0, True, "ok")


def test_a_malformed_call_or_bad_arguments_are_observations_not_crashes():
    env = tool_env()
    env.reset(seed=1)
    observation, *_, info = env.step('<tool_call>{"name": "reverse", "arguments": </tool_call>')
    assert "error: malformed tool call" in observation and info["status"] == "tool_call"
    observation, *_ = env.step(call("reverse", letters="abc"))
    assert "error: bad arguments for reverse" in observation


def test_the_last_turn_is_judged_as_the_answer_even_with_a_tool_call():
    env = tool_env(max_turns=2)
    env.reset(seed=1)
    env.step(call("reverse", word="abc"))
    _, reward, terminated, truncated, info = env.step(call("reverse", word="abc"))
    assert reward == 0.0 and info["status"] == "wrong" and (terminated or truncated)


def test_step_batch_runs_tool_turns_and_judges_answers_as_step_does():
    actions = [call("reverse", word="abc"), "wrong answer", call("nope")]
    batched, single = [tool_env() for _ in actions], [tool_env() for _ in actions]
    for env in (*batched, *single):
        env.reset(seed=2)
    stepped = [env.step(action) for env, action in zip(single, actions, strict=True)]
    assert [r[:4] for r in step_batch(batched, actions)] == [r[:4] for r in stepped]
    assert [r[4]["status"] for r in stepped] == ["tool_call", "wrong", "tool_call"]


def test_tools_an_env_does_not_offer_or_without_a_turn_to_answer_are_refused():
    with pytest.raises(ValueError, match=r"not offered by this env; it offers \['reverse'\]"):
        tool_env(tools=("search",))
    with pytest.raises(ValueError, match="max_turns >= 2"):
        tool_env(max_turns=1)
