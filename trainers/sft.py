"""Supervised fine-tuning on worked examples: the cold start of DeepSeek-R1's recipe.

Before RL, R1 is fine-tuned on a few thousand long worked solutions so that
its first rollouts are readable and in format. Here the examples come from the
env itself: a task's reference answer written in the prompt template's answer
format (``PromptTemplate.answer_completion``). The loss is the usual
next-token cross-entropy on the completion tokens only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import envs
from trainers.config import TrainerConfig
from trainers.episodes import PromptRenderer
from trainers.logprobs import pad_batch, token_logprobs
from verifiers.extract import AnswerFormat

__all__ = ["cold_start", "worked_example"]


def worked_example(env: Any, seed: int) -> tuple[str, list[dict[str, str]], str]:
    """``(prompt, messages, completion)`` for the task of ``seed``: the reference answer in the template's format."""
    prompt, info = env.reset(seed=seed)
    task = info["task"]
    answer = task.reference_answer()
    if answer is None:
        raise ValueError(f"{env.spec.id if env.spec else env}: tasks have no reference answer to fine-tune on")
    template = env.unwrapped.template
    if template.answer_format is AnswerFormat.LAST_NUMBER:
        return prompt, info["messages"], f" {answer}"
    return prompt, info["messages"], template.answer_completion(answer)


def cold_start(model: Any, tokenizer: Any, config: TrainerConfig, progress: bool = True) -> list[float]:
    """Fine-tune ``model`` in place for ``config.sft_steps`` steps on the env's worked examples.

    Seeds for the examples are drawn from ``(config.seed, "sft")``, below 2**31,
    apart from the held-out evaluation seeds. Returns the loss of each step.
    """
    from tqdm.auto import tqdm

    env = envs.make(config.env, **config.env_options)
    renderer = PromptRenderer(tokenizer, config.use_chat_template)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.cold_start_learning_rate)
    rng = np.random.default_rng([config.seed, 5, 7])
    eos = tokenizer.eos_token_id
    device = next(model.parameters()).device
    losses = []
    model.train()
    for _ in tqdm(range(config.sft_steps), desc="cold start (SFT)", unit="step", disable=not progress):
        sequences, masks = [], []
        for seed in rng.integers(0, 2**31, config.cold_start_batch_size):
            prompt, messages, completion = worked_example(env, int(seed))
            prompt_ids = renderer.prompt(prompt, messages)
            completion_ids = [*tokenizer(completion, add_special_tokens=False)["input_ids"], eos]
            sequences.append(prompt_ids + completion_ids)
            masks.append([0] * len(prompt_ids) + [1] * len(completion_ids))
        batch = pad_batch(sequences, masks, tokenizer.pad_token_id).to(device)
        logp, _ = token_logprobs(model, batch)
        loss = -(logp * batch.loss_mask).sum() / batch.loss_mask.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
    return losses
