"""One bundle's network run on photos: the decoding rule, the preprocessing, and the backend.

Backends (`Engine.backend` says which one runs):
  "onnx-int8"  the bundle's int8 export, used by default only when the agreement with fp32 PyTorch
               measured when it was made meets `runtime.AGREEMENT_TOP1` / `_TOP5`;
  "onnx"       the fp32 export (ONNX Runtime): the same answers, several times faster than eager PyTorch;
  "torch"      fp32 PyTorch (inference_mode, channels-last): the fallback without an export;
               `exact=True` always runs it, in the training-time layout with full-size decoding.
An export that is unreadable or stale (made from other weights) is skipped with ONE warning line on
the `inat` logger and the next backend is used: the answers stay right, only slower. Asking for a
backend explicitly (`backend="onnx"`) raises instead.
"""
from __future__ import annotations

import logging

import numpy as np

from .bundle import Bundle, BundleError
from .models import logits_and_features
from .preprocess import ArrayTransform, draft_size, eval_transform
from .runtime import ExportedModelError, agreement_ok, export_command, open_exported

BACKENDS = ("auto", "torch", "onnx", "onnx-int8")

log = logging.getLogger("inat")


class Engine:
    """Photos → the bundle's (N, num_outputs) logits and probabilities, on the fastest backend that agrees.

    `exact=True`: fp32 eager PyTorch, full-size JPEG decoding and the torchvision transform, i.e. faithful
    to the training-time definition. Otherwise reduced-scale decoding of large JPEGs (`draft`) and the
    numpy transform, which gives the same tensor. `threads` sets the CPU threads of the backend.
    """

    def __init__(self, bundle: Bundle, *, exact: bool = False, backend: str = "auto", threads: int | None = None,
                 device: str = "cpu"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.bundle = bundle
        self.exact = exact
        self.threads = threads
        self.device = device
        self.draft = None if exact else draft_size(bundle.preprocess)  # JPEG decode side (None: full size)
        self.transform = ArrayTransform(bundle.preprocess)
        self.exported = None
        self._model = None
        self._reference = None
        if exact or device != "cpu":
            backend = "torch"
        self.backend = self._open_export(backend) if backend != "torch" else "torch"
        if self.backend == "torch":
            self._load_torch()

    def _open_export(self, wanted: str) -> str:
        """Open the export to use and return its backend name ("torch" when none fits)."""
        kinds = {"auto": ("int8", "fp32"), "onnx": ("fp32",), "onnx-int8": ("int8",)}[wanted]
        for kind in kinds:
            try:
                exported = open_exported(self.bundle, kind, self.threads)
            except ImportError:
                if wanted != "auto":
                    raise
                return "torch"  # onnxruntime not installed: PyTorch serves
            except ExportedModelError as e:
                if wanted != "auto":
                    raise BundleError(str(e)) from None
                log.warning("%s; using %s instead", e, "PyTorch" if kind == "fp32" else "the next backend")
                continue
            if exported is None:
                if wanted != "auto":
                    raise BundleError(f"{self.bundle.name}: no exported {kind} ONNX model; make it with "
                                      f"{export_command(self.bundle, kind)}")
                continue
            if kind == "int8" and wanted == "auto" and not agreement_ok(exported.meta):
                continue  # measured not to agree well enough on this model: opt-in only
            self.exported = exported
            return "onnx-int8" if kind == "int8" else "onnx"
        return "torch"

    def reopen(self) -> str:
        """Look for an export again (one may have been made since) and use it when it fits; the backend."""
        if self.backend == "torch" and not self.exact and self.device == "cpu":
            self.backend = self._open_export("auto")
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
        """(N, num_outputs) calibrated probabilities (softmax of logits / the bundle's temperature) for a batch."""
        if len(batch) == 0:
            return np.zeros((0, self.bundle.num_outputs), dtype=np.float32)
        return softmax(self.logits(batch) / self.bundle.temperature)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64 (no overflow), returned as float32."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
