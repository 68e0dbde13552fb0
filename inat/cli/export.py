"""`python -m inat export`: the command line of `inat.runtime.export`."""
from __future__ import annotations

import sys
from pathlib import Path

from ..models.registry import resolve
from ..runtime import onnx_backend, openvino_backend
from ..runtime.export import N_CHECK, export_onnx, export_openvino


# ------------------------------------------------------------------------------
def cmd_export(args) -> int:
    bundle = resolve(args.model)
    # By default the files the default fp32 runtime runs (ONNX Runtime's when OpenVINO is not installed).
    fmt = args.format or openvino_backend.fp32_backend()
    # "auto": what predict's default precision runs here (the bf16 IR on a CPU with native bf16).
    precision = args.precision if args.precision != "auto" else \
        ("bf16" if openvino_backend.default_backend() == "openvino-bf16" else "fp32")
    if precision != "fp32" or fmt == "openvino":  # say so before the minutes of work, not after
        openvino_backend.require(precision, making_int8=precision == "int8")
    out = export_onnx(bundle)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, fp32; checked against PyTorch)")
    if precision == "bf16" or fmt == "openvino":
        xml, _ = export_openvino(bundle, "fp32")
        print(f"wrote {xml} ({_ir_mb(xml):.1f} MB, OpenVINO fp32 IR" + ("; --precision bf16 runs it)" if
                                                                        precision == "bf16" else ")"))
        if args.precision == "bf16" and not openvino_backend.cpu_has_bf16():
            print("note: this CPU has no bf16 (AVX-512 BF16 or AMX): --precision bf16 runs fp32 here", file=sys.stderr)
    if precision == "int8":
        xml, m = export_openvino(bundle, "int8", args.calibration, recipe=args.recipe,
                                 n_calibration=args.calibration_size, n_check=args.check_size)
        print(f"wrote {xml} ({_ir_mb(xml):.1f} MB, OpenVINO int8, NNCF recipe {args.recipe}): agrees with fp32 "
              f"PyTorch on {100 * m['agreement_top1']:.1f} % top-1 / {100 * m['agreement_top5']:.1f} % top-5 of "
              f"{m['agreement_photos']} held-out photos; used with --precision int8")
    return 0


def _ir_mb(xml: Path) -> float:
    return (xml.stat().st_size + xml.with_suffix(".bin").stat().st_size) / 1e6


def add_cli(sub) -> None:
    p = sub.add_parser("export", help="export a model to ONNX (and OpenVINO) for fast CPU inference")
    p.add_argument("--model", default=None, help="model name or bundle path (default: the default model)")
    p.add_argument("--format", choices=["onnx", "openvino"], default=None,
                   help="onnx: model.onnx; openvino: model.onnx and the OpenVINO fp32 IR converted from it (model.xml; "
                        f"needs OpenVINO). Default: the default fp32 runtime's ({onnx_backend.FP32_BACKEND})")
    p.add_argument("--precision", choices=("auto", *openvino_backend.PRECISIONS), default="auto",
                   help="also make what `predict --precision` runs: auto (default) = what predict's default runs here "
                        "(the bf16 IR on a CPU with native bf16, else fp32's files); bf16 = the OpenVINO fp32 IR (model.xml; bf16 is a "
                        "run-time hint, fp32 on CPUs without bf16), int8 = an NNCF int8 IR (model.int8.xml) calibrated "
                        "on real photos, its agreement with fp32 printed. Both need OpenVINO (" +
                        openvino_backend.INSTALL.replace("%", "%%") + ")")
    p.add_argument("--recipe", choices=list(openvino_backend.RECIPES), default=openvino_backend.DEFAULT_RECIPE,
                   help=f"NNCF recipe for --precision int8 (default {openvino_backend.DEFAULT_RECIPE}: "
                        "the best measured)")
    p.add_argument("--calibration", type=Path, default=None, metavar="DIR",
                   help="folder of real photos (searched recursively) to calibrate int8 on and measure its "
                        "agreement (needed by --precision int8)")
    p.add_argument("--calibration-size", type=int, default=None, metavar="N",
                   help="photos used for calibration (default: the recipe's, " +
                        f"{openvino_backend.RECIPES[openvino_backend.DEFAULT_RECIPE]['subset_size']})")
    p.add_argument("--check-size", type=int, default=N_CHECK, metavar="N",
                   help=f"other photos the int8 agreement is measured on (default {N_CHECK})")
    p.set_defaults(func=cmd_export)
