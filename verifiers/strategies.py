"""Hypothesis strategies for the text a model may write, and for the worst of it.

Use them to property-test any verifier (``rlvr.verifiers.properties`` does):

* ``unicode_text()``: any Unicode, including control characters and lone
  surrogates (a tokenizer can decode to those).
* ``binary_junk()``: random bytes decoded as a model's detokenizer might.
* ``tag_soup()``: the fragments verifiers look for (think/answer tags, boxes,
  "Final Answer:", numbers) shuffled, unbalanced and repeated.
* ``completions()``: all of the above.

``pathological_completions()`` gives fixed megabyte-sized inputs that make
careless parsers quadratic or make regexes backtrack.
"""

from __future__ import annotations

import functools
import random

from hypothesis import strategies as st

__all__ = [
    "FRAGMENTS",
    "binary_junk",
    "completions",
    "pathological_completions",
    "tag_soup",
    "unicode_text",
]

FRAGMENTS: tuple[str, ...] = (
    "<think>", "</think>", "<answer>", "</answer>", "<think", "answer>",
    "\\boxed{", "\\boxed ", "\\fbox{", "{", "}", "$", "\\(", "\\)", "**",
    "Final Answer:", "final answer: the final answer is ", "I hope it is correct.",
    "The answer is ", "####", "\n", "\n\n", " ", "\t", ".", ",", "-", "−", "+", "/",
    "0", "1", "7", "42", "1,000", "3.14", "-5", "1e9", "½", "٣", "NaN", "inf",
    "\x00", "\u200b", "\ufeff",
)  # fmt: skip


def unicode_text(max_size: int = 200) -> st.SearchStrategy[str]:
    """Any Unicode text, control characters included, up to ``max_size`` characters."""
    return st.text(st.characters(codec=None, exclude_categories=()), max_size=max_size)


def binary_junk(max_size: int = 200) -> st.SearchStrategy[str]:
    """Random bytes decoded leniently: lone surrogates, NULs and broken UTF-8."""
    return st.binary(max_size=max_size).map(lambda raw: raw.decode("utf-8", "surrogateescape"))


def tag_soup(max_pieces: int = 30) -> st.SearchStrategy[str]:
    """Verifier-relevant fragments and short text, concatenated in any order."""
    piece = st.sampled_from(FRAGMENTS) | st.text(max_size=8)
    return st.lists(piece, max_size=max_pieces).map("".join)


def completions() -> st.SearchStrategy[str]:
    """Arbitrary model output: plain text, junk, tag soup, or nothing."""
    return st.one_of(st.just(""), unicode_text(), binary_junk(), tag_soup())


@functools.cache
def pathological_completions() -> tuple[str, ...]:
    """Fixed megabyte-sized inputs that make careless parsers quadratic or regexes backtrack.

    Hypothesis does not draw strings this large, so the property kit runs these
    separately. Built on first use (about 15 MB), then cached.
    """
    megabyte = 1 << 20
    noise = random.Random(0).randbytes(megabyte).decode("utf-8", "surrogateescape")

    def repeat(fragment: str) -> str:
        return fragment * (megabyte // len(fragment))

    return (
        "9" * megabyte,
        "1," * (megabyte // 2),
        "a" * megabyte,
        noise,
        repeat("{"),
        repeat("\\boxed{"),
        repeat("\\boxed{1}"),
        repeat("<think>"),
        repeat("<answer>"),
        repeat("<answer>1</answer>"),
        repeat("Final Answer:"),
        repeat("final answer: the final answer is 1 "),
        "<think>" + "x" * megabyte + "</think><answer>" + "1" * megabyte + "</answer>",
        repeat(" " * 20 + "i hope it is correct"),
    )
