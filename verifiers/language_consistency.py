"""DeepSeek-R1's language-consistency reward: the share of the chain of thought written in the target language.

DeepSeek-R1 (2025, section 2.3.2) adds "the proportion of target language words
in the CoT" to the reward, because R1-Zero's reasoning drifted between
languages. This module measures that proportion.

``language_share(text, language)`` is the number of the text's words written in
``language`` divided by the number of its words (None when it has none), and
``LanguageConsistency`` scores the content of a completion's ``<think>`` block
(or, optionally, the whole completion) with it.

What a word is, and whose it is:

* **Script first.** Every letter is given its Unicode script from a fixed table
  of code-point ranges (Latin, Greek, Cyrillic, Arabic, Hebrew, Devanagari, Han,
  Hiragana, Katakana, Hangul, Thai, ...); letters outside the table are script
  ``Other``. Combining marks belong to the letter before them (Hindi vowel signs,
  accents written as marks). A word is a run of letters of one script; an
  apostrophe between two letters joins them (``don't`` is one word); any other
  character ends a word.
* **No-space scripts count per character.** Chinese, Japanese, Thai, Lao, Khmer
  and Burmese are written without spaces between words, and there is no
  dictionary-free way to segment them, so each Han, Hiragana, Katakana, Thai,
  Lao, Khmer or Myanmar letter counts as one word. A Chinese word is 1.5
  characters on average, so Chinese text weighs about 1.5 times its number of
  words against spaced scripts (Thai more: about 4 letters a word).
* **Languages with their own script are decided by script.** A word counts for
  ``zh`` when it is Han; for ``ja`` when it is Han, Hiragana or Katakana; for
  ``ko`` when it is Hangul; for ``ru`` when it is Cyrillic; and so on
  (``SUPPORTED_LANGUAGES``). Every word in another script counts against.
* **Latin-script languages are decided by sentence, by langdetect.** A script
  cannot tell English from Spanish, and word lists misjudge the short function
  words that all of them share (``a``, ``no``, ``me``, ``la``), so for a Latin
  target (``en``, ``es``, ``fr``, ``de``, ...) the Latin words are grouped into
  chunks of consecutive sentences (split at ``.``, ``!``, ``?`` and line breaks)
  of at least ``MIN_CHUNK_WORDS`` words (a short last sentence joins the chunk
  before it), and each chunk is classified by langdetect with a fixed seed on
  its own detector factory (as ``rlvr.verifiers.ifeval`` does), so the verdict is a
  pure function of the text. A chunk's words count against the target only when
  langdetect is confident that the chunk is *not* in the target: when it gives
  the target a probability of at most ``1 - FOREIGN_CONFIDENCE`` (they are
  reported under langdetect's most probable language). So a Spanish chunk that
  langdetect splits between ``es`` (0.86) and ``ca`` (0.14) still counts for a
  Spanish target, and one it cannot place at all counts for the target.
  langdetect guesses wildly on a few words ("OK" is Portuguese, "Yes" Turkish),
  so a text with fewer than ``MIN_CHUNK_WORDS`` Latin words in all is not
  checked for Latin-language mixing: its Latin words count for the target.
  The share is therefore weighted by word counts, not by sentences.

Neutral tokens are not words: they count neither for nor against. They are

* numbers and punctuation (they are not letters);
* Latin or Greek letters in a token that also holds a digit or an underscore
  (``x1``, ``2x``, ``a_n``, ``var_name``): code and math identifiers;
* single Latin or Greek letters (``x``, ``n``, ``θ``: math variables; English
  ``a`` and ``I`` go with them);
* camelCase Latin tokens (``numPoints``, ``LaTeX``);
* LaTeX commands (``\\frac``, ``\\sqrt``), XML-like tags (``<think>``), URLs;
* a short list of math and unit abbreviations (``sin``, ``log``, ``gcd``,
  ``max``, ``mod``, ``cm``, ``kg``, ... ``SYMBOL_WORDS``).

The text inside ``$...$`` or backticks is *not* made neutral as a whole: a
policy could otherwise hide another language in math or code spans. Its tokens
go through the rules above, which make most math neutral anyway.

Limits:

* Concatenating two texts adds their counts (so the share of the whole lies
  between the two shares) when the target is decided by script; for a Latin
  target it holds only approximately, since chunks form across the join.
* A Chinese CoT in a ``ja`` target counts as Japanese (both use Han), and
  Ukrainian in a ``ru`` target counts as Russian: languages sharing a non-Latin
  script are not told apart. Hanja in Korean text count against ``ko``.
* langdetect on a chunk of ten words is usually right for the languages it knows
  but can confuse close pairs (``es``/``pt``/``ca``, ``no``/``da``); a confused
  chunk counts for the target. Switching languages inside one chunk is not seen:
  the chunk goes to its majority language. Long texts are cut into at most
  ``MAX_CHUNKS`` chunks (so a 1 MB text costs at most that many detections),
  which coarsens the resolution further above ``MAX_CHUNKS * MIN_CHUNK_WORDS``
  Latin words.
* English technical words in a non-Latin CoT (``API``, ``Python``) count
  against the target, as the R1 reward would count them.
* Latin targets need langdetect (the ``ifeval`` extra); without it scoring such
  a target raises ``ImportError`` (the verifier returns ``verifier_error``).
* Like R1's reward, a proportion rises when target-language filler is added;
  it never reaches 1.0 while a foreign word remains, but bounding the filler
  is left to length penalties and the accuracy reward.
* A CoT with no words at all (only numbers or punctuation) has no share; the
  verifier scores it 0.0 so that dropping words is never the way to the reward.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rlvr.verifiers.ifeval import language_factory
from rlvr.verifiers.score import Score, Status

__all__ = [
    "FOREIGN_CONFIDENCE",
    "MAX_CHUNKS",
    "MIN_CHUNK_WORDS",
    "SUPPORTED_LANGUAGES",
    "SYMBOL_WORDS",
    "LanguageConsistency",
    "LanguageCounts",
    "language_counts",
    "language_share",
    "normalize_language",
    "think_content",
]

MIN_CHUNK_WORDS = 10
"""Latin words per langdetect chunk, at least (a chunk grows sentence by sentence up to this)."""
MAX_CHUNKS = 128
"""Most langdetect calls per text; above it consecutive chunks are merged into larger ones."""
FOREIGN_CONFIDENCE = 0.9
"""A chunk counts against the target when langdetect gives the other languages together at least this probability."""

# --- scripts -------------------------------------------------------------------

_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00AA, 0x00AA, "Latin"), (0x00BA, 0x00BA, "Latin"),
    (0x00C0, 0x02AF, "Latin"), (0x0370, 0x03FF, "Greek"), (0x0400, 0x052F, "Cyrillic"),
    (0x0531, 0x058F, "Armenian"), (0x0590, 0x05FF, "Hebrew"), (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"), (0x08A0, 0x08FF, "Arabic"), (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"), (0x0A00, 0x0A7F, "Gurmukhi"), (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B80, 0x0BFF, "Tamil"), (0x0C00, 0x0C7F, "Telugu"), (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"), (0x0E00, 0x0E7F, "Thai"), (0x0E80, 0x0EFF, "Lao"),
    (0x1000, 0x109F, "Myanmar"), (0x10A0, 0x10FF, "Georgian"), (0x1100, 0x11FF, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"), (0x1780, 0x17FF, "Khmer"), (0x1C80, 0x1C8F, "Cyrillic"),
    (0x1C90, 0x1CBF, "Georgian"), (0x1D00, 0x1D7F, "Latin"), (0x1E00, 0x1EFF, "Latin"),
    (0x1F00, 0x1FFF, "Greek"), (0x2C60, 0x2C7F, "Latin"), (0x2DE0, 0x2DFF, "Cyrillic"),
    (0x3005, 0x3007, "Han"), (0x3040, 0x309F, "Hiragana"), (0x30A0, 0x30FF, "Katakana"),
    (0x3130, 0x318F, "Hangul"), (0x31F0, 0x31FF, "Katakana"), (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"), (0xA640, 0xA69F, "Cyrillic"), (0xA720, 0xA7FF, "Latin"),
    (0xA8E0, 0xA8FF, "Devanagari"), (0xA960, 0xA97F, "Hangul"), (0xAB30, 0xAB6F, "Latin"),
    (0xAC00, 0xD7FF, "Hangul"), (0xF900, 0xFAFF, "Han"), (0xFB00, 0xFB06, "Latin"),
    (0xFB1D, 0xFB4F, "Hebrew"), (0xFB50, 0xFDFF, "Arabic"), (0xFE70, 0xFEFF, "Arabic"),
    (0xFF21, 0xFF3A, "Latin"), (0xFF41, 0xFF5A, "Latin"), (0xFF66, 0xFF9F, "Katakana"),
    (0xFFA0, 0xFFDC, "Hangul"), (0x20000, 0x323AF, "Han"),
)  # fmt: skip
_RANGE_STARTS = tuple(start for start, _, _ in _SCRIPT_RANGES)

_PER_CHARACTER = frozenset({"Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar"})
"""Scripts written without spaces: each letter is one word."""
_VARIABLE_SCRIPTS = frozenset({"Latin", "Greek"})
"""Scripts whose single letters and digit-bearing tokens are math or code, hence neutral."""

_LATIN_LANGUAGES = frozenset(
    {
        "af", "ca", "cs", "cy", "da", "de", "en", "es", "et", "fi", "fr", "hr", "hu", "id", "it", "lt", "lv", "nl",
        "no", "pl", "pt", "ro", "sk", "sl", "so", "sq", "sv", "sw", "tl", "tr", "vi",
    }
)  # fmt: skip
_SCRIPT_LANGUAGES: dict[str, frozenset[str]] = {
    "zh": frozenset({"Han"}),
    "ja": frozenset({"Han", "Hiragana", "Katakana"}),
    "ko": frozenset({"Hangul"}),
    **{code: frozenset({"Cyrillic"}) for code in ("ru", "uk", "bg", "mk", "be", "kk")},
    **{code: frozenset({"Arabic"}) for code in ("ar", "fa", "ur")},
    **{code: frozenset({"Devanagari"}) for code in ("hi", "mr", "ne")},
    "el": frozenset({"Greek"}),
    "he": frozenset({"Hebrew"}),
    "bn": frozenset({"Bengali"}),
    "pa": frozenset({"Gurmukhi"}),
    "gu": frozenset({"Gujarati"}),
    "ta": frozenset({"Tamil"}),
    "te": frozenset({"Telugu"}),
    "kn": frozenset({"Kannada"}),
    "ml": frozenset({"Malayalam"}),
    "th": frozenset({"Thai"}),
    "lo": frozenset({"Lao"}),
    "km": frozenset({"Khmer"}),
    "my": frozenset({"Myanmar"}),
    "ka": frozenset({"Georgian"}),
    "hy": frozenset({"Armenian"}),
    "am": frozenset({"Ethiopic"}),
}
_LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    **{code: frozenset({"Latin"}) for code in _LATIN_LANGUAGES},
    **_SCRIPT_LANGUAGES,
}
SUPPORTED_LANGUAGES: frozenset[str] = frozenset(_LANGUAGE_SCRIPTS)
"""ISO 639-1 codes ``language_share`` accepts (after ``normalize_language``)."""

_ALIASES = {"nb": "no", "nn": "no", "fil": "tl", "iw": "he", "in": "id"}

SYMBOL_WORDS: frozenset[str] = frozenset(
    {
        "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "log", "ln",
        "lg", "exp", "lim", "sup", "inf", "max", "min", "argmax", "argmin", "mod", "gcd", "lcm", "det", "tr", "rank",
        "dim", "ker", "deg", "sgn", "var", "cov", "mm", "cm", "km", "kg", "mg", "ml", "kb", "mb", "gb", "hz",
    }
)  # fmt: skip
"""Math functions and unit abbreviations (compared lower-cased): neutral, never words."""

# Tokens removed before counting: XML-like tags, LaTeX commands, URLs. Each is linear (no nested quantifiers).
_NEUTRAL_SPANS = re.compile(r"</?[A-Za-z][\w-]*[ \t]*/?>|\\[A-Za-z]+|https?://\S+")
_SENTENCE_END = re.compile(r"[.!?\n。！？]+")

_SEPARATOR, _MARK, _CODE, _APOSTROPHE = "", "mark", "code", "apostrophe"


@functools.lru_cache(maxsize=1 << 16)
def _char_class(char: str) -> str:
    """A letter's script, or ``mark``, ``code`` (digit, underscore), ``apostrophe`` or ``""`` (separator)."""
    category = unicodedata.category(char)
    if category[0] == "L":
        code_point = ord(char)
        index = bisect.bisect_right(_RANGE_STARTS, code_point) - 1
        if index >= 0 and code_point <= _SCRIPT_RANGES[index][1]:
            return _SCRIPT_RANGES[index][2]
        return "Other"
    if category[0] == "M":
        return _MARK
    if category[0] == "N" or char == "_":
        return _CODE
    if char in "'’":
        return _APOSTROPHE
    return _SEPARATOR


