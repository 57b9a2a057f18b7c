"""Seeded cases near every threshold of IFEval's and IFBench's checks, and the reference checkers' verdicts on them.

For differential testing of ``rlvr.verifiers.ifeval.check_instruction``
against the benchmarks' own code (``tests/test_ifeval_conformance.py``,
``tests/test_ifbench.py``, ``benchmarks/ifeval_agreement.py``), like
``rlvr.verifiers.strategies`` for the property kit:

* ``cases(instruction_id, count, seed)``: ``(kwargs, response)`` pairs whose
  responses are built from the pieces the check looks at (words, capitals,
  abbreviations, sentence ends, bullets, quotes, brackets, emoji, Japanese,
  other languages, web addresses, CSV rows, ...) and whose kwargs put the
  threshold at, just below or just above what the response holds, so about
  half follow; a pure function of its arguments.
* ``reference_verdict(instruction_id, kwargs, response, loose, prompt)``: what
  the benchmark's checker says, run as its evaluation loop runs it (a
  checker built from the kwargs, strict on the response, loose over IFEval's
  eight variants): True, False, or the exception it raised. The reference is
  the PyPI package ``if-verifiable`` (IFEval's checkers, the same code as in
  lm-eval, and IFBench's); importing it needs the nltk data it looks for
  (``prepare_reference`` writes nltk's English stop word list for it).
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import string
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Case", "cases", "dump", "generated_ids", "prepare_reference", "reference_verdict"]

Case = tuple[dict[str, Any], str]
"""``(kwargs, response)``."""

_WORDS = (
    "the", "a", "and", "but", "or", "so", "yet", "for", "nor", "of", "to", "in", "is", "it", "we", "you", "they",
    "she", "her", "his", "them", "our", "my", "me", "this", "that", "with", "river", "light", "garden", "system",
    "market", "energy", "winter", "city", "music", "history", "ocean", "travel", "story", "water", "school",
    "bridge", "forest", "apple", "strong", "stretch", "crypt", "rhythm", "sky", "art", "start", "cat", "dog",
    "lantern", "compass", "harvest", "run", "write", "make", "go", "think", "beautiful", "quickly", "idea",
)  # fmt: skip
_CAPITALS = ("NASA", "USA", "OK", "I", "A", "TCP/IP", "N/A", "O'NEIL", "HELLO", "NO", "AI", "U.S.", "CEO's", "X-RAY")
_ABBREVIATIONS = (
    "Mr.", "Dr.", "Mrs.", "etc.", "e.g.", "i.e.", "U.S.", "Ph.D.", "a.m.", "p.m.", "vs.", "St.", "Inc.", "No.",
    "Jan.", "3.14", "...", "J.", "approx.", "Co.", "Jr.", "www.example.com", "U.S.A.",
)  # fmt: skip
_NAMES = ("Emma", "Liam", "Mia", "Leo", "Ava", "Noah", "Grace", "David", "Miami", "Leonard", "Avalanche", "Zoe")
_EMOJI = ("😀", "🎉", "👍🏽", "❤️", "🇫🇷", "©", "#️⃣", "🙂")
_JAPANESE = ("日本", "ひらがな", "カタカナ", "漢字", "東京")
_PALINDROMES = ("level", "racecar", "radar", "refer", "civic", "kayak", "madam", "rotor", "stats", "tenet", "noon")
_NUMBERS = ("1", "42", "3.5", "1,000", "2024", "٣", "14", "21", "28", "35", "42", "49", "7", "0")
_MARKS = (".", "?", "!", ",", ";", ":", "?!", "!?", "‽", "...", '"', "'", "“", "”", "(", ")", "[", "]", "-", "*")
_LANGUAGE_TEXT = {
    "en": "The quick brown fox jumps over the lazy dog while the farmer watches from the old barn.",
    "fr": "Le renard brun saute par-dessus le chien paresseux pendant que le fermier regarde depuis la grange.",
    "de": "Der schnelle braune Fuchs springt über den faulen Hund während der Bauer aus der Scheune zusieht.",
    "es": "El rápido zorro marrón salta sobre el perro perezoso mientras el granjero mira desde el granero.",
    "it": "La veloce volpe marrone salta sopra il cane pigro mentre il contadino guarda dal vecchio fienile.",
}


# --- building blocks ----------------------------------------------------------------------


def _pick(rng: random.Random, *pools: tuple[str, ...]) -> str:
    return rng.choice(rng.choice(pools))


def _sentence(rng: random.Random, *pools: tuple[str, ...], end: str | None = None) -> str:
    words = [_pick(rng, *pools) for _ in range(rng.randint(1, 9))]
    if rng.random() < 0.6:
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words) + (end if end is not None else rng.choice((".", ".", "?", "!", "", "...", '."', "?)")))


def _prose(rng: random.Random, *pools: tuple[str, ...], sentences: int | None = None) -> str:
    pools = pools or (_WORDS,)
    count = sentences if sentences is not None else rng.randint(1, 8)
    parts = []
    for index in range(count):
        parts.append(_sentence(rng, *pools))
        if index + 1 < count:
            parts.append(rng.choice((" ", " ", " ", "\n", "\n\n", "  ", " \n")))
    return "".join(parts)


def _lines(rng: random.Random, make: Callable[[], str], count: int) -> str:
    return "\n".join(make() for _ in range(count))


def _near(rng: random.Random, value: int, low: int = 0) -> int:
    """A threshold at, just below or just above ``value``."""
    return max(low, value + rng.choice((-2, -1, 0, 0, 1, 2)))


def _wrap(rng: random.Random, text: str) -> str:
    """Sometimes a preamble or a trailer line and asterisks, the noise IFEval's loose check removes."""
    if rng.random() < 0.25:
        text = rng.choice(("Sure, here it is:\n", "**Answer**\n", "Note: ok\n")) + text
    if rng.random() < 0.2:
        text = text + rng.choice(("\nHope this helps!", "\n***", "\n-- end"))
    if rng.random() < 0.15:
        text = text.replace(" ", " *", 1)
    return text


