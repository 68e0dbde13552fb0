"""What naturalist's parts said about a collection, kept so that the benchmarks can merge it again other ways.

naturalist runs the starter, the router and the experts once per photo; `Mixture.combine` then merges
their probabilities. `keep_parts` runs it once over the photos and keeps the inputs of every combine;
`records` turns a merged array back into the records `predict` would have written (same roll-up, same
scope), so a benchmark can change one number of the merge and measure it on identical predictions.
Used by starter_gate.py and naturalist_tradeoff.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Parts:
    ok: list            # indices of the photos that were read (the rows of the arrays below)
    starter: np.ndarray
    groups: np.ndarray
    experts: dict


def open_naturalist(shared):
    """naturalist's Predictor, or None with a line on stderr when the photos of ../shared/data are missing."""
    import sys
    from pathlib import Path

    from inat.identify.predict import Predictor
    if not (Path(shared) / "birds525").is_dir():
        print(f"{shared}: the real photos of ../shared/data are needed", file=sys.stderr)
        return None
    return Predictor("naturalist")


def keep_parts(predictor, paths: list[str], batch_size: int = 32) -> Parts:
    """Run `predictor` (naturalist) over `paths` once and keep what its parts said."""
    mixture = predictor.runner.mixture
    kept = []
    combine = mixture.combine

    def keep(starter_probs, groups, expert_probs):   # batch by batch
        kept.append((starter_probs, groups, expert_probs))
        return combine(starter_probs, groups, expert_probs)
    mixture.combine = keep
    try:
        first = predictor.predict(paths, k=5, batch_size=batch_size)
    finally:
        del mixture.combine   # back to the class's method
    return Parts(ok=[i for i, r in enumerate(first) if not r.error],
                 starter=np.concatenate([p[0] for p in kept]), groups=np.concatenate([p[1] for p in kept]),
                 experts={k: np.concatenate([p[2][k] for p in kept]) for k in kept[0][2]})


def records(predictor, parts: Parts, paths: list[str]) -> list:
    """The records of the photos in `parts.ok`, merged by the predictor's mixture as it is set now."""
    from inat.core.record import identify
    from inat.naturalist.router_groups import GROUPS
    runner = predictor.runner
    merged = runner.mixture.combine(parts.starter, parts.groups, parts.experts)
    out = []
    for row, i in enumerate(parts.ok):
        r = identify(runner.tree, merged[row], paths[i], runner.name, 5, scope_threshold=runner.scope_threshold,
                     ranked=len(runner.classes))
        r.groups = dict(zip(GROUPS, map(float, parts.groups[row])))
        out.append(r)
    return out
