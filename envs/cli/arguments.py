"""The env flags that every ``rlvr`` subcommand spells the same way.

``--env-options`` takes the env's options as JSON (``--options`` is kept as
an alias) and ``--import`` names modules that register envs of your own. The
subcommands whose flags come from a config model (``train``, ``sample``,
``sft``) get the same two flags from its fields (``env_options`` and
``rlvr.envs.core.plugins.EnvModules.imports``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rlvr.envs.core.errors import ConfigError

__all__ = ["add_env_options_argument", "add_import_argument", "env_options"]


def add_import_argument(parser: argparse.ArgumentParser) -> None:
    """``--import MODULE`` (repeatable; ``dest="imports"``, a list, empty when not given)."""
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="a module that registers envs of your own, imported before the env id is resolved: a dotted name "
        "(from the working directory or installed) or a .py path. Repeat for several. Installed plugins need none.",
    )


def add_env_options_argument(parser: argparse.ArgumentParser, help_text: str = "env options as JSON") -> None:
    """``--env-options JSON`` (alias ``--options``; ``dest="env_options"``, the text, ``"{}"`` by default)."""
    parser.add_argument(
        "--env-options",
        "--options",
        dest="env_options",
        default="{}",
        metavar="JSON",
        help=f"{help_text}, e.g. '{{\"digits\": [3, 3]}}'",
    )


def env_options(text: str) -> dict[str, Any]:
    """The parsed ``--env-options``: a JSON object, else a ``ConfigError`` that says what was given."""
    try:
        options = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"--env-options: expected a JSON object, got {text!r} ({error})") from None
    if not isinstance(options, dict):
        raise ConfigError(f"--env-options: expected a JSON object, got {text!r}")
    return options
