"""Task environments with verifiable rewards, registered in gymnasium under ``rlvr/``.

Importing ``rlvr.envs`` registers every built-in family::

    import gymnasium
    from rlvr import envs

    env = gymnasium.make("rlvr/Arithmetic-v0")  # or envs.make(...), which lists the valid ids on a typo
    prompt, info = env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(completion)

``envs.register`` adds a family of your own, ``envs.list_envs()`` lists the
ids. Installed plugins (entry-point group ``rlvr.envs``) register their envs
the first time the registry is used; ``envs.import_modules`` imports modules of
your own that register envs.

The subpackages: ``core`` (the text env, tasks, templates, the registry and
plugins), one folder per built-in family (``arithmetic``, ``math``,
``function_calling``, ``instruction_following``, ``code``), ``data``
(export to ``datasets``, decontamination) and ``cli`` (the ``rlvr envs`` and
``rlvr demo`` subcommands).
"""

from rlvr.envs.core.errors import ConfigError, EnvImportError, UnknownEnvError
from rlvr.envs.core.plugins import ENTRY_POINT_GROUP, PluginFailure, import_modules, load_plugins
from rlvr.envs.core.registration import EnvEntry, entry, list_envs, make, register
from rlvr.envs.core.task import DatasetSource, FunctionSource, ProceduralSource, Task, TaskSource
from rlvr.envs.core.templates import BUILTIN_TEMPLATES, PromptTemplate
from rlvr.envs.core.text_env import EnvConfig, TextEnv

# Built-in families register themselves on import.
from rlvr.envs.arithmetic import env as _arithmetic  # noqa: F401  isort: skip
from rlvr.envs.code import env as _code  # noqa: F401  isort: skip
from rlvr.envs.math import env as _math  # noqa: F401  isort: skip
from rlvr.envs.function_calling import env as _function_calling  # noqa: F401  isort: skip
from rlvr.envs.instruction_following import env as _instruction_following  # noqa: F401  isort: skip

__all__ = [
    "BUILTIN_TEMPLATES",
    "ENTRY_POINT_GROUP",
    "ConfigError",
    "DatasetSource",
    "EnvConfig",
    "EnvEntry",
    "EnvImportError",
    "FunctionSource",
    "PluginFailure",
    "ProceduralSource",
    "PromptTemplate",
    "Task",
    "TaskSource",
    "TextEnv",
    "UnknownEnvError",
    "entry",
    "import_modules",
    "list_envs",
    "load_plugins",
    "make",
    "register",
]
