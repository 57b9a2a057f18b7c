"""rlvr.envs.data.decontaminate: the n-gram rule, the report, ``rlvr decontaminate``, the loader option."""

import argparse
import json
import pickle
import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr import envs
from rlvr.envs.data.decontaminate import (
    NgramIndex,
    add_decontaminate_arguments,
    decontaminate,
    ngrams,
    overlap,
    read_texts,
    run_decontaminate,
    tokenize,
)
from rlvr.envs.math.env import MathSource

# 30 tokens: 23 8-grams.
LONG = (
    "Natalia sold clips to 48 of her friends in April and she sold half as many clips in May "
    "how many clips did Natalia sell altogether in April and May"
)


def _change(text: str, positions: dict[int, str]) -> str:
    words = text.split()
    for position, word in positions.items():
        words[position] = word
    return " ".join(words)


# --- tokens, n-grams, overlap ------------------------------------------------------


def test_tokens_are_lower_cased_words_without_punctuation_or_accents():
    assert tokenize("It's $1,200!") == ("it", "s", "1", "200")
    assert tokenize("Café, CAFE & cafe_2") == ("cafe", "cafe", "cafe", "2")
    assert tokenize("Ｆｕｌｌ－ｗｉｄｔｈ １２") == ("full", "width", "12")
    assert tokenize(" ... ") == ()


def test_ngrams_slide_over_the_tokens_and_a_short_item_is_one_ngram():
    assert len(LONG.split()) == 30 and len(ngrams(LONG, 8)) == 23
    assert ngrams("a b c d", 2) == [("a", "b"), ("b", "c"), ("c", "d")]
    assert ngrams("What is 2 + 2?", 8) == [("what", "is", "2", "2")]
    assert ngrams("?!", 8) == []
    with pytest.raises(ValueError, match="n must be"):
        ngrams("a", 0)


def test_an_exact_copy_is_dropped_and_an_unrelated_item_kept():
    report = decontaminate([LONG, "A train leaves the station at noon at 60 miles per hour."], [LONG])
    assert report.kept == (1,) and report.dropped_indices == (0,)
    (item,) = report.dropped
    assert item.overlap == 1.0 and (item.matched, item.total) == (23, 23)
    assert item.eval_index == 0 and item.eval_text == LONG


def test_a_paraphrase_is_dropped_or_kept_by_the_share_of_its_ngrams_that_survive():
    index = NgramIndex.from_texts([LONG], 8)
    assert overlap(_change(LONG, {29: "June"}), index) == pytest.approx(22 / 23)  # last word: one 8-gram lost
    assert overlap(_change(LONG, {15: "twice"}), index) == pytest.approx(15 / 23)  # a middle word: 8 lost
    assert overlap(_change(LONG, {8: "Sunday", 20: "sold"}), index) == pytest.approx(7 / 23)  # 16 lost
    texts = [_change(LONG, {29: "June"}), _change(LONG, {15: "twice"}), _change(LONG, {8: "Sunday", 20: "sold"})]
    report = decontaminate(texts, index)
    assert report.dropped_indices == (0, 1) and report.kept == (2,)
    assert decontaminate(texts, index, threshold=0.7).dropped_indices == (0,)  # 15/23 = 0.65 stays


def test_a_short_item_matches_where_all_its_words_occur_in_a_row():
    index = NgramIndex.from_texts(["Q: what is 2+2? Explain your reasoning.", "what is 3 plus 2"], 8)
    assert overlap("What is 2 + 2?", index) == 1.0
    assert overlap("what is 2 plus 2", index) == 0.0  # not consecutive anywhere
    assert overlap("", index) == 0.0
    report = decontaminate(["What is 2 + 2?", "what is 2 plus 2"], index)
    assert report.dropped_indices == (0,) and report.dropped[0].eval_label == "0"
    assert ("what", "is", "2", "2") in index and ("what", "is") in index and "what" not in index


def test_an_empty_eval_set_keeps_everything():
    report = decontaminate([LONG, "short", ""], [])
    assert report.kept == (0, 1, 2) and report.dropped == () and report.eval_count == 0


def test_matching_ignores_case_punctuation_and_accents():
    eval_text = "Le café coûte 1 200 euros; combien coûtent 3 cafés pour Zoë et ses amis?"
    train_text = "LE CAFE COUTE 1,200 EUROS -- combien COUTENT 3 cafes pour zoe et ses amis !!!"
    assert overlap(train_text, NgramIndex.from_texts([eval_text])) == 1.0


