"""Exporting a bundle to ONNX (fp32) and OpenVINO (fp32, and int8 calibrated on real photos) for fast CPU inference.

    python -m inat export --model weights/plants47 --format onnx           # → weights/plants47/model.onnx
    python -m inat export --model starter --format onnx                    # → ~/.cache/inat/starter/...
    python -m inat export --model weights/plants47 --precision bf16        # → + model.xml (OpenVINO fp32 IR)
    python -m inat export --model weights/plants47 --precision int8        # → + model.int8.xml (NNCF int8)

`--precision` is the command's one switch for lower precisions, as on predict. (ONNX Runtime static
int8 is gone: it kept 59 % of fp32's top-1 answers against NNCF's 90 %, benchmarks/README.md.)

Where the files go, and how the predictor opens and checks them, is `inat.runtime.onnx_backend`'s part. Each file
carries the `weights_id` of the weights it was made from and, for int8, its measured agreement.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import random
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from ..core.errors import first_line
from ..core.images import ImageError, open_image
from ..core.preprocess import ArrayTransform, draft_size
from ..models.architectures import has_features, logits_and_features
from ..models.bundle import Bundle
from . import openvino_backend

# ExportError lives in runtime so that inat.runtime.openvino_backend (below this module) raises the same one.
from .onnx_backend import (FEATURES, FILES, FORMAT, INPUT, OUTPUT, ExportedModelError, ExportError, OnnxModel,
                           export_dir, open_exported)

OPSET = 17
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
N_CHECK = 300          # other photos its agreement with fp32 PyTorch is measured on


log = logging.getLogger("inat")


# -- the fast path, made when it is missing ------------------------------------------------------
def ensure_export(bundle: Bundle, backend: str | None = None) -> Path | None:
    """The file `backend` runs, made in `export_dir(bundle)` when there is none or it is stale.

    `backend` (default `openvino_backend.default_backend()`, what the default precision runs here): "onnx" needs
    the fp32 ONNX export; "openvino" and "openvino-bf16" need the fp32 OpenVINO IR too, converted from it
    (seconds) when OpenVINO is installed.
    Returns the path of the newest file made or found (the IR, else the ONNX file), or None (after one
    warning line on the `inat` logger) when nothing could be made: the predictor then keeps using PyTorch,
    with the same answers.
    """
    onnx = _ensure_onnx(bundle)
    wants_ir = (backend or openvino_backend.default_backend()).startswith("openvino")
    if onnx is None or not wants_ir or not openvino_backend.available():
        return onnx
    try:
        return openvino_backend.current_ir(bundle) or openvino_backend.convert(onnx, onnx.parent, "fp32")
    except Exception as e:  # ONNX Runtime (or PyTorch, for bf16) keeps serving
        log.warning("%s: the OpenVINO version could not be made (%s); the next backend serves it", bundle.name,
                    first_line(e))
        return onnx


def _ensure_onnx(bundle: Bundle) -> Path | None:
    """The bundle's fp32 ONNX export, made when missing or stale; None (after one warning line) when it cannot be."""
    try:
        found = open_exported(bundle, "fp32")
        if found is not None:
            return found.file
    except ExportedModelError:
        pass  # stale or unreadable: made again
    try:
        return export_onnx(bundle)
    except Exception as e:  # any failure leaves the (slower) PyTorch path, never a broken predictor
        log.warning("%s: the fast ONNX version could not be made (%s); PyTorch serves it", bundle.name, first_line(e))
        return None


def _fp32_in(bundle: Bundle, out_dir: Path) -> Path:
    """`out_dir`'s fp32 ONNX export of `bundle`, made there first when it is missing or stale (what the
    int8 and OpenVINO files are made from)."""
    fp32 = out_dir / FILES["fp32"]
    try:
        OnnxModel(fp32).check(bundle)
    except ExportedModelError:
        export_onnx(bundle, out_dir)
    return fp32


def make_fast(engines, *, background: bool = False) -> threading.Thread | None:
    """Make the export each engine would rather run (`engine.needs_export`), then switch it to the export.

    What a caller that owns the model folders passes as `Predictor(prepare=...)`: the CLI (`make_fast`),
    the app's model cache (`functools.partial(make_fast, background=True)`).

    `background=True` does it in a thread and returns it: the engines keep answering with PyTorch (or ONNX
    Runtime) meanwhile (the app never waits); otherwise it is done before returning. The thread is not a
    daemon: an interpreter that exits in the middle of an export aborts ("terminate called without an active
    exception"), so exit waits the few seconds an export takes (the file is written atomically either way).
    """
    todo = [e for e in engines if e.needs_export]

    def run():
        for engine in todo:
            if ensure_export(engine.bundle, engine.preferred) is not None:
                engine.reopen()
    if not todo:
        return None
    log.info("preparing the fast version of %s (once; about 10 s a model)…", ", ".join(e.bundle.name for e in todo))
    if not background:
        run()
        return None
    thread = threading.Thread(target=run, name="inat-export")
    thread.start()
    return thread


