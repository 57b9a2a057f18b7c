"""Episode collection on real envs with the tiny model."""

import dataclasses

import pytest
import torch

from rlvr import envs
from rlvr.trainers.models.logprobs import pad_batch, token_logprobs
from rlvr.trainers.models.policy import build_tiny_model
from rlvr.trainers.rollout.engines import Completion, RolloutEngine, SamplingParams, make_engine
from rlvr.trainers.rollout.episodes import PromptRenderer, PromptTooLongError, collect_episodes


class ScriptedEngine:
    """A rollout engine that answers from a list: it stands in for the model's choices, not for any checked part.

    Each reply ends with EOS; asked for log-probs, it gives -0.5 per token.
    """

    def __init__(self, tokenizer, replies):
        self.tokenizer, self.replies, self.calls, self.params = tokenizer, list(replies), [], []

    def sample(self, prompts, params):
        self.calls.append([list(p) for p in prompts])
        self.params.append(params)
        reply = self.replies.pop(0)
        tokens = [*self.tokenizer(reply, add_special_tokens=False)["input_ids"], self.tokenizer.eos_token_id]
        logprobs = [-0.5] * len(tokens) if params.logprobs else None
        return [Completion(tokens, logprobs, "stop") for _ in prompts]

    def generate(self, prompts, params):
        return [c.token_ids for c in self.sample(prompts, params)]

    def update_weights(self, model):
        pass


@pytest.fixture(scope="module")
def tiny():
    return build_tiny_model(seed=0)


def test_groups_share_a_task_and_rewards_come_from_the_env(tiny):
    model, tokenizer = tiny
    engine: RolloutEngine = make_engine("hf", model, tokenizer)
    pool = [envs.make("rlvr/Arithmetic-v0", level=1, template="equation") for _ in range(6)]
    episodes = collect_episodes(pool, [3, 4], engine, PromptRenderer(tokenizer), SamplingParams(6, seed=0))
    assert [e.group for e in episodes] == [0, 0, 0, 1, 1, 1]
    assert len({tuple(e.token_ids[: e.loss_mask.index(1)]) for e in episodes[:3]}) == 1
    for episode in episodes:
        assert episode.reward in (0.0, 1.0)
        assert len(episode.loss_mask) == len(episode.token_ids)
        assert episode.turns == 1 and episode.done


def test_prompt_tokens_are_masked_and_completion_tokens_are_not(tiny):
    _, tokenizer = tiny
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation")
    prompt, _ = env.reset(seed=9)
    engine = ScriptedEngine(tokenizer, [" 12"])
    (episode,) = collect_episodes([env], [9], engine, PromptRenderer(tokenizer), SamplingParams(8))
    prompt_ids = tokenizer(prompt)["input_ids"]
    assert episode.token_ids[: len(prompt_ids)] == prompt_ids
    assert episode.loss_mask == [0] * len(prompt_ids) + [1] * 4  # " 12" and EOS
    assert episode.completions == [" 12"] and episode.stopped


def test_right_answer_scores_one(tiny):
    _, tokenizer = tiny
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation")
    _, info = env.reset(seed=5)
    engine = ScriptedEngine(tokenizer, [f" {info['task'].answer}"])
    (episode,) = collect_episodes([env], [5], engine, PromptRenderer(tokenizer), SamplingParams(8))
    assert episode.reward == 1.0 and episode.status == "ok"
    assert episode.scores == {"accuracy": 1.0}


def test_multi_turn_feedback_is_appended_and_masked_out(tiny):
    _, tokenizer = tiny
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation", max_turns=3)
    _, info = env.reset(seed=5)
    engine = ScriptedEngine(tokenizer, [" 0", f" {info['task'].answer}"])
    (episode,) = collect_episodes([env], [5], engine, PromptRenderer(tokenizer), SamplingParams(8))
    assert episode.turns == 2 and episode.reward == 1.0
    feedback = "\nYour answer was not accepted (wrong). Please try again.\n"
    text = tokenizer.decode(episode.token_ids)
    assert feedback in text
    feedback_ids = tokenizer(feedback, add_special_tokens=False)["input_ids"]
    second_call = engine.calls[1][0]
    assert second_call[-len(feedback_ids) :] == feedback_ids  # the model continues after the feedback
    start = len(second_call) - len(feedback_ids)
    assert episode.loss_mask[start : len(second_call)] == [0] * len(feedback_ids)
    assert sum(episode.loss_mask) == 2 + 1 + len(str(info["task"].answer)) + 2  # two completions with EOS


