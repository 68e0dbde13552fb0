"""The router: what kind of thing a photo shows (plants, birds, insects, fungi, other organism, not an organism).

    >>> router = Router.load()
    >>> router.groups
    ('plants', 'birds', 'insects', 'fungi', 'other_organism', 'not_organism')
    >>> router.probabilities(features, starter_probs)   # (N, 6), rows sum to 1

A class-balanced multinomial logistic regression over the starter's own outputs for the photo
(the feature contract is in `inat/naturalist/router_features.py`):

    x = [features (1280: pooled pre-logits),
         logit(scope), log(mass_plants), log(mass_birds), log(mass_insects), log(mass_fungi),
         log(mass_other)]                                                                        (1286)
    P(group) = calibrated(((x - mean) / scale) @ weight.T + bias, calibration)   # softmax(z / T)

where scope = the starter's summed organism probability and mass_g its softmax summed over its
classes of group g (`inat.naturalist.router_groups.starter_group_masses`, masses floored at MASS_FLOOR). The
pooled features tell plants, birds and insects apart even where ImageNet has no such class; the
starter's scope is what tells an organism from an object, so it enters as an input whose
regularisation was relaxed during fitting (folded into `scale`). Measured alternatives and the
held-out figures are in `assets/router.json`; `scripts/train_router.py` rebuilds both files.
`calibration` (the sidecar's, `{"method": "temperature", "temperature": T}`; `{}` is the plain softmax) is
fitted on the cross-fitted predictions for photos of species the router never saw, so a photo unlike its
fitting data gets an uncertain group rather than 0.997; `inat.core.probability.calibrated` applies it.

Pure numpy at run time: the weights are read with `safetensors.numpy`, nothing is unpickled.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.paths import ASSETS
from ..core.probability import calibrated, check_calibration
from .router_groups import GROUPS, NOT_ORGANISM, starter_group_masses

WEIGHTS_FILE = ASSETS / "router.safetensors"
JSON_FILE = ASSETS / "router.json"
FORMAT = "inat-router"
VERSION = 1
FEATURE_DIM = 1280
STARTER_OUTPUTS = 1000
MASS_FLOOR = 1e-6      # log(0) guard; far below any mass that changes a decision
EXTRA_NAMES = ("logit_scope",) + tuple(f"log_mass_{g}" for g in GROUPS if g != "not_organism")
TENSORS = ("mean", "scale", "weight", "bias")


class RouterError(ValueError):
    """A router file we cannot use; the message is one line naming the file at fault."""


def starter_inputs(starter_probs: np.ndarray) -> np.ndarray:
    """(N, len(GROUPS)) float64: logit of the starter's organism mass, then log of its mass on each organism group."""
    m = starter_group_masses(starter_probs)
    scope = np.clip(1.0 - m[:, NOT_ORGANISM], MASS_FLOOR, 1.0 - MASS_FLOOR)
    organism_masses = np.delete(m, NOT_ORGANISM, axis=1)
    return np.column_stack([np.log(scope) - np.log1p(-scope), np.log(organism_masses + MASS_FLOOR)])


def router_inputs(features: np.ndarray, starter_probs: np.ndarray) -> np.ndarray:
    """(N, FEATURE_DIM + len(EXTRA_NAMES)) float64: the pooled features followed by `starter_inputs(starter_probs)`."""
    f = np.asarray(features, dtype=np.float64)
    p = np.asarray(starter_probs)
    if f.ndim != 2 or f.shape[1] != FEATURE_DIM:
        raise ValueError(f"features must have shape (N, {FEATURE_DIM}) (the starter's pooled pre-logits), not {f.shape}")
    if p.ndim != 2 or p.shape != (f.shape[0], STARTER_OUTPUTS):
        raise ValueError(f"starter_probs must have shape ({f.shape[0]}, {STARTER_OUTPUTS}) "
                         f"(the starter's softmax, one row per feature row), not {p.shape}")
    return np.column_stack([f, starter_inputs(p)])


