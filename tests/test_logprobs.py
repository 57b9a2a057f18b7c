import torch

from trainers.logprobs import pad_batch, token_logprobs
from trainers.models import build_tiny_model


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
