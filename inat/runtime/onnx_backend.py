"""Opening an exported model (ONNX Runtime) for fast CPU inference; `inat.runtime.export` writes them.

An exported file lives beside the bundle, or, for a built-in or a bundle in a folder we may not write
to, in the cache folder (`$INAT_CACHE`, default `~/.cache/inat`): `export_dirs(bundle)` lists where
to look, `export_dir(bundle)` where to write. It carries, in its ONNX metadata, the `weights_id` of the weights it
was made from (so a retrained bundle never runs a stale export).

    model = open_exported(bundle, "fp32")   # None when there is none; ExportedModelError when unreadable or stale
    logits = model.run(x)                   # x: (N, 3, S, S) float32

OpenVINO IRs converted from these files (`inat.runtime.openvino_backend`) live in the same folders and are
checked by the same `check_export`. FP32_BACKEND names the runtime that serves fp32 by default.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..core.errors import first_line
from ..models.bundle import Bundle

FILES = {"fp32": "model.onnx"}
FORMAT = "inat-onnx"
INPUT, OUTPUT, FEATURES = "input", "logits", "features"  # FEATURES: pooled pre-logits, timm models only
# What a lower-precision export must keep, against fp32 eager PyTorch, for benchmarks/agreement.py to pass it.
AGREEMENT_TOP1 = 0.99
AGREEMENT_TOP5 = 0.97
# The runtime that serves fp32 by default: "onnx" (ONNX Runtime) or "openvino" (the IR converted from the
# ONNX export, made beside it by inat.runtime.export.ensure_export). The rule: whichever is faster at
# >= AGREEMENT_TOP1 / _TOP5 agreement with fp32 eager PyTorch; benchmarks/backend_speed.py measures it
# (OpenVINO fp32 agreed 100 % top-1 / 99.9 % top-5 on the starter, but no quiet-machine timing yet).
FP32_BACKEND = "onnx"


class ExportedModelError(RuntimeError):
    """An exported model that cannot be used (missing, unreadable, stale); the message is one line naming the file."""


class ExportError(RuntimeError):
    """An export that could not be made; the message is one line naming the file."""


def cache_dir() -> Path:
    """Where exports of built-in models go: $INAT_CACHE, else $XDG_CACHE_HOME/inat or ~/.cache/inat."""
    if os.environ.get("INAT_CACHE"):
        return Path(os.environ["INAT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "inat"


def export_dirs(bundle: Bundle) -> list[Path]:
    """Where a bundle's exports may be, in the order they are looked for: beside it, then in the cache."""
    if bundle.path is None:
        return [cache_dir() / bundle.name]
    key = hashlib.sha1(str(Path(bundle.path).resolve()).encode()).hexdigest()[:10]
    return [Path(bundle.path), cache_dir() / f"{bundle.name}-{key}"]


def export_dir(bundle: Bundle) -> Path:
    """Where a bundle's exports are written: beside it when that folder is writable, else the cache."""
    beside, *cache = export_dirs(bundle)
    return beside if cache and os.access(beside, os.W_OK) else (cache or [beside])[0]


def export_command(bundle: Bundle, kind: str = "fp32") -> str:
    """What (re)makes a bundle's ONNX export, for error messages (the int8 IR's is openvino_backend.ir_command)."""
    return f"python -m inat export --model {bundle.path or bundle.name} --format onnx"


class OnnxModel:
    """An ONNX Runtime CPU session over one exported file: `run(x)` → logits, `meta` its inat metadata."""

    def __init__(self, file: Path, threads: int | None = None):
        import onnxruntime as ort  # keeps onnxruntime out of start-up
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3  # ORT's own warnings would print several lines per start
        if threads:
            so.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(file), so, providers=["CPUExecutionProvider"])
        except Exception as e:  # ORT raises its own exception types for unreadable or invalid graphs
            raise ExportedModelError(f"{file}: unreadable ONNX model ({first_line(e)})") from None
        self.file = Path(file)
        self.meta = dict(self.session.get_modelmeta().custom_metadata_map)
        self.input_shape = self.session.get_inputs()[0].shape
        self.output_shape = self.session.get_outputs()[0].shape
        self.has_features = [o.name for o in self.session.get_outputs()][1:2] == [FEATURES]
        self._input = self.session.get_inputs()[0].name

    def run(self, x: np.ndarray) -> np.ndarray:
        """(N, num_outputs) float32 logits for a (N, 3, S, S) float32 batch."""
        return self.session.run([OUTPUT], {self._input: np.ascontiguousarray(x, dtype=np.float32)})[0]

    def run_with_features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(logits, pooled features) in one pass; only for an export that has the features output."""
        logits, features = self.session.run([OUTPUT, FEATURES], {self._input: np.ascontiguousarray(x, dtype=np.float32)})
        return logits, features

    def check(self, bundle: Bundle) -> "OnnxModel":
        """Self, after checking it was exported from exactly this bundle's weights with its input and output
        shapes; ExportedModelError (stale or wrong shape) otherwise."""
        redo = f"re-run: {export_command(bundle)}"
        check_export(self.file, self.meta, self.input_shape, self.output_shape, bundle, redo=redo)
        return self


def check_export(file: Path, meta: dict, input_shape, output_shape, bundle: Bundle, *, redo: str,
                 format: str = FORMAT) -> None:
    """Raise ExportedModelError (one line naming `file`, ending with `redo`) unless the export's inat metadata
    `meta` says inat made it (`format`) from exactly this bundle's weights and its shapes fit the bundle.

    The one check every exported file passes before it is used: ONNX files and OpenVINO IRs alike.
    """
    if meta.get("inat_format") != format:
        raise ExportedModelError(f"{file}: not exported by inat export ({redo})")
    if meta.get("inat_weights_id") != bundle.current_weights_id():
        raise ExportedModelError(f"{file}: exported from other weights than "
                                 f"{bundle.weights_file or bundle.name} (stale; {redo})")
    s = bundle.preprocess.input_size
    if list(input_shape[1:]) != [3, s, s] or output_shape[-1] != bundle.num_outputs:
        raise ExportedModelError(f"{file}: takes {list(input_shape)} → {list(output_shape)}, the bundle "
                                 f"needs [N, 3, {s}, {s}] → [N, {bundle.num_outputs}] ({redo})")


def open_exported(bundle: Bundle, kind: str = "fp32", threads: int | None = None) -> OnnxModel | None:
    """The bundle's fp32 ONNX export, opened and checked against the bundle; None when there is none.

    Raises ExportedModelError when it is unreadable, stale or of the wrong shape; ImportError when
    onnxruntime is not installed.
    """
    for folder in export_dirs(bundle):
        file = folder / FILES[kind]
        if file.is_file():
            return OnnxModel(file, threads).check(bundle)
    return None
