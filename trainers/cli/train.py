"""``rlvr train``: any registered env, any trainer, any causal LM.

``--trainer`` picks an entry of ``TRAINERS`` (``grpo``, ``ppo``, ``trl``);
each names its config class and its training function, and nothing in the
env changes with it. Every config field of every trainer is a flag
(``--group-size 8``); ``--config`` reads the same fields (and, optionally,
``trainer``) from a YAML or JSON file, and flags given on the command line
override the file. Nested or structured fields (``--env-options``,
``--lora``) take JSON. A field the chosen trainer does not have is an error
that says which trainers take it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rlvr import envs
from rlvr.trainers.algorithms.config import GRPOConfig, PPOConfig, TrainerConfig, TrainerConfigError, load_config_file
from rlvr.trainers.cli.flags import add_field_flag, default_text, describe_errors

__all__ = ["TRAINERS", "TrainerSpec", "add_train_arguments", "config_from_args", "run_train"]


@dataclass(frozen=True)
class TrainerSpec:
    """A trainer as data: its config model and its training function.

    Attributes:
        config: the pydantic model of its fields.
        train: ``"module:function"``; the function takes a config and returns a
            result with ``output_dir``, ``eval_before`` and ``eval_after``.
            Imported only when the trainer is chosen.
        summary: one line for ``--help``.
    """

    config: type[TrainerConfig]
    train: str
    summary: str

    def load(self) -> Callable[[Any], Any]:
        """The training function."""
        module_name, function_name = self.train.split(":")
        return getattr(importlib.import_module(module_name), function_name)


TRAINERS: dict[str, TrainerSpec] = {
    "grpo": TrainerSpec(
        GRPOConfig, "rlvr.trainers.algorithms.grpo:train_grpo", "GRPO: group-relative advantages, no value model"
    ),
    "ppo": TrainerSpec(
        PPOConfig, "rlvr.trainers.algorithms.ppo:train_ppo", "PPO with a critic: per-token KL rewards, GAE"
    ),
    "trl": TrainerSpec(
        GRPOConfig, "rlvr.trainers.algorithms.trl_adapter:train_trl", "TRL's GRPOTrainer on the env's tasks and rubric"
    ),
}
"""Trainer name -> ``TrainerSpec``. A new trainer is one entry here."""

DEFAULT_TRAINER = "grpo"


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per config field of any trainer, plus ``--trainer`` and ``--config``."""
    summaries = "; ".join(f"{name}: {spec.summary}" for name, spec in TRAINERS.items())
    parser.add_argument(
        "--trainer",
        default=None,
        choices=sorted(TRAINERS),
        help=f"training algorithm (default: the config file's `trainer`, else {DEFAULT_TRAINER}). {summaries}",
    )
    parser.add_argument("--config", type=Path, default=None, help="YAML or JSON file with config fields")
    for name, owners in _fields_by_trainer().items():
        field = TRAINERS[owners[0]].config.model_fields[name]
        help_text = f"{field.description} ({_owners_text(owners)}default: {_defaults_text(name, owners)})"
        add_field_flag(parser, name, field, help_text)


def trainer_name(args: argparse.Namespace) -> str:
    """``--trainer``, else the config file's ``trainer``, else ``grpo``."""
    if args.trainer:
        return str(args.trainer)
    chosen = load_config_file(args.config).get("trainer") if args.config else None
    if chosen is None:
        return DEFAULT_TRAINER
    if chosen not in TRAINERS:
        raise ValueError(f"{args.config}: trainer {chosen!r} is not one of {', '.join(sorted(TRAINERS))}")
    return str(chosen)


def config_from_args(args: argparse.Namespace) -> TrainerConfig:
    """File values, then command-line values, validated as the chosen trainer's config."""
    config_class = TRAINERS[trainer_name(args)].config
    values: dict[str, Any] = load_config_file(args.config) if args.config else {}
    values.pop("trainer", None)
    flags = _fields_by_trainer()
    values.update({name: getattr(args, name) for name in flags if getattr(args, name, None) is not None})
    return config_class(**values)