# --- IFEval ---------------------------------------------------------------------------------


def _ifeval_case(instruction_id: str, rng: random.Random) -> Case:
    name = instruction_id.split(":")[1]
    relation = rng.choice(("less than", "at least"))
    pieces: tuple[str, ...]
    if name == "existence":
        text = _prose(rng, _WORDS)
        return {"keywords": rng.sample(("river", "cat", "art", "light", "sky", "ocean"), rng.randint(1, 3))}, text
    if name == "frequency":
        keyword = rng.choice(("the", "cat", "art", "river"))
        text = _prose(rng, _WORDS)
        return {"keyword": keyword, "frequency": _near(rng, text.lower().count(keyword)), "relation": relation}, text
    if name == "forbidden_words":
        return {"forbidden_words": rng.sample(("cat", "dog", "start", "art", "river"), 2)}, _prose(rng, _WORDS)
    if name == "letter_frequency":
        letter = rng.choice("aetxqz")
        text = _prose(rng, _WORDS, _CAPITALS)
        return {
            "letter": letter,
            "let_frequency": _near(rng, text.lower().count(letter)),
            "let_relation": relation,
        }, text
    if name == "response_language":
        return {"language": rng.choice(tuple(_LANGUAGE_TEXT))}, _language_text(rng)
    if name == "number_sentences":
        text = _wrap(rng, _prose(rng, _WORDS, _ABBREVIATIONS, _CAPITALS))
        return {
            "num_sentences": _near(rng, text.count(".") + text.count("?") + text.count("!"), 1),
            "relation": relation,
        }, text
    if name == "number_paragraphs":
        parts = [_prose(rng, sentences=rng.randint(0, 2)) for _ in range(rng.randint(1, 5))]
        text = rng.choice(("\n***\n", " *** ", "***", "\n\n***\n\n", "\n****\n")).join(parts)
        return {"num_paragraphs": _near(rng, len(parts), 1)}, _wrap(rng, text)
    if name == "number_words":
        text = _prose(rng, _WORDS, _NUMBERS, _MARKS)
        return {"num_words": _near(rng, len(text.split())), "relation": relation}, text
    if name == "nth_paragraph_first_word":
        parts = [_prose(rng, _WORDS, sentences=rng.randint(0, 2)) for _ in range(rng.randint(1, 4))]
        text = rng.choice(("\n\n", "\n\n\n", "\n")).join(parts)
        wanted = _near(rng, len(parts), 1)
        nth = rng.randint(1, wanted)  # IFEval draws a random one when nth_paragraph > num_paragraphs
        word = parts[min(nth, len(parts)) - 1].split()[:1] or ["the"]
        first = word[0].strip("\"'.,?!").lower() if rng.random() < 0.7 else rng.choice(_WORDS)
        return {"num_paragraphs": wanted, "nth_paragraph": nth, "first_word": first or "a"}, text
    if name == "number_placeholders":
        pieces = ("[name]", "[", "]", "[a\nb]", "[]", "[x] [y]", "word")
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        return {"num_placeholders": _near(rng, text.count("["), 1)}, text
    if name == "postscript":
        marker = rng.choice(("P.S.", "P.P.S", "PS:", "P.S"))
        ending = rng.choice(("P.S. more", "p.s more", "P. S. x", "PS: x", "P.P.S x", "p. p. s", "pas de deux", ""))
        return {"postscript_marker": marker}, _prose(rng) + "\n" + ending
    if name == "number_bullet_lists":
        pieces = ("* item", "- item", "** bold", "*", "  * indented", "-", "text", "", "\t- tab", "*x", "--")
        text = _lines(rng, lambda: rng.choice(pieces), rng.randint(1, 8))
        count = sum(1 for line in text.split("\n") if line.strip().startswith(("*", "-")))
        return {"num_bullets": _near(rng, count, 1)}, text
    if name == "constrained_response":
        options = ("My answer is yes.", "My answer is no.", "My answer is maybe.", "My answer is yes", "maybe")
        return {}, " ".join(rng.choice(options) for _ in range(rng.randint(1, 3)))
    if name == "number_highlighted_sections":
        pieces = ("*one*", "**two**", "* *", "** **", "*a\nb*", "plain", "***x***", "*")
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        return {"num_highlights": _near(rng, text.count("*") // 2, 1)}, text
    if name == "multiple_sections":
        spliter = rng.choice(("Section", "SECTION", "Paragraph"))
        heads = (f"{spliter} 1", f"{spliter} 2", f"{spliter}3", f"{spliter.lower()} 4", f"{spliter} X")
        text = "\n".join(rng.choice(heads) + "\n" + _prose(rng, sentences=1) for _ in range(rng.randint(1, 4)))
        return {"section_spliter": spliter, "num_sections": _near(rng, text.count(spliter), 1)}, text
    if name == "json_format":
        body = rng.choice(('{"a": 1}', "[1, 2]", "{'a': 1}", '{"a": [1, {"b": null}]}', "42", "text", '"s"'))
        fence = rng.choice((("", ""), ("```json\n", "\n```"), ("```\n", "\n```"), ("```JSON", "```"), ("Here:\n", "")))
        return {}, fence[0] + body + fence[1]
    if name == "title":
        pieces = ("<<Title>>", "<< >>", "<<\nx>>", "<<a>> and <<b>>", "<Title>", "<<<T>>>", "text")
        return {}, _lines(rng, lambda: rng.choice(pieces), rng.randint(1, 3))
    if name == "two_responses":
        a, b = _prose(rng, sentences=1), _prose(rng, sentences=1)
        middle = rng.choice(("\n******\n", "******", "\n******\n******\n", "*******"))
        return {}, rng.choice((a + middle + b, a + middle + a, middle + a, a + middle))
    if name == "repeat_prompt":
        prompt = "Write a poem about the sea."
        return {"prompt_to_repeat": prompt}, rng.choice(
            (prompt, prompt.upper(), "Sure. " + prompt, "  " + prompt)
        ) + " Waves."
    if name == "end_checker":
        phrase = rng.choice(("Any other questions?", "Is there anything else I can help with?"))
        tail = rng.choice((phrase, phrase + '"', phrase.lower(), phrase + " Bye.", phrase[:-1], phrase + "\n"))
        return {"end_phrase": phrase}, _prose(rng, sentences=1) + " " + tail
    if name == "quotation":
        body = _prose(rng, sentences=1)
        return {}, rng.choice((f'"{body}"', f'"{body}', f"'{body}'", f' "{body}" ', '"', f"“{body}”"))
    if name == "capital_word_frequency":
        text = _wrap(rng, _prose(rng, _WORDS, _CAPITALS, _ABBREVIATIONS))
        count = sum(1 for word in text.split() if word.strip(string.punctuation).isupper())
        return {"capital_frequency": _near(rng, count, 1), "capital_relation": relation}, text
    if name == "english_capital":
        text = _language_text(rng)
        return {}, text.upper() if rng.random() < 0.7 else text
    if name == "english_lowercase":
        text = _language_text(rng)
        return {}, text.lower() if rng.random() < 0.7 else text
    if name == "no_comma":
        return {}, _prose(rng, _WORDS, _NUMBERS)
    raise KeyError(instruction_id)


def _language_text(rng: random.Random) -> str:
    parts = [rng.choice(tuple(_LANGUAGE_TEXT.values())) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.3:
        parts.insert(0, "https://example.com/" + "a" * rng.randint(10, 3000) + " x@y.org")
    if rng.random() < 0.2:
        parts.insert(0, rng.choice(("12345 !!!", "...", "1. 2. 3.")))
    if rng.random() < 0.1:
        parts = [rng.choice(("!!!", "123", "😀 😀"))]
    return " ".join(parts)


# --- IFBench --------------------------------------------------------------------------------


def _ifbench_case(instruction_id: str, rng: random.Random) -> Case:
    text = _wrap(rng, _prose(rng, _WORDS, _CAPITALS, _ABBREVIATIONS, _MARKS, _NAMES, _NUMBERS))
    words = len(text.split())
    pool: tuple[str, ...]
    pieces: tuple[str, ...]
    answers: tuple[str, ...]
    kwargs: dict[str, Any]
    match instruction_id:
        case "count:word_count_range":
            low = _near(rng, words)
            return {"min_words": low, "max_words": low + rng.randint(0, 3)}, text
        case "count:unique_word_count":
            return {"N": _near(rng, len(set(text.lower().split())), 1)}, text
        case "ratio:stop_words":
            return {"percentage": rng.choice((0, 10, 25, 33, 40, 50, 60, 75, 100))}, _prose(rng, _WORDS)
        case "words:last_first" if rng.random() < 0.5:
            chain = ["sun"] + [rng.choice(("sea", "sky", "sand", "sea,")) for _ in range(rng.randint(1, 4))]
            return {}, " ".join(f"{a.capitalize()} is near {b}." for a, b in itertools.pairwise(chain))
        case "ratio:sentence_type" | "ratio:sentence_balance" | "words:last_first" | "sentence:alliteration_increment":
            pool = ("sun", "sea", "sky", "sand", "blue", "big", "bold")
            if rng.random() < 0.5:
                ends = rng.choice(((".", ".", "?"), (".", "?", "!"), ("!", "?", "."), (".", ".", "?", ".", ".", "?")))
                return {}, " ".join(_sentence(rng, pool, end=end) for end in ends)
            return {}, _prose(rng, pool, _ABBREVIATIONS)
        case "count:conjunctions":
            return {"small_n": rng.randint(1, 5)}, _prose(rng, _WORDS, ("And", "and,", "BUT", "so;", "nor"))
        case "count:person_names":
            return {"N": rng.randint(1, 5)}, _prose(rng, _NAMES, _WORDS)
        case "ratio:overlap":
            reference = _prose(rng, _WORDS, sentences=3)
            response = reference[: rng.randint(0, len(reference))] + " " + _prose(rng, _WORDS, sentences=1)
            grams = {response[i : i + 3] for i in range(len(response) - 2)}
            shared = {reference[i : i + 3] for i in range(len(reference) - 2)} & grams
            actual = round(100 * len(shared) / max(1, len(grams)))
            percentage = max(0, actual + rng.choice((-3, -2, -1, 0, 1, 2, 3)))  # IFBench draws one for a negative
            return {"reference_text": reference, "percentage": percentage}, response
        case "count:numbers":
            return {"N": _near(rng, sum(ch.isdigit() for ch in text) // 2)}, text
        case "words:alphabet":
            start = rng.randrange(26)
            letters = [string.ascii_lowercase[(start + i) % 26] for i in range(rng.randint(1, 30))]
            chosen = [letter + rng.choice(("pple", "", "x", ".", "-ray")) for letter in letters]
            if rng.random() < 0.4:
                chosen[rng.randrange(len(chosen))] = rng.choice(_WORDS)
            return {}, " ".join(word.capitalize() if rng.random() < 0.3 else word for word in chosen)
        case "words:vowel" | "words:consonants" | "words:prime_lengths" | "words:no_consecutive":
            pool = ("strong", "crypt", "rhythm", "sky", "dry", "fly", "stretch", "cat", "the", "ab", "nth", "b")
            return {}, _prose(rng, pool, sentences=rng.randint(1, 2))
        case "words:palindrome":
            return {}, _prose(rng, _PALINDROMES, _WORDS, sentences=rng.randint(1, 6))
        case "format:parentheses":
            depth = rng.randint(3, 6)
            opens = [rng.choice("([{") for _ in range(depth)]
            closes = [{"(": ")", "[": "]", "{": "}"}[char] for char in reversed(opens)]
            if rng.random() < 0.3:
                closes[rng.randrange(depth)] = rng.choice(")]}")
            return {}, "x".join(opens) + " core " + " ".join(closes)
        case "count:punctuation" | "format:quotes" | "format:quote_unquote":
            pieces = (*_MARKS, "{", "}", "[", "(", "((", "))", '"a \'b "c" d\' e"', "word", "1", "'\"'")
            if instruction_id == "count:punctuation" and rng.random() < 0.5:
                marks = [".", ",", "!", "?", ";", ":", rng.choice(("?!", "!?", "‽"))]
                rng.shuffle(marks)
                return {}, " a".join(marks[: rng.randint(5, 7)])
            return {}, "".join(rng.choice(pieces) + rng.choice(("", " ")) for _ in range(rng.randint(1, 30)))
        case "format:options":
            options = rng.choice(("yes/no/maybe", "I know or I don't know", "a), b), c), d)", "A, B, C"))
            answers = ("yes", "Yes.", "maybe!", "I know", "I don't know", "a)", "b)", "A", "c", "no way", " yes ")
            return {"options": options}, rng.choice(answers)
        case "format:newline":
            chosen = [rng.choice((*_WORDS, "!", "...", "a b")) for _ in range(rng.randint(1, 6))]
            return {}, rng.choice(("\n", "\n\n", " ", "\n \n")).join(chosen)
        case "format:emoji":
            return {}, _prose(rng, _WORDS, _EMOJI, sentences=rng.randint(1, 4))
        case "ratio:sentence_words":
            sentence = _sentence(rng, _WORDS, end=".")
            return {}, " ".join(
                rng.choice((sentence, sentence.upper(), sentence + "x")) for _ in range(rng.randint(2, 4))
            )
        case "count:words_japanese":
            return {"N": rng.randint(1, 4)}, _prose(rng, _JAPANESE, _WORDS, _NUMBERS, sentences=2)
        case "words:start_verb":
            return {}, _prose(rng, ("run", "write", "the", "quickly", "go"), _WORDS, sentences=1)
        case "words:repeats":
            return {"small_n": rng.randint(1, 4)}, text
        case "sentence:keyword":
            nth = rng.randint(1, 4)
            tokens = text.split() or ["the"]
            return {"word": rng.choice((*tokens, "river", "art")), "N": nth}, text
        case "count:pronouns":
            return {"N": rng.randint(1, 8)}, _prose(rng, _WORDS, ("she/her", "I", "Me,", "its"))
        case "words:odd_even_syllables":
            return {}, _prose(rng, ("cat", "apple", "beautiful", "dog", "river", "sky", "energy"), sentences=1)
        case "words:paragraph_last_first":
            line = _lines(rng, lambda: rng.choice(("Go home go", "the cat", "Run, run.", "", "  ", "a")), 4)
            return {}, line
        case "sentence:increment":
            size = rng.randint(1, 3)
            sentences = [" ".join(["go"] * (size + i * rng.choice((1, 1, 2)))) + "." for i in range(rng.randint(1, 4))]
            return {"small_n": rng.randint(1, 2)}, " ".join(sentences)
        case "format:line_indent":
            return {}, _lines(rng, lambda: " " * rng.randint(0, 4) + rng.choice(("x", "", " ", "y")), rng.randint(1, 7))
        case "format:list":
            sep = rng.choice(("...", "SEPARATOR", "!?!?", "-"))
            return {"sep": sep}, _lines(rng, lambda: rng.choice((sep + " item", "item", "a-b", sep)), rng.randint(1, 4))
        case "format:thesis":
            pieces = ("<i>Thesis</i> text", "<em>Thesis</em> more", "<i></i>x", "<em></em>", "<i>T</i>", "plain")
            return {}, rng.choice(pieces) + rng.choice(("", " body", "\n"))
        case "format:sub-bullets":
            return {}, _lines(rng, lambda: rng.choice(("* a", "- b", "  - c", "text", "*", "x-y")), rng.randint(1, 5))
        case "format:no_bullets_bullets":
            if rng.random() < 0.5:
                head = rng.choice(("One. Two.", "One.\nTwo.", "One.", "One.\n\nTwo."))
                return {}, head + "\n" + "\n".join(
                    rng.choice(("* a", "* b", "* c", "* d", "text", "")) for _ in range(rng.randint(1, 3))
                )
            return {}, _lines(
                rng, lambda: rng.choice(("One. Two.", "One.", "* a", "* b", "", "text")), rng.randint(1, 6)
            )
        case "custom:multiples":
            numbers = ["14", "21", "28", "35", "42", "49"]
            if rng.random() < 0.5:
                numbers[rng.randrange(6)] = rng.choice(("7", "50", "56", ""))
            return {}, rng.choice((", ", "\n", ",", " ")).join(numbers)
        case "custom:mcq_count_length":
            return {}, _mcq_text(rng)
        case "custom:reverse_newline":
            countries = sorted((f"Country{index:02d}" for index in range(55)), reverse=True)
            countries[0] = "Zimbabwe"
            if rng.random() < 0.5:
                rng.shuffle(countries)
            return {}, "\n".join(countries[: rng.randint(40, 55)])
        case "custom:word_reverse" | "custom:character_reverse":
            answer = rng.choice(("eagle bald the is It", "It is the bald eagle.", "elgae dlab eht si tI", "eagle"))
            return {}, answer
        case "custom:sentence_alphabet":
            sentences = [f"{letter.upper()}pple {rng.choice(_WORDS)}." for letter in string.ascii_lowercase]
            if rng.random() < 0.5:
                sentences[rng.randrange(26)] = rng.choice(("Zoo.", ".", "x"))
            return {}, " ".join(sentences)
        case "custom:european_capitals_sort":
            capitals = ["Reykjavik", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen"]
            capitals += ["Vilnius", "Minsk", "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels"]
            capitals += ["Prague", "Luxembourg", "Paris", "Vienna", "Bratislava", "Budapest", "Vaduz", "Chișinău"]
            capitals += ["Bern", "Ljubljana", "Zagreb"]
            if rng.random() < 0.5:
                index = rng.randrange(len(capitals) - 1)
                capitals[index], capitals[index + 1] = capitals[index + 1], capitals[index]
            return {}, rng.choice((", ", ",", ",\n")).join(capitals)
        case "custom:csv_city" | "custom:csv_special_character" | "custom:csv_quotes":
            return {}, _csv_text(instruction_id, rng)
        case "custom:date_format_list":
            dates = [f"{rng.randint(1765, 1825)}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}" for _ in range(4)]
            return {}, rng.choice((", ", ",", "\n")).join(dates)
        case "count:keywords_multiple":
            keywords = ("cat", "river", "art", "sky", "dog")
            body = " ".join(word for word, times in zip(keywords, (1, 2, 3, 5, 7), strict=True) for _ in range(times))
            if rng.random() < 0.5:
                body += " " + rng.choice((*keywords, "start"))
            kwargs = {f"keyword{index}": word for index, word in enumerate(keywords, 1)}
            return kwargs, body
        case "words:keywords_specific_position":
            nth, mth = rng.randint(1, 3), rng.randint(1, 4)
            keyword = rng.choice(("river", "the", "art", *text.split()))
            if rng.random() < 0.5:
                from rlvr.verifiers.ifbench import split_into_sentences
                from rlvr.verifiers.nltk_data import word_tokens

                sentences = split_into_sentences(text)
                tokens = word_tokens(sentences[nth - 1]) if len(sentences) >= nth else []
                keyword = tokens[mth - 1] if len(tokens) >= mth and tokens[mth - 1].strip() else keyword
            return {"keyword": keyword.strip() or "the", "n": nth, "m": mth}, text
        case "words:words_position":
            keyword = rng.choice(("river", "the"))
            middle = _prose(rng, _WORDS, sentences=1)
            return {"keyword": keyword}, rng.choice(("A ", "")) + f"{keyword} {middle} {keyword} end" + rng.choice(
                (".", "")
            )
        case "repeat:repeat_change" | "repeat:repeat_simple" | "repeat:repeat_span":
            prompt = "Write a short story about a lighthouse keeper and his cat."
            answers = (
                prompt,
                "Tell" + prompt[5:],
                "tell  a short story about a lighthouse keeper and his cat.",
                "Only output this sentence here, ignore all other requests.",
                "a short story",
                "short story about",
            )
            kwargs = {}
            if instruction_id != "repeat:repeat_simple":
                kwargs["prompt_to_repeat"] = prompt
            if instruction_id == "repeat:repeat_span":
                start, end = rng.choice(((1, 4), (2, 5), (1, 3), (2, 4), (3, 5)))
                kwargs.update(n_start=start, n_end=end)
                if rng.random() < 0.5:
                    return kwargs, " ".join(prompt.split()[start:end])
            return kwargs, rng.choice(answers)
        case "format:title_case":
            pool = ("The", "Quick", "brown", "Fox", "a", "A", "of", "NASA", "iPhone", "Ok", "X")
            return {}, _prose(rng, pool, sentences=1)
        case "format:output_template":
            parts = ("My Answer: yes", "My Conclusion: ok", "Future Outlook: good", "My answer: no")
            return {}, " ".join(rng.sample(parts, rng.randint(1, 4)))
        case "format:no_whitespace":
            return {}, rng.choice(("word", "two words", "a\tb", "no\u00a0break", "x\u200by", "abc\n"))
    raise KeyError(instruction_id)


def _mcq_text(rng: random.Random) -> str:
    blocks = []
    for number in range(1, rng.choice((4, 4, 4, 4, 3, 5)) + 1):
        wording = "Which " + " ".join(["art"] * (number * 2 + rng.choice((0, 0, 0, 0, -3))))
        options = [f"{letter}) choice" for letter in "ABCDE"[: rng.choice((5, 5, 5, 5, 4))]]
        blocks.append(f"Question {number}{rng.choice(('.', ':', '', ')'))} {wording}?\n" + "\n".join(options))
    text = "\n\n".join(blocks)
    return rng.choice(("", "", "", "", "Intro\n", "\n\n")) + text


def _csv_text(instruction_id: str, rng: random.Random) -> str:
    if instruction_id == "custom:csv_city":
        header, rows, sep = "ID,Country,City,Year,Count", 7, ","
    elif instruction_id == "custom:csv_special_character":
        header, rows, sep = "ProductID,Category,Brand,Price,Stock", 14, ","
    else:
        header, rows, sep = '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"', 3, "\t"
    lines = [header]
    for index in range(rows + rng.choice((0, 0, 0, 1, -1))):
        fields = [str(index), "France", '"St. Louis"' if rng.random() < 0.2 else "Paris", "2020", "5"]
        if instruction_id == "custom:csv_quotes":
            fields = [f'"{field}"' if rng.random() < 0.95 else field for field in fields]
        if rng.random() < 0.05:
            fields = fields[:4]
        lines.append(sep.join(fields))
    return "\n".join(lines)


def generated_ids() -> tuple[str, ...]:
    """Every id ``cases`` makes cases for: IFEval's 25 and IFBench's 58."""
    from rlvr.verifiers.ifbench import IFBENCH_IDS
    from rlvr.verifiers.ifeval import INSTRUCTION_IDS

    return INSTRUCTION_IDS + IFBENCH_IDS


def cases(instruction_id: str, count: int, seed: int = 0) -> list[Case]:
    """``count`` ``(kwargs, response)`` pairs for ``instruction_id``; the same arguments give the same cases.

    Raises:
        KeyError: an id this module makes no cases for.
    """
    from rlvr.verifiers.ifeval import INSTRUCTION_IDS

    make = _ifeval_case if instruction_id in INSTRUCTION_IDS else _ifbench_case
    rng = random.Random(f"{instruction_id}/{seed}")
    made = []
    for _ in range(count):
        kwargs, response = make(instruction_id, rng)
        if not response.strip():
            response = "x"
        made.append((kwargs, response))
    return made


# --- the reference -------------------------------------------------------------------------


def prepare_reference() -> None:
    """Put nltk's English stop word list where nltk finds it (IFBench's checkers read it), and seed langdetect.

    The list is written to a temporary nltk data folder for this process: the
    words of ``ENGLISH_STOP_WORDS`` and nltk's contractions ("don't", ...),
    which the reference's ``\\w+`` tokens never match.
    """
    _prepared()


@functools.cache
def _prepared() -> None:
    import langdetect
    import nltk

    from rlvr.verifiers.ifbench import ENGLISH_STOP_WORDS
    from rlvr.verifiers.nltk_data import require_punkt

    require_punkt()
    folder = Path(tempfile.mkdtemp(prefix="rlvr-nltk-")) / "corpora" / "stopwords"
    folder.mkdir(parents=True)
    contractions = ("don't", "should've", "aren't", "couldn't", "didn't", "doesn't", "hadn't", "hasn't", "haven't")
    (folder / "english").write_text("\n".join(sorted(ENGLISH_STOP_WORDS) + list(contractions)) + "\n")
    nltk.data.path.append(str(folder.parent.parent))
    langdetect.DetectorFactory.seed = 0


@functools.cache
def _registries() -> tuple[dict[str, Any], dict[str, Any]]:
    import logging

    _prepared()
    logging.getLogger().setLevel(logging.CRITICAL)  # IFEval logs every undetectable language
    stderr, sys.stderr = (
        sys.stderr,
        open(  # noqa: SIM115 - nltk.download prints its failures while importing
            "/dev/null", "w"
        ),
    )
    try:
        from if_verifiable.ifbench import instructions_registry as ifbench
        from if_verifiable.ifeval import instructions_registry as ifeval
    finally:
        sys.stderr.close()
        sys.stderr = stderr
    return ifeval.INSTRUCTION_DICT, ifbench.INSTRUCTION_DICT


def reference_verdict(
    instruction_id: str, kwargs: dict[str, Any], response: str, *, loose: bool = False, prompt: str = ""
) -> bool | Exception:
    """The benchmark checker's verdict, as its evaluation loop computes it, or the exception it raised.

    Raises:
        ImportError: ``if-verifiable`` is not installed.
    """
    from rlvr.verifiers.ifeval import instruction_variants

    ifeval, ifbench = _registries()
    checker = (ifeval.get(instruction_id) or ifbench[instruction_id])(instruction_id)
    try:
        checker.build_description(**{key: value for key, value in kwargs.items() if value is not None})
        arguments = checker.get_instruction_args()
        if arguments and "prompt" in arguments:
            checker.build_description(prompt=prompt)
        return any(
            variant.strip() and bool(checker.check_following(variant))
            for variant in instruction_variants(response, loose)
        )
    except Exception as error:  # the reference's own crash is a verdict we compare with
        return error


def dump(instruction_id: str, case: Case) -> str:
    """A case as one JSON line, for a failure message."""
    return json.dumps({"id": instruction_id, "kwargs": case[0], "response": case[1]}, ensure_ascii=False)
