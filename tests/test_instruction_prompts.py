"""rlvr.envs.instruction_following.prompts: instruction samplers, renderings, incompatibilities, references."""

from __future__ import annotations

import inspect
import random

import pytest

from rlvr.envs.instruction_following.prompts import (
    BASE_PROMPTS,
    FILLER,
    IFBENCH_GENERATED,
    INCOMPATIBLE,
    INSTRUCTION_IDS,
    INSTRUCTIONS,
    build_response,
    compatible,
    describe,
    sample_constraints,
)
from rlvr.verifiers.ifeval import INSTRUCTION_IDS as CHECKED_IDS
from rlvr.verifiers.ifeval import check_instruction, parse_instruction

IFEVAL_KWARGS = {
    "keywords:existence": {"keywords"},
    "keywords:frequency": {"keyword", "frequency", "relation"},
    "keywords:forbidden_words": {"forbidden_words"},
    "keywords:letter_frequency": {"letter", "let_frequency", "let_relation"},
    "language:response_language": {"language"},
    "length_constraints:number_sentences": {"num_sentences", "relation"},
    "length_constraints:number_paragraphs": {"num_paragraphs"},
    "length_constraints:number_words": {"num_words", "relation"},
    "length_constraints:nth_paragraph_first_word": {"num_paragraphs", "nth_paragraph", "first_word"},
    "detectable_content:number_placeholders": {"num_placeholders"},
    "detectable_content:postscript": {"postscript_marker"},
    "detectable_format:number_bullet_lists": {"num_bullets"},
    "detectable_format:constrained_response": set(),
    "detectable_format:number_highlighted_sections": {"num_highlights"},
    "detectable_format:multiple_sections": {"section_spliter", "num_sections"},
    "detectable_format:json_format": set(),
    "detectable_format:title": set(),
    "combination:two_responses": set(),
    "combination:repeat_prompt": {"prompt_to_repeat"},
    "startend:end_checker": {"end_phrase"},
    "startend:quotation": set(),
    "change_case:capital_word_frequency": {"capital_frequency", "capital_relation"},
    "change_case:english_capital": set(),
    "change_case:english_lowercase": set(),
    "punctuation:no_comma": set(),
}


def test_base_prompts_are_many_and_distinct():
    assert len(BASE_PROMPTS) >= 40
    assert len(set(BASE_PROMPTS)) == len(BASE_PROMPTS)
    assert all("\n" not in prompt for prompt in BASE_PROMPTS)


def test_every_ifeval_id_has_a_sampler_and_a_rendering():
    assert set(INSTRUCTION_IDS) == set(IFEVAL_KWARGS) == set(CHECKED_IDS)
    for instruction_id in INSTRUCTION_IDS:
        kwargs = INSTRUCTIONS[instruction_id].sample(random.Random(0), "Write a poem.")
        text = describe(instruction_id, kwargs)
        assert text and text == text.strip(), instruction_id


@pytest.mark.parametrize("instruction_id", sorted(IFEVAL_KWARGS))
def test_sampled_kwargs_use_ifeval_names_and_ranges(instruction_id):
    for seed in range(50):
        kwargs = INSTRUCTIONS[instruction_id].sample(random.Random(seed), "Write a poem.")
        assert set(kwargs) == IFEVAL_KWARGS[instruction_id]
        parse_instruction(instruction_id, kwargs)  # the checker accepts them
        for name in ("relation", "let_relation", "capital_relation"):
            if name in kwargs:
                assert kwargs[name] in ("less than", "at least")
        if "num_words" in kwargs:
            assert 100 <= kwargs["num_words"] <= 500
        if "num_sentences" in kwargs:
            assert 1 <= kwargs["num_sentences"] <= 20
        if "nth_paragraph" in kwargs:
            assert 1 <= kwargs["nth_paragraph"] <= kwargs["num_paragraphs"] <= 5


def test_renderings_follow_ifeval_phrasing():
    assert describe("length_constraints:number_sentences", {"num_sentences": 3, "relation": "at least"}) == (
        "Your response should contain at least 3 sentences."
    )
    end = "Is there anything else I can help with?"
    assert describe("startend:end_checker", {"end_phrase": end}) == (
        f"Finish your response with this exact phrase {end}. No other words should follow this phrase."
    )
    assert describe("startend:quotation", {}) == "Wrap your entire response with double quotation marks."


