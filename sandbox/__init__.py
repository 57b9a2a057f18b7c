"""Hardened Docker execution of model-written code, for code environments.

    from rlvr.sandbox import shared_pool, CallTests
    pool = shared_pool()                      # warm containers, made on first use
    pool.run("print(1 + 1)").stdout           # '2\n'
    report = pool.run_tests("def f(x): return 2 * x", CallTests("f", (((2,), 4),)))
    report.fraction                           # 1.0

``rlvr sandbox build`` builds the image (offline if no registry answers),
``rlvr sandbox check`` fires the attack suite at it and fails if any limit
does not hold.

The parts: ``pool`` (the host's side: containers, requests, retiring),
``testspec`` (tests and how the host judges values), ``result``, ``config``,
``image``; ``container/`` is what runs inside (the runner, the template
process, the judge, the program's side of a test run, the wire format);
``attacks/`` is the attack suite, by class.
"""

from rlvr.sandbox.config import SandboxConfig
from rlvr.sandbox.errors import SandboxUnavailable
from rlvr.sandbox.image import build_image, image_tag
from rlvr.sandbox.pool import SandboxPool, connect, remove_stale_containers, shared_pool
from rlvr.sandbox.result import ExecResult, ExecStatus, TestOutcome, TestReport
from rlvr.sandbox.testspec import AssertTests, CallTests, TestSpec

__all__ = [
    "AssertTests",
    "CallTests",
    "ExecResult",
    "ExecStatus",
    "SandboxConfig",
    "SandboxPool",
    "SandboxUnavailable",
    "TestOutcome",
    "TestReport",
    "TestSpec",
    "build_image",
    "connect",
    "image_tag",
    "remove_stale_containers",
    "shared_pool",
]
