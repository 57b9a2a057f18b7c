"""IFEval instruction checkers, and a verifier that scores a completion against them.

The 25 instruction types of IFEval (Zhou et al. 2023, "Instruction-Following
Evaluation for Large Language Models"), keyed by IFEval's own instruction ids
and keyword-argument names, so a record of the published data set
(``instruction_id_list`` and ``kwargs``) scores directly::

    check_instruction("punctuation:no_comma", {}, "No commas here.")            # True
    check_instruction("detectable_format:title", {}, "**<<Ode>>**", loose=True)  # True

What follows IFEval exactly, and where this module departs from it:

* Every check follows ``check_following`` of google-research's
  ``instruction_following_eval/instructions.py``; strict and loose are IFEval's
  (an empty or blank response never follows an instruction; loose also tries the
  response without its first line, without its last line, without both, and
  each of those with ``*`` removed).
* IFEval counts sentences and ``capital_word_frequency`` words with nltk's
  punkt and word tokenizers, which need downloaded model data. Here a regex
  splitter stands in: a sentence ends at ``.``, ``?`` or ``!`` (with closing
  quotes or brackets) before white space, except after a common abbreviation
  (``Mr.``, ``e.g.``, ...) or an initial; an ellipsis ends one only before a
  capital. Words for the capital count are runs of letters and digits
  (hyphenated runs are one word; a contraction splits at its apostrophe, as the
  Treebank tokenizer does). On ordinary prose the counts agree; they can differ
  on unusual abbreviations. Word counts (``\\w+``) are exactly IFEval's.
* Language detection is langdetect with a fixed seed (0) on its own detector
  factory, so a verdict never changes between calls or processes. IFEval
  counts text whose language cannot be detected (no letters) as following a
  language instruction; ``hardened=True`` counts it as not following.
* Keywords, forbidden words and section splitters are matched as literal text
  (IFEval passes them to ``re`` unescaped; for the words in its data set that is
  the same).
* Checks that IFEval writes as backtracking regexes (placeholders, titles,
  postscripts) are computed with linear scans that give the same answers, so a
  megabyte of adversarial text is judged in milliseconds; JSON nested past
  Python's recursion limit is "not JSON" (IFEval would crash).
* ``hardened=True`` (the verifier's default, not ``check_instruction``'s) also
  closes a known reward hack: a constrained response must state exactly one of
  the three options ("My answer is yes. My answer is no." does not pass).
"""

from __future__ import annotations

import collections
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from rlvr.verifiers.reasoning import answer_text
from rlvr.verifiers.score import Score, Status

__all__ = [
    "INSTRUCTION_IDS",
    "InstructionFollowing",
    "check_instruction",
    "count_sentences",
    "count_words",
    "detect_language",
    "instruction_variants",
    "language_factory",
    "parse_instruction",
]

Check = Callable[[str], bool]
"""One parsed instruction: ``response -> followed``."""

_RELATIONS = ("less than", "at least")
_CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")
_LANGDETECT_CHARS = 40_000  # langdetect reads 10,000 characters after removing URLs and e-mails
_DETAIL_CHARS = 120


# --- kwargs ------------------------------------------------------------------


