"""``rlvr sample`` and ``rlvr sft``: the command-line glue of rejection sampling and SFT on a data set.

Every field of ``rlvr.trainers.pipelines.sample.SampleConfig`` and ``rlvr.trainers.pipelines.sft.SFTConfig``
is a flag (``max_new_tokens`` -> ``--max-new-tokens``); dict fields
(``--env-options``) take JSON, booleans ``true``/``false``. Fields without a
default (``--data``) are required. Bad input exits with a message that names
the flag (``rlvr sft: --data runs/x: no such file or directory``).

Wire into ``rlvr`` as ``sample`` (``add_sample_arguments``, ``run_sample``) and
``sft`` (``add_sft_arguments``, ``run_sft``); ``SAMPLE_HELP`` and ``SFT_HELP``
are their one-line help texts.
"""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from rlvr.trainers.cli.flags import add_field_flag, default_text, describe_errors
from rlvr.trainers.pipelines.sample import SampleConfig
from rlvr.trainers.pipelines.sft import SFTConfig

__all__ = ["SAMPLE_HELP", "SFT_HELP", "add_sample_arguments", "add_sft_arguments", "run_sample", "run_sft"]

SAMPLE_HELP = "rejection sampling: keep the completions the env's verifiers accept, as an SFT data set"
"""One-line help of ``rlvr sample``."""

SFT_HELP = "supervised fine-tuning on a data set of prompts and completions (e.g. from `rlvr sample`)"
"""One-line help of ``rlvr sft``."""


def add_sample_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per ``SampleConfig`` field (``--env``, ``--model``, ``--prompts``, ``--k``, ``--out``, ...)."""
    _add_fields(parser, SampleConfig)


def add_sft_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per ``SFTConfig`` field (``--data`` required; ``--model``, ``--out``, ``--steps``, ...)."""
    _add_fields(parser, SFTConfig)


def run_sample(args: argparse.Namespace) -> int:
    """Validate the flags, run ``rlvr.trainers.pipelines.sample.sample``, print what was kept and where. Returns 0.

    Raises:
        SystemExit: an invalid flag value or a model that cannot be loaded (the message names the flag).
    """
    from rlvr.trainers.pipelines.sample import grader_checks, sample
    from rlvr.trainers.rollout.episodes import PromptTooLongError

    config = _config(args, SampleConfig, "sample")
    _quiet_transformers()
    try:
        checks = grader_checks(config)
    except OSError as error:
        raise SystemExit(f"rlvr sample: --grader-model: {error}") from None
    try:
        result = sample(config, checks)
    except OSError as error:
        raise SystemExit(f"rlvr sample: --model: {error}") from None
    except PromptTooLongError as error:
        raise SystemExit(f"rlvr sample: {error}") from None
    summary = result.summary
    print(
        f"accepted {summary['accepted']} of {summary['drawn']} completions "
        f"({summary['acceptance_rate']:.1%}, min reward {summary['min_reward']:g}); "
        f"kept {summary['kept']} distinct"
    )
    print(f"prompts with no accepted completion: {len(summary['unsolved'])} of {len(summary['per_prompt'])}")
    print(f"data set: {result.output_dir / 'data'} (and samples.jsonl); summary: {result.output_dir / 'summary.json'}")
    return 0


def run_sft(args: argparse.Namespace) -> int:
    """Validate the flags, run ``rlvr.trainers.pipelines.sft.train_sft``, print loss and held-out accuracy. Returns 0.

    Raises:
        SystemExit: an invalid flag, unusable data (missing file, missing
            columns: the message lists the columns), or a model that cannot be
            loaded; the message names the flag.
    """
    from rlvr.trainers.pipelines.sft import SFTInputError, train_sft
    from rlvr.trainers.rollout.episodes import PromptTooLongError

    config = _config(args, SFTConfig, "sft")
    _quiet_transformers()
    try:
        result = train_sft(config)
    except SFTInputError as error:
        raise SystemExit(f"rlvr sft: --{error.field.replace('_', '-')} {error.message}") from None
    except OSError as error:
        raise SystemExit(f"rlvr sft: --model: {error}") from None
    except PromptTooLongError as error:
        raise SystemExit(f"rlvr sft: {error}") from None
    losses = result.losses
    print(f"SFT on {result.examples} examples, {len(losses)} steps: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    if result.eval_before:
        before, after = result.eval_before, result.eval_after
        print(f"held-out accuracy: {before['accuracy']:.3f} before, {after['accuracy']:.3f} after")
        print(f"held-out reward:   {before['reward']:.3f} before, {after['reward']:.3f} after")
    print(f"model: {result.model_dir}; metrics and curves: {result.output_dir}")
    return 0


# --- helpers --------------------------------------------------------------------------


def _add_fields(parser: argparse.ArgumentParser, model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        required = field.default is PydanticUndefined and field.default_factory is None
        default = "required" if required else f"default: {default_text(field.get_default(call_default_factory=True))}"
        add_field_flag(parser, name, field, f"{field.description} ({default})", required=required)


def _config(args: argparse.Namespace, model: type[Any], command: str) -> Any:
    values = {name: getattr(args, name) for name in model.model_fields if getattr(args, name, None) is not None}
    try:
        return model(**values)
    except ValidationError as error:
        raise SystemExit(f"rlvr {command}: invalid options: {describe_errors(error)}") from None


def _quiet_transformers() -> None:
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # our own bar shows progress; theirs would interleave
