"""The critic: a causal LM's body with a zero-initialised scalar head, values aligned with log-probs."""

import pytest
import torch

from rlvr.trainers.models.logprobs import pad_batch, token_logprobs
from rlvr.trainers.models.policy import load_policy
from rlvr.trainers.models.value_model import ValueModel, token_values


def tiny_critic() -> tuple[ValueModel, object]:
    model, tokenizer = load_policy("tiny", seed=0)
    return ValueModel.from_causal_lm(model), tokenizer


def test_the_critic_takes_the_body_and_drops_the_language_model_head():
    model, _ = load_policy("tiny", seed=0)
    critic = ValueModel.from_causal_lm(model)
    assert critic.body is model.base_model
    assert not any("lm_head" in name for name, _ in critic.named_parameters())
    assert critic.head.out_features == 1


def test_values_start_at_zero_and_line_up_with_log_probs():
    critic, _ = tiny_critic()
    model, _ = load_policy("tiny", seed=0)
    batch = pad_batch([[1, 5, 6, 7], [1, 5]], [[0, 1, 1, 1], [0, 1]], pad_token_id=0)
    values = token_values(critic, batch)
    logp, _ = token_logprobs(model, batch)
    assert values.shape == logp.shape == batch.loss_mask.shape
    assert values.dtype == torch.float32
    assert torch.count_nonzero(values) == 0


def test_a_value_depends_only_on_the_prefix_before_its_token():
    critic, _ = tiny_critic()
    torch.nn.init.normal_(critic.head.weight, std=0.1)
    short = pad_batch([[1, 5, 6]], [[0, 1, 1]], pad_token_id=0)
    longer = pad_batch([[1, 5, 6, 9, 9]], [[0, 1, 1, 1, 1]], pad_token_id=0)
    with torch.no_grad():
        torch.testing.assert_close(token_values(critic, short)[0], token_values(critic, longer)[0, :2])


def test_gradients_reach_the_body_once_the_head_has_moved():
    critic, _ = tiny_critic()
    batch = pad_batch([[1, 5, 6, 7]], [[0, 1, 1, 1]], pad_token_id=0)
    token_values(critic, batch).sum().backward()
    assert critic.head.weight.grad is not None and critic.head.weight.grad.abs().sum() > 0
    critic.zero_grad()
    torch.nn.init.normal_(critic.head.weight, std=0.1)
    token_values(critic, batch).sum().backward()
    body_grads = [p.grad for p in critic.body.parameters() if p.grad is not None]
    assert body_grads and any(g.abs().sum() > 0 for g in body_grads)


def test_a_model_without_a_separate_body_is_refused():
    with pytest.raises(ValueError, match="no separate base model"):
        ValueModel.from_causal_lm(torch.nn.Linear(2, 2))
