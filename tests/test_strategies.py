"""The hypothesis strategies of the property kit draw what they promise."""

from __future__ import annotations

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from rlvr.verifiers.strategies import (
    FRAGMENTS,
    binary_junk,
    completions,
    pathological_completions,
    tag_soup,
    unicode_text,
)

FIND_SETTINGS = settings(max_examples=2000, database=None)


def has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


@settings(max_examples=200, deadline=None)
@given(completions())
def test_completions_are_strings(text):
    assert isinstance(text, str)


@settings(max_examples=100, deadline=None)
@given(unicode_text(max_size=50))
def test_unicode_text_respects_max_size(text):
    assert isinstance(text, str)
    assert len(text) <= 50


@settings(max_examples=100, deadline=None)
@given(binary_junk(max_size=50))
def test_binary_junk_is_a_decoding_of_at_most_max_size_bytes(text):
    assert isinstance(text, str)
    raw = text.encode("utf-8", "surrogateescape")
    assert len(raw) <= 50
    assert raw.decode("utf-8", "surrogateescape") == text


def test_binary_junk_can_yield_lone_surrogates():
    text = find(binary_junk(), has_lone_surrogate, settings=FIND_SETTINGS)
    assert has_lone_surrogate(text)
    with pytest.raises(UnicodeEncodeError):
        text.encode("utf-8")


def test_unicode_text_can_yield_lone_surrogates():
    text = find(unicode_text(), has_lone_surrogate, settings=FIND_SETTINGS)
    assert has_lone_surrogate(text)


def test_completions_can_yield_lone_surrogates_and_nul():
    assert has_lone_surrogate(find(completions(), has_lone_surrogate, settings=FIND_SETTINGS))
    assert "\x00" in find(completions(), lambda text: "\x00" in text, settings=FIND_SETTINGS)


def test_completions_can_be_empty():
    assert find(completions(), lambda text: True, settings=FIND_SETTINGS) == ""


@pytest.mark.parametrize("fragment", ["<think>", "</answer>", "\\boxed{", "Final Answer:", "1,000", "−", "\u200b"])
def test_tag_soup_draws_contain_fragments(fragment):
    text = find(tag_soup(), lambda text: fragment in text, settings=FIND_SETTINGS)
    assert fragment in text


def test_tag_soup_can_combine_several_fragments():
    def tagged(text: str) -> bool:
        return "<think>" in text and "</answer>" in text

    text = find(tag_soup(), tagged, settings=FIND_SETTINGS)
    assert tagged(text)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_tag_soup_respects_max_pieces(data):
    text = data.draw(tag_soup(max_pieces=3))
    longest_fragment = max(len(fragment) for fragment in FRAGMENTS)
    assert len(text) <= 3 * max(longest_fragment, 8)


def test_fragments_cover_what_verifiers_look_for():
    for marker in ["<think>", "</think>", "<answer>", "</answer>", "\\boxed{", "\\fbox{"]:
        assert marker in FRAGMENTS
    assert any("final answer" in fragment.lower() for fragment in FRAGMENTS)


def test_pathological_completions_are_about_a_megabyte_each():
    megabyte = 1 << 20
    inputs = pathological_completions()
    assert len(inputs) >= 10
    for text in inputs:
        assert isinstance(text, str)
        assert 0.9 * megabyte <= len(text) <= 2 * megabyte + 100, len(text)


def test_pathological_completions_include_the_classic_traps():
    inputs = pathological_completions()
    assert any(set(text) == {"{"} for text in inputs)
    assert any(text.startswith("\\boxed{\\boxed{") for text in inputs)
    assert any(text.startswith("<answer><answer>") for text in inputs)
    assert any(has_lone_surrogate(text) for text in inputs)


def test_pathological_completions_are_cached():
    first = pathological_completions()
    second = pathological_completions()
    assert first is second
    assert all(a is b for a, b in zip(first, second, strict=True))
