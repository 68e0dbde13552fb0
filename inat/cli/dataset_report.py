"""`python -m inat dataset-report`: the command line of `inat.training.dataset_report`."""
from __future__ import annotations

import json

from ..training.dataset_report import dataset_table, format_table


def cmd_dataset_report(args) -> int:
    t = dataset_table(args.data, args.train_split, args.val_split)
    print(json.dumps(t, ensure_ascii=False) if args.json else format_table(t))
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("dataset-report", help="species and photos of a dataset by kingdom and phylum")
    p.add_argument("--data", required=True, help="dataset folder (iNat 2021 official or torchvision layout)")
    p.add_argument("--train-split", default=None, help="default: train_mini if present, else train")
    p.add_argument("--val-split", default="val")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_dataset_report)