class _Args:
    """The keyword arguments of one instruction, checked field by field."""

    def __init__(self, instruction_id: str, kwargs: Mapping[str, Any] | None, fields: tuple[str, ...]) -> None:
        if kwargs is None:
            kwargs = {}
        if not isinstance(kwargs, Mapping):
            raise ValueError(f"{instruction_id}: kwargs must be a mapping, got {type(kwargs).__name__}")
        # IFEval's records list every field of every instruction, unused ones as None.
        given = {key: value for key, value in kwargs.items() if value is not None}
        unknown = sorted(set(given) - set(fields))
        if unknown:
            raise ValueError(f"{instruction_id}: unexpected kwargs {unknown}; it takes {list(fields)}")
        self.instruction_id = instruction_id
        self.given = given

    def _get(self, name: str) -> Any:
        if name not in self.given:
            raise ValueError(f"{self.instruction_id}: missing kwarg {name!r}")
        return self.given[name]

    def integer(self, name: str, minimum: int = 0) -> int:
        value = self._get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must be an integer >= {minimum}, got {value!r}")
        return value

    def text(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must be a non-empty string, got {value!r}")
        return value

    def relation(self, name: str) -> str:
        value = self._get(name)
        if value not in _RELATIONS:
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must be one of {_RELATIONS}, got {value!r}")
        return str(value)

    def words(self, name: str) -> list[str]:
        value = self._get(name)
        if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must be a non-empty list of strings")
        if not all(isinstance(word, str) and word for word in value):
            raise ValueError(f"{self.instruction_id}: kwarg {name!r} must hold non-empty strings, got {value!r}")
        return list(value)


def _compare(count: int, relation: str, threshold: int) -> bool:
    return count < threshold if relation == "less than" else count >= threshold


# --- text utilities ----------------------------------------------------------

_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"\S+")
_CAPITAL_TOKEN = re.compile(r"[^\W_]+(?:[-.][^\W_]+)*\.?|'[^\W_]+|[^\w\s]")
_CLOSERS = "\"')]}’”»"
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "e.g", "i.e", "cf", "al",
        "inc", "ltd", "co", "corp", "no", "nos", "vol", "fig", "figs", "approx", "dept", "est", "gen", "gov",
        "sgt", "capt", "lt", "col", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
        "nov", "dec", "u.s", "u.k", "a.m", "p.m", "ph.d",
    }
)  # fmt: skip


def count_words(text: str) -> int:
    """Words as IFEval counts them: runs of ``\\w`` characters."""
    return sum(1 for _ in _WORD.finditer(text))


def count_sentences(text: str) -> int:
    """Sentences, as a regex stand-in for nltk's punkt (see the module docstring)."""
    sentences = 0
    open_sentence = False
    tokens = list(_TOKEN.finditer(text))
    for index, match in enumerate(tokens):
        token = match.group().rstrip(_CLOSERS)
        open_sentence = True
        if not token or token[-1] not in ".?!":
            continue
        core = token.rstrip(".?!")
        punctuation = token[len(core) :]
        if punctuation == ".":
            word = core.lstrip(_CLOSERS + "(['\"").lower()
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        elif set(punctuation) == {"."}:  # an ellipsis ends a sentence before a capital
            following = tokens[index + 1].group().lstrip(_CLOSERS + "(['\"") if index + 1 < len(tokens) else ""
            if following and not following[0].isupper():
                continue
        sentences += 1
        open_sentence = False
    return sentences + open_sentence


def _capital_words(text: str) -> int:
    return sum(1 for match in _CAPITAL_TOKEN.finditer(text) if match.group().isupper())


