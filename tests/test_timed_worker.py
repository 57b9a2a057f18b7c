"""TimedWorker: results, the hard time limit, crashes, threads, forks and clean-up."""

from __future__ import annotations

import ctypes
import operator
import os
import signal
import threading
import time

import pytest

from rlvr.verifiers.timed_worker import TimedWorker, WorkerCrashed, WorkerError, WorkerStartError, WorkerTimeout


@pytest.fixture
def worker():
    with TimedWorker() as timed:
        yield timed


def test_call_returns_the_functions_result(worker):
    assert worker.call(operator.add, 2, 3, timeout=5) == 5
    assert worker.call(divmod, 17, 5, timeout=5) == (3, 2)


def test_calls_reuse_one_process(worker):
    worker.call(operator.add, 1, 1, timeout=5)
    pid = worker.pid
    for n in range(50):
        assert worker.call(operator.mul, n, 2, timeout=5) == 2 * n
    assert worker.pid == pid
    assert worker.restarts == 0


def test_no_process_before_the_first_call():
    with TimedWorker() as worker:
        assert worker.pid is None


def test_call_past_the_limit_is_cut_at_the_limit(worker):
    worker.call(operator.add, 1, 1, timeout=5)
    start = time.perf_counter()
    with pytest.raises(WorkerTimeout, match=r"sleep ran past 0\.5 s"):
        worker.call(time.sleep, 60, timeout=0.5)
    assert time.perf_counter() - start < 2.0


def test_worker_recovers_after_a_time_out(worker):
    worker.call(operator.add, 1, 1, timeout=5)
    first = worker.pid
    with pytest.raises(WorkerTimeout):
        worker.call(time.sleep, 60, timeout=0.3)
    assert worker.call(operator.add, 20, 22, timeout=5) == 42
    assert worker.pid != first
    assert worker.restarts == 1
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # the timed-out process is gone, not left running


def test_time_limit_holds_off_the_main_thread(worker):
    outcome: list[object] = []

    def run() -> None:
        start = time.perf_counter()
        try:
            worker.call(time.sleep, 60, timeout=0.5)
        except WorkerTimeout as error:
            outcome.append(error)
        outcome.append(time.perf_counter() - start)
        outcome.append(worker.call(operator.add, 1, 2, timeout=5))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert isinstance(outcome[0], WorkerTimeout)
    assert outcome[1] < 5.0  # start-up of the first process plus the 0.5 s limit
    assert outcome[2] == 3


def test_start_up_is_not_charged_to_the_first_call():
    # Importing math_verify takes far longer than 0.01 s; it happens before the clock starts.
    with TimedWorker(preload=("math_verify",)) as worker:
        assert worker.call(operator.add, 1, 1, timeout=0.01) == 2


def test_exception_in_the_function_comes_back_as_worker_error(worker):
    with pytest.raises(WorkerError, match="invalid literal") as caught:
        worker.call(int, "not a number", timeout=5)
    assert caught.value.type_name == "ValueError"
    assert worker.call(int, "7", timeout=5) == 7  # the process is still good
    assert worker.restarts == 0


@pytest.mark.parametrize(
    ("function", "argument"),
    [(os._exit, 3), (ctypes.string_at, 0)],
    ids=["exits", "segfaults"],
)
def test_process_that_dies_during_a_call_raises_worker_crashed_and_is_replaced(worker, function, argument):
    with pytest.raises(WorkerCrashed):
        worker.call(function, argument, timeout=5)
    assert worker.call(operator.add, 1, 2, timeout=5) == 3
    assert worker.restarts == 1


def test_process_killed_between_calls_is_replaced_before_the_next(worker):
    worker.call(operator.add, 1, 1, timeout=5)
    pid = worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    assert worker.call(operator.add, 1, 2, timeout=5) == 3
    assert worker.pid != pid


def test_memory_limit_turns_a_huge_allocation_into_memory_error():
    with TimedWorker(memory_limit_mb=512) as worker:
        with pytest.raises(WorkerError) as caught:
            worker.call(bytearray, 2 << 30, timeout=5)
        assert caught.value.type_name == "MemoryError"
        assert worker.call(len, bytearray(10), timeout=5) == 10


def test_unpicklable_result_is_a_worker_error(worker):
    with pytest.raises(WorkerError):
        worker.call(threading.Lock, timeout=5)


@pytest.mark.parametrize("function", [lambda: 1, str.upper], ids=["lambda", "method-of-builtin"])
def test_function_that_cannot_be_imported_by_name_is_refused(worker, function):
    with pytest.raises(ValueError, match="module-level function"):
        worker.call(function, timeout=5)


def test_failing_preload_raises_worker_start_error():
    worker = TimedWorker(preload=("no_such_module_for_the_worker",))
    with worker, pytest.raises(WorkerStartError, match="no_such_module_for_the_worker"):
        worker.call(operator.add, 1, 1, timeout=5)


def test_calls_from_several_threads_take_turns(worker):
    results: dict[int, int] = {}

    def run(n: int) -> None:
        for k in range(20):
            results[n * 100 + k] = worker.call(operator.mul, n, k, timeout=10)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {n * 100 + k: n * k for n in range(6) for k in range(20)}


def test_forked_child_starts_its_own_process_and_leaves_the_parents_alone(worker):
    worker.call(operator.add, 1, 1, timeout=5)
    parent_worker = worker.pid
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        try:
            inherited = worker.pid
            answer = worker.call(operator.add, 40, 2, timeout=10)
            os.write(write, f"{inherited} {answer} {worker.pid}".encode())
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(child, 0)
    inherited, answer, own = os.read(read, 100).decode().split()
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0
    assert inherited == "None"  # the parent's process is not visible in the child
    assert answer == "42"
    assert int(own) != parent_worker
    assert worker.pid == parent_worker
    assert worker.call(operator.add, 1, 2, timeout=5) == 3


def test_close_stops_the_process():
    worker = TimedWorker()
    worker.call(operator.add, 1, 1, timeout=5)
    pid = worker.pid
    assert pid is not None
    worker.close()
    assert worker.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert worker.call(operator.add, 1, 1, timeout=5) == 2  # a later call starts a new one
    worker.close()


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_time_limit_must_be_positive(worker, timeout):
    with pytest.raises(ValueError, match="timeout"):
        worker.call(operator.add, 1, 1, timeout=timeout)


def test_memory_limit_must_be_positive():
    with pytest.raises(ValueError, match="memory_limit_mb"):
        TimedWorker(memory_limit_mb=0)
