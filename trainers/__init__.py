"""Trainers that train a language model on any registered environment, by env id.

``train_grpo(GRPOConfig(...))`` and ``train_ppo(PPOConfig(...))`` are the
entry points (``rlvr train --trainer grpo|ppo|trl`` on the command line). They
are imported on first use, so importing this package loads no torch.

The subpackages, one role each: ``algorithms`` (GRPO, PPO, the loop they
share, the TRL adapter, the configs), ``losses`` (the maths, as pure
functions), ``rollout`` (generation and episodes), ``models`` (policies, the
critic, log-probs), ``run`` (checkpoints, metrics, evaluation, processes),
``pipelines`` (SFT, rejection sampling) and ``cli`` (the subcommands).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlvr.trainers.algorithms.config import GRPOConfig, PPOConfig, TrainerConfig
    from rlvr.trainers.algorithms.grpo import train_grpo
    from rlvr.trainers.algorithms.ppo import train_ppo

__all__ = ["GRPOConfig", "PPOConfig", "TrainerConfig", "train_grpo", "train_ppo"]

_HOMES = {
    "GRPOConfig": "rlvr.trainers.algorithms.config",
    "PPOConfig": "rlvr.trainers.algorithms.config",
    "TrainerConfig": "rlvr.trainers.algorithms.config",
    "train_grpo": "rlvr.trainers.algorithms.grpo",
    "train_ppo": "rlvr.trainers.algorithms.ppo",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
