"""The Predictor: a model loaded once; photos in, one `Identification` record per photo out.

    >>> p = Predictor("starter")
    >>> r = p.predict(["lion.jpg"], k=5)[0]
    >>> r.top.taxon.scientific_name, r.ancestor["rank"]
    ('Panthera leo', 'species')
    >>> r.to_json()            # exactly one line of `python -m inat predict --json`

Probabilities are a calibrated softmax over the model's outputs (the thesis displayed a raw logit as
"confidence"). `in_scope` says whether the photo shows something the model knows: for the starter, its
organism classes against ImageNet's objects; for a bundle that declares its scope (plants47: plants), what
the router says of the photo; for `naturalist`, both. How a network runs (ONNX Runtime or PyTorch, exact
or fast decoding) is `inat.runtime.engine`'s part; how `naturalist` combines its models is `inat.naturalist.ensemble`'s.
"""
from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..core.images import ImageError, open_image
from ..core.record import Identification, identify
from ..core.rollup import TaxonTree
from ..models.bundle import Bundle, BundleError
from ..models.registry import resolve
from ..naturalist.router_groups import GROUPS
from ..naturalist.scope import SCOPE_MIN, GroupModel, scope_groups, scope_lineage
from ..runtime.engine import Engine
from ..runtime.openvino_backend import ir_command

# Threads that decode and preprocess the next photos while the network runs on the current batch.
DECODE_THREADS = 2


class BundleRunner:
    """One bundle's network, and the starter + router too when the bundle declares a scope to check."""

    def __init__(self, bundle: Bundle, *, exact: bool, backend: str, threads: int | None, device: str,
                 precision: str = "auto"):
        self.bundle, self.name = bundle, bundle.name
        self.engine = Engine(bundle, exact=exact, backend=backend, threads=threads, device=device, precision=precision)
        self.tree = TaxonTree(bundle.classes)
        self.classes = bundle.classes
        self.index = np.asarray(bundle.output_index)  # model output of each class
        # A closed-set bundle that says what world it knows (plants47: plants) is told when a photo is
        # outside it; a bundle with its own notion of scope (the starter's objects) needs no guard.
        self.guard = None
        if bundle.scope and not bundle.has_scope:
            try:
                self.guard = GroupModel(exact=exact, backend=backend, threads=threads, precision=precision)
            except BundleError as e:  # e.g. no int8 IR of the starter: say why the starter is needed at all
                raise BundleError(f"{e} (the starter checks that photos are in {bundle.name}'s scope)") from None
        self.draft = self.engine.draft if self.guard is None or self.engine.draft is None else \
            max(self.engine.draft, self.guard.engine.draft)
        if self.guard is not None:
            self.in_scope_groups = scope_groups(scope_lineage(bundle.scope, bundle.classes))

    @property
    def engines(self) -> list[Engine]:
        return [self.engine] + ([self.guard.engine] if self.guard is not None else [])

    def prepare(self, im):
        own = self.engine.inputs([im])[0]
        return own if self.guard is None else (own, self.guard.engine.inputs([im])[0])

    def identify(self, items: list, labels: list[str], k: int) -> list[Identification]:
        own = np.stack(items if self.guard is None else [x for x, _ in items])
        probs = self.engine.probabilities(own)[:, self.index]
        out = [identify(self.tree, p, label, self.name, k, scope_threshold=self.bundle.in_scope_threshold)
               for p, label in zip(probs, labels)]
        if self.guard is not None:
            _, groups = self.guard.run(np.stack([x for _, x in items]))
            inside = groups[:, self.in_scope_groups].sum(axis=1)
            for r, g, p in zip(out, groups, inside):
                r.groups = dict(zip(GROUPS, map(float, g)))
                r.scope = {**self.bundle.scope, "probability": float(p)}
                r.scope_probability, r.in_scope = float(p), bool(p >= SCOPE_MIN)
                if not r.in_scope:
                    r.ancestor = None  # the model knows nothing of what this is: it claims nothing
        return out


