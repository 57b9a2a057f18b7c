"""Supervised fine-tuning: the cold start of DeepSeek-R1's recipe, and SFT on a data set (its stage 3).

Two uses of one training loop (``fit``):

* ``cold_start``: before RL, R1 is fine-tuned on a few thousand long worked
  solutions so that its first rollouts are readable and in format. Here the
  examples come from the env itself: a task's reference answer written in the
  prompt template's answer format (``PromptTemplate.answer_completion``).
* ``train_sft`` (``rlvr sft``): fine-tuning on a data set of prompts and
  completions, typically the rejection-sampled completions that ``rlvr sample``
  (``rlvr.trainers.pipelines.sample``) kept. This is R1's stage 3: after RL, the policy's own
  accepted answers become the next SFT data.

The loss is the usual next-token cross-entropy on the completion tokens only
(the prompt's tokens have loss mask 0), averaged over the completion tokens of
the batch; every completion is followed by the tokenizer's EOS token, which is
trained on too, so the model learns to stop. Sequences are not truncated: they
must fit the model's context.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, cast

import numpy as np
import torch
from pydantic import ConfigDict, Field

from rlvr import envs
from rlvr.envs.core.plugins import EnvModules
from rlvr.envs.core.tools import call_text
from rlvr.trainers.algorithms.config import TrainerConfig
from rlvr.trainers.models.logprobs import TokenBatch, pad_batch, token_logprobs
from rlvr.trainers.rollout.curriculum import curriculum_env
from rlvr.trainers.rollout.engines import Completion, SamplingParams
from rlvr.trainers.rollout.env_mixture import short_names
from rlvr.trainers.rollout.episodes import PromptRenderer, collect_episodes
from rlvr.verifiers.extract import AnswerFormat

__all__ = [
    "REQUIRED_COLUMNS",
    "SFTConfig",
    "SFTExample",
    "SFTInputError",
    "SFTResult",
    "cold_start",
    "completion_loss",
    "encode_example",
    "examples_from_dataset",
    "fit",
    "load_sft_dataset",
    "train_sft",
    "worked_example",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("prompt", "completion")
"""Columns a data set for ``train_sft`` must have; ``messages`` is used when present."""


class SFTExample(NamedTuple):
    """One training example.

    Attributes:
        prompt: the prompt as plain text (used without a chat template).
        messages: the prompt as chat messages (used with a chat template);
            ``[{"role": ..., "content": ...}]``, without the answer.
        completion: the text the model learns to write after the prompt.
        encoded: ``(token ids, loss mask)`` already rendered (a multi-turn trace, ``worked_trace``);
            when given, the other fields are descriptive only.
    """

    prompt: str
    messages: list[dict[str, str]]
    completion: str
    encoded: tuple[list[int], list[int]] | None = None


class SFTInputError(ValueError):
    """Input that ``train_sft`` cannot use; ``field`` names the config field (the CLI flag) at fault.

    ``str(error)`` is ``"<field> <message>"``, e.g. ``"data runs/x: no such file or directory"``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = message


# --- the shared training loop -------------------------------------------------------


