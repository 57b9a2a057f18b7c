"""The text environment: a gymnasium.Env whose observations and actions are strings.

One episode is one task. ``reset`` picks the task and returns its prompt;
``step(completion)`` scores the model's completion with the rubric. A
single-turn family ends there (``terminated=True``). A multi-turn family gives
feedback (for example "not accepted, try again"), which becomes the next
observation, until the feedback function has nothing more to say
(``terminated``) or ``max_turns`` completions have been made (``truncated``).

A multi-turn episode's reward is one number made from its turns' rewards by
the rule the env's config names (``combine_turn_rewards``): the last turn's
reward (``last``, the default) or the last turn's discounted toward the lowest
reward per extra turn (``discounted``). Never their sum: a sum pays more for a
half-right answer followed by a right one than for the right answer at once,
and leaves the env's reward range.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import gymnasium as gym
from pydantic import BaseModel, ConfigDict, Field

from rlvr.envs.core.spaces import UnicodeText
from rlvr.envs.core.task import Task, TaskSource
from rlvr.envs.core.templates import PromptTemplate
from rlvr.envs.core.tools import Tool, ToolBox, tool_instructions
from rlvr.verifiers.rubric import Rubric, RubricResult
from rlvr.verifiers.score import Status

__all__ = [
    "EnvConfig",
    "EpisodeRewardRule",
    "Feedback",
    "TextEnv",
    "combine_turn_rewards",
    "retry_feedback",
    "rubric_key",
    "step_batch",
]

Feedback = Callable[[Task, str, RubricResult], "str | None"]
"""``(task, completion, result) -> next observation``, or None to end the episode."""

TOOL_THREADS = 16
"""Most envs whose tool calls, or remote steps, ``step_batch`` runs at once (the sandbox pool and the servers
bound their own share)."""

EpisodeRewardRule = Literal["last", "discounted"]
"""How a multi-turn episode's reward comes from its turns' rewards (see ``combine_turn_rewards``)."""


class EnvConfig(BaseModel):
    """Options every text environment takes (``gymnasium.make(id, max_turns=3)``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_turns: int = Field(1, ge=1, description="Completions per episode; the last ends it with truncated=True.")
    max_prompt_chars: int = Field(
        65_536, ge=1, description="Observation space bound, in characters; a longer prompt is an error."
    )
    max_completion_chars: int = Field(
        1 << 20, ge=1, description="Action space bound, in characters. Longer completions are still scored."
    )
    episode_reward: EpisodeRewardRule = Field(
        "last",
        description=(
            "How a multi-turn episode's reward comes from its turns' rewards: 'last' (the final turn's reward) or "
            "'discounted' (the final turn's reward, moved toward the lowest reward by turn_discount per extra turn). "
            "Never the sum, which would pay more for solving at a later turn than at the first."
        ),
    )
    tools: tuple[str, ...] = Field(
        (),
        description=(
            "Tools the model may call, by name (among those the env offers). A completion with tool calls gets "
            "their results as the next observation; one without ends the episode and is judged."
        ),
    )
    max_tool_calls: int = Field(8, ge=1, description="Tool calls per episode; later ones get an error result.")
    max_tool_output_chars: int = Field(2000, ge=1, description="Longest tool result the model reads; longer is cut.")
    tool_timeout: float = Field(5.0, gt=0, description="Seconds a tool call may take; a slower one is an error result.")
    tool_prompt: Literal["schemas", "brief"] = Field(
        "schemas",
        description=(
            "How the prompt lists the tools: 'schemas' (each tool's JSON schema, as chat templates list them) or "
            "'brief' (one line of names and arguments, for small models with short contexts)."
        ),
    )
    turn_discount: float = Field(
        0.9,
        gt=0.0,
        le=1.0,
        description=(
            "With episode_reward='discounted', the factor on (reward - lowest reward) per turn after the first: "
            "a solve at turn t earns lowest + (highest - lowest) * turn_discount ** (t - 1). 1 is the 'last' rule."
        ),
    )


def combine_turn_rewards(
    rewards: Sequence[float | None], rule: EpisodeRewardRule, discount: float, low: float
) -> float | None:
    """One episode's reward from its turns' rewards, in order.

    Args:
        rewards: each turn's step reward; None where a verifier could not judge.
        rule: ``last``: the final turn's reward. ``discounted``: the final
            turn's reward moved toward ``low`` by ``discount`` per turn after
            the first, ``low + (r_last - low) * discount ** (turns - 1)``.
        discount: in (0, 1]; used by ``discounted`` only.
        low: the lowest reward a turn can get (the env's ``reward_range[0]``).

    Returns:
        The episode's reward; None when any turn's reward is None (the episode
        should be skipped, as a single unjudged step is). With every reward in
        ``[low, high]`` the result is in ``[low, high]``, and for the same final
        reward it never grows with the number of turns (a later solve never
        earns more than an earlier one), whatever the sign of ``low``.

    Raises:
        ValueError: no rewards, an unknown rule, or a discount outside (0, 1].
    """
    if not rewards:
        raise ValueError("an episode has at least one turn")
    if rule not in ("last", "discounted"):
        raise ValueError(f"unknown episode_reward rule {rule!r}; choose 'last' or 'discounted'")
    if not 0.0 < discount <= 1.0:
        raise ValueError(f"turn_discount must be in (0, 1], got {discount}")
    judged = [float(reward) for reward in rewards if reward is not None]
    if len(judged) < len(rewards):
        return None
    last = judged[-1]
    if rule == "last":
        return last
    return low + (last - low) * discount ** (len(rewards) - 1)


def retry_feedback(task: Task, completion: str, result: RubricResult) -> str | None:
    """Multi-turn default: ask again until every criterion is met."""
    if result.status is Status.OK:
        return None
    return f"Your answer was not accepted ({result.status.value}). Please try again."


class TextEnv(gym.Env[str, str]):
    """A task family as a gymnasium environment.

    Args:
        source: gives the task for an index (``TaskSource``).
        rubric: turns (completion, task) into the reward.
        template: renders the task as a prompt.
        config: episode length and space bounds (``EnvConfig``).
        feedback: the next observation after a turn, or None to end the
            episode; only consulted when ``config.max_turns > 1``
            (default: ``retry_feedback``).
        render_mode: None or ``"ansi"`` (the conversation as text).
        tools: the tools the env offers, by name; ``config.tools`` picks the ones the model may call.

    ``reset(seed=..., options=...)`` returns ``(prompt, info)``; ``info`` holds
    ``task`` (the task record), ``messages`` (chat rendering) and ``index``.
    ``options={"index": i}`` picks task i; other options go to the source
    (Arithmetic understands ``level``).

    ``step(completion)`` returns ``(observation, reward, terminated, truncated,
    info)``; ``info["score"]`` maps each rubric criterion to its ``Score``
    (value, status, details), ``info["status"]`` is the first non-ok status,
    ``info["messages"]`` the conversation so far. ``reward`` is None when a
    verifier could not judge (the sample should be skipped, not trained on).

    ``reward`` is the turn's; ``episode_reward(turn_rewards)`` gives the
    episode's, by ``config.episode_reward``: the last turn's reward, or (with
    ``discounted``) the last turn's moved toward the lowest reward by
    ``config.turn_discount`` per extra turn. It stays in ``reward_range`` and a
    later solve never earns more than an earlier one; trainers take it rather
    than summing the turns.

    Tools (``config.tools``): the prompt text lists them (``tool_instructions``;
    ``info["tools"]`` holds their schemas, for a chat template's ``tools``). A
    completion that calls tools, with a turn left for the answer, is a tool turn
    (``tool_turn``): the calls are run (``ToolBox``) and their results are the
    next observation (``<tool_response>`` blocks; ``tool`` messages), with
    status ``tool_call``, no criterion scores and the lowest reward, which the
    episode's reward rule passes over. A completion without tool calls is the
    answer: the rubric judges it and the episode ends. When a tool's machinery
    fails (``ToolFault``: the sandbox behind the Python tool), the episode ends
    at once with reward None and status ``tool_error`` (``info["error"]`` says
    why): the model is neither paid nor blamed for it.

    A task may bring tools of its own (``Task.episode_tools``: FunctionCalling's
    listed functions in its executing mode), listed by its own prompt; and its
    answer may be judged with the episode's calls in view (``Task.judged_after``,
    ``judging_task``).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}  # noqa: RUF012  (gymnasium's own convention)
    remote = False
    """True for an env played on a server (``rlvr.envs.serving.remote``): its steps go there whole."""

    def __init__(
        self,
        source: TaskSource,
        rubric: Rubric,
        template: PromptTemplate,
        config: EnvConfig | None = None,
        feedback: Feedback | None = None,
        render_mode: str | None = None,
        tools: dict[str, Tool] | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.source = source
        self.rubric = rubric
        self.template = template
        self.config = config or EnvConfig()
        self.feedback = feedback if feedback is not None else retry_feedback
        self.render_mode = render_mode
        self.observation_space = UnicodeText(self.config.max_prompt_chars)
        self.action_space = UnicodeText(self.config.max_completion_chars)
        self.env_toolbox = self._toolbox(tools or {})
        """The env's tools (``config.tools``); None without."""
        self.toolbox = self.env_toolbox
        """The current episode's tools: the env's and the task's own (``Task.episode_tools``); None without."""
        self._tool_text = (
            tool_instructions(list(self.env_toolbox.tools.values()), self.config.tool_prompt)
            if self.env_toolbox
            else ""
        )
        self._calls: list[dict[str, Any]] = []
        self.task: Task | None = None
        self._messages: list[dict[str, str]] = []
        self._turn = 0
        self._done = True

    @property
    def reward_range(self) -> tuple[float, float]:
        """Lowest and highest reward of one step (from the rubric's weights)."""
        return self.rubric.reward_range

    def episode_reward(self, turn_rewards: Sequence[float | None]) -> float | None:
        """The episode's reward from its turns' step rewards, in order, by ``config.episode_reward``.

        See ``combine_turn_rewards``; the lowest reward is ``reward_range[0]``.
        None when any turn's reward is None.
        """
        config = self.config
        return combine_turn_rewards(turn_rewards, config.episode_reward, config.turn_discount, self.reward_range[0])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        index = options.pop("index", None)
        if index is None:
            size = self.source.size
            index = int(self.np_random.integers(size if size is not None else 2**63 - 1))
        elif not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"options['index'] must be an int, got {type(index).__name__}")
        self.task = self.source.get(index, **options)
        prompt = self.template.render_text(self.task)
        if len(prompt) > self.config.max_prompt_chars:
            raise ValueError(
                f"task {index} renders to a {len(prompt):,}-character prompt, over "
                f"max_prompt_chars={self.config.max_prompt_chars:,}; raise max_prompt_chars"
            )
        self._messages = self.template.render_messages(self.task)
        self._turn = 0
        self._done = False
        info: dict[str, Any] = {"task": self.task, "messages": _copy_messages(self._messages), "index": index}
        self._calls = []
        if self.toolbox is not None:
            self.toolbox.close()
        self.toolbox = self._episode_toolbox(self.task)
        if self.toolbox is not None:
            self.toolbox.reset()
        if self.env_toolbox is not None:  # the task's own tools are listed by its prompt
            prompt = f"{self._tool_text}\n\n{prompt}"  # first, as chat templates put tools in the system turn
            info["tools"] = self.env_toolbox.schemas()
        return prompt, info

    def _episode_toolbox(self, task: Task) -> ToolBox | None:
        """The env's tools plus those ``task`` brings; None when there are neither."""
        brought = task.episode_tools()
        if not brought:
            return self.env_toolbox
        if self.config.max_turns < 2:
            raise ValueError("this task brings tools, which need max_turns >= 2: a turn to call them, one to answer")
        offered = {**(self.env_toolbox.tools if self.env_toolbox else {}), **brought}
        return self._limits(offered)

    def judging_task(self) -> Task:
        """The task the rubric judges the current answer against: ``Task.judged_after`` the episode's tool calls."""
        if self.task is None:
            raise RuntimeError("the episode is over: call reset() before step()")
        return self.task.judged_after(tuple(self._calls))

    def step(self, action: str) -> tuple[str, float | None, bool, bool, dict[str, Any]]:  # type: ignore[override]
        self.check_step(action)
        calls = self.tool_turn(action)
        if calls is not None:
            return self.use_tools(action, calls)
        return self.advance(action, self.rubric.score(action, self.judging_task()))

    def tool_turn(self, action: str) -> Any | None:
        """The tool calls of ``action`` (a ``ToolCallParse``) if it is a tool turn, else None.

        A tool turn: the env has tools, a turn is left for the answer after this one, and
        ``action`` holds tool calls or attempts at them (a malformed call is answered with its error).
        """
        if self.toolbox is None or self._turn + 1 >= self.config.max_turns:
            return None
        from rlvr.verifiers.tool_calls import parse_tool_calls  # the 'tools' extra

        parsed = parse_tool_calls(action)
        return parsed if parsed.calls or parsed.error_count else None

    def use_tools(self, action: str, parsed: Any) -> tuple[str, float | None, bool, bool, dict[str, Any]]:
        """Run a tool turn's calls (``tool_turn``); their results are the next observation."""
        self.check_step(action)
        assert self.toolbox is not None
        self._turn += 1
        ran = self.toolbox.run(parsed.calls)
        self._calls += [{"name": call.name, "arguments": call.arguments} for call in parsed.calls]
        results = [(error, False) for error in (f"error: malformed tool call: {e}" for e in parsed.errors)]
        results += [(result.content, result.ok) for result in ran]
        names = ["(malformed)"] * len(parsed.errors) + [call.name for call in parsed.calls]
        self._messages.append({"role": "assistant", "content": action})
        faults = [result.content for result in ran if result.fault]
        if faults:  # the tool's machinery failed: the episode ends unjudged
            self._done = True
            self.toolbox.close()
            info = {
                "score": {},
                "status": Status.TOOL_ERROR.value,
                "turn": self._turn,
                "messages": _copy_messages(self._messages),
                "error": faults[0],
            }
            return "", None, True, False, info
        for name, (content, _) in zip(names, results, strict=True):
            self._messages.append({"role": "tool", "name": name, "content": content})
        observation = "".join(f"<tool_response>\n{content}\n</tool_response>\n" for content, _ in results)
        info = {
            "score": {},
            "status": "tool_call",
            "turn": self._turn,
            "messages": _copy_messages(self._messages),
            "new_messages": len(results),
            "tool_calls": [{"name": name, "ok": ok} for name, (_, ok) in zip(names, results, strict=True)],
        }
        if self.env_toolbox is not None:
            info["tools"] = self.env_toolbox.schemas()
        return observation, self.reward_range[0], False, False, info

    def check_step(self, action: object) -> Task:
        """The task being answered; an error when no episode is running or ``action`` is not text."""
        if self._done or self.task is None:
            raise RuntimeError("the episode is over: call reset() before step()")
        if not isinstance(action, str):
            raise TypeError(f"an action is the completion text (str), got {type(action).__name__}")
        return self.task

    def advance(self, action: str, result: RubricResult) -> tuple[str, float | None, bool, bool, dict[str, Any]]:
        """The rest of ``step`` once ``action`` is judged (``check_step`` first): the turn, feedback, the end."""
        task = self.check_step(action)
        self._turn += 1
        self._messages.append({"role": "assistant", "content": action})
        reply = self.feedback(task, action, result) if self.config.max_turns > 1 else None
        terminated = reply is None
        truncated = not terminated and self._turn >= self.config.max_turns
        observation = ""
        if reply is not None and not truncated:
            observation = reply
            self._messages.append({"role": "user", "content": reply})
        self._done = terminated or truncated
        if self._done and self.toolbox is not None:
            self.toolbox.close()
        info = {
            "score": dict(result.scores),
            "status": result.status.value,
            "turn": self._turn,
            "messages": _copy_messages(self._messages),
        }
        return observation, result.reward, terminated, truncated, info

    def _toolbox(self, offered: dict[str, Tool]) -> ToolBox | None:
        """The tools ``config.tools`` picks from ``offered``; None without tools."""
        if not self.config.tools:
            return None
        unknown = sorted(set(self.config.tools) - set(offered))
        if unknown:
            raise ValueError(f"tools {unknown} are not offered by this env; it offers {sorted(offered) or 'none'}")
        if self.config.max_turns < 2:
            raise ValueError("tools need max_turns >= 2: a turn to call them and one to answer")
        return self._limits({name: offered[name] for name in self.config.tools})

    def _limits(self, tools: dict[str, Tool]) -> ToolBox:
        """``tools`` under the config's limits on calls, output and time."""
        return ToolBox(
            tools,
            max_calls=self.config.max_tool_calls,
            max_output_chars=self.config.max_tool_output_chars,
            timeout=self.config.tool_timeout,
        )

    def close(self) -> None:
        """Close the episode's tool sessions."""
        if self.toolbox is not None:
            self.toolbox.close()
        super().close()

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self._messages)


