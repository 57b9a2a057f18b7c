"""Task environments with verifiable rewards, registered in gymnasium under ``rlvr/``.

Importing ``envs`` registers every built-in family::

    import gymnasium, envs
    env = gymnasium.make("rlvr/Arithmetic-v0")
    prompt, info = env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(completion)

``envs.register`` adds a family of your own, ``envs.list_envs()`` lists the ids.
"""

from envs.registration import (
    ConfigError,
    EnvEntry,
    UnknownEnvError,
    entry,
    list_envs,
    make,
    register,
)
from envs.task import DatasetSource, FunctionSource, ProceduralSource, Task, TaskSource
from envs.templates import BUILTIN_TEMPLATES, PromptTemplate
from envs.text_env import EnvConfig, TextEnv

# Built-in families register themselves on import.
from envs import arithmetic  # noqa: F401  isort: skip
from envs import code  # noqa: F401  isort: skip
from envs import math  # noqa: F401  isort: skip
from envs import function_calling  # noqa: F401  isort: skip
from envs import instruction_following  # noqa: F401  isort: skip

__all__ = [
    "BUILTIN_TEMPLATES",
    "ConfigError",
    "DatasetSource",
    "EnvConfig",
    "EnvEntry",
    "FunctionSource",
    "ProceduralSource",
    "PromptTemplate",
    "Task",
    "TaskSource",
    "TextEnv",
    "UnknownEnvError",
    "entry",
    "list_envs",
    "make",
    "register",
]
