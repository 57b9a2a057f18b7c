"""The one error of the sandbox: it cannot run, and the message says how to fix that."""

from __future__ import annotations

__all__ = ["SandboxUnavailable"]


class SandboxUnavailable(RuntimeError):
    """Docker or the sandbox image is missing, or the engine is unreachable; the message says what to do."""
