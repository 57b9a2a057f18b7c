"""The key-value cache argument of a transformers causal LM, under the name its version uses.

transformers 5.25 renamed a forward's ``past_key_values`` argument and output
to ``cache`` (the old name still works there, with a deprecation warning on
every start, and goes in 5.40); earlier versions know only
``past_key_values``. ``cache_kwargs`` and ``output_cache`` pick the name the
installed version and the model's class take, looking through DDP and peft
wrappers.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["cache_kwargs", "output_cache"]


def cache_kwargs(model: Any, cache: Any) -> dict[str, Any]:
    """``{"cache": cache}`` where ``model``'s forward takes ``cache``, else ``{"past_key_values": cache}``."""
    return {_cache_argument(type(_innermost(model))): cache}


def output_cache(output: Any) -> Any:
    """The key-value cache a forward returned (``output.cache``, or ``output.past_key_values`` before 5.25)."""
    if "cache" in output:
        return output["cache"]
    return output.past_key_values


def _innermost(model: Any) -> Any:
    """The transformers model inside DDP (``.module``) and peft (``get_base_model()``) wrappers."""
    while True:
        if hasattr(model, "module") and not hasattr(model, "config"):
            model = model.module
        elif hasattr(model, "get_base_model"):
            model = model.get_base_model()
        else:
            return model


_ARGUMENT_BY_CLASS: dict[Any, str] = {}


def _cache_argument(model_class: Any) -> str:
    """``cache`` or ``past_key_values``: the argument ``model_class.forward`` takes (looked up once per class)."""
    if model_class not in _ARGUMENT_BY_CLASS:
        parameters = inspect.signature(model_class.forward).parameters
        _ARGUMENT_BY_CLASS[model_class] = "cache" if "cache" in parameters else "past_key_values"
    return _ARGUMENT_BY_CLASS[model_class]
