"""Hypothesis profiles: random exploration locally, a fixed derandomized run in CI.

CI sets CI=true; there every property test draws the same examples each run,
so a red build always means a change, never an unlucky draw. Locally, examples
vary between runs and failures are remembered in .hypothesis/.
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def sandbox_pool():
    """One warm sandbox pool for the whole run (a real Docker engine and the built image).

    `bash .ci/setup` starts the engine and builds the image; without them the
    tests that use this fixture fail with the message that says what to do.
    """
    from rlvr.sandbox import SandboxConfig, SandboxPool

    with SandboxPool(SandboxConfig(pool_size=2)) as pool:
        yield pool


@pytest.fixture(scope="session")
def cold_started_tiny(tmp_path_factory):
    """The tiny model after a 50-step cold start on rlvr/Arithmetic-v0 (level 1, equation template), saved.

    About 40% right held out, so sampling it gives both right and wrong answers.
    """
    from rlvr.trainers.algorithms.config import GRPOConfig
    from rlvr.trainers.models.policy import load_policy, save_policy
    from rlvr.trainers.pipelines.sft import cold_start

    path = tmp_path_factory.mktemp("cold") / "model"
    model, tokenizer = load_policy("tiny")
    cold_start(
        model,
        tokenizer,
        GRPOConfig(env_options={"level": 1, "template": "equation"}, cold_start_steps=50),
        progress=False,
    )
    save_policy(model, tokenizer, path)
    return path
