"""How a benchmark leaves its figures: one JSON file under benchmarks/results/, the way every script writes it.

Every file names the CPU it was measured on (`cpu`: model, the instruction sets that decide which kernels run,
usable cores), so a figure can be read against its machine: an AVX2-only CPU and one with AVX-512 BF16 / AMX
run different code for the same command.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

# The CPU features that change which kernels ONNX Runtime, OpenVINO and PyTorch run.
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni")


def cpu(cpuinfo: str | None = None) -> dict:
    """{"model", "flags": the CPU_FLAGS this CPU has, "usable_cpus"} from /proc/cpuinfo (`cpuinfo`: its text)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    model, flags = "", set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and not model:
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    return {"model": model or "unknown", "flags": [f for f in CPU_FLAGS if f in flags],
            "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}


def write_results(path: Path, result, show: bool = False) -> None:
    """Write `result` to `path` (indented JSON, one newline at the end) with the CPU it ran on under "cpu" (a list
    result goes under "results"), print it when `show`, then say where."""
    result = {**result} if isinstance(result, dict) else {"results": result}
    result.setdefault("cpu", cpu())
    text = json.dumps(result, indent=1, default=str) + "\n"
    if show:
        print(text, end="")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
