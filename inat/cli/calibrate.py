"""`python -m inat calibrate`: the command line of `inat.training.calibration`."""
from __future__ import annotations

import json
from pathlib import Path

from ..core.probability import METHODS
from ..models.bundle import JSON_NAME, write_json_atomic
from ..models.registry import resolve
from ..models.starter import shipped_calibration_file
from ..training.calibration import calibrate, format_calibration, save_calibration
from ..training.labelled import read_names


def cmd_calibrate(args) -> int:
    bundle = resolve(args.model)
    record = calibrate(bundle, args.data, args.split, args.batch_size, read_names(args.names) if args.names else None,
                       method=args.method)
    record["command"] = args.command_line
    if args.json:
        print(json.dumps(record, ensure_ascii=False))
    else:
        print(format_calibration(bundle.name, record))
    if args.dry_run:
        return 0
    stored = []
    if bundle.path is not None:
        save_calibration(bundle.path, record)
        stored.append(bundle.path / JSON_NAME)
    if bundle.path is None or bundle.expert:  # a built-in or a downloadable expert: it ships with the code
        stored.append(shipped_calibration_file(bundle.name))
        stored[-1].parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(stored[-1], record)
    where = " and ".join(map(str, stored))
    if not args.json:
        print(f"  stored in {where}")
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("calibrate", help="fit a temperature (or beta) map so a model's probabilities mean what they say")
    p.add_argument("--model", default=None, help="model name or bundle path (default: the default model)")
    p.add_argument("--data", required=True, help="labelled photos: an iNat 2021 dataset folder or a labels.csv folder")
    p.add_argument("--split", default="val", help="split of an iNat 2021 dataset (default val)")
    p.add_argument("--names", type=Path, metavar="TSV", help="tab-separated common_name, scientific_name: gives or "
                   "corrects the species of a labels.csv folder known by common names (as for evaluate)")
    p.add_argument("--method", choices=METHODS, default="temperature",
                   help="temperature (default): one number, safest on few photos; beta: the temperature, then a "
                        "3-number beta map of the top class's probability (compare both in the printed "
                        "cross-fitted ECE by method)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--dry-run", action="store_true", help="measure and print, store nothing")
    p.add_argument("--json", action="store_true", help="print the record as one JSON object")
    p.set_defaults(func=cmd_calibrate)
