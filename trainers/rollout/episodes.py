"""Episodes: prompts from a registered env, completions from the engine, rewards from the env.

For each prompt seed, G env copies are reset with that seed (so they pose the
same task), the engine samples one completion per copy, and each copy is
stepped with its completion. A multi-turn env answers with feedback, which is
tokenized and appended to the context; the engine continues from there. Every
token the model generated has loss mask 1; prompt and feedback tokens have 0.

An episode's reward is the env's to give: ``TextEnv.episode_reward`` combines
the turns' rewards by the env's rule (the last turn's, or the last turn's
discounted per extra turn), never their sum, which would pay more for solving
at the second try than at the first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from rlvr.envs.core.text_env import TextEnv, step_batch
from rlvr.trainers.rollout.engines import Completion, RolloutEngine, SamplingParams

__all__ = ["Episode", "PromptRenderer", "PromptTooLongError", "collect_episodes"]


@dataclass
class Episode:
    """One sampled episode.

    Attributes:
        group: index of its prompt within the batch; episodes of a group share a task.
        seed: the env seed that chose the task.
        token_ids: prompt, completions and feedback, in order.
        loss_mask: 1 on model-generated tokens, 0 elsewhere (same length as token_ids).
        reward: the episode's reward, the env's combination of ``turn_rewards``
            (``TextEnv.episode_reward``: by default the last turn's); None if
            any turn could not be judged.
        turns: completions made.
        stopped: the last completion ended with EOS or a stop string (else it hit max_new_tokens).
        status: the last step's status (``ok``, ``wrong``, ...).
        scores: the last step's value per rubric criterion.
        completions: the decoded completions.
        done: the env ended the episode (terminated or truncated).
        turn_tokens: tokens the model generated in each turn (they sum to ``completion_tokens``).
        turn_rewards: each turn's step reward (None where it could not be judged).
        sampler_logprobs: aligned with ``token_ids``: on each generated token,
            the natural-log probability the sampler gave it under the
            distribution it drew from (``Completion.logprobs``); 0.0 on prompt
            and feedback tokens. None unless ``SamplingParams.logprobs``.
        env: which env of a mixture the episode is from (its name in metrics), set by the trainer.
        reset_options: the options its env was reset with (a curriculum's level, say).
        tool_calls: tool calls the model made (malformed attempts included); None when the env has no tools.
    """

    group: int
    seed: int
    token_ids: list[int]
    loss_mask: list[int]
    reward: float | None = 0.0
    turns: int = 0
    stopped: bool = False
    status: str = ""
    scores: dict[str, float | None] = field(default_factory=dict)
    completions: list[str] = field(default_factory=list)
    done: bool = False
    turn_tokens: list[int] = field(default_factory=list)
    turn_rewards: list[float | None] = field(default_factory=list)
    sampler_logprobs: list[float] | None = None
    env: str = ""
    reset_options: dict[str, Any] = field(default_factory=dict)
    tool_calls: int | None = None

    @property
    def completion_tokens(self) -> int:
        """Tokens the model generated in this episode."""
        return sum(self.loss_mask)


class PromptTooLongError(ValueError):
    """A prompt (with room for the completion) longer than the model's context; the message gives both lengths."""


class PromptRenderer:
    """Env prompts and feedback as token ids, with or without the tokenizer's chat template.

    Args:
        tokenizer: a transformers tokenizer.
        use_chat_template: None picks the chat template when the tokenizer has one.
        context: the positions the model attends over (``models.policy.context_length``);
            None checks nothing.
        reserve: tokens kept free after every prompt and feedback for the
            completion (the trainer's ``max_new_tokens``).
        source: what the prompts come from (the env id), for the error message.

    A first prompt that leaves fewer than ``reserve`` positions raises
    ``PromptTooLongError``: a model that cannot see its prompt would be trained
    on a reward it has no way to earn. In a multi-turn episode, feedback that
    would leave no room ends the episode at that turn (``collect_episodes``).
    """

    def __init__(
        self,
        tokenizer: Any,
        use_chat_template: bool | None = None,
        *,
        context: int | None = None,
        reserve: int = 0,
        source: str = "the env",
    ) -> None:
        self.tokenizer = tokenizer
        has_template = getattr(tokenizer, "chat_template", None) is not None
        self.chat = has_template if use_chat_template is None else use_chat_template
        if self.chat and not has_template:
            raise ValueError("use_chat_template=True but the tokenizer has no chat template")
        self.context = context
        self.reserve = reserve
        self.source = source

    @classmethod
    def for_model(
        cls,
        model: Any,
        tokenizer: Any,
        use_chat_template: bool | None,
        max_new_tokens: int,
        source: str = "the env",
    ) -> PromptRenderer:
        """A renderer that refuses prompts ``model`` cannot see with ``max_new_tokens`` left for the answer
        (its context from ``models.policy.context_length``)."""
        from rlvr.trainers.models.policy import context_length

        context = context_length(model, tokenizer)
        return cls(tokenizer, use_chat_template, context=context, reserve=max_new_tokens, source=source)

    def prompt(
        self,
        text: str,
        messages: list[dict[str, str]],
        source: str | None = None,
        tools: list[dict[str, Any]] | None = None,
    ) -> list[int]:
        """Token ids of the first prompt: the chat rendering of ``messages`` (with ``tools`` for the template
        to list), or ``text`` (which lists them itself).

        ``source`` names the env in the error of a prompt too long (default: the renderer's ``source``).
        """
        if self.chat:
            rendered = self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, **_tools(tools)
            )
            ids = _ids(rendered)
        else:
            ids = list(self.tokenizer(text)["input_ids"])
        self.check_fits(len(ids), "a prompt", source)
        return ids

    def feedback(
        self,
        text: str,
        messages: list[dict[str, str]],
        new: int = 1,
        tools: list[dict[str, Any]] | None = None,
        closed: bool = True,
    ) -> list[int]:
        """Token ids that append the env's reply (the last ``new`` of ``messages``: feedback, tool results)
        to the context, up to the next assistant turn.

        With a chat template they are what the template writes after the model's last turn: the rest
        of that turn's closing text (``closed``: the model's tokens ended with the end-of-turn token,
        so only what the template puts after it, such as a newline, is added; otherwise the whole
        closing text), then the reply's messages and the next turn's opening. Without one, ``text``
        between newlines. Either way they are tokenized on their own and appended: what the model
        generated is never re-tokenized.
        """
        if self.chat:
            before = self.tokenizer.apply_chat_template(messages[:-new], tokenize=False, **_tools(tools))
            after = self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False, **_tools(tools)
            )
            suffix = after[len(before) :] if after.startswith(before) else after
            closing = self._turn_closing(before, messages[-new - 1] if len(messages) > new else None, closed)
            return list(self.tokenizer(closing + suffix, add_special_tokens=False)["input_ids"])
        return list(self.tokenizer("\n" + text + "\n", add_special_tokens=False)["input_ids"])

    def _turn_closing(self, rendered: str, turn: dict[str, str] | None, closed: bool) -> str:
        """The text a chat template writes after an assistant turn's content that the model's tokens lack.

        ``rendered`` ends with the assistant ``turn``. When the model ended its turn with the end-of-turn
        token and the template's closing text starts with it, the rest (``"\\n"`` after ``<|im_end|>``);
        when it did not end the turn itself, the whole closing text; "" when the template's closing cannot
        be told from its rendering.
        """
        if turn is None or turn.get("role") != "assistant" or not turn.get("content"):
            return ""
        at = rendered.rfind(turn["content"])
        if at < 0:
            return ""
        closing = rendered[at + len(turn["content"]) :]
        if not closed:
            return closing
        eos = self.tokenizer.eos_token
        return closing[len(eos) :] if eos and closing.startswith(eos) else ""

    def fits(self, tokens: int) -> bool:
        """Whether a context of ``tokens`` leaves ``reserve`` positions for the completion."""
        return self.context is None or tokens + self.reserve <= self.context

    def check_fits(self, tokens: int, what: str, source: str | None = None) -> None:
        """Raise ``PromptTooLongError`` when ``tokens`` plus ``reserve`` exceed ``context``."""
        if self.fits(tokens):
            return
        raise PromptTooLongError(
            f"{what} of {source or self.source} is {tokens} tokens; with max_new_tokens={self.reserve} it needs "
            f"{tokens + self.reserve} positions, but the model sees {self.context}. Use a model with a longer "
            "context, a smaller max_new_tokens, or env options that give shorter prompts"
        )


