"""The examples run as documented."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_custom_env_example_registers_makes_and_property_tests():
    source = (EXAMPLES / "custom_env.py").read_text()
    assert len(source.splitlines()) < 40
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "custom_env.py")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Reverse the word")
    assert result.stdout.rstrip().endswith("-> 1.0")
