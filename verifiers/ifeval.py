"""IFEval instruction checkers, and a verifier that scores a completion against them (and IFBench's).

The 25 instruction types of IFEval (Zhou et al. 2023, "Instruction-Following
Evaluation for Large Language Models"), keyed by IFEval's own instruction ids
and keyword-argument names, so a record of the published data set
(``instruction_id_list`` and ``kwargs``) scores directly::

    check_instruction("punctuation:no_comma", {}, "No commas here.")            # True
    check_instruction("detectable_format:title", {}, "**<<Ode>>**", loose=True)  # True

``check_instruction``, ``parse_instruction`` and ``InstructionFollowing`` also
take the 58 ids of IFBench (``rlvr.verifiers.ifbench``), with the same strict
and loose checks.

``check_instruction`` (``hardened=False``) gives IFEval's own verdicts:

* Every check follows ``check_following`` of google-research's
  ``instruction_following_eval/instructions.py`` (as shipped in lm-eval and
  if-verifiable); strict and loose are IFEval's (an empty or blank response
  never follows an instruction; loose also tries the response without its
  first line, without its last line, without both, and each of those with
  ``*`` removed). ``tests/test_ifeval_conformance.py`` holds it to those
  checkers on thousands of generated cases.
* Sentences are nltk's Punkt sentences and capital words are tokens of
  ``nltk.word_tokenize``, as in IFEval; the English Punkt model is built
  offline (``rlvr.verifiers.nltk_data``), and a missing model is an
  ``NltkDataMissing`` error, never a stand-in.
* Language detection is ``langdetect.detect`` on the whole response, with a
  fixed seed (0) on its own detector factory, so a verdict never changes
  between calls or processes. As in IFEval, text whose language cannot be
  detected counts as following a language instruction.
* Keywords, forbidden words, section splitters and postscript markers are
  regular expressions, as IFEval passes them to ``re``; one that does not
  compile is a data error (IFEval would crash on the first response).

Where it departs from IFEval (listed with reasons in the conformance test):
checks that IFEval writes as backtracking regexes (placeholders, titles,
postscripts) are computed with linear scans that give the same answers, so a
megabyte of adversarial text is judged in milliseconds, and JSON nested past
Python's recursion limit is "not JSON" (IFEval crashes).

``hardened=True`` (the verifier's default, not ``check_instruction``'s) closes
known reward hacks, on purpose departing from IFEval:

* a constrained response must state exactly one of the three options ("My
  answer is yes. My answer is no." does not pass);
* keywords, forbidden words, splitters and markers match as literal text
  (``"p.s"`` read as a regex is met by ``"pas"``);
* a language instruction judges the language, not the padding:
  web and e-mail addresses are removed first, the whole response is judged in
  overlapping windows of 1,000 characters (longer in responses over 64,000
  characters; each detector reads its whole window, so no padding pushes text
  out of sight), every window whose language can be detected must be in the
  asked language (so 1,500 characters in another language anywhere fail), and
  a response whose language cannot be detected at all does not follow.
  IFEval's own check reads only the first 10,000 characters, so 10,000
  characters of punctuation (undetectable: "followed") or of the asked
  language in front of any other language pass it;
* every instruction but the three that detect a language must be followed
  both by the response as written and by the response as a reader sees it
  (``rlvr.verifiers.visible_text``: NFKC forms, invisible characters removed,
  look-alike letters read as Latin), so "ѕtоrm" in Cyrillic letters is still
  the forbidden word *storm*, a full-width "，" is still a comma and a
  zero-width space does not split a word; the three language checks
  (``language:response_language``, ``change_case:english_capital`` and
  ``change_case:english_lowercase``) fail a response with a word that mixes
  alphabets around a look-alike letter (English dressed in Cyrillic letters
  to pass for Russian).
"""

from __future__ import annotations

import collections
import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from rlvr.verifiers.nltk_data import require_punkt, sentences, word_tokens
from rlvr.verifiers.reasoning import answer_text
from rlvr.verifiers.score import Score, Status
from rlvr.verifiers.visible_text import disguised_words, shown_text, visible_text

