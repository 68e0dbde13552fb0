"""What kind of organism a photo shows: the starter and the router, run together.

The router (`inat.naturalist.router`) reads the starter's pooled features and its probabilities, so one forward pass
of the starter gives both the starter's own answer and P(group) for each group of `inat.naturalist.groups` (plants,
birds, insects, fungi, other organisms and no organism). `naturalist` uses it to choose its experts; a
bundle that declares its scope (`"scope": {"rank": "kingdom", "name": "Plantae"}`) uses it to say when a
photo is outside that scope.
"""
from __future__ import annotations

import numpy as np

from ..core.probability import calibrated, softmax
from ..core.rollup import TaxonTree
from ..models.bundle import Bundle
from ..models.starter import starter_bundle
from ..runtime.engine import Engine
from .groups import DEFINED, GROUPS, OTHER, group_of
from .router import Router

SCOPE_MIN = 0.5   # a photo is inside a bundle's scope when its groups there reach this probability



def expert_group(bundle: Bundle) -> str | None:
    """The group a bundle is an expert for (plants, birds, insects or fungi): from its declared scope, else from the
    lineage all its classes share; None when that spans groups or only holds "other organisms"."""
    lineage = scope_lineage(bundle.scope, bundle.classes) if bundle.scope else dict(TaxonTree(bundle.classes).shared())
    g = group_of(lineage or None)
    return g if g in DEFINED else None


class GroupModel:
    """The starter's engine and the router: `run(batch)` → (starter probabilities, P(group))."""

    def __init__(self, *, exact: bool = False, backend: str = "auto", threads: int | None = None,
                 precision: str = "auto"):
        self.bundle = starter_bundle()
        self.engine = Engine(self.bundle, exact=exact, backend=backend, threads=threads, precision=precision)
        self.router = Router.load()

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 1000) calibrated starter probabilities and (N, len(GROUPS)) group probabilities."""
        logits, features = self.engine.logits_and_features(batch)
        # The router was fitted on the starter's plain softmax (temperature 1): give it the same.
        groups = self.router.probabilities(features, softmax(logits))
        return calibrated(logits, self.bundle.calibration), groups


def scope_lineage(scope: dict, classes) -> dict:
    """rank → name of a declared scope: the lineage its classes share down to the scope's rank."""
    lineage = {}
    for rank, name in TaxonTree(classes).shared():
        lineage[rank] = name
        if rank == scope.get("rank"):
            break
    if lineage.get(scope.get("rank")) != scope.get("name"):
        lineage = {scope["rank"]: scope["name"]}
    return lineage


def scope_groups(lineage: dict) -> list[int]:
    """Indices (into GROUPS) of the groups that overlap a scope with this lineage (Animalia: birds,
    insects and other organisms; Plantae: plants; Fungi: fungi)."""
    out = [GROUPS.index(g) for g, defined in DEFINED.items()
           if all(lineage[r] == n for r, n in defined.items() if r in lineage)]
    if group_of(lineage) == OTHER:
        out.append(GROUPS.index(OTHER))
    return sorted(out)
