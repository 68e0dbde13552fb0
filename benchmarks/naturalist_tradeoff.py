"""Can naturalist's bird targets all be met by trusting the bird expert or the starter more or less? Real photos.

    python benchmarks/naturalist_tradeoff.py            # needs ../shared/data and the installed experts

naturalist's answer on a bird photo rests on two fitted gates (scripts/fit_expert_gates.py): how far the
bird expert's species are trusted (the probability that the photo shows a species the expert knows) and
how far the starter's own bird classes are. Three targets pull on them: wrong "pretty sure" claims on
birds525 ≤ 3 %, known-species top-1 on birds525 ≥ 80 %, and the organism top-1 on imagenet-samples at
most 1 point below the starter's. This runs naturalist once over birds525 and imagenet-samples, then
merges the same predictions with each gate's intercept moved by a range of steps (0: as shipped; a step
of -1 multiplies the gate's odds by e^-1), and reports for each: the three figures and, over the species
claims on birds525, the mean stated probability against the share that is right (a negative gap: the
claims say less than they deliver). It also gives the same stated-against-right table, by band of
probability, for the shipped gates. birds525 is the gates' fitting collection; imagenet-samples was used
for neither. Writes results/naturalist_tradeoff.json.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/, the script's folder)

RESULTS = REPO / "benchmarks" / "results" / "naturalist_tradeoff.json"
EXPERT_STEPS = (-1.0, -0.5, 0.0, 0.5)
STARTER_STEPS = (-1.0, 0.0, 1.0, 2.0)
BANDS = ((0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.0001))


def species_claims(records, truths, known) -> list[tuple[float, bool]]:
    """(stated probability, right) of every claim at species rank, judged as open_world judges it."""
    from inat.training.evaluate import claim_wrong
    out = []
    for r, t in zip(records, truths):
        a = r.ancestor
        wrong = None if a is None or a["rank"] != "species" or not t.organism else claim_wrong(a, t, known)
        if wrong is not None:
            out.append((float(a["probability"]), not wrong))
    return out


def main() -> int:
    import numpy as np
    import open_world as ow
    from naturalist_parts import keep_parts, open_naturalist, records

    from inat.training.evaluate import known_species, open_world
    predictor = open_naturalist(ow.SHARED)
    if predictor is None:
        return 2
    mixture = predictor.runner.mixture
    if "birds" not in mixture.gates or not mixture.starter_gated:
        print("naturalist needs the bird expert and its gates (python -m inat download inat2017-birds)", file=sys.stderr)
        return 2
    known = known_species(predictor.classes)
    data = ow.collections(ow.SHARED, None)
    t0 = time.perf_counter()
    kept = {}
    for name in ("birds525", "imagenet-samples"):
        truths, classes = data[name]
        paths = [str(t.path) for t in truths]
        parts = keep_parts(predictor, paths)
        kept[name] = (parts, paths, [truths[i] for i in parts.ok],
                      classes and [classes[i] for i in parts.ok])
    a0, b0 = mixture.gates["birds"]
    w0 = tuple(mixture.starter_gate_of.get("birds", mixture.starter_gate))   # the starter's bird gate
    grid = []
    for de in EXPERT_STEPS:
        for ds in STARTER_STEPS:
            mixture.gates["birds"] = (a0 + de, b0)
            mixture.starter_gate_of["birds"] = (w0[0] + ds, *w0[1:])
            parts, paths, truths, _ = kept["birds525"]
            recs = records(predictor, parts, paths)
            birds = open_world(recs, truths, known)
            claims = species_claims(recs, truths, known)
            stated = float(np.mean([p for p, _ in claims])) if claims else None
            right = float(np.mean([ok for _, ok in claims])) if claims else None
            parts, paths, truths, classes = kept["imagenet-samples"]
            imagenet = ow.imagenet_figures(records(predictor, parts, paths), truths, classes)
            row = {"expert_gate_step": de, "starter_gate_step": ds,
                   "birds525_wrong_claims": round(birds["wrong_claims"], 4), "birds525_known_top1": round(birds["top1"], 4),
                   "imagenet_organism_top1": round(imagenet["organism_top1"], 4),
                   "species_claims": len(claims), "stated": stated and round(stated, 4), "right": right and round(right, 4)}
            grid.append(row)
            print(json.dumps(row), flush=True)
    mixture.gates["birds"], mixture.starter_gate_of["birds"] = (a0, b0), w0
    parts, paths, truths, _ = kept["birds525"]
    claims = species_claims(records(predictor, parts, paths), truths, known)
    bands = []
    for lo, hi in BANDS:
        sel = [(p, ok) for p, ok in claims if lo <= p < hi]
        bands.append({"band": [lo, min(hi, 1.0)], "n": len(sel),
                      "stated": round(float(np.mean([p for p, _ in sel])), 4) if sel else None,
                      "right": round(float(np.mean([ok for _, ok in sel])), 4) if sel else None})
    print(json.dumps(bands))
    write_results(RESULTS, {"date": time.strftime("%Y-%m-%d"), "seconds": round(time.perf_counter() - t0),
                            "grid": grid, "shipped_species_claims_by_band": bands})
    return 0


if __name__ == "__main__":
    sys.exit(main())
