"""The ``rlvr`` command line.

    rlvr envs                         list registered environments
    rlvr demo [--env ID] [--seed N]   show a prompt and score sample completions
    rlvr train --env ID --model M     train a model on an env (see --help for every option)
    rlvr sandbox build|check|status   the Docker sandbox of the code environments
    rlvr decontaminate --train T --eval E   drop training items that overlap evaluation sets
    rlvr sample --env ID --model M    rejection sampling: keep the completions the env's verifiers accept
    rlvr sft --data D --model M       supervised fine-tuning on such a data set

Each subcommand is a function ``(args) -> exit code`` plus a parser set-up;
``COMMANDS`` maps names to them, so adding one is one entry.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

import envs


def _envs(args: argparse.Namespace) -> int:
    listing = envs.list_envs()
    width = max(map(len, listing), default=0)
    for env_id, description in listing.items():
        print(f"{env_id:<{width}}  {description}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from envs.demo import run_demo

    options = json.loads(args.options)
    if args.template:
        options["template"] = args.template
    run_demo(args.env, args.seed, options)
    return 0


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="rlvr/Arithmetic-v0", help="env id (see `rlvr envs`)")
    parser.add_argument("--seed", type=int, default=0, help="reset seed: picks the task")
    parser.add_argument("--template", default=None, help="prompt template name, e.g. fireworks or r1")
    parser.add_argument("--options", default="{}", help="env options as JSON, e.g. '{\"digits\": [3, 3]}'")


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    from trainers.cli import add_train_arguments

    add_train_arguments(parser)


def _train(args: argparse.Namespace) -> int:
    from trainers.cli import run_train

    return run_train(args)


def _sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    from sandbox.cli import add_sandbox_arguments

    add_sandbox_arguments(parser)


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox.cli import run_sandbox

    return run_sandbox(args)


def _decontaminate_arguments(parser: argparse.ArgumentParser) -> None:
    from envs.decontaminate import add_decontaminate_arguments

    add_decontaminate_arguments(parser)


def _decontaminate(args: argparse.Namespace) -> int:
    from envs.decontaminate import run_decontaminate

    return run_decontaminate(args)


def _sample_arguments(parser: argparse.ArgumentParser) -> None:
    from trainers.sft_cli import add_sample_arguments

    add_sample_arguments(parser)


def _sample(args: argparse.Namespace) -> int:
    from trainers.sft_cli import run_sample

    return run_sample(args)


def _sft_arguments(parser: argparse.ArgumentParser) -> None:
    from trainers.sft_cli import add_sft_arguments

    add_sft_arguments(parser)


def _sft(args: argparse.Namespace) -> int:
    from trainers.sft_cli import run_sft

    return run_sft(args)


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "envs": ("list registered environments", lambda parser: None, _envs),
    "demo": ("show a prompt and score sample completions", _demo_arguments, _demo),
    "train": ("train a model on an env (GRPO, PPO or TRL)", _train_arguments, _train),
    "sandbox": ("build and check the Docker sandbox for model-written code", _sandbox_arguments, _sandbox),
    "decontaminate": (
        "drop training items that overlap evaluation sets (Tulu 3's 8-gram rule)",
        _decontaminate_arguments,
        _decontaminate,
    ),
    "sample": ("rejection sampling: keep the completions the env's verifiers accept", _sample_arguments, _sample),
    "sft": ("supervised fine-tuning on prompts and completions (e.g. from rlvr sample)", _sft_arguments, _sft),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rlvr``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="rlvr", description="RL from verifiable rewards: environments and trainers.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub)
        sub.set_defaults(run=run)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (envs.UnknownEnvError, envs.ConfigError, json.JSONDecodeError) as error:
        print(f"rlvr {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
