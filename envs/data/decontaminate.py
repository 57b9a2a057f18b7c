"""Decontamination, Tulu 3 style: drop training items whose n-grams occur in the evaluation sets.

The rule (Tulu 3, Lambert et al. 2024, "Decontamination": 8-gram matching;
a training item is contaminated when more than 50% of it overlaps the
evaluation sets), made exact here:

* **tokens**: the text is Unicode-normalised (NFKD, accents and other
  combining marks dropped, so ``café`` is ``cafe`` and full-width ``１２`` is
  ``12``), case-folded, and split into runs of letters and digits; every
  other character (punctuation, ``_``, spaces, symbols such as ``$`` or
  ``+``) only separates tokens. ``"It's $1,200!"`` -> ``it s 1 200``.
* **n-grams**: the ``L - n + 1`` runs of ``n`` consecutive tokens of an
  ``L``-token item, counted by position (a repeated 8-gram counts each time).
  An item with ``0 < L < n`` tokens is one n-gram: the whole item, which
  matches where its ``L`` tokens occur consecutively in some eval item. An
  item with no token has no n-gram and overlap 0.
* **overlap** of a training item = (its n-grams that occur anywhere in the
  evaluation set, in any eval item) / (its n-grams): a number in [0, 1].
* a training item is **dropped** when ``overlap > threshold`` (0.5 by
  default: more than 50%), else kept. The report names, for each dropped
  item, the eval item that shares the most of its n-grams.

The eval side is indexed once (``NgramIndex``: hashed n-grams -> the eval
items holding them), so checking the training data costs one hash lookup per
training n-gram: linear in the size of the training data.

What is not done: no tokenizer of a model (words, as above), no fuzzy or
embedding match, and no removal of the matching span only (an item is kept
or dropped whole). Scripts without spaces (Chinese, Japanese) are one token
per run of characters.

Used three ways: the functions here; ``rlvr decontaminate`` (``add_decontaminate_arguments``,
``run_decontaminate``); and the ``decontaminate_against`` option of every data-set
loader built on ``rlvr.envs.core.task.GeneratedOrDataset``::

    env = envs.make("rlvr/Math-v0", dataset="gsm8k_train.jsonl", decontaminate_against=["gsm8k_test.jsonl"])
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from rlvr.envs.cli.arguments import add_env_options_argument, add_import_argument, env_options
from rlvr.envs.core.plugins import import_modules
from rlvr.envs.core.task import read_dataset

__all__ = [
    "DEFAULT_N",
    "DEFAULT_THRESHOLD",
    "TEXT_FIELDS",
    "Contamination",
    "DecontaminationReport",
    "NgramIndex",
    "add_decontaminate_arguments",
    "decontaminate",
    "load_eval_index",
    "ngrams",
    "overlap",
    "read_records",
    "read_texts",
    "run_decontaminate",
    "tokenize",
]

DEFAULT_N = 8
"""N-gram length in tokens: 8, as in Tulu 3's decontamination."""

DEFAULT_THRESHOLD = 0.5
"""A training item is dropped when more than this share of its n-grams occurs in the eval set (Tulu 3: 50%)."""

TEXT_FIELDS = ("question", "problem", "prompt", "instruction", "text", "input")
"""Fields tried, in order, for the text of an eval record when no field is named."""

_LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet")
_ENV_ID = re.compile(r"[\w.-]+/[\w.-]+-v\d+")  # namespace/Name-vN, as envs.register ids are written
_WORD = re.compile(r"[^\W_]+")  # a run of letters and digits (str.isalnum)
_EVAL_SPLIT = "test"

Item = TypeVar("Item")
Gram = tuple[str, ...]


# --- tokens and n-grams ---------------------------------------------------------------


def tokenize(text: str) -> tuple[str, ...]:
    """The tokens of ``text``: case-folded runs of letters and digits, accents dropped.

    Args:
        text: any string.

    Returns:
        The tokens in order; ``()`` for a text with no letter or digit.
        ``"Café, CAFE & cafe_2"`` -> ``("cafe", "cafe", "cafe", "2")``.
    """
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return tuple(_WORD.findall(text.casefold()))


