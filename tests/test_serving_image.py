"""The serving image: built offline on the sandbox's base, it serves an env that plays as the local one."""

from __future__ import annotations

import subprocess

import pytest
from env_server import free_port, wait_healthy

import rlvr.envs as envs
from rlvr.envs.serving.image import DOCKERFILE, build_serving_image


@pytest.fixture(scope="module")
def image():
    from rlvr.sandbox.pool import connect

    lines: list[str] = []
    tag = build_serving_image(connect(), ["math"], log=lines.append)
    assert any("pip install --target" in line for line in lines)
    return tag


def test_the_image_serves_an_env_that_plays_as_the_local_one(image, sandbox_pool):
    port = free_port()
    name = f"rlvr-serve-test-{port}"
    command = ["docker", "run", "-d", "--rm", "--network", "host", "--name", name, image]
    subprocess.run([*command, "--env", "rlvr/Math-v0", "--port", str(port)], check=True, capture_output=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, 120)
        local, remote = envs.make("rlvr/Math-v0"), envs.make("rlvr/Math-v0", remote=url)
        for seed in range(3):
            prompt, info = local.reset(seed=seed)
            right = f"The answer is \\boxed{{{info['task'].answer}}}."
            assert remote.reset(seed=seed)[0] == prompt
            assert remote.step(right)[1] == local.step(right)[1] == 1.0
        remote.close()
    finally:
        subprocess.run(["docker", "stop", name], capture_output=True)


def test_the_image_runs_rlvr_serve_from_its_own_library():
    assert 'ENTRYPOINT ["python3", "-m", "rlvr", "serve", "--host", "0.0.0.0"]' in DOCKERFILE
    assert "PYTHONPATH=/opt/rlvr-serve/lib" in DOCKERFILE
