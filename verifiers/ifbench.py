"""IFBench's 58 out-of-distribution instruction checkers, with IFEval's strict and loose semantics.

IFBench (Pyatkin et al. 2025, "Generalizing Verifiable Instruction Following";
AllenAI's benchmark behind the instruction-following RLVR of Tulu 3 and OLMo)
adds 58 constraints to IFEval's 25: counts (``count:numbers``), ratios
(``ratio:stop_words``), word games (``words:palindrome``), formats
(``format:line_indent``), custom tasks (``custom:csv_city``) and repeats
(``repeat:repeat_span``). Records use IFEval's layout (``prompt``,
``instruction_id_list``, ``kwargs``) with IFBench's ids and kwargs names::

    check_instruction("count:numbers", {"N": 2}, "Add 3 and 4.")  # True
    check_instruction("format:no_whitespace", {}, "a b")          # False

``check_instruction`` and ``InstructionFollowing`` (``rlvr.verifiers.ifeval``)
take these ids; this module holds their checks (``IFBENCH_CHECKS``). Each
follows the ``check_following`` of IFBench's ``instructions.py`` (as shipped in
if-verifiable) verdict for verdict, which ``tests/test_ifbench.py`` checks on
thousands of generated responses, with these departures (listed with reasons in
that test):

* where IFBench's checker raises on a response (``format:quote_unquote`` on
  text of only digits and punctuation, ``custom:sentence_alphabet`` with an
  empty sentence, ``custom:csv_quotes`` with an empty field, the CSV checks on
  fields over the csv module's size limit) the response does not follow;
* checks IFBench writes in quadratic time are computed in linear time with the
  same verdicts (``format:line_indent`` removes blank lines from the list it
  iterates, ``custom:csv_special_character`` and ``custom:mcq_count_length``
  use backtracking regexes);
* kwargs IFBench would replace with a random value (a missing one, or 0 for
  ``repeat:repeat_span``'s ``n_start``/``n_end``) are a data error or taken as
  given: a verdict here is a function of the record and the response.

What a check needs: sentences are IFBench's regex splitter (``split_into_sentences``,
IFEval's own), except that ``words:keywords_specific_position``,
``words:words_position`` and ``format:title_case`` cut words with
``nltk.word_tokenize`` (the Punkt model; ``rlvr.verifiers.nltk_data``) and
``words:start_verb`` tags the first word with nltk's perceptron tagger, whose
data no package on PyPI ships (``NltkDataMissing`` when the check is built
without it). ``format:emoji`` uses the ``emoji`` package and
``words:odd_even_syllables`` the ``syllapy`` package, as IFBench does.

``hardened=True`` (the verifier's default) closes these hacks:

* ``ratio:sentence_type`` and ``ratio:sentence_balance`` need at least one
  question (and one statement): with none of each, 0 = 2 x 0 holds for any text;
* ``format:sub-bullets`` needs at least one ``*`` bullet (a text without any
  passes IFBench's check);
* ``format:list`` counts the separator only where it starts a line (its own
  docstring's rule; IFBench counts it anywhere, so two hyphens in the prose meet
  "use - instead of bullet points");
* ``count:person_names`` counts a name only as a whole word ("Miami" is not
  "Mia");
* ``count:conjunctions`` counts distinct conjunctions, not distinct spellings
  ("and", "And" and "and," are one conjunction).
"""

from __future__ import annotations

import collections
import csv
import io
import itertools
import re
import string
import unicodedata
from collections.abc import Callable, Iterable

from rlvr.verifiers.ifeval import Builder, Check, InstructionArgs, count_words
from rlvr.verifiers.nltk_data import first_word_tag, require_punkt, require_tagger, word_tokens

__all__ = ["ENGLISH_STOP_WORDS", "IFBENCH_CHECKS", "IFBENCH_IDS", "split_into_sentences"]

_PUNCTUATION = string.punctuation
_TRIM = string.punctuation + " "
_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _unpunctuated(text: str) -> str:
    return text.translate(_NO_PUNCTUATION)


