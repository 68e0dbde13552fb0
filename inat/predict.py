"""The predictor: a bundle loaded once, photos in, ranked species with taxonomy out.

    >>> p = Predictor("starter")
    >>> p.predict(["lion.jpg"], k=5)[0]["predictions"][0]["scientific_name"]
    'Panthera leo'

Probabilities are a softmax over the model's outputs (the thesis displayed a raw logit as
"confidence"). For a model with a notion of scope (the starter: ImageNet organisms among objects),
`in_scope` says whether the photo seems to show anything the model knows.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .bundle import Bundle, resolve_bundle
from .images import ImageError, open_image
from .preprocess import eval_transform
from .taxonomy import common_ancestor

ANCESTOR_THRESHOLD = 0.7  # iNat's "pretty sure" level for the common ancestor


def result_record(image: str, model: str, *, in_scope=None, predictions=(), ancestor=None, error=None) -> dict:
    """One line of `predict --json` output, with every contract key present."""
    return {"image": image, "model": model, "in_scope": in_scope, "predictions": list(predictions),
            "ancestor": ancestor, "error": error}


class Predictor:
    """Loads a bundle once; `predict(images, k)` returns one result dict per image, in order."""

    def __init__(self, model: str | Bundle | None = None, *, exact: bool = False, threads: int | None = None,
                 device: str = "cpu"):
        import torch
        self.bundle = model if isinstance(model, Bundle) else resolve_bundle(model)
        self.exact = exact
        self.device = torch.device(device)
        if threads:
            torch.set_num_threads(threads)
        self.model = self.bundle.build_model().to(self.device)
        self.transform = eval_transform(self.bundle.preprocess)
        self.index = np.asarray(self.bundle.output_index)
        self.name = self.bundle.name

    # -- the numbers -------------------------------------------------------------------------
    def _logits(self, batch) -> np.ndarray:
        import torch
        with torch.inference_mode():
            return self.model(batch.to(self.device)).float().cpu().numpy()

    def probabilities(self, images) -> np.ndarray:
        """(N, num_outputs) softmax probabilities for a list of RGB PIL images."""
        import torch
        if not images:
            return np.zeros((0, self.bundle.num_outputs), dtype=np.float32)
        batch = torch.stack([self.transform(im) for im in images])
        logits = self._logits(batch).astype(np.float64)
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
        for start in range(0, len(images), batch_size):
            chunk = list(enumerate(images))[start:start + batch_size]
            ok, pils = [], []
            for i, src in chunk:
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
        if self.exact:
            return None
        pre = self.bundle.preprocess
        side = pre.resize_size if isinstance(pre.resize_size, int) else max(pre.resize_size)
        return 2 * side


def _label(src, i: int) -> str:
    if isinstance(src, (str, os.PathLike)):
        return str(src)
    return getattr(src, "filename", None) or f"<image {i}>"