def encode_example(renderer: PromptRenderer, example: SFTExample) -> tuple[list[int], list[int]]:
    """Token ids of prompt + completion + EOS, and the loss mask: 0 on the prompt, 1 on the rest.

    The prompt is rendered as the rollouts render it (``PromptRenderer.prompt``:
    the chat template over ``messages``, or ``prompt`` as text), so SFT trains on
    exactly the contexts the policy is sampled in.
    """
    if example.encoded is not None:
        return example.encoded
    tokenizer = renderer.tokenizer
    prompt_ids = renderer.prompt(example.prompt, example.messages)
    completion_ids = [*tokenizer(example.completion, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
    return prompt_ids + completion_ids, [0] * len(prompt_ids) + [1] * len(completion_ids)


def completion_loss(model: Any, batch: TokenBatch) -> torch.Tensor:
    """Mean negative log-likelihood (nats per token) of the tokens with loss mask 1; a scalar tensor."""
    logp, _ = token_logprobs(model, batch)
    return -(logp * batch.loss_mask).sum() / batch.loss_mask.sum()


def fit(
    model: Any,
    renderer: PromptRenderer,
    batches: Iterable[Sequence[SFTExample]],
    *,
    learning_rate: float,
    steps: int | None = None,
    max_grad_norm: float = 1.0,
    progress: bool = True,
    description: str = "SFT",
    on_step: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Fine-tune ``model`` in place: one AdamW step (on all parameters) per batch of ``batches``.

    Args:
        model: a transformers causal LM; it is put in train mode and left there.
        renderer: renders prompts (and holds the tokenizer).
        batches: examples, one list per optimizer step; consumed lazily.
        learning_rate: AdamW learning rate (constant; AdamW's default weight decay).
        steps: the number of batches, for the progress bar only (None: unknown).
        max_grad_norm: gradients are clipped to this global norm.
        progress: show a progress bar.
        description: the progress bar's label.
        on_step: called after each step with ``(step, loss)``, steps counted from 1.

    Returns:
        The loss of each step (``completion_loss``, nats per completion token),
        measured on the step's batch before the update.
    """
    from tqdm.auto import tqdm

    tokenizer = renderer.tokenizer
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    device = next(model.parameters()).device
    losses: list[float] = []
    model.train()
    for examples in tqdm(batches, total=steps, desc=description, unit="step", disable=not progress):
        encoded = [encode_example(renderer, example) for example in examples]
        batch = pad_batch([ids for ids, _ in encoded], [mask for _, mask in encoded], tokenizer.pad_token_id)
        loss = completion_loss(model, batch.to(device))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(len(losses), losses[-1])
    return losses


# --- the cold start ---------------------------------------------------------------------


def worked_example(env: Any, seed: int, options: dict[str, Any] | None = None) -> tuple[str, list[dict[str, str]], str]:
    """``(prompt, messages, completion)`` for the task of ``seed`` (reset with ``options``): the reference
    answer in the template's format, after the task's worked reasoning where the format has room for it."""
    prompt, info = env.reset(seed=seed, options=options)
    task = info["task"]
    answer = task.reference_answer()
    if answer is None:
        raise ValueError(f"{env.spec.id if env.spec else env}: tasks have no reference answer to fine-tune on")
    template = env.unwrapped.template
    if template.answer_format is AnswerFormat.LAST_NUMBER:
        return prompt, info["messages"], f" {answer}"
    reasoning = task.worked_reasoning()
    if reasoning is None:
        return prompt, info["messages"], template.answer_completion(answer)
    return prompt, info["messages"], template.answer_completion(answer, reasoning)


def worked_trace(
    env: Any, seed: int, renderer: PromptRenderer, options: dict[str, Any] | None = None
) -> SFTExample | None:
    """A worked tool-using episode for the task of ``seed``, rendered as a rollout renders it; None if the env's
    tools have no worked call (``Tool.example``).

    The trace calls the first tool that has one, reads its real result from the env, then answers with
    the reference answer: ``(token ids, loss mask)`` with the tool results and chat glue masked out, built
    by ``collect_episodes`` so the cold start trains on exactly the contexts of the rollouts.
    """
    toolbox = env.unwrapped.toolbox
    tool = next((t for t in toolbox.tools.values() if t.example is not None), None) if toolbox else None
    if tool is None:
        return None
    assert tool.example is not None
    _, info = env.reset(seed=seed, options=options)
    call = call_text(tool.name, tool.example(info["task"]))
    prompt, messages, answer = worked_example(env, seed, options)
    tokenizer = renderer.tokenizer
    replies = [call, answer]

    class Replay:  # "samples" the worked replies, so the trace is built as any rollout is
        def sample(self, prompts: list[list[int]], params: SamplingParams) -> list[Completion]:
            tokens = [*tokenizer(replies.pop(0), add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
            return [Completion(tokens, None, "stop") for _ in prompts]

    (episode,) = collect_episodes([env], [seed], cast(Any, Replay()), renderer, SamplingParams(1), [options])
    return SFTExample(prompt, messages, f"{call} ... {answer}", (episode.token_ids, episode.loss_mask))


def cold_start(model: Any, tokenizer: Any, config: TrainerConfig, progress: bool = True) -> list[float]:
    """Fine-tune ``model`` in place for ``config.sft_steps`` steps on the env's worked examples.

    Seeds for the examples are drawn from ``(config.seed, "sft")``, below 2**31,
    apart from the held-out evaluation seeds; with a mixture, each example's env is
    drawn by weight; an env under a curriculum is reset at the curriculum's first
    value. Returns the loss of each step.
    """
    refs = config.env_refs
    pool = [envs.make(ref.id, **ref.options) for ref in refs]
    starts: list[dict[str, Any]] = [{} for _ in refs]
    for curriculum in config.curriculum:
        index = curriculum_env(curriculum, short_names(refs), [ref.id for ref in refs])
        starts[index][curriculum.option] = curriculum.value_at(0)
    rng = np.random.default_rng([config.seed, 5, 7])
    env_rng = np.random.default_rng([config.seed, 5, 8])  # apart, so a single env draws the seeds it always did
    shares = np.array([ref.weight for ref in refs]) / sum(ref.weight for ref in refs)

    renderer = PromptRenderer(tokenizer, config.use_chat_template)

    def example(env: Any, seed: int, options: dict[str, Any] | None) -> SFTExample:
        """A worked tool-using trace where the env's tools have one, else the worked answer."""
        trace = worked_trace(env, seed, renderer, options)
        return trace if trace is not None else SFTExample(*worked_example(env, seed, options))

    def batches() -> Iterator[list[SFTExample]]:
        for _ in range(config.sft_steps):
            seeds = rng.integers(0, 2**31, config.cold_start_batch_size)
            picks = env_rng.choice(len(refs), size=len(seeds), p=shares) if len(refs) > 1 else [0] * len(seeds)
            yield [
                example(pool[pick], int(seed), starts[pick] or None) for pick, seed in zip(picks, seeds, strict=True)
            ]

    return fit(
        model,
        renderer,
        batches(),
        learning_rate=config.cold_start_learning_rate,
        steps=config.sft_steps,
        progress=progress,
        description="cold start (SFT)",
    )


# --- SFT on a data set (rlvr sft) -------------------------------------------------------


class SFTConfig(EnvModules):
    """Everything ``rlvr sft`` needs; every field is a flag (``--learning-rate``)."""

    model_config = ConfigDict(extra="forbid")

    data: Path = Field(
        description="The data: an `rlvr sample` output directory, a directory written by Dataset.save_to_disk, "
        "or a .jsonl file; it needs prompt and completion columns (messages is used with a chat template)."
    )
    model: str = Field("tiny", description="Policy to fine-tune: a checkpoint directory, a hub id, or 'tiny'.")
    out: Path = Field(
        Path("runs/sft"), description="Output directory: metrics.jsonl, curves.png, and the model in out/final."
    )
    steps: int | None = Field(
        None, ge=1, description="Optimizer steps; None: `epochs` passes over the data. Steps past an epoch reshuffle."
    )
    epochs: int = Field(1, ge=1, description="Passes over the data when `steps` is not given.")
    batch_size: int = Field(16, ge=1, description="Examples per optimizer step (the last batch of a pass is smaller).")
    learning_rate: float = Field(
        1e-5, gt=0.0, description="AdamW learning rate (constant); the tiny model wants about 1e-3."
    )
    max_grad_norm: float = Field(1.0, gt=0.0, description="Gradient clipping by global norm.")
    seed: int = Field(0, description="Seeds the shuffling, the tiny model's initialisation and evaluation sampling.")
    use_chat_template: bool | None = Field(
        None, description="Render prompts with the tokenizer's chat template; None: when it has one."
    )
    device: str = Field("auto", description="'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:1', ...")
    env: str | None = Field(
        None, description="Env for the held-out evaluation; None: the data's `env` column, if it names one env."
    )
    env_options: dict[str, Any] | None = Field(
        None, description="Options of that env (JSON); None: the data's `env_options` column."
    )
    eval_prompts: int = Field(
        64, ge=0, description="Held-out prompts (evaluation seeds) evaluated before and after; 0: no evaluation."
    )
    max_new_tokens: int = Field(64, ge=1, description="Generation budget of the evaluation, in tokens.")
    pass_k: int = Field(4, ge=1, description="k of pass@k in the evaluation.")
    tensorboard: bool = Field(True, description="Also write TensorBoard event files.")
    progress: bool = Field(True, description="Show a progress bar.")


@dataclass(frozen=True)
class SFTResult:
    """What ``train_sft`` reports.

    Attributes:
        output_dir: ``config.out``: metrics.jsonl, curves.png (and tensorboard/).
        model_dir: the fine-tuned model (``output_dir / "final"``), readable by ``load_policy``.
        losses: the loss of each step (nats per completion token).
        examples: rows of the data set.
        eval_before: held-out metrics (``accuracy``, ``reward``, ``pass@k``) before; empty without evaluation.
        eval_after: the same after the last step.
    """

    output_dir: Path
    model_dir: Path
    losses: list[float]
    examples: int
    eval_before: dict[str, float] = field(default_factory=dict)
    eval_after: dict[str, float] = field(default_factory=dict)


def load_sft_dataset(path: str | Path, field_name: str = "data") -> Any:
    """A data set of prompts and completions, from disk.

    Args:
        path: one of: a directory written by ``rlvr sample`` (its ``data/``
            subdirectory is read); a directory written by
            ``datasets.Dataset.save_to_disk`` (a ``DatasetDict`` must have a
            ``train`` split); a ``.jsonl`` file, one JSON object per line.
        field_name: the name of the config field (CLI flag) that gave ``path``, for error messages.

    Returns:
        A ``datasets.Dataset`` with at least the columns of ``REQUIRED_COLUMNS``.

    Raises:
        SFTInputError: the path does not exist, is not a data set, has a line
            that is not a JSON object, or lacks a required column (the message
            lists the columns it has).
    """
    import datasets

    path = Path(path).expanduser()
    if not path.exists():
        raise SFTInputError(field_name, f"{path}: no such file or directory")
    if path.is_dir():
        if (path / "data").is_dir() and not (path / "dataset_info.json").exists():
            path = path / "data"  # the output directory of rlvr sample
        try:
            loaded = datasets.load_from_disk(str(path))
        except FileNotFoundError:
            raise SFTInputError(
                field_name,
                f"{path}: not a data set directory (expected the output of `rlvr sample`, "
                "of Dataset.save_to_disk, or a .jsonl file)",
            ) from None
        if isinstance(loaded, datasets.DatasetDict):
            if "train" not in loaded:
                raise SFTInputError(field_name, f"{path}: a DatasetDict without a 'train' split ({sorted(loaded)})")
            loaded = loaded["train"]
        dataset = loaded
    else:
        rows = []
        with path.open(encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    row = None
                if not isinstance(row, dict):
                    raise SFTInputError(field_name, f"{path}:{number}: not a JSON object: {line[:80]!r}")
                rows.append(row)
        dataset = datasets.Dataset.from_list(rows)
    missing = [column for column in REQUIRED_COLUMNS if column not in dataset.column_names]
    if missing:
        raise SFTInputError(
            field_name,
            f"{path}: no {' or '.join(missing)} column; it has columns {dataset.column_names} "
            f"(a data set for SFT needs {', '.join(REQUIRED_COLUMNS)})",
        )
    return dataset


def examples_from_dataset(dataset: Any) -> list[SFTExample]:
    """The rows of ``dataset`` as ``SFTExample``s.

    ``messages``, when the data set has it, is the conversation: a trailing
    assistant message (the answer, as ``rlvr sample`` writes it) is dropped, so
    only the prompt's messages remain. Without ``messages`` the prompt is one
    user message.
    """
    has_messages = "messages" in dataset.column_names
    examples = []
    for row in dataset:
        messages = [dict(m) for m in row["messages"]] if has_messages and row["messages"] else []
        if messages and messages[-1].get("role") == "assistant":
            messages = messages[:-1]
        if not messages:
            messages = [{"role": "user", "content": row["prompt"]}]
        examples.append(SFTExample(str(row["prompt"]), messages, str(row["completion"])))
    return examples


def train_sft(config: SFTConfig) -> SFTResult:
    """Fine-tune ``config.model`` on ``config.data`` with the cold start's loss; save it to ``out/final``.

    Each epoch visits the examples in a fresh order drawn from ``config.seed``.
    Writes ``out/metrics.jsonl`` (``loss``, nats per completion token, and
    ``epoch`` per step under split ``train``; evaluation under ``eval`` at steps
    0 and the last), ``out/curves.png`` and ``out/final`` (``save_policy``).

    Raises:
        SFTInputError: bad data (see ``load_sft_dataset``), an empty data set, or
            ``eval_prompts > 0`` with no env to evaluate on.
        OSError: the model cannot be loaded.
    """
    from rlvr.trainers.models.policy import load_policy, resolve_device, save_policy
    from rlvr.trainers.rollout.engines import make_engine
    from rlvr.trainers.run.curves import plot_curves
    from rlvr.trainers.run.evaluate import EVAL_SEED_OFFSET, evaluate
    from rlvr.trainers.run.metrics import MetricsLogger

    dataset = load_sft_dataset(config.data)
    if len(dataset) == 0:
        raise SFTInputError("data", f"{config.data}: the data set has no rows (did `rlvr sample` accept nothing?)")
    examples = examples_from_dataset(dataset)
    env_id, env_options = _eval_env(config, dataset)

    device = resolve_device(config.device)
    model, tokenizer = load_policy(config.model, device=device, seed=config.seed)
    renderer = PromptRenderer.for_model(
        model, tokenizer, config.use_chat_template, config.max_new_tokens, str(config.data)
    )
    engine = make_engine("hf", model, tokenizer)

    def evaluation() -> dict[str, float]:
        if env_id is None:
            return {}
        seeds = [EVAL_SEED_OFFSET + i for i in range(config.eval_prompts)]
        metrics = evaluate(
            env_id,
            env_options,
            engine,
            renderer,
            seeds,
            max_new_tokens=config.max_new_tokens,
            k=config.pass_k,
            seed=config.seed,
        )
        return metrics

    per_epoch = math.ceil(len(examples) / config.batch_size)
    steps = config.steps if config.steps is not None else config.epochs * per_epoch
    rng = np.random.default_rng([config.seed, 11])

    def batches() -> Iterator[list[SFTExample]]:
        done = 0
        while True:
            order = rng.permutation(len(examples))
            for start in range(0, len(order), config.batch_size):
                if done == steps:
                    return
                yield [examples[i] for i in order[start : start + config.batch_size]]
                done += 1

    out = Path(config.out)
    with MetricsLogger(out, tensorboard=config.tensorboard) as log:
        eval_before = evaluation()
        if eval_before:
            log.log(0, eval_before, split="eval")
        losses = fit(
            model,
            renderer,
            batches(),
            learning_rate=config.learning_rate,
            steps=steps,
            max_grad_norm=config.max_grad_norm,
            progress=config.progress,
            description="SFT",
            on_step=lambda step, loss: log.log(step, {"loss": loss, "epoch": (step - 1) // per_epoch + 1}),
        )
        eval_after = evaluation()
        if eval_after:
            log.log(steps, eval_after, split="eval")
    model.eval()
    save_policy(model, tokenizer, out / "final")
    plot_curves(out / "metrics.jsonl", out / "curves.png", title=f"{out.name}: SFT on {config.data}")
    return SFTResult(out, out / "final", losses, len(examples), eval_before, eval_after)


def _eval_env(config: SFTConfig, dataset: Any) -> tuple[str | None, dict[str, Any]]:
    """The env (and its options) to evaluate on: the config's, else the data's single one; None: no evaluation."""
    if config.eval_prompts == 0:
        return None, {}
    env_id = config.env
    if env_id is None and "env" in dataset.column_names:
        names = set(dataset.unique("env"))
        env_id = names.pop() if len(names) == 1 else None
    if env_id is None:
        raise SFTInputError(
            "env",
            "is needed for the held-out evaluation: the data names no single env "
            "(give --env, or --eval-prompts 0 to skip the evaluation)",
        )
    envs.import_modules(config.imports)
    envs.entry(env_id)  # fail early, listing the valid ids
    if config.env_options is not None:
        return env_id, dict(config.env_options)
    if "env_options" in dataset.column_names and "env" in dataset.column_names:
        options = {text for name, text in zip(dataset["env"], dataset["env_options"], strict=True) if name == env_id}
        if len(options) == 1:
            return env_id, json.loads(options.pop())
        if len(options) > 1:
            raise SFTInputError("env_options", f"is needed: the data holds several option sets for {env_id}")
    return env_id, {}