__all__ = [
    "INSTRUCTION_IDS",
    "Builder",
    "Check",
    "InstructionArgs",
    "InstructionFollowing",
    "check_instruction",
    "compare",
    "count_sentences",
    "count_words",
    "detect_language",
    "follows",
    "instruction_variants",
    "is_language",
    "known_instruction_ids",
    "language_factory",
    "parse_instruction",
]

Check = Callable[[str], bool]
"""One parsed instruction: ``response -> followed``."""

RELATIONS = ("less than", "at least")
_CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")
_DETAIL_CHARS = 120
_WINDOW_CHARS = 1_000  # the hardened language check judges windows of at least this many characters
_MAX_WINDOWS = 128  # ... and at most this many (a longer text gets longer windows)


# --- kwargs ------------------------------------------------------------------


class InstructionArgs:
    """The keyword arguments of one instruction, checked field by field.

    Fields whose value is None are ignored (IFEval's and IFBench's records list
    every field of every instruction, unused ones as None). Each accessor
    raises ``ValueError`` naming the id and the field when the value is
    missing or of the wrong kind.
    """

    def __init__(self, instruction_id: str, kwargs: Mapping[str, Any] | None, fields: tuple[str, ...]) -> None:
        if kwargs is None:
            kwargs = {}
        if not isinstance(kwargs, Mapping):
            raise ValueError(f"{instruction_id}: kwargs must be a mapping, got {type(kwargs).__name__}")
        given = {key: value for key, value in kwargs.items() if value is not None}
        unknown = sorted(set(given) - set(fields), key=str)
        if unknown:
            raise ValueError(f"{instruction_id}: unexpected kwargs {unknown}; it takes {list(fields)}")
        self.instruction_id = instruction_id
        self.given = given

    def _get(self, name: str) -> Any:
        if name not in self.given:
            raise ValueError(f"{self.instruction_id}: missing kwarg {name!r}")
        return self.given[name]

    def integer(self, name: str, minimum: int = 0) -> int:
        """An integer >= ``minimum`` (an integral float such as 3.0 counts)."""
        value = self._get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must be an integer >= {minimum}, got {value!r}")
        return value

    def number(self, name: str, minimum: float = 0) -> float:
        """A finite number (int or float) >= ``minimum``."""
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must be a finite number, got {value!r}")
        if value < minimum:
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must be >= {minimum}, got {value!r}")
        return value

    def text(self, name: str) -> str:
        """A string with something besides white space in it."""
        value = self._get(name)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must be a non-empty string, got {value!r}")
        return value

    def relation(self, name: str) -> str:
        """``"less than"`` or ``"at least"``."""
        value = self._get(name)
        if value not in RELATIONS:
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must be one of {RELATIONS}, got {value!r}")
        return str(value)

    def words(self, name: str) -> list[str]:
        """A non-empty list of non-empty strings."""
        value = self._get(name)
        if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must be a non-empty list of strings")
        if not all(isinstance(word, str) and word for word in value):
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must hold non-empty strings, got {value!r}")
        return list(value)

    def pattern(self, name: str, source: str, hardened: bool, flags: int = 0) -> re.Pattern[str]:
        """``source`` (from kwarg ``name``) as IFEval reads it: a regular expression; literal text when hardened."""
        if hardened:
            return re.compile(re.escape(source), flags)
        try:
            return re.compile(source, flags)
        except re.error as error:
            raise ValueError(
                f"{self.instruction_id}: kwarg {name!r} value {source!r} is not a regular expression ({error}); "
                "IFEval reads it as one"
            ) from None


def compare(count: float, relation: str, threshold: float) -> bool:
    """``count < threshold`` for "less than", ``count >= threshold`` for "at least"."""
    return count < threshold if relation == "less than" else count >= threshold


# --- text utilities ----------------------------------------------------------

_WORD = re.compile(r"\w+")


def count_words(text: str) -> int:
    """Words as IFEval (and IFBench) count them: runs of ``\\w`` characters."""
    return sum(1 for _ in _WORD.finditer(text))


