"""Episodes: prompts from a registered env, completions from the engine, rewards from the env.

For each prompt seed, G env copies are reset with that seed (so they pose the
same task), the engine samples one completion per copy, and each copy is
stepped with its completion. A multi-turn env answers with feedback, which is
tokenized and appended to the context; the engine continues from there. Every
token the model generated has loss mask 1; prompt and feedback tokens have 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from rlvr.envs.core.text_env import step_batch
from rlvr.trainers.rollout.engines import RolloutEngine, SamplingParams

__all__ = ["Episode", "PromptRenderer", "collect_episodes"]


@dataclass
class Episode:
    """One sampled episode.

    Attributes:
        group: index of its prompt within the batch; episodes of a group share a task.
        seed: the env seed that chose the task.
        token_ids: prompt, completions and feedback, in order.
        loss_mask: 1 on model-generated tokens, 0 elsewhere (same length as token_ids).
        reward: sum of the step rewards, or None if any step could not be judged.
        turns: completions made.
        stopped: the last completion ended with EOS (else it hit max_new_tokens).
        status: the last step's status (``ok``, ``wrong``, ...).
        scores: the last step's value per rubric criterion.
        completions: the decoded completions.
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

    @property
    def completion_tokens(self) -> int:
        """Tokens the model generated in this episode."""
        return sum(self.loss_mask)


class PromptRenderer:
    """Env prompts and feedback as token ids, with or without the tokenizer's chat template.

    Args:
        tokenizer: a transformers tokenizer.
        use_chat_template: None picks the chat template when the tokenizer has one.
    """

    def __init__(self, tokenizer: Any, use_chat_template: bool | None = None) -> None:
        self.tokenizer = tokenizer
        has_template = getattr(tokenizer, "chat_template", None) is not None
        self.chat = has_template if use_chat_template is None else use_chat_template
        if self.chat and not has_template:
            raise ValueError("use_chat_template=True but the tokenizer has no chat template")

    def prompt(self, text: str, messages: list[dict[str, str]]) -> list[int]:
        """Token ids of the first prompt: the chat rendering of ``messages``, or ``text``."""
        if self.chat:
            return _ids(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True))
        return list(self.tokenizer(text)["input_ids"])

    def feedback(self, text: str, messages: list[dict[str, str]]) -> list[int]:
        """Token ids that append the env's feedback (the last of ``messages``) to the context."""
        if self.chat:
            before = self.tokenizer.apply_chat_template(messages[:-1], tokenize=False)
            after = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            suffix = after[len(before) :] if after.startswith(before) else after
            return list(self.tokenizer(suffix, add_special_tokens=False)["input_ids"])
        return list(self.tokenizer("\n" + text + "\n", add_special_tokens=False)["input_ids"])


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
) -> list[Episode]:
    """Run one batch of episodes: ``len(envs) // len(seeds)`` copies per seed.

    Args:
        envs: env instances, ``len(seeds) * G`` of them; copy ``j`` of prompt
            ``i`` is ``envs[i * G + j]``.
        seeds: one env seed per prompt.
        engine: samples completions.
        renderer: turns prompts and feedback into tokens.
        params: sampling settings; ``params.seed`` (if set) is offset per turn.

    Returns:
        The episodes, in the same order as ``envs``.
    """
    if len(envs) % len(seeds):
        raise ValueError(f"{len(envs)} envs cannot be split into {len(seeds)} equal groups")
    group_size = len(envs) // len(seeds)
    episodes = []
    prompt_ids: dict[int, list[int]] = {}  # the copies of a group share one prompt: tokenize it once
    for index, env in enumerate(envs):
        group = index // group_size
        text, info = env.reset(seed=int(seeds[group]))
        if group not in prompt_ids:
            prompt_ids[group] = renderer.prompt(text, info["messages"])
        ids = list(prompt_ids[group])
        episodes.append(Episode(group=group, seed=int(seeds[group]), token_ids=ids, loss_mask=[0] * len(ids)))

    eos_ids = _eos_ids(renderer.tokenizer)
    turn = 0
    while active := [i for i, e in enumerate(episodes) if not e.done]:
        turn_params = params
        if params.seed is not None:
            turn_params = SamplingParams(params.max_new_tokens, params.temperature, params.top_p, params.seed + turn)
        completions = engine.generate([episodes[i].token_ids for i in active], turn_params)
        texts = [renderer.tokenizer.decode(tokens, skip_special_tokens=True) for tokens in completions]
        results = step_batch([envs[i] for i in active], texts)  # each rubric judges its completions as a batch
        for i, tokens, text, result in zip(active, completions, texts, results, strict=True):
            _record(episodes[i], tokens, text, result, renderer, eos_ids)
        turn += 1
    return episodes


def _record(
    episode: Episode,
    tokens: list[int],
    text: str,
    result: tuple[str, float | None, bool, bool, dict[str, Any]],
    renderer: PromptRenderer,
    eos_ids: set[int],
) -> None:
    """Add one turn (its completion and the env's step result) to ``episode``."""
    episode.token_ids += tokens
    episode.loss_mask += [1] * len(tokens)
    episode.completions.append(text)
    episode.turns += 1
    episode.stopped = bool(tokens) and tokens[-1] in eos_ids
    observation, reward, terminated, truncated, info = result
    episode.reward = None if reward is None or episode.reward is None else episode.reward + float(reward)
    episode.status = info["status"]
    episode.scores = {name: score.value for name, score in info["score"].items()}
    if terminated or truncated:
        episode.done = True
        return
    feedback = renderer.feedback(observation, info["messages"])
    episode.token_ids += feedback
    episode.loss_mask += [0] * len(feedback)


def _eos_ids(tokenizer: Any) -> set[int]:
    eos = tokenizer.eos_token_id
    return set(eos) if isinstance(eos, list) else {eos}