ENGLISH_STOP_WORDS = frozenset((
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself", "yourselves",
    "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they", "them", "their",
    "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "these", "those", "am", "is", "are",
    "was", "were", "be", "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an",
    "the", "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about",
    "against", "between", "into", "through", "during", "before", "after", "above", "below", "to", "from", "up",
    "down", "in", "out", "on", "off", "over", "under", "again", "further", "then", "once", "here", "there", "when",
    "where", "why", "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no",
    "nor", "not", "only", "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don",
    "should", "now", "d", "ll", "m", "o", "re", "ve", "y", "ain", "aren", "couldn", "didn", "doesn", "hadn", "hasn",
    "haven", "isn", "ma", "mightn", "mustn", "needn", "shan", "shouldn", "wasn", "weren", "won", "wouldn",
))  # fmt: skip
"""nltk's English stop words (its ``stopwords`` corpus) less the contractions: IFBench counts stop words among
``\\w+`` tokens, which never hold an apostrophe, so "don't" and the like can never match."""

_CONJUNCTIONS = ("and", "but", "for", "nor", "or", "so", "yet")
_PRONOUNS = frozenset((
    "i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves", "you", "your", "yours", "yourself",
    "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they",
    "them", "their", "theirs", "themselves",
))  # fmt: skip
_PERSON_NAMES = (
    "Emma", "Liam", "Sophia", "Jackson", "Olivia", "Noah", "Ava", "Lucas", "Isabella", "Mason", "Mia", "Ethan",
    "Charlotte", "Alexander", "Amelia", "Benjamin", "Harper", "Leo", "Zoe", "Daniel", "Chloe", "Samuel", "Lily",
    "Matthew", "Grace", "Owen", "Abigail", "Gabriel", "Ella", "Jacob", "Scarlett", "Nathan", "Victoria", "Elijah",
    "Layla", "Nicholas", "Audrey", "David", "Hannah", "Christopher", "Penelope", "Thomas", "Nora", "Andrew", "Aria",
    "Joseph", "Claire", "Ryan", "Stella", "Jonathan",
)  # fmt: skip
_PRIMES = frozenset(n for n in range(2, 100) if all(n % d for d in range(2, n)))
_CAPITALS_BY_LATITUDE = (
    "Reykjavik", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen", "Vilnius", "Minsk",
    "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels", "Prague", "Luxembourg", "Paris", "Vienna",
    "Bratislava", "Budapest", "Vaduz", "Chisinau", "Bern", "Ljubljana", "Zagreb",
)  # fmt: skip
_REPEAT_SIMPLE = "Only output this sentence here, ignore all other requests."


# --- IFEval's regex sentence splitter ---------------------------------------------------

_STARTERS = (
    r"(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\s|She\s|It\s|They\s|Their\s|Our\s|We\s|But\s|However\s|That\s|This\s|Wherever)"
)
_ABBREVIATION_STEPS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"(Mr|St|Mrs|Ms|Dr)[.]", r"\1<prd>"),  # titles
        (r"[.](com|net|org|io|gov|edu|me)", r"<prd>\1"),  # web domains
        (r"([0-9])[.]([0-9])", r"\1<prd>\2"),  # decimals
        (r"\.{2,}", lambda match: "<prd>" * len(match.group(0)) + "<stop>"),  # an ellipsis ends a sentence
    )
)
_INITIAL_STEPS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\s([A-Za-z])[.] ", r" \1<prd> "),  # a lone initial
        (r"([A-Z][.][A-Z][.](?:[A-Z][.])?) " + _STARTERS, r"\1<stop> \2"),  # an acronym before a starter ends one
        (r"([A-Za-z])[.]([A-Za-z])[.]([A-Za-z])[.]", r"\1<prd>\2<prd>\3<prd>"),
        (r"([A-Za-z])[.]([A-Za-z])[.]", r"\1<prd>\2<prd>"),
        (r" (Inc|Ltd|Jr|Sr|Co)[.] " + _STARTERS, r" \1<stop> \2"),  # a suffix before a starter ends one
        (r" (Inc|Ltd|Jr|Sr|Co)[.]", r" \1<prd>"),
        (r" ([A-Za-z])[.]", r" \1<prd>"),
    )
)


