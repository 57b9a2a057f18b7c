"""MetricsLogger and read_metrics: what lands on disk, when, and how crashes are survived."""

import json
import math

import pytest

from rlvr.trainers.run.metrics import METRICS_FILE, MetricsLogger, read_metrics


def strict_json(line: str) -> dict:
    def refuse(constant: str) -> float:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(line, parse_constant=refuse)


def test_each_line_is_on_disk_while_the_logger_is_open(tmp_path):
    with MetricsLogger(tmp_path, tensorboard=False) as logger:
        logger.log(0, {"reward": 0.25, "completions/mean_length": 12})
        logger.log(1, {"reward": 0.5}, split="eval")
        lines = (tmp_path / METRICS_FILE).read_text().splitlines()
        records = read_metrics(tmp_path / METRICS_FILE)

    assert [strict_json(line) for line in lines] == records
    assert [{k: v for k, v in r.items() if k != "time"} for r in records] == [
        {"step": 0, "split": "train", "reward": 0.25, "completions/mean_length": 12.0},
        {"step": 1, "split": "eval", "reward": 0.5},
    ]
    assert 0 <= records[0]["time"] <= records[1]["time"] < 60


def test_tensorboard_gets_split_prefixed_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with MetricsLogger(tmp_path) as logger:
        for step in range(3):
            logger.log(step, {"reward": step / 2, "completions/mean_length": 10.0 + step})
        logger.log(2, {"accuracy": 0.75}, split="eval")

    events = [p for p in (tmp_path / "tensorboard").iterdir() if p.name.startswith("events.out.tfevents")]
    assert events and all(p.stat().st_size > 0 for p in events)
    accumulator = EventAccumulator(str(tmp_path / "tensorboard")).Reload()
    assert set(accumulator.Tags()["scalars"]) == {"train/reward", "train/completions/mean_length", "eval/accuracy"}
    assert [(e.step, e.value) for e in accumulator.Scalars("train/reward")] == [(0, 0.0), (1, 0.5), (2, 1.0)]


def test_non_finite_values_are_written_as_null(tmp_path):
    with MetricsLogger(tmp_path) as logger:  # TensorBoard gets them as they are, without crashing
        logger.log(0, {"kl": math.nan, "loss": math.inf, "grad_norm": -math.inf, "reward": 1.0})

    (line,) = (tmp_path / METRICS_FILE).read_text().splitlines()
    record = strict_json(line)
    assert (record["kl"], record["loss"], record["grad_norm"], record["reward"]) == (None, None, None, 1.0)


def test_bad_metrics_are_refused(tmp_path):
    logger = MetricsLogger(tmp_path, tensorboard=False)
    with pytest.raises(ValueError, match="reserved"):
        logger.log(0, {"step": 1.0})
    with pytest.raises(TypeError, match="'reward'"):
        logger.log(0, {"reward": "high"})  # type: ignore[dict-item]
    logger.close()
    logger.close()
    with pytest.raises(RuntimeError, match="closed"):
        logger.log(1, {"reward": 1.0})
    assert read_metrics(tmp_path / METRICS_FILE) == []


def test_read_metrics_skips_a_truncated_last_line(tmp_path):
    path = tmp_path / METRICS_FILE
    path.write_text(
        '{"step": 0, "split": "train", "reward": 1}\n{"step": 1, "split": "train", "reward": 0}\n{"step": 2, "spl'
    )
    assert [r["step"] for r in read_metrics(path)] == [0, 1]

    path.write_text('{"step": 0, "split": "train"}\n{"step": 1, "spl\n{"step": 2, "split": "train"}\n')
    with pytest.raises(ValueError, match=":2: not a JSON line"):
        read_metrics(path)  # a broken line in the middle is corruption, not a crash mid-write


def test_a_new_logger_appends_after_removing_a_truncated_line(tmp_path):
    path = tmp_path / METRICS_FILE
    path.write_text('{"step": 0, "split": "train", "reward": 1}\n{"step": 1, "sp')
    with MetricsLogger(tmp_path, tensorboard=False) as logger:
        logger.log(1, {"reward": 0.5})
    assert [(r["step"], r["reward"]) for r in read_metrics(path)] == [(0, 1), (1, 0.5)]


def test_resume_drops_steps_logged_after_the_checkpoint(tmp_path):
    with MetricsLogger(tmp_path, tensorboard=False) as logger:
        for step in range(10):
            logger.log(step, {"reward": float(step)})
            if step % 4 == 0:
                logger.log(step, {"reward": -float(step)}, split="eval")

    with MetricsLogger(tmp_path, tensorboard=False, resume_step=5) as logger:
        assert [(r["step"], r["split"]) for r in read_metrics(logger.path)] == [
            (0, "train"),
            (0, "eval"),
            (1, "train"),
            (2, "train"),
            (3, "train"),
            (4, "train"),
            (4, "eval"),
            (5, "train"),
        ]
        for step in range(6, 8):
            logger.log(step, {"reward": 10.0 + step})

    steps = [r["step"] for r in read_metrics(tmp_path / METRICS_FILE) if r["split"] == "train"]
    assert steps == list(range(8))
