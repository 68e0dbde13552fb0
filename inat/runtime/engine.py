"""One bundle's network run on photos: the decoding rule, the preprocessing, and the backend.

Backends (`Engine.backend` says which one runs):
  "onnx"       the fp32 export (ONNX Runtime): the same answers, several times faster than eager PyTorch;
  "openvino"   the OpenVINO IR converted from it: the same answers; the fp32 default instead of "onnx"
               when `runtime.FP32_BACKEND` says so;
  "openvino-bf16", "openvino-int8"  what precision "bf16" / "int8" run (inat.runtime.openvino_backend);
  "torch"      fp32 PyTorch (inference_mode, channels-last): the fallback without an export;
               `exact=True` always runs it, in the training-time layout with full-size decoding.
An export that is unreadable or stale (made from other weights) is skipped with ONE warning line on
the `inat` logger and the next backend is used: the answers stay right, only slower. Asking for a
backend explicitly (`backend="onnx"`) raises instead.

`precision` is the one switch for lower precisions:
  "auto" (default)  bf16 where the CPU runs it natively (AVX-512 BF16 or AMX, as OpenVINO reports it:
          `openvino_backend.cpu_has_bf16`), else fp32; decided once per process. Measured to keep every
          shipped model's top-1 within 0.5 point and ECE within 0.01 of fp32 (benchmarks/bf16_accuracy.py).
          Until the bf16 IR is made, the fp32 backends serve.
  "fp32"  a backend as above, fp32's answers.
  "bf16"  "openvino-bf16"; PyTorch until its IR is made.
  "int8"  "openvino-int8", whose IR only `python -m inat export --precision int8` makes (it needs
          calibration photos), so its absence raises.
bf16 and int8 need OpenVINO (a one-line ImportError saying how to install it otherwise). Making a missing
export is the caller's part (`inat.runtime.export.make_fast`): the CLI, the app's model cache, download, train
and import own the model folders; this layer only opens what is there. `Engine.running` says which
precision runs now.
"""
from __future__ import annotations

import logging

import numpy as np

from ..core.preprocess import ArrayTransform, draft_size, eval_transform
from ..core.probability import calibrated
from ..models.architectures import logits_and_features
from ..models.bundle import Bundle, BundleError
from . import openvino_backend
from .onnx_backend import ExportedModelError, export_command, open_exported

BACKENDS = ("auto", "torch", "onnx", "openvino", "openvino-bf16", "openvino-int8")
PRECISIONS = ("auto", *openvino_backend.PRECISIONS)
DESCRIBE = {"onnx": "fp32 ONNX", "openvino": "fp32 OpenVINO",
            "openvino-bf16": "OpenVINO (bf16 runs the fp32 IR)", "openvino-int8": "int8 OpenVINO"}
MAKEABLE = ("onnx", "openvino", "openvino-bf16")  # what inat.runtime.export.ensure_export makes (no photos needed)

log = logging.getLogger("inat")


def _split(backend: str) -> tuple[str, str]:
    """(runtime, precision) of an export backend's name: "openvino-bf16" → ("openvino", "bf16"), "onnx" → ("onnx",
    "fp32")."""
    kind, _, precision = backend.partition("-")
    return kind, precision or "fp32"


def resolve_precision(precision: str, *, backend: str = "auto", exact: bool = False, device: str = "cpu") -> str:
    """The precision "auto" stands for here: "bf16" where this CPU runs it natively and nothing asks for fp32
    (exact, another device, an explicit fp32 backend), else "fp32". Other precisions are returned as given."""
    if precision != "auto":
        return precision
    native = backend in ("auto", "openvino-bf16") and not exact and device == "cpu"
    return "bf16" if native and openvino_backend.cpu_has_bf16() else "fp32"