@functools.cache
def language_factory() -> Any:
    """langdetect's detector factory with its profiles loaded and seed 0, built once per process."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0  # langdetect samples; a fixed seed makes its verdict a function of the text
    return factory


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code langdetect gives ``text`` (seed 0), or None when it cannot tell."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = language_factory().create()
    try:
        detector.append(text[:_LANGDETECT_CHARS])
        return str(detector.detect())
    except LangDetectException:
        return None


def _is_language(text: str, code: str, hardened: bool) -> bool:
    detected = detect_language(text)
    if detected is None:
        return not hardened  # IFEval: an undetectable language counts as followed
    return detected == code


# --- the checks, one per instruction id --------------------------------------


def _keywords_existence(args: _Args, hardened: bool) -> Check:
    patterns = [re.compile(re.escape(word), re.IGNORECASE) for word in args.words("keywords")]
    return lambda text: all(pattern.search(text) for pattern in patterns)


def _keywords_frequency(args: _Args, hardened: bool) -> Check:
    pattern = re.compile(re.escape(args.text("keyword")), re.IGNORECASE)
    frequency, relation = args.integer("frequency"), args.relation("relation")
    return lambda text: _compare(sum(1 for _ in pattern.finditer(text)), relation, frequency)


def _forbidden_words(args: _Args, hardened: bool) -> Check:
    patterns = [re.compile(r"\b" + re.escape(word) + r"\b", re.IGNORECASE) for word in args.words("forbidden_words")]
    return lambda text: not any(pattern.search(text) for pattern in patterns)


def _letter_frequency(args: _Args, hardened: bool) -> Check:
    letter = args.text("letter").strip().lower()
    if len(letter) != 1 or not "a" <= letter <= "z":
        raise ValueError(f"{args.instruction_id}: kwarg 'letter' must be one letter a-z, got {letter!r}")
    frequency, relation = args.integer("let_frequency"), args.relation("let_relation")
    return lambda text: _compare(collections.Counter(text.lower())[letter], relation, frequency)


def _response_language(args: _Args, hardened: bool) -> Check:
    code = args.text("language")
    return lambda text: _is_language(text, code, hardened)


def _number_sentences(args: _Args, hardened: bool) -> Check:
    threshold, relation = args.integer("num_sentences"), args.relation("relation")
    return lambda text: _compare(count_sentences(text), relation, threshold)


def _number_paragraphs(args: _Args, hardened: bool) -> Check:
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


def _number_words(args: _Args, hardened: bool) -> Check:
    threshold, relation = args.integer("num_words"), args.relation("relation")
    return lambda text: _compare(count_words(text), relation, threshold)


def _nth_paragraph_first_word(args: _Args, hardened: bool) -> Check:
    wanted, nth = args.integer("num_paragraphs"), args.integer("nth_paragraph", minimum=1)
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


def _number_placeholders(args: _Args, hardened: bool) -> Check:
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


def _postscript(args: _Args, hardened: bool) -> Check:
    marker = args.text("postscript_marker")
    if marker == "P.P.S":
        pattern = re.compile(r"p\.\s?p\.\s?s")
    elif marker == "P.S.":
        pattern = re.compile(r"p\.\s?s\.")
    else:
        pattern = re.compile(re.escape(marker.lower()))
    return lambda text: pattern.search(text.lower()) is not None


_STAR_BULLET = re.compile(r"^[^\S\n]*\*[^*].*$", re.MULTILINE)
_DASH_BULLET = re.compile(r"^[^\S\n]*-.*$", re.MULTILINE)


def _number_bullet_lists(args: _Args, hardened: bool) -> Check:
    wanted = args.integer("num_bullets")

    def check(text: str) -> bool:
        bullets = sum(1 for _ in _STAR_BULLET.finditer(text)) + sum(1 for _ in _DASH_BULLET.finditer(text))
        return bullets == wanted

    return check


def _constrained_response(args: _Args, hardened: bool) -> Check:
    def check(text: str) -> bool:
        stated = sum(option in text for option in _CONSTRAINED_OPTIONS)
        return stated == 1 if hardened else stated >= 1

    return check


_HIGHLIGHT = re.compile(r"\*[^\n*]*\*")
_DOUBLE_HIGHLIGHT = re.compile(r"\*\*[^\n*]*\*\*")


def _number_highlighted_sections(args: _Args, hardened: bool) -> Check:
    wanted = args.integer("num_highlights")

    def check(text: str) -> bool:
        single = sum(1 for match in _HIGHLIGHT.finditer(text) if match.group().strip("*").strip())
        double = sum(1 for match in _DOUBLE_HIGHLIGHT.finditer(text) if match.group()[2:-2].strip())
        return single + double >= wanted

    return check


def _multiple_sections(args: _Args, hardened: bool) -> Check:
    splitter = re.compile(r"\s?" + re.escape(args.text("section_spliter")) + r"\s?\d+\s?")
    wanted = args.integer("num_sections")
    return lambda text: len(splitter.split(text)) - 1 >= wanted


def _json_format(args: _Args, hardened: bool) -> Check:
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


def _title(args: _Args, hardened: bool) -> Check:
    def check(text: str) -> bool:
        # Matches of <<[^\n]+>>: per line, from the first "<<" to the last ">>".
        for line in text.split("\n"):
            start = line.find("<<")
            end = line.rfind(">>")
            if start >= 0 and end >= start + 3 and line[start : end + 2].lstrip("<").rstrip(">").strip():
                return True
        return False

    return check


def _two_responses(args: _Args, hardened: bool) -> Check:
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


def _repeat_prompt(args: _Args, hardened: bool) -> Check:
    prompt = args.text("prompt_to_repeat").strip().lower()
    return lambda text: text.strip().lower().startswith(prompt)


def _end_checker(args: _Args, hardened: bool) -> Check:
    phrase = args.text("end_phrase").strip().lower()
    return lambda text: text.strip().strip('"').lower().endswith(phrase)


def _quotation(args: _Args, hardened: bool) -> Check:
    def check(text: str) -> bool:
        text = text.strip()
        return len(text) > 1 and text[0] == '"' and text[-1] == '"'

    return check


def _capital_word_frequency(args: _Args, hardened: bool) -> Check:
    frequency, relation = args.integer("capital_frequency"), args.relation("capital_relation")
    return lambda text: _compare(_capital_words(text), relation, frequency)


def _english_capital(args: _Args, hardened: bool) -> Check:
    return lambda text: text.isupper() and _is_language(text, "en", hardened)


def _english_lowercase(args: _Args, hardened: bool) -> Check:
    return lambda text: text.islower() and _is_language(text, "en", hardened)


def _no_comma(args: _Args, hardened: bool) -> Check:
    return lambda text: "," not in text


_Builder = Callable[[_Args, bool], Check]
_REGISTRY: dict[str, tuple[tuple[str, ...], _Builder]] = {
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

INSTRUCTION_IDS: tuple[str, ...] = tuple(_REGISTRY)
"""Every instruction id this module checks: IFEval's 25."""


