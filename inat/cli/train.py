"""`python -m inat train`'s command line: one flag per TrainConfig field, help and choices from its metadata."""
from __future__ import annotations

import argparse
import os
from dataclasses import MISSING, fields

from ..models.bundle import load_bundle
from ..runtime.export import ensure_export, print_export
from ..training.config import TrainConfig
from ..training.distributed import distributed
from ..training.train import train


def config_from_args(args) -> TrainConfig:
    """The TrainConfig the parsed command line describes."""
    names = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in vars(args).items() if k in names})


def cmd_train(args) -> int:
    cfg = config_from_args(args)
    try:
        bundle = train(cfg, resume=args.resume, command=args.command_line)
    finally:
        if distributed():
            import torch.distributed as dist  # only under torchrun
            if dist.is_initialized():
                dist.destroy_process_group()
    if int(os.environ.get("RANK", "0")) == 0:
        m = bundle.metrics
        print(f"wrote {cfg.out}: best epoch {bundle.run.get('best_epoch')}, val top-1 {m.get('val_top1', 0):.4f}, "
              f"top-5 {m.get('val_top5', 0):.4f}")
        if not args.no_export and bundle.path is not None:
            print_export(ensure_export(load_bundle(bundle.path)))  # the kept weights' fast version
    return 0


_TYPES = {"int": int, "float": float, "str": str}


def add_cli(sub) -> None:
    """`train`: one flag per TrainConfig field (help and choices from its metadata), plus --resume."""
    p = sub.add_parser("train", help="train an architecture on an iNat 2021 dataset into a bundle")
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = str(f.type).split(" | ")[0]
        required = f.default is MISSING
        default = None if required else f.default
        help_text = f.metadata["help"] + ("" if required or default is None else f" (default: {default})")
        if kind == "bool":
            p.add_argument(flag, default=default, action=argparse.BooleanOptionalAction, help=help_text)
            continue
        choices = f.metadata.get("choices")
        choices = list(choices()) if choices else None
        p.add_argument(flag, type=_TYPES[kind], default=default, required=required, choices=choices,
                       metavar=f.name.upper() if choices and len(choices) > 3 else None,
                       help=help_text + (f": {', '.join(choices)}" if choices and len(choices) > 3 else ""))
    p.add_argument("--resume", action="store_true", help="continue OUT's run from its resume checkpoint, if any")
    p.add_argument("--no-export", action="store_true", help="do not make the fast ONNX version of the kept weights")
    p.set_defaults(func=cmd_train)