def _grams(tokens: Sequence[str], n: int) -> list[Gram]:
    if not tokens:
        return []
    if len(tokens) < n:
        return [tuple(tokens)]
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def ngrams(text: str, n: int = DEFAULT_N) -> list[Gram]:
    """The n-grams of ``text``'s tokens (``tokenize``), in order, repeats kept.

    Args:
        text: any string.
        n: n-gram length in tokens (>= 1).

    Returns:
        ``L - n + 1`` tuples of ``n`` tokens for an ``L``-token text with
        ``L >= n``; one tuple, the whole text, when ``0 < L < n``; ``[]``
        for a text with no token.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return _grams(tokenize(text), n)


# --- the eval index -----------------------------------------------------------------------


class NgramIndex:
    """The n-grams of an evaluation set, hashed, with the eval items that hold each.

    Lookups cost one hash each. N-grams are stored as Python ``hash`` values
    of the token tuples (64-bit; a collision is vanishingly unlikely), so an
    index lives in one process and is not saved. Shorter runs of tokens, for
    training items of fewer than ``n`` tokens, are indexed the first time an
    item of that length is looked up.

    Attributes:
        n: n-gram length in tokens.
        texts: the eval items' texts, in order (eval item ``i`` is ``texts[i]``).
        labels: a name per eval item for reports, e.g. ``"gsm8k_test.jsonl#17"``.
    """

    def __init__(self, n: int, texts: Sequence[str], labels: Sequence[str] | None = None) -> None:
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        if labels is not None and len(labels) != len(texts):
            raise ValueError(f"{len(labels)} labels for {len(texts)} eval texts")
        self.n = n
        self.texts = tuple(texts)
        self.labels = tuple(labels) if labels is not None else tuple(str(i) for i in range(len(self.texts)))
        self._tokens = tuple(tokenize(text) for text in self.texts)
        self._first: dict[int, int] = {}  # gram hash -> first eval item holding it
        self._more: dict[int, list[int]] = {}  # gram hash -> the further eval items holding it
        self._lengths: set[int] = set()
        self._add_length(n)

    @classmethod
    def from_texts(cls, texts: Iterable[str], n: int = DEFAULT_N, labels: Sequence[str] | None = None) -> NgramIndex:
        """Index the ``n``-grams of ``texts`` (one string per eval item); ``labels`` name the items in reports."""
        return cls(n, list(texts), labels)

    def _add_length(self, length: int) -> None:
        first, more = self._first, self._more
        for item, tokens in enumerate(self._tokens):
            for start in range(len(tokens) - length + 1):
                key = hash(tokens[start : start + length])
                holder = first.setdefault(key, item)
                if holder != item:
                    others = more.setdefault(key, [])
                    if not others or others[-1] != item:
                        others.append(item)
        self._lengths.add(length)

    def _keys(self, grams: Sequence[Gram]) -> list[int]:
        for length in {len(gram) for gram in grams} - self._lengths:
            self._add_length(length)
        return [hash(gram) for gram in grams]

    def __len__(self) -> int:
        """Number of eval items."""
        return len(self.texts)

    def __contains__(self, gram: object) -> bool:
        """Whether the token tuple ``gram`` occurs, consecutively, in some eval item."""
        if not isinstance(gram, tuple) or not gram:
            return False
        return self._keys([gram])[0] in self._first

    def holders(self, gram: Gram) -> tuple[int, ...]:
        """The eval items (indices into ``texts``) in which ``gram`` occurs, in order; ``()`` if none."""
        key = self._keys([gram])[0]
        if key not in self._first:
            return ()
        return (self._first[key], *self._more.get(key, ()))

    def match(self, text: str) -> tuple[int, int, int | None]:
        """How much of ``text`` occurs in the eval set.

        Returns:
            ``(matched, total, best)``: the number of ``text``'s n-grams
            (``ngrams(text, self.n)``) that occur in some eval item, the
            number of its n-grams, and the eval item holding the most of
            them (lowest index on a tie; None when none matched).
        """
        grams = ngrams(text, self.n)
        keys = [key for key in self._keys(grams) if key in self._first]
        if not keys:
            return 0, len(grams), None
        votes: Counter[int] = Counter()
        for key in keys:
            votes[self._first[key]] += 1
            votes.update(self._more.get(key, ()))
        best = min(votes, key=lambda item: (-votes[item], item))
        return len(keys), len(grams), best


def overlap(train_text: str, index: NgramIndex) -> float:
    """The share of ``train_text``'s n-grams that occur anywhere in the eval set of ``index``.

    Args:
        train_text: one training item's text.
        index: the eval set's ``NgramIndex`` (its ``n`` is the n-gram length).

    Returns:
        A fraction in [0, 1]: matched n-grams / n-grams, counted by position;
        0.0 for a text with no token. An item of fewer than ``n`` tokens is
        one n-gram, so its overlap is 0 or 1.
    """
    matched, total, _ = index.match(train_text)
    return matched / total if total else 0.0


# --- decontaminating a training set --------------------------------------------------------


@dataclass(frozen=True)
class Contamination:
    """One dropped training item.

    Attributes:
        index: the item's position in the training items (0-based).
        overlap: the share of its n-grams found in the eval set, in (threshold, 1].
        matched: how many of its n-grams were found.
        total: how many n-grams it has.
        eval_index: the eval item sharing the most of its n-grams (index into the eval texts).
        eval_label: that eval item's label (``"file#row"``).
        text: the training item's text.
        eval_text: the eval item's text.
    """

    index: int
    overlap: float
    matched: int
    total: int
    eval_index: int
    eval_label: str
    text: str
    eval_text: str


@dataclass(frozen=True)
class DecontaminationReport:
    """What ``decontaminate`` kept and dropped.

    Attributes:
        n: n-gram length in tokens.
        threshold: items with overlap above it were dropped.
        train_count: number of training items looked at.
        eval_count: number of eval items indexed.
        kept: positions of the kept training items, ascending.
        dropped: the dropped training items, by ascending position.
        eval_sources: the eval files or hub ids, when known (for the report).
    """

    n: int
    threshold: float
    train_count: int
    eval_count: int
    kept: tuple[int, ...]
    dropped: tuple[Contamination, ...]
    eval_sources: tuple[str, ...] = ()

    @property
    def dropped_indices(self) -> tuple[int, ...]:
        """Positions of the dropped training items, ascending."""
        return tuple(item.index for item in self.dropped)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (``kept``/``dropped_count``/``dropped`` list ...), for JSON."""
        return {
            "n": self.n,
            "threshold": self.threshold,
            "train_count": self.train_count,
            "eval_count": self.eval_count,
            "eval_sources": list(self.eval_sources),
            "kept_count": len(self.kept),
            "dropped_count": len(self.dropped),
            "kept": list(self.kept),
            "dropped": [asdict(item) for item in self.dropped],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """``to_dict`` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def summary(self) -> str:
        """One line: how many were kept and dropped, under which rule."""
        share = len(self.dropped) / self.train_count if self.train_count else 0.0
        return (
            f"kept {len(self.kept)} of {self.train_count} training items; dropped {len(self.dropped)} ({share:.1%}) "
            f"with more than {self.threshold:.0%} of their {self.n}-grams in {self.eval_count} eval items"
        )

    def to_markdown(self, max_rows: int = 100, width: int = 100) -> str:
        """A markdown report: the rule, the counts, and a table of the dropped items.

        Args:
            max_rows: most dropped items listed (the JSON report has them all).
            width: texts are cut to this many characters in the table.
        """
        lines = [
            "# Decontamination report",
            "",
            f"Rule: a training item is dropped when more than {self.threshold:.0%} of its {self.n}-grams "
            "(lower-cased words, punctuation ignored; an item shorter than n is one n-gram) occur in the eval set.",
            "",
            "| | count |",
            "|---|---:|",
            f"| training items | {self.train_count} |",
            f"| eval items | {self.eval_count} |",
            f"| kept | {len(self.kept)} |",
            f"| dropped | {len(self.dropped)} |",
            "",
        ]
        if self.eval_sources:
            lines += ["Eval sets: " + ", ".join(f"`{source}`" for source in self.eval_sources), ""]
        if self.dropped:
            lines += [
                "## Dropped",
                "",
                "| train item | overlap | n-grams matched | eval item | train text | eval text |",
                "|---:|---:|---:|---|---|---|",
            ]
            for item in self.dropped[:max_rows]:
                lines.append(
                    f"| {item.index} | {item.overlap:.2f} | {item.matched}/{item.total} "
                    f"| {_cell(item.eval_label, width)} | {_cell(item.text, width)} | {_cell(item.eval_text, width)} |"
                )
            if len(self.dropped) > max_rows:
                lines += ["", f"... and {len(self.dropped) - max_rows} more (the JSON report lists all)."]
            lines.append("")
        return "\n".join(lines)

    def write(self, path: str | Path) -> None:
        """Write the report to ``path``: JSON for a ``.json`` file, markdown otherwise."""
        path = Path(path)
        path.write_text(self.to_json() + "\n" if path.suffix == ".json" else self.to_markdown(), encoding="utf-8")


def _cell(text: str, width: int) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def _default_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        if "question" not in item:
            raise KeyError(f"a training record has no 'question' field (it has {sorted(item)}); pass text=")
        return _as_text(item["question"])
    question = getattr(item, "question", None)
    if isinstance(question, str):
        return question
    raise TypeError(f"cannot read the text of a {type(item).__name__}; pass text= (item -> str)")


def decontaminate(
    train_items: Iterable[Item],
    eval_texts: Iterable[str] | NgramIndex,
    threshold: float = DEFAULT_THRESHOLD,
    n: int = DEFAULT_N,
    text: Callable[[Item], str] | None = None,
    *,
    progress: bool = False,
    eval_sources: Sequence[str] = (),
) -> DecontaminationReport:
    """Split training items into kept and dropped by their n-gram overlap with the eval set.

    Args:
        train_items: the training items (strings, records, tasks ...), in order.
        eval_texts: the eval items' texts, or an ``NgramIndex`` of them (its
            ``n`` must equal ``n``).
        threshold: an item is dropped when its ``overlap`` is above this
            (a fraction in [0, 1]; 0.5 drops items with more than half of
            their n-grams in the eval set).
        n: n-gram length in tokens.
        text: item -> its text. Default: a string is its own text, a mapping
            its ``question`` field, any other object its ``question`` attribute.
        progress: show a tqdm progress bar (when tqdm is installed and stderr is a terminal).
        eval_sources: the names of the eval sets, copied into the report.

    Returns:
        A ``DecontaminationReport``; ``kept`` and ``dropped`` partition
        ``range(len(train_items))``. An empty eval set keeps everything.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    if isinstance(eval_texts, NgramIndex):
        index = eval_texts
        if index.n != n:
            raise ValueError(f"the index holds {index.n}-grams, but n={n}")
    else:
        index = NgramIndex.from_texts(eval_texts, n)
    read = text or _default_text
    kept: list[int] = []
    dropped: list[Contamination] = []
    for position, item in enumerate(_progress(train_items, progress, "decontaminating")):
        item_text = read(item)
        matched, total, best = index.match(item_text)
        share = matched / total if total else 0.0
        if share > threshold and best is not None:
            dropped.append(
                Contamination(
                    index=position,
                    overlap=share,
                    matched=matched,
                    total=total,
                    eval_index=best,
                    eval_label=index.labels[best],
                    text=item_text,
                    eval_text=index.texts[best],
                )
            )
        else:
            kept.append(position)
    return DecontaminationReport(
        n=n,
        threshold=threshold,
        train_count=len(kept) + len(dropped),
        eval_count=len(index),
        kept=tuple(kept),
        dropped=tuple(dropped),
        eval_sources=tuple(eval_sources),
    )


