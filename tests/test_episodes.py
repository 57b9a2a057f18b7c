"""Episode collection on real envs with the tiny model."""

import pytest

from rlvr import envs
from rlvr.trainers.models.policy import build_tiny_model
from rlvr.trainers.rollout.engines import RolloutEngine, SamplingParams, make_engine
from rlvr.trainers.rollout.episodes import PromptRenderer, collect_episodes


class ScriptedEngine:
    """A rollout engine that answers from a list: it stands in for the model's choices, not for any checked part."""

    def __init__(self, tokenizer, replies):
        self.tokenizer, self.replies, self.calls = tokenizer, list(replies), []

    def generate(self, prompts, params):
        self.calls.append([list(p) for p in prompts])
        reply = self.replies.pop(0)
        tokens = [*self.tokenizer(reply, add_special_tokens=False)["input_ids"], self.tokenizer.eos_token_id]
        return [tokens] * len(prompts)

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
