"""Envs from other code: installed plugins, and modules named on the command line.

A package adds envs to rlvr-gym by declaring an entry point in the group
``rlvr.envs`` in its own ``pyproject.toml``::

    [project.entry-points."rlvr.envs"]
    reverse = "rlvr_reverse"             # a module whose import registers its envs
    # or "rlvr_reverse.envs:register"    # a function, called with no arguments

The registry loads every installed plugin the first time it is used
(``rlvr.envs.make``, ``entry``, ``list_envs``), the way pytest finds its
plugins, so ``rlvr train --env reverse/Reverse-v0`` works once the package is
installed, with no import by hand. A plugin that fails to load is logged by
name with its error and listed by ``rlvr envs``; the other envs are unaffected.

Code that is not installed is imported by name or by path:
``import_modules(["my_envs", "tasks/reverse.py"])``, which is what
``rlvr train --import my_envs`` (or the config key ``import``) does before the
env id is resolved.

Each registered env records where it came from (``EnvEntry.module``, and
``EnvEntry.distribution`` for a plugin); ``provider`` turns that into the name
of the package to show.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field

from rlvr.envs.core.errors import EnvImportError

__all__ = [
    "ENTRY_POINT_GROUP",
    "EnvImportError",
    "EnvModules",
    "PluginFailure",
    "current_distribution",
    "import_modules",
    "load_plugins",
    "provider",
]

ENTRY_POINT_GROUP = "rlvr.envs"
"""The entry-point group that plugins declare their envs in."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginFailure:
    """An installed plugin whose entry point failed to load.

    Attributes:
        name: the entry point's name.
        target: what it points to, ``module`` or ``module:function``.
        distribution: the installed package that declares it.
        error: the exception, as ``Type: message``.
    """

    name: str
    target: str
    distribution: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.name!r} ({self.target}, from {self.distribution}) failed to load: {self.error}"


_state: dict[str, bool] = {"loaded": False}
_failures: list[PluginFailure] = []
_loading: list[str] = []  # the distribution whose plugin is being loaded, while it loads


def load_plugins(report: bool = True) -> list[PluginFailure]:
    """Load every installed plugin of ``ENTRY_POINT_GROUP`` once; later calls return at once.

    A plugin is loaded by importing its module (and calling its function, for
    ``module:function``). Any exception it raises, an id it registers twice
    included, is caught: the failure is recorded and, with ``report``, logged
    as a warning; the other plugins load as usual.

    Returns:
        The plugins that failed to load (empty when all loaded).
    """
    if _state["loaded"]:
        return list(_failures)
    _state["loaded"] = True  # set first: a plugin that uses the registry while it loads must not recurse
    for point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda p: (p.name, p.value)):
        distribution = point.dist.name if point.dist is not None else "an unknown package"
        try:
            with _loading_as(distribution):
                loaded = point.load()
                if point.attr is not None:
                    if not callable(loaded):
                        raise TypeError(f"{point.value} is not callable")
                    loaded()
        except Exception as error:
            failure = PluginFailure(point.name, point.value, distribution, f"{type(error).__name__}: {error}")
            _failures.append(failure)
            if report:
                logger.warning("rlvr: env %s; its envs are not registered", failure)
    return list(_failures)


def current_distribution() -> str | None:
    """The package whose plugin is loading right now, or None outside plugin loading."""
    return _loading[-1] if _loading else None


def import_modules(names: Iterable[str]) -> None:
    """Import modules that register envs, before an env id is resolved.

    Args:
        names: dotted module names (looked up on ``sys.path`` and then in the
            working directory, as ``python -m`` would) or paths to ``.py``
            files. A module already imported is not imported again.

    Raises:
        EnvImportError: a name that is no module or file, or a module whose
            import raised; the message names it and gives the reason in one line.
    """
    for name in names:
        if name.endswith(".py") or os.sep in name or "/" in name:
            _import_file(Path(name))
        else:
            _import_dotted(name)


class EnvModules(BaseModel):
    """The ``imports`` field of a config that names an env: modules to import before the id is resolved.

    Configs of commands that take an env id (``rlvr train``, ``sample``,
    ``sft``) subclass it; the field is the key ``import`` (or ``imports``) in a
    config file and the repeatable flag ``--import`` on the command line.
    """

    imports: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("import", "imports"),
        description="Modules that register envs of your own, imported before the env id is resolved: dotted names "
        "(from the working directory or installed) or .py paths. Installed plugins need none.",
        json_schema_extra={"flag": "import", "repeatable": True},
    )


def _import_dotted(name: str) -> None:
    working_directory = os.getcwd()
    if working_directory not in sys.path and "" not in sys.path:
        sys.path.append(working_directory)  # after the installed packages: a local folder never shadows them
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name is not None and (name == error.name or name.startswith(error.name + ".")):
            raise EnvImportError(
                f"cannot import {name!r}: no such module in the installed packages or in {working_directory} "
                "(give a dotted module name, or the path of a .py file)"
            ) from None
        raise EnvImportError(f"importing {name!r} failed: {type(error).__name__}: {error}") from error
    except Exception as error:
        raise EnvImportError(f"importing {name!r} failed: {type(error).__name__}: {error}") from error


def _import_file(path: Path) -> None:
    if not path.is_file():
        raise EnvImportError(f"cannot import {str(path)!r}: no such file")
    resolved = path.resolve()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file is not None and Path(file).resolve() == resolved:
            return
    name = path.stem if path.stem.isidentifier() else "_rlvr_env_module"
    if name in sys.modules:
        name = f"_rlvr_env_module_{len(sys.modules)}"
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise EnvImportError(f"cannot import {str(path)!r}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # classes defined there pickle and resolve by module name
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise EnvImportError(f"importing {str(path)!r} failed: {type(error).__name__}: {error}") from error


def provider(module: str, distribution: str | None = None) -> str:
    """The package to credit for an env registered by ``module``.

    The plugin's distribution when it came from one; else the installed
    distribution that owns ``module``'s top-level package; else the module name
    itself (a script, or a module imported with ``--import``).
    """
    if distribution is not None:
        return distribution
    owners = _distributions_by_package().get(module.split(".")[0])
    return owners[0] if owners else module


@functools.cache
def _distributions_by_package() -> dict[str, list[str]]:
    with contextlib.suppress(Exception):  # a broken installed package must not break a listing
        return {top: list(dict.fromkeys(names)) for top, names in metadata.packages_distributions().items()}
    return {}


@contextlib.contextmanager
def _loading_as(distribution: str) -> Iterator[None]:
    """Registrations inside the block come from ``distribution``'s plugin."""
    _loading.append(distribution)
    try:
        yield
    finally:
        _loading.pop()
