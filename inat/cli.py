"""`python -m inat`: predict, import, labels, models (and the commands other modules add).

Each command is a small function taking the parsed arguments and returning an exit status; modules
with commands of their own (training, evaluation, runs, export) add them through `add_cli`.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys

# Modules that contribute sub-commands via add_cli(subparsers); missing ones are skipped.
COMMAND_MODULES = ("inat.train", "inat.evaluate", "inat.runs", "inat.report", "inat.export", "inat.download")


def command_line(command: str) -> str | None:
    """`python -m inat COMMAND ...` as typed, for a bundle's provenance; None when not run that way."""
    import shlex
    return "python -m inat " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == [command] else None


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False))


# -- predict ------------------------------------------------------------------------------------
def cmd_predict(args) -> int:
    from .predict import Predictor, result_record
    try:
        predictor = Predictor(args.model, exact=args.exact)
    except Exception as e:  # a bad --model gets one line, not a traceback
        msg = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        for path in args.paths:
            if args.json:
                _print_json(result_record(path, args.model or "default", error=f"model not loaded: {msg}"))
        if not args.json:
            print(f"error: {msg}", file=sys.stderr)
        return 1
    results = predictor.predict(args.paths, k=args.top, batch_size=args.batch_size)
    for r in results:
        if args.json:
            _print_json(r)
        else:
            print(format_result(r))
    return 1 if any(r["error"] for r in results) else 0


def format_result(r: dict) -> str:
    """A readable block for one result: ranked species, scope and the common ancestor."""
    if r["error"]:
        return f"{r['image']}: error: {r['error']}\n"
    lines = [f"{r['image']}  (model: {r['model']})"]
    if r["in_scope"] is False:
        lines.append("  this does not look like an organism this model knows; best guesses:")
    for i, p in enumerate(r["predictions"], 1):
        name = f"{p['common_name']} ({p['scientific_name']})" if p["common_name"] else p["scientific_name"]
        path = " > ".join(v for k, v in p["taxonomy"].items() if v and k != "specific_epithet")
        lines.append(f"  {i}. {100 * p['probability']:5.1f} %  {name:<48} [{p['rank']}] {path}")
    a = r["ancestor"]
    if a:
        lines.append(f"  pretty sure: {a['rank']} {a['name']} ({100 * a['probability']:.1f} %)")
    return "\n".join(lines) + "\n"


# -- import -------------------------------------------------------------------------------------
def cmd_import(args) -> int:
    from .importer import import_checkpoint
    bundle = import_checkpoint(args.checkpoint, args.categories, args.out, trust_pickle=args.trust_pickle,
                               arch=args.arch, half=args.half, command=command_line("import"))
    print(f"wrote bundle {args.out} ({bundle.arch}, {len(bundle.classes)} classes)")
    return 0


# -- labels / models ----------------------------------------------------------------------------
def cmd_labels(args) -> int:
    from .bundle import resolve_bundle
    bundle = resolve_bundle(args.model)
    for t in bundle.classes:
        if args.json:
            _print_json(t.to_dict())
        else:
            print(f"{t.class_id:>6}  {t.label}  [{t.rank}]")
    return 0


def model_rows() -> list[dict]:
    """The built-in starter and every bundle in the weights folder, as plain records."""
    from .bundle import STARTER, default_model_name, list_bundles
    from .starter import starter_classes, starter_metrics
    default = default_model_name()
    rows = [{"name": STARTER, "path": None, "builtin": True, "arch": "efficientnet_lite0",
             "classes": len(starter_classes()), "default": default == STARTER,
             "val_top1": starter_metrics().get("val_top1")}]
    for b in list_bundles():
        rows.append({"name": b.path.name, "path": str(b.path), "builtin": False, "arch": b.arch,
                     "classes": len(b.classes), "default": default == str(b.path),
                     "val_top1": b.metrics.get("val_top1")})
    return rows


def cmd_models(args) -> int:
    rows = model_rows()
    if args.json:
        for r in rows:
            _print_json(r)
        return 0
    for r in rows:
        acc = f"top-1 {100 * r['val_top1']:.1f} %" if r["val_top1"] is not None else ""
        mark = "*" if r["default"] else " "
        print(f"{mark} {r['name']:<20} {r['arch']:<18} {r['classes']:>6} classes  {acc}")
    print("(* = default)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m inat", description="Identify species in photos; train, "
                                     "evaluate and compare the models that do it.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("predict", help="identify the species in photos")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files")
    p.add_argument("--model", default=None, help="bundle path or name (default: the default model)")
    p.add_argument("--top", type=int, default=5, metavar="K", help="how many species to list (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per input, one per line")
    p.add_argument("--exact", action="store_true", help="fp32 eager PyTorch, full-size decoding (bit-faithful)")
    p.add_argument("--batch-size", type=int, default=16, help="images per forward pass (default 16)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("import", help="turn a thesis checkpoint into a bundle")
    p.add_argument("checkpoint", help="torch.save(model) file, a state_dict, or safetensors")
    p.add_argument("--categories", required=True, help="thesis TSV categories file or an iNat 2021 JSON")
    p.add_argument("--out", required=True, help="bundle folder to write (e.g. weights/thesis_v2s)")
    p.add_argument("--trust-pickle", action="store_true",
                   help="allow unpickling the checkpoint (runs code inside it: only for files you trust)")
    p.add_argument("--arch", default=None, help="architecture (default: inferred from the weights)")
    p.add_argument("--half", action="store_true", help="store fp16 weights (half the size)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("labels", help="list a model's classes with their taxonomy")
    p.add_argument("--model", default=None, help="bundle path or name")
    p.add_argument("--json", action="store_true", help="one JSON object per class")
    p.set_defaults(func=cmd_labels)

    p = sub.add_parser("models", help="list the built-in model and the bundles in weights/")
    p.add_argument("--json", action="store_true", help="one JSON object per model")
    p.set_defaults(func=cmd_models)

    for mod_name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as e:
            if e.name == mod_name:
                continue
            raise
        mod.add_cli(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly, as the docs advise
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # every command ends with one line, never a traceback
        msg = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        print(f"error: {msg}", file=sys.stderr)
        return 2
