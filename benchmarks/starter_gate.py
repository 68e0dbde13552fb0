"""What naturalist's gate on the starter's own birds and insects changes: the same photos, with it and without it.

    python benchmarks/starter_gate.py            # needs ../shared/data and the installed experts

naturalist once trusted the starter's classes inside a group by a flat prior, alpha (the share of the
group's iNat 2021 species the starter has a class for: 1.6 % of the birds). The gate
(`inat.naturalist.ensemble.starter_class_gate`, fitted by scripts/fit_expert_gates.py on birds525 and
butterflies100) reads the starter's share on its first class and the class's coverage instead. This runs
naturalist once over birds525, butterflies100 and imagenet-samples, keeps what its parts said, and merges
it both ways. Per collection: wrong_claims and known-species top-1 (as benchmarks/open_world.py), and
`top_right`: the share of photos whose first answer, at whatever rank it names, holds the truth (a right
"Dragonfly — order Odonata" counts). On imagenet-samples also the organism top-1 of open_world.py.
birds525 and butterflies100 are the photos the gate was fitted on; imagenet-samples was not used for it.
Writes results/starter_gate.json.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/, the script's folder)

RESULTS = REPO / "benchmarks" / "results" / "starter_gate.json"
COLLECTIONS = ("birds525", "butterflies100", "imagenet-samples")


def top_right(record, truth) -> bool:
    """Whether the first answer's taxon holds the photo's truth, at the rank it names."""
    from inat.training.evaluate import species_names
    top = record.top.taxon
    if top.rank == "species":
        return truth.species is not None and truth.species in species_names(top)
    return bool(truth.lineage.get(top.rank)) and truth.lineage.get(top.rank) == top.scientific_name


def main() -> int:
    import numpy as np
    import open_world as ow
    from naturalist_parts import keep_parts, open_naturalist
    from naturalist_parts import records as merged_records

    from inat.training.evaluate import known_species, open_world
    predictor = open_naturalist(ow.SHARED)
    if predictor is None:
        return 2
    mixture = predictor.runner.mixture
    if not mixture.starter_gated:
        print("naturalist has no starter gate (assets/expert_gates.json)", file=sys.stderr)
        return 2
    known = known_species(predictor.classes)
    data = ow.collections(ow.SHARED, None)
    gated = set(mixture.starter_gated)
    out = []
    for name in COLLECTIONS:
        truths, classes = data[name]
        t0 = time.perf_counter()
        paths = [str(t.path) for t in truths]
        parts = keep_parts(predictor, paths)
        kept = [truths[i] for i in parts.ok]
        for label, groups_gated in (("alpha (before)", set()), ("starter gate", gated)):
            mixture.starter_gated = groups_gated
            records = merged_records(predictor, parts, paths)
            figures = open_world(records, kept, known)
            row = {"collection": name, "merge": label, "n": len(records),
                   "wrong_claims": round(figures["wrong_claims"], 4),
                   "known_top1": None if figures["top1"] is None else round(figures["top1"], 4),
                   "top_right": round(float(np.mean([top_right(r, t) for r, t in zip(records, kept) if t.organism])), 4)}
            if classes is not None:
                row["organism_top1"] = round(ow.imagenet_figures(records, kept, [classes[i] for i in parts.ok])["organism_top1"], 4)
            out.append(row)
            print(json.dumps(row), flush=True)
        mixture.starter_gated = gated
        print(f"  {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    write_results(RESULTS, {"date": time.strftime("%Y-%m-%d"), "results": out})
    return 0


if __name__ == "__main__":
    sys.exit(main())
