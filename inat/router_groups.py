"""The router's groups: what kind of thing a photo shows, as far as we can act on it.

A group is decided from a taxonomy (kingdom, class); anything that is not an organism is
`not_organism`. `starter_group_masses` sums the starter's softmax over its organism classes by group,
which is both a baseline router and an input of the learned one (`inat.router`).

Fungi are not a group of their own: the training photos hold 3 fungi (imagenet-samples), too few
to learn or to measure a fungi group; they count as `other_organism`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .starter import IMAGENET_CLASSES, starter_classes

GROUPS = ("plants", "birds", "insects", "other_organism", "not_organism")
NOT_ORGANISM = GROUPS.index("not_organism")


def group_of(taxonomy: dict | None) -> str:
    """The group of an organism with this taxonomy ({kingdom, class, ...}); None → not_organism."""
    if taxonomy is None:
        return "not_organism"
    if taxonomy.get("kingdom") == "Plantae":
        return "plants"
    if taxonomy.get("class") == "Aves":
        return "birds"
    if taxonomy.get("class") == "Insecta":
        return "insects"
    return "other_organism"


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
