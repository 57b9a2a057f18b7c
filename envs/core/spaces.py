"""A gymnasium space for arbitrary Unicode text.

``gymnasium.spaces.Text`` accepts only characters from a fixed charset
(alphanumerics by default), which rejects most prompts and most model output.
``UnicodeText`` accepts every ``str`` up to a maximum length. It subclasses
``Text`` so that gymnasium's vector utilities (batching, empty arrays) treat it
as the text space it is, and registers its own shared-memory layout (code
points) so ``AsyncVectorEnv`` works with it.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np
from gymnasium.spaces import Text
from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory, write_to_shared_memory

__all__ = ["UnicodeText"]

# What ``sample()`` draws from: ASCII, whitespace, the tags verifiers read,
# and a few scripts and symbols beyond Latin.
_SAMPLE_PIECES = (
    *"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?-+*/=()[]{}$\\\n\t",
    "é", "ß", "中", "文", "ش", "π", "√", "½", "−", "😀", "\u200b",
    "<think>", "</think>", "<answer>", "</answer>", "\\boxed{", "Final Answer: ",
)  # fmt: skip
_SAMPLE_MAX_CHARS = 256


class UnicodeText(Text):
    """Any Unicode string with ``min_length <= len(s) <= max_length`` (in characters).

    ``sample()`` returns a random string of up to 256 characters (or
    ``max_length`` if smaller) mixing ASCII, other scripts and the markup
    verifiers look for; it is a fuzzing aid, not a model of real completions.
    """

    def __init__(self, max_length: int, *, min_length: int = 0, seed: int | np.random.Generator | None = None):
        super().__init__(max_length, min_length=min_length, charset=" ", seed=seed)

    def contains(self, x: Any) -> bool:
        """True for a ``str`` whose length is within bounds."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random string within bounds; masks are not supported for open text."""
        if mask is not None or probability is not None:
            raise NotImplementedError("UnicodeText cannot be sampled with a mask or probability")
        high = max(self.min_length, min(self.max_length, _SAMPLE_MAX_CHARS))
        length = int(self.np_random.integers(self.min_length, high + 1))
        text = ""
        while len(text) < length:
            text += _SAMPLE_PIECES[int(self.np_random.integers(len(_SAMPLE_PIECES)))]
        return text[:length]

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )


# --- shared memory, for AsyncVectorEnv --------------------------------------
# gymnasium stores Text as indices into its charset; open text is stored as
# Unicode code points instead, one row of ``1 + max_length`` int32 per env:
# the length, then the characters.


@create_shared_memory.register(UnicodeText)
def _create_shared_memory(space: UnicodeText, n: int = 1, ctx: ModuleType = mp) -> Any:
    return ctx.Array(np.dtype(np.int32).char, n * (space.max_length + 1))


def _rows(space: UnicodeText, shared_memory: Any) -> np.ndarray:
    return np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape(-1, space.max_length + 1)


class _SharedTexts(Sequence[str]):
    """A live view of the texts in shared memory, as numpy views are for arrays.

    ``AsyncVectorEnv`` reads its observation buffer once and hands out copies
    (``deepcopy``) on every step; a view that decodes on access keeps those
    copies current. ``deepcopy`` gives a plain tuple snapshot.
    """

    def __init__(self, space: UnicodeText, shared_memory: Any, n: int) -> None:
        self._space, self._memory, self._n = space, shared_memory, n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self)[index]
        if not -self._n <= index < self._n:
            raise IndexError(index)
        row = _rows(self._space, self._memory)[index % self._n]
        return "".join(map(chr, row[1 : 1 + row[0]].tolist()))

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return repr(tuple(self))


@read_from_shared_memory.register(UnicodeText)
def _read_from_shared_memory(space: UnicodeText, shared_memory: Any, n: int = 1) -> _SharedTexts:
    return _SharedTexts(space, shared_memory, n)


@write_to_shared_memory.register(UnicodeText)
def _write_to_shared_memory(space: UnicodeText, index: int, value: str, shared_memory: Any) -> None:
    if len(value) > space.max_length:
        raise ValueError(f"a {len(value):,}-character text does not fit {space!r}")
    row = _rows(space, shared_memory)[index]
    row[0] = len(value)
    row[1 : 1 + len(value)] = np.fromiter(map(ord, value), dtype=np.int32, count=len(value))