class Predictor:
    """Loads a model once; `predict(images, k)` returns one Identification per image, in input order.

    `model`: a name (`starter`, `naturalist`, a bundle in the weights folder), a bundle path, a Bundle,
    or None for the default model. `exact`, `backend`, `threads`, `device`, `precision` ("auto": bf16 where
    the CPU runs it natively, else fp32; "fp32", "bf16", "int8": every network of the model runs it): see
    `inat.runtime.engine.Engine`. Each record's `precision` says what ran.
    `prepare(engines)`: called once the networks are loaded, by the caller that owns the model folders, to
    make the fast versions they lack (`inat.runtime.export.make_fast`; it may return a background thread, kept in
    `self.exporting`). Without it nothing is made: PyTorch or the fp32 exports serve, and a precision asked
    for by name ("bf16", "int8") whose file is missing raises. An int8 IR is never made on the fly (it needs
    calibration photos): `python -m inat export --precision int8` makes it.
    """

    def __init__(self, model: str | os.PathLike | Bundle | None = None, *, exact: bool = False,
                 threads: int | None = None, device: str = "cpu", backend: str = "auto", prepare=None,
                 precision: str = "auto"):
        self.bundle = resolve(model) if model is None or isinstance(model, (str, os.PathLike)) else model
        self.name = self.bundle.name
        options = dict(exact=exact, backend=backend, threads=threads, device=device, precision=precision)
        # A model that runs as more than one network says how (naturalist); a Bundle runs as one.
        runner = getattr(self.bundle, "runner", None)
        self.runner = runner(**options) if callable(runner) else BundleRunner(self.bundle, **options)
        self.engine = self.runner.engine   # the main network (the starter's, for naturalist)
        self.tree = self.runner.tree
        self.exporting = prepare(self.runner.engines) if prepare is not None else None
        if prepare is None and precision not in ("auto", "fp32"):
            # Asked for a lower precision and told not to make its file: say so rather than run fp32 PyTorch.
            for e in self.runner.engines:
                if e.needs_export:
                    raise BundleError(f"{e.bundle.name}: no {precision} OpenVINO model yet; make it with "
                                      f"{ir_command(e.bundle, precision)} (or let predict make it: no --no-export)")

    @property
    def backend(self) -> str:
        return self.engine.backend

    @property
    def precision(self) -> str:
        """What runs now: "fp32", "bf16" or "int8"; the lowest of the model's networks when they differ (one
        still waiting for its bf16 file runs fp32)."""
        running = {e.running for e in self.runner.engines}
        return next(p for p in ("int8", "bf16", "fp32") if p in running)

    @property
    def classes(self) -> list:
        """The taxa the records rank."""
        return self.runner.classes

    def probabilities(self, images) -> np.ndarray:
        """(N, num_outputs) probabilities over every output of the main network, for RGB PIL images."""
        return self.engine.probabilities(self.engine.inputs(images))

    def _prepare(self, src):
        """(prepared input, None) for one photo, or (None, one-line error)."""
        try:
            im = open_image(src, draft_size=self.runner.draft)
        except ImageError as e:
            return None, str(e)
        return self.runner.prepare(im), None

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
            self._run(images, iter([self._prepare(src) for src in images]), results, k, batch_size, progress)
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
        pending: list[tuple[int, object]] = []
        for i, (item, error) in enumerate(prepared):
            if error is not None:
                results[i] = Identification(_label(images[i], i), self.name, error=error)
            else:
                pending.append((i, item))
            if len(pending) == batch_size or (i == len(images) - 1 and pending):
                records = self.runner.identify([x for _, x in pending], [_label(images[j], j) for j, _ in pending], k)
                precision = self.precision
                for (j, _), r in zip(pending, records):
                    r.precision = precision
                    results[j] = r
                pending = []
            if progress is not None and (not pending or i == len(images) - 1):
                progress(i + 1)


def _label(src, i: int) -> str:
    if isinstance(src, (str, os.PathLike)):
        return str(src)
    return getattr(src, "filename", None) or f"<image {i}>"
