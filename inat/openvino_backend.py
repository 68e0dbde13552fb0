"""OpenVINO as a CPU backend: the ONNX export converted to an OpenVINO IR and run with a precision hint.

    from inat.openvino_backend import convert, open_model
    xml = convert("weights/plants47/model.onnx", "weights/plants47")      # → model.xml + model.bin (fp32)
    net = open_model(xml, precision="fp32")                               # or "bf16" (a run-time hint)
    logits = net.run(x)                                                   # (N, 3, S, S) float32 → (N, C)

Precisions:
  "fp32"  the ONNX graph as is, fp32 weights and arithmetic: ONNX Runtime's answers (100 % top-1).
  "bf16"  the same fp32 IR run with INFERENCE_PRECISION_HINT=bf16: only where the CPU has bf16
          (AVX-512 BF16 or AMX); elsewhere OpenVINO silently runs fp32, and `net.precision` says so.
  "int8"  `model.int8.xml`, quantized by NNCF from the fp32 IR with one of RECIPES, calibrated on
          photos the caller gives; its measured agreement travels in its metadata.
The IR carries the ONNX file's inat metadata (weights fingerprint, input size, ...) in its rt_info
under "inat", so a stale IR is refused exactly like a stale ONNX file. OpenVINO is optional: every
function imports it inside (keeps it out of start-up); `available()` says whether it is installed,
and callers fall back to ONNX Runtime when it is not (open_model raises ImportError then).

Measured choices (benchmarks/openvino_study.py, results in benchmarks/results/openvino_study.json):
PERFORMANCE_HINT=LATENCY (one stream using all threads), weights kept fp32, dynamic batch, and
a small pool of infer requests so that concurrent callers are safe.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import queue
import shutil
import sys
from pathlib import Path

import numpy as np

from .export import ExportError, _first_line

FILES = {"fp32": "model.xml", "int8": "model.int8.xml"}  # bf16 runs the fp32 file
PRECISIONS = ("fp32", "bf16", "int8")
FORMAT = "inat-openvino"
RT_KEY = "inat"  # rt_info section holding our metadata

# NNCF int8 recipes: JSON-able, so the one used is stored in the IR beside its measured agreement.
#   preset             "performance" (symmetric activations) or "mixed" (asymmetric activations)
#   fast_bias_correction  NNCF's default True; False runs the slower, more exact bias correction
#   ignore_types       OpenVINO op types kept in fp32 (GroupConvolution = the depthwise convolutions)
#   ignore_first_last  keep the stem convolution and the classifier (MatMul) in fp32
#   subset_size        calibration photos NNCF uses (at most the number given)
RECIPES = {
    "default": {"preset": "performance", "fast_bias_correction": True, "ignore_types": [],
                "ignore_first_last": False, "subset_size": 300},
}
DEFAULT_RECIPE = "default"

log = logging.getLogger("inat")


def available() -> bool:
    """Whether OpenVINO is installed (found without importing it: no start-up cost)."""
    return importlib.util.find_spec("openvino") is not None


def _core():
    import openvino as ov  # keeps OpenVINO (~0.3 s, 180 MB installed) out of start-up
    return ov, ov.Core()


# -- converting --------------------------------------------------------------------------------
def onnx_metadata(onnx_file: Path) -> dict:
    """The inat metadata_props of an ONNX export (fingerprint, input size, ...); {} when it has none."""
    import onnx  # keeps onnx out of start-up
    try:
        model = onnx.load(str(onnx_file), load_external_data=False)
    except Exception as e:  # onnx raises DecodeError, OSError, ... for unreadable files
        raise ExportError(f"{onnx_file}: unreadable ONNX model ({_first_line(e)})") from None
    return {p.key: p.value for p in model.metadata_props}


def convert(onnx_file, out_dir=None, precision: str = "fp32", *, calibration=None, recipe=DEFAULT_RECIPE,
            measure=None, extra_meta: dict | None = None) -> Path:
    """Write the OpenVINO IR of an inat ONNX export and return the path of its .xml.

    precision "fp32" (also what "bf16" runs) writes FILES["fp32"]; "int8" writes FILES["int8"]
    quantized with NNCF: `calibration` is a sequence of preprocessed inputs ((1, 3, S, S) or (3, S, S)
    float32 arrays of real photos like those the model will see; it may make them lazily), `recipe`
    a name of RECIPES or a recipe dict. `measure(net)`, when given, is called on the new model (an OpenVINOModel, before
    the file is written) and the dict it returns is stored in the metadata (e.g. agreement figures).
    Files are written to a temporary folder and renamed into place, so a reader never sees half a
    file. Raises ExportError (one line, naming the file) when the ONNX file cannot be converted.
    """
    ov, core = _core()
    onnx_file = Path(onnx_file)
    out_dir = Path(out_dir) if out_dir is not None else onnx_file.parent
    kind = "int8" if precision == "int8" else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    meta = onnx_metadata(onnx_file)
    if meta.get("inat_format") != "inat-onnx":
        raise ExportError(f"{onnx_file}: not exported by inat export (no inat metadata); re-run python -m inat export")
    try:
        model = core.read_model(str(onnx_file))
    except Exception as e:  # OpenVINO raises RuntimeError with a multi-line trace for graphs it cannot read
        raise ExportError(f"{onnx_file}: OpenVINO cannot convert it ({_first_line(e)})") from None
    _simplify(model)
    meta.update({"inat_format": FORMAT, "inat_kind": kind, "inat_source": onnx_file.name,
                 "openvino_version": ov.get_version().split("-")[0]})
    if kind == "int8":
        if not calibration:
            raise ValueError("int8 needs calibration inputs (preprocessed real photos)")
        if isinstance(recipe, str) and recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {', '.join(RECIPES)} or a recipe dict, not {recipe!r}")
        spec = RECIPES[recipe] if isinstance(recipe, str) else dict(recipe)
        model = quantize(model, calibration, spec)
        meta.update({"inat_recipe": recipe if isinstance(recipe, str) else "custom",
                     "inat_recipe_spec": _json(spec),
                     "inat_calibration_inputs": str(min(len(calibration), spec.get("subset_size", 300)))})
    meta.update({k: str(v) for k, v in (extra_meta or {}).items()})
    if measure is not None:
        net = OpenVINOModel(core.compile_model(model, "CPU", _config("fp32", None)), meta, onnx_file, kind)
        meta.update({k: str(v) for k, v in measure(net).items()})
    for k, v in meta.items():
        model.set_rt_info(str(v), [RT_KEY, k])
    final = out_dir / FILES[kind]
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{final.stem}.tmp{os.getpid()}"
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        # fp32 weights: save_model would halve them to fp16 by default (measured in the study;
        # decompressed at load time, so it saves disk only).
        ov.save_model(model, str(tmp / "model.xml"), compress_to_fp16=False)
        # The .bin first, then the .xml that names the graph: a reader between the two renames sees
        # the old .xml with the new .bin, i.e. the same graph (identical weights, or a fingerprint
        # that marks it stale), or sizes OpenVINO refuses to read.
        os.replace(tmp / "model.bin", final.with_suffix(".bin"))
        os.replace(tmp / "model.xml", final)
    except OSError as e:
        raise ExportError(f"{final}: cannot write ({e.strerror})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _simplify(model) -> None:
    """Fold the ONNX padding arithmetic into the convolutions and Clip into Clamp, in place.

    The same graph `ov.convert_model` makes (its MOC transformations), without `convert_model`
    itself: that reports usage telemetry over the network unless the user has opted out, and an
    export must not phone home. NNCF needs the folded graph to place its quantizers well.
    """
    try:
        from openvino._offline_transformations import apply_moc_transformations
    except ImportError:  # a private module: if a release drops it, plain constant folding still works
        from openvino import passes
        manager = passes.Manager()
        manager.register_pass(passes.ConstantFolding())
        manager.run_passes(model)
        return
    apply_moc_transformations(model, cf=True)


def _import_nncf():
    """The nncf module, imported with its usage telemetry off.

    NNCF reports usage to Google Analytics unless the user opted out; the NNCF_CI variable, read
    once when nncf is imported and for nothing else, turns that off.
    """
    if "nncf" not in sys.modules:
        before = os.environ.get("NNCF_CI")
        os.environ["NNCF_CI"] = "1"
        try:
            import nncf  # noqa: F401  (keeps NNCF, an export-time tool, out of start-up)
        finally:
            if before is None:
                os.environ.pop("NNCF_CI", None)
            else:
                os.environ["NNCF_CI"] = before
    return sys.modules["nncf"]


def quantize(model, calibration, spec: dict):
    """An NNCF int8 copy of the OpenVINO model `model`, following the recipe dict `spec`."""
    nncf = _import_nncf()
    from nncf.common.quantization.structs import QuantizationPreset
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix
    names = []
    if spec.get("ignore_first_last"):
        ops = model.get_ordered_ops()
        convs = [op for op in ops if op.get_type_name() in ("Convolution", "GroupConvolution")]
        mats = [op for op in ops if op.get_type_name() == "MatMul"]
        names = [op.get_friendly_name() for op in convs[:1] + mats[-1:]]
    types, patterns = list(spec.get("ignore_types", [])), list(spec.get("ignore_patterns", []))
    scope = nncf.IgnoredScope(names=names, types=types, patterns=patterns, validate=False)
    # Lazy: a sequence that decodes its photos on access is read one item at a time.
    data = nncf.Dataset(calibration, lambda x: np.asarray(x, np.float32).reshape(1, *np.shape(x)[-3:]))
    presets = {"performance": QuantizationPreset.PERFORMANCE, "mixed": QuantizationPreset.MIXED}
    advanced = AdvancedQuantizationParameters(overflow_fix=OverflowFix(spec.get("overflow_fix", "first_layer_only")))
    return nncf.quantize(model, data, preset=presets[spec.get("preset", "performance")],
                         subset_size=int(spec.get("subset_size", 300)),
                         fast_bias_correction=bool(spec.get("fast_bias_correction", True)),
                         ignored_scope=scope if (names or types or patterns) else None, advanced_parameters=advanced)


def export_openvino(bundle, precision: str = "fp32", calibration=None, *, recipe=DEFAULT_RECIPE,
                    n_calibration: int = 300, n_check: int = 300, out_dir=None) -> tuple[Path, dict]:
    """Convert a bundle's ONNX export (made first when missing or stale) to OpenVINO; return (xml, measured).

    "fp32" (and "bf16", which runs it) needs nothing else. "int8" calibrates on `n_calibration`
    photos of the folder `calibration` (default ../shared/data, as `inat export --int8` does) and
    measures top-1 / top-5 agreement with fp32 PyTorch on `n_check` other photos; `measured` holds
    those figures, which are also stored in the IR for the predictor's AGREEMENT_TOP1 / _TOP5 check.
    """
    from .export import FILES as ONNX_FILES
    from .export import (_inputs, agreement, calibration_photos, check_session, export_dir, export_onnx,
                         open_session, split_photos)
    out_dir = Path(out_dir or export_dir(bundle))
    onnx = out_dir / ONNX_FILES["fp32"]
    try:
        check_session(open_session(onnx), bundle, onnx)
    except ExportError:
        export_onnx(bundle, out_dir)
    if precision != "int8":
        return convert(onnx, out_dir, "fp32"), {}
    cal, check = split_photos(calibration_photos(calibration), n_calibration, n_check)
    measured: dict = {}

    class AsSession:  # export.agreement speaks ONNX Runtime's run(outputs, feed)
        def __init__(self, net):
            self.net = net

        def run(self, _outputs, feed):
            return [self.net.run(next(iter(feed.values())))]

    def measure(net):
        measured.update(agreement(bundle, AsSession(net), check))
        return measured
    xml = convert(onnx, out_dir, "int8", calibration=list(_inputs(bundle, cal)), recipe=recipe, measure=measure,
                  extra_meta={"calibration": f"{calibration or 'shared/data'} ({len(cal)} photos, NNCF)"})
    return xml, measured


# -- running -----------------------------------------------------------------------------------
MODES = {"latency": "LATENCY", "throughput": "THROUGHPUT"}


def _config(precision: str, threads: int | None, mode: str = "latency") -> dict:
    """Compile options: the performance hint (streams), the precision hint, threads."""
    cfg = {"PERFORMANCE_HINT": MODES[mode], "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32"}
    if threads:
        cfg["INFERENCE_NUM_THREADS"] = int(threads)
    return cfg


class OpenVINOModel:
    """A compiled OpenVINO model: `run(x)` → logits, thread-safe; `meta` is the file's inat metadata.

    A CompiledModel may be shared between threads but an InferRequest may not, so each call takes
    an idle request from a pool (making one when all are busy) and gives it back afterwards: two
    requests served at once each get their own.
    """

    def __init__(self, compiled, meta: dict, file: Path, precision: str):
        self.compiled, self.meta, self.file = compiled, meta, Path(file)
        self.requested = precision
        # What the CPU really runs: a bf16 hint on a CPU without bf16 becomes f32.
        running = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
        self.precision = "int8" if precision == "int8" else ("bf16" if "bf16" in running else "fp32")
        shape = compiled.input(0).get_partial_shape()
        self.input_shape = tuple(None if d.is_dynamic else d.get_length() for d in shape)
        self._idle: queue.SimpleQueue = queue.SimpleQueue()

    def run(self, x: np.ndarray) -> np.ndarray:
        """(N, C) float32 logits for a (N, 3, S, S) float32 batch (any N ≥ 1)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        want = self.input_shape[1:]
        if x.ndim != 4 or x.shape[0] < 1 or any(w is not None and w != d for w, d in zip(want, x.shape[1:])):
            raise ValueError(f"{self.file}: takes (N, {', '.join(map(str, want))}) inputs, "
                             f"not {x.shape}")
        try:
            request = self._idle.get_nowait()
        except queue.Empty:
            request = self.compiled.create_infer_request()
        try:
            request.infer({0: x}, share_inputs=True)
            return request.get_output_tensor(0).data.copy()  # the request reuses its output buffer
        finally:
            self._idle.put(request)


