"""rlvr.envs.core.plugins: entry-point plugins load on first use, and --import brings in modules of one's own.

Plugins here are installed the way pip leaves a package on disk (a module and
its ``*.dist-info`` with ``entry_points.txt``) in a folder on ``PYTHONPATH``;
``importlib.metadata`` finds them as it finds any installed package. Each
check runs in a fresh interpreter, since plugins load once per process.
A pip install of the complete example plugin is in ``tests/test_package.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rlvr import envs
from rlvr.envs.core.plugins import provider

RLVR = str(Path(sys.executable).with_name("rlvr"))

REGISTERS = """\
from rlvr import envs
from rlvr.verifiers import Rubric, Score, Status


def exact(completion, task):
    return Score.correct() if completion.strip() == task.question.upper() else Score.fail(Status.WRONG)


envs.register(
    {env_id!r},
    source=[envs.Task(question="shout"), envs.Task(question="loud")],
    rubric=Rubric({{"accuracy": (exact, 1.0)}}),
    template="plain",
    description="Repeat the word in capitals.",
)
"""


def install_plugin(site: Path, distribution: str, module: str, source: str, target: str | None = None) -> None:
    """Write ``module.py`` and a ``dist-info`` whose entry point in ``rlvr.envs`` names ``target`` (else the module)."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (info / "top_level.txt").write_text(module + "\n")
    (info / "entry_points.txt").write_text(f"[rlvr.envs]\n{module} = {target or module}\n")


def python(code: str, site: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(site) if site else ""}
    command = [sys.executable, "-c", textwrap.dedent(code)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment, cwd=cwd)


def test_an_installed_plugin_registers_on_first_use_of_the_registry_not_on_import(tmp_path):
    install_plugin(tmp_path, "shout-envs", "shout_envs", REGISTERS.format(env_id="shout/Shout-v0"))
    result = python(
        """
        import sys
        from rlvr import envs
        assert "shout_envs" not in sys.modules  # importing rlvr.envs loads no plugin
        env = envs.make("shout/Shout-v0")
        _, info = env.reset(seed=0)
        print(env.step(info["task"].question.upper())[1], envs.entry("shout/Shout-v0").provider)
        """,
        site=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1.0", "shout-envs"]


def test_a_function_entry_point_is_called_to_register(tmp_path):
    source = "def register():\n" + textwrap.indent(REGISTERS.format(env_id="shout/Called-v0"), "    ")
    install_plugin(tmp_path, "called-envs", "called_envs", source, target="called_envs:register")
    result = python("from rlvr import envs; print('shout/Called-v0' in envs.list_envs())", site=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_a_broken_plugin_is_reported_by_name_and_the_other_envs_still_work(tmp_path):
    install_plugin(tmp_path, "shout-envs", "shout_envs", REGISTERS.format(env_id="shout/Shout-v0"))
    install_plugin(tmp_path, "broken-envs", "broken_envs", "import a_library_that_is_not_there\n")
    install_plugin(tmp_path, "greedy-envs", "greedy_envs", REGISTERS.format(env_id="rlvr/Arithmetic-v0"))
    result = python(
        """
        from rlvr import envs
        ids = envs.list_envs()
        print("shout/Shout-v0" in ids, "rlvr/Math-v0" in ids, envs.entry("rlvr/Arithmetic-v0").provider)
        for failure in envs.load_plugins():
            print(failure.name, failure.distribution, failure.error)
        """,
        site=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "True True rlvr-gym"  # the built-in keeps its id; the greedy plugin does not take it
    assert lines[1] == "broken_envs broken-envs ModuleNotFoundError: No module named 'a_library_that_is_not_there'"
    assert lines[2].startswith("greedy_envs greedy-envs ValueError: 'rlvr/Arithmetic-v0' is already registered")
    warnings = [line for line in result.stderr.splitlines() if "failed to load" in line]
    assert len(warnings) == 2 and "'broken_envs' (broken_envs, from broken-envs)" in warnings[0]


def test_rlvr_envs_lists_plugin_envs_with_their_package_and_the_failures(tmp_path):
    install_plugin(tmp_path, "shout-envs", "shout_envs", REGISTERS.format(env_id="shout/Shout-v0"))
    install_plugin(tmp_path, "broken-envs", "broken_envs", "raise RuntimeError('no GPU here')\n")
    environment = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([RLVR, "envs"], capture_output=True, text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines() if "/" in line.split(" ")[0]}
    assert rows["shout/Shout-v0"] == "shout-envs" and rows["rlvr/Arithmetic-v0"] == "rlvr-gym"
    assert "plugin 'broken_envs' (broken_envs, from broken-envs) failed to load: RuntimeError: no GPU here" in (
        result.stdout
    )
    assert result.stderr == ""  # listed once, not also logged


def test_an_unknown_id_names_the_plugins_that_failed_to_load(tmp_path):
    install_plugin(tmp_path, "broken-envs", "broken_envs", "raise RuntimeError('no GPU here')\n")
    result = python(
        """
        from rlvr import envs
        try:
            envs.make("broken/Env-v0")
        except envs.UnknownEnvError as error:
            print(error)
        """,
        site=tmp_path,
    )
    assert "Note: plugin 'broken_envs' (broken_envs, from broken-envs) failed to load: RuntimeError" in result.stdout


def test_import_modules_takes_a_dotted_name_from_the_working_directory(tmp_path):
    (tmp_path / "my_tasks.py").write_text(REGISTERS.format(env_id="mine/Dotted-v0"))
    result = python(
        """
        from rlvr import envs
        envs.import_modules(["my_tasks"])
        print(envs.entry("mine/Dotted-v0").provider)
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "my_tasks"  # not an installed package: the module is named


def test_import_modules_takes_a_file_path_once(tmp_path):
    path = tmp_path / "file_tasks.py"
    path.write_text(REGISTERS.format(env_id="mine/FromFile-v0"))
    envs.import_modules([str(path), str(path)])  # the second import is a no-op, not a duplicate registration
    env = envs.make("mine/FromFile-v0")
    env.reset(seed=0)
    assert env.unwrapped.source.size == 2


@pytest.mark.parametrize(
    ("name", "source", "message"),
    [
        ("no_such_tasks_module", None, "cannot import 'no_such_tasks_module': no such module"),
        ("missing_dependency", "import not_installed_anywhere\n", "importing 'missing_dependency' failed: "),
        ("raises_on_import", "raise RuntimeError('bad config')\n", "failed: RuntimeError: bad config"),
        ("gone/tasks.py", None, "cannot import 'gone/tasks.py': no such file"),
    ],
)
def test_a_module_that_cannot_be_imported_is_one_line_that_names_it(tmp_path, monkeypatch, name, source, message):
    if source is not None:
        (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [*sys.path, str(tmp_path)])
    with pytest.raises(envs.EnvImportError) as error:
        envs.import_modules([name])
    assert message in str(error.value) and "\n" not in str(error.value)
    assert isinstance(error.value, envs.ConfigError)  # the CLIs print it as one line and exit 2


def test_provider_names_the_distribution_that_owns_a_module():
    assert provider("rlvr.envs.math.env") == "rlvr-gym"
    assert provider("math_verify.parser") == "math-verify"
    assert provider("__main__") == "__main__"
    assert provider("anything", distribution="my-plugin") == "my-plugin"
