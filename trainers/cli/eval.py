"""``rlvr eval``: evaluate a checkpoint or a served model on any registered envs.

Every field of ``rlvr.trainers.pipelines.evaluation.EvalConfig`` is a flag
(``--max-new-tokens``), and a key of the YAML or JSON file given with
``--config``; ``--env`` repeats (``--env rlvr/Math-v0 --env
'rlvr/Arithmetic-v0:{"level": 2}'``). Bad input is one line naming the flag.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticUndefined

from rlvr.trainers.cli.flags import add_field_flag, default_text, describe_errors
from rlvr.trainers.pipelines.evaluation import EvalConfig

__all__ = ["add_eval_arguments", "run_eval_command"]


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config`` and one flag per ``EvalConfig`` field (``--env``, ``--model``, ``--endpoint``, ``--tasks``, ...)."""
    parser.add_argument("--config", type=Path, default=None, help="YAML or JSON file with eval fields")
    for name, field in EvalConfig.model_fields.items():
        required = field.default is PydanticUndefined and field.default_factory is None
        default = "required" if required else f"default: {default_text(field.get_default(call_default_factory=True))}"
        add_field_flag(parser, name, field, f"{field.description} ({default})", required=required)


def run_eval_command(args: argparse.Namespace) -> int:
    """Validate, evaluate, print one line per env and the total; returns 0.

    Raises:
        SystemExit: a bad flag or config file, an unloadable model, a server that refuses, a
            prompt over the model's context, or an output_dir holding another evaluation.
    """
    from rlvr.trainers.algorithms.config import load_config_file
    from rlvr.trainers.pipelines.evaluation import EvalConfigError, run_eval
    from rlvr.trainers.rollout.episodes import PromptTooLongError
    from rlvr.verifiers.openai_endpoint import EndpointError

    try:
        values: dict[str, Any] = load_config_file(args.config) if args.config else {}
        values.update({n: getattr(args, n) for n in EvalConfig.model_fields if getattr(args, n, None) is not None})
        config = EvalConfig(**values)
    except ValidationError as error:
        raise SystemExit(f"rlvr eval: invalid options: {describe_errors(error)}") from None
    except ValueError as error:
        raise SystemExit(f"rlvr eval: {error}") from None
    if not config.endpoint:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    try:
        result = run_eval(config)
    except OSError as error:
        raise SystemExit(f"rlvr eval: --model: {error}") from None
    except (EndpointError, EvalConfigError, PromptTooLongError) as error:
        raise SystemExit(f"rlvr eval: {error}") from None
    summary = result.summary
    for label, numbers in [*summary["envs"].items(), ("total", summary["total"])]:
        rates = "  ".join(f"{name} {_number(numbers[name])}" for name in numbers if _is_rate(name))
        failed = f"  ({numbers['failed']} requests failed)" if numbers.get("failed") else ""
        print(f"{label}: {rates}{failed}")
    print(f"samples and summary: {result.output_dir}")
    return 0


def _is_rate(name: str) -> bool:
    return name in ("accuracy", "reward") or name.startswith("pass@")


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"
