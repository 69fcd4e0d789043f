"""What changes when training runs as several processes (DDP, FSDP, DeepSpeed): ranks, shares, gathers.

In a single process every function here is a pass-through, so the code that calls them reads the
same at every scale. Functions that communicate must be called by every rank, in the same order.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
import torch.distributed as dist


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, number of processes); (0, 1) without a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def share(items: Sequence, rank: int, world_size: int) -> list:
    """This rank's contiguous share of `items`: shares differ in size by at most one, and the shares
    of ranks 0, 1, … concatenated give back `items` in order."""
    base, extra = divmod(len(items), world_size)
    start = rank * base + min(rank, extra)
    return list(items[start:start + base + (rank < extra)])


def group_cuts(sizes: Sequence[int], world_size: int) -> list[int]:
    """Where a sequence of whole groups (sizes: items per group) is cut into `world_size` contiguous,
    non-empty shares balanced by items: rank r takes groups cuts[r]:cuts[r + 1]. Rank r's share starts
    at the first group that starts at or after `share`'s boundary (so groups of one give `share`'s
    shares), moved where needed so every rank gets at least one group; needs len(sizes) ≥ world_size."""
    if len(sizes) < world_size:
        raise ValueError(f"{len(sizes)} groups cannot give each of {world_size} ranks at least one")
    starts = np.cumsum([0, *sizes[:-1]])  # the item offset at which each group starts
    base, extra = divmod(int(sum(sizes)), world_size)
    cuts = [0]
    for r in range(1, world_size):
        first = int(np.searchsorted(starts, r * base + min(r, extra)))  # groups starting before the boundary
        cuts.append(min(max(first, cuts[-1] + 1), len(sizes) - (world_size - r)))
    return cuts + [len(sizes)]


def _collective_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def all_gather_shares(local: torch.Tensor) -> torch.Tensor:
    """Every rank's 1-D `local` (sizes may differ) concatenated in rank order, on every rank."""
    rank, world_size = rank_and_world()
    if world_size == 1:
        return local
    device = _collective_device()
    local = local.to(device)
    sizes = [torch.zeros(1, dtype=torch.long, device=device) for _ in range(world_size)]
    dist.all_gather(sizes, torch.tensor([len(local)], device=device))
    sizes = [int(s) for s in sizes]
    padded = torch.zeros(max(sizes), dtype=local.dtype, device=device)
    padded[:len(local)] = local
    parts = [torch.empty_like(padded) for _ in range(world_size)]
    dist.all_gather(parts, padded)
    return torch.cat([part[:size] for part, size in zip(parts, sizes)])


def merge_on_rank_zero(part: dict) -> dict:
    """Rank 0: the union of every rank's dict (a key sent twice keeps one value); other ranks: {}."""
    rank, world_size = rank_and_world()
    if world_size == 1:
        return dict(part)
    parts = [None] * world_size if rank == 0 else None
    dist.gather_object(part, parts, dst=0)
    return {key: value for p in parts for key, value in p.items()} if rank == 0 else {}


def broadcast_from_rank_zero(obj: Any) -> Any:
    """Rank 0's `obj` on every rank."""
    if rank_and_world()[1] == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_ranks_agree(flag: bool) -> bool:
    """True when `flag` is true on every rank (a logical AND over ranks)."""
    if rank_and_world()[1] == 1:
        return flag
    value = torch.tensor([int(flag)], device=_collective_device())
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item())


def parameters_are_sharded(model: torch.nn.Module) -> bool:
    """True when each rank holds only part of the weights (FSDP, DeepSpeed ZeRO-3): then every forward
    pass is a collective, and all ranks must run the same number of them."""
    from torch.distributed.fsdp import FullyShardedDataParallel
    from torch.distributed.tensor import DTensor

    return any(isinstance(m, FullyShardedDataParallel) for m in model.modules()) or any(
        isinstance(p, DTensor) or hasattr(p, "ds_id")  # FSDP2; DeepSpeed tags ZeRO-3 parameters with ds_id
        for p in model.parameters())