def test_chat_template_renders_messages():
    _, chat_tokenizer = build_tiny_model(seed=0)
    chat_tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    renderer = PromptRenderer(chat_tokenizer)
    assert renderer.chat
    ids = renderer.prompt("ignored", [{"role": "user", "content": "1 + 1 ="}])
    assert chat_tokenizer.decode(ids) == "<user>1 + 1 =\n<assistant>"
    messages = [
        {"role": "user", "content": "1 + 1 ="},
        {"role": "assistant", "content": " 3"},
        {"role": "user", "content": "try again"},
    ]
    assert chat_tokenizer.decode(renderer.feedback("try again", messages)) == "<user>try again\n<assistant>"


def test_chat_template_requested_without_one_is_an_error(tiny):
    _, tokenizer = tiny
    with pytest.raises(ValueError, match="chat template"):
        PromptRenderer(tokenizer, use_chat_template=True)


def r1_answer(answer, right=True):
    """An R1-format completion: think block, then the answer (or a wrong one) in answer tags."""
    return f" <think>adding up</think> <answer>{answer if right else answer + 1}</answer>"


def solve(tokenizer, replies_for, seed=5, **options):
    """One episode of Arithmetic in the R1 format (accuracy 1.0 + format 0.2) with up to 3 turns."""
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="r1", max_turns=3, **options)
    _, info = env.reset(seed=seed)
    engine = ScriptedEngine(tokenizer, replies_for(info["task"].answer))
    (episode,) = collect_episodes([env], [seed], engine, PromptRenderer(tokenizer), SamplingParams(64))
    return episode, env.unwrapped.reward_range


def test_a_later_solve_never_earns_more_than_a_solve_at_the_first_turn(tiny):
    # The second episode first earns the format's partial credit (0.2), then the full 1.2: summed, 1.4 would
    # beat answering right at once and leave the reward range.
    _, tokenizer = tiny
    at_once, (low, high) = solve(tokenizer, lambda answer: [r1_answer(answer)])
    later, _ = solve(tokenizer, lambda answer: [r1_answer(answer, right=False), r1_answer(answer)])
    assert (low, high) == (0.0, 1.2)
    assert at_once.turn_rewards == [pytest.approx(1.2)] and at_once.reward == pytest.approx(1.2)
    assert later.turn_rewards == [pytest.approx(0.2), pytest.approx(1.2)] and later.turns == 2
    assert later.reward == pytest.approx(1.2)  # the default rule: the last turn's reward
    assert low <= later.reward <= at_once.reward <= high

    discounted = {"episode_reward": "discounted", "turn_discount": 0.5}
    at_once, _ = solve(tokenizer, lambda answer: [r1_answer(answer)], **discounted)
    later, _ = solve(tokenizer, lambda answer: [r1_answer(answer, right=False), r1_answer(answer)], **discounted)
    third, _ = solve(tokenizer, lambda answer: [r1_answer(answer, right=False)] * 2 + [r1_answer(answer)], **discounted)
    assert at_once.reward == pytest.approx(1.2)
    assert later.reward == pytest.approx(0.6) and third.reward == pytest.approx(0.3)
    assert low <= third.reward < later.reward < at_once.reward <= high


def test_turn_tokens_and_rewards_are_kept_per_turn(tiny):
    _, tokenizer = tiny
    episode, _ = solve(tokenizer, lambda answer: [r1_answer(answer, right=False)] * 3)
    assert episode.turns == 3 and episode.done and episode.status == "wrong"
    assert episode.turn_rewards == [pytest.approx(0.2)] * 3 and episode.reward == pytest.approx(0.2)
    assert len(episode.turn_tokens) == 3 and sum(episode.turn_tokens) == episode.completion_tokens
    assert episode.turn_tokens == [len(tokenizer(text)["input_ids"]) + 1 for text in episode.completions]  # + EOS


