"""Multi-process training on torch.distributed (launched by torchrun).

Data parallel GRPO: each of the W processes takes ``prompts_per_step / W`` of
the step's prompts, with all G completions of each (so every group lives on
one process and its advantages are computed there), and DistributedDataParallel
averages the gradients. Process 0 alone evaluates, logs, plots and writes
checkpoints; the others wait at a barrier.

With ``sequence_mean`` or ``constant`` aggregation and equal shards, the
averaged gradient equals the single-process one. With ``token_mean`` each
process normalises by its own token count, a close but not exact match.

For models that do not fit one device, ``fsdp=True`` shards parameters,
gradients and optimizer state over the processes instead (FSDP2). Every
forward pass is then collective, so all processes generate in lockstep
(``generate(synced_gpus=True)``), evaluate together, and write sharded
checkpoints together.

Launch: ``torchrun --nproc-per-node 2 --no-python rlvr train ...`` (gloo on
CPU, NCCL on GPUs).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

__all__ = ["DistContext", "full_state_dict", "init_distributed", "shard", "shard_model"]

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: ``rank`` of ``world_size``, GPU ``local_rank``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        """Wait for every process (no-op when single-process)."""
        if self.enabled:
            dist.barrier()

    def mean(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """Each metric averaged over processes (every process must pass the same keys)."""
        if not self.enabled:
            return dict(metrics)
        keys = sorted(metrics)
        values = torch.tensor([float(metrics[k]) for k in keys], dtype=torch.float64, device=self._device())
        dist.all_reduce(values)
        values /= self.world_size
        return dict(zip(keys, values.tolist(), strict=True))

    def gather(self, items: list[Any]) -> list[Any]:
        """Every process's ``items`` (picklable), concatenated in rank order; this process's alone when single."""
        if not self.enabled:
            return list(items)
        parts: list[Any] = [None] * self.world_size
        dist.all_gather_object(parts, list(items))
        return [item for part in parts for item in part]

    def check_in_sync(self, model: torch.nn.Module) -> None:
        """Raise if the processes' copies of ``model`` have drifted apart."""
        if not self.enabled:
            return
        total = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1)
        total = total.to(self._device())
        low, high = total.clone(), total.clone()
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        if not torch.equal(low, high):
            raise RuntimeError(f"model replicas differ across processes: checksums {low.item()} .. {high.item()}")

    def close(self, clean: bool = True) -> None:
        """Leave the process group (no-op when single-process).

        After a clean finish every process first meets the others at a barrier,
        so that none tears its connections down while another is still in its
        last collective (which can leave that one waiting forever). After an
        error (``clean=False``) the others may be stuck in a collective this
        process will never join, so it leaves the group alone and the launcher
        ends the run.
        """
        if not (self.enabled and dist.is_initialized()):
            return
        if clean:
            dist.barrier()
            dist.destroy_process_group()

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """``model`` in DistributedDataParallel when multi-process, else unchanged."""
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def _device(self) -> torch.device:
        backend = dist.get_backend()
        return torch.device("cuda", self.local_rank) if backend == "nccl" else torch.device("cpu")


def init_distributed() -> DistContext:
    """Join the process group torchrun set up (``WORLD_SIZE`` > 1), or run single-process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend)
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank)


def shard(items: Sequence[T], context: DistContext) -> list[T]:
    """This process's contiguous share of ``items`` (their count must divide evenly)."""
    if len(items) % context.world_size:
        raise ValueError(f"{len(items)} items cannot be split evenly over {context.world_size} processes")
    size = len(items) // context.world_size
    return list(items[context.rank * size : (context.rank + 1) * size])


def shard_model(model: torch.nn.Module) -> torch.nn.Module:
    """Shard ``model`` over the processes with FSDP2 (``fully_shard``), in place.

    Each transformer block (the classes transformers lists in
    ``model._no_split_modules``) becomes one unit whose parameters are
    gathered just for its forward and backward; the root holds the rest.
    """
    from torch.distributed.fsdp import fully_shard

    block_names = set(getattr(model, "_no_split_modules", None) or [])
    blocks = [m for m in model.modules() if type(m).__name__ in block_names]
    if not blocks:
        raise ValueError(f"{type(model).__name__} names no transformer blocks (_no_split_modules) to shard")
    for block in blocks:
        fully_shard(block)
    fully_shard(model)
    return model


def full_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The whole, unsharded state of an FSDP model on every process (a collective call)."""
    return {
        name: (value.full_tensor() if hasattr(value, "full_tensor") else value).detach().cpu()
        for name, value in model.state_dict().items()
    }
