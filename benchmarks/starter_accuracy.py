"""Measure the built-in starter model on real photos: species accuracy and the in-scope test.

    python benchmarks/starter_accuracy.py [--data ../shared/data/imagenet-samples] [--write] [--out FILE]

`imagenet-samples` holds 500 real photos, one per even ImageNet class. On the photos of organism
classes (those in assets/starter_taxonomy.tsv) we report top-1/top-5 among the organism classes (what
the app shows); on all photos, in-scope recall (organism photos judged in scope) and rejection
(other photos judged out of scope), at the model's threshold and at a sweep of others.
Every run writes the figures to benchmarks/results/starter_accuracy.json (--out to put them elsewhere);
`--write` also stores them in assets/starter_metrics.json, which the app's About tab shows.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
from results_file import write_results  # benchmarks/, the script's folder

from inat.core.images import open_image
from inat.identify.predict import Predictor
from inat.models.starter import IN_SCOPE_THRESHOLD, TAXONOMY_TSV

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "starter_accuracy.json"


def evaluate(data: Path, batch: int = 25, exact: bool = True) -> dict:
    """Figures for the starter on the photos in `data` (labels.csv: index,wnid,name,file)."""
    with open(data / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    predictor = Predictor("starter", exact=exact)
    organism = set(predictor.bundle.output_index)
    idx = np.asarray(predictor.bundle.output_index)
    scope, top1, top5, n_org = [], 0, 0, 0
    errors = []
    t0 = time.perf_counter()
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        probs = predictor.probabilities([open_image(data / r["file"]) for r in chunk])
        for r, p in zip(chunk, probs):
            truth = int(r["index"])
            class_probs = p[idx]
            s = float(class_probs.sum())
            scope.append((truth in organism, s))
            if truth in organism:
                n_org += 1
                ranked = idx[np.argsort(-class_probs)[:5]]
                top1 += int(ranked[0] == truth)
                top5 += int(truth in ranked)
                if ranked[0] != truth:
                    errors.append((r["name"], predictor.bundle.classes[int(np.argsort(-class_probs)[0])].label))
    seconds = time.perf_counter() - t0
    org = np.array([s for o, s in scope if o])
    other = np.array([s for o, s in scope if not o])
    sweep = {f"{t:.2f}": {"recall": float((org >= t).mean()), "rejection": float((other < t).mean())}
             for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)}
    return {
        "val_top1": top1 / n_org, "val_top5": top5 / n_org,
        "split": f"imagenet-samples, {n_org} real photos of organism classes",
        "top1": top1 / n_org, "top5": top5 / n_org, "n_organism_photos": n_org,
        "n_other_photos": len(other), "in_scope_threshold": IN_SCOPE_THRESHOLD,
        "in_scope_recall": float((org >= IN_SCOPE_THRESHOLD).mean()),
        "rejection": float((other < IN_SCOPE_THRESHOLD).mean()),
        "threshold_sweep": sweep, "seconds": round(seconds, 1),
        "organism_classes": len(organism), "measured_by": "benchmarks/starter_accuracy.py",
        "mistakes": errors[:40],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "imagenet-samples")
    ap.add_argument("--write", action="store_true", help="also store the figures in assets/starter_metrics.json")
    ap.add_argument("--out", type=Path, default=RESULTS, help=f"where the figures go (default {RESULTS})")
    args = ap.parse_args()
    if not (args.data / "labels.csv").is_file():
        print(f"no photos at {args.data} (needs labels.csv); nothing measured", file=sys.stderr)
        return 1
    m = evaluate(args.data)
    print(f"starter on {args.data.name}: {m['organism_classes']} organism classes")
    print(f"  organism photos: {m['n_organism_photos']}  top-1 {m['top1']:.3f}  top-5 {m['top5']:.3f}")
    print(f"  in scope at {m['in_scope_threshold']}: recall {m['in_scope_recall']:.3f} "
          f"(organism photos), rejection {m['rejection']:.3f} ({m['n_other_photos']} other photos)")
    print("  threshold  recall  rejection")
    for t, v in m["threshold_sweep"].items():
        print(f"  {t:>9}  {v['recall']:.3f}   {v['rejection']:.3f}")
    print(f"  ({m['seconds']} s)")
    for truth, guess in m["mistakes"]:
        print(f"  miss: {truth!r} → {guess}")
    write_results(args.out, {"date": time.strftime("%Y-%m-%d"), "data": str(args.data.name), **m})
    if args.write:
        keep = {k: v for k, v in m.items() if k not in ("mistakes", "seconds")}
        (TAXONOMY_TSV.parent / "starter_metrics.json").write_text(json.dumps(keep, indent=1) + "\n")
        print(f"wrote {TAXONOMY_TSV.parent / 'starter_metrics.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