def test_per_turn_seeds_keep_every_other_sampling_field(tiny):
    _, tokenizer = tiny
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation", max_turns=2)
    params = SamplingParams(8, 0.7, 0.9, seed=10, top_k=5, min_p=0.1, stop=("\n",), logprobs=True)
    engine = ScriptedEngine(tokenizer, [" x", " y"])
    collect_episodes([env], [5], engine, PromptRenderer(tokenizer), params)
    assert engine.params == [dataclasses.replace(params, seed=10), dataclasses.replace(params, seed=11)]


def test_sampler_logprobs_line_up_with_the_tokens_zero_outside_the_completions(tiny):
    _, tokenizer = tiny
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation", max_turns=2)
    engine = ScriptedEngine(tokenizer, [" 0", " 1"])
    renderer = PromptRenderer(tokenizer)
    (episode,) = collect_episodes([env], [5], engine, renderer, SamplingParams(8, logprobs=True))
    assert len(episode.sampler_logprobs) == len(episode.token_ids)
    assert [lp for lp, m in zip(episode.sampler_logprobs, episode.loss_mask, strict=True) if m] == [-0.5] * 6
    assert all(lp == 0.0 for lp, m in zip(episode.sampler_logprobs, episode.loss_mask, strict=True) if not m)
    (plain,) = collect_episodes([env], [5], ScriptedEngine(tokenizer, [" 0", " 1"]), renderer, SamplingParams(8))
    assert plain.sampler_logprobs is None


def test_sampler_logprobs_of_a_real_model_match_a_forward_over_the_whole_episode(tiny):
    model, tokenizer = tiny
    pool = [envs.make("rlvr/Arithmetic-v0", level=1, template="equation", max_turns=2) for _ in range(4)]
    params = SamplingParams(6, seed=0, logprobs=True)
    episodes = collect_episodes(pool, [3, 4], make_engine("hf", model, tokenizer), PromptRenderer(tokenizer), params)
    assert any(e.turns == 2 for e in episodes)  # feedback and a second completion inside the episode
    batch = pad_batch([e.token_ids for e in episodes], [e.loss_mask for e in episodes], tokenizer.pad_token_id)
    with torch.no_grad():
        logp, _ = token_logprobs(model, batch)
    for row, episode in enumerate(episodes):
        generated = torch.tensor(episode.loss_mask[1:]) > 0
        sampler = torch.tensor(episode.sampler_logprobs[1:])
        torch.testing.assert_close(sampler[generated], logp[row, : len(generated)][generated], atol=1e-5, rtol=0)
        assert episode.stopped == (episode.token_ids[len(episode.loss_mask) - 1] == tokenizer.eos_token_id)


def test_an_engine_without_the_logprobs_asked_for_is_an_error(tiny):
    _, tokenizer = tiny

    class Forgetful(ScriptedEngine):
        def sample(self, prompts, params):
            return [dataclasses.replace(c, logprobs=None) for c in super().sample(prompts, params)]

    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation")
    with pytest.raises(ValueError, match="log-probs"):
        collect_episodes(
            [env], [5], Forgetful(tokenizer, [" 1"]), PromptRenderer(tokenizer), SamplingParams(8, logprobs=True)
        )


def test_a_prompt_longer_than_the_context_is_refused_with_both_lengths(tiny):
    _, tokenizer = tiny
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation")
    prompt, _ = env.reset(seed=2)
    length = len(tokenizer(prompt)["input_ids"])
    renderer = PromptRenderer(tokenizer, context=length + 7, reserve=8, source="rlvr/Arithmetic-v0")
    with pytest.raises(PromptTooLongError) as refused:
        collect_episodes([env], [2], ScriptedEngine(tokenizer, [" 1"]), renderer, SamplingParams(8))
    said = str(refused.value)
    assert f"rlvr/Arithmetic-v0 is {length} tokens" in said
    assert f"needs {length + 8} positions, but the model sees {length + 7}" in said


def test_a_prompt_that_leaves_room_for_the_completion_is_accepted(tiny):
    _, tokenizer = tiny
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation")
    prompt, _ = env.reset(seed=2)
    length = len(tokenizer(prompt)["input_ids"])
    renderer = PromptRenderer(tokenizer, context=length + 8, reserve=8)
    (episode,) = collect_episodes([env], [2], ScriptedEngine(tokenizer, [" 1"]), renderer, SamplingParams(8))
    assert episode.turns == 1