def _copy_messages(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    return [dict(message) for message in messages]


def step_batch(
    envs: Sequence[gym.Env], actions: Sequence[str]
) -> list[tuple[str, float | None, bool, bool, dict[str, Any]]]:
    """``[env.step(action) for env, action in zip(envs, actions)]``, with each rubric judging its actions as a batch.

    Envs that judge alike (``rubric_key``: the copies of one env id and options,
    as in a GRPO step, or envs sharing one rubric object) have their
    completions judged together by one ``Rubric.score_batch``, so verifiers
    that can run concurrently (math over several checker processes, code over
    the sandbox's containers) do; the results are the ones ``step`` gives.

    Args:
        envs: text environments (``gymnasium.make``'s wrappers are looked through), each in a running episode.
        actions: one completion per env.

    Returns:
        One ``step`` result per env, in order.
    """
    if len(envs) != len(actions):
        raise ValueError(f"{len(actions)} actions for {len(envs)} envs")
    texts = [_text_env(env) for env in envs]
    for text, action in zip(texts, actions, strict=True):
        text.check_step(action)
    remote = {i: text for i, text in enumerate(texts) if text.remote}
    tool_turns = {i: calls for i, text in enumerate(texts) if (calls := text.tool_turn(actions[i])) is not None}
    groups: dict[Hashable, list[int]] = {}
    for index, env in enumerate(envs):
        if index not in tool_turns and index not in remote:  # a tool turn is not judged: its calls are run
            groups.setdefault(rubric_key(env), []).append(index)
    results: dict[int, RubricResult] = {}
    for indices in groups.values():
        rubric = texts[indices[0]].rubric
        scored = rubric.score_batch([actions[i] for i in indices], [texts[i].judging_task() for i in indices])
        results.update(zip(indices, scored, strict=True))
    tool_results = _run_tool_turns({i: (texts[i], actions[i], calls) for i, calls in tool_turns.items()})
    remote_results = _side_by_side({i: (text.step, actions[i]) for i, text in remote.items()})
    return [
        remote_results[i] if i in remote else tool_results[i] if i in tool_turns else text.advance(action, results[i])
        for i, (text, action) in enumerate(zip(texts, actions, strict=True))
    ]


def _run_tool_turns(turns: dict[int, tuple[TextEnv, str, Any]]) -> dict[int, Any]:
    """Each env's ``use_tools`` for its tool turn, the envs side by side (a sandboxed tool waits on its container)."""
    return _side_by_side(
        {i: (functools.partial(text.use_tools, action), calls) for i, (text, action, calls) in turns.items()}
    )


def _side_by_side(calls: dict[int, tuple[Callable[[Any], Any], Any]]) -> dict[int, Any]:
    """``{i: function(argument)}`` for each ``(function, argument)``, run in threads side by side (each waits on
    a container or a server, not on this process)."""
    if len(calls) <= 1:
        return {i: function(argument) for i, (function, argument) in calls.items()}
    with ThreadPoolExecutor(min(len(calls), TOOL_THREADS)) as executor:
        futures = {i: executor.submit(function, argument) for i, (function, argument) in calls.items()}
        return {i: future.result() for i, future in futures.items()}


def rubric_key(env: gym.Env) -> Hashable:
    """Which envs judge alike: copies made by ``gymnasium.make`` with the same id and options share a key.

    Each ``gymnasium.make`` builds its own rubric, but rubrics are pure functions of the env's id and
    options, so the copies of one env (a GRPO step's G envs per prompt, and every prompt's) can be
    judged by one rubric as one batch. An env made otherwise (no ``spec``, or options that are not
    plain data) is keyed by its own rubric object.
    """
    spec = getattr(env, "spec", None)
    if spec is not None:
        try:
            return ("spec", spec.id, json.dumps(spec.kwargs, sort_keys=True))
        except (TypeError, ValueError):
            pass
    return ("rubric", id(_text_env(env).rubric))


def _text_env(env: gym.Env) -> TextEnv:
    unwrapped = env.unwrapped
    if not isinstance(unwrapped, TextEnv):
        raise TypeError(f"step_batch steps text envs, got {type(unwrapped).__name__}")
    return unwrapped
