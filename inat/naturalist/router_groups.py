"""The router's groups, counted on the starter: how much of its softmax falls on each group.

The groups themselves (plants, birds, insects, fungi, other organisms, no organism) and `group_of` are
defined once, in `inat.naturalist.groups`; they are re-exported here for the router's callers. `starter_group_masses`
sums the starter's softmax over its organism classes by group, which is both a baseline router and an
input of the learned one (`inat.naturalist.router`).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..models.starter import IMAGENET_CLASSES, starter_classes
from .groups import GROUPS, NOT_ORGANISM, group_of  # noqa: F401  (re-exported: the router's callers name them here)


@lru_cache(maxsize=1)
def starter_group_index() -> np.ndarray:
    """(1000,) int: the group index of each starter output (its non-organism outputs → not_organism)."""
    index = np.full(IMAGENET_CLASSES, NOT_ORGANISM, dtype=np.int64)
    for t in starter_classes():
        index[t.class_id] = GROUPS.index(group_of(t.taxonomy))
    index.setflags(write=False)
    return index


def starter_group_masses(starter_probs: np.ndarray) -> np.ndarray:
    """(N, len(GROUPS)) float64: the starter's softmax summed by group; the last column is 1 − scope mass."""
    p = np.asarray(starter_probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != len(starter_group_index()):
        raise ValueError(f"starter probabilities must have shape (N, {len(starter_group_index())}), not {p.shape}")
    return p @ np.eye(len(GROUPS))[starter_group_index()]  # (1000, G) one-hot: sums each group's outputs
