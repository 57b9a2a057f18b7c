"""The installed package: one `rlvr` namespace, light to import, layered, and installable beside its namesakes.

The install tests build a wheel from a clean copy of the working tree and
install it with pip into throw-away virtual environments: one with rlvr-gym
alone, one with PyPI's ``verifiers`` and ``envs`` (the projects whose names the
parts of rlvr-gym would otherwise take), the training extra and the example
plugin from ``examples/plugin_env``.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("envs", "verifiers", "trainers", "sandbox")
SOURCE_FOLDERS = (*PARTS, "rlvr", "tests", "examples", "benchmarks")
LAYERS = {  # what each part may import from rlvr: arrows run one way, from the command line down to the sandbox
    "sandbox": {"sandbox"},
    "verifiers": {"verifiers", "sandbox"},
    "envs": {"envs", "verifiers", "sandbox"},
    "trainers": {"trainers", "envs", "verifiers", "sandbox"},
}
BUILTIN_IDS = {
    "rlvr/Arithmetic-v0",
    "rlvr/Code-v0",
    "rlvr/FunctionCalling-v0",
    "rlvr/HumanEval-v0",
    "rlvr/InstructionFollowing-v0",
    "rlvr/Math-v0",
    "rlvr/MathTool-v0",
}


def python_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py") if not path.is_symlink())


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, absolute, at any depth of the file."""
    modules = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "rlvr":
            modules += [f"rlvr.{alias.name}" for alias in node.names]  # from rlvr import envs
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
    return modules


def test_import_rlvr_envs_stays_light():
    heavy = {"torch", "transformers", "docker", "vllm", "hypothesis"}
    code = f"import sys, rlvr.envs, rlvr.verifiers; print(sorted({heavy!r} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_parts_import_under_rlvr_and_say_what_they_hold():
    import rlvr
    from rlvr import envs, sandbox, trainers, verifiers

    assert rlvr.__version__ and rlvr.__doc__
    for package in (envs, sandbox, trainers, verifiers):
        assert package.__doc__
        assert package.__name__.startswith("rlvr.")


def test_no_code_imports_a_part_by_its_bare_name():
    bare = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files(*SOURCE_FOLDERS)
        for module in imported_modules(path)
        if module.split(".")[0] in PARTS
    }
    assert not bare, "import these as rlvr.<part>: " + ", ".join(sorted(bare))


def test_imports_run_one_way_from_the_command_line_down_to_the_sandbox():
    upward = [
        f"{path.relative_to(ROOT)} imports {module}"
        for part, allowed in LAYERS.items()
        for path in python_files(part)
        for module in imported_modules(path)
        if module.startswith("rlvr") and (module == "rlvr" or module.split(".")[1] not in {*allowed, "__init__"})
    ]
    assert not upward


@pytest.mark.parametrize("part", ["envs", "trainers"])
def test_envs_and_trainers_group_their_modules_in_folders_that_say_what_they_hold(part):
    loose = sorted(path.name for path in (ROOT / part).glob("*.py") if path.name != "__init__.py")
    assert loose == [], f"{part}/ holds modules outside a folder: {loose}"
    for folder in sorted(path for path in (ROOT / part).iterdir() if path.is_dir() and path.name != "__pycache__"):
        init = folder / "__init__.py"
        assert init.is_file(), f"{folder} has no __init__.py"
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init} says nothing about what the folder holds"
        assert not list(folder.glob("*/*.py")), f"{folder} nests deeper than one level"


def test_the_parts_are_linked_into_the_rlvr_package():
    for part in PARTS:
        link = ROOT / "rlvr" / part
        assert link.is_symlink() and os.readlink(link) == f"../{part}"


def test_rlvr_envs_imports_only_the_subcommand_it_runs():
    code = "import sys; from rlvr.cli import main; main(['envs']); print(sorted(m for m in sys.modules if m in {0}))"
    result = subprocess.run(
        [sys.executable, "-c", code.format({"torch", "transformers", "docker", "rlvr.trainers"})],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == "[]"


# --- installs into throw-away virtual environments -------------------------------------------------------------


def run(command: list[str | Path], cwd: Path, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``command`` outside this test run's environment; with ``check``, a failure shows its output."""
    environment = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=environment
    )
    if check:
        assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def new_venv(path: Path) -> Path:
    """A virtual environment at ``path`` with an up-to-date pip; returns its bin folder."""
    run([sys.executable, "-m", "venv", path], cwd=path.parent)
    run([path / "bin" / "python", "-m", "pip", "install", "-q", "--upgrade", "pip"], cwd=path.parent)
    return path / "bin"


def pip_install(bin_folder: Path, *requirements: str | Path) -> None:
    run([bin_folder / "python", "-m", "pip", "install", "-q", *requirements], cwd=bin_folder.parent)


def copy_tree(source: Path, destination: Path) -> Path:
    """A copy of ``source`` without version control, virtual environments, caches and build outputs."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "build", "runs", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
    )
    shutil.copytree(source, destination, symlinks=True, ignore=ignore)
    return destination


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """rlvr-gym's wheel, built by pip from a copy of the working tree (no build outputs of the checkout)."""
    work = tmp_path_factory.mktemp("build")
    source = copy_tree(ROOT, work / "source")
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work / "dist", source], cwd=work)
    (built,) = (work / "dist").glob("rlvr_gym-*.whl")
    return built