def run_train(args: argparse.Namespace) -> int:
    """Validate the config, run the chosen trainer, print held-out accuracy before and after."""
    try:
        name = trainer_name(args)
        config = config_from_args(args)
    except ValidationError as error:
        raise SystemExit(f"rlvr train: invalid config: {_explain(error, name)}") from None
    except ValueError as error:
        raise SystemExit(f"rlvr train: {error}") from None
    envs.import_modules(config.imports)  # before the env id is resolved, and before anything heavy loads
    for ref in config.env_refs:
        envs.entry(ref.id)  # an unknown id: the message lists the registered ones

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # our own bar shows progress; theirs would interleave

    from rlvr.trainers.algorithms.rl_trainer import RunInterrupted
    from rlvr.trainers.rollout.episodes import PromptTooLongError

    train = TRAINERS[name].load()
    try:
        result = train(config)
    # A model that cannot be loaded, a field the trainer refuses, a prompt the model cannot see.
    except (OSError, TrainerConfigError, PromptTooLongError) as error:
        raise SystemExit(f"rlvr train: {error}") from None
    except RunInterrupted as stopped:
        print(f"rlvr train: {stopped}", file=sys.stderr)
        return 130
    before, after = result.eval_before, result.eval_after
    if getattr(result, "already_finished", False):
        print(f"rlvr train: {result.output_dir} holds a finished run of {result.steps} steps (more --steps trains on)")
    if not before:  # not process 0 of a multi-process run: it reports nothing
        return 0
    print(f"held-out accuracy: {before['accuracy']:.3f} before {name}, {after['accuracy']:.3f} after")
    print(f"held-out reward:   {before['reward']:.3f} before, {after['reward']:.3f} after")
    print(f"metrics, curves and checkpoints: {result.output_dir}")
    return 0


def _fields_by_trainer() -> dict[str, list[str]]:
    """Every config field of any trainer -> the trainers that have it, in ``TRAINERS`` order."""
    owners: dict[str, list[str]] = {}
    for trainer, spec in TRAINERS.items():
        for name in spec.config.model_fields:
            owners.setdefault(name, []).append(trainer)
    return owners


def _owners_text(owners: list[str]) -> str:
    return "" if len(owners) == len(TRAINERS) else f"{', '.join(owners)} only; "


def _defaults_text(name: str, owners: list[str]) -> str:
    defaults = {
        trainer: default_text(TRAINERS[trainer].config.model_fields[name].get_default(call_default_factory=True))
        for trainer in owners
    }
    if len(set(defaults.values())) == 1:
        return next(iter(defaults.values()))
    return ", ".join(f"{value} for {trainer}" for trainer, value in defaults.items())


def _nested_field_message(config: type[TrainerConfig], loc: tuple[Any, ...]) -> str:
    """For an unknown key inside a structured field: the field's valid keys, e.g. LoRA's ``r, alpha, ...``."""
    model: Any = config
    for part in loc[:-1]:
        fields = getattr(model, "model_fields", None)
        annotation = fields[part].annotation if fields and part in fields else None
        model = annotation if isinstance(annotation, type) and hasattr(annotation, "model_fields") else None
        if model is None:
            return "not a valid key here"
    return f"not a field of {loc[-2]}; its fields are {', '.join(model.model_fields)}"


def _explain(error: ValidationError, trainer: str) -> str:
    """Each problem as ``--flag: message``; a field of another trainer says which trainers take it."""
    owners = _fields_by_trainer()

    def message(item: dict[str, Any]) -> str:
        if item["type"] != "extra_forbidden":
            return str(item["msg"])
        if len(item["loc"]) > 1:  # a key inside a structured field, e.g. --lora '{"rank": 4}'
            return _nested_field_message(TRAINERS[trainer].config, item["loc"])
        field = str(item["loc"][0]) if item["loc"] else ""
        taken_by = f" (it is one of {', '.join(owners[field])})" if field in owners else ""
        return f"not an option of the {trainer} trainer{taken_by}"

    return describe_errors(error, message)
