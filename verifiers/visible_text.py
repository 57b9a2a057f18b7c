"""The text a reader sees: look-alike letters, width variants and invisible characters undone.

A rule that forbids something ("no commas", "do not say *storm*", "fewer than
three capital words") can be dodged by writing the forbidden thing so that a
reader still sees it but a character comparison does not: Cyrillic ``с`` for
Latin ``c``, a full-width ``，`` for ``,``, a zero-width space inside a word.
``visible_text`` maps such text back to what it shows, so a checker can judge
the reading as well as the characters::

    visible_text("ѕtоrm")        # 'storm'  (Cyrillic s and o)
    visible_text("a，b")          # 'a,b'    (full-width comma)
    visible_text("st\\u200borm")  # 'storm'  (zero-width space)

Three steps:

1. Unicode NFKC normalisation (full-width and compatibility forms become their
   plain characters: ``Ａ`` -> ``A``, ``ﬁ`` -> ``fi``, ``１`` -> ``1``);
2. format characters (Unicode category ``Cf``: zero-width spaces and joiners,
   bidirectional controls, soft hyphens, the byte-order mark) are removed;
3. every non-ASCII character (before NFKC and after it) that Unicode's confusables table
   (UTS #39, as shipped by the ``confusable-homoglyphs`` package) lists as a
   look-alike of a printable ASCII character is replaced by it (``а`` -> ``a``,
   ``ο`` -> ``o``, ``‚`` -> ``,``).

The mapping is for judging, not for display: the Latin look-alikes of another
alphabet read as Latin too (Russian ``рука`` becomes ``pyкa``), so a check
that needs the text's language must read the original; ``disguised_words``
finds the words such a check should refuse (alphabets mixed inside a word).
"""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata

__all__ = ["disguised_words", "look_alike_table", "shown_text", "visible_text"]

_PRINTABLE = frozenset(string.ascii_letters + string.digits + string.punctuation)
_LETTER_RUNS = re.compile(r"[^\W\d_]+")
_SHARED_SCRIPTS = frozenset({"COMMON", "INHERITED", "HAN", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"})
"""Scripts that mix with others inside one word in ordinary writing (Japanese, Chinese, Korean, marks)."""


def _rank(ascii_char: str) -> tuple[int, str]:
    """Preference among several ASCII look-alikes of one character: letters, digits, then punctuation."""
    kind = 0 if ascii_char.isalpha() else 1 if ascii_char.isdigit() else 2
    return kind, ascii_char


@functools.cache
def look_alike_table() -> dict[int, str]:
    """``str.translate`` table: each non-ASCII character with a printable ASCII look-alike -> that character.

    Built once from the confusables data of ``confusable-homoglyphs``; where a
    character looks like several ASCII characters (Greek ``Ι``: ``I``, ``l``,
    ``1``, ``|``), letters come first, then digits, then punctuation.
    """
    from confusable_homoglyphs import confusables

    table: dict[int, str] = {}
    for char, homoglyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        targets = [glyph["c"] for glyph in homoglyphs if glyph["c"] in _PRINTABLE]
        if targets:
            target = min(targets, key=_rank)
            # Unicode's table files I under l; a capital look-alike (Cyrillic І, Greek Ι) reads as I.
            table[ord(char)] = "I" if target == "l" and char.isupper() else target
    return table


def shown_text(text: str) -> str:
    """``text`` in NFKC with its invisible (format, ``Cf``) characters removed; its letters keep their alphabet.

    The first two steps of ``visible_text``, for checks that must see the
    text's own letters (its language). Pure and total; ASCII comes back unchanged.
    """
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text.translate(_invisible_table())).translate(_invisible_table())


def visible_text(text: str) -> str:
    """``text`` as a reader sees it, in ASCII wherever a look-alike exists (see the module docstring).

    Pure and total: any ``str`` in, a ``str`` out; ASCII text comes back unchanged.
    """
    if text.isascii():
        return text
    # Look-alikes are read both before and after NFKC: NFKC turns some into
    # letters of their own script (Greek lunate sigma ϲ into final sigma ς);
    # where NFKC gives ASCII (full-width ［ is [), NFKC has the last word.
    normal = unicodedata.normalize("NFKC", text.translate(_before_nfkc_table()))
    return normal.translate(_after_nfkc_table())


@functools.cache
def _invisible_table() -> dict[int, None]:
    """``str.translate`` table deleting every format (``Cf``) character."""
    return {code: None for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"}


@functools.cache
def _before_nfkc_table() -> dict[int, str | None]:
    """Deletes invisible characters and reads the look-alikes that NFKC would not turn into ASCII itself."""
    table: dict[int, str | None] = {
        code: target
        for code, target in look_alike_table().items()
        if not unicodedata.normalize("NFKC", chr(code)).isascii()
    }
    return {**table, **_invisible_table()}


@functools.cache
def _after_nfkc_table() -> dict[int, str | None]:
    """Deletes invisible characters and reads every look-alike."""
    return {**look_alike_table(), **_invisible_table()}


def disguised_words(text: str) -> list[str]:
    """The words of ``text`` that mix alphabets and hold a look-alike of an ASCII character.

    A word (a run of letters) that mixes Latin, Cyrillic, Greek, Armenian or
    another alphabet (``pοint`` with a Greek omicron, ``іո`` in Cyrillic and
    Armenian) and contains a character of ``look_alike_table`` is what a
    disguise looks like; ordinary writing mixes alphabets only with Chinese,
    Japanese or Korean characters and combining marks, or in symbols with no
    ASCII look-alike (``Δx``). Pure; ``[]`` for ASCII text.
    """
    if text.isascii():
        return []
    from confusable_homoglyphs import categories

    found = []
    for match in _LETTER_RUNS.finditer(text):
        word = match.group()
        if word.isascii() or not _look_alike_pattern().search(word):
            continue
        if len(categories.unique_aliases(word) - _SHARED_SCRIPTS) > 1:
            found.append(word)
    return found


@functools.cache
def _look_alike_pattern() -> re.Pattern[str]:
    """Matches any character of ``look_alike_table``."""
    return re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(look_alike_table())) + "]")