def _progress(items: Iterable[Item], enabled: bool, what: str) -> Iterable[Item]:
    if not enabled:
        return items
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return items
    total = len(items) if isinstance(items, Sequence) else None
    return tqdm(items, total=total, desc=what, unit="item", delay=1.0, disable=None, file=sys.stderr)


# --- reading records -----------------------------------------------------------------------


def read_records(spec: str, *, split: str = _EVAL_SPLIT, argument: str = "--eval") -> Any:
    """The records of a local file or hub data set, through ``rlvr.envs.core.task.read_dataset``.

    Args:
        spec: a local ``.jsonl``/``.json``/``.parquet`` file, or a hub id
            written ``ID[:SUBSET][@SPLIT]`` (``openai/gsm8k:main@test``).
        split: the split of a hub id that names none (a local file is read whole).
        argument: the option or field that named ``spec``, for error messages.

    Returns:
        A ``datasets.Dataset``.

    Raises:
        FileNotFoundError: ``spec`` looks like a file (a path, or one of the
            suffixes above) and there is none.
        ValueError: an existing file of another kind.
        ImportError: ``datasets`` is not installed.
    """
    path = Path(spec)
    if path.is_file():
        if path.suffix not in _LOCAL_SUFFIXES:
            raise ValueError(
                f"{argument}: {spec!r} is a {path.suffix or 'suffix-less'} file; give .jsonl, .json or .parquet"
            )
        return read_dataset(path, split, what="decontamination data sets")
    if path.suffix in _LOCAL_SUFFIXES or path.exists() or spec.startswith((".", "/", "~")):
        raise FileNotFoundError(f"{argument}: no such file {spec!r}")
    source, _, hub_split = spec.partition("@")
    name, _, subset = source.partition(":")
    return read_dataset(name, hub_split or split, subset or None, what="decontamination data sets")


