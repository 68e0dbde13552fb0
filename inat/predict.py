"""The predictor: a bundle loaded once, photos in, ranked species with taxonomy out.

    >>> p = Predictor("starter")
    >>> p.predict(["lion.jpg"], k=5)[0]["predictions"][0]["scientific_name"]
    'Panthera leo'

Probabilities are a softmax over the model's outputs (the thesis displayed a raw logit as
"confidence"). For a model with a notion of scope (the starter: ImageNet organisms among objects),
`in_scope` says whether the photo seems to show anything the model knows.

Backends (`predictor.backend` says which one runs):
  "onnx-int8"  `model.int8.onnx` beside the bundle, used by default only when the agreement with fp32
               PyTorch measured at export time (stored in the file) meets AGREEMENT_TOP1 / _TOP5;
  "onnx"       `model.onnx` beside the bundle (ONNX Runtime, fp32): same answers, several times faster;
  "torch"      fp32 PyTorch (inference_mode, channels-last): the fallback without an export;
               `exact=True` always runs it, in the training-time layout with full-size decoding.
Exported files live where `inat.export.export_dir` says (the bundle folder; a cache folder for the
built-in starter). An exported file that is unreadable, or stale (made from other weights), is
skipped with ONE warning line on the `inat` logger and the next backend is used: the answers stay
right, only slower. Asking for a backend explicitly (`backend="onnx"`) raises instead.
"""
from __future__ import annotations

import logging
import os

import numpy as np

from .bundle import Bundle, BundleError, resolve_bundle
from .images import ImageError, open_image
from .preprocess import Preprocess, eval_transform
from .taxonomy import common_ancestor

ANCESTOR_THRESHOLD = 0.7  # iNat's "pretty sure" level for the common ancestor
BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
# What a faster backend must keep, against fp32 eager PyTorch, to be used by default.
AGREEMENT_TOP1 = 0.99
AGREEMENT_TOP5 = 0.97

log = logging.getLogger("inat")


def result_record(image: str, model: str, *, in_scope=None, predictions=(), ancestor=None, error=None) -> dict:
    """One line of `predict --json` output, with every contract key present."""
    return {"image": image, "model": model, "in_scope": in_scope, "predictions": list(predictions),
            "ancestor": ancestor, "error": error}


# -- preprocessing without torch ---------------------------------------------------------------
_PIL_FILTERS = {"bilinear": 2, "bicubic": 3, "nearest": 0}  # PIL.Image.Resampling values


class FastPreprocess:
    """`eval_transform(pre)` in PIL + numpy: same tensor (bit for bit on uint8 RGB input), no torch.

    Resizing is the same PIL call torchvision makes; ToTensor + Normalize become one lookup table
    per channel built with the same float32 operations (x / 255, then (x - mean) / std), so the
    values are identical and cost one gather. `__call__` returns a (3, S, S) float32 array;
    `batch(images)` a (N, 3, S, S) one.
    """

    def __init__(self, pre: Preprocess):
        self.pre = pre
        self.size = pre.input_size
        self.resample = _PIL_FILTERS[pre.interpolation]
        v = np.arange(256, dtype=np.float32) / np.float32(255)
        self.lut = np.stack([(v - np.float32(m)) / np.float32(s) for m, s in zip(pre.mean, pre.std)])
        # A crop larger than the resized image would need torchvision's padding: rare, so delegate.
        self.exact_fallback = pre.resize == "shorter" and pre.resize_size < pre.input_size
        self._reference = None

    def _resized(self, im):
        """The resized (and centre-cropped) RGB PIL image, as torchvision computes it."""
        w, h = im.size
        s = self.size
        if self.pre.resize == "squash":
            return im if (w, h) == (s, s) else im.resize((s, s), self.resample)
        short_target = self.pre.resize_size
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(short_target * long / short)  # torchvision truncates, it does not round
        nw, nh = (short_target, new_long) if w <= h else (new_long, short_target)
        if (nw, nh) != (w, h):
            im = im.resize((nw, nh), self.resample)
        top, left = round((nh - s) / 2.0), round((nw - s) / 2.0)  # torchvision's CenterCrop
        return im.crop((left, top, left + s, top + s))

    def into(self, im, out: np.ndarray) -> None:
        """Write the model input for one RGB PIL image into `out` (3, S, S) float32."""
        if self.exact_fallback or im.mode != "RGB":
            if self._reference is None:
                self._reference = eval_transform(self.pre)
            out[...] = self._reference(im.convert("RGB")).numpy()
            return
        px = np.asarray(self._resized(im))  # (S, S, 3) uint8
        for c in range(3):
            np.take(self.lut[c], px[..., c], out=out[c])

    def __call__(self, im) -> np.ndarray:
        out = np.empty((3, self.size, self.size), dtype=np.float32)
        self.into(im, out)
        return out

    def batch(self, images) -> np.ndarray:
        out = np.empty((len(images), 3, self.size, self.size), dtype=np.float32)
        for im, o in zip(images, out):
            self.into(im, o)
        return out


