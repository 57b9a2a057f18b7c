"""The warm pool on a real Docker engine: executions, limits, concurrency, retirement, clean-up, errors."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from rlvr.sandbox import ExecStatus, SandboxConfig, SandboxPool, SandboxUnavailable, connect
from rlvr.sandbox.pool import LABEL, _Container, _HostTimeout, remove_stale_containers


def test_a_program_gets_its_stdin_and_returns_stdout_stderr_and_exit_code(sandbox_pool):
    program = "import sys\ntext = sys.stdin.read()\nprint(text.upper())\nprint('warn', file=sys.stderr)\nsys.exit(3)"
    result = sandbox_pool.run(program, stdin="hello")
    assert result.status is ExecStatus.RUNTIME_ERROR
    assert (result.stdout, result.stderr, result.exit_code) == ("HELLO\n", "warn\n", 3)
    assert 0 < result.duration < 5


def test_an_exception_is_a_runtime_error_with_the_traceback(sandbox_pool):
    result = sandbox_pool.run("raise ValueError('boom')")
    assert result.status is ExecStatus.RUNTIME_ERROR and result.exit_code == 1
    assert "ValueError: boom" in result.stderr


def test_a_clean_program_is_ok(sandbox_pool):
    result = sandbox_pool.run("print(sum(range(10)))")
    assert result.ok and result.stdout == "45\n" and not result.stdout_truncated


def test_the_time_limit_kills_the_program(sandbox_pool):
    start = time.monotonic()
    result = sandbox_pool.run("import time\ntime.sleep(30)", timeout=0.5)
    assert result.status is ExecStatus.TIMEOUT
    assert time.monotonic() - start < 5


def test_stderr_is_capped_and_flagged_too(sandbox_pool):
    result = sandbox_pool.run("import sys\nsys.stderr.write('e' * 3_000_000)")
    assert result.status is ExecStatus.OUTPUT_LIMIT
    assert result.stderr_truncated and len(result.stderr) == sandbox_pool.config.max_output_bytes


def test_output_under_the_cap_is_whole(sandbox_pool):
    result = sandbox_pool.run("print('y' * 500_000)")
    assert result.ok and len(result.stdout) == 500_001 and not result.stdout_truncated


def test_the_container_is_confined_as_configured(sandbox_pool):
    sandbox_pool.run("pass")
    client = connect()
    container = client.containers.get(sandbox_pool.container_ids()[0])
    host = container.attrs["HostConfig"]
    config = sandbox_pool.config
    assert host["ReadonlyRootfs"] is True and host["NetworkMode"] == "none"
    assert host["CapDrop"] == ["ALL"] and "no-new-privileges" in host["SecurityOpt"]
    assert host["Memory"] == host["MemorySwap"] == config.memory_mb << 20
    assert host["PidsLimit"] == config.pids_limit and host["NanoCpus"] == int(config.cpus * 1e9)
    assert container.attrs["Config"]["User"] == "65534:65534"
    identity = sandbox_pool.run("import os\nprint(os.getuid(), os.getgid())")
    assert identity.stdout == "65534 65534\n"
    limits = sandbox_pool.run(
        "import resource as r\nprint(r.getrlimit(r.RLIMIT_NOFILE)[0], r.getrlimit(r.RLIMIT_FSIZE)[0])"
    )
    assert limits.stdout == f"{config.max_open_files} {config.max_file_bytes}\n"


def test_many_threads_share_the_pool_and_each_gets_its_own_answer(sandbox_pool):
    answers: dict[int, str] = {}

    def work(number: int) -> None:
        answers[number] = sandbox_pool.run(f"print({number} * {number})").stdout

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {n: f"{n * n}\n" for n in range(16)}
    assert len(sandbox_pool.container_ids()) <= sandbox_pool.config.pool_size + 1


def test_no_more_executions_run_at_once_than_the_pool_size():
    with SandboxPool(SandboxConfig(pool_size=2)) as pool:
        pool.warm_up()
        start = time.monotonic()
        threads = [threading.Thread(target=pool.run, args=("import time\ntime.sleep(0.5)",)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start
    assert elapsed >= 1.0  # four half-second programs, two at a time


def test_a_timed_out_container_is_retired_and_replaced():
    with SandboxPool(SandboxConfig(pool_size=1)) as pool:
        pool.run("pass")
        first = set(pool.container_ids())
        assert pool.run("while True: pass", timeout=0.5).status is ExecStatus.TIMEOUT
        assert pool.retired == 1
        assert pool.run("print('next')").stdout == "next\n"
        assert not first & set(pool.container_ids())


def test_close_removes_every_container():
    client = connect()
    pool = SandboxPool(SandboxConfig(pool_size=2))
    pool.warm_up()
    ids = pool.container_ids()
    assert len(ids) == 2
    pool.close()
    alive = {c.id for c in client.containers.list(all=True, filters={"label": LABEL})}
    assert not alive & set(ids)
    assert pool.run("print(1)").status is ExecStatus.SANDBOX_ERROR


def test_containers_do_not_outlive_a_killed_host_process():
    script = textwrap.dedent(
        """
        import sys, time
        from rlvr.sandbox import SandboxConfig, SandboxPool
        pool = SandboxPool(SandboxConfig(pool_size=2))
        pool.warm_up()
        print(" ".join(pool.container_ids()), flush=True)
        time.sleep(600)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    ids = set(child.stdout.readline().split())
    assert len(ids) == 2
    child.send_signal(signal.SIGKILL)  # no atexit, no clean-up code runs
    child.wait()
    client = connect()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        alive = {c.id for c in client.containers.list(all=True, filters={"label": LABEL})}
        if not alive & ids:
            break
        time.sleep(0.2)
    assert not alive & ids


def test_stale_containers_of_a_dead_process_are_swept():
    client = connect()
    pool = SandboxPool(SandboxConfig(pool_size=1))
    container = _Container(client, pool.config, pool.image, owner=f"{pool.owner.rpartition(':')[0]}:999999999")
    try:
        assert remove_stale_containers(client) >= 1
        alive = {c.id for c in client.containers.list(all=True, filters={"label": LABEL})}
        assert container.id not in alive
    finally:
        container.destroy()
        pool.close()


def test_the_host_gives_up_on_a_container_that_does_not_answer():
    client = connect()
    config = SandboxConfig()
    container = _Container(client, config, SandboxPool(config, client).image, owner="test:1")
    try:
        request = {"argv": ["python3", "-c", "import time; time.sleep(60)"], "timeout": 60}
        with pytest.raises(_HostTimeout):
            container.request(request, seconds=0.5)
    finally:
        container.destroy()


def test_no_engine_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    with pytest.raises(SandboxUnavailable, match=r"no Docker engine answers.*DOCKER_HOST"):
        SandboxPool()


def test_a_missing_image_says_how_to_build_it():
    with pytest.raises(SandboxUnavailable, match="rlvr sandbox build"):
        SandboxPool(SandboxConfig(image="rlvr-sandbox:does-not-exist"))


def test_a_bad_config_names_the_field():
    with pytest.raises(ValueError, match="pool_size"):
        SandboxConfig(pool_size=0)
