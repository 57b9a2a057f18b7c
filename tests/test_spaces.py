import numpy as np
import pytest
from gymnasium.vector.utils import batch_space

from rlvr.envs.core.spaces import UnicodeText


def test_contains_any_unicode_text_within_length():
    space = UnicodeText(10)
    assert "héllo 中文 😀" in space
    assert "" in space
    assert "\x00\udc80" in space
    assert "x" * 11 not in space
    assert b"bytes" not in space
    assert 5 not in space


def test_min_length_is_enforced():
    space = UnicodeText(10, min_length=2)
    assert "a" not in space
    assert "ab" in space


def test_samples_are_members_and_seeded():
    first, second = UnicodeText(50, seed=3), UnicodeText(50, seed=3)
    samples = [first.sample() for _ in range(20)]
    assert samples == [second.sample() for _ in range(20)]
    assert all(s in first for s in samples)
    assert any(not s.isascii() for s in samples)


def test_sample_respects_a_small_max_length():
    space = UnicodeText(3, seed=0)
    assert all(len(space.sample()) <= 3 for _ in range(50))


def test_sample_rejects_masks():
    with pytest.raises(NotImplementedError):
        UnicodeText(5).sample(mask=(None, np.ones(1, dtype=np.int8)))


def test_equality_depends_on_bounds_only():
    assert UnicodeText(5) == UnicodeText(5, seed=1)
    assert UnicodeText(5) != UnicodeText(6)
    assert UnicodeText(5, min_length=1) != UnicodeText(5)


def test_batches_like_gymnasium_text():
    batched = batch_space(UnicodeText(8), n=3)
    sample = batched.sample()
    assert len(sample) == 3
    assert all(isinstance(s, str) and len(s) <= 8 for s in sample)


def test_shared_memory_round_trips_any_text():
    from gymnasium.vector.utils import (
        create_shared_memory,
        read_from_shared_memory,
        write_to_shared_memory,
    )

    space = UnicodeText(16)
    memory = create_shared_memory(space, n=3)
    view = read_from_shared_memory(space, memory, n=3)
    texts = ["héllo 😀", "", "\udc80中\x00"]
    for index, text in enumerate(texts):
        write_to_shared_memory(space, index, text, memory)
    assert tuple(view) == tuple(texts)
    write_to_shared_memory(space, 1, "later", memory)
    assert view[1] == "later"  # a live view, like numpy's
    with pytest.raises(ValueError, match="does not fit"):
        write_to_shared_memory(space, 0, "x" * 17, memory)
