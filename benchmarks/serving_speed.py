"""Envs played locally against the same envs served by ``rlvr serve`` on loopback: steps per second and latency.

For rlvr/Arithmetic-v0 and rlvr/Code-v0, plays ``--episodes`` single-turn
episodes (a reset, then one step with the task's right completion) in batches
of ``--batch`` envs stepped together with ``step_batch``, as a trainer does:
first with local envs, then with the same env ids made with ``remote=URL``
against a real ``rlvr serve`` process on 127.0.0.1 (one process per env id).
Prints per env and per side: steps per second over the whole run, and the p50
and p99 of one batch's step latency (ms), medians of ``--repeats`` runs.

Run:
    .venv/bin/python benchmarks/serving_speed.py
    .venv/bin/python benchmarks/serving_speed.py --episodes 512 --batch 64 --repeats 5
"""

from __future__ import annotations

import argparse
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

import rlvr.envs as envs
from rlvr.envs.audit.strategies import reference_completion
from rlvr.envs.core.text_env import step_batch

RLVR = str(Path(sys.executable).with_name("rlvr"))
CASES = {"rlvr/Arithmetic-v0": {"level": 1, "template": "equation"}, "rlvr/Code-v0": {}}


def start_server(env_id: str, options: dict[str, Any]) -> tuple[subprocess.Popen, str]:
    """``rlvr serve`` for ``env_id`` on a free loopback port; the process and its URL, once healthy."""
    import json

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [RLVR, "serve", "--env", env_id, "--env-options", json.dumps(options), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise TimeoutError(f"rlvr serve for {env_id} did not come up")


def run(env_id: str, options: dict[str, Any], episodes: int, batch: int) -> tuple[float, list[float]]:
    """Steps per second over all episodes, and each batch's step latency (s)."""
    pool = [envs.make(env_id, **options) for _ in range(batch)]
    latencies, started = [], time.perf_counter()
    for first in range(0, episodes, batch):
        active = pool[: min(batch, episodes - first)]
        completions = []
        for offset, env in enumerate(active):
            _, info = env.reset(seed=first + offset)
            completions.append(reference_completion(info["task"], env.unwrapped.template) or "0")
        stepped = time.perf_counter()
        step_batch(active, completions)
        latencies.append(time.perf_counter() - stepped)
    seconds = time.perf_counter() - started
    for env in pool:
        env.close()
    return episodes / seconds, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=256, help="episodes per run (default: 256)")
    parser.add_argument("--batch", type=int, default=32, help="envs stepped together (default: 32)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side; medians are reported (default: 3)")
    args = parser.parse_args()

    print(f"{args.episodes} episodes in batches of {args.batch}, median of {args.repeats} runs\n")
    print("| env | where | steps/s | batch step p50 (ms) | batch step p99 (ms) |")
    print("|---|---|---|---|---|")
    for env_id, options in CASES.items():
        process, url = start_server(env_id, options)
        try:
            for where, made in (("local", options), ("remote (loopback)", {**options, "remote": url})):
                rates, p50s, p99s = [], [], []
                for _ in range(args.repeats):
                    rate, latencies = run(env_id, made, args.episodes, args.batch)
                    rates.append(rate)
                    p50s.append(float(np.percentile(latencies, 50)) * 1000)
                    p99s.append(float(np.percentile(latencies, 99)) * 1000)
                print(
                    f"| {env_id} | {where} | {statistics.median(rates):.0f} | {statistics.median(p50s):.1f} "
                    f"| {statistics.median(p99s):.1f} |",
                    flush=True,
                )
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
