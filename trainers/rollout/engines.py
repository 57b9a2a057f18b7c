"""Rollout engines: turn prompt token ids into sampled completion token ids.

The trainer depends on the ``RolloutEngine`` interface only. Two engines:

* ``HFEngine``: transformers ``generate`` (batched, KV cache, CPU or GPU). It
  samples from the very model being trained, so there are no weights to sync.
* ``VLLMEngine``: an in-process vLLM engine (GPU, optional extra); after each
  optimizer step the trainer pushes the new weights into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch

__all__ = ["HFEngine", "RolloutEngine", "SamplingParams", "VLLMEngine", "make_engine"]


@dataclass(frozen=True)
class SamplingParams:
    """How to sample one completion.

    Attributes:
        max_new_tokens: generation budget, in tokens.
        temperature: 0 means greedy decoding.
        top_p: nucleus sampling mass.
        seed: seeds the sampler, so a resumed run draws what the original would have.
    """

    max_new_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None


class RolloutEngine(Protocol):
    """Samples completions for token-id prompts."""

    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[list[int]]:
        """One completion per prompt: its token ids, ending with EOS if the model stopped.

        Nothing after the first EOS is returned; a completion without EOS hit
        ``max_new_tokens``.
        """
        ...

    def update_weights(self, model: torch.nn.Module) -> None:
        """Make the engine sample from ``model``'s current weights."""
        ...


class HFEngine:
    """Batched ``model.generate`` with a KV cache, on the model being trained.

    Args:
        model: a transformers causal LM.
        pad_token_id: id used to left-pad prompts.
        eos_token_id: id (or ids) that end a completion.
        batch_size: prompts per ``generate`` call (bounds memory).
        synced: keep generating until every process is done (needed when the
            model is sharded with FSDP and each forward is collective).
    """

    def __init__(
        self,
        model: Any,
        pad_token_id: int,
        eos_token_id: int | list[int],
        batch_size: int = 64,
        synced: bool = False,
    ) -> None:
        self.model = model
        self.synced = synced  # FSDP: every process keeps stepping until all have finished
        self.pad_token_id = pad_token_id
        self.eos_ids = {eos_token_id} if isinstance(eos_token_id, int) else set(eos_token_id)
        self.batch_size = batch_size

    def update_weights(self, model: torch.nn.Module) -> None:
        self.model = model  # generate runs on the trained module itself

    @torch.no_grad()
    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[list[int]]:
        device = next(self.model.parameters()).device
        generator = None
        if params.seed is not None:
            if self.synced:  # transformers' generate draws from the global generator
                torch.manual_seed(params.seed)
            else:  # a private stream: sampling in a background thread leaves the global one alone
                generator = torch.Generator(device=device).manual_seed(params.seed)
        was_training = self.model.training
        self.model.eval()
        try:
            completions: list[list[int]] = []
            for start in range(0, len(prompts), self.batch_size):
                completions += self._generate_batch(prompts[start : start + self.batch_size], params, generator)
        finally:
            self.model.train(was_training)
        return completions

    def _generate_batch(
        self, prompts: list[list[int]], params: SamplingParams, generator: torch.Generator | None = None
    ) -> list[list[int]]:
        device = next(self.model.parameters()).device
        if not self.synced:
            # A GRPO group repeats one prompt G times: prefill each distinct prompt once.
            distinct: dict[tuple[int, ...], int] = {}
            rows = [distinct.setdefault(tuple(p), len(distinct)) for p in prompts]
            input_ids, attention_mask = self._left_pad([list(p) for p in distinct])
            expand = torch.tensor(rows, device=device)
            return self._decode(input_ids.to(device), attention_mask.to(device), expand, params, generator)
        input_ids, attention_mask = self._left_pad(prompts)
        width = input_ids.shape[1]
        sampling = params.temperature > 0
        output = self.model.generate(
            input_ids=input_ids.to(device),
            attention_mask=attention_mask.to(device),
            max_new_tokens=params.max_new_tokens,
            do_sample=sampling,
            temperature=params.temperature if sampling else None,
            top_p=params.top_p if sampling else None,
            top_k=None,
            pad_token_id=self.pad_token_id,
            eos_token_id=sorted(self.eos_ids),
            use_cache=True,
            synced_gpus=self.synced,
        )
        return [self._until_eos(row[width:].tolist()) for row in output.cpu()]

    def _left_pad(self, prompts: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            input_ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
            attention_mask[row, width - len(prompt) :] = 1
        return input_ids, attention_mask

    def _decode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        expand: torch.Tensor,
        params: SamplingParams,
        generator: torch.Generator | None = None,
    ) -> list[list[int]]:
        """A lean sampling loop with a KV cache: one prefill, then one token per forward.

        It does what ``generate`` does for plain sampling (temperature, top-p,
        stop at EOS) without its per-call set-up, which dominates short
        completions. The prefill runs on the distinct prompts only; row ``i``
        of the output continues prompt ``expand[i]``. Positions follow the
        attention mask, so a left-padded prompt is seen at the same positions
        as unpadded.
        """
        batch = expand.shape[0]
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        # Prompts of one length need no mask: the causal mask is the whole story, and the model skips building one.
        mask: torch.Tensor | None = attention_mask if not bool(attention_mask.all()) else None
        output = self.model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids, use_cache=True)
        if input_ids.shape[0] != batch or not torch.equal(expand, torch.arange(batch, device=expand.device)):
            output.past_key_values.batch_select_indices(expand)
            output.logits = output.logits[expand]
            mask, position_ids = (mask[expand] if mask is not None else None), position_ids[expand]
        next_position = position_ids[:, -1:] + 1
        eos = torch.tensor(sorted(self.eos_ids), device=input_ids.device)
        finished = torch.zeros(batch, dtype=torch.bool, device=input_ids.device)
        steps = []
        for _ in range(params.max_new_tokens):
            token = _pick(output.logits[:, -1, :].float(), params, generator)
            token = torch.where(finished, torch.full_like(token, self.pad_token_id), token)
            steps.append(token)
            finished |= torch.isin(token, eos)
            if bool(finished.all()) or len(steps) == params.max_new_tokens:
                break
            if mask is not None:
                mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            output = self.model(
                input_ids=token[:, None],
                attention_mask=mask,
                position_ids=next_position,
                past_key_values=output.past_key_values,
                use_cache=True,
            )
            next_position = next_position + 1
        tokens = torch.stack(steps, dim=1).cpu().tolist()
        return [self._until_eos(row) for row in tokens]

    def _until_eos(self, tokens: list[int]) -> list[int]:
        for index, token in enumerate(tokens):
            if token in self.eos_ids:
                return tokens[: index + 1]
        return tokens


