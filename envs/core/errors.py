"""The errors of the env registry: each message says what was wrong and what is valid."""

from __future__ import annotations

__all__ = ["ConfigError", "EnvImportError", "UnknownEnvError"]


class UnknownEnvError(KeyError):
    """An env id that is not registered; the message lists the registered ones."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class ConfigError(ValueError):
    """A bad option to an environment; the message names the field."""


class EnvImportError(ConfigError):
    """A module named to register envs could not be imported; the message says which and why, in one line."""
