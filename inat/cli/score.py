"""`python -m inat score`: the command line of `inat.identify.score`."""
from __future__ import annotations

import sys

from ..identify.score import INSTALL, import_ray, score


# -- the command ----------------------------------------------------------------------------------
def cmd_score(args) -> int:
    try:
        import_ray(args.address)
    except ImportError:
        print(f"error: score needs Ray Data: {INSTALL}", file=sys.stderr)
        return 2
    if args.top < 1 or args.batch < 1 or (args.workers is not None and args.workers < 1):
        print("error: --top, --batch and --workers must be at least 1", file=sys.stderr)
        return 2
    s = score(args.sources, args.out, model=args.model, top=args.top, batch=args.batch, workers=args.workers,
              address=args.address)
    print(f"{args.out}: {s['total']} photos, {s['already']} already scored, {s['scored']} scored now"
          + (f" ({s['photos_per_s']} photos/s)" if s["scored"] else "")
          + (f", {s['failed']} could not be read" if s["failed"] else ""), file=sys.stderr)
    return 1 if s["failed"] else 0


def add_cli(sub) -> None:
    p = sub.add_parser("score", help="identify a whole photo archive into a Parquet dataset (Ray; resumable)")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="folders (searched recursively), photos, or lists of paths (.txt, .csv, .parquet)")
    p.add_argument("--out", required=True, metavar="RESULTS",
                   help="Parquet folder to write; run again to score only the photos not in it yet")
    p.add_argument("--model", default=None, metavar="M",
                   help="model name or bundle path (default: the default model); one model a RESULTS folder")
    p.add_argument("--top", type=int, default=5, metavar="K", help="how many species in top_k (default 5)")
    p.add_argument("--batch", type=int, default=64, metavar="N", help="photos per actor call (default 64)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="actors, one model each (default: from the cluster's CPUs)")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="a Ray cluster to join (default: RAY_ADDRESS, else a local Ray on this machine)")
    p.set_defaults(func=cmd_score)