@dataclass(frozen=True)
class Router:
    """A fitted router: standardisation and one linear layer over `router_inputs`, softmax over groups."""

    mean: np.ndarray     # (D,) per-input centre
    scale: np.ndarray    # (D,) per-input divisor (a relaxed-penalty input has a smaller one)
    weight: np.ndarray   # (G, D)
    bias: np.ndarray     # (G,)
    groups: tuple = GROUPS
    info: dict | None = None   # the JSON sidecar: provenance and held-out figures
    calibration: dict = field(default_factory=dict)   # inat.core.probability's map of the logits; {}: plain softmax

    def logits(self, features: np.ndarray, starter_probs: np.ndarray) -> np.ndarray:
        """(N, G) float64 uncalibrated group logits for the starter's features and softmax."""
        z = (router_inputs(features, starter_probs) - self.mean) / self.scale
        return z @ self.weight.T + self.bias

    def probabilities(self, features: np.ndarray, starter_probs: np.ndarray) -> np.ndarray:
        """(N, G) float64 calibrated group probabilities (rows sum to 1) for the starter's features and softmax."""
        p = calibrated(self.logits(features, starter_probs), self.calibration).astype(np.float64)
        return p / p.sum(axis=1, keepdims=True)

    def organism_probability(self, features: np.ndarray, starter_probs: np.ndarray) -> np.ndarray:
        """(N,) float64: 1 − P(not_organism), the router's counterpart of the starter's scope mass."""
        return 1.0 - self.probabilities(features, starter_probs)[:, self.groups.index("not_organism")]

    def tensors(self) -> dict:
        """The arrays written to the safetensors file (float32)."""
        return {k: np.ascontiguousarray(getattr(self, k), dtype=np.float32) for k in TENSORS}

    @classmethod
    def load(cls, weights: str | Path = WEIGHTS_FILE, sidecar: str | Path | None = None) -> "Router":
        """The router in `weights` (safetensors) with its JSON sidecar (default: same name, .json)."""
        from safetensors.numpy import load
        weights = Path(weights)
        sidecar = Path(sidecar) if sidecar else weights.with_suffix(".json")
        try:
            info = json.loads(sidecar.read_text(encoding="utf-8"))
            raw = weights.read_bytes()
            arrays = load(raw)
        except Exception as e:  # OSError, bad JSON, and safetensors' own SafetensorError (not a ValueError)
            raise RouterError(f"{weights}: unreadable router ({e.__class__.__name__}: {str(e)[:100]})") from None
        if info.get("format") != FORMAT or info.get("version") != VERSION:
            raise RouterError(f"{sidecar}: not an {FORMAT} v{VERSION} file")
        if info.get("weights_sha256") != hashlib.sha256(raw).hexdigest():
            raise RouterError(f"{weights}: does not match {sidecar.name} (weights_sha256 differs); rebuild both "
                              "with python scripts/train_router.py")
        missing = [k for k in TENSORS if k not in arrays]
        if missing:
            raise RouterError(f"{weights}: missing tensor {missing[0]!r}")
        groups = tuple(info.get("groups") or ())
        if groups != GROUPS:
            raise RouterError(f"{sidecar}: groups {list(groups)} are not this version's {list(GROUPS)} (inat.naturalist.groups); "
                              "rebuild with python scripts/train_router.py")
        calibration = info.get("calibration") or {}
        try:
            check_calibration(calibration)
        except ValueError as e:
            raise RouterError(f"{sidecar}: {e}") from None
        d = FEATURE_DIM + len(EXTRA_NAMES)
        a = {k: arrays[k].astype(np.float64) for k in TENSORS}
        if (not groups or "not_organism" not in groups or a["weight"].shape != (len(groups), d)
                or a["bias"].shape != (len(groups),) or a["mean"].shape != (d,) or a["scale"].shape != (d,)
                or not np.all(a["scale"] > 0) or not all(np.isfinite(v).all() for v in a.values())):
            raise RouterError(f"{weights}: tensor shapes or values do not fit {len(groups)} groups over {d} inputs")
        return cls(groups=groups, info=info, calibration=calibration, **a)
