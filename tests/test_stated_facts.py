"""Whether a reply states a function's results: numbers by value, text folded, and no number flooding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rlvr.verifiers.stated_facts import check_facts, digit_runs, numbers_in

NUMBERS = st.one_of(st.integers(-(10**9), 10**9), st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2)))
WORDS = st.text(alphabet="abcdefghij KLMNOP-", min_size=1, max_size=20).filter(lambda s: s.strip())


@given(st.lists(st.one_of(NUMBERS, WORDS), min_size=1, max_size=4))
def test_a_reply_writing_each_fact_states_them_all(facts):
    reply = "Here is what I found: " + ", and ".join(str(fact) for fact in facts) + "."
    assert check_facts(reply, facts, max_foreign=100).ok


@given(NUMBERS, st.integers(1, 10**6))
def test_another_number_is_not_the_fact(fact, offset):
    assert check_facts(f"It is {fact + offset}.", [fact], max_foreign=100).missing == (fact,)


@given(st.integers(1, 10**9))
def test_the_sign_is_read(fact):
    assert not check_facts(f"It is -{fact}.", [fact], max_foreign=100).ok
    assert check_facts(f"It is -{fact}.", [-fact], max_foreign=100).ok


def test_numbers_are_compared_by_value_in_the_ways_they_are_written():
    assert check_facts("Your total is $12.", [12.0]).ok
    assert check_facts("That is 1,234.50 euros.", [1234.5]).ok
    assert check_facts("About 18.33 per month.", [18.3333]).ok  # two decimals are enough
    assert not check_facts("About 18.3 per month.", [18.3333]).ok  # one is not
    assert not check_facts("About 18 per month.", [18.3333]).ok


def test_text_is_found_ignoring_case_and_runs_of_space():
    assert check_facts("Expect LIGHT   rain today.", ["Light Rain"]).ok
    assert not check_facts("Expect rain today.", ["Light Rain"]).ok
    assert check_facts("Your code is evt-48213.", ["EVT-48213"]).ok


def test_candidates_beside_the_fact_are_hedging_and_state_nothing():
    verdict = check_facts("It is ALM-19034, or ALM-52044, or ALM-11111, or ALM-22222.", ["ALM-19034"])
    assert verdict.hedged and verdict.missing == ("ALM-19034",) and not verdict.ok
    flood = " ".join(str(n) for n in range(200))
    assert check_facts(flood, [57]).hedged
    assert check_facts(flood, [57], max_foreign=500).ok


def test_numbers_from_the_request_and_results_may_be_repeated_freely():
    known = 'Convert 250 EUR to JPY {"amount": 250, "rate": 161.3, "converted_amount": 40325.0}'
    reply = "250 EUR is 40,325 JPY at a rate of 161.3 (as of 2026, roughly 1 to 161)."
    assert check_facts(reply, [40325.0], known).ok  # 2026 and the 1: two numbers of its own
    assert check_facts(reply + " Or maybe 40,000.", [40325.0], known).hedged


def test_look_alike_digits_are_not_numbers():
    assert not check_facts("It is \uff13\uff12.", [32]).ok
    assert numbers_in("\uff13\uff12 and \u0663") == []


def test_values_that_are_not_facts_are_skipped():
    assert check_facts("nothing", [True, None, {"a": 1}, "", float("nan")]).ok


def test_digit_runs_and_numbers_read_ids_dates_and_times():
    assert digit_runs("EVT-04821 at 15:30 on 2026-03-03") == ["4821", "15", "30", "2026", "3", "3"]
    assert numbers_in("2026-03-03 and -4 and 1,234.5") == [2026.0, 3.0, 3.0, -4.0, 1234.5]


@given(st.text(max_size=300), st.lists(st.one_of(NUMBERS, WORDS, st.booleans(), st.none()), max_size=4))
def test_never_raises_on_anything_a_model_writes(reply, facts):
    verdict = check_facts(reply, facts, max_foreign=20)
    assert set(verdict.missing) <= {fact for fact in facts if not isinstance(fact, bool) and fact is not None}


@given(st.integers(10**8, 10**18), st.integers(1, 1000))
def test_big_numbers_are_compared_exactly_never_as_close_enough(fact, offset):
    assert check_facts(f"It is {fact + offset}.", [fact]).missing == (fact,)
    assert check_facts(f"It is {fact}.", [fact]).ok
