"""``rlvr audit``: audit envs' rewards (right answers, gaming strategies, properties) and print a table per env.

    rlvr audit rlvr/Math-v0                 one env, its default template
    rlvr audit rlvr/Math-v0 --env-options '{"template": "r1"}'
    rlvr audit --all                        every registered env (installed plugins' too)

Exits 0 when every env passes, 1 when any fails (a strategy reaches the
reward of a right answer, a right answer misses it, or a property fails).
"""

from __future__ import annotations

import argparse

from rlvr.envs.audit.report import audit
from rlvr.envs.cli.arguments import add_env_options_argument, add_import_argument, env_options
from rlvr.envs.core.errors import ConfigError
from rlvr.envs.core.plugins import import_modules
from rlvr.envs.core.registration import list_envs

__all__ = ["add_audit_arguments", "run_audit"]


def add_audit_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``rlvr audit``."""
    parser.add_argument("env", nargs="*", help="env ids to audit (see `rlvr envs`)")
    parser.add_argument("--all", action="store_true", help="audit every registered env")
    parser.add_argument("--tasks", type=int, default=20, help="tasks per env (seeds --seed, --seed + 1, ...)")
    parser.add_argument("--seed", type=int, default=0, help="the first task's seed")
    parser.add_argument("--examples", type=int, default=20, help="hypothesis examples per property (0: no properties)")
    add_env_options_argument(parser)
    add_import_argument(parser)


def run_audit(args: argparse.Namespace) -> int:
    """Audit each env and print its table; the exit code (0 all passed, 1 any failed)."""
    import_modules(args.imports)
    env_ids = list(list_envs()) if args.all else list(args.env)
    if not env_ids:
        raise ConfigError("name env ids to audit, or --all")
    options = env_options(args.env_options)
    failed = []
    for env_id in env_ids:
        report = audit(
            env_id, options, args.tasks, args.seed, properties=args.examples > 0, property_examples=args.examples
        )
        print(report.table(), end="\n\n", flush=True)
        if not report.passed:
            failed.append(env_id)
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print(f"passed: {len(env_ids)} env(s)")
    return 0
