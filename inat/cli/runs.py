"""`python -m inat runs`: the command line of `inat.training.runs`."""
from __future__ import annotations

import json

from ..training.runs import list_runs


def cmd_runs(args) -> int:
    runs = list_runs()
    if args.json:
        keys = ("name", "arch", "init", "dataset", "img_size", "epochs", "best_epoch", "history")
        for r in runs:
            print(json.dumps({k: r[k] for k in keys}, ensure_ascii=False))
        return 0
    if not runs:
        print("no recorded runs (train one with `python -m inat train`)")
    for r in runs:
        best = max((h.get("val_top1") or 0 for h in r["history"]), default=0)
        print(f"{r['name']:<28} {r['arch'] or '?':<18} {r['init'] or '?':<9} {r['img_size'] or '?':>4}px "
              f"{r['epochs']:>3} epochs  best val top-1 {100 * best:5.1f} % (epoch {r['best_epoch']})")
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("runs", help="list recorded training runs (bundles in weights/ and runs/)")
    p.add_argument("--json", action="store_true", help="one JSON object per run")
    p.set_defaults(func=cmd_runs)