class Engine:
    """Photos → the bundle's (N, num_outputs) logits and probabilities, on the fastest backend that agrees.

    `exact=True`: fp32 eager PyTorch, full-size JPEG decoding and the torchvision transform, i.e. faithful
    to the training-time definition. Otherwise reduced-scale decoding of large JPEGs (`draft`) and the
    numpy transform, which gives the same tensor. `threads` sets the CPU threads of the backend.
    `precision`: "auto", "fp32", "bf16" or "int8" (see the module's docstring); `self.precision` is what
    it resolved to, `self.running` what runs now.
    """

    def __init__(self, bundle: Bundle, *, exact: bool = False, backend: str = "auto", threads: int | None = None,
                 device: str = "cpu", precision: str = "auto"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.automatic = precision == "auto"   # chosen for this CPU: a missing bf16 IR is no error
        precision = resolve_precision(precision, backend=backend, exact=exact, device=device)
        if precision != "fp32":
            if backend not in ("auto", f"openvino-{precision}") or exact or device != "cpu":
                raise ValueError(f"precision {precision} runs on OpenVINO on the CPU: not with backend={backend!r}, "
                                 f"exact={exact}, device={device!r}")
            openvino_backend.require(precision)
            backend = f"openvino-{precision}"
        self.bundle = bundle
        self.exact = exact
        self.threads = threads
        self.device = device
        self.precision = precision
        self.draft = None if exact else draft_size(bundle.preprocess)  # JPEG decode side (None: full size)
        self.transform = ArrayTransform(bundle.preprocess)
        self.exported = None
        self._model = None
        self._reference = None
        if exact or device != "cpu":
            backend = "torch"
        self.wanted = backend
        # The backend whose missing export inat.runtime.export.make_fast makes (None: nothing to make).
        self.preferred = (openvino_backend.fp32_backend() if backend == "auto"
                          else "openvino-bf16" if precision == "bf16" else None)
        self.backend = self._open_export(backend) if backend != "torch" else "torch"
        if self.backend == "torch":
            self._load_torch()

    @property
    def needs_export(self) -> bool:
        """Whether `inat.runtime.export.ensure_export(bundle, self.preferred)` would put this engine on a better backend."""
        return self.preferred is not None and self.backend in ("torch", *MAKEABLE) and self.backend != self.preferred

    def _candidates(self, wanted: str) -> list[str]:
        """The backends to try, in order, for `wanted`."""
        fp32 = openvino_backend.fp32_backend()
        fallback = [fp32] + (["onnx"] if fp32 != "onnx" else [])
        if wanted == "auto":
            return fallback
        return [wanted] + (fallback if wanted == "openvino-bf16" and self.automatic else [])

    def _open(self, backend: str):
        """The backend's exported model for this bundle, checked; None when there is none."""
        kind, precision = _split(backend)
        if kind == "openvino":
            return openvino_backend.open_ir(self.bundle, precision, self.threads)
        return open_exported(self.bundle, precision, self.threads)

    def _open_export(self, wanted: str) -> str:
        """Open the export to use and return its backend name ("torch" when none fits)."""
        # An explicit backend raises when its export is missing or stale; so does precision="int8". bf16's
        # IR is made on demand (make_fast) like auto's exports: until then PyTorch (or, for the automatic
        # bf16, the fp32 exports) serves.
        strict = wanted != "auto" and not (wanted == "openvino-bf16" and self.precision == "bf16")
        candidates = self._candidates(wanted)
        for i, name in enumerate(candidates):
            try:
                exported = self._open(name)
            except ImportError:
                if strict:
                    raise
                continue  # onnxruntime / OpenVINO not installed: the next backend serves
            except ExportedModelError as e:
                if strict:
                    raise BundleError(str(e)) from None
                log.warning("%s; using %s instead", e, "the next backend" if i + 1 < len(candidates) else "PyTorch")
                continue
            if exported is None:
                if strict:
                    raise BundleError(f"{self.bundle.name}: no exported {DESCRIBE[name]} model; make it with "
                                      f"{self._command(name)}")
                continue
            self.exported = exported
            return name
        return "torch"

    @property
    def running(self) -> str:
        """The precision the network runs now: "fp32", "bf16" or "int8" (bf16 asked of a CPU without it runs fp32)."""
        return getattr(self.exported, "precision", "fp32") if self.exported is not None else "fp32"

    def _command(self, backend: str) -> str:
        """The command that makes `backend`'s export, for error messages."""
        kind, precision = _split(backend)
        return (openvino_backend.ir_command if kind == "openvino" else export_command)(self.bundle, precision)

    def reopen(self) -> str:
        """Look for the export again (one may have been made since) and use it when it fits; the backend."""
        if self.needs_export:
            found = self._open_export(self.wanted)
            if found != "torch" or self.backend == "torch":
                self.backend = found
        return self.backend

    def _load_torch(self):
        import torch  # keeps torch out of start-up when an export serves
        if self.threads:
            torch.set_num_threads(self.threads)
        model = self.bundle.load_model().to(self.device)
        if not self.exact:
            # NHWC convolutions (oneDNN's preferred CPU layout); the exact path keeps the training-time
            # layout so its numbers stay faithful.
            model = model.to(memory_format=torch.channels_last)
        self._model = model

    @property
    def model(self):
        """The fp32 PyTorch model (built on first use when an export runs the predictions)."""
        if self._model is None:
            self._load_torch()
        return self._model

    def inputs(self, images) -> np.ndarray:
        """The (N, 3, S, S) float32 model input for a list of RGB PIL images."""
        if self.exact:
            if self._reference is None:
                self._reference = eval_transform(self.bundle.preprocess)
            return np.stack([self._reference(im).numpy() for im in images])
        return self.transform.batch(images)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """(N, num_outputs) float32 logits for a (N, 3, S, S) float32 batch."""
        if self.exported is not None:
            return self.exported.run(batch)
        import torch  # keeps torch out of start-up when an export serves
        x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
        if not self.exact:
            x = x.contiguous(memory_format=torch.channels_last)  # the layout the model was put in
        with torch.inference_mode():
            return self.model(x).float().cpu().numpy()

    def logits_and_features(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(logits, pooled pre-logit features) of a timm model's batch in one forward pass."""
        if self.exported is not None and self.exported.has_features:
            return self.exported.run_with_features(batch)
        import torch  # the export lacks the features output: PyTorch gives both
        x = torch.from_numpy(np.ascontiguousarray(batch))
        if not self.exact:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            logits, features = logits_and_features(self.model, x)
        return logits.float().numpy(), features.float().numpy()

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """(N, num_outputs) calibrated probabilities (the bundle's calibration of the logits) for a batch."""
        if len(batch) == 0:
            return np.zeros((0, self.bundle.num_outputs), dtype=np.float32)
        return calibrated(self.logits(batch), self.bundle.calibration)

