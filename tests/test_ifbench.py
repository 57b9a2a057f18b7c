"""IFBench's 58 checks: hand cases, IFBench's own verdicts on generated cases, departures, hacks, the property kit."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import strategies as st

from rlvr.verifiers.ifbench import ENGLISH_STOP_WORDS, IFBENCH_IDS, split_into_sentences
from rlvr.verifiers.ifeval import InstructionFollowing, check_instruction, parse_instruction
from rlvr.verifiers.instruction_cases import cases, dump, prepare_reference, reference_verdict
from rlvr.verifiers.nltk_data import tagger_available
from rlvr.verifiers.properties import check_bounded_time, check_verifier

NEEDS_TAGGER = {"words:start_verb"}
OFFLINE_IDS = [i for i in IFBENCH_IDS if tagger_available() or i not in NEEDS_TAGGER]
PROMPT = "Write a short story about a lighthouse keeper and his cat."
CSV_CITY = "ID,Country,City,Year,Count\n" + "\n".join(f"{i},France,Paris,2020,5" for i in range(7))
CSV_SPECIAL = "ProductID,Category,Brand,Price,Stock\n" + "\n".join(f"{i},Toys,Acme,9,1" for i in range(13))
CSV_SPECIAL += '\n14,Toys,"Acme & Co",9,1'
CSV_QUOTES = '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"\n' + "\n".join(
    f'"{i}"\t"Math"\t"A"\t"Fall"\t"90"' for i in range(3)
)
MCQ = "\n\n".join(
    f"Question {n}: {'Which art ' * n}?\n" + "\n".join(f"{c}) choice" for c in "ABCDE") for n in range(1, 5)
)
CAPITALS = "Reykjavik, Helsinki, Oslo, Tallinn, Stockholm, Riga, Moscow, Copenhagen, Vilnius, Minsk, Dublin, Berlin, "
CAPITALS += "Amsterdam, Warsaw, London, Brussels, Prague, Luxembourg, Paris, Vienna, Bratislava, Budapest, Vaduz, "
CAPITALS += "Chișinău, Bern, Ljubljana, Zagreb"
AFRICA = "\n".join(["Zimbabwe", "Zambia", *sorted((f"Country {i:02d}" for i in range(51)), reverse=True)])
ALPHABET_STORY = " ".join(f"{letter.upper()}pples fell." for letter in "abcdefghijklmnopqrstuvwxyz")
KEYWORDS5 = {"keyword1": "cat", "keyword2": "sky", "keyword3": "sun", "keyword4": "dog", "keyword5": "owl"}
FIVE = "cat " + "sky " * 2 + "sun " * 3 + "dog " * 5 + "owl " * 7

# (instruction id, kwargs, response, followed under the strict check)
CASES: list[tuple[str, dict[str, Any], str, bool]] = [
    ("count:word_count_range", {"min_words": 3, "max_words": 4}, "one two three", True),
    ("count:word_count_range", {"min_words": 3, "max_words": 4}, "one two three four five", False),
    ("count:unique_word_count", {"N": 3}, "a b c a", True),
    ("count:unique_word_count", {"N": 3}, "a A a. b", False),
    ("ratio:stop_words", {"percentage": 50}, "the cat and a big dog", True),
    ("ratio:stop_words", {"percentage": 50}, "the and of cat", False),
    ("ratio:sentence_type", {}, "One. Two. Why?", True),
    ("ratio:sentence_type", {}, "One. Why?", False),
    ("ratio:sentence_balance", {}, "Yes. No? Go!", True),
    ("ratio:sentence_balance", {}, "Yes. No? Go! Stop.", False),
    ("count:conjunctions", {"small_n": 2}, "tea and cake but no jam", True),
    ("count:conjunctions", {"small_n": 2}, "tea and cake", False),
    ("count:person_names", {"N": 2}, "Emma met Liam.", True),
    ("count:person_names", {"N": 2}, "Emma met Bob.", False),
    ("ratio:overlap", {"reference_text": "abcdef", "percentage": 100}, "abcdef", True),
    ("ratio:overlap", {"reference_text": "abcdef", "percentage": 100}, "abcxyz", False),
    ("count:numbers", {"N": 2}, "Add 3 and 4.", True),
    ("count:numbers", {"N": 2}, "Add 3, 5 and 4.", False),
    ("count:numbers", {"N": 2}, "Add 3.5 and 4.", True),  # punctuation goes first: 3.5 is one number, 35
    ("words:alphabet", {}, "Apples bake cakes daily", True),
    ("words:alphabet", {}, "Apples cake", False),
    ("words:vowel", {}, "a cat sat on a mat", True),
    ("words:vowel", {}, "a cat sat\non a mat", False),
    ("words:consonants", {}, "strong crypt", True),
    ("words:consonants", {}, "strong cat", False),
    ("sentence:alliteration_increment", {}, "Big dog. Big bad bear.", True),
    ("sentence:alliteration_increment", {}, "Big bad bear. Big dog.", False),
    ("words:palindrome", {}, "level radar refer civic kayak madam rotor stats tenet racecar", True),
    ("words:palindrome", {}, "level radar refer civic kayak madam rotor stats tenet noon", False),
    ("count:punctuation", {}, "Wait?! Yes; no: maybe, fine. Why? Wow!", True),
    ("count:punctuation", {}, "Wait?! Yes; no: maybe, fine.", False),  # the interrobang is not also a ? and a !
    ("format:parentheses", {}, "(a [b {c (d [e])}])", True),
    ("format:parentheses", {}, "(a [b {c (d)}])", False),
    ("format:quotes", {}, '"a \'b "c" b\' a"', True),
    ("format:quotes", {}, "\"a 'b' a\"", False),
    ("words:prime_lengths", {}, "an ant", True),
    ("words:prime_lengths", {}, "a cat", False),
    ("format:options", {"options": "yes/no/maybe"}, "Yes.", True),
    ("format:options", {"options": "yes/no/maybe"}, "Yes, surely.", False),
    ("format:newline", {}, "one\ntwo\nthree", True),
    ("format:newline", {}, "one two\nthree", False),
    ("format:emoji", {}, "Hello 😀. Bye 🎉", True),
    ("format:emoji", {}, "Hello 😀. Bye.", False),
    ("ratio:sentence_words", {}, "Cat sat. Dog ran. Owl hid.", True),
    ("ratio:sentence_words", {}, "Cat sat. Dog ran.", False),
    ("count:words_japanese", {"N": 2}, "I 日本 like 東京", True),
    ("count:words_japanese", {"N": 2}, "I like Tokyo", False),
    ("words:repeats", {"small_n": 2}, "the cat the dog", True),
    ("words:repeats", {"small_n": 2}, "the cat the dog the end", False),
    ("sentence:keyword", {"word": "river", "N": 2}, "Hi. The river runs.", True),
    ("sentence:keyword", {"word": "river", "N": 2}, "The river. Runs.", False),
    ("count:pronouns", {"N": 3}, "She told him that they left.", True),
    ("count:pronouns", {"N": 3}, "She left.", False),
    ("words:odd_even_syllables", {}, "cat apple dog", True),
    ("words:odd_even_syllables", {}, "cat dog", False),
    ("words:last_first", {}, "I saw the sea. Sea was calm.", True),
    ("words:last_first", {}, "I saw the sea. It was calm.", False),
    ("words:paragraph_last_first", {}, "Go home go\nRun to run.", True),
    ("words:paragraph_last_first", {}, "Go home now", False),
    ("sentence:increment", {"small_n": 1}, "Go. Go now. Go home now.", True),
    ("sentence:increment", {"small_n": 1}, "Go. Go home now.", False),
    ("words:no_consecutive", {}, "a big cat", True),
    ("words:no_consecutive", {}, "a big bad cat", False),
    ("format:line_indent", {}, "a\n b\n\n  c", True),
    ("format:line_indent", {}, "a\n b\n c", False),
    ("format:quote_unquote", {}, '"Carpe diem" means seize the day.', True),
    ("format:quote_unquote", {}, 'He said "carpe diem"', False),
    ("format:list", {"sep": "SEPARATOR"}, "SEPARATOR one\nSEPARATOR two", True),
    ("format:list", {"sep": "SEPARATOR"}, "SEPARATOR one", False),
    ("format:thesis", {}, "<i>Cats rule.</i> Because they do.", True),
    ("format:thesis", {}, "<i>Cats rule.</i>", False),
    ("format:sub-bullets", {}, "* fruit\n - apple\n* veg\n - leek", True),
    ("format:sub-bullets", {}, "* fruit\n - apple\n* veg", False),
    ("format:no_bullets_bullets", {}, "One. Two.\n* a\n* b", True),
    ("format:no_bullets_bullets", {}, "One.\n* a\n* b", False),
    ("custom:multiples", {}, "14, 21, 28, 35, 42, 49", True),
    ("custom:multiples", {}, "7, 14, 21, 28, 35, 42, 49", False),
    ("custom:mcq_count_length", {}, MCQ, True),
    ("custom:mcq_count_length", {}, "Here you go:\n" + MCQ, False),
    ("custom:reverse_newline", {}, AFRICA, True),
    ("custom:reverse_newline", {}, "\n".join(reversed(AFRICA.split("\n"))), False),
    ("custom:word_reverse", {}, "eagle bald the is It", True),
    ("custom:word_reverse", {}, "It is the bald eagle", False),
    ("custom:character_reverse", {}, ".elgae dlab eht si tI", True),
    ("custom:character_reverse", {}, "It is the bald eagle.", False),
    ("custom:sentence_alphabet", {}, ALPHABET_STORY, True),
    ("custom:sentence_alphabet", {}, ALPHABET_STORY.replace("Bpples", "Apples"), False),
    ("custom:european_capitals_sort", {}, CAPITALS, True),
    ("custom:european_capitals_sort", {}, CAPITALS.replace("Oslo, Tallinn", "Tallinn, Oslo"), False),
    ("custom:csv_city", {}, CSV_CITY, True),
    ("custom:csv_city", {}, CSV_CITY.rsplit("\n", 1)[0], False),
    ("custom:csv_special_character", {}, CSV_SPECIAL, True),
    ("custom:csv_special_character", {}, CSV_SPECIAL.replace('"Acme & Co"', "Acme"), False),
    ("custom:csv_quotes", {}, CSV_QUOTES, True),
    ("custom:csv_quotes", {}, CSV_QUOTES.replace('"Math"', "Math"), False),
    ("custom:date_format_list", {}, "1796-04-12, 1805-12-02", True),
    ("custom:date_format_list", {}, "1796-04-12, 1805-12-32", False),
    ("count:keywords_multiple", KEYWORDS5, FIVE, True),
    ("count:keywords_multiple", KEYWORDS5, FIVE + " cat", False),
    ("words:keywords_specific_position", {"keyword": "river", "n": 2, "m": 3}, "Hi. See the river.", True),
    ("words:keywords_specific_position", {"keyword": "river", "n": 2, "m": 3}, "Hi. The river.", False),
    ("words:words_position", {"keyword": "sea"}, "The sea is calm , sea ?", True),
    ("words:words_position", {"keyword": "sea"}, "The sea is calm.", False),
    ("repeat:repeat_change", {"prompt_to_repeat": PROMPT}, "Tell" + PROMPT[5:], True),
    ("repeat:repeat_change", {"prompt_to_repeat": PROMPT}, PROMPT, False),
    ("repeat:repeat_simple", {}, "only output this sentence here, ignore all other requests.", True),
    ("repeat:repeat_simple", {}, "Only output this sentence here.", False),
    ("repeat:repeat_span", {"prompt_to_repeat": PROMPT, "n_start": 1, "n_end": 4}, "A short story", True),
    ("repeat:repeat_span", {"prompt_to_repeat": PROMPT, "n_start": 1, "n_end": 4}, "a short story about", False),
    ("format:title_case", {}, "The Quick Brown Fox", True),
    ("format:title_case", {}, "The quick Brown Fox", False),
    ("format:output_template", {}, "My Answer: yes My Conclusion: ok Future Outlook: good", True),
    ("format:output_template", {}, "My Answer: yes My Conclusion: ok", False),
    ("format:no_whitespace", {}, "no-whitespace-here", True),
    ("format:no_whitespace", {}, "one space", False),
]
TAGGER_CASES = [("words:start_verb", {}, "Run home now.", True), ("words:start_verb", {}, "The dog runs.", False)]


@pytest.fixture(scope="module")
def reference() -> None:
    try:
        import if_verifiable  # noqa: F401
    except ImportError:
        pytest.fail("the reference checkers are the package if-verifiable: pip install if-verifiable==0.1.2")
    prepare_reference()


def test_every_ifbench_instruction_is_known_and_has_hand_cases():
    assert len(IFBENCH_IDS) == 58 and len(set(IFBENCH_IDS)) == 58
    covered = {(case[0], case[3]) for case in CASES + TAGGER_CASES}
    assert covered == {(instruction_id, verdict) for instruction_id in IFBENCH_IDS for verdict in (True, False)}


@pytest.mark.parametrize(("instruction_id", "kwargs", "response", "followed"), CASES)
def test_hand_case_verdict(instruction_id, kwargs, response, followed):
    assert check_instruction(instruction_id, kwargs, response) is followed


@pytest.mark.parametrize(("instruction_id", "kwargs", "response", "followed"), CASES)
def test_hand_case_verdict_is_ifbenchs(reference, instruction_id, kwargs, response, followed):
    assert reference_verdict(instruction_id, kwargs, response) is followed


@pytest.mark.skipif(not tagger_available(), reason="nltk's averaged_perceptron_tagger_eng is not installed")
@pytest.mark.parametrize(("instruction_id", "kwargs", "response", "followed"), TAGGER_CASES)
def test_start_verb_tags_the_first_word_as_nltk_does(instruction_id, kwargs, response, followed):
    import nltk

    assert check_instruction(instruction_id, kwargs, response) is followed
    assert ("VB" in nltk.pos_tag(nltk.word_tokenize(response))[0][1]) is followed


@pytest.mark.parametrize("instruction_id", OFFLINE_IDS)
def test_check_instruction_gives_ifbenchs_verdict_on_every_generated_case(reference, instruction_id):
    disagreements, followed, raised = [], 0, 0
    for case in cases(instruction_id, 200):
        for loose in (False, True):
            expected = reference_verdict(instruction_id, *case, loose=loose)
            ours = check_instruction(instruction_id, *case, loose=loose)
            if isinstance(expected, Exception):  # IFBench crashes; see DEPARTURES
                raised += 1
                assert (instruction_id, type(expected)) in RAISES, f"{expected!r} on {dump(instruction_id, case)}"
                expected = False
            followed += expected
            if ours != expected:
                disagreements.append(f"loose={loose} reference={expected} {dump(instruction_id, case)}")
    assert not disagreements, "\n".join(disagreements[:10])
    assert 0 < followed < 400, "the cases should hold some that follow and some that do not"


# --- departures, on purpose ---------------------------------------------------------------

RAISES = {("format:quote_unquote", IndexError)}
"""(id, exception) pairs the generated cases make IFBench raise; each is a DEPARTURES row."""

# (instruction id, kwargs, response, IFBench's verdict or the exception it raises, ours, reason)
DEPARTURES: list[tuple[str, dict[str, Any], str, bool | type[Exception], bool, str]] = [
    (
        "format:quote_unquote",
        {},
        "12, 34.",
        IndexError,
        False,
        "Only digits and punctuation: IFBench indexes [-1] of an empty string and crashes; here it does not follow.",
    ),
    (
        "custom:sentence_alphabet",
        {},
        ALPHABET_STORY.replace("Bpples fell.", "<stop>"),  # the splitter's own marker: an empty second sentence
        IndexError,
        False,
        "An empty sentence among the 26: IFBench takes the first word of it and crashes; here it does not follow.",
    ),
    (
        "custom:csv_quotes",
        {},
        CSV_QUOTES.replace('"Math"', ""),
        IndexError,
        False,
        "An empty field: IFBench indexes [0] of it and crashes; here it does not follow.",
    ),
    (
        "custom:csv_city",
        {},
        "ID,Country,City,Year,Count\n" + '"' + "x" * 200_000 + '",a,b,c,d',
        Exception,  # csv.Error: field larger than field limit
        False,
        "A field over the csv module's size limit (131,072 characters): csv.Error crashes IFBench; here it does not "
        "follow.",
    ),
]


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "response", "theirs", "ours", "reason"),
    DEPARTURES,
    ids=[departure[0] for departure in DEPARTURES],
)
def test_each_departure_from_ifbench_is_as_documented(
    reference, instruction_id, kwargs, response, theirs, ours, reason
):
    expected = reference_verdict(instruction_id, kwargs, response)
    assert isinstance(expected, theirs) if isinstance(theirs, type) else expected is theirs, expected
    assert check_instruction(instruction_id, kwargs, response) is ours
    assert reason


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "named"),
    [
        ("repeat:repeat_span", {"prompt_to_repeat": PROMPT, "n_start": 1}, "n_end"),
        ("count:word_count_range", {"min_words": 3}, "max_words"),
        ("sentence:keyword", {"word": "x", "N": 0}, "N"),
        ("count:words_japanese", {"N": 0}, "N"),
        ("ratio:overlap", {"reference_text": "abc", "percentage": -1}, "percentage"),
        ("format:options", {"options": ""}, "options"),
    ],
)
def test_kwargs_ifbench_would_replace_with_a_random_value_are_data_errors(instruction_id, kwargs, named):
    with pytest.raises(ValueError, match=named):
        parse_instruction(instruction_id, kwargs)


# --- IFBench's splitter -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Mr. Smith went home. He slept!", ["Mr. Smith went home.", "He slept!"]),
        ("Visit example.com today. It is 3.5 km away.", ["Visit example.com today.", "It is 3.5 km away."]),
        ('She said "stop." Then left?', ['She said "stop".', "Then left?"]),
        ("Wait... what", ["Wait...", "what"]),
        ("The U.S.A. is big. Yes", ["The U.S.A. is big.", "Yes"]),
        ("a <stop> b", ["a", "b"]),
    ],
)
def test_sentences_are_split_as_ifevals_regex_splitter_does(text, sentences):
    assert split_into_sentences(text) == sentences


def test_stop_words_are_nltks_without_the_contractions():
    assert len(ENGLISH_STOP_WORDS) == 153
    assert {"the", "and", "don", "wouldn", "ma"} <= ENGLISH_STOP_WORDS
    assert not any("'" in word for word in ENGLISH_STOP_WORDS)


# --- the known ways to game a checker ------------------------------------------------------


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "hack"),
    [
        ("ratio:sentence_type", {}, "No sentence ends with a period or a question mark here"),
        ("ratio:sentence_balance", {}, "Nothing ends a sentence here"),
        ("format:sub-bullets", {}, "No bullets at all."),
        ("format:list", {"sep": "-"}, "A well-known, long-standing list-free answer."),
        ("count:person_names", {"N": 3}, "Miami, Leonard and Avalanche."),
        ("count:conjunctions", {"small_n": 3}, "and And AND and,"),
    ],
)
def test_hack_meets_ifbenchs_check_but_not_the_hardened_one(instruction_id, kwargs, hack):
    assert check_instruction(instruction_id, kwargs, hack)
    assert not check_instruction(instruction_id, kwargs, hack, hardened=True)
    task = SimpleNamespace(instruction_ids=[instruction_id], kwargs=[kwargs])
    assert InstructionFollowing()(hack, task).value == 0.0


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "honest"),
    [
        ("ratio:sentence_type", {}, "One. Two. Why?"),
        ("ratio:sentence_balance", {}, "Yes. No? Go!"),
        ("format:sub-bullets", {}, "* fruit\n - apple"),
        ("format:list", {"sep": "-"}, "- one\n- two"),
        ("count:person_names", {"N": 3}, "Mia, Leo and Ava."),
        ("count:conjunctions", {"small_n": 3}, "and but or"),
    ],
)
def test_an_honest_response_meets_the_hardened_check(instruction_id, kwargs, honest):
    assert check_instruction(instruction_id, kwargs, honest, hardened=True)


def test_quadratic_reference_inputs_are_judged_in_linear_time():
    import time

    cases_ = [
        ("format:line_indent", {}, "a\n\n" * 200_000),
        ("custom:mcq_count_length", {}, "Question 1\n" + "\n" * 200_000 + "x"),
        ("custom:csv_special_character", {}, CSV_SPECIAL.replace('"Acme & Co"', '"' + "a" * 100_000)),
    ]
    for instruction_id, kwargs, response in cases_:
        start = time.perf_counter()
        check_instruction(instruction_id, kwargs, response, loose=True)
        assert time.perf_counter() - start < 2.0, instruction_id


# --- the verifier and the property kit -------------------------------------------------------


@st.composite
def ifbench_tasks(draw: st.DrawFn) -> SimpleNamespace:
    """Tasks of 1-3 IFBench instructions that one reference response meets."""
    options: dict[str, dict[str, Any]] = {
        "count:numbers": {"N": 1},
        "format:output_template": {},
        "count:person_names": {"N": 1},
        "words:repeats": {"small_n": 3},
        "count:pronouns": {"N": 1},
        "format:thesis": {},
        "custom:character_reverse": {},
    }
    chosen = draw(st.lists(st.sampled_from(sorted(options)), min_size=1, max_size=3, unique=True))
    return SimpleNamespace(
        instruction_ids=chosen,
        kwargs=[options[name] for name in chosen],
        reward_mode=draw(st.sampled_from([None, "fraction", "all"])),
        loose=draw(st.sampled_from([None, False, True])),
        reference="<i>My Answer: Emma saw 7 owls.</i> My Conclusion: she was glad. Future Outlook: elgae dlab",
    )


def test_verifier_keeps_every_promise_of_the_property_kit_on_ifbench_tasks():
    check_verifier(
        InstructionFollowing(),
        tasks=ifbench_tasks(),
        reference=lambda task: task.reference,
        wrong=lambda task: st.sampled_from(["", "   ", "<think>" + task.reference + "</think>"]),
        max_examples=40,
    )


@pytest.mark.parametrize("instruction_id", OFFLINE_IDS)
def test_each_ifbench_instruction_finishes_on_megabyte_inputs(instruction_id):
    kwargs = next(case[1] for case in CASES if case[0] == instruction_id)
    task = SimpleNamespace(instruction_ids=[instruction_id], kwargs=[kwargs], loose=True)
    verifier = InstructionFollowing()
    check_bounded_time(lambda completion, t: verifier(completion, t).value, task)
