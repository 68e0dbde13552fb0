"""`python -m inat download`: the command line of `inat.naturalist.download`."""
from __future__ import annotations

import sys

from ..core.errors import first_line
from ..models.bundle import load_bundle
from ..naturalist.download import DownloadError, catalogue_rows, format_catalogue, install
from ..naturalist.experts import EXPERTS
from ..runtime.export import ensure_export


# ----------------------------------------------------------------------------------------
def cmd_download(args) -> int:
    if args.list:
        print(format_catalogue(catalogue_rows()))
        return 0
    if not args.name:
        print(f"error: name an expert to install ({', '.join(EXPERTS)}), or use --list", file=sys.stderr)
        return 1
    try:
        status, target = install(args.name, args.source, args.out, args.force, command=args.command_line,
                                 show=sys.stderr.isatty())
    except (DownloadError, OSError) as e:  # OSError: a full disk, a read-only weights folder
        print(f"error: {first_line(e)}", file=sys.stderr)
        return 1
    if status == "already installed":
        print(f"{args.name} is already installed in {target} (use --force to install it again)")
    else:
        print(f"installed {args.name} in {target}")
    if not args.no_export:
        path = ensure_export(load_bundle(target))
        if path is not None:
            print(f"fast ONNX version: {path}")
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("download", help="install an expert model (iNat 2017 birds, insects, plants)")
    p.add_argument("name", nargs="?", metavar="NAME", help=f"one of: {', '.join(EXPERTS)}")
    p.add_argument("--list", action="store_true", help="show the experts, their size, licence and whether installed")
    p.add_argument("--from", dest="source", metavar="DIR", default=None,
                   help="take the files from this folder instead of the internet (same file names)")
    p.add_argument("--out", default=None, help="bundle folder to write (default: the weights folder / NAME)")
    p.add_argument("--force", action="store_true", help="install again even if already installed")
    p.add_argument("--no-export", action="store_true", help="do not make the fast ONNX version after installing")
    p.set_defaults(func=cmd_download)