def print_export(path: Path | None) -> None:
    """One line saying where the fast version went (ensure_export has logged why when it could not be made)."""
    if path is not None:
        print(f"fast {'OpenVINO' if path.suffix == '.xml' else 'ONNX'} version: {path}")


# -- exporting ---------------------------------------------------------------------------------
def export_onnx(bundle: Bundle, out_dir: Path | None = None, *, opset: int = OPSET) -> Path:
    """Write `model.onnx` (fp32, dynamic batch) for `bundle` and return its path.

    A timm model's export has a second output, its pooled pre-logit features (the router reads the
    starter's). The export is checked before it replaces any existing file: ONNX Runtime must reproduce the
    PyTorch logits on photo-like inputs (|Δ| ≤ 1e-3 of the logit scale), else ExportError.
    """
    import torch  # keeps torch out of start-up
    out_dir = Path(out_dir or export_dir(bundle))
    out_dir.mkdir(parents=True, exist_ok=True)
    model = bundle.load_model()
    outputs = [OUTPUT, FEATURES] if has_features(model) else [OUTPUT]
    traced = _features_wrapper(model) if len(outputs) == 2 else model
    s = bundle.preprocess.input_size
    dummy = torch.randn(2, 3, s, s, generator=torch.Generator().manual_seed(0))
    final = out_dir / FILES["fp32"]
    tmp = out_dir / (FILES["fp32"] + ".tmp")
    try:
        with warnings.catch_warnings(), _static_same_padding():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notices
            # The TorchScript-based exporter needs no extra package (the dynamo one needs onnxscript)
            # and gives a plain static graph ONNX Runtime optimises well.
            torch.onnx.export(traced, (dummy,), str(tmp), dynamo=False, opset_version=opset,
                              input_names=[INPUT], output_names=outputs,
                              dynamic_axes={k: {0: "batch"} for k in [INPUT, *outputs]}, do_constant_folding=True)
        _stamp(tmp, bundle, "fp32", {})
        x = _photo_like(bundle, 2)
        with torch.inference_mode():
            ref = model(torch.from_numpy(x)).numpy()
        got = OnnxModel(tmp).run(x)
        err = float(np.abs(got - ref).max())
        if not err <= 1e-3 * max(1.0, float(np.abs(ref).max())):
            raise ExportError(f"{final}: ONNX Runtime differs from PyTorch by {err:.3g} (not written)")
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def _features_wrapper(model):
    """`model` as a module returning (logits, pooled features): both outputs of one forward pass."""
    import torch  # only while exporting

    class WithFeatures(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return logits_and_features(self.model, x)
    return WithFeatures().eval()


def _photo_like(bundle: Bundle, n: int) -> np.ndarray:
    """n preprocessed smooth random colour fields: inputs in the range real photos give.

    (White noise drives a network far outside what it was made for, where fp32 rounding differences
    between two correct implementations grow to 1e-3 of the logits and prove nothing.)
    """
    rng = np.random.default_rng(0)
    fast = ArrayTransform(bundle.preprocess)
    s = bundle.preprocess.input_size
    return np.stack([fast(Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)).resize((s + s // 3, s),
                                                                                                  Image.BICUBIC))
                     for _ in range(n)])


@contextlib.contextmanager
def _static_same_padding():
    """Trace timm's TF-style "SAME" padding as constants for the fixed input size.

    timm computes those pads from the input's height and width at run time; traced, that becomes
    float Shape/Ceil/Clip arithmetic in the graph, which int8 quantization then quantizes too
    (shifting feature maps: 57 % top-1 agreement on Lite0 instead of ~95 %), and which keeps ONNX
    Runtime from fusing the pads into the convolutions. The export has a fixed input size, so the
    pads are constants; only the batch dimension stays dynamic.
    """
    originals = [(m, m.pad_same) for name, m in list(sys.modules.items())
                 if name.startswith("timm.layers") and callable(getattr(m, "pad_same", None))]
    if not originals:
        yield
        return
    import torch  # only while exporting
    from timm.layers.padding import get_same_padding

    def pad_same(x, kernel_size, stride, dilation=(1, 1), value: float = 0):
        ih, iw = (int(d) for d in x.shape[-2:])
        ph = get_same_padding(ih, kernel_size[0], stride[0], dilation[0])
        pw = get_same_padding(iw, kernel_size[1], stride[1], dilation[1])
        return torch.nn.functional.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=value)

    try:
        for m, _ in originals:
            m.pad_same = pad_same
        yield
    finally:
        for m, f in originals:
            m.pad_same = f


def _stamp(file: Path, bundle: Bundle, kind: str, extra: dict) -> None:
    """Store inat's metadata (weights_id, shapes, provenance, measurements) inside the ONNX file."""
    import onnx  # only while exporting
    import torch  # only while exporting
    model = onnx.load(str(file))
    props = {"inat_format": FORMAT, "inat_kind": kind, "inat_weights_id": bundle.current_weights_id(),
             "inat_model": bundle.name, "inat_arch": bundle.arch, "inat_num_outputs": str(bundle.num_outputs),
             "inat_input_size": str(bundle.preprocess.input_size), "torch_version": torch.__version__,
             "date": _dt.datetime.now().isoformat(timespec="seconds"),
             **{k: str(v) for k, v in extra.items()}}
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, props)
    onnx.save(model, str(file))


