"""IFEval checkers: each instruction on hand cases, strict against loose, known hacks, the verifier, the kit."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import strategies as st

from rlvr.verifiers.ifeval import (
    INSTRUCTION_IDS,
    InstructionFollowing,
    check_instruction,
    count_sentences,
    count_words,
    detect_language,
)
from rlvr.verifiers.properties import check_bounded_time, check_verifier
from rlvr.verifiers.reasoning import answer_text
from rlvr.verifiers.score import Status

ENGLISH = "The quick brown fox jumps over the lazy dog while the farmer watches from the old barn."
ENGLISH_CAPS = ENGLISH.upper()
FRENCH = "Le renard brun saute par-dessus le chien paresseux pendant que le fermier regarde depuis la grange."

# (instruction id, kwargs, response, followed under the strict check)
CASES: list[tuple[str, dict[str, Any], str, bool]] = [
    ("keywords:existence", {"keywords": ["fox", "barn"]}, ENGLISH, True),
    ("keywords:existence", {"keywords": ["fox", "cow"]}, ENGLISH, False),
    ("keywords:existence", {"keywords": ["FOX"]}, "a fox", True),
    ("keywords:frequency", {"keyword": "the", "frequency": 3, "relation": "at least"}, ENGLISH, True),
    ("keywords:frequency", {"keyword": "the", "frequency": 3, "relation": "less than"}, ENGLISH, False),
    ("keywords:frequency", {"keyword": "fox", "frequency": 2, "relation": "less than"}, ENGLISH, True),
    ("keywords:forbidden_words", {"forbidden_words": ["cat", "mouse"]}, ENGLISH, True),
    ("keywords:forbidden_words", {"forbidden_words": ["DOG"]}, ENGLISH, False),
    ("keywords:forbidden_words", {"forbidden_words": ["do"]}, ENGLISH, True),  # whole words only
    ("keywords:letter_frequency", {"letter": "z", "let_frequency": 1, "let_relation": "at least"}, ENGLISH, True),
    ("keywords:letter_frequency", {"letter": "Q", "let_frequency": 2, "let_relation": "at least"}, ENGLISH, False),
    ("keywords:letter_frequency", {"letter": "x", "let_frequency": 2, "let_relation": "less than"}, ENGLISH, True),
    ("language:response_language", {"language": "fr"}, FRENCH, True),
    ("language:response_language", {"language": "fr"}, ENGLISH, False),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "at least"}, "One. Two! Three?", True),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "at least"}, "Mr. Smith. Two.", False),
    ("length_constraints:number_sentences", {"num_sentences": 2, "relation": "less than"}, "Only one here", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First.\n***\nSecond.", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First.\n***\n***\nSecond.", False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "***\nFirst.\n***\nSecond.\n***", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 3}, "First.\n***\nSecond.", False),
    ("length_constraints:number_words", {"num_words": 17, "relation": "at least"}, ENGLISH, True),
    ("length_constraints:number_words", {"num_words": 17, "relation": "less than"}, ENGLISH, False),
    ("length_constraints:number_words", {"num_words": 3, "relation": "less than"}, "well-known", True),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        'Start here.\n\n"Then, more.',
        True,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "then"},
        "Start here.\n\nThen more.",
        False,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "Start here.\n\nAnd then.",
        False,
    ),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name], at [address].", True),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name,\n at] [x", False),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Bye.\n\nP.S. See you.", True),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Bye.\np. p. s more", True),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Bye. PS see you", False),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "Items:\n* one\n- two", True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n** bold\n- two\n- three", False),
    ("detectable_format:constrained_response", {}, "Thinking... My answer is no.", True),
    ("detectable_format:constrained_response", {}, "My answer is: no", False),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and **two**", True),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and ** **", False),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 2},
        "Section 1\na\nSection 2\nb",
        True,
    ),
    ("detectable_format:multiple_sections", {"section_spliter": "SECTION", "num_sections": 2}, "SECTION 1\na", False),
    ("detectable_format:json_format", {}, '{"a": [1, 2]}', True),
    ("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', True),
    ("detectable_format:json_format", {}, "{'a': 1}", False),
    ("detectable_format:title", {}, "<<Poem of joy>>\nLines.", True),
    ("detectable_format:title", {}, "<<   >>\n<<\nTitle>>", False),
    ("combination:two_responses", {}, "First answer.\n******\nSecond answer.", True),
    ("combination:two_responses", {}, "First answer.\n******\n******\nSecond answer.", False),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a poem."}, "write a POEM. Roses are red.", True),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a poem."}, "Roses are red. Write a poem.", False),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, 'Done. "Any other questions?"', True),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Any other questions? Done.", False),
    ("startend:quotation", {}, '"Wrapped in quotes."', True),
    ("startend:quotation", {}, '"Half wrapped.', False),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "at least"},
        "NASA and ESA.",
        True,
    ),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "less than"},
        "I SAID NO.",
        False,
    ),
    ("change_case:english_capital", {}, ENGLISH_CAPS, True),
    ("change_case:english_capital", {}, ENGLISH, False),
    ("change_case:english_capital", {}, FRENCH.upper(), False),
    ("change_case:english_lowercase", {}, ENGLISH.lower(), True),
    ("change_case:english_lowercase", {}, ENGLISH, False),
    ("punctuation:no_comma", {}, ENGLISH, True),
    ("punctuation:no_comma", {}, "Yes, this.", False),
]


def test_every_ifeval_instruction_is_known_and_has_hand_cases():
    assert len(INSTRUCTION_IDS) == 25
    covered = {(case[0], case[3]) for case in CASES}
    assert covered == {(instruction_id, verdict) for instruction_id in INSTRUCTION_IDS for verdict in (True, False)}


@pytest.mark.parametrize(("instruction_id", "kwargs", "response", "followed"), CASES)
def test_hand_case_verdict(instruction_id, kwargs, response, followed):
    assert check_instruction(instruction_id, kwargs, response) is followed


# --- strict and loose --------------------------------------------------------

LOOSE_ONLY = [
    ("startend:quotation", {}, 'Sure, here it is:\n"Wrapped in quotes."'),
    (
        "startend:end_checker",
        {"end_phrase": "Is there anything else I can help with?"},
        "Hi.\nIs there anything else I can help with?\n-- Bot",
    ),
    ("detectable_format:json_format", {}, 'Here is the JSON:\n{"a": 1}'),
    ("punctuation:no_comma", {}, "Sure, here you go:\nNo commas below."),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Say hi."}, "**Say hi.** Hi!"),
    ("change_case:english_lowercase", {}, "Here is my answer:\n" + ENGLISH.lower()),
]


@pytest.mark.parametrize(("instruction_id", "kwargs", "response"), LOOSE_ONLY, ids=[c[0] for c in LOOSE_ONLY])
def test_loose_accepts_what_strict_rejects_for_a_preamble_trailer_or_asterisks(instruction_id, kwargs, response):
    assert not check_instruction(instruction_id, kwargs, response)
    assert check_instruction(instruction_id, kwargs, response, loose=True)


@pytest.mark.parametrize(("instruction_id", "kwargs", "response", "followed"), [c for c in CASES if c[3]])
def test_loose_accepts_everything_strict_accepts(instruction_id, kwargs, response, followed):
    assert check_instruction(instruction_id, kwargs, response, loose=True)


def test_loose_still_rejects_a_response_that_no_variant_saves():
    assert not check_instruction("punctuation:no_comma", {}, "a,\nb,\nc,\nd,", loose=True)


# --- the known ways to game a checker ----------------------------------------


def test_listing_every_constrained_option_passes_ifeval_but_not_the_hardened_check():
    hedge = "My answer is yes. My answer is no. My answer is maybe."
    assert check_instruction("detectable_format:constrained_response", {}, hedge)  # IFEval's own verdict
    assert not check_instruction("detectable_format:constrained_response", {}, hedge, hardened=True)
    assert check_instruction("detectable_format:constrained_response", {}, "My answer is yes.", hardened=True)
    task = SimpleNamespace(instruction_ids=["detectable_format:constrained_response"], kwargs=[{}])
    assert InstructionFollowing()(hedge, task).value == 0.0


def test_keyword_stuffing_meets_existence_and_at_least_but_breaks_less_than():
    stuffed = "fox " * 50
    assert check_instruction("keywords:existence", {"keywords": ["fox"]}, stuffed)
    assert check_instruction("keywords:frequency", {"keyword": "fox", "frequency": 5, "relation": "at least"}, stuffed)
    assert not check_instruction(
        "keywords:frequency", {"keyword": "fox", "frequency": 5, "relation": "less than"}, stuffed
    )


def test_keyword_counts_are_substring_counts_as_in_ifeval():
    # IFEval counts "cat" inside "concatenate"; forbidden words alone use word boundaries.
    assert check_instruction("keywords:existence", {"keywords": ["cat"]}, "concatenate")
    assert check_instruction("keywords:forbidden_words", {"forbidden_words": ["cat"]}, "concatenate")


@pytest.mark.parametrize("loose", [False, True])
@pytest.mark.parametrize("instruction_id", INSTRUCTION_IDS)
@pytest.mark.parametrize("blank", ["", "  \n\t "])
def test_blank_response_follows_no_instruction(instruction_id, loose, blank):
    kwargs = next(case[1] for case in CASES if case[0] == instruction_id)
    assert not check_instruction(instruction_id, kwargs, blank, loose=loose)


def test_response_that_is_only_the_end_phrase_meets_the_end_check_and_nothing_more():
    phrase = "Is there anything else I can help with?"
    task = SimpleNamespace(
        instruction_ids=["startend:end_checker", "length_constraints:number_words"],
        kwargs=[{"end_phrase": phrase}, {"num_words": 50, "relation": "at least"}],
    )
    score = InstructionFollowing()(phrase, task)
    assert score.value == 0.5
    assert score.details["failed"] == ["length_constraints:number_words"]


def test_json_in_a_fence_is_accepted_as_ifeval_does_but_prose_around_it_is_not():
    assert check_instruction("detectable_format:json_format", {}, '```JSON\n{"ok": true}\n```')
    assert not check_instruction("detectable_format:json_format", {}, 'Here:\n```json\n{"ok": true}\n```\nDone.')


def test_uppercase_and_lowercase_need_letters():
    for text in ("12345 !!!", "..."):
        assert not check_instruction("change_case:english_capital", {}, text)
        assert not check_instruction("change_case:english_lowercase", {}, text)


def test_two_identical_responses_do_not_count_as_two():
    assert not check_instruction("combination:two_responses", {}, "Same text.\n******\n  Same text.  ")
    assert not check_instruction("combination:two_responses", {}, "Only one.\n******")


def test_undetectable_language_follows_in_ifeval_and_fails_when_hardened():
    kwargs = {"language": "de"}
    assert check_instruction("language:response_language", kwargs, "12345 !!!")
    assert not check_instruction("language:response_language", kwargs, "12345 !!!", hardened=True)


# --- padding a language check ---------------------------------------------------

URLS = " ".join(f"https://example.com/page/{index}?q={'a' * 40}" for index in range(600))  # about 45 KB


def test_urls_before_french_do_not_make_it_english_for_ifeval_or_the_hardened_check():
    padded = URLS + " " + FRENCH * 3
    assert len(URLS) > 40_000
    kwargs = {"language": "en"}
    assert not check_instruction("language:response_language", kwargs, padded)
    assert not check_instruction("language:response_language", kwargs, padded, hardened=True)
    assert check_instruction("language:response_language", {"language": "fr"}, padded, hardened=True)


@pytest.mark.parametrize(
    ("padding", "fools_ifeval"),
    [
        ("!" * 10_000 + " ", True),  # undetectable first 10,000 characters: IFEval counts it as followed
        ("12345 " * 2_000, True),
        ("😀 " * 6_000, True),
        ((ENGLISH + " ") * 120, True),  # 10,000+ characters of English before the French
        ("www.example.com/" + "x" * 50_000 + " ", False),
        ("write@example.com " * 3_000, False),
    ],
    ids=["punctuation", "digits", "emoji", "english-first", "bare-www-address", "e-mail-addresses"],
)
def test_padding_before_another_language_does_not_pass_the_hardened_language_check(padding, fools_ifeval):
    padded = padding + (FRENCH + " ") * 15
    kwargs = {"language": "en"}
    assert check_instruction("language:response_language", kwargs, padded) is fools_ifeval
    assert not check_instruction("language:response_language", kwargs, padded, hardened=True)
    task = SimpleNamespace(instruction_ids=["language:response_language"], kwargs=[kwargs])
    assert InstructionFollowing()(padded, task).value == 0.0


def test_another_language_after_the_first_window_fails_the_hardened_check():
    text = (ENGLISH + " ") * 120 + (FRENCH + " ") * 15
    assert check_instruction("language:response_language", {"language": "en"}, text)  # IFEval reads the start
    assert not check_instruction("language:response_language", {"language": "en"}, text, hardened=True)


def test_a_long_response_in_the_asked_language_passes_the_hardened_check_with_padding_around():
    text = "!!! " + URLS + " " + (FRENCH + " 12345 ") * 300 + " 😀"
    assert check_instruction("language:response_language", {"language": "fr"}, text, hardened=True)


def test_only_padding_has_no_language_and_fails_the_hardened_check():
    for padding in (URLS, "!" * 50_000, "12345 " * 100):
        assert check_instruction("language:response_language", {"language": "de"}, padding)  # IFEval: followed
        assert not check_instruction("language:response_language", {"language": "de"}, padding, hardened=True)


def test_upper_case_english_padded_with_another_language_fails_the_hardened_capital_check():
    text = ((ENGLISH_CAPS + " ") * 120 + (FRENCH.upper() + " ") * 40).strip()
    assert check_instruction("change_case:english_capital", {}, text)
    assert not check_instruction("change_case:english_capital", {}, text, hardened=True)


# --- regular expressions in kwargs ---------------------------------------------------


def test_kwargs_are_regular_expressions_for_ifeval_and_literal_text_when_hardened():
    kwargs = {"postscript_marker": "P.S"}
    assert check_instruction("detectable_content:postscript", kwargs, "A pas de deux.")  # p.s as a regex
    assert not check_instruction("detectable_content:postscript", kwargs, "A pas de deux.", hardened=True)
    assert check_instruction("detectable_content:postscript", kwargs, "Bye.\nP.S more", hardened=True)
    assert check_instruction("keywords:existence", {"keywords": ["e.g"]}, "an egg")
    assert not check_instruction("keywords:existence", {"keywords": ["e.g"]}, "an egg", hardened=True)
    assert not check_instruction("keywords:forbidden_words", {"forbidden_words": ["c.t"]}, "a cat")
    assert check_instruction("keywords:forbidden_words", {"forbidden_words": ["c.t"]}, "a cat", hardened=True)
    sections = {"section_spliter": "Part.", "num_sections": 2}
    assert check_instruction("detectable_format:multiple_sections", sections, "Parts 1 a Party 2 b")
    assert not check_instruction("detectable_format:multiple_sections", sections, "Parts 1 a Party 2 b", hardened=True)


def test_a_kwarg_that_is_no_regular_expression_is_a_data_error_for_ifeval_and_literal_when_hardened():
    with pytest.raises(ValueError, match="regular expression"):
        check_instruction("keywords:existence", {"keywords": ["f(x"]}, "where f(x is")
    assert check_instruction("keywords:existence", {"keywords": ["f(x"]}, "where F(X is", hardened=True)


def test_ifbench_ids_work_through_check_instruction_and_the_verifier():
    assert check_instruction("count:numbers", {"N": 2}, "Add 3 and 4.")
    assert not check_instruction("format:no_whitespace", {}, "a b")
    task = SimpleNamespace(
        instruction_ids=["count:numbers", "punctuation:no_comma", "format:output_template"],
        kwargs=[{"N": 1}, {}, {}],
    )
    score = InstructionFollowing()("My Answer: 7 My Conclusion: ok Future Outlook: fine", task)
    assert (score.value, score.status) == (1.0, Status.OK)
    score = InstructionFollowing()("My Answer: 7, 8", task)
    assert score.details["failed"] == ["count:numbers", "punctuation:no_comma", "format:output_template"]


def test_a_missing_nltk_model_is_a_lookup_error_not_a_data_error():
    from rlvr.verifiers.nltk_data import NltkDataMissing, tagger_available

    if tagger_available():
        pytest.skip("nltk's tagger is installed here")
    task = SimpleNamespace(instruction_ids=["words:start_verb"], kwargs=[{}])
    with pytest.raises(NltkDataMissing, match="averaged_perceptron_tagger_eng"):
        InstructionFollowing()("Run home.", task)


def test_deeply_nested_brackets_are_not_json_and_do_not_raise():
    assert not check_instruction("detectable_format:json_format", {}, "[" * 100_000 + "]" * 100_000)


# --- text utilities ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("", 0),
        ("No end mark", 1),
        ("One. Two. Three.", 3),
        ("Dr. Who met Mr. J. Smith at 3.30 p.m. today.", 1),
        ('He said "stop." Then left!', 2),
        ("Wait... what? Fine... It works.", 3),
        ("Buy milk, eggs, etc. The end.", 2),  # the regex stand-in that came before said 1
        ("e.g. this one. And that.", 3),  # Punkt does not know "e.g." at the start of a text
    ],
)
def test_sentences_are_counted_by_nltk_punkt_as_in_ifeval(text, sentences):
    assert count_sentences(text) == sentences


@pytest.mark.parametrize(
    ("text", "capitals"),
    [
        ("N/A and TCP/IP said O'NEIL", 3),  # one token each to nltk.word_tokenize
        ("NASA's AI-driven U.S. PLAN", 3),  # NASA, U.S. and PLAN; "'s" and "AI-driven" are not upper case
        ("I SAID NO.", 3),
        ("well-known CamelCase 123", 0),
    ],
)
def test_capital_words_are_upper_case_tokens_of_nltk_word_tokenize(text, capitals):
    import nltk

    assert sum(token.isupper() for token in nltk.word_tokenize(text)) == capitals
    kwargs = {"capital_frequency": capitals, "capital_relation": "at least"}
    assert check_instruction("change_case:capital_word_frequency", kwargs, text)
    kwargs["capital_frequency"] = capitals + 1
    assert not check_instruction("change_case:capital_word_frequency", kwargs, text)


def test_word_count_is_runs_of_word_characters():
    assert count_words("It's a well-known fact: 3.14 is pi_ish.") == 10


def test_language_detection_is_the_same_across_calls_and_processes():
    short = "Bonjour tout le monde"  # short texts are where an unseeded langdetect flips
    here = [detect_language(short) for _ in range(5)]
    assert len(set(here)) == 1
    code = "from rlvr.verifiers.ifeval import detect_language; print(detect_language('Bonjour tout le monde'))"
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert other.stdout.strip() == here[0]


def test_the_judged_response_is_the_answer_after_the_reasoning():
    assert answer_text("<think>a, b</think>answer") == "answer"
    assert answer_text("<think>x</think>y</think> z") == " z"
    assert answer_text("no reasoning") == "no reasoning"


# --- data errors -------------------------------------------------------------


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "named"),
    [
        ("keywords:nonexistent", {}, "keywords:nonexistent"),
        ("keywords:frequency", {"keyword": "a", "frequency": 2}, "relation"),
        ("keywords:frequency", {"keyword": "a", "frequency": 2, "relation": "at most"}, "relation"),
        ("length_constraints:number_words", {"num_words": "ten", "relation": "at least"}, "num_words"),
        ("length_constraints:number_words", {"num_words": True, "relation": "at least"}, "num_words"),
        ("punctuation:no_comma", {"num_words": 3}, "num_words"),
        ("keywords:existence", {"keywords": "fox"}, "keywords"),
        ("keywords:letter_frequency", {"letter": "ab", "let_frequency": 1, "let_relation": "at least"}, "letter"),
        ("startend:end_checker", {"end_phrase": "  "}, "end_phrase"),
        (
            "length_constraints:nth_paragraph_first_word",
            {"num_paragraphs": 2, "nth_paragraph": 0, "first_word": "a"},
            "nth_paragraph",
        ),
    ],
)
def test_unknown_id_or_bad_kwargs_raise_a_value_error_naming_them(instruction_id, kwargs, named):
    with pytest.raises(ValueError, match=named):
        check_instruction(instruction_id, kwargs, "any response")


def test_none_valued_kwargs_are_ignored_like_ifeval_records_hold_them():
    kwargs = {"num_words": 3.0, "relation": "at least", "keywords": None, "language": None}
    assert check_instruction("length_constraints:number_words", kwargs, "one two three")


# --- the verifier ------------------------------------------------------------


@dataclass
class IfTask:
    instruction_ids: list[str]
    kwargs: list[dict[str, Any]]
    prompt_text: str = "Write about a fox."
    reference: str = ""
    reward_mode: str | None = None
    loose: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


TWO = IfTask(
    instruction_ids=["punctuation:no_comma", "keywords:existence"],
    kwargs=[{}, {"keywords": ["barn"]}],
)


def test_fraction_mode_scores_the_share_of_instructions_followed():
    score = InstructionFollowing()("A fox, a dog.", TWO)
    assert score.value == 0.0
    assert score.status is Status.WRONG
    assert score.details["failed"] == ["punctuation:no_comma", "keywords:existence"]
    score = InstructionFollowing()("A fox and a barn.", TWO)
    assert (score.value, score.status) == (1.0, Status.OK)
    score = InstructionFollowing()("A fox, a barn.", TWO)
    assert (score.value, score.status) == (0.5, Status.PARTIAL)
    assert score.details["failed"] == ["punctuation:no_comma"]
    assert (score.details["followed"], score.details["total"]) == (1, 2)


def test_all_mode_gives_nothing_for_a_partial_response():
    score = InstructionFollowing(mode="all")("A fox, a barn.", TWO)
    assert (score.value, score.status) == (0.0, Status.WRONG)


def test_task_reward_mode_and_loose_apply_when_the_verifier_leaves_them_open():
    task = IfTask(["startend:quotation"], [{}], reward_mode="all", loose=True)
    response = 'Here it is:\n"Quoted."'
    assert InstructionFollowing()(response, task).value == 1.0
    assert InstructionFollowing(loose=False)(response, task).value == 0.0
    assert InstructionFollowing()(response, IfTask(["startend:quotation"], [{}])).value == 0.0
    mixed = IfTask(["punctuation:no_comma", "startend:quotation"], [{}, {}], reward_mode="all")
    assert InstructionFollowing()('"a"', mixed).value == 1.0
    assert InstructionFollowing()("a", mixed).value == 0.0
    assert InstructionFollowing(mode="fraction")("a", mixed).value == 0.5


def test_only_the_text_after_the_think_block_is_judged():
    completion = "<think>Commas, commas, commas.</think>A fox and a barn."
    assert InstructionFollowing()(completion, TWO).value == 1.0
    assert InstructionFollowing()("No barn, no comma.<think>x</think>A barn, a comma.", TWO).value == 0.5


def test_repeat_prompt_falls_back_to_the_task_prompt_text():
    task = IfTask(["combination:repeat_prompt"], [{"prompt_to_repeat": None}], prompt_text="Write about a fox.")
    assert InstructionFollowing()("Write about a fox. A fox ran.", task).value == 1.0
    assert InstructionFollowing()("A fox ran.", task).value == 0.0


def test_blank_response_is_unparseable():
    score = InstructionFollowing()("<think>lots of thought</think>  ", TWO)
    assert (score.value, score.status) == (0.0, Status.UNPARSEABLE)


@pytest.mark.parametrize(
    "task",
    [
        SimpleNamespace(),
        SimpleNamespace(instruction_ids=[], kwargs=[]),
        SimpleNamespace(instruction_ids=["punctuation:no_comma"], kwargs=[{}, {}]),
        SimpleNamespace(instruction_ids=["no:such"], kwargs=[{}]),
        SimpleNamespace(instruction_ids=["keywords:existence"], kwargs=[{}]),
        SimpleNamespace(instruction_ids=["keywords:existence"], kwargs=["fox"]),
        SimpleNamespace(instruction_ids=["punctuation:no_comma"], kwargs=[{}], reward_mode="most"),
    ],
)
def test_malformed_task_is_a_data_error(task):
    score = InstructionFollowing()("Some answer.", task)
    assert score.value is None
    assert score.status is Status.DATA_ERROR
    assert score.details["reason"]


def test_unknown_verifier_mode_is_rejected():
    with pytest.raises(ValueError, match="mode"):
        InstructionFollowing(mode="most")  # type: ignore[arg-type]


# --- the property kit --------------------------------------------------------

WORDS = ("river", "lantern", "orchard", "violet", "harbor", "meadow")


@st.composite
def if_tasks(draw: st.DrawFn) -> IfTask:
    """Tasks of 1-3 instructions that can hold together, with a completion that meets them all."""
    keyword, forbidden = draw(st.permutations(WORDS))[:2]
    body = f"We walked along the {keyword} at dawn and talked about [topic] until the light changed"
    options: dict[str, tuple[dict[str, Any], str]] = {
        "keywords:existence": ({"keywords": [keyword]}, ""),
        "keywords:forbidden_words": ({"forbidden_words": [forbidden]}, ""),
        "punctuation:no_comma": ({}, ""),
        "detectable_format:title": ({}, ""),
        "detectable_content:number_placeholders": ({"num_placeholders": 1}, ""),
        "length_constraints:number_words": ({"num_words": draw(st.integers(1, 15)), "relation": "at least"}, ""),
        "startend:end_checker": ({"end_phrase": "Any other questions?"}, ""),
        "detectable_content:postscript": ({"postscript_marker": "P.S."}, ""),
        "keywords:frequency": ({"keyword": keyword, "frequency": 2, "relation": "less than"}, ""),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(options)), min_size=1, max_size=3, unique=True))
    reference = f"<<A walk>>\n{body}.\n\nP.S. Bring a coat.\nAny other questions?"
    return IfTask(
        instruction_ids=chosen,
        kwargs=[options[name][0] for name in chosen],
        reference=reference,
        reward_mode=draw(st.sampled_from([None, "fraction", "all"])),
        loose=draw(st.sampled_from([None, False, True])),
    )


def test_verifier_keeps_every_promise_of_the_property_kit():
    check_verifier(
        InstructionFollowing(),
        tasks=if_tasks(),
        reference=lambda task: task.reference,
        wrong=lambda task: st.sampled_from(["", "   ", "<think>" + task.reference + "</think>"]),
        max_examples=60,
    )


@pytest.mark.parametrize("loose", [False, True])
def test_every_instruction_at_once_finishes_on_megabyte_inputs(loose):
    ids = list(INSTRUCTION_IDS)
    kwargs = [next(case[1] for case in CASES if case[0] == instruction_id) for instruction_id in ids]
    task = IfTask(instruction_ids=ids, kwargs=kwargs)
    verifier = InstructionFollowing(loose=loose)
    # About 0.2 CPU s per instruction on a megabyte (all 25 at once: 4-5 s); quadratic work would take hours.
    check_bounded_time(lambda completion, t: verifier(completion, t).value, task, seconds_per_input=30.0)


# --- disguises never help (hardened) --------------------------------------------


def _dress_in_look_alikes(text: str) -> str:
    from rlvr.verifiers.visible_text import look_alike_table, visible_text

    first: dict[str, str] = {}
    for code, target in sorted(look_alike_table().items()):
        if visible_text(chr(code)) == target:  # not ſ for f: NFKC reads the long s as s
            first.setdefault(target, chr(code))
    return "".join(first.get(char, char) for char in text)


_DISGUISES = {
    "look-alikes": _dress_in_look_alikes,
    "zero-width": "\u200b".join,
    "full-width": lambda text: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text),
}


def _disguise_ids() -> list[str]:
    from rlvr.verifiers.instruction_cases import generated_ids

    return [instruction_id for instruction_id in generated_ids() if instruction_id != "words:start_verb"]


@pytest.mark.parametrize("disguise", sorted(_DISGUISES))
@pytest.mark.parametrize("instruction_id", _disguise_ids())
def test_a_disguised_response_never_follows_what_the_plain_one_breaks(instruction_id, disguise):
    """Look-alike letters, zero-width characters or full-width forms turn no hardened failure into a pass."""
    from rlvr.verifiers.instruction_cases import cases

    dress = _DISGUISES[disguise]
    broken = 0
    for kwargs, response in cases(instruction_id, 40, seed=7):
        for loose in (False, True):
            if check_instruction(instruction_id, kwargs, response, loose=loose, hardened=True):
                continue
            broken += 1
            dressed = dress(response)
            assert not check_instruction(instruction_id, kwargs, dressed, loose=loose, hardened=True), (
                f"{instruction_id} {kwargs} {disguise}: {dressed[:200]!r}"
            )
    assert broken, f"no case of {instruction_id} breaks the instruction"


def test_a_forbidden_word_in_look_alike_letters_is_still_forbidden():
    kwargs = {"forbidden_words": ["storm"]}
    for dressed in ("The ѕtоrm came.", "The st\u200borm came.", "The ｓｔｏｒｍ came."):
        assert check_instruction("keywords:forbidden_words", kwargs, dressed)  # IFEval's own verdict: followed
        assert not check_instruction("keywords:forbidden_words", kwargs, dressed, hardened=True)
    assert not check_instruction("punctuation:no_comma", {}, "one，two", hardened=True)
    assert check_instruction(
        "combination:repeat_prompt", {"prompt_to_repeat": "Say “hi”"}, "Say “hi” back", hardened=True
    )


def test_english_dressed_in_cyrillic_is_not_russian():
    english = "Keep in mind the point above all. Here is a short answer to the task at hand."
    assert not check_instruction("language:response_language", {"language": "ru"}, english, hardened=True)
    dressed = _dress_in_look_alikes(english)
    assert not check_instruction("language:response_language", {"language": "ru"}, dressed, hardened=True)
    russian = "Сегодня хорошая погода, и мы пойдём гулять в парк с друзьями после обеда."
    assert check_instruction("language:response_language", {"language": "ru"}, russian, hardened=True)
