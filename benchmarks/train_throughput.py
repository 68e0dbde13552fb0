"""CPU (or GPU) training throughput of each reference run's set-up, model step only.

    python benchmarks/train_throughput.py                  # the 9 reference runs of the README, ~4 min on 2 cores
    python benchmarks/train_throughput.py --arch efficientnet_v2_s --img-size 224 --batch-size 64 --device cuda
    python benchmarks/train_throughput.py --only plants47,resnet50_scratch_64 --layouts both --out /tmp/layouts.json

For each set-up (architecture, init, input size, batch size as in the README's commands) it builds
the model exactly as `python -m inat train` does (`inat.training.train.init_model`, `set_train_mode`,
`build_optimizer`, channels_last, AMP on CUDA) and times optimizer steps on random batches after
warm-up: images per second of forward + backward + update, without data loading (the epoch figures
in each run's history include it). Writes benchmarks/results/train_throughput.json.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/ is on the path when run)

RESULTS = REPO / "benchmarks" / "results" / "train_throughput.json"

# (run name, arch, init, input size, batch size): the commands in the README.
REFERENCE = [
    ("plants47", "efficientnet_lite0", "imagenet", 288, 16),
    ("lite0_imagenet_224", "efficientnet_lite0", "imagenet", 224, 16),
    ("lite0_transfer_224", "efficientnet_lite0", "transfer", 224, 32),
    ("lite0_imagenet_64", "efficientnet_lite0", "imagenet", 64, 32),
    ("lite0_transfer_64", "efficientnet_lite0", "transfer", 64, 32),
    ("alexnet_scratch_64", "alexnet", "scratch", 64, 32),
    ("b0_scratch_64", "efficientnet_b0", "scratch", 64, 32),
    ("resnet50_scratch_64", "resnet50", "scratch", 64, 32),
    ("v2s_scratch_64", "efficientnet_v2_s", "scratch", 64, 32),
]


def measure(arch: str, init: str, size: int, batch: int, device: str, seconds: float, classes: int = 47,
            channels_last: bool = True) -> dict:
    import torch

    from inat.training.train import build_optimizer, init_model, set_train_mode
    dev = torch.device(device)
    # Transfer needs ImageNet weights only for their values; the timing is the same without them.
    model = init_model(arch, classes, "scratch")
    if init == "transfer":
        from inat.models.architectures import get_spec, get_submodule
        for p in model.parameters():
            p.requires_grad_(False)
        for p in get_submodule(model, get_spec(arch).head).parameters():
            p.requires_grad_(True)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(dev).to(memory_format=layout)
    set_train_mode(model, arch, init)
    opt = build_optimizer(model, "adamw", 1e-3, 0.05)
    amp = dev.type == "cuda"
    scaler = torch.amp.GradScaler(dev.type, enabled=amp)
    x = torch.randn(batch, 3, size, size, device=dev).contiguous(memory_format=layout)
    y = torch.randint(0, classes, (batch,), device=dev)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

    def step():
        with torch.autocast(dev.type, dtype=torch.float16, enabled=amp):
            loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(3):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 3:
        step()
        n += 1
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    return {"arch": arch, "init": init, "img_size": size, "batch_size": batch, "steps": n,
            "layout": "channels_last" if channels_last else "contiguous",
            "images_per_s": round(n * batch / dt, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", help="one set-up instead of the reference runs")
    ap.add_argument("--init", default="scratch")
    ap.add_argument("--img-size", type=int, default=224)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seconds", type=float, default=15.0, help="timed seconds per set-up (after warm-up)")
    ap.add_argument("--only", default="", help="comma-separated reference run names")
    ap.add_argument("--layouts", choices=["channels_last", "both"], default="channels_last",
                    help="both: also the contiguous (NCHW) layout, to see what channels-last buys")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    import torch
    setups = ([(args.arch, args.arch, args.init, args.img_size, args.batch_size)] if args.arch else REFERENCE)
    if args.only:
        setups = [s for s in setups if s[0] in args.only.split(",")]
    layouts = [True, False] if args.layouts == "both" else [True]
    rows = []
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {args.device}")
    print("| run | arch | init | input | batch | layout | train images/s |\n|---|---|---|---:|---:|---|---:|")
    for name, arch, init, size, batch in setups:
        for cl in layouts:
            r = {"run": name, **measure(arch, init, size, batch, args.device, args.seconds, channels_last=cl)}
            rows.append(r)
            print(f"| {name} | {arch} | {init} | {size} | {batch} | {r['layout']} | {r['images_per_s']} |", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_results(args.out, {"date": time.strftime("%Y-%m-%d"), "device": args.device,
                             "machine": f"{os.cpu_count()} CPU cores ({platform.machine()})",
                             "threads": torch.get_num_threads(), "torch": torch.__version__, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