def test_the_dropped_item_names_the_eval_item_it_shares_most_with():
    index = NgramIndex.from_texts(["unrelated words only here", _change(LONG, {15: "twice"}), LONG], 8, "abc")
    report = decontaminate([LONG], index)
    assert report.dropped[0].eval_index == 2 and report.dropped[0].eval_label == "c"
    assert index.holders(tuple(LONG.lower().split()[:8])) == (1, 2)


def test_records_and_tasks_are_read_by_their_question_or_by_text():
    rows = [{"question": LONG, "answer": "#### 72"}, {"question": "other", "answer": "#### 1"}]
    assert decontaminate(rows, [LONG]).dropped_indices == (0,)
    assert decontaminate(rows, [LONG], text=lambda row: row["answer"]).dropped == ()
    assert decontaminate([envs.Task(question=LONG)], [LONG]).dropped_indices == (0,)
    with pytest.raises(KeyError, match="no 'question' field"):
        decontaminate([{"problem": LONG}], [LONG])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="threshold"):
        decontaminate([LONG], [LONG], threshold=1.5)
    with pytest.raises(ValueError, match="8-grams, but n=5"):
        decontaminate([LONG], NgramIndex.from_texts([LONG], 8), n=5)


def test_the_report_as_json_and_markdown(tmp_path):
    report = decontaminate([LONG, "kept | item"], [LONG + " | piped"], eval_sources=["gsm8k_test.jsonl"])
    data = json.loads(report.to_json())
    assert data["kept"] == [1] and data["dropped_count"] == 1 and data["dropped"][0]["overlap"] == 1.0
    assert data["eval_sources"] == ["gsm8k_test.jsonl"]
    text = report.to_markdown()
    assert "| dropped | 1 |" in text and "more than 50% of its 8-grams" in text
    assert "| a \\| b c | a \\| b c |" in decontaminate(["a | b c"], ["a | b c"]).to_markdown()
    assert "gsm8k_test.jsonl" in text and "| 0 | 1.00 | 23/23 |" in text
    assert "| Natalia sold clips to 48 of her friends… |" in report.to_markdown(width=40)
    report.write(tmp_path / "r.json")
    report.write(tmp_path / "r.md")
    assert json.loads((tmp_path / "r.json").read_text()) == data
    assert (tmp_path / "r.md").read_text(encoding="utf-8") == text
    assert report.summary().startswith("kept 1 of 2 training items; dropped 1 (50.0%)")


# --- properties ---------------------------------------------------------------------

WORDS = ["apples", "the", "of", "cost", "3", "12", "Tom", "and", "buys", "how", "many", "?", ",", "Café"]
texts = st.lists(st.sampled_from(WORDS), max_size=30).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(train=st.one_of(texts, st.text(max_size=60)), evals=st.lists(texts, max_size=4), n=st.integers(1, 9))
def test_overlap_is_a_share(train, evals, n):
    assert 0.0 <= overlap(train, NgramIndex.from_texts(evals, n)) <= 1.0


@settings(max_examples=60, deadline=None)
@given(text=st.one_of(texts, st.text(min_size=1, max_size=60)), others=st.lists(texts, max_size=3), n=st.integers(1, 9))
def test_an_item_overlaps_itself_fully(text, others, n):
    expected = 1.0 if tokenize(text) else 0.0
    assert overlap(text, NgramIndex.from_texts([*others, text], n)) == expected


@settings(max_examples=60, deadline=None)
@given(
    train=texts, evals=st.lists(texts, max_size=4), more=st.lists(texts, min_size=1, max_size=3), n=st.integers(1, 9)
)
def test_more_eval_texts_never_lower_the_overlap(train, evals, more, n):
    assert overlap(train, NgramIndex.from_texts([*evals, *more], n)) >= overlap(train, NgramIndex.from_texts(evals, n))


@settings(max_examples=60, deadline=None)
@given(
    train=st.lists(texts, max_size=12),
    evals=st.lists(texts, max_size=4),
    threshold=st.floats(0, 1),
    n=st.integers(1, 9),
)
def test_kept_and_dropped_partition_the_training_items(train, evals, threshold, n):
    report = decontaminate(train, evals, threshold, n)
    assert sorted(report.kept + report.dropped_indices) == list(range(len(train)))
    assert report.train_count == len(train)
    assert all(item.overlap > threshold for item in report.dropped)
    index = NgramIndex.from_texts(evals, n)
    assert all(overlap(train[i], index) <= threshold for i in report.kept)