def calibration_photos(folder: Path | None) -> list[Path]:
    """Every photo under `folder`, sorted; ExportError when there are none (or no folder is given)."""
    if not folder:
        raise ExportError("int8 needs real photos to calibrate on: pass --calibration DIR (a folder of photos like "
                          "the ones the model will see)")
    folder = Path(folder)
    photos = sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES) if folder.is_dir() else []
    if not photos:
        raise ExportError(f"{folder}: no photos to calibrate int8 on; pass --calibration DIR (a folder of real "
                          "photos like the ones the model will see)")
    return photos


def split_photos(photos: list[Path], n_calibration: int, n_check: int) -> tuple[list[Path], list[Path]]:
    """Disjoint calibration and check sets, drawn with a fixed seed so exports are repeatable."""
    order = list(photos)
    random.Random(0).shuffle(order)
    n_calibration = min(n_calibration, max(1, len(order) // 2))
    return order[:n_calibration], order[n_calibration:n_calibration + n_check]


def _inputs(bundle: Bundle, photos: list[Path]):
    """Model inputs for `photos`, decoded and preprocessed exactly as the predictor does by default."""
    fast = ArrayTransform(bundle.preprocess)
    draft = draft_size(bundle.preprocess)
    for p in photos:
        try:
            yield fast(open_image(p, draft_size=draft))[None]
        except ImageError:
            continue


def agreement(bundle: Bundle, session, photos: list[Path], batch: int = 16) -> dict:
    """Top-1 identity and top-5 set identity of `session` vs fp32 eager PyTorch, over the bundle's classes."""
    import torch  # only while exporting
    model = bundle.load_model()
    index = np.asarray(bundle.output_index)
    k = min(5, len(index))
    top1 = top5 = n = 0
    xs = list(_inputs(bundle, photos))
    for i in range(0, len(xs), batch):
        x = np.concatenate(xs[i:i + batch])
        with torch.inference_mode():
            ref = model(torch.from_numpy(x)).numpy()[:, index]
        got = session.run(x)[:, index]
        for r, g in zip(ref, got):
            rk, gk = np.argsort(-r, kind="stable")[:k], np.argsort(-g, kind="stable")[:k]
            top1 += rk[0] == gk[0]
            top5 += set(rk) == set(gk)
            n += 1
    return {"agreement_top1": round(float(top1) / max(n, 1), 4), "agreement_top5": round(float(top5) / max(n, 1), 4),
            "agreement_photos": n}


class PhotoInputs:
    """`_inputs(bundle, photos)` as an iterable that can be read more than once (NNCF makes several passes;
    the benchmarks use it too)."""

    def __init__(self, bundle: Bundle, photos: list[Path]):
        self.bundle, self.photos = bundle, photos

    def __len__(self) -> int:
        return len(self.photos)

    def __iter__(self):
        return _inputs(self.bundle, self.photos)


def export_openvino(bundle: Bundle, precision: str = "fp32", calibration: Path | None = None, *,
                    recipe: str = openvino_backend.DEFAULT_RECIPE, n_calibration: int | None = None,
                    n_check: int = N_CHECK, out_dir: Path | None = None) -> tuple[Path, dict]:
    """Write the OpenVINO IR that `precision` runs, from an up-to-date `model.onnx` (made first when missing or
    stale); return (its .xml path, measured).

    "fp32" and "bf16" (a run-time hint on the same file) write `model.xml`: a conversion, no photos needed,
    `measured` is {}. "int8" writes `model.int8.xml`, quantized by NNCF with `recipe` (of
    openvino_backend.RECIPES) on `n_calibration` photos of the folder `calibration` (default
    count: the recipe's subset_size), and measures its top-1 / top-5 agreement with fp32 PyTorch on
    `n_check` other photos: `measured`, also stored in the file. ImportError (one line) without OpenVINO/NNCF.
    """
    openvino_backend.require(precision, making_int8=precision == "int8")
    out_dir = Path(out_dir or export_dir(bundle))
    onnx = _fp32_in(bundle, out_dir)
    if precision != "int8":
        return openvino_backend.convert(onnx, out_dir, "fp32"), {}
    if recipe not in openvino_backend.RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(openvino_backend.RECIPES)}, not {recipe!r}")
    spec = openvino_backend.RECIPES[recipe]
    cal, check = split_photos(calibration_photos(calibration), n_calibration or spec["subset_size"], n_check)
    measured: dict = {}

    def measure(net):
        measured.update(agreement(bundle, net, check))
        return measured
    calib = calibration
    xml = openvino_backend.convert(onnx, out_dir, "int8", calibration=PhotoInputs(bundle, cal), recipe=recipe,
                                   measure=measure, extra_meta={"calibration": f"{calib} ({len(cal)} photos, NNCF)"})
    return xml, measured
