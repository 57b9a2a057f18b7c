"""visible_text and disguised_words: what a reader sees, and which words are dressed up."""

from __future__ import annotations

import string
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from rlvr.verifiers.visible_text import disguised_words, look_alike_table, visible_text

PLAIN = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " \n", max_size=80)
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202e")


def _look_alikes() -> dict[str, list[str]]:
    """ASCII character -> the non-ASCII characters that read as it."""
    found: dict[str, list[str]] = {}
    for code, target in look_alike_table().items():
        if visible_text(chr(code)) == target:
            found.setdefault(target, []).append(chr(code))
    return found


LOOK_ALIKES = _look_alikes()


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    """(plain ASCII text, the same text with look-alikes, full-width forms and invisible characters)."""
    plain = draw(PLAIN)
    out = []
    for char in plain:
        way = draw(st.sampled_from(("keep", "look-alike", "full-width")))
        if way == "look-alike" and char in LOOK_ALIKES:
            out.append(draw(st.sampled_from(LOOK_ALIKES[char])))
        elif way == "full-width" and "!" <= char <= "~":
            out.append(chr(ord(char) + 0xFEE0))
        else:
            out.append(char)
        if draw(st.booleans()):
            out.append(draw(st.sampled_from(INVISIBLE)))
    return plain, "".join(out)


@given(PLAIN)
def test_ascii_text_comes_back_unchanged(text):
    assert visible_text(text) == text
    assert disguised_words(text) == []


@given(disguised())
def test_a_disguised_text_reads_as_its_plain_text(pair):
    plain, dressed = pair
    assert visible_text(dressed) == plain


@given(st.text(max_size=80))
def test_any_text_reads_without_invisible_characters(text):
    shown = visible_text(text)
    assert isinstance(shown, str)
    assert not any(unicodedata.category(char) == "Cf" for char in shown)


def test_the_table_covers_the_common_disguises():
    # Cyrillic, Greek and Armenian letters a policy reaches for first.
    pairs = [
        ("ѕtоrm", "storm"),
        ("раураl", "paypal"),
        ("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX"),
        ("ոօ", "no"),
        ("Іnternet", "Internet"),
        ("a，b", "a,b"),
        ("ﬁne", "fine"),
        ("１２", "12"),
    ]
    for dressed, plain in pairs:
        assert visible_text(dressed) == plain, dressed


def test_other_writing_keeps_its_letters():
    for text in ("日本語のテキスト", "한국어 문장", "Δx → 0", "naïve café"):
        assert visible_text(text) == unicodedata.normalize("NFKC", text)


def test_words_mixing_alphabets_around_a_look_alike_are_disguised():
    assert disguised_words("Keep in mіոԁ the pοint") == ["mіոԁ", "pοint"]
    assert disguised_words("Привет, мир! Hello world.") == []
    assert disguised_words("iPhone发布 Δx naïve") == []
