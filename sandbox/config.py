"""Limits and sizes of the sandbox, one pydantic model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["SandboxConfig"]

RUNNER_PROCESSES = 8
"""Processes the sandbox itself may need at once in a container: runner, zygote, spares, judge, cleaner, killers."""


class SandboxConfig(BaseModel):
    """How each container is confined and how many run at once.

    Every limit is enforced by the kernel (cgroups, rlimits) or by the runner
    inside the container, and checked by ``rlvr sandbox check``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str | None = Field(None, description="Image to run; None: the tag this package builds (image_tag()).")
    pool_size: int = Field(2, ge=1, le=64, description="Warm containers, and so the executions in flight at once.")
    timeout: float = Field(10.0, gt=0, le=600, description="Default wall-clock limit of one execution, seconds.")
    host_grace: float = Field(
        5.0, gt=0, description="Seconds past the time limit after which the host gives up on a container and kills it."
    )
    memory_mb: int = Field(512, ge=32, description="Memory limit of a container, MiB; swap is limited to the same.")
    cpus: float = Field(1.0, gt=0, description="CPU limit of a container, in cores.")
    pids_limit: int = Field(64, ge=16, description="Most processes and threads alive at once in a container.")
    tmpfs_mb: int = Field(64, ge=1, description="Size of the writable work directory /work (a tmpfs), MiB.")
    max_output_bytes: int = Field(
        1 << 20, ge=1024, description="Cap on each of stdout and stderr, bytes; a program that writes more is killed."
    )
    max_file_bytes: int = Field(
        16 << 20, ge=1024, description="Largest file a program may write, bytes (RLIMIT_FSIZE)."
    )
    max_open_files: int = Field(256, ge=16, description="Open file descriptors per process (RLIMIT_NOFILE).")
    max_processes: int = Field(
        24,
        ge=1,
        description="Processes and threads a program may have at once (RLIMIT_NPROC of its user, which is the "
        "container's own); below pids_limit, so the runner can always start its own.",
    )
    max_files: int = Field(
        4096, ge=16, description="Files and directories /work may hold (the tmpfs's inodes): bounds cleaning up."
    )
    settle_timeout: float = Field(
        3.0,
        gt=0,
        description="Seconds after a response for the container to clean up and report its state; past it, the "
        "container is retired (the response stands).",
    )
    start_timeout: float = Field(30.0, gt=0, description="Seconds to wait for a new container's runner to be ready.")

    @model_validator(mode="after")
    def _room_for_the_runner(self) -> SandboxConfig:
        if self.max_processes > self.pids_limit - RUNNER_PROCESSES:
            raise ValueError(
                f"max_processes ({self.max_processes}) must leave {RUNNER_PROCESSES} of pids_limit "
                f"({self.pids_limit}) to the runner, the zygote, the judge and the spares"
            )
        return self
