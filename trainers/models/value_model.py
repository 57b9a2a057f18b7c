"""PPO's critic: a causal LM's transformer body with a scalar value head.

The classic RLHF set-up (Ziegler et al. 2019; InstructGPT) gives the critic
the policy's architecture and starting weights, its own copy of them, and
replaces the language-model head by one linear unit. ``ValueModel`` is that:
the body of any transformers causal LM (``model.base_model``: ``LlamaModel``
inside ``LlamaForCausalLM``, and so on) and ``nn.Linear(hidden_size, 1)``.
The head starts at zero, so every value is 0 before the first update and the
first advantages are the rewards themselves (TRL's value head starts from a
random init instead; with zero the critic adds no noise of its own to the
first steps).

``token_values`` lines the values up with ``rlvr.trainers.models.logprobs.token_logprobs``:
entry ``t`` of both belongs to token ``t + 1`` of the sequence, the value
being that of the state the token was generated from (the prefix up to
token ``t``).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from rlvr.trainers.models.logprobs import TokenBatch

__all__ = ["ValueModel", "token_values"]


class ValueModel(nn.Module):
    """``V(prefix)`` at every position of a sequence, in reward units.

    Args:
        body: a transformers base model that returns ``last_hidden_state``
            ``[B, L, H]`` (a causal LM's ``base_model``).
        hidden_size: ``H``.
    """

    def __init__(self, body: nn.Module, hidden_size: int) -> None:
        super().__init__()
        self.body = body
        parameter = next(body.parameters())
        self.head = nn.Linear(hidden_size, 1, device=parameter.device, dtype=parameter.dtype)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    @classmethod
    def from_causal_lm(cls, model: Any) -> ValueModel:
        """A critic that takes ``model``'s body (not a copy: pass a model of its own) and drops its LM head."""
        body = getattr(model, "base_model", model)
        if body is model:
            raise ValueError(f"{type(model).__name__} has no separate base model to put a value head on")
        return cls(body, int(model.config.hidden_size))

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        """``[B, L]`` float32 values: entry ``i`` is the value after reading tokens ``0 .. i``."""
        hidden = self.body(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
        return self.head(hidden).squeeze(-1).float()


def token_values(critic: nn.Module, batch: TokenBatch) -> Tensor:
    """``[B, L - 1]`` values aligned with ``token_logprobs``: entry ``t`` is the value before token ``t + 1``.

    The batch is right-padded, so under the causal mask no real position sees
    a pad and no attention mask is needed (as in ``token_logprobs``); values at
    padding positions are garbage and ``loss_mask`` is 0 there.
    """
    return critic(input_ids=batch.input_ids)[:, :-1]
