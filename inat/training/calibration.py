"""Honest probabilities: temperature scaling (and beta calibration) fitted on labelled photos, and the figures that judge it.

    python -m inat calibrate --model plants47 --data ../shared/data/inat21-plants47 --split val --method beta

A network's softmax is usually over-confident (plants47 said 90 % where it was right far less often).
Temperature scaling divides the logits by one number T, fitted to minimise the negative log-likelihood
of the true classes; the ranking does not change, so top-1 and top-5 stay exactly as they were.
`--method beta` then fits three more numbers: a beta calibration of the top class's probability
(Kull et al. 2017), for models whose errors a single T cannot follow (too sure at the top, too shy in the
middle); it keeps the ranking too. The maps themselves live in `inat.core.probability`. The fitted record is
stored in the bundle's `calibration` (with the figures below) and every prediction, the roll-up, the
"pretty sure" rule and `in_scope` then use the calibrated probabilities.

The figure to trust is `ece_cross_fitted`: the map fitted on one half of the photos, the expected
calibration error measured on the other half, and the other way round, averaged over 10 random halvings
(`cross_fit_halvings`; their spread is `ece_cross_fitted_sd`). `ece_floor` is what a perfectly calibrated
model with these confidences would still show on this many photos. `ece_after` uses the same photos
for fitting and measuring, and is flattering. `ece_cross_fitted_by_method` gives that figure for each
method on the same halves, so the choice of method can be judged on photos it was not fitted on.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
from pathlib import Path

import numpy as np

from ..core.images import ImageError, open_image
from ..core.probability import METHODS, beta_features, calibrated, sigmoid, softmax
from ..models.bundle import JSON_NAME, Bundle, load_bundle, write_json_atomic
from ..models.registry import resolve
from ..runtime.engine import Engine
from .data import load_split
from .labelled import LABELS_CSV, read_labels_csv

ECE_BINS = 15
CROSS_FIT_REPEATS = 10  # random halvings the cross-fitted ECE is averaged over
T_RANGE = (0.05, 20.0)



def expected_calibration_error(confidence, correct, bins: int = ECE_BINS) -> float:
    """Σ_b |B|/n · |accuracy(B) − mean confidence(B)| over `bins` equal-width bins (lo, hi].

    Returns 0.0 for no samples. A confidence of exactly 0 falls into the first bin.
    """
    return float(sum(b["n"] * abs(b["accuracy"] - b["confidence"]) for b in reliability(confidence, correct, bins))
                 / max(1, len(np.asarray(confidence))))


def reliability(confidence, correct, bins: int = ECE_BINS) -> list[dict]:
    """The reliability diagram's bins that hold photos: [{"lo", "hi", "n", "confidence", "accuracy"}]."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append({"lo": b / bins, "hi": (b + 1) / bins, "n": int(mask.sum()),
                        "confidence": float(confidence[mask].mean()), "accuracy": float(correct[mask].mean())})
    return out