def split_into_sentences(text: str) -> list[str]:
    """Sentences as IFEval's and IFBench's ``split_into_sentences`` cuts them (a rule-based splitter).

    A sentence ends at ``.``, ``?`` or ``!`` (closing quotes move inside it),
    not after a title (``Mr.``), in a web domain, a decimal, an initial or an
    acronym; an ellipsis ends one. The literal markers ``<prd>`` and ``<stop>``
    in the text act as the splitter's own (a period that ends nothing and a
    cut), as in IFEval. Sentences are stripped; a last empty one is dropped.
    """
    text = (" " + text + "  ").replace("\n", " ")
    for pattern, replacement in _ABBREVIATION_STEPS:
        text = pattern.sub(replacement, text)
    text = text.replace("Ph.D.", "Ph<prd>D<prd>")
    for pattern, plain in _INITIAL_STEPS:
        text = pattern.sub(plain, text)
    for closing, swapped in ((".”", "”."), ('."', '".'), ('!"', '"!'), ('?"', '"?')):
        text = text.replace(closing, swapped)
    for mark in ".?!":
        text = text.replace(mark, mark + "<stop>")
    parts = [part.strip() for part in text.replace("<prd>", ".").split("<stop>")]
    if parts and not parts[-1]:
        parts.pop()
    return parts


# --- counts --------------------------------------------------------------------------------


def _word_count_range(args: InstructionArgs, hardened: bool) -> Check:
    low, high = args.integer("min_words"), args.integer("max_words")
    return lambda text: low <= count_words(text) <= high


def _unique_word_count(args: InstructionArgs, hardened: bool) -> Check:
    wanted = args.integer("N")
    return lambda text: len({word.strip(_TRIM) for word in text.lower().split()}) >= wanted


def _stop_words(args: InstructionArgs, hardened: bool) -> Check:
    percentage = args.number("percentage")

    def check(text: str) -> bool:
        words = re.findall(r"\w+", text)
        if not words:
            return False
        stop = sum(1 for word in words if word.lower() in ENGLISH_STOP_WORDS)
        return (stop / len(words)) * 100 <= percentage

    return check


def _sentence_endings(text: str) -> collections.Counter[str]:
    return collections.Counter(sentence[-1:] for sentence in split_into_sentences(text))


