"""The Predictor: a model loaded once; photos in, one `Identification` record per photo out.

    >>> p = Predictor("starter")
    >>> r = p.predict(["lion.jpg"], k=5)[0]
    >>> r.top.taxon.scientific_name, r.ancestor["rank"]
    ('Panthera leo', 'species')
    >>> r.to_json()            # exactly one line of `python -m inat predict --json`

Probabilities are a softmax over the model's outputs (the thesis displayed a raw logit as
"confidence"). For a model with a notion of scope (the starter: ImageNet organisms among objects),
`in_scope` says whether the photo seems to show anything the model knows. How the network runs
(ONNX Runtime or PyTorch, exact or fast decoding) is `inat.engine`'s part.
"""
from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .bundle import Bundle
from .engine import Engine
from .hub import resolve
from .images import ImageError, open_image
from .record import Identification, identify
from .rollup import TaxonTree

# Threads that decode and preprocess the next photos while the network runs on the current batch.
DECODE_THREADS = 2


class Predictor:
    """Loads a model once; `predict(images, k)` returns one Identification per image, in input order.

    `model`: a name (`starter`, a bundle in the weights folder), a bundle path, a Bundle, or None for the
    default model. `exact`, `backend`, `threads`, `device`: see `inat.engine.Engine`.
    """

    def __init__(self, model: str | Bundle | None = None, *, exact: bool = False, threads: int | None = None,
                 device: str = "cpu", backend: str = "auto"):
        self.bundle = model if isinstance(model, Bundle) else resolve(model)
        self.name = self.bundle.name
        self.engine = Engine(self.bundle, exact=exact, backend=backend, threads=threads, device=device)
        self.tree = TaxonTree(self.bundle.classes)
        self.index = np.asarray(self.bundle.output_index)  # model output of each class

    @property
    def backend(self) -> str:
        return self.engine.backend

    @property
    def classes(self) -> list:
        """The taxa the records rank (the bundle's classes)."""
        return self.tree.taxa

    def probabilities(self, images) -> np.ndarray:
        """(N, num_outputs) probabilities over every model output, for a list of RGB PIL images."""
        return self.engine.probabilities(self.engine.inputs(images))

    def _record(self, probs: np.ndarray, image: str, k: int) -> Identification:
        return identify(self.tree, probs[self.index], image, self.name, k,
                        scope_threshold=self.bundle.in_scope_threshold)

    def _prepare(self, src):
        """(model input, None) for one photo, or (None, one-line error)."""
        try:
            im = open_image(src, draft_size=self.engine.draft)
        except ImageError as e:
            return None, str(e)
        return self.engine.inputs([im])[0], None

    def predict(self, images, k: int = 5, batch_size: int = 16, progress=None) -> list[Identification]:
        """Records for paths, bytes or PIL images, in input order.

        An input that cannot be read gets `error` (one line) and no predictions; the others are still
        predicted. Photos are decoded by a small thread pool while the network runs on the batch
        before, and go through the network `batch_size` at a time (memory stays bounded).
        `progress(n)`, when given, is called with the number of photos done after each batch.
        """
        images = list(images)
        batch_size = max(1, int(batch_size))
        results: list[Identification | None] = [None] * len(images)
        if len(images) <= 1:
            prepared = iter([self._prepare(src) for src in images])
            self._run(images, prepared, results, k, batch_size, progress)
            return results  # type: ignore[return-value]
        with ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix="inat-decode") as pool:
            window: deque = deque()
            ahead = iter(images)

            def prepared():
                # Keep two batches of photos in preparation ahead of the network.
                for src in ahead:
                    window.append(pool.submit(self._prepare, src))
                    if len(window) >= 2 * batch_size:
                        yield window.popleft().result()
                while window:
                    yield window.popleft().result()
            self._run(images, prepared(), results, k, batch_size, progress)
        return results  # type: ignore[return-value]

    def _run(self, images, prepared, results, k: int, batch_size: int, progress) -> None:
        pending: list[tuple[int, np.ndarray]] = []
        for i, (x, error) in enumerate(prepared):
            if error is not None:
                results[i] = Identification(_label(images[i], i), self.name, error=error)
            else:
                pending.append((i, x))
            if len(pending) == batch_size or (i == len(images) - 1 and pending):
                probs = self.engine.probabilities(np.stack([x for _, x in pending]))
                for (j, _), row in zip(pending, probs):
                    results[j] = self._record(row, _label(images[j], j), k)
                pending = []
            if progress is not None and (not pending or i == len(images) - 1):
                progress(i + 1)


def _label(src, i: int) -> str:
    if isinstance(src, (str, os.PathLike)):
        return str(src)
    return getattr(src, "filename", None) or f"<image {i}>"
