"""The warm pool on a real Docker engine: executions, limits, concurrency, retirement, clean-up, errors."""

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from rlvr.sandbox import CallTests, ExecStatus, SandboxConfig, SandboxPool, connect
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
    assert host["CapDrop"] == ["ALL"] and sorted(host["CapAdd"]) == ["KILL", "SETGID", "SETUID"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["Sysctls"]["kernel.shmmni"] == "0" and host["Sysctls"]["fs.mqueue.queues_max"] == "0"
    assert host["Memory"] == host["MemorySwap"] == config.memory_mb << 20
    assert host["PidsLimit"] == config.pids_limit and host["NanoCpus"] == int(config.cpus * 1e9)
    assert f"nr_inodes={config.max_files}" in host["Tmpfs"]["/work"]


def test_a_program_runs_as_its_own_user_without_capabilities_and_with_its_limits(sandbox_pool):
    config = sandbox_pool.config
    program = (
        "import os, resource as r\n"
        "status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
        "print(os.getuid(), os.getgid(), os.getgroups(), int(status['CapEff'], 16), int(status['CapPrm'], 16))\n"
        "print(*(r.getrlimit(k)[0] for k in (r.RLIMIT_NOFILE, r.RLIMIT_FSIZE, r.RLIMIT_NPROC)))\n"
        "print(os.stat('/proc/1/status').st_uid, open('/proc/1/status').read().split('Uid:')[1].split()[0])\n"
    )
    identity, limits, runner = sandbox_pool.run(program).stdout.splitlines()
    uid, gid, *rest = identity.split()
    assert int(uid) >= 100_000 and gid == uid and rest == ["[]", "0", "0"]
    assert limits == f"{config.max_open_files} {config.max_file_bytes} {config.max_processes}"
    assert runner.split()[1] == "0"  # PID 1 is another user (root with three capabilities), out of the program's reach


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


def test_a_timed_out_program_is_stopped_and_its_container_cleaned_and_kept():
    with SandboxPool(SandboxConfig(pool_size=1)) as pool:
        pool.run("pass")
        first = set(pool.container_ids())
        start = time.monotonic()
        assert pool.run("import os\nos.fork()\nwhile True: pass", timeout=0.5).status is ExecStatus.TIMEOUT
        assert time.monotonic() - start < 0.5 + 1.0  # the limit plus stopping, killing and checking
        census = "import os\nprint(sum(os.stat(f'/proc/{p}').st_uid == os.getuid() for p in os.listdir('/proc') if p.isdigit()))"  # noqa: E501
        assert pool.run(census).stdout == "1\n"  # only itself: the looping pair was killed
        assert pool.retired == 0 and set(pool.container_ids()) == first


def test_close_removes_every_container():
    client = connect()
    pool = SandboxPool(SandboxConfig(pool_size=2))
    pool.warm_up()
    ids = pool.container_ids()
    assert len(ids) == 2
    pool.close()
    alive = {c["Id"] for c in client.api.containers(all=True, filters={"label": LABEL})}  # no per-container inspect
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
        # the low-level listing: the high-level one inspects each container, and one removed meanwhile is a 404
        alive = {c["Id"] for c in client.api.containers(all=True, filters={"label": LABEL})}
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
        # the low-level listing: the high-level one inspects each container, and one removed meanwhile is a 404
        alive = {c["Id"] for c in client.api.containers(all=True, filters={"label": LABEL})}
        assert container.id not in alive
    finally:
        container.destroy()
        pool.close()


def test_the_host_gives_up_on_a_container_that_does_not_answer():
    client = connect()
    config = SandboxConfig()
    container = _Container(client, config, SandboxPool(config, client).image, owner="test:1")
    try:
        request = {"op": "run", "argv": ["python3", "-c", "import time; time.sleep(60)"], "timeout": 60}
        with pytest.raises(_HostTimeout):
            container.request(request, seconds=0.5)
    finally:
        container.destroy()


def test_an_engine_stall_is_the_sandboxs_fault_not_the_programs():
    with SandboxPool(SandboxConfig(pool_size=1, host_grace=0.5)) as pool:
        pool.run("pass")
        (container_id,) = pool.container_ids()
        container = connect().containers.get(container_id)
        pauser = threading.Timer(0.2, container.pause)
        pauser.start()
        try:
            result = pool.run("import time\ntime.sleep(0.5)\nprint('done')", timeout=1.0)
        finally:
            pauser.join()
            time.sleep(2.0)
            with contextlib.suppress(Exception):
                container.unpause()
        assert result.status is ExecStatus.SANDBOX_ERROR  # reward None, never the program's 0
        assert "did not answer" in result.message
        assert pool.retired == 1 and pool.run("print('next')").stdout == "next\n"


def test_a_spare_that_died_before_its_program_is_the_sandboxs_fault_and_retires_the_container():
    with SandboxPool(SandboxConfig(pool_size=1)) as pool:
        pool.run("pass")
        (container_id,) = pool.container_ids()
        container = connect().containers.get(container_id)
        spares = container.exec_run(["python3", "-c", SPARES], user="0:0").output.decode().split()
        assert len(spares) == 2
        killed = container.exec_run(
            ["python3", "-c", f"import os\nfor pid in {spares}: os.kill(int(pid), 9)"], user="0:0"
        )
        assert killed.exit_code == 0, killed.output
        report = pool.run_tests("def double(x):\n    return 2 * x\n", CallTests("double", (((1,), 2),)))
        assert report.infrastructure_failure and "spare" in report.execution.message
        assert pool.retired == 1
        assert pool.run_tests("def double(x):\n    return 2 * x\n", CallTests("double", (((1,), 2),))).all_passed


SPARES = """
import os
parents = {}
for pid in os.listdir('/proc'):
    if pid.isdigit() and int(pid) != os.getpid():
        status = open(f'/proc/{pid}/status').read()
        if status.split('Uid:')[1].split()[0] == '0':
            parents[int(pid)] = int(status.split('PPid:')[1].split()[0])
zygote = min(pid for pid, parent in parents.items() if parent == 1)  # the runner's first child
print(*sorted(pid for pid, parent in parents.items() if parent == zygote))  # its waiting spares
"""


def test_a_process_the_killers_cannot_reach_makes_the_container_dirty_and_it_is_retired():
    with SandboxPool(SandboxConfig(pool_size=1)) as pool:
        pool.run("pass")
        (container_id,) = pool.container_ids()
        stray = "import time\ntime.sleep(60)"  # root, started from outside: no killer of a program user reaches it
        connect().containers.get(container_id).exec_run(["python3", "-c", stray], user="0:0", detach=True)
        time.sleep(0.5)
        assert pool.run("print('still judged')").stdout == "still judged\n"  # the response stands
        assert pool.retired == 1 and container_id not in pool.container_ids()
        assert pool.run("print('next')").stdout == "next\n"