def _tools(tools: list[dict[str, Any]] | None) -> dict[str, Any]:
    """``apply_chat_template``'s ``tools`` keyword, given only when there are tools."""
    return {"tools": tools} if tools else {}


def _ids(rendered: Any) -> list[int]:
    if isinstance(rendered, dict) or hasattr(rendered, "keys"):
        rendered = rendered["input_ids"]
    return list(rendered)


def collect_episodes(
    envs: Sequence[gym.Env],
    seeds: Sequence[int],
    engine: RolloutEngine,
    renderer: PromptRenderer,
    params: SamplingParams,
    options: Sequence[dict[str, Any] | None] | None = None,
    max_episode_tokens: int | None = None,
) -> list[Episode]:
    """Run one batch of episodes: ``len(envs) // len(seeds)`` copies per seed.

    Args:
        envs: env instances, ``len(seeds) * G`` of them; copy ``j`` of prompt
            ``i`` is ``envs[i * G + j]``.
        seeds: one env seed per prompt.
        engine: samples completions.
        renderer: turns prompts and feedback into tokens.
        params: sampling settings; ``params.seed`` (if set) is offset by the
            turn's index (0, 1, ...), the other fields are kept.
            ``params.logprobs`` fills ``Episode.sampler_logprobs``.
        options: per prompt, the options its copies are reset with (``reset(options=...)``); None: none.
        max_episode_tokens: most tokens the model may generate in one episode, over all its turns: a turn
            that would pass it is cut there (finish reason ``length``, as at ``max_new_tokens``) and the
            episode ends after it. None: only the turns, the context and the env end an episode.

    Returns:
        The episodes, in the same order as ``envs``. Each one's reward is its
        env's ``episode_reward`` of the turns' rewards.
    """
    if len(envs) % len(seeds):
        raise ValueError(f"{len(envs)} envs cannot be split into {len(seeds)} equal groups")
    group_size = len(envs) // len(seeds)
    episodes = []
    prompt_ids: dict[int, list[int]] = {}  # the copies of a group share one prompt: tokenize it once
    for index, env in enumerate(envs):
        group = index // group_size
        reset_options = dict((options[group] if options is not None else None) or {})
        text, info = env.reset(seed=int(seeds[group]), options=reset_options or None)
        if group not in prompt_ids:
            source = env.spec.id if env.spec else None
            prompt_ids[group] = renderer.prompt(text, info["messages"], source, info.get("tools"))
        ids = list(prompt_ids[group])
        logprobs = [0.0] * len(ids) if params.logprobs else None
        episode = Episode(
            group, int(seeds[group]), ids, [0] * len(ids), sampler_logprobs=logprobs, reset_options=reset_options
        )
        episode.tool_calls = 0 if _text_env(env).toolbox is not None else None
        episodes.append(episode)

    turn = 0
    while active := [i for i, e in enumerate(episodes) if not e.done]:
        turn_params = params if params.seed is None else dataclasses.replace(params, seed=params.seed + turn)
        completions = engine.sample([episodes[i].token_ids for i in active], turn_params)
        if max_episode_tokens is not None:
            completions = [
                _within(c, max_episode_tokens - episodes[i].completion_tokens)
                for i, c in zip(active, completions, strict=True)
            ]
        texts = [renderer.tokenizer.decode(c.token_ids, skip_special_tokens=True) for c in completions]
        results = step_batch([envs[i] for i in active], texts)  # each rubric judges its completions as a batch
        for i, completion, text, result in zip(active, completions, texts, results, strict=True):
            _record(episodes[i], completion, text, result, renderer, _text_env(envs[i]))
            if max_episode_tokens is not None and episodes[i].completion_tokens >= max_episode_tokens:
                episodes[i].done = True  # the episode's budget is spent, as a time limit would end it
        turn += 1
    return episodes


