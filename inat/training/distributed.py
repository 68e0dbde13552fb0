"""Where training runs: one CPU or GPU, or one process of a torchrun group (DistributedDataParallel).

`setup_device` joins the process group when launched by torchrun (WORLD_SIZE set); `all_reduce` sums
per-process counters so every process reports the same epoch figures.
"""
from __future__ import annotations

import os
import platform


def distributed() -> bool:
    # Launched by torchrun (it sets WORLD_SIZE); a world of 1 still runs the DDP code path.
    return "WORLD_SIZE" in os.environ


def all_reduce(device, *values):
    """Sums of `values` over all processes (the values themselves when not distributed)."""
    if not distributed():
        return values
    import torch  # only while training
    import torch.distributed as dist  # only under torchrun
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return tuple(t.tolist())


def setup_device(device: str):
    """(torch.device, rank, world_size); joins the torchrun process group when WORLD_SIZE > 1."""
    import torch  # only while training
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if not distributed():
        return torch.device(device), 0, 1
    import torch.distributed as dist  # only under torchrun
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    else:
        dev = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return dev, dist.get_rank(), dist.get_world_size()


def describe_device(device, world_size: int) -> str:
    """'cpu (2 threads, <processor>)' or the GPU's name, for the run record."""
    import torch  # only while training
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        n = torch.get_num_threads()
        name = f"cpu ({n} thread{'s' if n > 1 else ''}, {platform.processor() or platform.machine()})"
    return f"{world_size} × {name}" if world_size > 1 else name
