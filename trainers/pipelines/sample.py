"""Rejection sampling (``rlvr sample``): the policy's own accepted answers as an SFT data set.

DeepSeek-R1's stage 3: once RL has converged, sample many completions per
prompt from the RL checkpoint, keep only those the verifiers accept, and
fine-tune on them (``rlvr sft``, ``rlvr.trainers.pipelines.sft.train_sft``). Here:

1. prompt ``i`` (``0 <= i < prompts``) is the task of env seed
   ``SAMPLE_SEED_OFFSET + first_prompt + i``. ``SAMPLE_SEED_OFFSET`` is 2**36:
   training draws its seeds below 2**31 and evaluation starts at
   ``rlvr.trainers.run.evaluate.EVAL_SEED_OFFSET`` (2**40), so sampled prompts share no
   seed with either (``first_prompt + prompts`` must stay below 2**40 - 2**36).
   Small task families can still pose one problem under several seeds.
2. The rollout engine draws ``k`` completions per prompt (first turn only,
   as ``rlvr.envs.data.export`` exports: the feedback of multi-turn envs has no place in a
   prompt/completion data set).
3. Identical completions of one prompt (same prompt text, same completion
   text) are judged and kept once.
4. Each distinct completion is stepped through the env for the rubric's
   verdict; it is accepted when its reward is at least ``min_reward`` (default:
   the env's maximum reward). A completion no verifier could judge (reward
   None) is never accepted.
5. Optionally, extra acceptance checks (``AcceptanceChecks``: verifiers
   ``(completion, task) -> Score`` and a threshold) must pass too; a model
   grader, as R1 used for its non-verifiable data, plugs in here.

Written to ``out``: ``data/`` (``datasets.Dataset.save_to_disk``),
``samples.jsonl`` (the same rows, one JSON object each) and ``summary.json``
(counts, acceptance rate per prompt, prompts with no accepted completion).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from rlvr import envs
from rlvr.envs.core.plugins import EnvModules
from rlvr.envs.core.text_env import TextEnv
from rlvr.trainers.rollout.engines import SamplingParams, make_engine
from rlvr.trainers.rollout.env_mixture import EnvSelection, draw_envs, short_names
from rlvr.trainers.rollout.episodes import PromptRenderer
from rlvr.trainers.run.evaluate import EVAL_SEED_OFFSET
from rlvr.verifiers.rubric import Verifier

__all__ = [
    "DEFAULT_GRADER_RUBRIC",
    "SAMPLE_SEED_OFFSET",
    "AcceptanceChecks",
    "SampleConfig",
    "SampleResult",
    "dataset_features",
    "grader_checks",
    "sample",
]

SAMPLE_SEED_OFFSET = 2**36
"""Env seed of the first sampled prompt: above training's seeds (< 2**31), below evaluation's (>= 2**40)."""

DEFAULT_GRADER_RUBRIC = (
    "Grade the response to the question against the reference answer. Give 1 if the response's final answer "
    "agrees with the reference and its reasoning is sound and readable, 0.5 if the answer agrees but the "
    "reasoning is muddled or in mixed languages, and 0 otherwise. Answer with the grade only."
)
"""The grader's instructions when ``rlvr sample`` is given a grader and no rubric."""