def _is_camel_case(word: str) -> bool:
    return any(a.islower() and b.isupper() for a, b in itertools.pairwise(word))


def _words(sentence: str) -> list[tuple[str, str]]:
    """``(script, word)`` for every counted word of ``sentence``, neutral tokens left out."""
    words: list[tuple[str, str]] = []
    token: list[tuple[str, str]] = []  # (class, run of characters of that class)
    for kind, run in itertools.groupby(sentence, _char_class):
        if kind == _SEPARATOR:
            _token_words(token, words)
            token = []
        else:
            token.append((kind, "".join(run)))
    _token_words(token, words)
    return words


def _token_words(token: list[tuple[str, str]], words: list[tuple[str, str]]) -> None:
    """Append the words of one space-free token (see the module docstring for the rules)."""
    if not token:
        return
    has_code = any(kind == _CODE for kind, _ in token)
    segments: list[list[str]] = []  # [script, text]
    joinable = False  # the last segment may continue (after a letter, a mark, or an apostrophe following a letter)
    for kind, run in token:
        if kind == _MARK:
            if segments and joinable:
                segments[-1][1] += run
        elif kind == _APOSTROPHE:
            joinable = joinable and len(run) == 1
            if joinable:
                segments[-1][1] += run
            continue
        elif kind == _CODE:
            joinable = False
        elif kind in _PER_CHARACTER:
            segments.extend([kind, char] for char in run)
            joinable = False
        elif joinable and segments[-1][0] == kind:
            segments[-1][1] += run
            joinable = True
        else:
            segments.append([kind, run])
            joinable = True
    for script, text in segments:
        text = text.rstrip("'’")
        if script in _VARIABLE_SCRIPTS:
            letters = sum(1 for char in text if _char_class(char) == script)
            if has_code or letters <= 1 or _is_camel_case(text) or text.casefold() in SYMBOL_WORDS:
                continue
        words.append((script, text))