def count_sentences(text: str) -> int:
    """Sentences as IFEval counts them: nltk's English Punkt sentences.

    Raises:
        NltkDataMissing: the Punkt model is not installed.
    """
    return len(sentences(text))


def _capital_words(text: str) -> int:
    return sum(1 for token in word_tokens(text) if token.isupper())


@functools.cache
def language_factory() -> Any:
    """langdetect's detector factory with its profiles loaded and seed 0, built once per process."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0  # langdetect samples; a fixed seed makes its verdict a function of the text
    return factory


def _detect(text: str, read: int | None = None) -> str | None:
    from langdetect.lang_detect_exception import LangDetectException

    detector = language_factory().create()
    if read is not None:
        detector.set_max_text_length(read)
    try:
        detector.append(text)
        return str(detector.detect())
    except LangDetectException:
        return None


def detect_language(text: str) -> str | None:
    """``langdetect.detect(text)`` with seed 0: the ISO 639-1 code, or None when it cannot tell.

    As langdetect does, web and e-mail addresses are removed from the whole
    text and the first 10,000 characters of the rest are read.
    """
    return _detect(text)


def _without_addresses(text: str) -> str:
    """``text``'s white-space separated tokens, less those that are web or e-mail addresses."""
    return " ".join(
        token
        for token in text.split()
        if "://" not in token and "@" not in token and not token.lower().startswith("www.")
    )


