"""``rlvr eval``: evaluate a model on any registered envs, outside a training run.

The model is a checkpoint (a hub id, a local directory, ``tiny``, or a training
run's directory: its ``final/`` policy) run here, or a model served by any
OpenAI-compatible server (``endpoint``: vLLM, SGLang, TGI, llama.cpp, OpenAI).
For each env, task ``i`` (``0 <= i < tasks``) is the held-out task of seed
``EVAL_SEED_OFFSET + i``, the seeds the trainers evaluate on. Each task gets one
greedy episode (temperature 0) and ``samples`` sampled ones (at
``temperature``); multi-turn envs play every turn.

Reported per env, and as a total weighted by the envs' weights:
``accuracy`` (greedy episodes with status ok), ``reward`` (mean greedy reward),
``pass@k`` (unbiased, from the samples), and how many episodes ended with each
status (``ok``, ``wrong``, ``format_error``, ``hedged``, ``timeout``, ...). A
sample the server never answered (``request_failed``) is counted apart and
left out of every rate, never scored as wrong.

With a local model the numbers equal the trainers' own evaluation for the same
model, seeds and sampling settings (both go through
``rlvr.trainers.run.evaluate``'s chunks). Written to ``output_dir``:
``samples.jsonl`` (every episode: env, seed, sample, prompt, completions,
reward, scores, status), ``summary.json`` and ``summary.md``. An interrupted
evaluation run again continues where it stopped, chunk by chunk.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
from pydantic import ConfigDict, Field

from rlvr import envs
from rlvr.envs.core.plugins import EnvModules
from rlvr.envs.core.text_env import TextEnv, step_batch
from rlvr.trainers.rollout.env_mixture import EnvRef
from rlvr.trainers.run.evaluate import (
    EVAL_SEED_OFFSET,
    REQUEST_FAILED,
    chunk_sampling_seed,
    eval_chunks,
    held_out_metrics,
    mixture_metrics,
    status_counts,
)
from rlvr.verifiers.openai_endpoint import OpenAIEndpoint, Request

__all__ = ["SAMPLES_FILE", "SUMMARY_FILE", "EvalConfig", "EvalConfigError", "EvalResult", "run_eval", "summary_table"]

SAMPLES_FILE = "samples.jsonl"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "eval.json"

GREEDY = "greedy"
"""The ``sample`` field of a task's greedy episode; sampled ones are numbered 0, 1, ..."""

RESUMABLE_FIELDS = frozenset(
    {"env", "tasks", "concurrency", "retries", "timeout", "progress", "output_dir", "resume", "imports", "device"}
)
"""Settings an evaluation may be continued with changed: they change which tasks are run, or how, not their answers."""


class EvalConfig(EnvModules):
    """Everything ``rlvr eval`` needs; every field is a flag (``--max-new-tokens``)."""

    model_config = ConfigDict(extra="forbid")

    env: list[EnvRef] = Field(
        default_factory=lambda: [EnvRef(id="rlvr/Arithmetic-v0")],
        description='Envs to evaluate on: an id, or id:{json options} (rlvr/Arithmetic-v0:{"level": 2}); in a '
        "config file, a list of {id, options, weight}. The weights weigh the total.",
        json_schema_extra={"repeatable": True},
    )
    model: str = Field(
        "tiny",
        description="Checkpoint to evaluate (hub id, directory, run directory, tiny), or with --endpoint the "
        "model name the server knows.",
    )
    endpoint: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server, up to /v1 (http://127.0.0.1:8000/v1)."
    )
    api: Literal["chat", "completions"] = Field(
        "chat", description="With --endpoint: send chat messages, or the prompt text to /completions."
    )
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="With --endpoint: environment variable holding the API key, if any."
    )
    tasks: int = Field(200, ge=1, description="Held-out tasks per env (seeds 2**40, 2**40 + 1, ...).")
    samples: int = Field(4, ge=1, description="Sampled episodes per task, for pass@k.")
    pass_k: list[int] = Field(
        default_factory=list, description="The k of each pass@k reported; default 1 and --samples."
    )
    temperature: float = Field(1.0, gt=0, description="Sampling temperature of the samples (greedy is 0).")
    max_new_tokens: int = Field(64, ge=1, description="Generation budget per turn, in tokens.")
    max_episode_tokens: int | None = Field(
        None,
        ge=1,
        description="Local model: generation budget of a whole multi-turn episode, in tokens (the turn that reaches "
        "it is cut there and ends the episode), as the trainers' max_episode_tokens. None: no budget.",
    )
    seed: int = Field(0, description="Seeds the sampling.")
    concurrency: int = Field(8, ge=1, description="With --endpoint: requests in flight at once.")
    retries: int = Field(4, ge=0, description="With --endpoint: further attempts after a failure that may pass.")
    timeout: float = Field(120.0, gt=0, description="With --endpoint: seconds per request, all attempts together.")
    device: str = Field("auto", description="Where a local model runs: auto, cpu, cuda, cuda:N.")
    use_chat_template: bool | None = Field(
        None, description="Local model: render prompts with the tokenizer's chat template (default: if it has one)."
    )
    output_dir: Path = Field(Path("runs/eval"), description="Where samples.jsonl and the summaries go.")
    resume: bool = Field(True, description="Continue an evaluation interrupted in output_dir.")
    progress: bool = Field(True, description="Show a progress bar.")

    @property
    def ks(self) -> list[int]:
        """The k of each pass@k: ``pass_k``, or 1 and ``samples``; those above ``samples`` are dropped."""
        wanted = self.pass_k or [1, self.samples]
        return sorted({k for k in wanted if 1 <= k <= self.samples})