def parse_instruction(instruction_id: str, kwargs: Mapping[str, Any] | None, *, hardened: bool = False) -> Check:
    """The check for one instruction, as a function ``response -> followed``.

    Raises:
        ValueError: ``instruction_id`` is unknown, or ``kwargs`` lacks a field,
            has an unexpected one, or holds a value of the wrong kind. The
            message names the id and the field.
    """
    if instruction_id not in _REGISTRY:
        raise ValueError(f"unknown instruction id {instruction_id!r}")
    fields, build = _REGISTRY[instruction_id]
    return build(_Args(instruction_id, kwargs, fields), hardened)


def instruction_variants(response: str, loose: bool) -> list[str]:
    """The texts IFEval tries: the response itself, or with ``loose`` also the
    response without its first line, its last line, both, and all four with ``*`` removed."""
    if not loose:
        return [response]
    lines = response.split("\n")
    cut = ["\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return [response, response.replace("*", ""), *cut, *(variant.replace("*", "") for variant in cut)]


def _follows(check: Check, variants: list[str]) -> bool:
    return any(variant.strip() and check(variant) for variant in variants)


def check_instruction(
    instruction_id: str,
    kwargs: Mapping[str, Any] | None,
    response: str,
    *,
    loose: bool = False,
    hardened: bool = False,
) -> bool:
    """Whether ``response`` follows one IFEval instruction.

    Args:
        instruction_id: an IFEval id such as ``"keywords:frequency"`` (see
            ``INSTRUCTION_IDS``).
        kwargs: its keyword arguments, named as in IFEval's records; fields
            whose value is None are ignored, as IFEval does.
        response: the model's text. Never raises on it.
        loose: IFEval's loose accuracy: also try the response without its first
            line, without its last line, without both, and each with ``*``
            removed; follows if any variant does. A blank response (or variant)
            never follows.
        hardened: close the reward hacks listed in the module docstring
            (IFEval's own verdicts when False).

    Raises:
        ValueError: an unknown id or bad kwargs (a data error, not the model's).
    """
    check = parse_instruction(instruction_id, kwargs, hardened=hardened)
    return _follows(check, instruction_variants(response, loose))


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
        failed = [instruction_id for instruction_id, check in checks if not _follows(check, variants)]
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