# --- rlvr decontaminate ----------------------------------------------------------------

GSM8K_TEST = [
    {"question": LONG, "answer": "Natalia sold 48/2 = 24 clips in May.\n#### 72"},
    {
        "question": "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. "
        "How much did she earn?",
        "answer": "#### 10",
    },
]
GSM8K_TRAIN = [
    {
        "question": "A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts?",
        "answer": "#### 3",
    },
    {"question": LONG.upper() + "!!", "answer": "#### 72"},  # a copy, shouted
    {"question": "Betty needs $100 for a wallet and has only half of the money she needs.", "answer": "#### 5"},
    {
        "question": "weng earns 12 dollars an hour for babysitting yesterday she just did 50 minutes of babysitting "
        "how much did she earn",
        "answer": "#### 10",
    },
    {"question": "James writes a 3-page letter to 2 different friends twice a week.", "answer": "#### 624"},
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


@pytest.fixture
def files(tmp_path):
    return {
        "train": _jsonl(tmp_path / "train.jsonl", GSM8K_TRAIN),
        "test": _jsonl(tmp_path / "test.jsonl", GSM8K_TEST),
        "dir": tmp_path,
    }


def _cli(*argv):
    parser = argparse.ArgumentParser(prog="rlvr decontaminate")
    add_decontaminate_arguments(parser)
    return run_decontaminate(parser.parse_args(["--quiet", *argv]))


def test_the_cli_writes_the_kept_records_and_the_reports(files, capsys):
    out, report = files["dir"] / "kept.jsonl", files["dir"] / "report.md"
    rc = _cli("--train", files["train"], "--eval", files["test"], "--out", str(out), "--report", str(report))
    assert rc == 0
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert kept == [GSM8K_TRAIN[0], GSM8K_TRAIN[2], GSM8K_TRAIN[4]]
    text = report.read_text()
    assert "| dropped | 2 |" in text and f"{files['test']}#0" in text and f"{files['test']}#1" in text
    assert "kept 3 of 5 training items; dropped 2" in capsys.readouterr().out
    rc = _cli("--train", files["train"], "--eval", files["test"], "--report", str(files["dir"] / "r.json"))
    data = json.loads((files["dir"] / "r.json").read_text())
    assert rc == 0 and data["kept"] == [0, 2, 4] and [d["index"] for d in data["dropped"]] == [1, 3]
    assert [d["eval_index"] for d in data["dropped"]] == [0, 1]


def test_the_cli_takes_several_eval_sets_other_fields_and_parquet(files):
    import datasets

    math_eval = files["dir"] / "math.parquet"
    datasets.Dataset.from_list([{"problem": GSM8K_TRAIN[4]["question"], "solution": "\\boxed{624}"}]).to_parquet(
        str(math_eval)
    )
    out = files["dir"] / "kept.parquet"
    rc = _cli("--train", files["train"], "--eval", files["test"], "--eval", str(math_eval), "--out", str(out))
    assert rc == 0
    assert [row["answer"] for row in datasets.Dataset.from_parquet(str(out))] == ["#### 3", "#### 5"]
    # the answers as the text: none overlaps the eval questions
    out_json = files["dir"] / "kept.json"
    rc = _cli(
        "--train",
        files["train"],
        "--eval",
        files["test"],
        "--field",
        "answer",
        "--eval-field",
        "question",
        "--out",
        str(out_json),
    )
    assert rc == 0 and len(json.loads(out_json.read_text())) == 5


def test_the_cli_names_a_bad_argument(files, capsys):
    assert _cli("--train", str(files["dir"] / "nope.jsonl"), "--eval", files["test"]) == 2
    assert "--train: no such file" in capsys.readouterr().err
    assert _cli("--train", files["train"], "--eval", str(files["dir"] / "gone.jsonl")) == 2
    assert "--eval: no such file" in capsys.readouterr().err
    assert _cli("--train", files["train"], "--eval", files["test"], "--field", "prompt") == 2
    assert "--field: the records of" in (err := capsys.readouterr().err) and "['answer', 'question']" in err
    assert _cli("--train", files["train"], "--eval", files["test"], "--eval-field", "problem") == 2
    assert "--eval-field" in capsys.readouterr().err
    assert _cli("--train", files["train"], "--eval", files["test"], "--threshold", "2") == 2
    assert "--threshold" in capsys.readouterr().err
    assert _cli("--train", files["train"], "--eval", files["test"], "--out", str(files["dir"] / "x" / "k.jsonl")) == 2
    assert "--out: no such directory" in capsys.readouterr().err
    (files["dir"] / "rows.csv").write_text("question\nhi\n")
    assert _cli("--train", str(files["dir"] / "rows.csv"), "--eval", files["test"]) == 2
    assert "--train: " in capsys.readouterr().err
    assert _cli("--train", "rlvr/Maths-v0", "--eval", files["test"]) == 2
    assert "unknown env id 'rlvr/Maths-v0'. Did you mean 'rlvr/Math-v0'?" in capsys.readouterr().err
    assert read_texts(files["test"])[1] == "question"


def test_the_cli_takes_an_env_id_as_the_training_side(files):
    env = envs.make("rlvr/Math-v0")
    _, info = env.reset(seed=3)
    eval_file = _jsonl(files["dir"] / "leak.jsonl", [{"question": info["task"].question}])
    out, report = files["dir"] / "kept.jsonl", files["dir"] / "report.json"
    args = [
        "--train",
        "rlvr/Math-v0",
        "--num-tasks",
        "12",
        "--eval",
        eval_file,
        "--out",
        str(out),
        "--report",
        str(report),
    ]
    assert _cli(*args) == 0
    data = json.loads(report.read_text())
    assert data["train_count"] == 12 and 3 in [d["index"] for d in data["dropped"]]
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(kept) == len(data["kept"]) and all(row["seed"] != 3 for row in kept) and "question" in kept[0]


# --- the data-set loaders ---------------------------------------------------------------


def test_a_family_leaves_out_the_contaminated_records_of_its_dataset(files):
    rows = [*GSM8K_TRAIN[:2], {"question": "no answer here", "answer": "none"}, *GSM8K_TRAIN[2:]]
    train = _jsonl(files["dir"] / "train_skip.jsonl", rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        source = MathSource(dataset=train, decontaminate_against=[files["test"]])
    messages = [str(warning.message) for warning in caught]
    assert any("left out 1 of 6 records with no final answer" in message for message in messages)
    assert any(
        re.search(r"left out 2 of 5 records that overlap the evaluation sets \(more than 50% .*\); rows 1, 4$", m)
        for m in messages
    )
    assert source.size == 3 and source.skipped == (1, 2, 4)
    assert [source.get(i).answer for i in range(3)] == ["3", "5", "624"]
    assert source.decontamination is not None and source.decontamination.dropped_indices == (1, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        loose = MathSource(dataset=files["train"], decontaminate_against=[files["test"]], decontaminate_threshold=1.0)
    assert loose.size == 5 and loose.decontamination is not None and loose.decontamination.dropped == ()


def test_every_family_takes_the_option_through_make(files):
    with pytest.warns(UserWarning, match="left out 2 of 5"):
        env = envs.make("rlvr/Math-v0", dataset=files["train"], decontaminate_against=[files["test"]])
    assert env.unwrapped.source.size == 3
    assert "decontaminate_against" in envs.entry("rlvr/Code-v0").task_options
    assert "decontaminate_threshold" in envs.entry("rlvr/InstructionFollowing-v0").task_options
    with pytest.raises(envs.ConfigError, match="apply to a dataset"):
        envs.make("rlvr/Math-v0", decontaminate_against=[files["test"]])
    with pytest.raises(envs.ConfigError, match="decontaminate_threshold"):
        envs.make(
            "rlvr/Math-v0", dataset=files["train"], decontaminate_against=[files["test"]], decontaminate_threshold=2
        )
    with pytest.raises(FileNotFoundError, match="decontaminate_against: no such file"):
        envs.make("rlvr/Math-v0", dataset=files["train"], decontaminate_against=[str(files["dir"] / "gone.jsonl")])
    config = MathSource.config_model(dataset=files["train"], decontaminate_against=[files["test"]])
    assert pickle.loads(pickle.dumps(config)) == config


def test_a_dataset_entirely_in_the_eval_set_is_an_error(files):
    with pytest.raises(ValueError, match="all 2 usable records overlap"):
        MathSource(dataset=files["test"], decontaminate_against=[files["test"]])