def _pick(logits: torch.Tensor, params: SamplingParams, generator: torch.Generator | None = None) -> torch.Tensor:
    """Next token per row [B] from last-position logits [B, V]: greedy at temperature 0, else sampled.

    Uniform draws come from ``generator``, or from torch's global generator when it is None.
    """
    if params.temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        outside = sorted_probs.cumsum(-1) - sorted_probs > params.top_p  # keep the smallest set reaching top_p
        sorted_probs = sorted_probs.masked_fill(outside, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    # Inverse-CDF sampling: the first token whose cumulative probability exceeds u ~ U[0, total) is token i
    # with probability p_i, and never a token of probability 0. Several times cheaper than ``torch.multinomial``.
    cumulative = probs.cumsum(dim=-1)
    total = cumulative[:, -1:]
    u = torch.rand(total.shape, dtype=total.dtype, device=total.device, generator=generator) * total
    return (cumulative <= u).sum(dim=-1)


class VLLMEngine:
    """An in-process vLLM engine; weights are pushed from the trainer after each update.

    Requires the ``vllm`` extra and a GPU. ``model_path`` is what vLLM loads at
    start (the policy saved to disk); ``update_weights`` then loads the live
    trainer weights into vLLM's model by name.
    """

    def __init__(self, model_path: str, eos_token_id: int | list[int], gpu_memory_utilization: float = 0.3) -> None:
        try:
            from vllm import LLM
        except ImportError as error:
            raise ImportError("engine='vllm' needs vLLM: pip install 'rlvr-gym[vllm]' (GPU only)") from error
        self.llm = LLM(model=model_path, gpu_memory_utilization=gpu_memory_utilization, enable_prefix_caching=True)
        self.eos_ids = {eos_token_id} if isinstance(eos_token_id, int) else set(eos_token_id)

    def update_weights(self, model: torch.nn.Module) -> None:
        state = model.state_dict()
        weights = [(name.removeprefix("module."), tensor) for name, tensor in state.items()]

        def load(worker: Any) -> None:
            worker.model_runner.model.load_weights(weights=weights)

        self.llm.collective_rpc(load)
        self.llm.reset_prefix_cache()

    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[list[int]]:
        from vllm import SamplingParams as VSamplingParams
        from vllm.inputs import TokensPrompt

        sampling = VSamplingParams(
            max_tokens=params.max_new_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            seed=params.seed,
            stop_token_ids=sorted(self.eos_ids),
        )
        outputs = self.llm.generate([TokensPrompt(prompt_token_ids=p) for p in prompts], sampling, use_tqdm=False)
        return [list(output.outputs[0].token_ids) for output in outputs]


def make_engine(
    kind: str, model: Any, tokenizer: Any, model_path: str | None = None, synced: bool = False
) -> RolloutEngine:
    """The engine named ``kind`` (``hf`` or ``vllm``) for ``model``; ``synced`` for FSDP-sharded models."""
    eos = tokenizer.eos_token_id
    if kind == "hf":
        return HFEngine(model, tokenizer.pad_token_id, eos, synced=synced)
    if kind == "vllm":
        if model_path is None:
            raise ValueError("engine='vllm' needs the policy saved to a path vLLM can load")
        return VLLMEngine(model_path, eos)
    raise ValueError(f"unknown rollout engine {kind!r}; choose 'hf' or 'vllm'")