def test_feedback_that_would_overflow_the_context_ends_the_episode_at_that_turn(tiny):
    _, tokenizer = tiny
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation", max_turns=3)
    prompt, _ = env.reset(seed=5)
    length = len(tokenizer(prompt)["input_ids"])
    renderer = PromptRenderer(tokenizer, context=length + 12, reserve=8)  # room for one turn, not for feedback
    engine = ScriptedEngine(tokenizer, [" 0", " 0"])
    (episode,) = collect_episodes([env], [5], engine, renderer, SamplingParams(8))
    assert episode.turns == 1 and episode.done
    assert len(engine.calls) == 1  # the model was never asked to continue past its context
    assert episode.reward == 0.0


class RawEngine:
    """A rollout engine that returns given token ids, so a test controls exactly what was 'sampled'."""

    def __init__(self, turns):
        self.turns, self.calls = list(turns), []

    def sample(self, prompts, params):
        self.calls.append([list(p) for p in prompts])
        tokens = self.turns.pop(0)
        return [Completion(list(tokens), None, "stop") for _ in prompts]

    def generate(self, prompts, params):
        return [c.token_ids for c in self.sample(prompts, params)]

    def update_weights(self, model):
        pass


TOOL_TEMPLATE = (
    "{% if tools %}<tools>{% for t in tools %}{{ t['function']['name'] }}{% endfor %}</tools>\n{% endif %}"
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</{{ m['role'] }}>\n{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


def test_tool_turns_keep_the_sampled_tokens_verbatim_and_append_the_templates_tool_messages_masked():
    _, tokenizer = build_tiny_model(seed=0)
    tokenizer.chat_template = TOOL_TEMPLATE
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation", tools=["calculator"])
    _, info = env.reset(seed=4)
    answer = info["task"].answer
    encode = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    eos = tokenizer.eos_token_id
    call_ids = [*encode('<tool_call>{"name": "calculator", "arguments": {"expression": "2 + 2"}}</tool_call>'), eos]
    # "<", "s", ">" as three character tokens: decoded and encoded again they would become the one token <s>
    answer_ids = [*encode("<"), *encode("s"), *encode(">"), *encode(f" {answer}"), eos]
    assert encode(tokenizer.decode(answer_ids[:3])) != answer_ids[:3]
    engine = RawEngine([call_ids, answer_ids])
    (episode,) = collect_episodes([env], [4], engine, PromptRenderer(tokenizer), SamplingParams(128))

    generated = [t for t, trained in zip(episode.token_ids, episode.loss_mask, strict=True) if trained]
    assert generated == call_ids + answer_ids  # exactly what was sampled, never rebuilt from text
    prompt = engine.calls[0][0]
    assert tokenizer.decode(prompt).startswith("<tools>calculator</tools>\n<user>")
    second = engine.calls[1][0]
    glue = second[len(prompt) + len(call_ids) :]
    assert tokenizer.decode(glue) == "<tool>4</tool>\n<assistant>"  # the template's tool message, then the turn
    assert episode.token_ids[: len(second)] == second and episode.loss_mask[
        len(prompt) + len(call_ids) : len(second)
    ] == [0] * len(glue)
    assert episode.turns == 2 and episode.reward == 1.0 and episode.status == "ok"


CLOSING_TEMPLATE = (  # each turn closes with the end-of-turn token and a newline, as ChatML's <|im_end|>\n
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


def test_the_tokens_of_a_tool_episode_are_the_templates_rendering_of_the_whole_conversation():
    _, tokenizer = build_tiny_model(seed=0)
    tokenizer.chat_template = CLOSING_TEMPLATE
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation", tools=["calculator"])
    _, info = env.reset(seed=4)
    encode = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    eos = tokenizer.eos_token_id
    call_ids = [*encode('<tool_call>{"name": "calculator", "arguments": {"expression": "2 + 2"}}</tool_call>'), eos]
    engine = RawEngine([call_ids, [*encode(f" {info['task'].answer}"), eos]])
    (episode,) = collect_episodes([env], [4], engine, PromptRenderer(tokenizer), SamplingParams(128))
    conversation = tokenizer.apply_chat_template(env.unwrapped._messages, tokenize=False)
    # the newline the template writes after the sampled end-of-turn token is glue, masked out
    assert tokenizer.decode(episode.token_ids) == conversation.removesuffix("\n")
    glue = engine.calls[1][0][len(engine.calls[0][0]) + len(call_ids) :]
    assert tokenizer.decode(glue) == "\n<tool>4</s>\n<assistant>"


def test_a_turn_cut_at_the_budget_gets_the_templates_whole_closing_before_the_reply():
    _, tokenizer = build_tiny_model(seed=0)
    tokenizer.chat_template = CLOSING_TEMPLATE
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation", tools=["calculator"])
    _, info = env.reset(seed=4)
    encode = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    cut = encode('<tool_call>{"name": "calculator", "arguments": {"expression": "2 + 2"}}</tool_call>')  # no EOS
    engine = RawEngine([cut, [*encode(f" {info['task'].answer}"), tokenizer.eos_token_id]])
    collect_episodes([env], [4], engine, PromptRenderer(tokenizer), SamplingParams(128))
    glue = engine.calls[1][0][len(engine.calls[0][0]) + len(cut) :]
    assert tokenizer.decode(glue) == "</s>\n<tool>4</s>\n<assistant>"


def test_sampler_logprobs_match_a_forward_over_whole_tool_episodes_with_a_tool_role_template(tmp_path):
    """A model that learned to call the calculator samples real tool episodes; the trainer's forward over each
    episode's tokens gives the sampler's log-probabilities for every generated token, in every turn."""
    from rlvr.trainers.algorithms.config import GRPOConfig
    from rlvr.trainers.pipelines.sft import cold_start

    model, tokenizer = build_tiny_model(seed=0)
    tokenizer.chat_template = CLOSING_TEMPLATE
    options = {"level": 1, "template": "equation", "tools": ["calculator"], "tool_prompt": "brief"}
    config = GRPOConfig(
        env="rlvr/Arithmetic-v0",
        env_options=options,
        output_dir=tmp_path,
        cold_start_steps=60,
        cold_start_batch_size=8,
        cold_start_learning_rate=1e-2,
        use_chat_template=True,
    )
    cold_start(model, tokenizer, config, progress=False)
    pool = [envs.make("rlvr/Arithmetic-v0", **options) for _ in range(8)]
    params = SamplingParams(96, temperature=1.0, seed=0, logprobs=True)
    renderer = PromptRenderer(tokenizer, True)
    episodes = collect_episodes(pool, list(range(8)), make_engine("hf", model, tokenizer), renderer, params)
    assert any(e.turns >= 2 for e in episodes), "some episodes called the tool and went on"
    batch = pad_batch([e.token_ids for e in episodes], [e.loss_mask for e in episodes], tokenizer.pad_token_id)
    with torch.no_grad():
        logp, _ = token_logprobs(model, batch)
    for row, episode in enumerate(episodes):
        generated = torch.tensor(episode.loss_mask[1:]) > 0
        sampler = torch.tensor(episode.sampler_logprobs[1:])
        torch.testing.assert_close(sampler[generated], logp[row, : len(generated)][generated], atol=1e-5, rtol=0)


def test_an_episode_budget_cuts_the_turn_that_reaches_it_and_ends_the_episode(tiny):
    _, tokenizer = tiny
    env = envs.make("rlvr/Arithmetic-v0", level=1, template="equation", max_turns=4)
    engine = ScriptedEngine(tokenizer, [" 9999", " 8888", " 7777"])  # 6 tokens a turn with EOS, always wrong
    params = SamplingParams(16, logprobs=True)
    (episode,) = collect_episodes([env], [5], engine, PromptRenderer(tokenizer), params, max_episode_tokens=8)
    assert episode.turns == 2 and episode.done and episode.completion_tokens == 8
    assert episode.turn_tokens == [6, 2] and not episode.stopped  # the second turn cut at the budget
    assert episode.completions[1] == " 8" and len(episode.sampler_logprobs) == len(episode.token_ids)
    (free,) = collect_episodes([env], [5], ScriptedEngine(tokenizer, [" 9999"] * 4), PromptRenderer(tokenizer), params)
    assert free.turns == 4
