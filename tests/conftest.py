"""Hypothesis profiles: random exploration locally, a fixed derandomized run in CI.

CI sets CI=true; there every property test draws the same examples each run,
so a red build always means a change, never an unlucky draw. Locally, examples
vary between runs and failures are remembered in .hypothesis/.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")
