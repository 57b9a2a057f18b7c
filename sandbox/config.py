"""Limits and sizes of the sandbox, one pydantic model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SandboxConfig"]


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
    pids_limit: int = Field(64, ge=8, description="Most processes and threads alive at once in a container.")
    tmpfs_mb: int = Field(64, ge=1, description="Size of the writable work directory /work (a tmpfs), MiB.")
    max_output_bytes: int = Field(
        1 << 20, ge=1024, description="Cap on each of stdout and stderr, bytes; a program that writes more is killed."
    )
    max_file_bytes: int = Field(
        16 << 20, ge=1024, description="Largest file a program may write, bytes (RLIMIT_FSIZE)."
    )
    max_open_files: int = Field(256, ge=16, description="Open file descriptors per process (RLIMIT_NOFILE).")
    start_timeout: float = Field(30.0, gt=0, description="Seconds to wait for a new container's runner to be ready.")