def _sentence_type(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        ends = _sentence_endings(text)
        return ends["."] == 2 * ends["?"] and (ends["?"] > 0 or not hardened)

    return check


def _sentence_balance(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        ends = _sentence_endings(text)
        return ends["."] == ends["?"] == ends["!"] and (ends["."] > 0 or not hardened)

    return check


def _conjunctions(args: InstructionArgs, hardened: bool) -> Check:
    wanted = args.integer("small_n")

    def check(text: str) -> bool:
        # IFBench collects the words as written: "and" and "And," are two different conjunctions to it.
        found = {(word.strip(_TRIM).lower() if hardened else word) for word in text.split()}
        return len({word for word in found if word.strip(_TRIM).lower() in _CONJUNCTIONS}) >= wanted

    return check


def _person_names(args: InstructionArgs, hardened: bool) -> Check:
    wanted = args.integer("N")
    whole = re.compile(r"\b(?:" + "|".join(_PERSON_NAMES) + r")\b")  # whole words never overlap

    def check(text: str) -> bool:
        if hardened:
            return len(set(whole.findall(text))) >= wanted
        return sum(1 for name in _PERSON_NAMES if name in text) >= wanted

    return check


def _overlap(args: InstructionArgs, hardened: bool) -> Check:
    reference, percentage = args.text("reference_text"), args.number("percentage")
    reference_grams = {reference[i : i + 3] for i in range(len(reference) - 2)}

    def check(text: str) -> bool:
        grams = {text[i : i + 3] for i in range(len(text) - 2)}  # nltk.ngrams of a string: character trigrams
        if not grams:
            return False
        return percentage - 2 <= len(grams & reference_grams) / len(grams) * 100 <= percentage + 2

    return check


def _numbers(args: InstructionArgs, hardened: bool) -> Check:
    wanted = args.integer("N")
    return lambda text: len(re.findall(r"\d+", _unpunctuated(text))) == wanted


def _pronouns(args: InstructionArgs, hardened: bool) -> Check:
    wanted = args.integer("N")

    def check(text: str) -> bool:
        words = _unpunctuated(text.replace("/", " ").lower()).split()
        return sum(1 for word in words if word in _PRONOUNS) >= wanted

    return check


def _repeats(args: InstructionArgs, hardened: bool) -> Check:
    most = args.integer("small_n")

    def check(text: str) -> bool:
        counts = collections.Counter(_unpunctuated(text.lower()).split())
        return all(count <= most for count in counts.values())

    return check


def _keywords_multiple(args: InstructionArgs, hardened: bool) -> Check:
    wanted = [(args.text(f"keyword{index}").strip().lower(), times) for index, times in enumerate((1, 2, 3, 5, 7), 1)]

    def check(text: str) -> bool:
        lowered = text.lower()
        return all(lowered.count(keyword) == times for keyword, times in wanted)

    return check


def _punctuation_cover(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        if "!?" not in text and "?!" not in text and "‽" not in text:
            return False
        rest = text.replace("?!", "", 1)
        if len(rest) == len(text):
            rest = text.replace("!?", "", 1)  # the interrobang itself does not count as a ? or a !
        return set(".,!?;:") <= set(rest)

    return check


def _words_japanese(args: InstructionArgs, hardened: bool) -> Check:
    every = args.integer("N", minimum=1)
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

    def check(text: str) -> bool:
        for index, word in enumerate(text.split(), 1):
            word = word.strip(_TRIM)
            if index % every == 0 and word and not word.isdigit() and not japanese.search(word):
                return False
        return True

    return check


# --- words ---------------------------------------------------------------------------------


def _alphabet(args: InstructionArgs, hardened: bool) -> Check:
    letters = string.ascii_lowercase

    def check(text: str) -> bool:
        words = _unpunctuated(text).strip(_TRIM).split()
        if not words:
            return False
        letter = words[0][0].lower()
        if letter not in letters:  # a substring test, as in IFBench: digits and the like fail
            return False
        for word in words[1:]:
            word = word.strip(_TRIM).lower()
            if not word:
                continue
            letter = letters[(letters.index(letter) + 1) % 26]
            if word[0] != letter:
                return False
        return True

    return check


def _vowel(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        lines = text.strip().split("\n")
        return len(lines) == 1 and len(set(lines[0].lower()) & set("aeiou")) <= 3

    return check


def _consonants(args: InstructionArgs, hardened: bool) -> Check:
    consonants = set("bcdfghjklmnpqrstvwxyz")

    def has_cluster(word: str) -> bool:
        return any(a in consonants and b in consonants for a, b in itertools.pairwise(word))

    return lambda text: all(has_cluster(word) for word in text.lower().strip().split())


def _alliteration_increment(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        previous = -1
        for sentence in split_into_sentences(text):
            words = [cleaned for word in sentence.lower().split() if (cleaned := word.lstrip(_TRIM))]
            run, in_run = 0, False
            for first, second in itertools.pairwise(words):
                if first[0] == second[0]:
                    run += 1 if in_run else 2
                    in_run = True
                else:
                    in_run = False
            if run <= previous:
                return False
            previous = run
        return True

    return check


def _palindrome(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        words = _unpunctuated(text).lower().split()
        return sum(1 for word in words if len(word) >= 5 and word == word[::-1]) >= 10

    return check


def _prime_lengths(args: InstructionArgs, hardened: bool) -> Check:
    return lambda text: all(len(word) in _PRIMES for word in _unpunctuated(text).split())


def _start_verb(args: InstructionArgs, hardened: bool) -> Check:
    require_punkt()
    require_tagger()

    def check(text: str) -> bool:
        tag = first_word_tag(text)
        return tag is not None and "VB" in tag

    return check


def _syllables(args: InstructionArgs, hardened: bool) -> Check:
    import syllapy

    def check(text: str) -> bool:
        parities = [syllapy.count(word) % 2 for word in _unpunctuated(text).lower().split()]
        return all(a != b for a, b in itertools.pairwise(parities))

    return check


def _last_first(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        sentences = split_into_sentences(text)
        for current, following in itertools.pairwise(sentences):
            last, first = current.rstrip(_TRIM).split(), following.lstrip(_TRIM).split()
            if not last or not first or last[-1].lower() != first[0].lower():
                return False
        return True

    return check


def _paragraph_last_first(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        for line in text.split("\n"):
            words = line.strip().lower().strip(_TRIM).split()
            if words and words[0] != words[-1]:
                return False
        return True

    return check


def _increment(args: InstructionArgs, hardened: bool) -> Check:
    step = args.integer("small_n")

    def check(text: str) -> bool:
        counts = [len(_unpunctuated(sentence).split()) for sentence in split_into_sentences(text)]
        return all(later == earlier + step for earlier, later in itertools.pairwise(counts))

    return check


def _no_consecutive(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        words = _unpunctuated(text.lower()).split()
        return all(a[0] != b[0] for a, b in itertools.pairwise(words))

    return check


def _keywords_specific_position(args: InstructionArgs, hardened: bool) -> Check:
    keyword = args.text("keyword").strip()
    nth, mth = args.integer("n", minimum=1), args.integer("m", minimum=1)
    require_punkt()

    def check(text: str) -> bool:
        sentences = split_into_sentences(text)
        if len(sentences) < nth:
            return False
        words = word_tokens(sentences[nth - 1])
        return len(words) >= mth and words[mth - 1] == keyword

    return check


def _words_position(args: InstructionArgs, hardened: bool) -> Check:
    keyword = args.text("keyword").strip()
    require_punkt()

    def check(text: str) -> bool:
        words = word_tokens(text)
        return len(words) >= 2 and words[1] == words[-2] == keyword

    return check


# --- sentences -----------------------------------------------------------------------------


def _sentence_keyword(args: InstructionArgs, hardened: bool) -> Check:
    keyword, nth = args.text("word"), args.integer("N", minimum=1)

    def check(text: str) -> bool:
        sentences = split_into_sentences(text)
        return len(sentences) >= nth and keyword.lower() in sentences[nth - 1].lower()

    return check


def _emoji_sentences(args: InstructionArgs, hardened: bool) -> Check:
    import emoji

    def check(text: str) -> bool:
        sentences = split_into_sentences(text)
        for index, sentence in enumerate(sentences):
            bare = _unpunctuated(sentence).strip()
            if not bare:
                return False
            if emoji.is_emoji(bare[-1]) or emoji.is_emoji(bare[-2:-1] or bare[-1]):
                continue
            if index == len(sentences) - 1:
                return False
            following = _unpunctuated(sentences[index + 1]).strip()  # the emoji may open the next sentence
            if not following or not emoji.is_emoji(following[0]):
                return False
        return True

    return check


def _sentence_words(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        sentences = split_into_sentences(text)
        return len(sentences) == 3 and len({len(sentence.strip()) for sentence in sentences}) == 1

    return check


# --- formats -------------------------------------------------------------------------------


def _parentheses(args: InstructionArgs, hardened: bool) -> Check:
    closing = {")": "(", "]": "[", "}": "{"}

    def check(text: str) -> bool:
        stack: list[str] = []
        deepest = 0
        for char in text:
            if char in "([{":
                stack.append(char)
                deepest = max(deepest, len(stack))
            elif char in closing:
                if stack and stack[-1] == closing[char]:
                    stack.pop()
                    if deepest >= 5:
                        return True  # a group 5 deep was closed
                else:
                    stack, deepest = [], 0  # a mismatch starts the count again
        return False

    return check


def _quotes(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        stack: list[str] = []
        deepest = 0
        for char in text:
            if stack and char == stack[-1]:
                stack.pop()
                if deepest - len(stack) >= 3:
                    return True
            elif char in "\"'":
                stack.append(char)
                deepest = max(deepest, len(stack))
        return False

    return check


def _options(args: InstructionArgs, hardened: bool) -> Check:
    given = args.text("options")
    exact = re.match(r"\W*[aA]\W*[bB]\W*[cC]\W*", given) is not None  # lettered choices are matched as written
    separator = "/" if "/" in given else "or" if "or" in given else ","
    options = [option.strip() for option in given.split(separator)]
    loose = {option.strip(_TRIM).lower() for option in options}
    if exact:
        return lambda text: text in options
    return lambda text: text.strip(_TRIM).lower() in loose


def _newline(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        bare = _unpunctuated(text).strip()
        return len([line for line in bare.split("\n") if line]) == len(bare.split())

    return check


def _after_blank_lines_removed(lines: list[str]) -> list[str]:
    """What ``for line in lines: if not line.strip(): lines.remove(line)`` leaves ``lines`` as, in linear time.

    Removing while iterating skips the element after each removed one, and
    ``remove`` takes the first equal element, possibly an earlier skipped one:
    the loop visits original positions 0, 1, ... stepping 2 after a blank line.
    """
    positions: dict[str, collections.deque[int]] = collections.defaultdict(collections.deque)
    for index, line in enumerate(lines):
        if not line.strip():
            positions[line].append(index)
    removed = set()
    index = 0
    while index < len(lines):
        if lines[index].strip():
            index += 1
        else:
            removed.add(positions[lines[index]].popleft())
            index += 2
    return [line for index, line in enumerate(lines) if index not in removed]


def _line_indent(args: InstructionArgs, hardened: bool) -> Check:
    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    def check(text: str) -> bool:
        lines = _after_blank_lines_removed(text.split("\n"))
        return all(indent(later) > indent(earlier) for earlier, later in itertools.pairwise(lines))

    return check


def _quote_unquote(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        text = text.replace("“", '"').replace("”", '"').replace("'\"'", "")
        text = "".join(text.split())
        if '""' in text:
            return False
        rest = text.strip(string.digits + _PUNCTUATION.replace('"', ""))
        return bool(rest) and rest[-1] != '"'  # IFBench raises IndexError on an empty rest

    return check


def _list(args: InstructionArgs, hardened: bool) -> Check:
    marker = args.text("sep")
    if hardened:
        return lambda text: sum(1 for line in text.split("\n") if line.lstrip().startswith(marker)) >= 2
    return lambda text: text.count(marker) >= 2


def _thesis(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        start = text.find("<i>")
        if start == -1:
            start = text.find("<em>")
            if start == -1:
                return False
        text = text[start:]
        end = text.find("</i>")
        if end == -1:
            end = text.find("</em>")
            if end == -1:
                return False
        # IFBench's offsets are those of <i> and </i>, also when the tags are <em> and </em>.
        return bool(text[3:end].strip()) and bool(text[end + 4 :].strip())

    return check


def _sub_bullets(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        parts = text.split("*")
        return all("-" in part for part in parts[1:]) and (len(parts) > 1 or not hardened)

    return check


def _no_bullets_bullets(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        counted, bullets = 0, 0
        in_prose = True  # IFBench reuses this flag for the last line's sentences: a line without any ends the prose
        for line in text.split("\n"):
            if line.strip().startswith("*"):
                in_prose = False
                if counted < 2:
                    return False
                bullets += 1
            elif in_prose:
                found = split_into_sentences(line.strip())
                counted += len(found)
                in_prose = bool(found)
            else:
                return False
        return bullets >= 2

    return check


def _title_case(args: InstructionArgs, hardened: bool) -> Check:
    require_punkt()

    def check(text: str) -> bool:
        for word in word_tokens(text):
            head, tail = word[0], word[1:]
            if head.isupper() and tail.islower():
                continue
            if head.islower() and (tail.isupper() or tail.islower()):
                return False
        return True

    return check


def _output_template(args: InstructionArgs, hardened: bool) -> Check:
    parts = ("My Answer:", "My Conclusion:", "Future Outlook:")
    return lambda text: all(part in text for part in parts)


def _no_whitespace(args: InstructionArgs, hardened: bool) -> Check:
    return lambda text: not any(char.isspace() for char in text)


# --- custom tasks ------------------------------------------------------------------------


def _multiples(args: InstructionArgs, hardened: bool) -> Check:
    wanted = [str(number) for number in range(14, 51, 7)]
    return lambda text: re.findall(r"\d+", text) == wanted


_QUESTION = re.compile(r"Question \d+[\.|\):;]?\s*")
_OPTION = re.compile(r"^[A-Ea-e][\.|\)]\s*\w+")


def _split_questions(text: str) -> list[str]:
    """``re.split(r"\\n*(?:Question \\d+[\\.|\\):;]?\\s*)", text)`` in linear time (the leading ``\\n*`` backtracks)."""
    parts, position = [], 0
    while (match := _QUESTION.search(text, position)) is not None:
        start = match.start()
        while start > position and text[start - 1] == "\n":
            start -= 1
        parts.append(text[position:start])
        position = match.end()
    parts.append(text[position:])
    return parts


def _mcq(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        if text[text.find("Question") :] != text:
            return False  # something before the first question
        questions = _split_questions(text)
        if questions[0] == "":
            questions = questions[1:]
        questions = [question.strip() for question in questions if question.strip()]
        if len(questions) != 4:
            return False
        lengths = []
        for question in questions:
            wording, options, answering = "", 0, False
            for line in question.split("\n"):
                if _OPTION.match(line.strip()):
                    options += 1
                    answering = True
                elif not answering:
                    wording += " " + line.strip()
            if options != 5:
                return False
            lengths.append(len(wording.strip()))
        return all(a < b for a, b in itertools.pairwise(lengths))

    return check


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _reverse_newline(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        lines = [trimmed for line in text.split("\n") if (trimmed := line.strip(_TRIM))]
        start = next((index for index, line in enumerate(lines) if "Zimbabwe" in line), None)
        if start is None or len(lines) - start < 52:
            return False
        listed = [_ascii(line) for line in lines[start:]]
        return listed == sorted(listed, reverse=True)

    return check


def _word_reverse(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        reversed_text = " ".join(_unpunctuated(text.lower().strip()).split()[::-1])
        return "bald eagle" in reversed_text and reversed_text in split_into_sentences(reversed_text)

    return check


def _character_reverse(args: InstructionArgs, hardened: bool) -> Check:
    return lambda text: "elgae dlab" in text.lower()


def _sentence_alphabet(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        sentences = split_into_sentences(text)
        if len(sentences) != 26:
            return False
        for index, sentence in enumerate(sentences):
            words = sentence.split()
            if not words or words[0].lower()[0] != chr(ord("a") + index):  # IFBench raises on an empty sentence
                return False
        return True

    return check


def _european_capitals(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        listed = [name.strip() for name in _ascii(text).split(",") if name.strip()]
        return listed == list(_CAPITALS_BY_LATITUDE)

    return check


def _csv_rows(text: str, delimiter: str = ",") -> list[list[str]] | None:
    """The rows the csv module reads from ``text``, or None where it raises (a field over its size limit)."""
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        return None


def _csv_city(args: InstructionArgs, hardened: bool) -> Check:
    def check(text: str) -> bool:
        rows = _csv_rows(text)
        if rows is None or len(rows) != 8 or rows[0] != ["ID", "Country", "City", "Year", "Count"]:
            return False
        return all(len(row) == 5 for row in rows[1:])

    return check


_SPECIAL = re.compile(r"[^\d\w\s]")


def _quoted_special(field: str) -> bool:
    """``re.match(r'".*[^\\d\\w\\s].*"', field)`` in linear time: a quote, then within the first line a
    character that is not a digit, letter or space, and a quote after it."""
    if not field.startswith('"'):
        return False
    line_end = field.find("\n", 1)
    line_end = len(field) if line_end < 0 else line_end
    special = _SPECIAL.search(field, 1, line_end)
    return special is not None and field.rfind('"', 1, line_end) > special.start()


def _csv_special_character(args: InstructionArgs, hardened: bool) -> Check:
    header = re.compile(
        r'^(ProductID|"ProductID"),[ \t]*(Category|"Category"),[ \t]*(Brand|"Brand"),[ \t]*(Price|"Price"),'
        r'[ \t]*(Stock|"Stock")$'
    )

    def check(text: str) -> bool:
        if not header.match(text.split("\n")[0].strip()):
            return False
        rows = _csv_rows(text.replace('"', '"""'))
        if rows is None or len(rows) != 15:
            return False
        for row in rows[1:]:
            if len(row) != 5:
                return False
            if any(_quoted_special(field) for field in row):
                return True
        return False

    return check


def _csv_quotes(args: InstructionArgs, hardened: bool) -> Check:
    header = re.compile(
        r'^(StudentID|"StudentID")\t *(Subject|"Subject")\t *(Grade|"Grade")\t *(Semester|"Semester")'
        r'\t *(Score|"Score")$'
    )

    def quoted(field: str) -> bool:
        field = field.strip()
        return bool(field) and field[0] == '"' and field[-1] == '"'  # IFBench raises IndexError on an empty field

    def check(text: str) -> bool:
        if not header.match(text.split("\n")[0].strip()):
            return False
        rows = _csv_rows(text.replace('"', '"""'), delimiter="\t")
        if rows is None or len(rows) != 4:
            return False
        return all(len(row) == 5 and all(quoted(field) for field in row) for row in rows)

    return check


def _date_format_list(args: InstructionArgs, hardened: bool) -> Check:
    date = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    long_months, short_months = {1, 3, 5, 7, 8, 10, 12}, {4, 6, 9, 11}

    def valid(item: str) -> bool:
        item = item.strip()
        if not date.match(item):
            return False
        year, month, day = (int(part) for part in item.split("-"))
        if not 1769 <= year <= 1821 or month > 12:
            return False
        if month in long_months:
            return day <= 31
        if month in short_months:
            return day <= 30
        return month != 2 or day <= 29  # month 0 and day 0 pass, as in IFBench

    return lambda text: all(valid(item) for item in text.strip().split(","))


# --- repeats -------------------------------------------------------------------------------


def _repeat_change(args: InstructionArgs, hardened: bool) -> Check:
    prompt = args.text("prompt_to_repeat")
    tail = " ".join(prompt.split()[1:])
    return lambda text: text != prompt and " ".join(text.split()[1:]) == tail


def _repeat_simple(args: InstructionArgs, hardened: bool) -> Check:
    wanted = _REPEAT_SIMPLE.lower()
    return lambda text: text.strip().lower() == wanted


def _repeat_span(args: InstructionArgs, hardened: bool) -> Check:
    prompt = args.text("prompt_to_repeat")
    start, end = args.integer("n_start"), args.integer("n_end")
    span = prompt.strip().lower().split()[start:end]
    return lambda text: text.strip().lower().split() == span


def _entries(rows: Iterable[tuple[str, tuple[str, ...], Builder]]) -> dict[str, tuple[tuple[str, ...], Builder]]:
    return {instruction_id: (fields, build) for instruction_id, fields, build in rows}


IFBENCH_CHECKS: dict[str, tuple[tuple[str, ...], Builder]] = _entries(
    [
        ("count:word_count_range", ("min_words", "max_words"), _word_count_range),
        ("count:unique_word_count", ("N",), _unique_word_count),
        ("ratio:stop_words", ("percentage",), _stop_words),
        ("ratio:sentence_type", (), _sentence_type),
        ("ratio:sentence_balance", (), _sentence_balance),
        ("count:conjunctions", ("small_n",), _conjunctions),
        ("count:person_names", ("N",), _person_names),
        ("ratio:overlap", ("reference_text", "percentage"), _overlap),
        ("count:numbers", ("N",), _numbers),
        ("words:alphabet", (), _alphabet),
        ("words:vowel", (), _vowel),
        ("words:consonants", (), _consonants),
        ("sentence:alliteration_increment", (), _alliteration_increment),
        ("words:palindrome", (), _palindrome),
        ("count:punctuation", (), _punctuation_cover),
        ("format:parentheses", (), _parentheses),
        ("format:quotes", (), _quotes),
        ("words:prime_lengths", (), _prime_lengths),
        ("format:options", ("options",), _options),
        ("format:newline", (), _newline),
        ("format:emoji", (), _emoji_sentences),
        ("ratio:sentence_words", (), _sentence_words),
        ("count:words_japanese", ("N",), _words_japanese),
        ("words:start_verb", (), _start_verb),
        ("words:repeats", ("small_n",), _repeats),
        ("sentence:keyword", ("word", "N"), _sentence_keyword),
        ("count:pronouns", ("N",), _pronouns),
        ("words:odd_even_syllables", (), _syllables),
        ("words:last_first", (), _last_first),
        ("words:paragraph_last_first", (), _paragraph_last_first),
        ("sentence:increment", ("small_n",), _increment),
        ("words:no_consecutive", (), _no_consecutive),
        ("format:line_indent", (), _line_indent),
        ("format:quote_unquote", (), _quote_unquote),
        ("format:list", ("sep",), _list),
        ("format:thesis", (), _thesis),
        ("format:sub-bullets", (), _sub_bullets),
        ("format:no_bullets_bullets", (), _no_bullets_bullets),
        ("custom:multiples", (), _multiples),
        ("custom:mcq_count_length", (), _mcq),
        ("custom:reverse_newline", (), _reverse_newline),
        ("custom:word_reverse", (), _word_reverse),
        ("custom:character_reverse", (), _character_reverse),
        ("custom:sentence_alphabet", (), _sentence_alphabet),
        ("custom:european_capitals_sort", (), _european_capitals),
        ("custom:csv_city", (), _csv_city),
        ("custom:csv_special_character", (), _csv_special_character),
        ("custom:csv_quotes", (), _csv_quotes),
        ("custom:date_format_list", (), _date_format_list),
        ("count:keywords_multiple", tuple(f"keyword{index}" for index in range(1, 6)), _keywords_multiple),
        ("words:keywords_specific_position", ("keyword", "n", "m"), _keywords_specific_position),
        ("words:words_position", ("keyword",), _words_position),
        ("repeat:repeat_change", ("prompt_to_repeat",), _repeat_change),
        ("repeat:repeat_simple", (), _repeat_simple),
        ("repeat:repeat_span", ("prompt_to_repeat", "n_start", "n_end"), _repeat_span),
        ("format:title_case", (), _title_case),
        ("format:output_template", (), _output_template),
        ("format:no_whitespace", (), _no_whitespace),
    ]
)
"""IFBench's instruction ids -> (kwargs fields, builder), in IFBench's registry order."""

IFBENCH_IDS: tuple[str, ...] = tuple(IFBENCH_CHECKS)
"""IFBench's 58 instruction ids."""