# --- languages -------------------------------------------------------------------


def normalize_language(language: str) -> str:
    """The ISO 639-1 code ``language_share`` uses for ``language``.

    Case and region are dropped (``"en-US"``, ``"pt_BR"``, ``"zh-Hans"`` give
    ``en``, ``pt``, ``zh``) and a few old or alternative codes are mapped
    (``nb`` and ``nn`` to ``no``, ``iw`` to ``he``, ``in`` to ``id``, ``fil`` to ``tl``).

    Raises:
        ValueError: ``language`` is not a string naming one of ``SUPPORTED_LANGUAGES``.
    """
    if not isinstance(language, str):
        raise ValueError(f"language must be a string, got {type(language).__name__}")
    code = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    code = _ALIASES.get(code, code)
    if code not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {sorted(SUPPORTED_LANGUAGES)}")
    return code


@functools.lru_cache(maxsize=4096)
def _detect(chunk: str) -> tuple[tuple[str, float], ...]:
    """langdetect's ``(language, probability)`` guesses for ``chunk``, most probable first; empty if it cannot tell."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = language_factory().create()
    try:
        detector.append(chunk)
        guesses = detector.get_probabilities()
    except LangDetectException:
        return ()
    return tuple((str(guess.lang), float(guess.prob)) for guess in guesses)


def _foreign_language(chunk: list[str], target: str) -> str | None:
    """The language ``chunk`` counts for when it is confidently not ``target``, else None (it counts for the target)."""
    if len(chunk) < MIN_CHUNK_WORDS:
        return None  # langdetect guesses wildly on a few words
    guesses = _detect(" ".join(chunk))
    if not guesses or dict(guesses).get(target, 0.0) > 1.0 - FOREIGN_CONFIDENCE:
        return None
    return guesses[0][0]


def _chunks(sentences: list[list[str]]) -> list[list[str]]:
    """Latin words grouped for detection: consecutive sentences joined until a chunk has MIN_CHUNK_WORDS."""
    chunks: list[list[str]] = []
    current: list[str] = []
    for sentence in sentences:
        current.extend(sentence)
        if len(current) >= MIN_CHUNK_WORDS:
            chunks.append(current)
            current = []
    if current:
        if chunks:
            chunks[-1].extend(current)  # a short tail joins the last chunk
        else:
            chunks.append(current)
    if len(chunks) > MAX_CHUNKS:
        size = math.ceil(len(chunks) / MAX_CHUNKS)
        chunks = [list(itertools.chain.from_iterable(chunks[i : i + size])) for i in range(0, len(chunks), size)]
    return chunks


@dataclass(frozen=True)
class LanguageCounts:
    """Word counts of one text against one target language.

    Attributes:
        language: the target, an ISO 639-1 code.
        target: words written in the target language.
        total: all counted words (neutral tokens excluded).
        foreign: words not in the target, by where they went: a script name
            (``"Han"``, ``"Cyrillic"``) or, for Latin words that langdetect
            placed in another language, that language's code (``"es"``).
    """

    language: str
    target: int
    total: int
    foreign: Mapping[str, int] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        """``target / total`` in [0, 1], or None when the text has no words."""
        return self.target / self.total if self.total else None


def language_counts(text: str, language: str) -> LanguageCounts:
    """Count ``text``'s words, and those of them written in ``language`` (see the module docstring).

    Args:
        text: any text; tags such as ``<think>`` are neutral.
        language: the target, an ISO 639-1 code (``"en"``, ``"zh"``, ``"es-MX"``).

    Raises:
        ValueError: unsupported ``language``.
        ImportError: a Latin-script target and langdetect is not installed.
    """
    code = normalize_language(language)
    target_scripts = _LANGUAGE_SCRIPTS[code]
    detect = "Latin" in target_scripts
    foreign: Counter[str] = Counter()
    target = 0
    sentences: list[list[str]] = []
    for sentence in _SENTENCE_END.split(_NEUTRAL_SPANS.sub(" ", text)):
        latin: list[str] = []
        for script, word in _words(sentence):
            if detect and script == "Latin":
                latin.append(word)
            elif script in target_scripts:
                target += 1
            else:
                foreign[script] += 1
        if latin:
            sentences.append(latin)
    for chunk in _chunks(sentences):
        detected = _foreign_language(chunk, code)
        if detected is None:
            target += len(chunk)
        else:
            foreign[detected] += len(chunk)
    return LanguageCounts(code, target, target + sum(foreign.values()), dict(foreign))


def language_share(text: str, language: str) -> float | None:
    """The share of ``text``'s words written in ``language``, in [0, 1]; None when it has no words.

    Words and their language are decided as the module docstring says: by script
    (Han characters one word each) and, for Latin-script targets, by langdetect
    on chunks of sentences; numbers, punctuation, math and code tokens are neutral.

    Args:
        text: any text.
        language: the target, an ISO 639-1 code (``"en"``, ``"zh"``, ``"es"``).

    Returns:
        ``target words / all words``, or None when nothing in ``text`` is a word.

    Raises:
        ValueError: unsupported ``language``.
        ImportError: a Latin-script target and langdetect is not installed.
    """
    return language_counts(text, language).share


# --- the verifier --------------------------------------------------------------------

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def think_content(completion: str) -> str | None:
    """The chain of thought: the text before the first ``</think>``, or None when there is no ``</think>``.

    Read as ``rlvr.verifiers.r1_format`` reads it: leading white space and an opening
    ``<think>`` are skipped (a chat template may have put ``<think>`` in the prompt).
    """
    body = completion.lstrip()
    if body.startswith(THINK_OPEN):
        body = body[len(THINK_OPEN) :]
    end = body.find(THINK_CLOSE)
    return None if end == -1 else body[:end]


@dataclass(frozen=True)
class LanguageConsistency:
    """DeepSeek-R1's language-consistency reward: the share of the CoT in the target language.

    Args:
        language: the default target, an ISO 639-1 code; checked at construction.
        scope: ``"think"`` scores the ``<think>`` block (required: without a
            ``</think>`` the score is 0.0, ``format_error``); ``"completion"``
            scores the whole completion.
        task_field: the task field that may name the target. When the task has
            it (an attribute, or a key of a mapping task) and its value is not
            None, it overrides ``language``; a value that is not a supported
            language code gives ``data_error`` (no value). None: ignore the task.

    Scores: the share as the value, status ``ok`` at 1.0, ``partial`` strictly
    between 0 and 1, ``wrong`` at 0.0 (every word in other languages), and 0.0
    ``format_error`` when the scored text has no words (empty, only numbers or
    punctuation). Details: ``language``, ``words``, ``target_words`` and the
    largest ``foreign`` counts. Never raises: a crash gives ``verifier_error``.
    """

    language: str = "en"
    scope: Literal["think", "completion"] = "think"
    task_field: str | None = "language"

    def __post_init__(self) -> None:
        object.__setattr__(self, "language", normalize_language(self.language))
        if self.scope not in ("think", "completion"):
            raise ValueError(f"scope must be 'think' or 'completion', got {self.scope!r}")

    def __call__(self, completion: str, task: Any) -> Score:
        """Score ``completion`` (the model's text) against the target language of ``task`` or the default."""
        try:
            return self._judge(completion, task)
        except Exception as error:  # a checker bug (or a missing langdetect) must not kill a training step
            return Score.no_judgement(Status.VERIFIER_ERROR, error=f"{type(error).__name__}: {error}")

    def target_language(self, task: Any) -> str:
        """The target for ``task``: its ``task_field`` when set and not None, else ``language``.

        Raises:
            ValueError: the task names an unsupported language.
        """
        if self.task_field is None:
            return self.language
        value = task.get(self.task_field) if isinstance(task, Mapping) else getattr(task, self.task_field, None)
        return self.language if value is None else normalize_language(value)

    def _judge(self, completion: str, task: Any) -> Score:
        try:
            language = self.target_language(task)
        except ValueError as error:
            return Score.no_judgement(Status.DATA_ERROR, error=str(error))
        if not isinstance(completion, str):
            return Score.fail(Status.FORMAT_ERROR, language=language, reason="completion is not text")
        text = completion if self.scope == "completion" else think_content(completion)
        if text is None:
            return Score.fail(Status.FORMAT_ERROR, language=language, reason="no think block")
        counts = language_counts(text, language)
        details = {
            "language": language,
            "words": counts.total,
            "target_words": counts.target,
            "foreign": dict(Counter(counts.foreign).most_common(5)),
        }
        share = counts.share
        if share is None:
            reason = "empty think block" if not text.strip() else "no words"
            return Score.fail(Status.FORMAT_ERROR, reason=reason, **details)
        if share == 1.0:
            return Score(1.0, Status.OK, details)
        return Score(share, Status.PARTIAL if share > 0.0 else Status.WRONG, details)
