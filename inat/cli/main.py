"""`python -m inat`: predict, labels, models, import, and the commands the other modules add.

Each command is a small function taking the parsed arguments and returning an exit status. The other
commands live in this package, one module each (train, evaluate, calibrate, runs, dataset-report, export,
download, score), and add themselves through `add_cli(sub)`; the library modules know no argparse.
Every failure ends in one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys

from tqdm import tqdm

from ..core.errors import first_line
from ..core.images import FORMATS, photo_problem
from ..core.record import Identification
from ..core.taxonomy import display_name
from ..identify.predict import Predictor
from ..models.importer import import_checkpoint
from ..models.registry import model_rows, resolve
from ..naturalist.ensemble import NAME as NATURALIST
from ..observations.table import image_files, observation_rows, write_csv
from ..runtime.export import ensure_export, make_fast, print_export
from ..runtime.openvino_backend import INSTALL, PRECISIONS
from . import calibrate, dataset_report, download, evaluate, export, runs, score
from . import train as train_cli

COMMAND_MODULES = (train_cli, evaluate, calibrate, runs, dataset_report, export, download, score)


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False))


# -- predict ------------------------------------------------------------------------------------
def cmd_predict(args) -> int:
    # A folder stands for every photo in it (and its sub-folders), in a stable order.
    paths = image_files(args.paths)
    if not paths:
        print(f"error: no photos ({FORMATS}) in {', '.join(args.paths)}", file=sys.stderr)
        return 1
    try:
        predictor = Predictor(args.model, exact=args.exact, prepare=None if args.no_export else make_fast,
                              precision=args.precision)
    except Exception as e:  # a bad --model gets one line, not a traceback
        msg = first_line(e)
        if args.json:
            for path in paths:
                _print_json(Identification(path, args.model or "default", error=f"model not loaded: {msg}").to_json())
        else:
            print(f"error: {msg}", file=sys.stderr)
        return 1
    with tqdm(total=len(paths), unit="photo", desc="identifying", file=sys.stderr, dynamic_ncols=True,
              disable=False if args.csv else None, leave=False) as bar:
        results = predictor.predict(paths, k=args.top, batch_size=args.batch_size,
                                    progress=lambda n: bar.update(n - bar.n))
    if args.csv:
        rows = observation_rows([r.to_json() for r in results])
        write_csv(rows, args.csv)
        failed = sum(1 for r in results if r.error)
        print(f"wrote {args.csv}: {len(rows)} photos" + (f", {failed} could not be read" if failed else ""),
              file=sys.stderr)
    for r in results:
        if args.json:
            _print_json(r.to_json())
        elif not args.csv:
            print(format_identification(r))
    return 1 if any(r.error for r in results) else 0


def format_identification(r: Identification) -> str:
    """A readable block for one photo: ranked species, scope and the common ancestor."""
    if r.error:  # the app's sentence: the path once, what to do, no library names (`--json` keeps the reason)
        return f"error: {photo_problem(r.image, r.error)}\n"
    lines = [f"{r.image}  (model: {r.model})"]
    if r.in_scope is False:
        lines.append("  this does not look like an organism this model knows; best guesses:")
    for i, p in enumerate(r.predictions, 1):
        t = p.taxon
        path = " > ".join(v for k, v in t.taxonomy.items() if v and k != "specific_epithet")
        lines.append(f"  {i}. {100 * p.probability:5.1f} %  {display_name(t.common_name, t.scientific_name):<48} "
                     f"[{t.rank}] {path}")
    if r.ancestor:
        a = r.ancestor
        lines.append(f"  pretty sure: {a['rank']} {a['name']} ({100 * a['probability']:.1f} %)")
    return "\n".join(lines) + "\n"


# -- import -------------------------------------------------------------------------------------
def cmd_import(args) -> int:
    bundle = import_checkpoint(args.checkpoint, args.categories, args.out, trust_pickle=args.trust_pickle,
                               arch=args.arch, half=args.half, command=args.command_line)
    print(f"wrote bundle {args.out} ({bundle.arch}, {len(bundle.classes)} classes)")
    if not args.no_export:
        print_export(ensure_export(bundle))
    return 0


# -- labels / models ----------------------------------------------------------------------------
def cmd_labels(args) -> int:
    bundle = resolve(args.model)
    for t in bundle.classes:
        if args.json:
            _print_json(t.to_dict())
        else:
            print(f"{t.class_id:>6}  {t.label}  [{t.rank}]")
    return 0


def cmd_models(args) -> int:
    rows = model_rows()
    if args.json:
        for r in rows:
            _print_json(r)
        return 0
    for r in rows:  # naturalist's figure is the one measured with the experts installed here (setup_metrics)
        acc = f"top-1 {100 * r['top1']:.1f} % ({r['measured_on']})" if r["top1"] is not None else \
            "top-1 not measured for this set-up" if r["name"] == NATURALIST else ""
        mark = "*" if r["default"] else " "
        print(f"{mark} {r['name']:<18} {r['arch']:<18} {r['classes']:>6} classes  {acc}")
        if r["unmeasured"]:
            print(f"  {r['name']}: {', '.join(r['unmeasured'])} joined with a default gate; its figures there are "
                  "unmeasured")
    print("(* = default)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    # `inat` when run as the installed command, else `python -m inat`: the usage line names what was typed.
    prog = "inat" if os.path.basename(sys.argv[0]) == "inat" else "python -m inat"
    parser = argparse.ArgumentParser(prog=prog, description="Identify species in photos; train, "
                                     "evaluate and compare the models that do it.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("predict", help="identify the species in photos")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (searched, sub-folders too)")
    p.add_argument("--model", default=None, help="model name or bundle path (default: the default model)")
    p.add_argument("--top", type=int, default=5, metavar="K", help="how many species to list (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per input, one per line")
    p.add_argument("--exact", action="store_true", help="fp32 eager PyTorch, full-size decoding (bit-faithful)")
    p.add_argument("--no-export", action="store_true",
                   help="never make a model's fast ONNX version (by default it is made once, on first use)")
    p.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto",
                   help="auto (default): bf16 where the CPU runs it natively (AVX-512 BF16 or AMX; measured within half a "
                        "point of fp32's top-1), else fp32; fp32: the fastest backend that gives fp32's answers; bf16: "
                        "OpenVINO with the bf16 hint (fp32 on CPUs without bf16; its IR is made on first use); int8: the NNCF int8 IR that "
                        "`python -m inat export --precision int8` makes. bf16 and int8 need OpenVINO "
                        f"({INSTALL}); their agreement with fp32 is in benchmarks/README.md")
    p.add_argument("--batch-size", type=int, default=16, help="images per forward pass (default 16)")
    p.add_argument("--csv", metavar="OUT.csv", default=None,
                   help="write one row per photo (date, place and position from EXIF, the taxon) in the columns of "
                        "iNaturalist's observation export; folders are searched for photos")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("import", help="turn a thesis checkpoint into a bundle")
    p.add_argument("checkpoint", help="torch.save(model) file, a state_dict, or safetensors")
    p.add_argument("--categories", required=True, help="thesis TSV categories file or an iNat 2021 JSON")
    p.add_argument("--out", required=True, help="bundle folder to write (e.g. weights/thesis_v2s)")
    p.add_argument("--trust-pickle", action="store_true",
                   help="allow unpickling the checkpoint (runs code inside it: only for files you trust)")
    p.add_argument("--arch", default=None, help="architecture (default: inferred from the weights)")
    p.add_argument("--half", action="store_true", help="store fp16 weights (half the size)")
    p.add_argument("--no-export", action="store_true", help="do not make the fast ONNX version at the end")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("labels", help="list a model's classes with their taxonomy")
    p.add_argument("--model", default=None, help="model name or bundle path")
    p.add_argument("--json", action="store_true", help="one JSON object per class")
    p.set_defaults(func=cmd_labels)

    p = sub.add_parser("models", help="list the built-in models and the bundles in the weights folder")
    p.add_argument("--json", action="store_true", help="one JSON object per model")
    p.set_defaults(func=cmd_models)

    for module in COMMAND_MODULES:
        module.add_cli(sub)
    return parser


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever sys.stderr is when a message comes (pytest swaps it)."""

    inat_cli = True

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _say_notes() -> None:
    """The `inat` logger's notes and warnings (making the fast version of a model, a fallback) as one plain line
    each on stderr, as the rest of the command line speaks; set up once per process."""
    log = logging.getLogger("inat")
    if not any(getattr(h, "inat_cli", False) for h in log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _say_notes()
    args = build_parser().parse_args(argv)
    args.command_line = "python -m inat " + shlex.join(argv)  # recorded in the provenance of what it writes
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly, as the docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # every command ends with one line, never a traceback
        print(f"error: {first_line(e)}", file=sys.stderr)
        return 2