@dataclass
class EvalResult:
    """What ``run_eval`` measured: per env label and in total (``summary["total"]``), and where it wrote it."""

    output_dir: Path
    summary: dict[str, Any]


class EvalConfigError(ValueError):
    """An evaluation that cannot continue in ``output_dir`` (other settings there); the message says what to do."""


# A chunk runner: (env, its seeds, the chunk's sampling seed) -> one row per episode.
ChunkRunner = Callable[[EnvRef, list[int], int], list[dict[str, Any]]]


def run_eval(config: EvalConfig) -> EvalResult:
    """Evaluate ``config.model`` on ``config.env``; write samples and summaries to ``config.output_dir``.

    Raises:
        envs.UnknownEnvError, envs.ConfigError: a wrong env id or option (before any model loads).
        EvalConfigError: ``output_dir`` holds an evaluation with other settings and ``resume`` is on.
        OSError: the local model cannot be loaded.
        rlvr.verifiers.openai_endpoint.EndpointError: the server refuses every request (wrong
            model name, bad key, wrong URL).
        rlvr.trainers.rollout.episodes.PromptTooLongError: a prompt longer than the local model's context.
    """
    envs.import_modules(config.imports)
    for ref in config.env:
        envs.make(ref.id, **ref.options).close()  # a wrong id or option fails here, naming the valid ones
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    done = _start(config, out)
    runner = _endpoint_runner(config) if config.endpoint else _local_runner(config)
    seeds = [EVAL_SEED_OFFSET + i for i in range(config.tasks)]
    progress = _progress(config, total=len(config.env) * len(seeds))
    with open(out / SAMPLES_FILE, "a", encoding="utf-8") as samples_file:
        for ref in config.env:
            for index, chunk in enumerate(eval_chunks(seeds)):
                if all(_task_complete(done, ref.label, seed, config.samples) for seed in chunk):
                    progress.update(len(chunk))
                    continue
                rows = runner(ref, chunk, chunk_sampling_seed(config.seed, index))
                samples_file.write("".join(json.dumps(row) + "\n" for row in rows))
                samples_file.flush()
                for row in rows:
                    done[(row["env"], row["seed"], row["sample"])] = row
                progress.update(len(chunk))
    progress.close()
    summary = _summary(config, done, seeds)
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "summary.md").write_text(summary_table(summary) + "\n", encoding="utf-8")
    return EvalResult(out, summary)


