"""`python -m inat evaluate`: a bundle's accuracy on one split of an iNat 2021 dataset.

    python -m inat evaluate --model weights/plants47 --data ../shared/data/inat21-plants47 --split val

Reports top-1/top-5, accuracy per kingdom and per phylum, the expected calibration error (15 equal
bins of confidence) and the species most often mistaken for one another. Photos go through the
`Predictor`, so evaluation sees exactly what `predict` and the app see; dataset category ids are
matched to the bundle's classes by class_id.
"""
from __future__ import annotations

import json
from collections import Counter

import numpy as np

from .data import DatasetError, load_split
from .predict import Predictor

ECE_BINS = 15
TOP_CONFUSED = 10


def expected_calibration_error(confidence, correct, bins: int = ECE_BINS) -> float:
    """Σ_b |B|/n · |accuracy(B) − mean confidence(B)| over `bins` equal-width bins (lo, hi].

    Returns 0.0 for no samples. A confidence of exactly 0 falls into the first bin.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if confidence.size == 0:
        return 0.0
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def _group_accuracy(keys, top1, top5) -> dict:
    out: dict = {}
    for key, h1, h5 in zip(keys, top1, top5):
        g = out.setdefault(key, [0, 0, 0])
        g[0], g[1], g[2] = g[0] + 1, g[1] + int(h1), g[2] + int(h5)
    ordered = sorted(out.items(), key=lambda kv: str(kv[0]))
    return {k: {"n": n, "top1": c1 / n, "top5": c5 / n} for k, (n, c1, c5) in ordered}


def _species(t) -> dict:
    return {"class_id": t.class_id, "scientific_name": t.scientific_name, "common_name": t.common_name}


def metrics(taxa, targets, ranked, confidence, top: int = TOP_CONFUSED) -> dict:
    """Accuracy figures from predictions.

    taxa: class index → Taxon; targets: true class index per image; ranked: each image's top-5 (or
    fewer) predicted class indices, best first; confidence: the probability of each top-1 guess.
    Returns {"n", "top1", "top5", "ece", "per_kingdom", "per_phylum", "confused_pairs"}; a confused
    pair is ordered (true species → the species it was taken for) with its count.
    """
    targets = [int(t) for t in targets]
    top1 = [bool(r) and r[0] == t for r, t in zip(ranked, targets)]
    top5 = [t in list(r)[:5] for r, t in zip(ranked, targets)]
    n = len(targets)
    kingdoms = [taxa[t].taxonomy.get("kingdom") or "?" for t in targets]
    phyla = [taxa[t].taxonomy.get("phylum") or "?" for t in targets]
    per_phylum = _group_accuracy(list(zip(kingdoms, phyla)), top1, top5)
    mistakes = Counter((t, r[0]) for r, t, ok in zip(ranked, targets, top1) if r and not ok)
    confused = sorted(mistakes.items(), key=lambda kv: (-kv[1], taxa[kv[0][0]].class_id, taxa[kv[0][1]].class_id))
    return {
        "n": n,
        "top1": sum(top1) / n if n else 0.0,
        "top5": sum(top5) / n if n else 0.0,
        "ece": expected_calibration_error(confidence, top1),
        "per_kingdom": _group_accuracy(kingdoms, top1, top5),
        "per_phylum": {ph: {"kingdom": k, **v} for (k, ph), v in per_phylum.items()},
        "confused_pairs": [{"true": _species(taxa[t]), "predicted": _species(taxa[p]), "count": c}
                           for (t, p), c in confused[:top]],
    }


def evaluate_bundle(model, data_dir, split: str, batch_size: int = 32, predictor=None) -> dict:
    """Evaluate a bundle (name, path or Bundle) on `split` of `data_dir`.

    Returns `metrics(...)` plus "model", "data", "split" and "errors" (photos that could not be read,
    left out of n). Raises DatasetError when the split has species the model does not know.
    """
    predictor = predictor or Predictor(model)
    bundle = predictor.bundle
    try:
        split_data = load_split(data_dir, split, bundle.classes)
    except DatasetError as e:
        raise DatasetError(f"{e} — model {bundle.name} cannot be evaluated on it") from None
    paths = [str(p) for p, _ in split_data.samples]
    results = predictor.predict(paths, k=5, batch_size=batch_size)
    targets, ranked, confidence, errors = [], [], [], 0
    for (_, target), r in zip(split_data.samples, results):
        if r.error:
            errors += 1
            continue
        targets.append(target)
        ranked.append([p.index for p in r.predictions])
        confidence.append(r.top.probability)
    out = {"model": bundle.name, "data": str(data_dir), "split": split}
    out.update(metrics(bundle.classes, targets, ranked, confidence))
    out["errors"] = errors
    return out


def format_evaluation(r: dict) -> str:
    """The evaluation as a readable table."""
    lines = [f"{r['model']} on {r['data']} ({r['split']}): {r['n']} photos"
             + (f", {r['errors']} unreadable" if r.get("errors") else ""),
             f"  top-1 {100 * r['top1']:5.1f} %   top-5 {100 * r['top5']:5.1f} %   ECE {r['ece']:.3f}", "",
             f"  {'kingdom / phylum':<32} {'n':>6} {'top-1':>7} {'top-5':>7}"]
    for kingdom, k in r["per_kingdom"].items():
        lines.append(f"  {kingdom:<32} {k['n']:>6} {100 * k['top1']:6.1f}% {100 * k['top5']:6.1f}%")
        for phylum, p in r["per_phylum"].items():
            if p["kingdom"] == kingdom:
                lines.append(f"    {phylum:<30} {p['n']:>6} {100 * p['top1']:6.1f}% {100 * p['top5']:6.1f}%")
    if r["confused_pairs"]:
        lines += ["", "  most confused (true → taken for):"]
        for c in r["confused_pairs"]:
            lines.append(f"  {c['count']:>4} × {c['true']['scientific_name']} → {c['predicted']['scientific_name']}")
    return "\n".join(lines)


def cmd_evaluate(args) -> int:
    r = evaluate_bundle(args.model, args.data, args.split, batch_size=args.batch_size)
    print(json.dumps(r, ensure_ascii=False) if args.json else format_evaluation(r))
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("evaluate", help="accuracy, calibration and confusions of a model on a dataset split")
    p.add_argument("--model", default=None, help="model name or bundle path (default: the default model)")
    p.add_argument("--data", required=True, help="dataset folder holding SPLIT.json (or torchvision's folders)")
    p.add_argument("--split", default="val", help="split name, e.g. val or train_mini (default val)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evaluate)
