"""Pydantic config fields as command-line flags: one ``--flag`` per field, parsed by the field's type.

Shared by ``rlvr train`` (``rlvr.trainers.cli.train``) and ``rlvr sample`` / ``rlvr sft``
(``rlvr.trainers.cli.sample_sft``). A field ``max_new_tokens`` becomes ``--max-new-tokens``;
numbers parse as numbers, strings, paths and literals as text, booleans as
``true``/``false`` (also ``1/0``, ``yes/no``, ``on/off``), and everything else
(dicts, lists, nested models) as JSON. Every flag defaults to None, so a
command can tell a flag given on the command line from one left out.
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
from pydantic.fields import FieldInfo

__all__ = ["add_field_flag", "base_type", "default_text", "describe_errors", "flag_name", "parse_bool", "value_parser"]


def flag_name(field: str) -> str:
    """``max_new_tokens`` -> ``--max-new-tokens``."""
    return "--" + field.replace("_", "-")


def add_field_flag(
    parser: argparse.ArgumentParser, name: str, field: FieldInfo, help_text: str, required: bool = False
) -> None:
    """Add the flag of config field ``name`` to ``parser``, with ``dest=name`` and default None.

    A field may rename its flag and make it repeatable through its
    ``json_schema_extra``: ``{"flag": "import", "repeatable": True}`` gives
    ``--import A --import B`` -> ``["A", "B"]``.
    """
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if extra.get("repeatable"):
        parser.add_argument(
            "--" + str(extra.get("flag", name)).replace("_", "-"),
            dest=name,
            action="append",
            default=None,
            metavar=str(extra.get("flag", name)).upper(),
            required=required,
            help=help_text + " Repeat the flag for several.",
        )
    elif base_type(field.annotation) is bool:
        parser.add_argument(
            flag_name(name), dest=name, type=parse_bool, default=None, metavar="BOOL", required=required, help=help_text
        )
    else:
        parser.add_argument(
            flag_name(name),
            dest=name,
            type=value_parser(field.annotation),
            default=None,
            required=required,
            help=help_text,
        )


def base_type(annotation: Any) -> Any:
    """``bool | None`` -> ``bool``; other annotations unchanged."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def value_parser(annotation: Any) -> Callable[[str], Any]:
    """How a flag of type ``annotation`` reads its text: int, float, text, or JSON."""
    base = base_type(annotation)
    if base in (int, float):
        return typing.cast(Callable[[str], Any], base)
    if base is str or base is Path or typing.get_origin(base) is typing.Literal:
        return str
    return _json


def parse_bool(text: str) -> bool:
    """``true/false``, ``1/0``, ``yes/no``, ``on/off`` (any case); an argparse error otherwise."""
    lowered = text.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def default_text(value: Any) -> str:
    """A default value as ``--help`` shows it (JSON for dicts, lists and nested models)."""
    if isinstance(value, BaseModel):
        return json.dumps(value.model_dump(mode="json"))
    plain = lambda item: item.model_dump(mode="json") if isinstance(item, BaseModel) else str(item)  # noqa: E731
    return json.dumps(value, default=plain) if isinstance(value, dict | list) else str(value)


def describe_errors(error: ValidationError, message: Callable[[dict[str, Any]], str] | None = None) -> str:
    """A config's validation errors as ``--flag: message; --flag: message``.

    ``message`` may rewrite an error's message (it gets pydantic's error dict); by default pydantic's own.
    """
    problems = []
    for item in error.errors():
        location = ".".join(map(str, item["loc"])).replace("_", "-")
        text = message(dict(item)) if message else item["msg"]
        problems.append(f"--{location}: {text}" if location else text)
    return "; ".join(problems)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected JSON, got {text!r} ({error})") from None