def _windows(text: str) -> list[str]:
    """``text`` as overlapping windows of ``_WINDOW_CHARS`` characters, each starting half a window after the
    last (longer windows for long texts, so there are at most ``_MAX_WINDOWS``): any stretch of one and a half
    windows lies whole inside one of them."""
    size = max(_WINDOW_CHARS, -(-2 * len(text) // _MAX_WINDOWS))
    if len(text) <= size:
        return [text]
    starts = [*range(0, len(text) - size, size // 2), len(text) - size]
    return [text[start : start + size] for start in starts]


def is_language(text: str, code: str, *, hardened: bool = False) -> bool:
    """Whether ``text`` is in the language ``code`` (ISO 639-1, as langdetect names it).

    IFEval's verdict unless ``hardened``: ``detect_language(text) == code``, and
    True when the language cannot be detected. Hardened: addresses are removed,
    the text is judged in windows (see the module docstring), each detectable
    window must be in ``code``, and at least one must be detectable.
    """
    if not hardened:
        detected = detect_language(text)
        return detected is None or detected == code
    judged = False
    for window in _windows(_without_addresses(text)):
        detected = _detect(window, read=len(window))
        if detected is None:
            continue
        if detected != code:
            return False
        judged = True
    return judged


# --- the checks, one per instruction id --------------------------------------


def _keywords_existence(args: InstructionArgs, hardened: bool) -> Check:
    patterns = [args.pattern("keywords", word, hardened, re.IGNORECASE) for word in args.words("keywords")]
    return lambda text: all(pattern.search(text) for pattern in patterns)


def _keywords_frequency(args: InstructionArgs, hardened: bool) -> Check:
    pattern = args.pattern("keyword", args.text("keyword").strip(), hardened, re.IGNORECASE)
    frequency, relation = args.integer("frequency"), args.relation("relation")
    return lambda text: compare(sum(1 for _ in pattern.finditer(text)), relation, frequency)


def _forbidden_words(args: InstructionArgs, hardened: bool) -> Check:
    sources = [word if not hardened else re.escape(word) for word in args.words("forbidden_words")]
    patterns = [args.pattern("forbidden_words", r"\b" + word + r"\b", False, re.IGNORECASE) for word in sources]
    return lambda text: not any(pattern.search(text) for pattern in patterns)


def _letter_frequency(args: InstructionArgs, hardened: bool) -> Check:
    letter = args.text("letter").strip().lower()
    if len(letter) != 1 or not "a" <= letter <= "z":
        raise ValueError(f"{args.instruction_id}: kwarg 'letter' must be one letter a-z, got {letter!r}")
    frequency, relation = args.integer("let_frequency"), args.relation("let_relation")
    return lambda text: compare(collections.Counter(text.lower())[letter], relation, frequency)


def _response_language(args: InstructionArgs, hardened: bool) -> Check:
    code = args.text("language")
    return lambda text: is_language(text, code, hardened=hardened)


def _number_sentences(args: InstructionArgs, hardened: bool) -> Check:
    threshold, relation = args.integer("num_sentences"), args.relation("relation")
    require_punkt()
    return lambda text: compare(count_sentences(text), relation, threshold)


def _number_paragraphs(args: InstructionArgs, hardened: bool) -> Check:
    wanted = args.integer("num_paragraphs")
    divider = re.compile(r"\s?\*\*\*\s?")

    def check(text: str) -> bool:
        paragraphs = divider.split(text)
        count = len(paragraphs)
        for index, paragraph in enumerate(paragraphs):
            if not paragraph.strip():
                if index in (0, len(paragraphs) - 1):
                    count -= 1
                else:
                    return False  # an empty paragraph between two dividers
        return count == wanted

    return check


def _number_words(args: InstructionArgs, hardened: bool) -> Check:
    threshold, relation = args.integer("num_words"), args.relation("relation")
    return lambda text: compare(count_words(text), relation, threshold)


def _nth_paragraph_first_word(args: InstructionArgs, hardened: bool) -> Check:
    wanted, nth = args.integer("num_paragraphs"), args.integer("nth_paragraph", minimum=1)
    if nth > wanted:  # IFEval would draw a random paragraph instead
        raise ValueError(f"{args.instruction_id}: kwarg 'nth_paragraph' {nth} is more than num_paragraphs {wanted}")
    first_word = args.text("first_word").lower()

    def check(text: str) -> bool:
        paragraphs = text.split("\n\n")
        count = sum(1 for paragraph in paragraphs if paragraph.strip())
        if nth > count:
            return False
        paragraph = paragraphs[nth - 1].strip()  # IFEval indexes the raw split, blanks included
        if not paragraph:
            return False
        word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
        found = ""
        for char in word:
            if char in ".,?!'\"":
                break
            found += char.lower()
        return count == wanted and found == first_word

    return check


def _number_placeholders(args: InstructionArgs, hardened: bool) -> Check:
    wanted = args.integer("num_placeholders")

    def check(text: str) -> bool:
        # Matches of \[.*?\] (no newlines inside), counted in one pass per line.
        count = 0
        for line in text.split("\n"):
            position = 0
            while (start := line.find("[", position)) >= 0:
                end = line.find("]", start + 1)
                if end < 0:
                    break
                count += 1
                position = end + 1
        return count >= wanted

    return check


def _postscript(args: InstructionArgs, hardened: bool) -> Check:
    marker = args.text("postscript_marker").strip()
    if marker == "P.P.S":
        pattern = re.compile(r"p\.\s?p\.\s?s")
    elif marker == "P.S.":
        pattern = re.compile(r"p\.\s?s\.")
    else:
        pattern = args.pattern("postscript_marker", marker.lower(), hardened)
    # IFEval's \s*MARKER.*$ (multi-line) matches wherever MARKER does: \s* and .*$ may match nothing.
    return lambda text: pattern.search(text.lower()) is not None


_SPACES = re.compile(r"\s*")


def _bullets(text: str, star: bool) -> int:
    """How many matches IFEval's ``re.findall`` of ``^\\s*\\*[^\\*].*$`` (``star``) or ``^\\s*-.*$`` finds
    (multi-line), in linear time.

    From a line start, ``\\s*`` also crosses blank lines; ``[^\\*]`` may take a
    line end, so a star match can run on to the next line; the next match is
    looked for at the next line start after the match.
    """
    count, position, size = 0, 0, len(text)
    while position <= size:
        start = _SPACES.match(text, position).end()  # type: ignore[union-attr]  # \s* always matches
        end = -1
        if start < size:
            if not star and text[start] == "-":
                end = start + 1
            elif star and text[start] == "*" and start + 1 < size and text[start + 1] != "*":
                end = start + 2
        if end < 0:  # no match from any line start up to the line holding `start`
            newline = text.find("\n", start)
            if newline < 0:
                break
            position = newline + 1
            continue
        count += 1
        newline = text.find("\n", end)  # .*$ runs to the end of the line
        if newline < 0:
            break
        position = newline if text[newline - 1] == "\n" else newline + 1
    return count


def _number_bullet_lists(args: InstructionArgs, hardened: bool) -> Check:
    wanted = args.integer("num_bullets")
    return lambda text: _bullets(text, star=True) + _bullets(text, star=False) == wanted


def _constrained_response(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        stated = sum(option in text for option in _CONSTRAINED_OPTIONS)
        return stated == 1 if hardened else stated >= 1

    return check


_HIGHLIGHT = re.compile(r"\*[^\n*]*\*")
_DOUBLE_HIGHLIGHT = re.compile(r"\*\*[^\n*]*\*\*")


def _number_highlighted_sections(args: InstructionArgs, hardened: bool) -> Check:
    wanted = args.integer("num_highlights")

    def check(text: str) -> bool:
        single = sum(1 for match in _HIGHLIGHT.finditer(text) if match.group().strip("*").strip())
        double = sum(1 for match in _DOUBLE_HIGHLIGHT.finditer(text) if match.group()[2:-2].strip())
        return single + double >= wanted

    return check


def _multiple_sections(args: InstructionArgs, hardened: bool) -> Check:
    spliter = args.text("section_spliter").strip()
    body = re.escape(spliter) if hardened else spliter
    splitter = args.pattern("section_spliter", r"\s?" + body + r"\s?\d+\s?", False)
    wanted = args.integer("num_sections")
    return lambda text: len(splitter.split(text)) - 1 >= wanted


def _json_format(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        text = text.strip()
        for fence in ("```json", "```Json", "```JSON", "```"):
            text = text.removeprefix(fence)
        text = text.removesuffix("```").strip()
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            return False
        return True

    return check


def _title(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        # Matches of <<[^\n]+>>: per line, from the first "<<" to the last ">>".
        for line in text.split("\n"):
            start = line.find("<<")
            end = line.rfind(">>")
            if start >= 0 and end >= start + 3 and line[start : end + 2].lstrip("<").rstrip(">").strip():
                return True
        return False

    return check


def _two_responses(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        parts = text.split("******")
        responses = []
        for index, part in enumerate(parts):
            if part.strip():
                responses.append(part.strip())
            elif index not in (0, len(parts) - 1):
                return False
        return len(responses) == 2 and responses[0] != responses[1]

    return check


def _repeat_prompt(args: InstructionArgs, hardened: bool) -> Check:
    prompt = args.text("prompt_to_repeat").strip().lower()
    return lambda text: text.strip().lower().startswith(prompt)


def _end_checker(args: InstructionArgs, hardened: bool) -> Check:
    phrase = args.text("end_phrase").strip().lower()
    return lambda text: text.strip().strip('"').lower().endswith(phrase)


def _quotation(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        text = text.strip()
        return len(text) > 1 and text[0] == '"' and text[-1] == '"'

    return check


def _capital_word_frequency(args: InstructionArgs, hardened: bool) -> Check:
    frequency, relation = args.integer("capital_frequency"), args.relation("capital_relation")
    require_punkt()
    return lambda text: compare(_capital_words(text), relation, frequency)


def _english_capital(args: InstructionArgs, hardened: bool) -> Check:
    return lambda text: text.isupper() and is_language(text, "en", hardened=hardened)


def _english_lowercase(args: InstructionArgs, hardened: bool) -> Check:
    return lambda text: text.islower() and is_language(text, "en", hardened=hardened)


def _no_comma(args: InstructionArgs, hardened: bool) -> Check:
    return lambda text: "," not in text


Builder = Callable[[InstructionArgs, bool], Check]
"""Makes one instruction's check from its kwargs and the hardened flag; raises ValueError on bad kwargs."""

_IFEVAL: dict[str, tuple[tuple[str, ...], Builder]] = {
    "keywords:existence": (("keywords",), _keywords_existence),
    "keywords:frequency": (("keyword", "frequency", "relation"), _keywords_frequency),
    "keywords:forbidden_words": (("forbidden_words",), _forbidden_words),
    "keywords:letter_frequency": (("letter", "let_frequency", "let_relation"), _letter_frequency),
    "language:response_language": (("language",), _response_language),
    "length_constraints:number_sentences": (("num_sentences", "relation"), _number_sentences),
    "length_constraints:number_paragraphs": (("num_paragraphs",), _number_paragraphs),
    "length_constraints:number_words": (("num_words", "relation"), _number_words),
    "length_constraints:nth_paragraph_first_word": (
        ("num_paragraphs", "nth_paragraph", "first_word"),
        _nth_paragraph_first_word,
    ),
    "detectable_content:number_placeholders": (("num_placeholders",), _number_placeholders),
    "detectable_content:postscript": (("postscript_marker",), _postscript),
    "detectable_format:number_bullet_lists": (("num_bullets",), _number_bullet_lists),
    "detectable_format:constrained_response": ((), _constrained_response),
    "detectable_format:number_highlighted_sections": (("num_highlights",), _number_highlighted_sections),
    "detectable_format:multiple_sections": (("section_spliter", "num_sections"), _multiple_sections),
    "detectable_format:json_format": ((), _json_format),
    "detectable_format:title": ((), _title),
    "combination:two_responses": ((), _two_responses),
    "combination:repeat_prompt": (("prompt_to_repeat",), _repeat_prompt),
    "startend:end_checker": (("end_phrase",), _end_checker),
    "startend:quotation": ((), _quotation),
    "change_case:capital_word_frequency": (("capital_frequency", "capital_relation"), _capital_word_frequency),
    "change_case:english_capital": ((), _english_capital),
    "change_case:english_lowercase": ((), _english_lowercase),
    "punctuation:no_comma": ((), _no_comma),
}

INSTRUCTION_IDS: tuple[str, ...] = tuple(_IFEVAL)
"""IFEval's 25 instruction ids (IFBench's are ``rlvr.verifiers.ifbench.IFBENCH_IDS``)."""


@functools.cache
def _registry() -> dict[str, tuple[tuple[str, ...], Builder]]:
    from rlvr.verifiers.ifbench import IFBENCH_CHECKS  # built on this module, so looked up on first use

    return {**_IFEVAL, **IFBENCH_CHECKS}


def known_instruction_ids() -> tuple[str, ...]:
    """Every id ``check_instruction`` takes: IFEval's 25, then IFBench's 58."""
    return tuple(_registry())


def parse_instruction(instruction_id: str, kwargs: Mapping[str, Any] | None, *, hardened: bool = False) -> Check:
    """The check for one instruction (IFEval's or IFBench's), as a function ``response -> followed``.

    Raises:
        ValueError: ``instruction_id`` is unknown, or ``kwargs`` lacks a field,
            has an unexpected one, or holds a value of the wrong kind. The
            message names the id and the field.
        NltkDataMissing: the check needs an nltk model that is not installed
            (a ``LookupError``; see ``rlvr.verifiers.nltk_data``).
    """
    registry = _registry()
    if instruction_id not in registry:
        raise ValueError(f"unknown instruction id {instruction_id!r}")
    fields, build = registry[instruction_id]
    check = build(InstructionArgs(instruction_id, kwargs, fields), hardened)
    if not hardened:
        return check
    if instruction_id in _READS_LANGUAGE:
        # Mapping look-alikes to Latin would change the language: the check reads
        # the text as shown (NFKC, without invisible characters), and a word that
        # mixes alphabets around a look-alike letter fails it.
        def check_language(text: str) -> bool:
            if text.isascii():
                return check(text)
            shown = _shown(text)
            return bool(shown.strip()) and check(shown) and not disguised_words(text)

        return check_language
    # Hardened: the response must follow the instruction both as written and as
    # a reader sees it, so look-alike letters, full-width forms and invisible
    # characters cannot hide a forbidden word, comma or capital, and text of
    # invisible characters alone is blank. The kwargs are read the same way, so
    # a non-ASCII keyword or phrase still matches itself.
    seen_kwargs = _visible_kwargs(kwargs)
    seen = check if seen_kwargs == kwargs else build(InstructionArgs(instruction_id, seen_kwargs, fields), hardened)

    def check_as_seen(text: str) -> bool:
        if text.isascii():
            return check(text)
        visible = _visible(text)
        if not visible.strip() or not check(text):
            return False
        return (visible == text and seen is check) or seen(visible)

    return check_as_seen


_READS_LANGUAGE = frozenset(
    {"language:response_language", "change_case:english_capital", "change_case:english_lowercase"}
)
"""Checks that detect the response's language, which mapping look-alikes to Latin would change."""


@functools.lru_cache(maxsize=16)
def _visible(text: str) -> str:
    """``visible_text``, cached: a response is read once for all of a task's instructions and variants."""
    return visible_text(text)


@functools.lru_cache(maxsize=16)
def _shown(text: str) -> str:
    """``shown_text``, cached like ``_visible``."""
    return shown_text(text)


def _visible_kwargs(kwargs: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``kwargs`` with every string (and every string in a list) read as ``visible_text``."""
    if not isinstance(kwargs, Mapping):
        return kwargs  # type: ignore[return-value]  # left for InstructionArgs to reject
    return {
        key: visible_text(value)
        if isinstance(value, str)
        else [visible_text(item) if isinstance(item, str) else item for item in value]
        if isinstance(value, list)
        else value
        for key, value in kwargs.items()
    }


def instruction_variants(response: str, loose: bool) -> list[str]:
    """The texts IFEval tries: the response itself, or with ``loose`` also the
    response without its first line, its last line, both, and all four with ``*`` removed."""
    if not loose:
        return [response]
    lines = response.split("\n")
    cut = ["\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return [response, response.replace("*", ""), *cut, *(variant.replace("*", "") for variant in cut)]


def follows(check: Check, variants: list[str]) -> bool:
    """Whether any non-blank variant follows ``check`` (each distinct text is checked once)."""
    return any(variant.strip() and check(variant) for variant in dict.fromkeys(variants))


def check_instruction(
    instruction_id: str,
    kwargs: Mapping[str, Any] | None,
    response: str,
    *,
    loose: bool = False,
    hardened: bool = False,
) -> bool:
    """Whether ``response`` follows one IFEval or IFBench instruction.

    Args:
        instruction_id: an IFEval id such as ``"keywords:frequency"`` (see
            ``INSTRUCTION_IDS``) or an IFBench id such as ``"count:numbers"``
            (``rlvr.verifiers.ifbench.IFBENCH_IDS``).
        kwargs: its keyword arguments, named as in the benchmark's records;
            fields whose value is None are ignored, as IFEval does.
        response: the model's text. Never raises on it.
        loose: IFEval's loose accuracy: also try the response without its first
            line, without its last line, without both, and each with ``*``
            removed; follows if any variant does. A blank response (or variant)
            never follows.
        hardened: close the reward hacks listed in the module docstrings
            (the benchmark's own verdicts when False).

    Raises:
        ValueError: an unknown id or bad kwargs (a data error, not the model's).
        NltkDataMissing: a needed nltk model is not installed.
    """
    check = parse_instruction(instruction_id, kwargs, hardened=hardened)
    return follows(check, instruction_variants(response, loose))


# --- the verifier ------------------------------------------------------------

Mode = Literal["fraction", "all"]


@dataclass(frozen=True)
class InstructionFollowing:
    """Score how many of a task's IFEval instructions a completion follows.

    The task carries IFEval's record layout: ``instruction_ids`` (a list of
    ids) and ``kwargs`` (a list of dicts, one per id); ``prompt_text``, when
    present, is the prompt ``combination:repeat_prompt`` wants repeated if its
    kwargs lack ``prompt_to_repeat``. Only the answer is judged, not the
    reasoning (``rlvr.verifiers.reasoning.answer_text``).

    Args:
        mode: ``"fraction"`` (value = fraction of instructions followed; IFEval's
            instruction-level accuracy) or ``"all"`` (1.0 only when every
            instruction is followed; prompt-level accuracy). None: the task's
            ``reward_mode`` attribute if it has one, else ``"fraction"``.
        loose: IFEval's loose check instead of the strict one. None: the task's
            ``loose`` attribute if it has one, else strict.
        hardened: close known reward hacks (see the module docstring); on by
            default because a policy trained on this reward finds them.

    Statuses: ``ok`` (all followed); ``partial`` (some, in fraction mode);
    ``wrong`` (none, or not all in all mode); ``unparseable`` (blank
    response); ``data_error`` (missing or malformed instructions, an unknown id,
    bad kwargs: value None). Details: ``failed`` (the ids not followed, in
    order), ``followed``, ``total``, ``mode``, ``loose``.
    """

    mode: Mode | None = None
    loose: bool | None = None
    hardened: bool = True

    def __post_init__(self) -> None:
        if self.mode not in (None, "fraction", "all"):
            raise ValueError(f"mode must be 'fraction' or 'all', got {self.mode!r}")

    def __call__(self, completion: str, task: Any) -> Score:
        """Judge ``completion`` against ``task.instruction_ids`` and ``task.kwargs``."""
        mode = self.mode if self.mode is not None else getattr(task, "reward_mode", None) or "fraction"
        loose = self.loose if self.loose is not None else bool(getattr(task, "loose", False))
        if mode not in ("fraction", "all"):
            return Score.no_judgement(Status.DATA_ERROR, reason=f"task reward_mode {mode!r} is not 'fraction' or 'all'")
        try:
            checks = self._checks(task)
        except ValueError as error:
            return Score.no_judgement(Status.DATA_ERROR, reason=str(error))
        ids = [instruction_id for instruction_id, _ in checks]
        response = answer_text(completion if isinstance(completion, str) else "")
        details: dict[str, Any] = {"mode": mode, "loose": loose, "total": len(checks)}
        if not response.strip():
            return Score.fail(Status.UNPARSEABLE, failed=ids, followed=0, reason="blank response", **details)
        variants = instruction_variants(response, loose)
        failed = [instruction_id for instruction_id, check in checks if not follows(check, variants)]
        followed = len(checks) - len(failed)
        details.update(failed=failed, followed=followed)
        if not failed:
            return Score.correct(**details)
        if mode == "fraction" and followed:
            return Score(followed / len(checks), Status.PARTIAL, details)
        return Score.fail(Status.WRONG, **details)

    def _checks(self, task: Any) -> list[tuple[str, Check]]:
        ids = getattr(task, "instruction_ids", None)
        all_kwargs = getattr(task, "kwargs", None)
        if not isinstance(ids, list | tuple) or not ids or not all(isinstance(i, str) for i in ids):
            raise ValueError(f"task.instruction_ids must be a non-empty list of ids, got {ids!r}"[: _DETAIL_CHARS * 2])
        if all_kwargs is None:
            all_kwargs = [{}] * len(ids)
        if not isinstance(all_kwargs, list | tuple) or len(all_kwargs) != len(ids):
            raise ValueError("task.kwargs must be a list with one dict per instruction id")
        prompt = getattr(task, "prompt_text", None)
        checks = []
        for instruction_id, kwargs in zip(ids, all_kwargs, strict=True):
            wants_prompt = instruction_id == "combination:repeat_prompt" and isinstance(kwargs, Mapping | None)
            if wants_prompt and isinstance(prompt, str) and (kwargs or {}).get("prompt_to_repeat") is None:
                kwargs = {**(kwargs or {}), "prompt_to_repeat": prompt}
            checks.append((instruction_id, parse_instruction(instruction_id, kwargs, hardened=self.hardened)))
        return checks
