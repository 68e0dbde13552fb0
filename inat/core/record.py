"""What the Predictor says about one photo: one record that the CLI, the app and `evaluate` all adapt.

    Identification
      image, model          what was looked at, and by which model
      predictions           the top k classes, best first (Prediction: taxon, probability, index, model)
      in_scope              does the photo show something the model knows? (None: no notion of scope)
      scope_probability     the summed probability of the model's classes when it has a notion of scope
      ancestor              iNat's "pretty sure" taxon {"rank", "name", "probability"}, or None
      lineage               kingdom → species of the top class, each with its summed probability
      groups                the router's probability of each kind of organism (None without a router)
      scope                 a bundle's declared world {"rank", "name", "description", "probability"}, when it has one
      precision             what the networks ran: "fp32", "bf16" or "int8" (None when nothing ran)
      error                 one line when the photo could not be used (then nothing else is set)

`to_json()` is exactly one line of `python -m inat predict --json`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .rollup import ANCESTOR_THRESHOLD, TaxonTree
from .taxonomy import Taxon


@dataclass(frozen=True)
class Prediction:
    """One ranked class: its taxon, its probability, its position in the model's class list."""

    taxon: Taxon
    probability: float
    index: int                  # position in the class list the probabilities were over
    model: str | None = None    # which model produced it, when several were combined

    def to_json(self) -> dict:
        """The `predictions` item of the JSON contract: class_id first, then probability, then the taxon."""
        t = self.taxon.to_dict()
        out = {"class_id": t.pop("class_id"), "probability": self.probability, **t}
        if self.model is not None:
            out["model"] = self.model
        return out


@dataclass
class Identification:
    """Everything said about one photo (see the module docstring)."""

    image: str
    model: str
    predictions: list[Prediction] = field(default_factory=list)
    in_scope: bool | None = None
    scope_probability: float | None = None
    ancestor: dict | None = None
    lineage: list[dict] = field(default_factory=list)
    groups: dict[str, float] | None = None
    scope: dict | None = None
    error: str | None = None
    precision: str | None = None

    @property
    def top(self) -> Prediction | None:
        return self.predictions[0] if self.predictions else None

    def to_json(self) -> dict:
        """One line of `predict --json`, every contract key present, in the contract's order."""
        return {"image": self.image, "model": self.model, "precision": self.precision, "in_scope": self.in_scope,
                "predictions": [p.to_json() for p in self.predictions], "ancestor": self.ancestor,
                "error": self.error}

    def to_dict(self) -> dict:
        """`to_json()` plus the lineage, the summed in-scope probability and the router's groups (the app's raw result)."""
        return {**self.to_json(), "lineage": self.lineage, "in_scope_probability": self.scope_probability,
                "groups": self.groups, "scope": self.scope}


def top_k(probs: np.ndarray, k: int) -> np.ndarray:
    """The indices of the k largest values, largest first, ties in index order: exactly
    `np.argsort(-probs, kind="stable")[:k]`, without sorting all 10,000 (a millisecond a photo)."""
    n = len(probs)
    if k * 8 < n:
        kth = np.partition(probs, n - k)[n - k]            # the k-th largest value
        candidates = np.flatnonzero(probs >= kth)           # in index order, ties at kth included
        if len(candidates) >= k:                            # (fewer only with NaN: sort them all)
            return candidates[np.argsort(-probs[candidates], kind="stable")[:k]]
    return np.argsort(-probs, kind="stable")[:k]


def identify(tree: TaxonTree, class_probs: np.ndarray, image: str, model: str, k: int = 5, *,
             scope_threshold: float | None = None, source=None, ranked: int | None = None) -> Identification:
    """The record for one photo from its probabilities over `tree`'s classes.

    `scope_threshold`: models with a notion of scope (outputs that are not classes, e.g. ImageNet objects)
    call the photo in scope when the classes' summed probability reaches it. `source(i)`: the model that
    produced class i for this photo, for a combined model. `ranked`: only the first `ranked` entries are
    classes to list; the others (a combined model's unnamed group members) count in the roll-up only.
    """
    class_probs = np.asarray(class_probs)
    scope = float(class_probs.sum()) if scope_threshold is not None else None
    ranked = len(class_probs) if ranked is None else ranked
    k = max(1, min(int(k), ranked))
    top = top_k(class_probs[:ranked], k)
    preds = [Prediction(tree.taxa[i], float(class_probs[i]), int(i), source(int(i)) if source else None) for i in top]
    sums = tree.sums(class_probs)
    lineage = [{"rank": r, "name": n, "probability": p} for r, n, p in tree.lineage(class_probs, int(top[0]), sums)]
    return Identification(image, model, preds, in_scope=None if scope is None else scope >= scope_threshold,
                          scope_probability=scope, ancestor=tree.ancestor(class_probs, ANCESTOR_THRESHOLD, sums),
                          lineage=lineage)
