import torch

from rlvr.trainers.models.logprobs import TokenBatch, pad_batch, shared_prompt_length, token_logprobs
from rlvr.trainers.models.policy import build_tiny_model


def test_pad_batch_right_pads_and_aligns_the_loss_mask():
    batch = pad_batch([[5, 6, 7], [8, 9]], [[0, 1, 1], [0, 1]], pad_token_id=0)
    assert batch.input_ids.tolist() == [[5, 6, 7], [8, 9, 0]]
    assert batch.attention_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch.loss_mask.tolist() == [[1, 1], [1, 0]]  # shifted: scores tokens 1..L-1


def test_select_trims_columns_that_are_padding_everywhere():
    batch = pad_batch([[5, 6, 7, 8], [8, 9]], [[0, 1, 1, 1], [0, 1]], pad_token_id=0)
    part = batch.select(slice(1, 2))
    assert part.input_ids.tolist() == [[8, 9]]
    assert part.loss_mask.tolist() == [[1]]


def test_logprobs_match_a_manual_log_softmax():
    model, tokenizer = build_tiny_model(seed=1)
    ids = tokenizer("12 + 3 = 15")["input_ids"]
    batch = pad_batch([ids], [[1] * len(ids)], tokenizer.pad_token_id)
    logp, entropy = token_logprobs(model, batch, with_entropy=True)
    logits = model(input_ids=batch.input_ids).logits[0, :-1]
    expected = torch.log_softmax(logits, -1)[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]
    torch.testing.assert_close(logp[0], expected)
    assert entropy is not None and (entropy >= 0).all()
    assert logp.shape == entropy.shape == (1, len(ids) - 1)


def test_padding_does_not_change_the_logprobs_of_real_tokens():
    model, tokenizer = build_tiny_model(seed=2)
    short, long = tokenizer("7 + 8")["input_ids"], tokenizer("17 + 28 = 45")["input_ids"]
    alone = pad_batch([short], [[1] * len(short)], tokenizer.pad_token_id)
    together = pad_batch([short, long], [[1] * len(short), [1] * len(long)], tokenizer.pad_token_id)
    first, _ = token_logprobs(model, alone)
    both, _ = token_logprobs(model, together)
    torch.testing.assert_close(both[0, : first.shape[1]], first[0])


def test_temperature_divides_the_logits():
    model, tokenizer = build_tiny_model(seed=3)
    ids = tokenizer("1 + 1 = 2")["input_ids"]
    batch = pad_batch([ids], [[1] * len(ids)], tokenizer.pad_token_id)
    hot, _ = token_logprobs(model, batch, temperature=2.0)
    logits = model(input_ids=batch.input_ids).logits[0, :-1] / 2.0
    expected = torch.log_softmax(logits, -1)[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]
    torch.testing.assert_close(hot[0], expected)


def _groups(tokenizer, prompts: list[str], completions: list[list[str]]) -> TokenBatch:
    """One group per prompt, a row per completion; the loss covers the completion."""
    sequences, masks = [], []
    for prompt, group in zip(prompts, completions, strict=True):
        head = tokenizer(prompt)["input_ids"]
        for completion in group:
            tail = tokenizer(completion, add_special_tokens=False)["input_ids"]
            sequences.append(head + tail)
            masks.append([0] * len(head) + [1] * len(tail))
    return pad_batch(sequences, masks, tokenizer.pad_token_id)


def test_a_shared_prompt_gives_the_same_logprobs_entropies_and_gradients():
    model, tokenizer = build_tiny_model(seed=4)
    model.train()
    batch = _groups(tokenizer, ["3 + 4 =", "12 + 30 ="], [[" 7", " 8 and", "", " 77"], [" 42", " 4", " 421", "x"]])
    assert shared_prompt_length(batch, 4) == len(tokenizer("3 + 4 =")["input_ids"])  # the shorter prompt

    def run(group_size: int) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        model.zero_grad()
        logp, entropy = token_logprobs(model, batch, temperature=0.7, with_entropy=True, group_size=group_size)
        assert entropy is not None
        ((logp + entropy) * batch.loss_mask).sum().backward()
        return logp, entropy, [p.grad.clone() for p in model.parameters()]

    (plain_logp, plain_entropy, plain_grads), (logp, entropy, grads) = run(1), run(4)
    generated = batch.loss_mask > 0
    assert logp.shape == plain_logp.shape
    torch.testing.assert_close(logp[generated], plain_logp[generated])
    torch.testing.assert_close(entropy[generated], plain_entropy[generated])
    for shared, plain in zip(grads, plain_grads, strict=True):
        torch.testing.assert_close(shared, plain, rtol=1e-4, atol=1e-6)


def test_no_prompt_is_shared_when_rows_do_not_form_groups():
    _, tokenizer = build_tiny_model(seed=5)
    batch = _groups(tokenizer, ["1 + 1 =", "2 + 2 ="], [[" 2", " 3"], [" 4", " 5"]])
    assert shared_prompt_length(batch, 2) > 0
    assert shared_prompt_length(batch, 4) == 0  # one "group" would hold two different prompts
    assert shared_prompt_length(batch, 3) == 0  # 4 rows do not split into 3s
    assert shared_prompt_length(batch.select(slice(1, 3)), 2) == 0  # a group split across micro-batches


def test_a_batch_without_generated_tokens_shares_nothing():
    _, tokenizer = build_tiny_model(seed=6)
    ids = tokenizer("5 + 5 =")["input_ids"]
    batch = pad_batch([ids, ids], [[0] * len(ids)] * 2, tokenizer.pad_token_id)
    assert shared_prompt_length(batch, 2) == 0