def open_model(file, precision: str = "fp32", threads: int | None = None, *, mode: str = "latency",
               fingerprint: str | None = None) -> OpenVINOModel:
    """The IR at `file` compiled for this CPU, as an OpenVINOModel.

    precision "fp32" / "bf16" need an fp32 IR, "int8" an int8 one. `mode` "latency" runs each call
    on all `threads` (one stream); "throughput" splits them into streams, one call each.
    `fingerprint`, when given, must equal the one the file was made from
    (inat.export.weights_fingerprint of the bundle), else the file is stale. Raises ImportError when
    OpenVINO is not installed, ExportError (one line naming the file) when the file is unreadable,
    not inat's, stale or of the wrong precision.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    ov, core = _core()
    file = Path(file)
    try:
        model = core.read_model(str(file))
    except Exception as e:  # OpenVINO raises RuntimeError with a multi-line trace for bad files
        raise ExportError(f"{file}: unreadable OpenVINO model ({_first_line(e)})") from None
    meta = read_meta(model)
    redo = "re-run: python -m inat export"
    if meta.get("inat_format") != FORMAT:
        raise ExportError(f"{file}: not converted by inat (no inat metadata; {redo})")
    if fingerprint is not None and meta.get("inat_fingerprint") != fingerprint:
        raise ExportError(f"{file}: converted from other weights (stale; {redo})")
    if (meta.get("inat_kind") == "int8") != (precision == "int8"):
        raise ExportError(f"{file}: is an {meta.get('inat_kind')} model, cannot run it as {precision}")
    try:
        compiled = core.compile_model(model, "CPU", _config(precision, threads, mode))
    except Exception as e:
        raise ExportError(f"{file}: OpenVINO cannot compile it ({_first_line(e)})") from None
    net = OpenVINOModel(compiled, meta, file, precision)
    if precision == "bf16" and net.precision != "bf16":
        log.info("%s: this CPU has no bf16; OpenVINO runs it in fp32", file)
    return net


def read_meta(model) -> dict:
    """The inat metadata stored in an ov.Model's rt_info ({} when there is none)."""
    if not model.has_rt_info([RT_KEY]):
        return {}
    return {str(k): str(v) for k, v in model.get_rt_info([RT_KEY]).value.items()}


def check_model(net: OpenVINOModel, bundle) -> dict:
    """`net`'s metadata after checking it was made from exactly this bundle's weights and shapes.

    Raises ExportError (one line, naming the file) when stale or shaped for another model.
    """
    from .export import weights_fingerprint
    meta = net.meta
    redo = f"re-run: python -m inat export --model {bundle.path or bundle.name}"
    if meta.get("inat_fingerprint") != weights_fingerprint(bundle):
        raise ExportError(f"{net.file}: converted from other weights than {bundle.weights_file or bundle.name} "
                          f"(stale; {redo})")
    s = bundle.preprocess.input_size
    if net.input_shape[1:] != (3, s, s) or meta.get("inat_num_outputs") != str(bundle.num_outputs):
        raise ExportError(f"{net.file}: takes {list(net.input_shape)} → {meta.get('inat_num_outputs')} outputs, "
                          f"the bundle needs [N, 3, {s}, {s}] → {bundle.num_outputs} ({redo})")
    return meta


def _json(obj) -> str:
    import json
    return json.dumps(obj, sort_keys=True)
