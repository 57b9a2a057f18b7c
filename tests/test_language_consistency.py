"""LanguageConsistency: DeepSeek-R1's share of the chain of thought in the target language."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from rlvr.verifiers.language_consistency import (
    MIN_CHUNK_WORDS,
    LanguageConsistency,
    language_counts,
    language_share,
    normalize_language,
    think_content,
)
from rlvr.verifiers.properties import check_verifier
from rlvr.verifiers.score import Status
from rlvr.verifiers.strategies import completions, pathological_completions

pytest.importorskip("langdetect")

ENGLISH = (
    "First I need to add the two numbers together. Then I divide the total by two to get the mean. "
    "Let me double check the arithmetic before I write the final answer."
)
SPANISH = (
    "Primero necesito sumar los dos números. Luego divido el total entre dos para obtener la media. "
    "Voy a comprobar la aritmética antes de escribir la respuesta final."
)
CHINESE_10 = "我们需要先计算这个和"  # ten Han characters: ten words
ENGLISH_10 = "we need to first compute this sum and then check"  # ten Latin words


def cot(thought: str, answer: str = "42") -> str:
    return f"<think>{thought}</think>\n<answer>{answer}</answer>"


# --- hand-written cases --------------------------------------------------------


def test_pure_english_cot_scores_one():
    score = LanguageConsistency("en")(cot(ENGLISH), None)
    assert score.value == 1.0
    assert score.status is Status.OK
    assert score.details["words"] == score.details["target_words"] == 29  # the three "I"s are single letters, neutral


def test_half_chinese_half_english_is_one_half_for_either_target():
    text = f"{CHINESE_10}，{ENGLISH_10}."
    assert language_counts(text, "zh").total == 20  # ten Han characters + ten English words
    assert language_share(text, "zh") == 0.5
    assert language_share(text, "en") == 0.5
    score = LanguageConsistency("zh")(cot(text), None)
    assert score.value == 0.5
    assert score.status is Status.PARTIAL
    assert score.details["foreign"] == {"Latin": 10}


def test_r1_zero_style_mixing_is_penalised_by_the_count():
    # R1-Zero drifts into Chinese mid-thought; 首先 / 我们 / 计算 are 2 Han words each.
    text = (
        "Okay, so I need to find the sum of the first ten odd numbers. 首先, 我们 list them: 1, 3, 5, 7. "
        "Wait, maybe there is a formula. 计算 the sum as n squared, so the sum is 100."
    )
    counts = language_counts(text, "en")
    assert counts.foreign == {"Han": 6}
    assert counts.target == counts.total - 6
    assert language_share(text, "en") == pytest.approx(counts.target / counts.total)
    assert 0.75 < counts.share < 1.0  # type: ignore[operator]


def test_spanish_target():
    assert language_share(SPANISH, "es") == 1.0
    assert language_share(ENGLISH, "es") == 0.0
    mixed = f"{SPANISH}\n{ENGLISH}"
    counts = language_counts(mixed, "es")
    assert counts.foreign == {"en": 29}
    assert counts.share == pytest.approx(counts.target / (counts.target + 29))
    score = LanguageConsistency("es")(cot(ENGLISH), None)
    assert (score.value, score.status) == (0.0, Status.WRONG)


def test_math_heavy_cot_keeps_full_marks():
    english = (
        "Let $x = 3$ and $y_1 = 2x + 5 = 11$. Then \\frac{11}{2} = 5.5, and 5.5 * 4 = 22. "
        "Check: 22 / 4 = 5.5, gcd(22, 4) = 2, \\sqrt{16} = 4, sin(0) = 0. So f(x) = 22 when x = 3."
    )
    assert language_share(english, "en") == 1.0
    chinese = "设 $x = 3$, 则 $2x + 5 = 11$, 所以 \\frac{11}{2} = 5.5, 最后 sin(0) = 0."
    counts = language_counts(chinese, "zh")
    assert (counts.target, counts.total) == (6, 6)  # 设 则 所 以 最 后: the math is neutral


@pytest.mark.parametrize(
    "neutral",
    ["x", "θ", "x1", "2x", "a_n", "var_name", "numPoints", "LaTeX", "\\frac", "\\alpha", "<think>", "</answer>",
     "https://example.com/some/english/words", "log", "MAX", "cm", "3.14", "1,000", "−5", "½", "٣", "!?", "…"],
)  # fmt: skip
def test_neutral_tokens_are_not_words(neutral):
    assert language_counts(neutral, "zh").total == 0
    assert language_counts(f"我们 {neutral} 计算", "zh").share == 1.0


def test_words_by_script():
    assert language_counts("हिन्दी भाषा", "hi").total == 2  # vowel signs (marks) stay inside their word
    assert language_counts("don't stop", "en").total == 2
    assert language_share("Привет, как дела?", "ru") == 1.0
    assert language_share("Привет, как дела?", "uk") == 1.0  # Cyrillic languages are not told apart
    assert language_share("한국어 문장입니다", "ko") == 1.0
    assert language_share("これはテストです", "ja") == 1.0
    assert language_share("これはテスト", "zh") == 0.0  # kana are Japanese, not Chinese
    assert language_share("計算", "ja") == 1.0  # Han counts for Japanese too
    assert language_share("Γεια σου κόσμε", "el") == 1.0
    assert language_share("مرحبا بالعالم", "ar") == 1.0


def test_too_little_latin_text_is_not_judged_by_langdetect():
    # langdetect calls "OK" Portuguese; under MIN_CHUNK_WORDS Latin words the target gets the benefit of the doubt.
    assert language_share("OK. Yes.", "en") == 1.0
    assert language_counts("Luego sumamos", "es").share == 1.0
    assert len(ENGLISH_10.split()) == MIN_CHUNK_WORDS


def test_language_codes_are_normalised():
    assert normalize_language("en-US") == "en"
    assert normalize_language("zh_Hans") == "zh"
    assert normalize_language(" PT-br ") == "pt"
    assert normalize_language("nb") == "no"
    for bad in ["", "xx", "python", "english"]:
        with pytest.raises(ValueError):
            normalize_language(bad)
    with pytest.raises(ValueError):
        language_share("text", "klingon")
    with pytest.raises(ValueError):
        LanguageConsistency("xx")


# --- the verifier: think block, scope, task ------------------------------------------


def test_think_block_is_read_as_r1_format_reads_it():
    assert think_content("<think>a</think><answer>1</answer>") == "a"
    assert think_content("  prefilled</think><answer>1</answer>") == "prefilled"
    assert think_content("no tags") is None


def test_missing_think_block_is_a_format_error():
    score = LanguageConsistency()(ENGLISH, None)
    assert (score.value, score.status) == (0.0, Status.FORMAT_ERROR)
    assert score.details["reason"] == "no think block"


def test_only_the_think_block_is_scored():
    score = LanguageConsistency("en")(cot(ENGLISH, answer="答案是四十二"), None)
    assert score.value == 1.0


def test_whole_completion_scope():
    completion = f"{ENGLISH}\n答案"
    assert LanguageConsistency("en")(completion, None).status is Status.FORMAT_ERROR
    score = LanguageConsistency("en", scope="completion")(completion, None)
    assert score.value == pytest.approx(29 / 31)
    assert LanguageConsistency("en", scope="completion")(cot(ENGLISH), None).value == 1.0  # tags are neutral


class LanguageTask(BaseModel):
    question: str = "What is 6 * 7?"
    language: str | None = None


def test_language_comes_from_the_task_when_present():
    verifier = LanguageConsistency("en")
    assert verifier(cot(SPANISH), LanguageTask(language="es")).value == 1.0
    assert verifier(cot(SPANISH), {"language": "es-MX"}).value == 1.0
    assert verifier(cot(SPANISH), LanguageTask()).value == 0.0  # None: the default, English
    assert verifier(cot(SPANISH), None).value == 0.0
    assert LanguageConsistency("en", task_field=None)(cot(SPANISH), {"language": "es"}).value == 0.0
    assert LanguageConsistency("en", task_field="lang")(cot(SPANISH), {"lang": "es"}).value == 1.0


@pytest.mark.parametrize("language", ["python", "xx", 7, ["es"]])
def test_a_bad_task_language_is_a_data_error(language):
    score = LanguageConsistency()(cot(ENGLISH), {"language": language})
    assert score.value is None
    assert score.status is Status.DATA_ERROR


def test_non_text_completion_does_not_raise():
    score = LanguageConsistency()(None, None)  # type: ignore[arg-type]
    assert score.status is Status.FORMAT_ERROR


# --- gaming --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("thought", "reason"),
    [
        ("", "empty think block"),
        ("  \n\t", "empty think block"),
        ("1 + 2 = 3. 3 * 4 = 12. 12 - 5 = 7.", "no words"),
        ("!!! ??? ... --- ***", "no words"),
        ("x = 3, y = 4, z = x + y = 7", "no words"),
        ("$\\frac{1}{2} + \\sqrt{4}$", "no words"),
    ],
)
def test_a_cot_without_words_earns_nothing(thought, reason):
    assert language_share(thought, "en") is None
    score = LanguageConsistency()(cot(thought), None)
    assert (score.value, score.status) == (0.0, Status.FORMAT_ERROR)
    assert score.details["reason"] == reason


@pytest.mark.parametrize("padding", [1, 10, 1000])
def test_target_language_padding_never_buys_full_marks(padding):
    # A proportion rises with filler, as R1's reward does; it cannot reach 1.0 while a foreign word remains.
    thought = ENGLISH_10 + "。" + "的" * padding
    score = LanguageConsistency("zh")(cot(thought), None)
    assert score.value == pytest.approx(padding / (padding + 10))
    assert score.status is Status.PARTIAL


def test_english_padding_does_not_hide_a_spanish_target_violation():
    thought = SPANISH + "\n" + " ".join(["the"] * 50) + "."
    counts = language_counts(thought, "es")
    assert counts.foreign.get("en", 0) >= 50


def test_hiding_a_language_in_math_or_code_spans_does_not_work():
    assert language_share(f"我们 ${ENGLISH_10}$", "zh") == pytest.approx(2 / 12)
    assert language_share(f"我们 `{ENGLISH_10}`", "zh") == pytest.approx(2 / 12)


# --- properties ----------------------------------------------------------------

PIECES = (
    "hello", "world", "answer", "我们", "计算", "привет", "мир", "x1", "3.14", "$x$", "don't", "हिन्दी", "テスト",
    "한국어", "\\frac", "<think>", "</think>", "θ", "'", "’", "_", "Γεια", "مرحبا", ".", "\n", "。", "la", "respuesta",
)  # fmt: skip
TEXTS = st.one_of(
    completions(),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=40).map(" ".join),
)
LANGUAGES = st.sampled_from(["en", "es", "zh", "ja", "ko", "ru", "ar", "hi", "el", "th"])
SCRIPT_LANGUAGES = st.sampled_from(["zh", "ja", "ko", "ru", "uk", "ar", "hi", "el", "he", "th", "ka"])


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, language=LANGUAGES)
def test_share_is_none_or_in_range_and_deterministic(text, language):
    share = language_share(text, language)
    assert share is None or 0.0 <= share <= 1.0
    assert language_share(text, language) == share
    counts = language_counts(text, language)
    assert counts.total == counts.target + sum(counts.foreign.values())
    assert (share is None) == (counts.total == 0)


@settings(max_examples=150, deadline=None)
@given(first=TEXTS, second=TEXTS, language=SCRIPT_LANGUAGES)
def test_concatenation_adds_counts_for_script_decided_targets(first, second, language):
    a, b = language_counts(first, language), language_counts(second, language)
    joined = language_counts(first + "\n" + second, language)
    assert (joined.target, joined.total) == (a.target + b.target, a.total + b.total)
    shares = [s for s in (a.share, b.share) if s is not None]
    if shares:
        assert min(shares) - 1e-12 <= joined.share <= max(shares) + 1e-12  # type: ignore[operator]


@settings(max_examples=50, deadline=None)
@given(completion=completions(), language=LANGUAGES)
def test_verifier_never_raises_and_stays_in_range(completion, language):
    score = LanguageConsistency(language)(completion, None)
    assert score.status is not Status.VERIFIER_ERROR
    assert score.value is not None and 0.0 <= score.value <= 1.0


class ChineseTask(BaseModel):
    language: str = "zh"


REFERENCES = {"zh": "我们先算", "ja": "まず計算する", "ko": "먼저 계산", "ru": "Сначала считаем"}


def test_language_consistency_passes_the_property_kit():
    check_verifier(
        LanguageConsistency("en"),
        tasks=st.builds(ChineseTask, language=st.sampled_from(["zh", "ja", "ko", "ru"])),
        reference=lambda task: cot(REFERENCES[task.language]),
        wrong=lambda task: st.just(cot(f"我们先算 {ENGLISH}" if task.language != "zh" else ENGLISH)),
        max_examples=30,
    )


@pytest.mark.parametrize("language", ["en", "zh"])
def test_megabyte_inputs_finish_quickly(language):
    for completion in pathological_completions()[3:4] + pathological_completions()[-4:]:
        start = time.perf_counter()
        language_share(completion, language)
        assert time.perf_counter() - start < 5.0