def _within(completion: Completion, budget: int) -> Completion:
    """``completion`` cut to its first ``budget`` tokens, as if the budget had been its ``max_new_tokens``."""
    if len(completion.token_ids) <= budget:
        return completion
    logprobs = completion.logprobs[:budget] if completion.logprobs is not None else None
    return Completion(list(completion.token_ids[:budget]), logprobs, "length")


def _record(
    episode: Episode,
    completion: Completion,
    text: str,
    result: tuple[str, float | None, bool, bool, dict[str, Any]],
    renderer: PromptRenderer,
    env: TextEnv,
) -> None:
    """Add one turn (its completion and the env's step result) to ``episode``."""
    tokens = completion.token_ids
    episode.token_ids += tokens
    episode.loss_mask += [1] * len(tokens)
    if episode.sampler_logprobs is not None:
        if completion.logprobs is None:
            raise ValueError("params.logprobs is set but the engine returned no log-probs")
        episode.sampler_logprobs += completion.logprobs
    episode.turn_tokens.append(len(tokens))
    episode.completions.append(text)
    episode.turns += 1
    episode.stopped = completion.finish_reason == "stop"
    observation, reward, terminated, truncated, info = result
    episode.turn_rewards.append(None if reward is None else float(reward))
    episode.reward = env.episode_reward(episode.turn_rewards)
    episode.status = info["status"]
    episode.scores = {name: score.value for name, score in info["score"].items()}
    if "tool_calls" in info:
        episode.tool_calls = (episode.tool_calls or 0) + len(info["tool_calls"])
    if terminated or truncated:
        episode.done = True
        return
    eos = renderer.tokenizer.eos_token_id
    closed = bool(tokens) and tokens[-1] == eos  # the model ended its turn itself
    feedback = renderer.feedback(observation, info["messages"], info.get("new_messages", 1), info.get("tools"), closed)
    if not renderer.fits(len(episode.token_ids) + len(feedback)):
        episode.done = True  # no room for another turn: the episode ends here, as a time limit would end it
        return
    episode.token_ids += feedback
    episode.loss_mask += [0] * len(feedback)
    if episode.sampler_logprobs is not None:
        episode.sampler_logprobs += [0.0] * len(feedback)


def _text_env(env: gym.Env) -> TextEnv:
    """The ``TextEnv`` inside ``env``'s gymnasium wrappers."""
    unwrapped = env.unwrapped
    if not isinstance(unwrapped, TextEnv):
        raise TypeError(f"episodes are collected from text envs, got {type(unwrapped).__name__}")
    return unwrapped
