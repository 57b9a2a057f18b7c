"""rlvr.verifiers.nltk_data: punkt_tab built offline splits as nltk documents; nltk's own tokenizers; clear errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import nltk
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.data import FileSystemPathPointer
from nltk.tokenize.punkt import PunktSentenceTokenizer, load_punkt_params

from rlvr.verifiers.nltk_data import DATA_DIR, PUNKT_FILES, build_punkt_tab, sentences, word_tokens

# Sentence splits nltk documents for its English Punkt model (nltk/tokenize/punkt.py and test/tokenize.doctest),
# and the IFEval case the regex stand-in got wrong.
DOCUMENTED_SPLITS = [
    (
        "Punkt knows that the periods in Mr. Smith and Johann S. Bach\ndo not mark sentence boundaries.  And "
        "sometimes sentences\ncan start with non-capitalized words.  i is a good variable\nname.",
        [
            "Punkt knows that the periods in Mr. Smith and Johann S. Bach\ndo not mark sentence boundaries.",
            "And sometimes sentences\ncan start with non-capitalized words.",
            "i is a good variable\nname.",
        ],
    ),
    ("Hello! How are you?", ["Hello!", "How are you?"]),
    ("I called Dr. Jones. I called Dr. Jones.", ["I called Dr. Jones.", "I called Dr. Jones."]),
    ("Buy milk, eggs, etc. The end.", ["Buy milk, eggs, etc.", "The end."]),
]
DOCUMENTED_WORDS = [
    (
        "On a $50,000 mortgage of 30 years at 8 percent, the monthly payment would be $366.88.",
        "On a $ 50,000 mortgage of 30 years at 8 percent , the monthly payment would be $ 366.88 .",
    ),
    ("I called Dr. Jones. I called Dr. Jones.", "I called Dr. Jones . I called Dr. Jones ."),
    ("There were 300,000, but that wasn't enough.", "There were 300,000 , but that was n't enough ."),
    ("N/A and TCP/IP and O'NEIL", "N/A and TCP/IP and O'NEIL"),
]


def _only_this_data(monkeypatch, folder):
    monkeypatch.setattr(nltk.data, "path", [str(folder)])  # nltk reads model files only under its data path


def test_built_punkt_tab_holds_nltks_english_tables(tmp_path, monkeypatch):
    _only_this_data(monkeypatch, tmp_path)
    folder = build_punkt_tab(tmp_path)
    assert folder == tmp_path / "tokenizers" / "punkt_tab" / "english"
    assert sorted(path.name for path in folder.iterdir()) == sorted(PUNKT_FILES)
    params = load_punkt_params(FileSystemPathPointer(str(folder)))
    sizes = (len(params.abbrev_types), len(params.collocations), len(params.sent_starters), len(params.ortho_context))
    assert sizes == (156, 37, 39, 20366)  # as in nltk's english.pickle


def test_nltk_splits_exactly_as_documented_with_the_built_model(tmp_path, monkeypatch):
    _only_this_data(monkeypatch, tmp_path)
    params = load_punkt_params(FileSystemPathPointer(str(build_punkt_tab(tmp_path))))
    tokenizer = PunktSentenceTokenizer(params)
    for text, expected in DOCUMENTED_SPLITS:
        assert tokenizer.tokenize(text) == expected
    monkeypatch.undo()
    for text, expected in DOCUMENTED_SPLITS:
        assert nltk.sent_tokenize(text) == expected == sentences(text)


def test_word_tokens_are_nltks_as_documented():
    for text, expected in DOCUMENTED_WORDS:
        assert word_tokens(text) == expected.split() == nltk.word_tokenize(text)


def test_building_twice_writes_the_same_bytes(tmp_path):
    first = {name: (build_punkt_tab(tmp_path) / name).read_bytes() for name in PUNKT_FILES}
    second = {name: (build_punkt_tab(tmp_path) / name).read_bytes() for name in PUNKT_FILES}
    installed = {name: (DATA_DIR / "tokenizers/punkt_tab/english" / name).read_bytes() for name in PUNKT_FILES}
    assert first == second == installed


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aAbZ .,!?'\"-/()$%0123\n")) | st.characters(), max_size=80))
def test_word_tokens_equal_nltk_word_tokenize_on_any_text(text):
    assert word_tokens(text) == nltk.word_tokenize(text)
    assert sentences(text) == nltk.sent_tokenize(text)


def test_a_missing_model_is_an_error_that_says_how_to_build_it(tmp_path):
    code = textwrap.dedent(
        f"""
        import nltk
        import rlvr.verifiers.nltk_data as data
        nltk.data.path[:] = []
        data.DATA_DIR = __import__("pathlib").Path({str(tmp_path)!r})
        try:
            data.sentences("One. Two.")
        except data.NltkDataMissing as error:
            print(type(error).__mro__[1].__name__, error)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("LookupError ")
    assert "python -m rlvr.verifiers.nltk_data" in out and "punkt_tab" in out


def test_the_command_builds_into_a_target_and_reports(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "rlvr.verifiers.nltk_data", "--target", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (tmp_path / "tokenizers/punkt_tab/english/abbrev_types.txt").is_file()
    assert "NLTK_DATA=" in out and "punkt: ok" in out