def _pick_field(columns: Sequence[str], field: str | None, spec: str, argument: str) -> str:
    if field is not None:
        if field not in columns:
            raise ValueError(
                f"{argument}: the records of {spec!r} have no field {field!r}; their fields: {sorted(columns)}"
            )
        return field
    for name in TEXT_FIELDS:
        if name in columns:
            return name
    raise ValueError(
        f"{argument}: no text field in the records of {spec!r} (tried {list(TEXT_FIELDS)}); "
        f"name one of their fields: {sorted(columns)}"
    )


def _as_text(value: Any) -> str:
    """A record's field as text: strings as they are, chat messages joined by their content."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return _as_text(value["content"]) if "content" in value else json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, (list, tuple)):
        return "\n".join(_as_text(part) for part in value)
    return str(value)


def read_texts(spec: str, field: str | None = None, *, argument: str = "--eval") -> tuple[list[str], str]:
    """The texts of one eval set: field ``field`` of every record of ``spec`` (``read_records``).

    Args:
        spec: a local file or ``ID[:SUBSET][@SPLIT]`` hub id (split ``test`` by default).
        field: the text field; None: the first of ``TEXT_FIELDS`` the records have.
        argument: the option that named ``spec``, for error messages.

    Returns:
        The texts, one per record in order, and the field read.

    Raises:
        ValueError: ``field`` is not a field of the records, or none of ``TEXT_FIELDS`` is
            (the message lists the fields).
    """
    rows = read_records(spec, argument=argument)
    name = _pick_field(list(rows.column_names), field, spec, argument)
    return [_as_text(value) for value in rows[name]], name


def load_eval_index(
    specs: Sequence[str], n: int = DEFAULT_N, field: str | None = None, argument: str = "--eval"
) -> NgramIndex:
    """One ``NgramIndex`` over the texts of several eval sets (``read_texts``), labelled ``"spec#row"``.

    The index of the same files (same size and modification time) and
    options is built once per process and reused.
    """
    stamps = []
    for spec in specs:
        path = Path(spec)
        stat = path.stat() if path.is_file() else None
        stamps.append((stat.st_size, stat.st_mtime_ns) if stat else None)
    return _cached_index(tuple(specs), tuple(stamps), n, field, argument)


@functools.lru_cache(maxsize=8)
def _cached_index(
    specs: tuple[str, ...], stamps: tuple[Any, ...], n: int, field: str | None, argument: str
) -> NgramIndex:
    texts: list[str] = []
    labels: list[str] = []
    for spec in specs:
        these, _ = read_texts(spec, field, argument=argument)
        texts += these
        labels += [f"{spec}#{row}" for row in range(len(these))]
    return NgramIndex.from_texts(texts, n, labels)


# --- rlvr decontaminate ----------------------------------------------------------------------------


def add_decontaminate_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``rlvr decontaminate``."""
    parser.description = (
        "Drop training items whose n-grams occur in evaluation sets (Tulu 3: more than 50% of the 8-grams "
        "of lower-cased, punctuation-free words)."
    )
    parser.add_argument(
        "--train",
        required=True,
        metavar="FILE_OR_ENV",
        help="training data: a .jsonl/.json/.parquet file, a hub id ID[:SUBSET][@SPLIT], or a registered env id "
        "(its tasks for --num-tasks seeds)",
    )
    parser.add_argument(
        "--eval",
        required=True,
        action="append",
        metavar="FILE",
        help="an evaluation set: a .jsonl/.json/.parquet file or a hub id ID[:SUBSET][@SPLIT] (split test by "
        "default); repeat for several",
    )
    parser.add_argument("--field", default="question", help="text field of the training records (default: question)")
    parser.add_argument(
        "--eval-field",
        default=None,
        help="text field of the eval records (default: --field if they have it, else the first of "
        + ", ".join(TEXT_FIELDS)
        + ")",
    )
    parser.add_argument("--split", default="train", help="split of a hub-id training set (default: train)")
    parser.add_argument("-n", "--ngram", type=int, default=DEFAULT_N, help="n-gram length in words (default: 8)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="drop items with more than this share of their n-grams in the eval sets (default: 0.5)",
    )
    parser.add_argument("--out", default=None, help="write the kept records here (.jsonl, .json or .parquet)")
    parser.add_argument("--report", default=None, help="write the report here (markdown; JSON for a .json file)")
    parser.add_argument("--num-tasks", type=int, default=1000, help="env training side: how many tasks (seeds)")
    parser.add_argument("--seed", type=int, default=0, help="env training side: the first reset seed")
    add_env_options_argument(parser, "env training side: env options as JSON")
    add_import_argument(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_decontaminate(args: argparse.Namespace) -> int:
    """Run ``rlvr decontaminate``; the exit code (0 done, 2 a bad argument, named on stderr)."""
    try:
        return _run(args)
    except (FileNotFoundError, ValueError, KeyError, ImportError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"rlvr decontaminate: {message}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    import_modules(args.imports)
    if args.ngram < 1:
        raise ValueError(f"--ngram must be at least 1, got {args.ngram}")
    if not 0.0 <= args.threshold <= 1.0:
        raise ValueError(f"--threshold must be in [0, 1], got {args.threshold}")
    for path, name in ((args.out, "--out"), (args.report, "--report")):
        if path is not None and not Path(path).parent.is_dir():
            raise FileNotFoundError(f"{name}: no such directory {str(Path(path).parent)!r}")
    if args.out is not None and Path(args.out).suffix not in _LOCAL_SUFFIXES:
        raise ValueError(f"--out: write .jsonl, .json or .parquet, got {args.out!r}")
    records, texts = _training_side(args)
    index = _eval_side(args)
    report = decontaminate(
        texts, index, args.threshold, args.ngram, text=str, progress=not args.quiet, eval_sources=args.eval
    )
    print(report.summary())
    if args.out is not None:
        _write_records([records[i] for i in report.kept], Path(args.out))
        print(f"kept records -> {args.out}")
    if args.report is not None:
        report.write(args.report)
        print(f"report -> {args.report}")
    return 0


def _training_side(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[str]]:
    """The training records (as written to --out) and their texts."""
    from rlvr.envs.core.registration import entry, list_envs

    if not Path(args.train).is_file():
        if args.train in list_envs():
            return _env_records(args)
        if _ENV_ID.fullmatch(args.train):
            entry(args.train)  # an env id that is not registered: UnknownEnvError lists the registered ones
    rows = read_records(args.train, split=args.split, argument="--train")
    field = _pick_field(list(rows.column_names), args.field, args.train, "--field")
    records = [dict(row) for row in rows]
    return records, [_as_text(record[field]) for record in records]


def _env_records(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[str]]:
    from rlvr.envs.core.registration import entry

    if args.num_tasks < 1:
        raise ValueError(f"--num-tasks must be at least 1, got {args.num_tasks}")
    env = entry(args.train).build(**env_options(args.env_options))
    records = []
    try:
        for seed in _progress(range(args.seed, args.seed + args.num_tasks), not args.quiet, f"{args.train} tasks"):
            _, info = env.reset(seed=seed)
            records.append({"seed": seed, "task_index": info["index"], **info["task"].model_dump(mode="json")})
    finally:
        env.close()
    field = _pick_field(list(records[0]), args.field, args.train, "--field")
    return records, [_as_text(record[field]) for record in records]


def _eval_side(args: argparse.Namespace) -> NgramIndex:
    texts: list[str] = []
    labels: list[str] = []
    for spec in args.eval:
        rows = read_records(spec, argument="--eval")
        columns = list(rows.column_names)
        wanted = args.eval_field if args.eval_field is not None else (args.field if args.field in columns else None)
        field = _pick_field(columns, wanted, spec, "--eval-field" if args.eval_field is not None else "--eval")
        these = [_as_text(value) for value in rows[field]]
        texts += these
        labels += [f"{spec}#{row}" for row in range(len(these))]
    return NgramIndex.from_texts(texts, args.ngram, labels)


def _write_records(records: list[dict[str, Any]], path: Path) -> None:
    if path.suffix == ".parquet":
        import datasets

        datasets.Dataset.from_list(records).to_parquet(str(path))
    elif path.suffix == ".json":
        path.write_text(json.dumps(records, ensure_ascii=False, default=str, indent=1) + "\n", encoding="utf-8")
    else:
        with path.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
