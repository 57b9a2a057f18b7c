import random

import pydantic
import pytest

from rlvr.envs.core.task import DatasetSource, FunctionSource, GeneratedOrDataset, ProceduralSource, Task


class WordTask(Task):
    answer: str


def make_word(rng: random.Random) -> WordTask:
    word = "".join(rng.choice("abcdef") for _ in range(6))
    return WordTask(question=f"Reverse {word}", answer=word[::-1])


def test_procedural_item_is_a_pure_function_of_its_index():
    source = FunctionSource(make_word)
    assert [source.get(i) for i in range(20)] == [FunctionSource(make_word).get(i) for i in range(20)]
    assert len({source.get(i).question for i in range(20)}) > 10
    assert source.size is None


def test_procedural_source_rejects_negative_index_and_unknown_options():
    source = FunctionSource(make_word)
    with pytest.raises(IndexError):
        source.get(-1)
    with pytest.raises(ValueError, match=r"unknown reset option.*'level'.*accepts: index"):
        source.get(0, level=2)


def test_generate_receives_its_own_rng_not_the_global_one():
    class Source(ProceduralSource):
        def generate(self, rng, **options):
            return make_word(rng)

    random.seed(1)
    first = Source().get(7)
    random.seed(2)
    assert Source().get(7) == first


def test_dataset_source_indexes_and_names_the_valid_range():
    tasks = [WordTask(question=f"q{i}", answer=str(i)) for i in range(3)]
    source = DatasetSource(tasks)
    assert source.size == 3
    assert source.get(2).answer == "2"
    with pytest.raises(IndexError, match=r"tasks 0\.\.2"):
        source.get(3)


def test_empty_dataset_is_rejected():
    with pytest.raises(ValueError):
        DatasetSource([])


def test_tasks_are_frozen_and_strict():
    task = WordTask(question="q", answer="a")
    with pytest.raises(pydantic.ValidationError):
        task.answer = "b"
    with pytest.raises(pydantic.ValidationError):
        WordTask(question="q", answer="a", extra=1)


def test_reference_answer_reads_the_answer_field():
    assert WordTask(question="q", answer="cba").reference_answer() == "cba"
    assert Task(question="q").reference_answer() is None


class _Options(pydantic.BaseModel):
    dataset: str | None = None
    start: int = 0


class _Numbers(GeneratedOrDataset):
    config_model = _Options

    def generator(self, config: _Options) -> FunctionSource:
        return FunctionSource(lambda rng: Task(question=str(config.start + rng.randrange(10))))

    def read(self, config: _Options, dataset: str) -> tuple[list[Task], tuple[int, ...]]:
        rows = dataset.split(",")
        return [Task(question=row) for row in rows if row], tuple(i for i, row in enumerate(rows) if not row)


def test_a_family_source_generates_without_a_dataset_and_reads_one_when_named():
    generated = _Numbers(start=100)
    assert generated.size is None and generated.skipped == ()
    assert int(generated.get(5).question) >= 100
    read = _Numbers(dataset="a,,b")
    assert read.size == 2 and read.skipped == (1,)
    assert [read.get(i).question for i in range(2)] == ["a", "b"]


def test_a_family_source_names_a_bad_option():
    with pytest.raises(pydantic.ValidationError, match="start"):
        _Numbers(start="many")


@pytest.mark.parametrize("source", ["/no/such/train.jsonl", "data/missing.parquet", "./gsm8k", "~/nowhere/x.json"])
def test_a_local_data_set_path_that_is_not_there_is_no_such_file_at_once(source):
    import time

    from rlvr.envs.core.task import read_dataset

    started = time.monotonic()
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_dataset(source, "train")
    assert time.monotonic() - started < 5  # no hub retries


def test_only_what_looks_like_a_hub_id_would_go_to_the_hub():
    from rlvr.envs.core.task import _looks_local

    assert not _looks_local("openai/gsm8k") and not _looks_local("gsm8k")
    assert _looks_local("runs/data/train.jsonl") and _looks_local("/abs/dir") and _looks_local("x.csv")
