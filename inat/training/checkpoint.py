"""The resume checkpoint of a training run: one safetensors file, nothing pickled.

Tensors (model, optimizer state, RNG states as uint8) are safetensors tensors; everything else
(epoch, history, config, scheduler and grad-scaler state, optimizer hyper-parameters) is JSON kept
in the file's metadata header. One file replaced atomically means a kill at any moment leaves either
the previous epoch's checkpoint or the new one, never a mix of two epochs.

    model.<name>            fp32 model state
    optim.<param>.<key>     optimizer state tensors (exp_avg, momentum_buffer, step, ...)
    rng.torch, rng.cuda.N   torch.get_rng_state() / torch.cuda.get_rng_state(N)
    rng.numpy               numpy's MT19937 key (uint32)
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np

FORMAT = "inat-resume"


def save(path, model, optimizer, scheduler, scaler, **info) -> None:
    """Write the checkpoint atomically; `info` (epoch, history, config, ...) must be JSON-serialisable."""
    import torch  # keeps torch out of start-up: only training writes checkpoints
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    opt_scalars = {}
    for pid, st in opt["state"].items():
        for key, v in st.items():
            if torch.is_tensor(v):
                tensors[f"optim.{pid}.{key}"] = v.detach().cpu().contiguous()
            else:
                opt_scalars.setdefault(str(pid), {})[key] = v
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i in range(torch.cuda.device_count()):
            tensors[f"rng.cuda.{i}"] = torch.cuda.get_rng_state(i)
    np_state = np.random.get_state()
    tensors["rng.numpy"] = torch.from_numpy(np_state[1].astype(np.uint32).view(np.uint8).copy())
    py_version, py_key, py_gauss = random.getstate()
    meta = {
        "format": FORMAT, **info,
        "optimizer": {"param_groups": opt["param_groups"], "scalars": opt_scalars},
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "rng": {"numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
                "python": [py_version, list(py_key), py_gauss]},
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"state": json.dumps(meta)})
    os.replace(tmp, path)


def load(path) -> dict:
    """The checkpoint as {"tensors": {...}, **metadata}; raises ValueError for a file that is not one."""
    from safetensors import safe_open  # safetensors.torch loads torch: only when resuming
    from safetensors.torch import load_file
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})["state"])
        tensors = load_file(str(path))
    except Exception as e:  # a torn or foreign file: say which, the caller decides
        raise ValueError(f"{path}: not a readable resume checkpoint ({e.__class__.__name__})") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a resume checkpoint (format {meta.get('format')!r})")
    return {**meta, "tensors": tensors}


def restore(state: dict, model, optimizer, scheduler, scaler) -> None:
    """Put model, optimizer, scheduler, grad scaler and every RNG back as `state` recorded them."""
    import torch  # only when resuming
    tensors = state["tensors"]
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    opt_state: dict = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, pid, key = k.split(".", 2)
            opt_state.setdefault(int(pid), {})[key] = v
    for pid, scalars in state["optimizer"]["scalars"].items():
        opt_state.setdefault(int(pid), {}).update(scalars)
    optimizer.load_state_dict({"state": opt_state, "param_groups": state["optimizer"]["param_groups"]})
    scheduler.load_state_dict(state["scheduler"])
    if state["scaler"]:
        scaler.load_state_dict(state["scaler"])
    torch.set_rng_state(tensors["rng.torch"])
    for k, v in tensors.items():
        if k.startswith("rng.cuda.") and torch.cuda.is_available():
            torch.cuda.set_rng_state(v, int(k.rsplit(".", 1)[1]))
    name, pos, has_gauss, cached = state["rng"]["numpy"]
    np.random.set_state((name, tensors["rng.numpy"].numpy().view(np.uint32), pos, has_gauss, cached))
    version, key, gauss = state["rng"]["python"]
    random.setstate((version, tuple(key), gauss))
