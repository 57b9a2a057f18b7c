"""The installed package: light to import, with the layout users rely on."""

import subprocess
import sys


def test_import_envs_stays_light():
    heavy = {"torch", "transformers", "docker", "vllm", "hypothesis"}
    code = f"import sys, envs, verifiers; print(sorted({heavy!r} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_top_level_packages_import():
    import envs
    import sandbox
    import trainers
    import verifiers

    for package in (envs, sandbox, trainers, verifiers):
        assert package.__doc__
