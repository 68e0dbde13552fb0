"""OpenVINO as a CPU backend: the ONNX export converted to an OpenVINO IR and run with a precision hint.

    from inat.runtime.openvino_backend import convert, open_ir
    xml = convert("weights/plants47/model.onnx")          # → model.xml + model.bin beside it (fp32)
    net = open_ir(bundle, "bf16")                          # None when there is none; ExportedModelError when stale
    logits = net.run(x)                                    # (N, 3, S, S) float32 → (N, C)

Precisions (the one switch: `--precision` on predict / export, `precision=` in Python):
  "fp32"  the ONNX graph as is, fp32 weights and arithmetic: ONNX Runtime's answers.
  "bf16"  the same fp32 IR run with INFERENCE_PRECISION_HINT=bf16: only where the CPU has bf16
          (AVX-512 BF16 or AMX); elsewhere OpenVINO runs fp32, `net.precision` says so and one
          warning line on the `inat` logger says it (once per process).
  "int8"  `model.int8.xml`, quantized by NNCF from the ONNX export with one of RECIPES, calibrated on
          real photos; its measured agreement with fp32 PyTorch travels in its metadata.
The IR carries the ONNX file's inat metadata (weights_id, input size, ...) in its rt_info under
"inat" and passes `inat.runtime.onnx_backend.check_export` like an ONNX file, so a stale IR is refused the same way.
Making the IRs for a bundle (where, calibration photos, agreement) is `inat.runtime.export`'s part.

OpenVINO is in requirements.txt (the default precision runs bf16 on it where the CPU has native bf16) but
the package works without it (fp32 on ONNX Runtime): it is imported inside functions (keeps it out of
start-up), `available()` says whether it is installed and `require()` raises a one-line ImportError
saying how to install it. NNCF (making int8) is optional: requirements-openvino.txt.

Measured choices (benchmarks/openvino_study.py, results in benchmarks/results/openvino_study.json):
PERFORMANCE_HINT=LATENCY (one stream using all threads), weights kept fp32, dynamic batch, and a small
pool of infer requests so that concurrent callers are safe.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import logging
import os
import queue
import shutil
import sys
from pathlib import Path

import numpy as np

from ..core.errors import first_line
from ..models.bundle import Bundle
from . import onnx_backend
from .onnx_backend import FEATURES, ExportedModelError, ExportError, check_export, export_dirs

FILES = {"fp32": "model.xml", "int8": "model.int8.xml"}  # bf16 runs the fp32 file
PRECISIONS = ("fp32", "bf16", "int8")
FORMAT = "inat-openvino"
RT_KEY = "inat"  # rt_info section holding our metadata
INSTALL = "pip install openvino nncf"

# NNCF int8 recipes: JSON-able, so the one used is stored in the IR.
#   preset             "performance" (symmetric activations) or "mixed" (asymmetric activations)
#   fast_bias_correction  NNCF's default True; False runs the slower, more exact bias correction
#   ignore_types       OpenVINO op types kept in fp32 (GroupConvolution = the depthwise convolutions)
#   ignore_first_last  keep the stem convolution and the classifier (MatMul) in fp32
#   subset_size        calibration photos NNCF uses (at most the number given)
#   overflow_fix       "enable": 7-bit weights everywhere, so u8 x s8 products summed in pairs cannot
#                      saturate int16 on CPUs without VNNI (AVX2); NNCF's default fixes the first layer only
_BASE = {"preset": "performance", "fast_bias_correction": True, "ignore_types": [], "ignore_first_last": False,
         "subset_size": 300, "overflow_fix": "first_layer_only"}
# Top-1 / top-5-set agreement with fp32 eager PyTorch, starter (Lite0), 1,370 held-out photos, measured
# on a 2-core AVX2 machine without VNNI (2026-12-01; benchmarks/results/openvino_study.json). The study's
# pilot (300 photos) also tried "mixed", exact bias correction, 1,000 calibration photos and depthwise-only:
# none gained more than 2 points over "default".
RECIPES = {name: {**_BASE, **changes} for name, changes in {
    "default": {},                                                  # 69.9 % / 24.7 %
    "first-last-fp32": {"ignore_first_last": True},                 # 78.4 % / 38.7 %
    "depthwise+first-last-fp32": {"ignore_types": ["GroupConvolution"], "ignore_first_last": True},  # 81.8 / 44.4
    "7bit": {"overflow_fix": "enable"},                             # 84.1 % / 47.2 %
    "7bit+first-last-fp32": {"overflow_fix": "enable", "ignore_first_last": True},                   # 85.3 / 52.3
    "7bit+depthwise+first-last-fp32": {"overflow_fix": "enable", "ignore_types": ["GroupConvolution"],
                                       "ignore_first_last": True},  # 90.1 % / 60.6 %: the best
}.items()}
DEFAULT_RECIPE = "7bit+depthwise+first-last-fp32"

log = logging.getLogger("inat")
_warned_bf16 = [False]  # said once per process: the CPU is the same for every network


def available() -> bool:
    """Whether OpenVINO is installed (found without importing it: no start-up cost)."""
    return importlib.util.find_spec("openvino") is not None


def fp32_backend() -> str:
    """The runtime that serves fp32 by default: `onnx_backend.FP32_BACKEND`, or ONNX Runtime when that is OpenVINO
    and OpenVINO is not installed."""
    return onnx_backend.FP32_BACKEND if onnx_backend.FP32_BACKEND == "onnx" or available() else "onnx"


def default_backend() -> str:
    """The export backend an engine with the default precision ("auto") runs on this machine: OpenVINO bf16 where
    the CPU runs bf16 natively, else `fp32_backend()`. What `inat.runtime.export.ensure_export` makes by default."""
    return "openvino-bf16" if cpu_has_bf16() else fp32_backend()


def require(precision: str = "fp32", *, making_int8: bool = False) -> None:
    """Return when OpenVINO (and NNCF, for making int8) is installed; else raise a one-line ImportError saying
    how to install it."""
    missing = ([] if available() else ["openvino"]) + \
        (["nncf"] if making_int8 and importlib.util.find_spec("nncf") is None else [])
    if missing:
        raise ImportError(f"precision {precision} runs on OpenVINO, and {' and '.join(missing)} "
                          f"{'is' if len(missing) == 1 else 'are'} not installed: {INSTALL}")


def _core():
    import openvino as ov  # keeps OpenVINO (~0.3 s, 180 MB installed) out of start-up
    return ov, ov.Core()


def cpu_has_bf16() -> bool:
    """Whether OpenVINO's CPU plugin runs bf16 natively here (AVX-512 BF16 or AMX), as the runtime reports it;
    the bf16 hint is ignored otherwise. Asked once per process (the CPU does not change); False without OpenVINO.

    The one question every caller asks, the tests included: nothing assumes the answer.
    """
    return available() and "BF16" in _cpu_capabilities()


@functools.lru_cache(maxsize=None)
def _cpu_capabilities() -> tuple[str, ...]:
    """What OpenVINO's CPU plugin says this CPU can do (FP32, BF16, INT8, ...), asked once per process."""
    _, core = _core()
    return tuple(core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


def precision_name(hint) -> str:
    """Our name ("fp32", "bf16", "fp16", ...) of an OpenVINO element type or precision hint.

    OpenVINO reports the hint a compiled model runs as an element type whose text is "bfloat16" or
    "f32" (and has spelled it "bf16" elsewhere): looking for the substring "bf16" read "bfloat16" as fp32.
    """
    text = str(hint).lower().removeprefix("<type: '").removesuffix("'>")
    return {"bf16": "bf16", "bfloat16": "bf16", "f32": "fp32", "float32": "fp32", "fp32": "fp32",
            "f16": "fp16", "float16": "fp16", "fp16": "fp16"}.get(text, text)


def ir_command(bundle: Bundle, precision: str = "fp32") -> str:
    """The command that (re)makes the IR a precision runs, for error messages."""
    option = "--format openvino" if precision == "fp32" else f"--precision {precision}"
    return f"python -m inat export --model {bundle.path or bundle.name} {option}"


# -- converting --------------------------------------------------------------------------------
def onnx_metadata(onnx_file: Path) -> dict:
    """The inat metadata_props of an ONNX export (weights_id, input size, ...); {} when it has none."""
    import onnx  # keeps onnx out of start-up
    try:
        model = onnx.load(str(onnx_file), load_external_data=False)
    except Exception as e:  # onnx raises DecodeError, OSError, ... for unreadable files
        raise ExportError(f"{onnx_file}: unreadable ONNX model ({first_line(e)})") from None
    return {p.key: p.value for p in model.metadata_props}


def convert(onnx_file, out_dir=None, precision: str = "fp32", *, calibration=None, recipe=DEFAULT_RECIPE,
            measure=None, extra_meta: dict | None = None) -> Path:
    """Write the OpenVINO IR of an inat ONNX export and return the path of its .xml.

    precision "fp32" (also what "bf16" runs) writes FILES["fp32"]; "int8" writes FILES["int8"]
    quantized with NNCF: `calibration` is an iterable (iterated more than once) of preprocessed inputs
    ((1, 3, S, S) or (3, S, S) float32 arrays of real photos like those the model will see; it may
    decode them lazily), `recipe` a name of RECIPES or a recipe dict. `measure(net)`, when given, is
    called on the new model (an OpenVINOModel, before the file is written) and the dict it returns is
    stored in the metadata (e.g. agreement figures). Files are written to a temporary folder and
    renamed into place, so a reader never sees half a file. Raises ExportError (one line, naming the
    file) when the ONNX file cannot be converted.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    ov, core = _core()
    onnx_file = Path(onnx_file)
    out_dir = Path(out_dir) if out_dir is not None else onnx_file.parent
    kind = "int8" if precision == "int8" else "fp32"
    meta = onnx_metadata(onnx_file)
    if meta.get("inat_format") != "inat-onnx":
        raise ExportError(f"{onnx_file}: not exported by inat export (no inat metadata); re-run python -m inat export")
    try:
        model = core.read_model(str(onnx_file))
    except Exception as e:  # OpenVINO raises RuntimeError with a multi-line trace for graphs it cannot read
        raise ExportError(f"{onnx_file}: OpenVINO cannot convert it ({first_line(e)})") from None
    _simplify(model)
    meta.update({"inat_format": FORMAT, "inat_kind": kind, "inat_source": onnx_file.name,
                 "openvino_version": ov.get_version().split("-")[0]})
    if kind == "int8":
        if calibration is None:
            raise ValueError("int8 needs calibration inputs (preprocessed real photos)")
        if isinstance(recipe, str) and recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {', '.join(RECIPES)} or a recipe dict, not {recipe!r}")
        spec = RECIPES[recipe] if isinstance(recipe, str) else {**_BASE, **recipe}
        model = quantize(model, calibration, spec)
        meta.update({"inat_recipe": recipe if isinstance(recipe, str) else "custom",
                     "inat_recipe_spec": json.dumps(spec, sort_keys=True)})
        if hasattr(calibration, "__len__"):
            meta["inat_calibration_inputs"] = str(min(len(calibration), int(spec["subset_size"])))
    meta.update({k: str(v) for k, v in (extra_meta or {}).items()})
    if measure is not None:
        net = OpenVINOModel(core.compile_model(model, "CPU", _config("fp32", None)), meta, onnx_file, kind)
        meta.update({k: str(v) for k, v in measure(net).items()})
    for k, v in meta.items():
        model.set_rt_info(str(v), [RT_KEY, k])
    final = out_dir / FILES[kind]
    tmp = out_dir / f".{final.stem}.tmp{os.getpid()}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        # fp32 weights: save_model would halve them to fp16 by default (measured in the study: 99.6 % top-1
        # instead of 100 %; decompressed at load time, so it saves disk only).
        ov.save_model(model, str(tmp / "model.xml"), compress_to_fp16=False)
        # The .bin first, then the .xml that names the graph: a reader between the two renames sees
        # the old .xml with the new .bin, i.e. the same graph (identical weights, or a weights_id that
        # marks it stale), or sizes OpenVINO refuses to read.
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
        # NNCF imports torch's C++-extension helper, which warns on every CPU-only machine that it found no CUDA
        logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
        before = os.environ.get("NNCF_CI")
        os.environ["NNCF_CI"] = "1"
        try:
            importlib.import_module("nncf")  # here, not at the top: NNCF is an export-time tool
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
    # Lazy: an iterable that decodes its photos on access is read one item at a time.
    data = nncf.Dataset(calibration, lambda x: np.asarray(x, np.float32).reshape(1, *np.shape(x)[-3:]))
    presets = {"performance": QuantizationPreset.PERFORMANCE, "mixed": QuantizationPreset.MIXED}
    advanced = AdvancedQuantizationParameters(overflow_fix=OverflowFix(spec.get("overflow_fix", "first_layer_only")))
    # NNCF logs a line per operation it leaves in fp32 at INFO: keep its warnings only.
    logging.getLogger("nncf").setLevel(max(logging.WARNING, logging.getLogger("nncf").level))
    return nncf.quantize(model, data, preset=presets[spec.get("preset", "performance")],
                         subset_size=int(spec.get("subset_size", 300)),
                         fast_bias_correction=bool(spec.get("fast_bias_correction", True)),
                         ignored_scope=scope if (names or types or patterns) else None, advanced_parameters=advanced)


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

    The same interface as `inat.runtime.onnx_backend.OnnxModel` (run, run_with_features, has_features, check, meta,
    file), so the engine runs either. A CompiledModel may be shared between threads but an
    InferRequest may not, so each call takes an idle request from a pool (making one when all are
    busy) and gives it back afterwards: two requests served at once each get their own.
    """

    def __init__(self, compiled, meta: dict, file: Path, precision: str):
        self.compiled, self.meta, self.file = compiled, meta, Path(file)
        # What the CPU really runs: a bf16 hint on a CPU without bf16 becomes f32.
        running = precision_name(compiled.get_property("INFERENCE_PRECISION_HINT"))
        self.precision = "int8" if precision == "int8" else ("bf16" if running == "bf16" else "fp32")
        self.requested = precision   # what was asked for (precision: what runs)
        self.input_shape = _dims(compiled.input(0).get_partial_shape())
        self.output_shape = _dims(compiled.output(0).get_partial_shape())
        self.has_features = len(compiled.outputs) > 1 and FEATURES in compiled.output(1).get_names()
        self._idle: queue.SimpleQueue = queue.SimpleQueue()

    def _infer(self, x: np.ndarray, outputs: int) -> list[np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        want = self.input_shape[1:]
        if x.ndim != 4 or x.shape[0] < 1 or any(w is not None and w != d for w, d in zip(want, x.shape[1:])):
            raise ValueError(f"{self.file}: takes (N, {', '.join(map(str, want))}) inputs, not {x.shape}")
        try:
            request = self._idle.get_nowait()
        except queue.Empty:
            request = self.compiled.create_infer_request()
        try:
            request.infer({0: x}, share_inputs=True)
            # copies: the request reuses its output buffers on the next call
            return [request.get_output_tensor(i).data.copy() for i in range(outputs)]
        finally:
            self._idle.put(request)

    def run(self, x: np.ndarray) -> np.ndarray:
        """(N, C) float32 logits for a (N, 3, S, S) float32 batch (any N ≥ 1)."""
        return self._infer(x, 1)[0]

    def run_with_features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(logits, pooled features) in one pass; only for an IR that has the features output."""
        logits, features = self._infer(x, 2)
        return logits, features

    def check(self, bundle: Bundle) -> "OpenVINOModel":
        """Self, after checking it was converted from exactly this bundle's weights with its shapes
        (`inat.runtime.onnx_backend.check_export`, as for ONNX files); ExportedModelError otherwise."""
        redo = f"re-run: {ir_command(bundle, 'int8' if self.meta.get('inat_kind') == 'int8' else 'fp32')}"
        check_export(self.file, self.meta, self.input_shape, self.output_shape, bundle, redo=redo, format=FORMAT)
        return self


def _dims(shape) -> list:
    """A partial shape as a list, None for a dynamic dimension."""
    return [None if d.is_dynamic else d.get_length() for d in shape]


def _read(core, file: Path):
    """(ov.Model, its inat metadata); ExportedModelError (one line) when unreadable or not inat's."""
    try:
        model = core.read_model(str(file))
    except Exception as e:  # OpenVINO raises RuntimeError with a multi-line trace for bad files
        raise ExportedModelError(f"{file}: unreadable OpenVINO model ({first_line(e)})") from None
    meta = read_meta(model)
    if meta.get("inat_format") != FORMAT:
        raise ExportedModelError(f"{file}: not converted by inat (no inat metadata; re-run python -m inat export)")
    return model, meta


def open_model(file, precision: str = "fp32", threads: int | None = None, *, mode: str = "latency") -> OpenVINOModel:
    """The IR at `file` compiled for this CPU, as an OpenVINOModel (not yet checked against a bundle).

    precision "fp32" / "bf16" need an fp32 IR, "int8" an int8 one. `mode` "latency" runs each call
    on all `threads` (one stream); "throughput" splits them into streams, one call each. Raises
    ImportError when OpenVINO is not installed, ExportedModelError (one line naming the file) when
    the file is unreadable, not inat's or of the wrong precision. bf16 on a CPU without bf16 runs fp32
    and logs one warning line (once per process).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    _, core = _core()
    file = Path(file)
    model, meta = _read(core, file)
    if (meta.get("inat_kind") == "int8") != (precision == "int8"):
        raise ExportedModelError(f"{file}: is an {meta.get('inat_kind')} model, cannot run it as {precision}")
    try:
        compiled = core.compile_model(model, "CPU", _config(precision, threads, mode))
    except Exception as e:
        raise ExportedModelError(f"{file}: OpenVINO cannot compile it ({first_line(e)})") from None
    net = OpenVINOModel(compiled, meta, file, precision)
    if precision == "bf16" and net.precision != "bf16" and not _warned_bf16[0]:
        _warned_bf16[0] = True
        log.warning("this CPU has no bf16 (AVX-512 BF16 or AMX), so OpenVINO runs precision bf16 in fp32 "
                    "(fp32's answers, no speed-up)")
    return net


def open_ir(bundle: Bundle, precision: str = "fp32", threads: int | None = None) -> OpenVINOModel | None:
    """The bundle's IR for `precision`, opened and checked against the bundle; None when there is none.

    Looked for where its ONNX exports are (`inat.runtime.onnx_backend.export_dirs`). Raises ExportedModelError when it
    is unreadable, stale or of the wrong shape; ImportError (saying how to install it) without OpenVINO.
    """
    require(precision)
    kind = "int8" if precision == "int8" else "fp32"
    for folder in export_dirs(bundle):
        file = folder / FILES[kind]
        if file.is_file():
            return open_model(file, precision, threads).check(bundle)
    return None


def current_ir(bundle: Bundle, kind: str = "fp32") -> Path | None:
    """The bundle's `kind` IR when there is one made from its current weights (read, not compiled), else None."""
    _, core = _core()
    for folder in export_dirs(bundle):
        file = folder / FILES[kind]
        if file.is_file():
            try:
                model, meta = _read(core, file)
                check_export(file, meta, _dims(model.input(0).get_partial_shape()),
                             _dims(model.output(0).get_partial_shape()), bundle, redo="", format=FORMAT)
            except ExportedModelError:
                return None
            return file
    return None


def read_meta(model) -> dict:
    """The inat metadata stored in an ov.Model's rt_info ({} when there is none)."""
    if not model.has_rt_info([RT_KEY]):
        return {}
    return {str(k): str(v) for k, v in model.get_rt_info([RT_KEY]).value.items()}