def test_incompatibility_table():
    assert frozenset(("change_case:english_capital", "change_case:english_lowercase")) in INCOMPATIBLE
    assert frozenset(("startend:quotation", "startend:end_checker")) in INCOMPATIBLE
    assert frozenset(("detectable_format:json_format", "detectable_format:title")) in INCOMPATIBLE
    assert frozenset(("detectable_format:constrained_response", "length_constraints:number_words")) in INCOMPATIBLE
    assert frozenset(("combination:repeat_prompt", "startend:quotation")) in INCOMPATIBLE
    assert frozenset(("combination:two_responses", "startend:end_checker")) in INCOMPATIBLE
    assert frozenset(("language:response_language", "change_case:english_lowercase")) in INCOMPATIBLE
    assert all(len(pair) == 2 and pair <= set(INSTRUCTIONS) for pair in INCOMPATIBLE)
    assert frozenset(("detectable_format:constrained_response", "count:numbers")) in INCOMPATIBLE
    assert not compatible(["punctuation:no_comma", "punctuation:no_comma"])
    assert compatible(["punctuation:no_comma", "detectable_format:title"])


def test_filler_is_neutral():
    for sentence in FILLER:
        assert "," not in sentence and not set("jqxz") & set(sentence.lower())
        assert sentence[0].isupper() and not any(word.isupper() for word in sentence.split())


def test_sampled_sets_are_compatible_and_within_counts():
    for seed in range(300):
        rng = random.Random(seed)
        constraints = sample_constraints(rng, rng.choice(BASE_PROMPTS), min_count=2, max_count=3)
        ids = [i for i, _ in constraints]
        assert 2 <= len(ids) <= 3
        assert compatible(ids), ids


def test_sampler_is_deterministic_and_keeps_to_allowed_ids():
    allowed = ["punctuation:no_comma", "detectable_format:title", "keywords:existence"]
    first = sample_constraints(random.Random(7), "Write a poem.", allowed=allowed, min_count=1, max_count=3)
    second = sample_constraints(random.Random(7), "Write a poem.", allowed=allowed, min_count=1, max_count=3)
    assert first == second
    assert {i for i, _ in first} <= set(allowed)
    with pytest.raises(ValueError, match="unknown instruction ids"):
        sample_constraints(random.Random(0), "x", allowed=["no:such"])
    with pytest.raises(ValueError, match="min_count"):
        sample_constraints(random.Random(0), "x", min_count=3, max_count=2)


def test_reference_follows_every_instruction_of_500_tasks():
    for seed in range(500):
        rng = random.Random(seed)
        constraints = sample_constraints(rng, rng.choice(BASE_PROMPTS))
        response = build_response(constraints, check=False)
        for instruction_id, kwargs in constraints:
            assert check_instruction(instruction_id, kwargs, response), (seed, instruction_id, kwargs, response)


def test_reference_for_each_instruction_alone():
    for instruction_id in INSTRUCTION_IDS:
        constraints = sample_constraints(random.Random(1), BASE_PROMPTS[0], allowed=[instruction_id], max_count=1)
        response = build_response(constraints, check=False)
        assert check_instruction(instruction_id, constraints[0][1], response), instruction_id


def test_samplers_take_rng_and_prompt_only():
    for spec in INSTRUCTIONS.values():
        assert len(inspect.signature(spec.sample).parameters) == 2


# --- IFBench's ids in generated tasks ------------------------------------------------------


def test_the_generator_makes_eight_ifbench_ids_with_ifbench_kwargs():
    from rlvr.verifiers.ifbench import IFBENCH_IDS

    assert len(IFBENCH_GENERATED) == 8 and set(IFBENCH_GENERATED) <= set(IFBENCH_IDS)
    assert set(INSTRUCTIONS) == set(INSTRUCTION_IDS) | set(IFBENCH_GENERATED)
    for instruction_id in IFBENCH_GENERATED:
        for seed in range(20):
            kwargs = INSTRUCTIONS[instruction_id].sample(random.Random(seed), "Write a poem.")
            parse_instruction(instruction_id, kwargs)  # IFBench's kwargs names, accepted by the checker
            assert describe(instruction_id, kwargs)


@pytest.mark.parametrize("instruction_id", IFBENCH_GENERATED)
def test_reference_follows_each_ifbench_instruction_alone_and_hardened(instruction_id):
    for seed in range(20):
        constraints = sample_constraints(random.Random(seed), BASE_PROMPTS[seed], allowed=[instruction_id], max_count=1)
        response = build_response(constraints, check=False)
        kwargs = constraints[0][1]
        assert check_instruction(instruction_id, kwargs, response), (instruction_id, kwargs, response)
        assert check_instruction(instruction_id, kwargs, response, hardened=True), (instruction_id, response)


def test_references_follow_ifeval_and_ifbench_instructions_drawn_together():
    pool = list(INSTRUCTION_IDS) + list(IFBENCH_GENERATED)
    drawn = set()
    for seed in range(200):
        rng = random.Random(seed)
        constraints = sample_constraints(rng, rng.choice(BASE_PROMPTS), allowed=pool, min_count=2, max_count=3)
        response = build_response(constraints, check=False)
        drawn.update(i for i, _ in constraints)
        for instruction_id, kwargs in constraints:
            assert check_instruction(instruction_id, kwargs, response), (seed, instruction_id, kwargs, response)
    assert set(IFBENCH_GENERATED) <= drawn
