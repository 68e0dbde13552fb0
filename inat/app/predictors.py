"""One shared Predictor per model name for every request the app serves."""
from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict

from ..identify.predict import Predictor
from ..models.registry import resolve
from ..runtime.export import make_fast

log = logging.getLogger("inat")

MAX_LOADED_MODELS = 3  # predictors kept in memory; the least recently used one is dropped


class ModelCache:
    """One Predictor per model name, built on first use and shared by every request.

    Only names are accepted, never paths, so a request cannot make the server open arbitrary files.
    Building takes seconds, so two requests for a model that is not loaded yet wait for one build instead
    of starting two; requests for other, loaded models are not held up meanwhile. Inference itself needs
    no lock (eval mode, no state changes).
    """

    def __init__(self, max_models: int = MAX_LOADED_MODELS):
        self.max_models = max_models
        self._lock = threading.Lock()
        self._models: OrderedDict[str, Predictor] = OrderedDict()
        self._building: dict[str, threading.Lock] = {}

    def get(self, name: str) -> Predictor:
        """The Predictor for `name`; raises BundleError/OSError/... when the model cannot be loaded."""
        with self._lock:
            if name in self._models:
                self._models.move_to_end(name)
                return self._models[name]
            build_lock = self._building.setdefault(name, threading.Lock())
        with build_lock:
            with self._lock:
                if name in self._models:
                    return self._models[name]
            t0 = time.perf_counter()
            # A model without its fast version answers with PyTorch while that version is made behind it.
            predictor = Predictor(resolve(name, names_only=True), prepare=functools.partial(make_fast, background=True))
            log.info("loaded model %s in %.1f s", name, time.perf_counter() - t0)
            with self._lock:
                self._models[name] = predictor
                while len(self._models) > self.max_models:
                    self._models.popitem(last=False)
            return predictor

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._models)
