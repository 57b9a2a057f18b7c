"""Rollout engines: turn prompt token ids into sampled completions.

The trainer depends on the ``RolloutEngine`` interface only. Two engines:

* ``HFEngine``: a lean KV-cache sampling loop on a transformers model (or
  ``model.generate`` when the model is sharded with FSDP), CPU or GPU. It
  samples from the very model being trained, so there are no weights to sync.
* ``VLLMEngine``: an in-process vLLM engine (GPU, optional extra); after each
  optimizer step the trainer pushes the new weights into it.

``engine.sample(prompts, params)`` returns one ``Completion`` per prompt: the
tokens, why generation ended, and, when asked, the log-probability the sampler
gave each token. The sampler's distribution is built as vLLM and transformers
build it: the logits divided by the temperature, then top-k, top-p and min-p,
then renormalised (``processed_logprobs``). A token is drawn from it by the
exponential race (``argmax_i p_i / E_i`` with ``E_i ~ Exp(1)``, the Gumbel-max
trick in another form, as vLLM draws), so every token of positive probability
can come out, however large the vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

import torch

from rlvr.trainers.models.kv_cache import cache_kwargs, output_cache

__all__ = [
    "Completion",
    "FinishReason",
    "HFEngine",
    "RolloutEngine",
    "SamplingParams",
    "VLLMEngine",
    "make_engine",
    "processed_logprobs",
    "vllm_sampling_options",
]

FinishReason = Literal["stop", "length"]
"""Why a completion ended: ``stop`` (an EOS token or a stop string) or ``length`` (the token budget)."""


@dataclass(frozen=True)
class SamplingParams:
    """How to sample one completion.

    The filters apply in this order (transformers' order): temperature, top-k,
    top-p, min-p; then the kept tokens' probabilities are renormalised and one
    is drawn.

    Attributes:
        max_new_tokens: generation budget, in tokens (>= 1).
        temperature: divides the logits; 0 means greedy decoding (argmax).
        top_p: nucleus sampling: keep the smallest set of most likely tokens
            whose probability reaches ``top_p`` (in (0, 1]; 1: off).
        seed: seeds the sampler, so a resumed run draws what the original would have.
        top_k: keep the ``top_k`` most likely tokens (ties at the k-th kept too; 0: off).
        min_p: keep the tokens of probability >= ``min_p`` times the most likely
            token's (in [0, 1]; 0: off).
        stop: stop strings. A completion ends with the token whose text
            completes one of them; that token and the ones before it are
            returned (the stop string stays in the completion), nothing after.
            A list is accepted and stored as a tuple.
        logprobs: return each sampled token's log-probability (``Completion.logprobs``).
    """

    max_new_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    top_k: int = 0
    min_p: float = 0.0
    stop: tuple[str, ...] = ()
    logprobs: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            raise TypeError(f"stop is a tuple of stop strings, got the string {self.stop!r}: write ({self.stop!r},)")
        object.__setattr__(self, "stop", tuple(self.stop))
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not self.temperature >= 0:
            raise ValueError(f"temperature must be >= 0 (0: greedy), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0: off), got {self.top_k}")
        if not 0 <= self.min_p <= 1:
            raise ValueError(f"min_p must be in [0, 1] (0: off), got {self.min_p}")
        if not all(isinstance(s, str) and s for s in self.stop):
            raise ValueError(f"stop strings must be non-empty strings, got {self.stop!r}")


@dataclass(frozen=True)
class Completion:
    """One sampled completion, as the sampler made it.

    Attributes:
        token_ids: the generated tokens, ending with the EOS token or with the
            token that completed a stop string when ``finish_reason == "stop"``.
        logprobs: per token of ``token_ids``, the natural-log probability the
            sampler gave it under the distribution it drew from (after
            temperature, top-k, top-p, min-p and renormalisation; see
            ``processed_logprobs``); None unless ``SamplingParams.logprobs``.
        finish_reason: ``stop`` (EOS or a stop string) or ``length`` (``max_new_tokens`` reached).
    """

    token_ids: list[int]
    logprobs: list[float] | None
    finish_reason: FinishReason

    def __post_init__(self) -> None:
        if self.logprobs is not None and len(self.logprobs) != len(self.token_ids):
            raise ValueError(f"{len(self.logprobs)} log-probs for {len(self.token_ids)} tokens")


class RolloutEngine(Protocol):
    """Samples completions for token-id prompts."""

    def sample(self, prompts: list[list[int]], params: SamplingParams) -> list[Completion]:
        """One ``Completion`` per prompt, in order.

        Nothing after the first EOS token or the token that completes a stop
        string is returned; a completion without either hit ``max_new_tokens``.
        """
        ...

    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[list[int]]:
        """The token ids of ``sample(prompts, params)``'s completions."""
        ...

    def update_weights(self, model: torch.nn.Module) -> None:
        """Make the engine sample from ``model``'s current weights."""
        ...


def processed_logprobs(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """The log-probabilities of the distribution the sampler draws from.

    Args:
        logits: [B, V] next-token logits (any float dtype; computed in float32).
        params: temperature, top-k, top-p and min-p, applied in that order.

    Returns:
        [B, V] float32 natural-log probabilities, -inf on the tokens the filters
        removed; each row's kept probabilities sum to 1. At temperature 0
        (greedy) no distribution is drawn from: the rows are then the
        temperature-1 log-probs with no filter (what vLLM reports for greedy
        requests, and what ``token_logprobs`` scores at temperature 0).
    """
    logits = logits.float()
    if params.temperature <= 0:
        return torch.log_softmax(logits, dim=-1)
    if params.temperature != 1.0:
        logits = logits / params.temperature
    if 0 < params.top_k < logits.shape[-1]:
        kth = logits.topk(params.top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if params.top_p < 1.0:
        sorted_probs, order = torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)
        # Keep the smallest set reaching top_p: a token goes when the more likely ones already hold top_p.
        outside = sorted_probs.cumsum(dim=-1) - sorted_probs >= params.top_p
        logits = logits.masked_fill(torch.zeros_like(outside).scatter(-1, order, outside), float("-inf"))
    if params.min_p > 0:
        probs = torch.softmax(logits, dim=-1)
        logits = logits.masked_fill(probs < params.min_p * probs.amax(dim=-1, keepdim=True), float("-inf"))
    return torch.log_softmax(logits, dim=-1)


def _race(logprobs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One token per row [B], drawn from ``logprobs`` [B, V] by the exponential race.

    ``argmax_i p_i / E_i`` with ``E_i ~ Exp(1)`` independent is token i with
    probability p_i (the smallest of independent ``E_i / p_i``, exponentials
    of rates p_i, is the i-th with probability p_i / sum p). Computed as
    ``argmax log p_i - log E_i`` (log p_i = -inf never wins), so no token's
    chance rests on a float32 running sum: an inverse-CDF draw cannot reach a
    token whose probability is below the resolution of the cumulative sum at
    its place. The exponentials come from ``generator``, or torch's global
    generator when it is None.
    """
    exponentials = torch.empty_like(logprobs).exponential_(generator=generator)
    return (logprobs - exponentials.clamp_min(torch.finfo(logprobs.dtype).tiny).log()).argmax(dim=-1)


def _sample_step(
    logits: torch.Tensor, params: SamplingParams, generator: torch.Generator | None, with_logprobs: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The next token per row [B] from last-position logits [B, V], and its log-prob [B] when asked."""
    if params.temperature <= 0 and not with_logprobs:
        return logits.argmax(dim=-1), None
    distribution = processed_logprobs(logits, params)
    token = distribution.argmax(dim=-1) if params.temperature <= 0 else _race(distribution, generator)
    return token, (distribution.gather(-1, token[:, None]).squeeze(-1) if with_logprobs else None)


def _pick(logits: torch.Tensor, params: SamplingParams, generator: torch.Generator | None = None) -> torch.Tensor:
    """Next token per row [B] from last-position logits [B, V]: greedy at temperature 0, else sampled.

    Draws come from ``generator``, or from torch's global generator when it is None.
    """
    return _sample_step(logits, params, generator, with_logprobs=False)[0]


class _StopStrings:
    """Finds where a completion's text first contains a stop string, from short tail windows of its tokens.

    A token decodes to at least one byte, so a stop string of n UTF-8 bytes
    lies within the last n tokens of the completion at the token that
    completes it; the window holds one token more, so that a stop string
    starting inside a token is seen whole.
    """

    def __init__(self, tokenizer: Any, stop: tuple[str, ...]) -> None:
        self.tokenizer = tokenizer
        self.stop = stop
        self.window = max(len(s.encode("utf-8")) for s in stop) + 1

    def hits(self, windows: list[list[int]]) -> list[bool]:
        """Whether each window of tokens decodes to a text containing a stop string."""
        texts = self.tokenizer.batch_decode(windows, skip_special_tokens=True)
        return [any(s in text for s in self.stop) for text in texts]

    def first_end(self, tokens: list[int]) -> int | None:
        """Index of the token that completes the first stop string in ``tokens``, or None."""
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        if not any(s in text for s in self.stop):
            return None
        hits = self.hits([tokens[max(0, end + 1 - self.window) : end + 1] for end in range(len(tokens))])
        return hits.index(True) if True in hits else None


class _Sampler:
    """A transformers logits processor that replaces the scores by ``processed_logprobs`` and records log-probs.

    ``generate`` runs a user's processors before its own temperature, top-k,
    top-p and min-p, so those stay off and this one does all of them; the
    log-prob of the token drawn at step t is read at step t + 1, when it is
    the last of ``input_ids``, and of the last token by ``finish``. Only the
    previous step's [B, V] log-probs are kept.
    """

    def __init__(self, params: SamplingParams) -> None:
        self.params = params
        self.chosen: list[torch.Tensor] = []
        self._previous: torch.Tensor | None = None

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        distribution = processed_logprobs(scores, self.params)
        if self.params.logprobs:
            if self._previous is not None:
                self.chosen.append(self._previous.gather(-1, input_ids[:, -1:]).squeeze(-1))
            self._previous = distribution
        return distribution

    def finish(self, generated: torch.Tensor) -> torch.Tensor:
        """[B, T] log-probs of the generated tokens [B, T]."""
        if self._previous is not None and len(self.chosen) < generated.shape[1]:
            self.chosen.append(self._previous.gather(-1, generated[:, -1:]).squeeze(-1))
        return torch.stack(self.chosen[: generated.shape[1]], dim=1)


class HFEngine:
    """Sampling on a transformers causal LM with a KV cache, on the model being trained.

    Args:
        model: a transformers causal LM.
        pad_token_id: id used to left-pad prompts.
        eos_token_id: id (or ids) that end a completion.
        batch_size: prompts per batch (bounds memory).
        synced: sample with ``model.generate(synced_gpus=True)``, which keeps
            every process stepping until all have finished (needed when the
            model is sharded with FSDP and each forward is collective);
            otherwise a lean loop of one forward per token.
        tokenizer: decodes tails of completions to find stop strings; needed
            only for ``SamplingParams.stop``.
    """

    def __init__(
        self,
        model: Any,
        pad_token_id: int,
        eos_token_id: int | list[int],
        batch_size: int = 64,
        synced: bool = False,
        tokenizer: Any = None,
    ) -> None:
        self.model = model
        self.synced = synced  # FSDP: every process keeps stepping until all have finished
        self.pad_token_id = pad_token_id
        self.eos_ids = {eos_token_id} if isinstance(eos_token_id, int) else set(eos_token_id)
        self.batch_size = batch_size
        self.tokenizer = tokenizer

    def update_weights(self, model: torch.nn.Module) -> None:
        self.model = model  # sampling runs on the trained module itself

    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[list[int]]:
        """The token ids of ``sample(prompts, params)``'s completions."""
        return [completion.token_ids for completion in self.sample(prompts, params)]

    @torch.no_grad()
    def sample(self, prompts: list[list[int]], params: SamplingParams) -> list[Completion]:
        """One ``Completion`` per prompt (see ``RolloutEngine.sample``)."""
        if params.stop and self.tokenizer is None:
            raise ValueError("stop strings need a tokenizer to read the text: HFEngine(..., tokenizer=tokenizer)")
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
            completions: list[Completion] = []
            for start in range(0, len(prompts), self.batch_size):
                completions += self._sample_batch(prompts[start : start + self.batch_size], params, generator)
        finally:
            self.model.train(was_training)
        return completions

    def _sample_batch(
        self, prompts: list[list[int]], params: SamplingParams, generator: torch.Generator | None = None
    ) -> list[Completion]:
        device = next(self.model.parameters()).device
        if not self.synced:
            # A GRPO group repeats one prompt G times: prefill each distinct prompt once.
            distinct: dict[tuple[int, ...], int] = {}
            rows = [distinct.setdefault(tuple(p), len(distinct)) for p in prompts]
            input_ids, attention_mask = self._left_pad([list(p) for p in distinct])
            expand = torch.tensor(rows, device=device)
            return self._decode(input_ids.to(device), attention_mask.to(device), expand, params, generator)
        return self._generate(prompts, params)

    def _generate(self, prompts: list[list[int]], params: SamplingParams) -> list[Completion]:
        """``model.generate`` with ``synced_gpus``; temperature, top-k, top-p and min-p by ``_Sampler``."""
        from transformers import LogitsProcessorList

        input_ids, attention_mask = self._left_pad(prompts)
        device = next(self.model.parameters()).device
        width = input_ids.shape[1]
        sampler = _Sampler(params)
        sampling = params.temperature > 0
        output = self.model.generate(
            input_ids=input_ids.to(device),
            attention_mask=attention_mask.to(device),
            max_new_tokens=params.max_new_tokens,
            do_sample=sampling,
            # generate's own filters off (the model's generation config may set them): _Sampler applies ours
            temperature=1.0 if sampling else None,
            top_p=1.0 if sampling else None,
            top_k=0 if sampling else None,
            min_p=None,
            logits_processor=LogitsProcessorList([sampler]),
            stop_strings=list(params.stop) or None,
            tokenizer=self.tokenizer if params.stop else None,
            pad_token_id=self.pad_token_id,
            eos_token_id=sorted(self.eos_ids),
            use_cache=True,
            synced_gpus=self.synced,
        )
        generated = output[:, width:]
        logprobs = sampler.finish(generated).cpu().tolist() if params.logprobs else None
        stops = _StopStrings(self.tokenizer, params.stop) if params.stop else None
        completions = []
        for row, tokens in enumerate(generated.cpu().tolist()):
            end = next((i for i, token in enumerate(tokens) if token in self.eos_ids), None)
            stop_end = stops.first_end(tokens if end is None else tokens[:end]) if stops is not None else None
            end = stop_end if stop_end is not None else end
            length = len(tokens) if end is None else end + 1
            row_logprobs = logprobs[row][:length] if logprobs is not None else None
            completions.append(Completion(tokens[:length], row_logprobs, "length" if end is None else "stop"))
        return completions

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
    ) -> list[Completion]:
        """A lean sampling loop with a KV cache: one prefill, then one token per forward.

        It does what ``generate`` does for sampling (temperature, top-k, top-p,
        min-p, stop at EOS or a stop string) without its per-call set-up, which
        dominates short completions. The prefill runs on the distinct prompts
        only; row ``i`` of the output continues prompt ``expand[i]``. Positions
        follow the attention mask, so a left-padded prompt is seen at the same
        positions as unpadded. Stop strings are looked for in a short tail
        window of each unfinished row's tokens, decoded once per step.
        """
        batch = expand.shape[0]
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        # Prompts of one length need no mask: the causal mask is the whole story, and the model skips building one.
        mask: torch.Tensor | None = attention_mask if not bool(attention_mask.all()) else None
        output = self.model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids, use_cache=True)
        if input_ids.shape[0] != batch or not torch.equal(expand, torch.arange(batch, device=expand.device)):
            output_cache(output).batch_select_indices(expand)
            output.logits = output.logits[expand]
            mask, position_ids = (mask[expand] if mask is not None else None), position_ids[expand]
        next_position = position_ids[:, -1:] + 1
        eos = torch.tensor(sorted(self.eos_ids), device=input_ids.device)
        stops = _StopStrings(self.tokenizer, params.stop) if params.stop else None
        finished = torch.zeros(batch, dtype=torch.bool, device=input_ids.device)
        ends = [-1] * batch  # the step whose token ended each row
        steps: list[torch.Tensor] = []
        step_logprobs: list[torch.Tensor] = []
        for step in range(params.max_new_tokens):
            token, logprob = _sample_step(output.logits[:, -1, :], params, generator, params.logprobs)
            token = torch.where(finished, torch.full_like(token, self.pad_token_id), token)
            steps.append(token)
            if logprob is not None:
                step_logprobs.append(logprob)
            ended = ~finished & torch.isin(token, eos)
            if stops is not None:
                ended |= self._completes_stop(stops, steps, finished | ended)
            for row in ended.nonzero().flatten().tolist():
                ends[row] = step
            finished |= ended
            if bool(finished.all()) or len(steps) == params.max_new_tokens:
                break
            if mask is not None:
                mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            output = self.model(
                input_ids=token[:, None],
                attention_mask=mask,
                position_ids=next_position,
                use_cache=True,
                **cache_kwargs(self.model, output_cache(output)),
            )
            next_position = next_position + 1
        tokens = torch.stack(steps, dim=1).cpu().tolist()
        logprobs = torch.stack(step_logprobs, dim=1).cpu().tolist() if step_logprobs else None
        completions = []
        for row, end in enumerate(ends):
            length = len(tokens[row]) if end < 0 else end + 1
            row_logprobs = logprobs[row][:length] if logprobs is not None else None
            completions.append(Completion(tokens[row][:length], row_logprobs, "length" if end < 0 else "stop"))
        return completions

    @staticmethod
    def _completes_stop(stops: _StopStrings, steps: list[torch.Tensor], done: torch.Tensor) -> torch.Tensor:
        """[B] bool: the rows not ``done`` whose last token completes a stop string."""
        hit = torch.zeros(done.shape[0], dtype=torch.bool)
        rows = (~done).nonzero().flatten().tolist()
        if rows:
            tail = torch.stack(steps[-stops.window :], dim=1)[rows].cpu().tolist()
            hit[rows] = torch.tensor(stops.hits(tail))
        return hit.to(done.device)

    def _until_eos(self, tokens: list[int]) -> list[int]:
        for index, token in enumerate(tokens):
            if token in self.eos_ids:
                return tokens[: index + 1]
        return tokens


class VLLMEngine:
    """An in-process vLLM engine; weights are pushed from the trainer after each update.

    Requires the ``vllm`` extra and a GPU. ``model_path`` is what vLLM loads at
    start (the policy saved to disk); ``update_weights`` then loads the live
    trainer weights into vLLM's model by name.

    The engine is created with ``logprobs_mode="processed_logprobs"``: only
    then are vLLM's log-probs those of the distribution it drew from (after
    temperature, top-k, top-p and min-p), as ``Completion.logprobs`` promises;
    vLLM's default reports the raw model's. vLLM applies min-p before top-k and
    top-p: with min-p and top-p both set, its kept set can be smaller than
    ``processed_logprobs``'s.
    """

    def __init__(self, model_path: str, eos_token_id: int | list[int], gpu_memory_utilization: float = 0.3) -> None:
        try:
            from vllm import LLM
        except ImportError as error:
            raise ImportError("engine='vllm' needs vLLM: pip install 'rlvr-gym[vllm]' (GPU only)") from error
        self.llm = LLM(
            model=model_path,
            gpu_memory_utilization=gpu_memory_utilization,
            enable_prefix_caching=True,
            logprobs_mode="processed_logprobs",
        )
        self.eos_ids = {eos_token_id} if isinstance(eos_token_id, int) else set(eos_token_id)

    def update_weights(self, model: torch.nn.Module) -> None:
        state = model.state_dict()
        weights = [(name.removeprefix("module."), tensor) for name, tensor in state.items()]

        def load(worker: Any) -> None:
            worker.model_runner.model.load_weights(weights=weights)

        self.llm.collective_rpc(load)
        self.llm.reset_prefix_cache()

    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[list[int]]:
        """The token ids of ``sample(prompts, params)``'s completions."""
        return [completion.token_ids for completion in self.sample(prompts, params)]

    def sample(self, prompts: list[list[int]], params: SamplingParams) -> list[Completion]:
        """One ``Completion`` per prompt (see ``RolloutEngine.sample``)."""
        from vllm import SamplingParams as VSamplingParams
        from vllm.inputs import TokensPrompt

        sampling = VSamplingParams(**vllm_sampling_options(params, self.eos_ids))
        outputs = self.llm.generate([TokensPrompt(prompt_token_ids=p) for p in prompts], sampling, use_tqdm=False)
        completions = []
        for output in outputs:
            sample = output.outputs[0]
            tokens = list(sample.token_ids)
            logprobs = None
            if params.logprobs:  # with logprobs=0 each position holds the sampled token's entry only
                logprobs = [
                    float(position[token].logprob) for position, token in zip(sample.logprobs, tokens, strict=True)
                ]
            finish: FinishReason = "length" if sample.finish_reason == "length" else "stop"
            completions.append(Completion(tokens, logprobs, finish))
        return completions


def vllm_sampling_options(params: SamplingParams, eos_ids: set[int]) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for ``params`` (vLLM's top_k is -1 when off)."""
    return {
        "max_tokens": params.max_new_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k if params.top_k > 0 else -1,
        "min_p": params.min_p,
        "seed": params.seed,
        "stop": list(params.stop) or None,
        "include_stop_str_in_output": True,  # the text matches the tokens, which keep the stop string
        "stop_token_ids": sorted(eos_ids),
        "logprobs": 0 if params.logprobs else None,  # 0: the sampled token's log-prob only
    }


def make_engine(
    kind: str, model: Any, tokenizer: Any, model_path: str | None = None, synced: bool = False
) -> RolloutEngine:
    """The engine named ``kind`` (``hf`` or ``vllm``) for ``model``; ``synced`` for FSDP-sharded models."""
    eos = tokenizer.eos_token_id
    if kind == "hf":
        return HFEngine(model, tokenizer.pad_token_id, eos, synced=synced, tokenizer=tokenizer)
    if kind == "vllm":
        if model_path is None:
            raise ValueError("engine='vllm' needs the policy saved to a path vLLM can load")
        return VLLMEngine(model_path, eos)
    raise ValueError(f"unknown rollout engine {kind!r}; choose 'hf' or 'vllm'")
