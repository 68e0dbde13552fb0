"""Class probabilities summed up the tree of life: every taxon's share, a class's lineage, the common ancestor.

    tree = TaxonTree(bundle.classes)        # built once per class list (a Predictor keeps its own)
    tree.lineage(probs, i)                  # [(rank, name, summed probability)] kingdom → species of class i
    tree.ancestor(probs)                    # iNat's "pretty sure" taxon, or None

A class's taxa are keyed by the tuple of names from the kingdom down (so homonyms in different
kingdoms stay apart). Each sum is one np.bincount per rank over an index built once: a Python loop
over 10,000 lineages took ~90 ms a photo, more than the network itself.
"""
from __future__ import annotations

import numpy as np

from .taxonomy import RANKS, Taxon

ANCESTOR_THRESHOLD = 0.7  # iNaturalist's "pretty sure" level for the common ancestor


class TaxonTree:
    """The ranks of a fixed list of classes, indexed for summing probabilities per taxon."""

    def __init__(self, taxa: list[Taxon]):
        self.taxa = list(taxa)
        self.keys: dict[str, list[tuple]] = {r: [] for r in RANKS}   # rank → lineage key of each taxon there
        self.groups = {r: np.full(len(self.taxa), -1, dtype=np.int64) for r in RANKS}  # class → its taxon, -1: none
        self.class_keys: list[dict[str, tuple]] = []                  # class → {rank: its taxon's key}
        seen: dict[str, dict[tuple, int]] = {r: {} for r in RANKS}
        for i, taxon in enumerate(self.taxa):
            key: tuple = ()
            mine = {}
            for rank, name in taxon.lineage():
                key = key + (name,)
                g = seen[rank].get(key)
                if g is None:
                    g = seen[rank][key] = len(self.keys[rank])
                    self.keys[rank].append(key)
                self.groups[rank][i] = g
                mine[rank] = key
            self.class_keys.append(mine)
        self._valid = {r: self.groups[r] >= 0 for r in RANKS}
        # Per rank, the taxon of each class that has one and those classes (None: every class), built once:
        # masking 10,000 entries per rank per photo cost more than the sums themselves.
        self._members = {r: (self.groups[r][v], None if v.all() else np.flatnonzero(v)) for r, v in self._valid.items()}

    def __len__(self) -> int:
        return len(self.taxa)

    def sums(self, probs) -> dict[str, np.ndarray]:
        """{rank: summed probability of each taxon at that rank}, aligned with `self.keys[rank]`."""
        p = np.asarray(probs, dtype=np.float64)
        return {r: np.bincount(groups, weights=p if members is None else p[members], minlength=len(self.keys[r]))
                for r, (groups, members) in self._members.items()}

    def rollup(self, probs) -> dict[str, dict[tuple, float]]:
        """{rank: {lineage key: summed probability}} for every taxon of every rank."""
        sums = self.sums(probs)
        return {r: dict(zip(self.keys[r], sums[r].tolist())) for r in RANKS}

    def lineage(self, probs, i: int, sums: dict | None = None) -> list[tuple[str, str, float]]:
        """[(rank, name, summed probability)] along class `i`'s lineage, kingdom first."""
        sums = sums if sums is not None else self.sums(probs)
        out = []
        for rank, key in self.class_keys[i].items():
            out.append((rank, key[-1], float(sums[rank][self.groups[rank][i]])))
        return out

    def ancestor(self, probs, threshold: float = ANCESTOR_THRESHOLD, sums: dict | None = None) -> dict | None:
        """The deepest taxon whose summed probability reaches `threshold`: iNat's "pretty sure" taxon.

        Always a taxon at one of RANKS (kingdom … species): a class below species (a dog breed, a cultivar,
        a subspecies) counts towards its species, so rank and name belong together. Returns {"rank", "name",
        "probability"}, or None when not even a kingdom reaches the threshold.
        """
        sums = sums if sums is not None else self.sums(probs)
        for rank in reversed(RANKS):
            if not self.keys[rank]:
                continue
            g = int(sums[rank].argmax())  # the first of equal maxima
            p = float(sums[rank][g])
            if p >= threshold:
                return {"rank": rank, "name": self.keys[rank][g][-1], "probability": p}
        return None

    def shared(self) -> list[tuple[str, str]]:
        """[(rank, name)] of the taxa that every class belongs to (kingdom Plantae and phylum Tracheophyta
        for a model of 47 vascular plants): a claim at one of them says nothing a user did not know."""
        out = []
        for rank in RANKS:
            if len(self.keys[rank]) == 1 and bool(self._valid[rank].all()):
                out.append((rank, self.keys[rank][0][-1]))
            else:
                break
        return out
