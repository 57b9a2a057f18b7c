"""``rlvr envs``: every registered env, the package that provides it, and its description.

Installed plugins are loaded first, so their envs are listed too; a plugin
that failed to load is listed after the envs with its error.
"""

from __future__ import annotations

import argparse

from rlvr.envs.cli.arguments import add_import_argument
from rlvr.envs.core.plugins import import_modules, load_plugins
from rlvr.envs.core.registration import entry, list_envs

__all__ = ["add_envs_arguments", "run_envs"]


def add_envs_arguments(parser: argparse.ArgumentParser) -> None:
    """``--import`` only: the listing then includes the envs those modules register."""
    add_import_argument(parser)


def run_envs(args: argparse.Namespace) -> int:
    """Print one line per env: id, providing package, description. Returns 0."""
    import_modules(args.imports)
    failures = load_plugins(report=False)  # listed below instead of logged
    rows = [(env_id, entry(env_id).provider, description) for env_id, description in list_envs().items()]
    id_width = max((len(row[0]) for row in rows), default=0)
    provider_width = max((len(row[1]) for row in rows), default=0)
    for env_id, provider, description in rows:
        print(f"{env_id:<{id_width}}  {provider:<{provider_width}}  {description}")
    for failure in failures:
        print(f"\n{failure}; its envs are missing")
    return 0