class SampleConfig(EnvModules, EnvSelection):
    """Everything ``rlvr sample`` needs; every field is a flag (``--max-new-tokens``).

    The prompts come from ``env`` (with ``env_options``) or, with a ``mixture``, each from an
    env drawn by weight.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field("tiny", description="Policy to sample from: a checkpoint directory, a hub id, or 'tiny'.")
    out: Path = Field(
        Path("runs/sample"), description="Output directory: data/ (save_to_disk), samples.jsonl, summary.json."
    )
    prompts: int = Field(64, ge=1, description="Prompts (env seeds) to sample for.")
    k: int = Field(8, ge=1, description="Completions drawn per prompt.")
    first_prompt: int = Field(
        0, ge=0, description="Prompt i uses env seed 2**36 + first_prompt + i; shift it to draw new prompts."
    )
    temperature: float = Field(1.0, ge=0.0, description="Sampling temperature (0: greedy, so k > 1 only repeats).")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_new_tokens: int = Field(64, ge=1, description="Generation budget per completion, in tokens.")
    min_reward: float | None = Field(
        None, description="Keep completions with at least this reward; None: the env's maximum reward."
    )
    seed: int = Field(0, description="Seeds sampling (and the tiny model's initialisation).")
    batch_prompts: int = Field(16, ge=1, description="Prompts per generation call (each with its k completions).")
    use_chat_template: bool | None = Field(
        None, description="Render prompts with the tokenizer's chat template; None: when it has one."
    )
    engine: Literal["hf", "vllm"] = Field(
        "hf", description="Rollout engine: transformers generate, or vLLM (GPU; the model must be a directory or id)."
    )
    device: str = Field("auto", description="'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:1', ...")
    progress: bool = Field(True, description="Show a progress bar.")

    # --- an optional model grader (R1's judge in its rejection sampling; OpenAI RFT's score model grader) ---
    grader_model: str | None = Field(
        None, description="Also require a grade from this causal LM (a checkpoint directory or hub id)."
    )
    grader_url: str | None = Field(
        None, description="Also require a grade from this OpenAI-compatible endpoint (e.g. http://127.0.0.1:8000/v1)."
    )
    grader_name: str = Field("grader", description="Model name sent to the grader endpoint.")
    grader_rubric: str = Field(
        DEFAULT_GRADER_RUBRIC, description="The grader's instructions, first in every grader prompt."
    )
    grader_threshold: float = Field(
        1.0, ge=0.0, le=1.0, description="A completion is kept only with a grade of at least this."
    )

    @model_validator(mode="after")
    def _check_grader(self) -> SampleConfig:
        if self.grader_model is not None and self.grader_url is not None:
            raise ValueError("give grader_model or grader_url, not both")
        return self

    @model_validator(mode="after")
    def _check_seeds(self) -> SampleConfig:
        if SAMPLE_SEED_OFFSET + self.first_prompt + self.prompts > EVAL_SEED_OFFSET:
            raise ValueError(
                f"first_prompt + prompts must be at most {EVAL_SEED_OFFSET - SAMPLE_SEED_OFFSET}: "
                "beyond that the env seeds reach the evaluation seeds"
            )
        return self


def grader_checks(config: SampleConfig) -> AcceptanceChecks | None:
    """The model grader ``config`` names (``grader_model`` or ``grader_url``) as acceptance checks; None if none."""
    from rlvr.verifiers.grader import ModelGrader, OpenAIBackend, TransformersBackend

    if config.grader_url is not None:
        backend: Any = OpenAIBackend(config.grader_url, config.grader_name)
    elif config.grader_model is not None:
        from rlvr.trainers.models.policy import load_policy, resolve_device

        model, tokenizer = load_policy(config.grader_model, device=resolve_device(config.device), seed=config.seed)
        backend = TransformersBackend(model, tokenizer)
    else:
        return None
    return AcceptanceChecks([ModelGrader(backend, config.grader_rubric)], threshold=config.grader_threshold)


@dataclass(frozen=True)
class AcceptanceChecks:
    """Extra acceptance checks beyond the env's rubric.

    Attributes:
        verifiers: judges ``(completion, task) -> Score`` (``verifiers.Verifier``),
            for example a model grader. ``task`` is the env's task record.
        threshold: a completion passes when every verifier judged it (value not
            None) with a value of at least ``threshold`` (in [0, 1]).

    They run only on completions the rubric has accepted, so an expensive grader
    sees as few completions as possible.
    """

    verifiers: Sequence[Verifier] = ()
    threshold: float = 1.0

    def accepts(self, completion: str, task: Any) -> bool:
        """True when every verifier gives ``completion`` a value >= ``threshold``."""
        for verifier in self.verifiers:
            value = verifier(completion, task).value
            if value is None or value < self.threshold:
                return False
        return True


@dataclass(frozen=True)
class SampleResult:
    """What ``sample`` reports.

    Attributes:
        output_dir: ``config.out``.
        dataset: the kept rows, as written to ``output_dir / "data"``.
        summary: the content of ``summary.json`` (see ``sample``).
    """

    output_dir: Path
    dataset: Any
    summary: dict[str, Any] = field(default_factory=dict)


def dataset_features() -> Any:
    """The ``datasets.Features`` of a sampled data set (so an empty one still has its columns).

    Columns: ``prompt`` (str, the prompt as text), ``messages`` (the prompt's
    chat messages followed by ``{"role": "assistant", "content": completion}``,
    TRL's conversational form), ``completion`` (str), ``reward`` (float64, the
    rubric's reward), ``seed`` (int64, the env seed), ``env`` (str, the env id),
    ``env_options`` (str, the env options as JSON), ``task`` (str, the task as
    JSON, as ``rlvr.envs.data.export`` writes it).
    """
    from datasets import Features, List, Value

    return Features(
        {
            "prompt": Value("string"),
            "messages": List({"role": Value("string"), "content": Value("string")}),
            "completion": Value("string"),
            "reward": Value("float64"),
            "seed": Value("int64"),
            "env": Value("string"),
            "env_options": Value("string"),
            "task": Value("string"),
        }
    )


def sample(config: SampleConfig, checks: AcceptanceChecks | None = None) -> SampleResult:
    """Draw ``k`` completions for each of ``prompts`` prompts, keep the accepted ones, write them.

    Args:
        config: what to sample, from which model, and where to write.
        checks: extra acceptance checks after the rubric's (None: the rubric alone).

    Returns:
        A ``SampleResult``. Its ``summary`` (also ``out/summary.json``) holds the
        settings (``env``, ``env_options``, ``model``, ``k``, ``min_reward``,
        ``seed_offset``: the env seed of prompt 0), the totals ``drawn``,
        ``distinct``, ``judged``, ``accepted_by_rubric``, ``accepted`` (of the
        drawn completions, duplicates counted), ``kept`` (rows written),
        ``acceptance_rate`` (accepted / drawn), ``per_prompt`` (one entry per
        prompt: ``seed``, ``prompt``, ``drawn``, ``accepted``,
        ``acceptance_rate``, ``kept``) and ``unsolved`` (the seeds of prompts
        with no accepted completion).

    Raises:
        envs.UnknownEnvError, envs.ConfigError: a bad env id or options.
        OSError: the model cannot be loaded.
    """
    from tqdm.auto import tqdm

    from rlvr.trainers.models.policy import load_policy, resolve_device

    checks = checks or AcceptanceChecks()
    envs.import_modules(config.imports)
    refs = config.env_refs
    pool = [envs.make(ref.id, **ref.options) for ref in refs]
    highs = [float(cast(TextEnv, env.unwrapped).reward_range[1]) for env in pool]
    min_rewards = [high if config.min_reward is None else config.min_reward for high in highs]

    model, tokenizer = load_policy(config.model, device=resolve_device(config.device), seed=config.seed)
    renderer = PromptRenderer.for_model(
        model, tokenizer, config.use_chat_template, config.max_new_tokens, config.env_name
    )
    engine = make_engine(config.engine, model, tokenizer, model_path=config.model)
    options_json = [json.dumps(ref.options, sort_keys=True) for ref in refs]

    rows: list[dict[str, Any]] = []
    per_prompt: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    totals = {"drawn": 0, "distinct": 0, "judged": 0, "accepted_by_rubric": 0, "accepted": 0}
    first_seed = SAMPLE_SEED_OFFSET + config.first_prompt
    seeds = [first_seed + i for i in range(config.prompts)]
    picks = draw_envs([ref.weight for ref in refs], len(seeds), config.seed, step=config.first_prompt)
    bar = tqdm(total=len(seeds), desc="sample", unit="prompt", disable=not config.progress)
    for chunk_index, start in enumerate(range(0, len(seeds), config.batch_prompts)):
        chunk = seeds[start : start + config.batch_prompts]
        chunk_picks = picks[start : start + config.batch_prompts]
        prompts = []
        for seed, pick in zip(chunk, chunk_picks, strict=True):
            text, info = pool[pick].reset(seed=seed)
            prompts.append((text, info["messages"], renderer.prompt(text, info["messages"], refs[pick].id)))
        params = SamplingParams(
            config.max_new_tokens, config.temperature, config.top_p, seed=_sampling_seed(config.seed, chunk_index)
        )
        generated = engine.generate([ids for _, _, ids in prompts for _ in range(config.k)], params)
        for position, (seed, pick, (text, messages, _)) in enumerate(zip(chunk, chunk_picks, prompts, strict=True)):
            env = pool[pick]
            completions: list[str] = [
                str(tokenizer.decode(tokens, skip_special_tokens=True))
                for tokens in generated[position * config.k : (position + 1) * config.k]
            ]
            verdicts: dict[str, tuple[bool, float | None, str]] = {}  # completion -> (accepted, reward, task json)
            for completion in completions:
                if completion not in verdicts:
                    verdicts[completion] = _judge(env, seed, completion, min_rewards[pick], checks, totals)
            accepted = sum(verdicts[c][0] for c in completions)
            kept = 0
            for completion, (ok, reward, task_json) in verdicts.items():
                if not ok or (text, completion) in seen:
                    continue
                seen.add((text, completion))
                kept += 1
                rows.append(
                    {
                        "prompt": text,
                        "messages": [*messages, {"role": "assistant", "content": completion}],
                        "completion": completion,
                        "reward": reward,
                        "seed": seed,
                        "env": refs[pick].id,
                        "env_options": options_json[pick],
                        "task": task_json,
                    }
                )
            totals["drawn"] += len(completions)
            totals["distinct"] += len(verdicts)
            totals["accepted"] += accepted
            per_prompt.append(
                {
                    "seed": seed,
                    "env": refs[pick].id,
                    "prompt": text,
                    "drawn": len(completions),
                    "accepted": accepted,
                    "acceptance_rate": accepted / len(completions),
                    "kept": kept,
                }
            )
        bar.update(len(chunk))
        bar.set_postfix(accepted=f"{totals['accepted'] / max(totals['drawn'], 1):.2f}", kept=len(rows))
    bar.close()
    for env in pool:
        env.close()

    one = len(refs) == 1  # a mixture's thresholds are per env
    names = short_names(refs)
    summary: dict[str, Any] = {
        "env": refs[0].id if one else config.env_name,
        "env_options": refs[0].options if one else {},
        "mixture": [ref.model_dump(mode="json") for ref in config.mixture],
        "model": config.model,
        "k": config.k,
        "min_reward": min_rewards[0] if one else dict(zip(names, min_rewards, strict=True)),
        "max_reward": highs[0] if one else dict(zip(names, highs, strict=True)),
        "seed_offset": first_seed,
        **totals,
        "kept": len(rows),
        "acceptance_rate": totals["accepted"] / totals["drawn"],
        "per_prompt": per_prompt,
        "unsolved": [entry["seed"] for entry in per_prompt if entry["accepted"] == 0],
    }
    dataset = _write(Path(config.out), rows, summary)
    return SampleResult(Path(config.out), dataset, summary)


def _judge(
    env: Any, seed: int, completion: str, min_reward: float, checks: AcceptanceChecks, totals: dict[str, int]
) -> tuple[bool, float | None, str]:
    """Step a fresh episode of ``seed`` with ``completion``: (accepted, reward, task as JSON)."""
    _, info = env.reset(seed=seed)
    task = info["task"]
    _, reward, _, _, _ = env.step(completion)
    if reward is None or not math.isfinite(reward):
        return False, None, task.model_dump_json()
    totals["judged"] += 1
    if reward < min_reward - 1e-9:
        return False, float(reward), task.model_dump_json()
    totals["accepted_by_rubric"] += 1
    return checks.accepts(completion, task), float(reward), task.model_dump_json()


def _write(out: Path, rows: list[dict[str, Any]], summary: dict[str, Any]) -> Any:
    """Write ``data/``, ``samples.jsonl`` and ``summary.json`` under ``out``; return the data set."""
    import datasets

    out.mkdir(parents=True, exist_ok=True)
    features = dataset_features()
    columns = {name: [row[name] for row in rows] for name in features}
    dataset = datasets.Dataset.from_dict(columns, features=features)
    # datasets 5 cannot load back an empty data set saved without an explicit shard count
    dataset.save_to_disk(str(out / "data"), num_shards=1 if not rows else None)
    with (out / "samples.jsonl").open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return dataset


def _sampling_seed(seed: int, chunk: int) -> int:
    """A sampling seed for (run seed, generation call), distinct across both."""
    return int(np.random.default_rng([seed, chunk, 3]).integers(0, 2**31))
