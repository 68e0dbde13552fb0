"""`python -m inat evaluate`: the command line of `inat.training.evaluate`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..training.evaluate import evaluate, format_evaluation
from ..training.labelled import read_names
from ..training.plots import plot_reliability, save_png


def cmd_evaluate(args) -> int:
    r = evaluate(args.model, args.data, args.split, batch_size=args.batch_size,
                 names=read_names(args.names) if args.names else None)
    print(json.dumps(r, ensure_ascii=False) if args.json else format_evaluation(r))
    if args.plot:
        title = f"{r['model']} on {Path(r['data']).name}" + (f" ({r['split']})" if r.get("split") else "")
        save_png(plot_reliability(r["reliability"], title=title), args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("evaluate", help="accuracy, calibration and honesty of a model on labelled photos")
    p.add_argument("--model", default=None, help="model name or bundle path (default: the default model)")
    p.add_argument("--data", required=True, help="a folder with labels.csv, or an iNat 2021 dataset folder "
                                                 "(SPLIT.json, or torchvision's folders)")
    p.add_argument("--split", default="val", help="split of an iNat 2021 dataset, e.g. val or train_mini (default val)")
    p.add_argument("--names", type=Path, metavar="TSV", help="tab-separated common_name, scientific_name: gives or "
                   "corrects the species of labels.csv photos by their common name (assets/experts/*-inat2017-*.tsv)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", type=Path, metavar="PATH", help="also write the reliability diagram as a PNG")
    p.set_defaults(func=cmd_evaluate)