def summary_table(summary: dict[str, Any]) -> str:
    """The summary as a markdown table: one row per env and the weighted total."""
    ks = [name for name in summary["total"] if name.startswith("pass@")]
    header = ["env", "tasks", "accuracy", "reward", *ks, "failed", "statuses (greedy)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for label, numbers in [*summary["envs"].items(), ("total (weighted)", summary["total"])]:
        statuses = ", ".join(f"{s} {n}" for s, n in numbers.get("status_greedy", {}).items())
        cells = [
            label,
            str(numbers.get("tasks", "")),
            _number(numbers["accuracy"]),
            _number(numbers["reward"]),
            *(_number(numbers[k]) for k in ks),
            str(numbers.get("failed", "")),
            statuses,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --- resuming -----------------------------------------------------------------------------


def _start(config: EvalConfig, out: Path) -> dict[tuple[str, int, Any], dict[str, Any]]:
    """The episodes already in ``out`` (resuming), keyed by (env label, seed, sample); records the config."""
    current = config.model_dump(mode="json")
    record = out / CONFIG_FILE
    samples = out / SAMPLES_FILE
    if not config.resume:
        samples.unlink(missing_ok=True)
    elif record.exists() and samples.exists():
        saved = json.loads(record.read_text(encoding="utf-8"))
        differing = sorted(k for k in (set(saved) & set(current)) - RESUMABLE_FIELDS if saved[k] != current[k])
        if differing:
            listed = "; ".join(f"{k}: {saved[k]!r} there, {current[k]!r} here" for k in differing)
            raise EvalConfigError(
                f"output_dir {out} holds an evaluation with other settings ({listed}): choose another "
                "output_dir, or set resume=false to start over there"
            )
    record.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return _read_samples(samples)


def _read_samples(path: Path) -> dict[tuple[str, int, Any], dict[str, Any]]:
    """Rows of ``samples.jsonl`` by (env, seed, sample), the last one winning.

    A last line cut off when an evaluation was interrupted is removed from the file, so that
    the rows appended next start on a line of their own.
    """
    rows: dict[tuple[str, int, Any], dict[str, Any]] = {}
    if not path.exists():
        return rows
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        path.write_bytes(data)
    for line in data.decode("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[(row["env"], row["seed"], row["sample"])] = row
    return rows


def _task_complete(done: dict[tuple[str, int, Any], dict[str, Any]], label: str, seed: int, samples: int) -> bool:
    return (label, seed, GREEDY) in done and all((label, seed, j) in done for j in range(samples))


# --- the summary --------------------------------------------------------------------------


def _summary(config: EvalConfig, done: dict[tuple[str, int, Any], dict[str, Any]], seeds: list[int]) -> dict[str, Any]:
    """Per env and weighted total, over the tasks of this configuration."""
    per_env: dict[str, dict[str, Any]] = {}
    for ref in config.env:
        greedy = [done[(ref.label, seed, GREEDY)] for seed in seeds]
        sampled = [[done[(ref.label, seed, j)] for j in range(config.samples)] for seed in seeds]
        numbers: dict[str, Any] = held_out_metrics(
            [(row["status"], row["reward"]) for row in greedy],
            [[row["status"] for row in rows] for rows in sampled],
            config.ks,
        )
        numbers["tasks"] = len(seeds)
        numbers["failed"] = sum(
            row["status"] == REQUEST_FAILED for row in [*greedy, *(r for rs in sampled for r in rs)]
        )
        numbers["status_greedy"] = status_counts([row["status"] for row in greedy])
        numbers["status_samples"] = status_counts([row["status"] for rows in sampled for row in rows])
        numbers["weight"] = ref.weight
        per_env[ref.label] = numbers
    rates = {
        label: {name: n[name] for name in ("accuracy", "reward", *(f"pass@{k}" for k in config.ks))}
        for label, n in per_env.items()
    }
    weighted = mixture_metrics(rates, {label: n["weight"] for label, n in per_env.items()})
    total: dict[str, Any] = {name: value for name, value in weighted.items() if not name.startswith("env/")}
    total["tasks"] = len(seeds) * len(config.env)
    total["failed"] = sum(n["failed"] for n in per_env.values())
    source = config.endpoint or "local"
    return {"model": config.model, "source": source, "samples": config.samples, "envs": per_env, "total": total}


def _number(value: Any) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


# --- running a chunk: a local model --------------------------------------------------------


def _local_runner(config: EvalConfig) -> ChunkRunner:
    """Chunks run by a model loaded here, through the trainers' own evaluation episodes."""
    from rlvr.trainers.models.policy import load_policy, resolve_device
    from rlvr.trainers.rollout.engines import make_engine
    from rlvr.trainers.rollout.episodes import PromptRenderer
    from rlvr.trainers.run.evaluate import evaluation_episodes

    model, tokenizer = load_policy(config.model, device=resolve_device(config.device), seed=config.seed)
    engine = make_engine("hf", model, tokenizer)
    # One renderer for every env: a prompt too long is named by its env's id (collect_episodes passes it).
    renderer = PromptRenderer.for_model(model, tokenizer, config.use_chat_template, config.max_new_tokens)

    def run(ref: EnvRef, seeds: list[int], seed: int) -> list[dict[str, Any]]:
        greedy, sampled = evaluation_episodes(
            ref.id,
            ref.options,
            engine,
            renderer,
            seeds,
            max_new_tokens=config.max_new_tokens,
            samples=config.samples,
            temperature=config.temperature,
            seed=seed,
            max_episode_tokens=config.max_episode_tokens,
        )
        prompts = _prompts(ref, seeds)
        rows = []
        for i, task_seed in enumerate(seeds):
            episodes = [(GREEDY, greedy[i])] + [(j, sampled[i * config.samples + j]) for j in range(config.samples)]
            for sample, e in episodes:
                rows.append(
                    _row(ref, task_seed, sample, prompts[i], e.completions, e.reward, e.scores, e.status, e.turns)
                )
        return rows

    return run


def _prompts(ref: EnvRef, seeds: list[int]) -> list[str]:
    env = envs.make(ref.id, **ref.options)
    try:
        return [env.reset(seed=seed)[0] for seed in seeds]
    finally:
        env.close()


def _row(
    ref: EnvRef,
    seed: int,
    sample: Any,
    prompt: str,
    completions: list[str],
    reward: float | None,
    scores: dict[str, float | None],
    status: str,
    turns: int,
    error: str | None = None,
) -> dict[str, Any]:
    row = {
        "env": ref.label,
        "seed": seed,
        "task": seed - EVAL_SEED_OFFSET,
        "sample": sample,
        "prompt": prompt,
        "completions": completions,
        "reward": reward,
        "scores": scores,
        "status": status,
        "turns": turns,
    }
    if error is not None:
        row["error"] = error
    return row


# --- running a chunk: a served model -------------------------------------------------------


@dataclass
class _Conversation:
    """One episode played against a server, turn by turn."""

    env: Any
    seed: int
    sample: Any
    prompt: str
    messages: list[dict[str, str]]
    text: str
    completions: list[str]
    turn_rewards: list[float | None]
    reward: float | None = None
    scores: dict[str, float | None] | None = None
    status: str = ""
    error: str | None = None
    done: bool = False
    tools: tuple[dict[str, Any], ...] = ()


def _endpoint_runner(config: EvalConfig) -> ChunkRunner:
    """Chunks run by an OpenAI-compatible server: every turn's requests of the chunk in flight together."""
    endpoint = OpenAIEndpoint(
        cast(str, config.endpoint),
        config.model,
        api=config.api,
        api_key=os.environ.get(config.api_key_env) or None,
        concurrency=config.concurrency,
        retries=config.retries,
        timeout=config.timeout,
    )

    def run(ref: EnvRef, seeds: list[int], seed: int) -> list[dict[str, Any]]:
        games: list[_Conversation] = []
        for task_seed in seeds:
            for sample in [GREEDY, *range(config.samples)]:
                env = envs.make(ref.id, **ref.options)
                text, info = env.reset(seed=task_seed)
                game = _Conversation(env, task_seed, sample, text, list(info["messages"]), text, [], [])
                game.tools = tuple(info.get("tools") or ())
                games.append(game)
        turn = 0
        while active := [g for g in games if not g.done]:
            replies = endpoint.complete([_request(config, g, seed, turn) for g in active])
            answered = []
            for game, reply in zip(active, replies, strict=True):
                if reply.text is None:  # the server never answered: no verdict, not a wrong answer
                    game.done, game.status, game.reward, game.error = True, REQUEST_FAILED, None, reply.error
                else:
                    answered.append((game, reply.text))
            results = step_batch([g.env for g, _ in answered], [text for _, text in answered])
            for (game, text), result in zip(answered, results, strict=True):
                _advance(game, text, result)
            turn += 1
        rows = [
            _row(
                ref,
                g.seed,
                g.sample,
                g.prompt,
                g.completions,
                g.reward,
                g.scores or {},
                g.status,
                len(g.completions),
                g.error,
            )
            for g in games
        ]
        for game in games:
            game.env.close()
        return rows

    return run


def _request(config: EvalConfig, game: _Conversation, seed: int, turn: int) -> Request:
    """The request of ``game``'s next turn: greedy at temperature 0, a sample with its own seed."""
    greedy = game.sample == GREEDY
    sample_seed = (
        None if greedy else int(np.random.default_rng([seed, game.seed, int(game.sample), turn]).integers(2**31))
    )
    return Request(
        messages=tuple(game.messages),
        prompt=game.text,
        max_tokens=config.max_new_tokens,
        temperature=0.0 if greedy else config.temperature,
        seed=sample_seed,
        tools=game.tools,
    )


def _advance(game: _Conversation, completion: str, result: tuple[Any, ...]) -> None:
    """Record one judged turn; set up the next one or end the episode."""
    observation, reward, terminated, truncated, info = result
    text_env = cast(TextEnv, game.env.unwrapped)
    game.completions.append(completion)
    game.turn_rewards.append(None if reward is None else float(reward))
    game.reward = text_env.episode_reward(game.turn_rewards)
    game.status = info["status"]
    game.scores = {name: score.value for name, score in info["score"].items()}
    if terminated or truncated:
        game.done = True
        return
    game.messages = list(info["messages"])
    game.text += completion + "\n" + observation + "\n"  # as the trainers render feedback without a chat template


def _progress(config: EvalConfig, total: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="rlvr eval", unit="task", disable=not config.progress, dynamic_ncols=True)