def test_the_wheel_installs_one_top_level_name_the_sandbox_image_files_and_the_tokenizer(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"rlvr"}
    shipped = ("rlvr/sandbox/container/Dockerfile", "rlvr/trainers/models/tiny_bpe.json")
    for expected in ("rlvr/cli.py", "rlvr/envs/core/registration.py", *shipped):
        assert expected in names


@pytest.fixture(scope="module")
def plain_venv(wheel, tmp_path_factory) -> Path:
    """A clean venv with rlvr-gym installed from the wheel, no extras."""
    bin_folder = new_venv(tmp_path_factory.mktemp("plain") / "venv")
    pip_install(bin_folder, wheel)
    return bin_folder


def test_a_non_editable_install_runs_rlvr_envs_from_anywhere(plain_venv, tmp_path):
    result = run([plain_venv / "rlvr", "envs"], cwd=tmp_path)
    listed = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()}
    assert set(listed) == BUILTIN_IDS and set(listed.values()) == {"rlvr-gym"}
    for part in PARTS:  # only `rlvr` is installed: the bare names are free for other projects
        probe = run([plain_venv / "python", "-c", f"import {part}"], cwd=tmp_path, check=False)
        assert f"No module named '{part}'" in probe.stderr


def test_a_subcommand_whose_extra_is_missing_says_which_to_install(plain_venv, tmp_path):
    result = run([plain_venv / "rlvr", "train", "--steps", "1"], cwd=tmp_path, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "needs the 'train' extra" in result.stderr and "pip install 'rlvr-gym[train]'" in result.stderr


@pytest.fixture(scope="module")
def full_venv(wheel, tmp_path_factory) -> Path:
    """rlvr-gym with its training extra, PyPI's `verifiers` and `envs`, and the example plugin, in one venv."""
    bin_folder = new_venv(tmp_path_factory.mktemp("full") / "venv")
    pip_install(bin_folder, "torch==2.13.0")  # the local CPU build; an unpinned torch pulls CUDA wheels
    pip_install(bin_folder, f"rlvr-gym[train] @ {wheel.as_uri()}", "verifiers", "envs", "pytest")
    pip_install(bin_folder, copy_tree(ROOT / "examples" / "plugin_env", bin_folder.parent.parent / "plugin_env"))
    return bin_folder


def test_rlvr_gym_coexists_with_the_verifiers_and_envs_distributions(full_venv, tmp_path):
    code = """
import json, envs, verifiers
import rlvr.envs, rlvr.verifiers
from importlib.metadata import packages_distributions, version
owners = packages_distributions()
env = rlvr.envs.make("rlvr/Arithmetic-v0")
_, info = env.reset(seed=0)
print(json.dumps({
    "owners": {name: sorted(set(owners[name])) for name in ("envs", "verifiers", "rlvr")},
    "files": [envs.__file__, verifiers.__file__, rlvr.envs.__file__, rlvr.verifiers.__file__],
    "verifiers_version": [verifiers.__version__, version("verifiers")],
    "reward": env.step(env.unwrapped.template.answer_completion(info["task"].reference_answer()))[1],
}))
"""
    result = run([full_venv / "python", "-c", code], cwd=tmp_path)
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["owners"] == {"envs": ["envs"], "verifiers": ["verifiers"], "rlvr": ["rlvr-gym"]}
    site = str(full_venv.parent / "lib")
    expected = ["envs/__init__.py", "verifiers/__init__.py", "rlvr/envs/__init__.py", "rlvr/verifiers/__init__.py"]
    for file, ending in zip(found["files"], expected, strict=True):
        assert file.startswith(site) and file.endswith(ending), file  # each from its own installed files
    assert found["verifiers_version"][0] == found["verifiers_version"][1]  # PrimeIntellect's, intact
    assert found["reward"] == 1.0
    assert run([full_venv / "pip", "check"], cwd=tmp_path).returncode == 0


def test_an_installed_plugin_is_listed_and_trains_by_id_with_no_import(full_venv, tmp_path):
    listing = run([full_venv / "rlvr", "envs"], cwd=tmp_path).stdout
    assert any(line.split()[:2] == ["letters/CountLetter-v0", "rlvr-letter-count"] for line in listing.splitlines())
    train = [full_venv / "rlvr", "train", "--env", "letters/CountLetter-v0", "--model", "tiny", "--steps", "3"]
    train += ["--cold-start-steps", "20", "--prompts-per-step", "4", "--group-size", "4", "--max-new-tokens", "4"]
    train += ["--eval-prompts", "8", "--eval-every", "0", "--output-dir", tmp_path / "run", "--progress", "false"]
    result = run(train, cwd=tmp_path)
    assert "held-out accuracy" in result.stdout
    steps = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert max(row.get("step", 0) for row in steps) == 3


def test_the_example_plugins_own_tests_pass_where_it_is_installed(full_venv, tmp_path):
    plugin = copy_tree(ROOT / "examples" / "plugin_env", tmp_path / "plugin_env")
    result = run([full_venv / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=plugin)
    assert " passed" in result.stdout and "failed" not in result.stdout