def nll(logits: np.ndarray, targets: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of `targets` under softmax(logits / temperature)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(log_norm - z[np.arange(len(z)), targets]))


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """The T in T_RANGE minimising `nll` (golden-section search on log T; the NLL is unimodal in it)."""
    logits = np.asarray(logits, dtype=np.float64)   # once, not at each of the ~30 steps
    lo, hi = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(logits, targets, np.exp(a)), nll(logits, targets, np.exp(b))
    while hi - lo > 1e-5:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(logits, targets, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(logits, targets, np.exp(b))
    return float(np.exp((lo + hi) / 2))


def fit_beta(probs: np.ndarray, targets: np.ndarray, l2: float = 1e-3) -> dict:
    """{"a", "b", "c"} of the beta map (`inat.core.probability.top_label_beta`) fitted to the top class of `probs`.

    A logistic regression of "the top class is the true one" on [ln p, −ln(1 − p), 1] of the top
    probability p (Newton steps, a small L2 pull towards the identity map a = b = 1, c = 0). A negative a
    or b would make the map decreasing; that feature is then dropped (its weight 0), as Kull et al. do.
    """
    top = probs.max(axis=1)
    hit = (probs.argmax(axis=1) == targets).astype(np.float64)
    x = beta_features(top)
    free = [0, 1, 2]
    for _ in range(3):
        w = np.array([1.0, 1.0, 0.0])
        w[[k for k in (0, 1) if k not in free]] = 0.0
        prior = w.copy()
        for _ in range(100):
            q = sigmoid(x @ w)
            grad = x[:, free].T @ (q - hit) / len(hit) + l2 * (w[free] - prior[free])
            hess = (x[:, free] * (q * (1 - q))[:, None]).T @ x[:, free] / len(hit) + l2 * np.eye(len(free))
            step = np.linalg.solve(hess, grad)
            w[free] -= step
            if np.abs(step).max() < 1e-9:
                break
        negative = [k for k in (0, 1) if k in free and w[k] < 0]
        if not negative:
            break
        free = [k for k in free if k not in negative]
    return {"a": round(float(max(w[0], 0.0)), 6), "b": round(float(max(w[1], 0.0)), 6), "c": round(float(w[2]), 6)}


def fit(logits: np.ndarray, targets: np.ndarray, method: str = "temperature", temperature: float | None = None) -> dict:
    """The calibration `method` fitted on these photos: {"method", "temperature"[, "beta"]} for `calibrated`.
    `temperature`: already fitted on these photos (every method starts from it), else fitted here."""
    if method not in METHODS:
        raise ValueError(f"calibration method {method!r} is not one of {', '.join(METHODS)}")
    t = fit_temperature(logits, targets) if temperature is None else temperature
    out = {"method": method, "temperature": round(t, 4)}
    if method == "beta":
        out["beta"] = fit_beta(softmax(logits / out["temperature"]), targets)
    return out


def _top1(logits: np.ndarray, targets: np.ndarray, index: np.ndarray, calibration: dict):
    """(confidence, correct) of the top-1 class among the bundle's classes, as a prediction would show it."""
    probs = calibrated(logits, calibration)[:, index]
    best = probs.argmax(axis=1)
    return probs[np.arange(len(probs)), best], index[best] == targets


def _cross_fitted_ece(logits, targets, index, folds) -> dict[str, tuple[float, list[dict]]]:
    """method → (ECE of the maps fitted on one fold and measured on the other, both ways; the two maps).
    The temperature, which every method starts from, is fitted once a fold."""
    held = {m: ([], [], []) for m in METHODS}
    for fit_on, measure in ((folds[0], folds[1]), (folds[1], folds[0])):
        t = fit_temperature(logits[fit_on], targets[fit_on])
        for m, (conf_, ok_, fitted) in held.items():
            c = fit(logits[fit_on], targets[fit_on], m, temperature=t)
            conf, ok = _top1(logits[measure], targets[measure], index, c)
            conf_.append(conf)
            ok_.append(ok)
            fitted.append(c)
    return {m: (expected_calibration_error(np.concatenate(c), np.concatenate(o)), f) for m, (c, o, f) in held.items()}


def ece_floor(confidence: np.ndarray, draws: int = 200, seed: int = 0) -> dict:
    """The ECE a perfectly calibrated model with these confidences would still show on this many photos:
    each photo right with probability equal to its confidence, `draws` times. {"mean", "p5", "p95"}.
    What a measured ECE near this is made of is sampling noise, not miscalibration."""
    rng = np.random.default_rng(seed)
    conf = np.asarray(confidence, dtype=np.float64)
    e = [expected_calibration_error(conf, rng.random(len(conf)) < conf) for _ in range(draws)]
    return {"mean": round(float(np.mean(e)), 4), "p5": round(float(np.percentile(e, 5)), 4),
            "p95": round(float(np.percentile(e, 95)), 4)}


def calibration_record(logits: np.ndarray, targets: np.ndarray, index: np.ndarray, *, method: str = "temperature",
                       seed: int = 0, repeats: int = CROSS_FIT_REPEATS) -> dict:
    """Fit `method` on all photos and measure it: ECE before, after (same photos) and cross-fitted.

    `logits`: (N, num_outputs); `targets`: each photo's true output; `index`: the output of each class.
    Cross-fitted: the photos are halved at random `repeats` times; each time the map is fitted on one half
    and measured on the other, and the other way round; the figure is the mean over the halvings (one
    halving of a few hundred photos moves it by about ±0.01).
    """
    n = len(targets)
    rng = np.random.default_rng(seed)
    by_method = {m: [] for m in METHODS}
    fold_t = []
    for r in range(repeats):
        order = rng.permutation(n)
        folds = [order[: n // 2], order[n // 2:]]
        for m, (e, fitted_folds) in _cross_fitted_ece(logits, targets, index, folds).items():
            by_method[m].append(e)
            if m == method and r == 0:
                fold_t = [c["temperature"] for c in fitted_folds]
    fitted = fit(logits, targets, method)
    conf0, ok0 = _top1(logits, targets, index, {})
    conf1, ok1 = _top1(logits, targets, index, fitted)
    return {**fitted, "n": n,
            "top1": float(ok0.mean()),  # unchanged by the map: the ranking is the same
            "ece_before": round(expected_calibration_error(conf0, ok0), 4),
            "ece_after": round(expected_calibration_error(conf1, ok1), 4),
            "ece_cross_fitted": round(float(np.mean(by_method[method])), 4),
            "ece_cross_fitted_by_method": {m: round(float(np.mean(e)), 4) for m, e in by_method.items()},
            "cross_fit_halvings": repeats,
            "ece_cross_fitted_sd": round(float(np.std(by_method[method])), 4),
            "ece_floor": ece_floor(conf1, seed=seed),
            "fold_temperatures": fold_t,
            "reliability_before": reliability(conf0, ok0), "reliability_after": reliability(conf1, ok1)}


def labelled_targets(bundle: Bundle, data_dir, split: str, names: dict[str, str] | None = None) -> list[tuple[Path, int]]:
    """(photo, true output index) for the photos of `data_dir` whose class the bundle has.

    An iNat 2021 split is matched by category id; a `labels.csv` folder by a `class_id` (or `index`)
    column when it has one, else by species name (scientific, as the bundle spells it; `names`, common →
    scientific, gives or corrects it as for `evaluate --names`).
    """
    by_id = {t.class_id: o for t, o in zip(bundle.classes, bundle.output_index)}
    data_dir = Path(data_dir)
    if not (data_dir / LABELS_CSV).is_file():
        split_data = load_split(data_dir, split)
        return [(p, by_id[split_data.taxa[t].class_id]) for p, t in split_data.samples
                if split_data.taxa[t].class_id in by_id]
    with open(data_dir / LABELS_CSV, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    id_column = next((c for c in ("class_id", "index") if rows and c in rows[0]), None)
    if id_column:
        return [(data_dir / r["file"], by_id[int(r[id_column])]) for r in rows if int(r[id_column]) in by_id]
    by_name: dict[str, int] = {}
    for t, o in zip(bundle.classes, bundle.output_index):
        by_name.setdefault(" ".join(t.scientific_name.split()[:2]), o)
    return [(p.path, by_name[p.species]) for p in read_labels_csv(data_dir, names) if p.species in by_name]


def photo_logits(bundle: Bundle, photos: list[Path], batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(logits of the readable photos, their positions in `photos`), computed as the predictor does in fp32
    (a calibration fitted on one machine serves every CPU, bf16 or not)."""
    engine = Engine(bundle, precision="fp32")
    rows, kept = [], []
    for start in range(0, len(photos), batch_size):
        ims = []
        for i in range(start, min(start + batch_size, len(photos))):
            try:
                ims.append(open_image(photos[i], draft_size=engine.draft))
                kept.append(i)
            except ImageError:
                continue
        if ims:
            rows.append(engine.logits(engine.inputs(ims)))
    return (np.concatenate(rows) if rows else np.zeros((0, bundle.num_outputs), np.float32)), np.asarray(kept, int)


def calibrate(model, data_dir, split: str = "val", batch_size: int = 32, names: dict[str, str] | None = None,
              method: str = "temperature") -> dict:
    """Fit and measure `method` for `model` on the labelled photos of `data_dir` (see module docstring)."""
    bundle = model if isinstance(model, Bundle) else resolve(model)
    pairs = labelled_targets(bundle, data_dir, split, names)
    if len(pairs) < 20:
        raise ValueError(f"{data_dir}: only {len(pairs)} photos of classes {bundle.name} knows; calibration needs "
                         f"at least 20 (more than 200 for a trustworthy fit)")
    logits, kept = photo_logits(bundle, [p for p, _ in pairs], batch_size)
    targets = np.asarray([pairs[i][1] for i in kept])
    record = calibration_record(logits, targets, np.asarray(bundle.output_index), method=method)
    record.update({"data": str(data_dir), "split": None if (Path(data_dir) / LABELS_CSV).is_file() else split,
                   "date": _dt.date.today().isoformat()})
    return record


def save_calibration(folder: str | Path, record: dict) -> None:
    """Store `record` as the `calibration` of the bundle in `folder` (bundle.json replaced atomically)."""
    folder = Path(folder)
    load_bundle(folder)  # refuses anything that is not a readable bundle
    meta = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    meta["calibration"] = record
    write_json_atomic(folder / JSON_NAME, meta)


def format_calibration(name: str, r: dict) -> str:
    what = f"temperature {r['temperature']:.3f}" + (
        " then beta a {a:.3f} b {b:.3f} c {c:.3f}".format(**r["beta"]) if r.get("method") == "beta" else "")
    others = ", ".join(f"{m} {e:.3f}" for m, e in (r.get("ece_cross_fitted_by_method") or {}).items())
    return (f"{name}: {what} fitted on {r['n']} photos ({r['data']}"
            + (f", {r['split']}" if r.get("split") else "") + f"); top-1 {100 * r['top1']:.1f} % (unchanged)\n"
            f"  ECE before {r['ece_before']:.3f}, after {r['ece_after']:.3f} on the same photos, "
            f"{r['ece_cross_fitted']:.3f} cross-fitted (fitted on one half, measured on the other; "
            f"mean of {r.get('cross_fit_halvings', 1)} random halvings)"
            + (f"\n  cross-fitted ECE by method: {others}" if others else "")
            + ("\n  a perfectly calibrated model would show {mean:.3f} on these photos ({p5:.3f}-{p95:.3f} in 90 % "
               "of draws)".format(**r["ece_floor"]) if r.get("ece_floor") else ""))
