"""``rlvr train``: any registered env, any trainer, any causal LM.

Every ``GRPOConfig`` field is a flag (``--group-size 8``); ``--config`` reads
the same fields from a YAML or JSON file, and flags given on the command line
override the file. Nested or structured fields (``--env-options``, ``--lora``)
take JSON.
"""

from __future__ import annotations

import argparse
import json
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from trainers.config import GRPOConfig, TrainerConfigError, load_config_file

__all__ = ["TRAINERS", "add_train_arguments", "run_train"]

TRAINERS: dict[str, str] = {"grpo": "trainers.grpo:train_grpo", "trl": "trainers.trl_adapter:train_trl"}
"""Trainer name -> ``module:function`` taking a config; imported only when chosen."""


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per config field, plus ``--trainer`` and ``--config``."""
    parser.add_argument("--trainer", default="grpo", choices=sorted(TRAINERS), help="training algorithm")
    parser.add_argument("--config", type=Path, default=None, help="YAML or JSON file with config fields")
    for name, field in GRPOConfig.model_fields.items():
        flag = "--" + name.replace("_", "-")
        help_text = f"{field.description} (default: {_default_text(field.get_default(call_default_factory=True))})"
        if _base_type(field.annotation) is bool:
            parser.add_argument(flag, dest=name, type=_parse_bool, default=None, metavar="BOOL", help=help_text)
        else:
            parser.add_argument(flag, dest=name, type=_parser(field.annotation), default=None, help=help_text)


def config_from_args(args: argparse.Namespace) -> GRPOConfig:
    """File values, then command-line values, validated as one ``GRPOConfig``."""
    values: dict[str, Any] = load_config_file(args.config) if args.config else {}
    values.update({name: getattr(args, name) for name in GRPOConfig.model_fields if getattr(args, name) is not None})
    return GRPOConfig(**values)


def run_train(args: argparse.Namespace) -> int:
    """Validate the config, run the chosen trainer, print held-out accuracy before and after."""
    try:
        config = config_from_args(args)
    except ValidationError as error:
        problems = "; ".join(f"--{'.'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in error.errors())
        raise SystemExit(f"rlvr train: invalid config: {problems}") from None
    module_name, function_name = TRAINERS[args.trainer].split(":")
    import importlib

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # our own bar shows progress; theirs would interleave

    train: Callable[[GRPOConfig], Any] = getattr(importlib.import_module(module_name), function_name)
    try:
        result = train(config)
    except (OSError, TrainerConfigError) as error:  # a model that cannot be loaded, a field the trainer refuses
        raise SystemExit(f"rlvr train: {error}") from None
    before, after = result.eval_before, result.eval_after
    if not before:  # not process 0 of a multi-process run: it reports nothing
        return 0
    print(f"held-out accuracy: {before['accuracy']:.3f} before {args.trainer}, {after['accuracy']:.3f} after")
    print(f"held-out reward:   {before['reward']:.3f} before, {after['reward']:.3f} after")
    print(f"metrics, curves and checkpoints: {result.output_dir}")
    return 0


def _base_type(annotation: Any) -> Any:
    """``bool | None`` -> ``bool``; other annotations unchanged."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _parser(annotation: Any) -> Callable[[str], Any]:
    base = _base_type(annotation)
    if base in (int, float):
        return base
    if base is str or base is Path or typing.get_origin(base) is typing.Literal:
        return str
    return json.loads  # dicts, lists, nested models: JSON on the command line


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _default_text(value: Any) -> str:
    if isinstance(value, BaseModel):
        return json.dumps(value.model_dump(mode="json"))
    return json.dumps(value) if isinstance(value, dict | list) else str(value)
