"""The ``rlvr`` command line: the subcommand table and the entry point.

    rlvr envs                         list registered environments (plugins' too) and their packages
    rlvr demo [--env ID] [--seed N]   show a prompt and score sample completions
    rlvr train --env ID --model M     train a model on an env (see --help for every option)
    rlvr sample --env ID --model M    rejection sampling: keep the completions the env's verifiers accept
    rlvr sft --data D --model M       supervised fine-tuning on such a data set
    rlvr audit ID [ID ...] | --all    measure how far an env's reward can be gamed
    rlvr serve --env ID [--port P]    serve an env over the network (OpenEnv); clients make it with remote=URL
    rlvr decontaminate --train T --eval E   drop training items that overlap evaluation sets
    rlvr sandbox build|check|status   the Docker sandbox of the code environments

Each subcommand's code stays with its package (``rlvr.envs.cli``,
``rlvr.trainers.cli``, ``rlvr.sandbox.cli``, ...); ``COMMANDS`` maps names to
it as data, so adding one is one entry. Only the chosen subcommand's module is
imported, so ``rlvr envs`` needs none of the training extras.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from rlvr import __version__

__all__ = ["COMMANDS", "Command", "build_parser", "main"]


@dataclass(frozen=True)
class Command:
    """A subcommand as data.

    Attributes:
        help: one line for ``rlvr --help``.
        arguments: ``"module:function"`` that adds the subcommand's flags to its parser.
        run: ``"module:function"`` that runs it: ``(args) -> exit code``.
        extra: the install extra its code needs (``pip install 'rlvr-gym[extra]'``), if any.
    """

    help: str
    arguments: str
    run: str
    extra: str | None = None

    @staticmethod
    def load(target: str) -> Callable[..., Any]:
        """The function at ``"module:function"``."""
        module_name, function_name = target.split(":")
        function: Callable[..., Any] = getattr(importlib.import_module(module_name), function_name)
        return function


COMMANDS: dict[str, Command] = {
    "envs": Command(
        "list registered environments and the package that provides each",
        "rlvr.envs.cli.listing:add_envs_arguments",
        "rlvr.envs.cli.listing:run_envs",
    ),
    "demo": Command(
        "show a prompt and score sample completions",
        "rlvr.envs.cli.demo:add_demo_arguments",
        "rlvr.envs.cli.demo:run_demo_command",
    ),
    "train": Command(
        "train a model on an env (GRPO, PPO or TRL)",
        "rlvr.trainers.cli.train:add_train_arguments",
        "rlvr.trainers.cli.train:run_train",
        extra="train",
    ),
    "sample": Command(
        "rejection sampling: keep the completions the env's verifiers accept",
        "rlvr.trainers.cli.sample_sft:add_sample_arguments",
        "rlvr.trainers.cli.sample_sft:run_sample",
        extra="train",
    ),
    "sft": Command(
        "supervised fine-tuning on prompts and completions (e.g. from rlvr sample)",
        "rlvr.trainers.cli.sample_sft:add_sft_arguments",
        "rlvr.trainers.cli.sample_sft:run_sft",
        extra="train",
    ),
    "eval": Command(
        "evaluate a checkpoint or a served model (OpenAI-compatible) on any envs: accuracy, reward, pass@k",
        "rlvr.trainers.cli.eval:add_eval_arguments",
        "rlvr.trainers.cli.eval:run_eval_command",
        extra="train",
    ),
    "runs": Command(
        "compare training runs: a table (trainer, env, accuracy before and after, time) and their curves",
        "rlvr.trainers.cli.runs:add_runs_arguments",
        "rlvr.trainers.cli.runs:run_runs",
        extra="train",
    ),
    "serve": Command(
        "serve an env over the network as an OpenEnv environment",
        "rlvr.envs.cli.serve:add_serve_arguments",
        "rlvr.envs.cli.serve:run_serve",
        extra="serve",
    ),
    "audit": Command(
        "audit an env's reward: right answers, gaming strategies, properties",
        "rlvr.envs.cli.audit:add_audit_arguments",
        "rlvr.envs.cli.audit:run_audit",
    ),
    "decontaminate": Command(
        "drop training items that overlap evaluation sets (Tulu 3's 8-gram rule)",
        "rlvr.envs.data.decontaminate:add_decontaminate_arguments",
        "rlvr.envs.data.decontaminate:run_decontaminate",
    ),
    "sandbox": Command(
        "build and check the Docker sandbox for model-written code",
        "rlvr.sandbox.cli:add_sandbox_arguments",
        "rlvr.sandbox.cli:run_sandbox",
        extra="sandbox",
    ),
}
"""Subcommand name -> ``Command``."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rlvr``; returns the exit code.

    Bad input (an unknown env id, a bad option, a module that cannot be
    imported) exits with code 2 and one line on stderr that names it.
    """
    from rlvr import envs

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    command = COMMANDS[args.command]
    try:
        return int(_call(args.command, command, command.run, args))
    except (envs.UnknownEnvError, envs.ConfigError, json.JSONDecodeError) as error:
        print(f"rlvr {args.command}: {error}", file=sys.stderr)
        return 2


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The ``rlvr`` parser for ``argv``: every subcommand listed, only the chosen one's flags added (and imported)."""
    chosen = next((word for word in argv if not word.startswith("-")), None)
    parser = argparse.ArgumentParser(prog="rlvr", description="RL from verifiable rewards: environments and trainers.")
    parser.add_argument("--version", action="version", version=f"rlvr-gym {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_OneLineErrors)
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        if name == chosen:
            _call(name, command, command.arguments, sub)
    return parser


class _OneLineErrors(argparse.ArgumentParser):
    """A subcommand's parser whose errors are one line naming the flag, not the whole usage first."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (`{self.prog} --help` lists every option)\n")


def _call(name: str, command: Command, target: str, argument: Any) -> Any:
    """Import and call ``target``; a missing optional dependency says which extra to install."""
    try:
        return command.load(target)(argument)
    except ModuleNotFoundError as error:
        if command.extra is None or (error.name or "").startswith("rlvr"):
            raise
        raise SystemExit(
            f"rlvr {name}: needs the {command.extra!r} extra ({error}); pip install 'rlvr-gym[{command.extra}]'"
        ) from None


if __name__ == "__main__":
    sys.exit(main())