# -- loading the PyTorch model once ------------------------------------------------------------
def load_model(bundle: Bundle):
    """The bundle's architecture with its weights, in eval mode, built without a random init.

    The module is created on the meta device (no memory, no initialisation) and the weights are
    assigned from the safetensors file, instead of initialising ~all parameters randomly and then
    overwriting them. Same tensors as `bundle.build_model()`, so the same outputs bit for bit.
    """
    import torch
    from .models import create_model
    state = bundle.state_dict()
    with torch.device("meta"):
        model = create_model(bundle.arch, bundle.num_outputs)
    own = model.state_dict()
    bad = sorted(set(own) ^ set(state)) or [k for k in own if own[k].shape != state[k].shape]
    if bad:
        raise BundleError(f"{bundle.weights_file or bundle.name}: weights do not match architecture {bundle.arch} "
                          f"with {bundle.num_outputs} outputs (first mismatch: {bad[0]})")
    model.load_state_dict(state, assign=True)
    if any(t.is_meta for t in (*model.parameters(), *model.buffers())):
        return bundle.build_model()  # a buffer the state dict does not carry: build it the slow way
    return model.eval()


class Predictor:
    """Loads a bundle once; `predict(images, k)` returns one result dict per image, in order.

    `exact=True`: fp32 eager PyTorch, full-size JPEG decoding and the torchvision transform, i.e.
    bit-faithful to the training-time definition. Otherwise the fastest backend whose answers agree
    (see the module docstring) and reduced-scale decoding of large JPEGs. `backend` forces one of
    BACKENDS; `threads` sets the number of CPU threads of whichever backend runs.
    """

    def __init__(self, model: str | Bundle | None = None, *, exact: bool = False, threads: int | None = None,
                 device: str = "cpu", backend: str = "auto"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.bundle = model if isinstance(model, Bundle) else resolve_bundle(model)
        self.exact = exact
        self.threads = threads
        self._device = device
        self.index = np.asarray(self.bundle.output_index)
        self.name = self.bundle.name
        self._model = None
        self._transform = None
        self.session = None
        self.onnx_file = None
        self.fast = FastPreprocess(self.bundle.preprocess)
        if exact or device != "cpu":
            backend = "torch"
        self.backend = self._open_onnx(backend) if backend != "torch" else "torch"
        if self.backend == "torch":
            import torch
            if threads:
                torch.set_num_threads(threads)
            self._model = load_model(self.bundle).to(self.device)
            if not exact:
                # NHWC convolutions (oneDNN's preferred CPU layout); the exact path keeps the
                # training-time layout so its numbers stay bit-faithful.
                self._model = self._model.to(memory_format=torch.channels_last)

    def _open_onnx(self, wanted: str) -> str:
        """Open the exported model to use and return its backend name ("torch" when none fits)."""
        from .export import ExportError, check_session, find_exported, open_session
        kinds = {"auto": ("int8", "fp32"), "onnx": ("fp32",), "onnx-int8": ("int8",)}[wanted]
        for kind in kinds:
            file = find_exported(self.bundle, kind)
            if file is None:
                if wanted != "auto":
                    raise BundleError(f"{self.bundle.name}: no exported {kind} ONNX model; make it with "
                                      f"python -m inat export --model {self.bundle.path or self.bundle.name}"
                                      f" --format onnx{' --int8' if kind == 'int8' else ''}")
                continue
            try:
                session = open_session(file, self.threads)
                meta = check_session(session, self.bundle, file)
            except ImportError:
                if wanted != "auto":
                    raise
                return "torch"  # onnxruntime not installed: PyTorch serves
            except ExportError as e:
                if wanted != "auto":
                    raise BundleError(str(e)) from None
                log.warning("%s; using %s instead", e, "PyTorch" if kind == "fp32" else "the next backend")
                continue
            if kind == "int8" and wanted == "auto" and not agreement_ok(meta):
                continue  # measured not to agree well enough on this model: opt-in only
            self.session, self.onnx_file = session, file
            self._input = session.get_inputs()[0].name
            return "onnx-int8" if kind == "int8" else "onnx"
        return "torch"

    # -- lazily built pieces (kept as attributes for callers that used them) -------------------
    @property
    def device(self):
        import torch
        return torch.device(self._device)

    @property
    def model(self):
        """The fp32 PyTorch model (built on first use when an ONNX backend runs the predictions)."""
        if self._model is None:
            self._model = load_model(self.bundle).to(self.device)
        return self._model

    @property
    def transform(self):
        """The defining torchvision transform (PIL → tensor); the exact path uses it."""
        if self._transform is None:
            self._transform = eval_transform(self.bundle.preprocess)
        return self._transform

    # -- the numbers -------------------------------------------------------------------------
    def _logits(self, batch) -> np.ndarray:
        """(N, num_outputs) float32 logits for a (N, 3, S, S) batch (numpy array or tensor)."""
        if self.session is not None:
            x = np.ascontiguousarray(batch, dtype=np.float32)
            return self.session.run(None, {self._input: x})[0]
        import torch
        if isinstance(batch, np.ndarray):
            batch = torch.from_numpy(batch)
        batch = batch.to(self.device)
        if not self.exact and self.backend == "torch":
            batch = batch.contiguous(memory_format=torch.channels_last)  # the layout the model was put in
        with torch.inference_mode():
            return self.model(batch).float().cpu().numpy()

    def _batch(self, images):
        if self.exact:
            import torch
            return torch.stack([self.transform(im) for im in images])
        return self.fast.batch(images)

    def probabilities(self, images) -> np.ndarray:
        """(N, num_outputs) softmax probabilities for a list of RGB PIL images."""
        if not images:
            return np.zeros((0, self.bundle.num_outputs), dtype=np.float32)
        logits = self._logits(self._batch(images)).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    # -- ranked, named results ---------------------------------------------------------------
    def describe(self, probs: np.ndarray, image: str, k: int = 5) -> dict:
        """One result record from one row of output probabilities."""
        class_probs = probs[self.index]
        in_scope = None
        if self.bundle.has_scope:
            in_scope = bool(class_probs.sum() >= self.bundle.in_scope_threshold)
        k = max(1, min(int(k), len(class_probs)))
        top = np.argsort(-class_probs, kind="stable")[:k]
        preds = [{"probability": float(class_probs[i]), **self.bundle.classes[i].to_dict()} for i in top]
        # Key order of the contract: class_id first, then probability.
        preds = [{"class_id": p.pop("class_id"), **p} for p in preds]
        ancestor = common_ancestor(self.bundle.classes, class_probs, ANCESTOR_THRESHOLD)
        return result_record(image, self.name, in_scope=in_scope, predictions=preds, ancestor=ancestor)

    def predict(self, images, k: int = 5, batch_size: int = 16) -> list[dict]:
        """Results for paths, bytes or PIL images, in input order.

        An input that cannot be read gets `error` (one line) and no predictions; the others are
        still predicted. Works in batches of `batch_size` to bound memory for large folders.
        """
        results: list[dict | None] = [None] * len(images)
        draft = self._draft_size()
        batch_size = max(1, int(batch_size))
        for start in range(0, len(images), batch_size):
            ok, pils = [], []
            for i in range(start, min(start + batch_size, len(images))):
                src = images[i]
                label = _label(src, i)
                try:
                    pils.append(open_image(src, draft_size=draft))
                    ok.append((i, label))
                except ImageError as e:
                    results[i] = result_record(label, self.name, error=str(e))
            if pils:
                probs = self.probabilities(pils)
                for (i, label), row in zip(ok, probs):
                    results[i] = self.describe(row, label, k)
        return results  # type: ignore[return-value]

    def _draft_size(self) -> int | None:
        # Decoding a JPEG at a reduced scale changes pixels slightly; --exact keeps full decoding.
        return None if self.exact else draft_size(self.bundle.preprocess)


def draft_size(pre: Preprocess) -> int:
    """The side a JPEG may be decoded down to (twice the resize target keeps the resize's antialiasing)."""
    side = pre.resize_size if isinstance(pre.resize_size, int) else max(pre.resize_size)
    return 2 * side


def agreement_ok(meta: dict) -> bool:
    """Whether an exported model's stored agreement with fp32 PyTorch allows using it by default."""
    try:
        return (float(meta["agreement_top1"]) >= AGREEMENT_TOP1 and float(meta["agreement_top5"]) >= AGREEMENT_TOP5
                and int(meta["agreement_photos"]) >= 100)
    except (KeyError, TypeError, ValueError):
        return False


def _label(src, i: int) -> str:
    if isinstance(src, (str, os.PathLike)):
        return str(src)
    return getattr(src, "filename", None) or f"<image {i}>"
