"""Rebuild the router (assets/router.safetensors + assets/router.json) with one command.

    python scripts/train_router.py [--data ../shared/data] [--cache /tmp/router-features] [--compare]

1. Features: one starter forward pass per photo of every collection (inat/naturalist/router_data.py): the
   pooled 1280-d pre-logits and the 1000-way softmax (inat/naturalist/router_features.py), cached per
   collection in --cache (outside the repo), so a rerun only fits (extracting the 5,110 photos
   took about 45 min on 2 shared, busy cores once, 3½ min on an AMX Xeon; reusing them takes seconds).
2. Held-out figures: 5-fold cross-fitting with whole species held out (StratifiedGroupKFold by
   group, grouped by species) over the training pool: plants47 train_mini, flowers102, birds525,
   butterflies100, imagenet-samples, others (mushrooms and primates). plants47 val is never trained on: it is measured by the
   shipped router (its species seen, its photos not) and by the fold routers that never saw its
   species. The held-out predictions go through `Router.probabilities`, the code that ships.
   `--compare` measures the alternatives (starter masses alone, features alone, factorised with
   the starter's scope, ...) on the same folds; `--sweep` the regularisation grid.
3. Calibration: a temperature fitted on the held-out predictions (photos of species the fold's router
   never saw), so a photo unlike the fitting data gets an uncertain group. Its own figures are nested:
   each fold's predictions are scaled by the temperature fitted on the other folds' (ECE of the top
   group's probability, and the confidence on wrongly routed photos, before and after).
4. The shipped router is fitted on the whole pool, with that temperature; the weights, the provenance
   and the figures go to assets/, the figures also to benchmarks/results/router.json.
Needs scikit-learn (training only; the router runs on numpy).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import shlex
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from benchmarks.results_file import write_results  # noqa: E402
from inat.naturalist.router import (EXTRA_NAMES, FEATURE_DIM, FORMAT, JSON_FILE, VERSION, WEIGHTS_FILE, Router,
                                    router_inputs)
from inat.naturalist.router_data import COLLECTIONS, load_collection  # noqa: E402
from inat.naturalist.router_groups import GROUPS, NOT_ORGANISM, starter_group_masses  # noqa: E402
from inat.training.calibration import expected_calibration_error, fit_temperature  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_CACHE = Path("/tmp/router-features")
RESULTS = REPO / "benchmarks" / "results" / "router.json"
POOL = ("plants47_train", "flowers102", "birds525", "butterflies100", "imagenet", "others")
HELD_OUT = "plants47_val"
FOLDS, SEED = 5, 0
C = 0.1        # inverse L2 strength on standardised inputs (--sweep: 0.03-0.1 best, 1.0 worse on ImageNet)
BOOST = 10.0   # the starter inputs (scope, one mass a group) are scaled up by this before fitting: a 100x weaker L2 penalty on them
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
# Changing what a feature is (model, preprocessing, decoding) must invalidate the cache.
FEATURE_SPEC = ("starter tf_efficientnet_lite0 (efficientnet-lite0-57934424.pth); "
                "open_image(draft_size=512) + eval_transform(LITE0_PREPROCESS); "
                "forward_head(forward_features(x), pre_logits=True) (1280) + softmax64(classifier) (1000)")


# -- features -----------------------------------------------------------------------------------
def cached_features(data: Path, cache: Path, name: str, model_box: list, batch_size: int = 32):
    """(photos, features, probs) of one collection, from `cache` when it holds the same files and spec."""
    photos = load_collection(data, name)
    rel = np.array([str(p.file.relative_to(data)) for p in photos])
    key = hashlib.sha256(("\n".join(rel) + "\n" + FEATURE_SPEC).encode()).hexdigest()[:16]
    file = cache / f"{name}.npz"
    if file.is_file():
        with np.load(file, allow_pickle=False) as z:
            if str(z["key"]) == key:
                return photos, z["features"], z["probs"]
    from inat.naturalist.router_features import extract, load_starter_model
    if not model_box:
        model_box.append(load_starter_model())
    feats, probs = extract([p.file for p in photos], model_box[0], batch_size=batch_size, progress=name)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.stem + ".tmp.npz")
    np.savez(tmp, key=key, files=rel, features=feats, probs=probs)
    tmp.replace(file)
    return photos, feats, probs


class Pool:
    """Stacked features, starter probabilities, group labels, species and collection of some photos."""

    def __init__(self, sets: dict, names):
        self.names = list(names)
        self.features = np.concatenate([sets[n][1] for n in self.names])
        self.probs = np.concatenate([sets[n][2] for n in self.names])
        self.y = np.concatenate([[GROUPS.index(p.group) for p in sets[n][0]] for n in self.names])
        self.species = np.concatenate([[p.species for p in sets[n][0]] for n in self.names])
        self.collection = np.concatenate([[n] * len(sets[n][0]) for n in self.names])

    def take(self, idx) -> tuple[np.ndarray, np.ndarray]:
        return self.features[idx], self.probs[idx]


# -- fitting ------------------------------------------------------------------------------------
def _logreg(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression  # training only
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs may stop at max_iter on a near-separable fold; measured anyway
        return LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x, y)


def fit_router(features, probs, y, c: float = C, boost: float = BOOST) -> Router:
    """A class-balanced multinomial logistic regression on `router_inputs`, as a numpy `Router`.

    Inputs are standardised; the starter inputs are then multiplied by `boost`, which is the same
    as an L2 penalty `boost`² times weaker on them. The boost is folded into `scale`.
    """
    x = router_inputs(features, probs)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-12] = 1.0  # a constant input (a ReLU6 channel that never fires) stays 0
    scale[FEATURE_DIM:] /= boost
    lr = _logreg((x - mean) / scale, y, c)
    if list(lr.classes_) != list(range(len(GROUPS))):
        raise ValueError("every group needs training photos")
    return Router(mean=mean, scale=scale, weight=lr.coef_.astype(np.float64),
                  bias=lr.intercept_.astype(np.float64), groups=GROUPS)


def folds(pool: Pool):
    """The held-out folds: whole species at a time, each fold with every group."""
    from sklearn.model_selection import StratifiedGroupKFold  # training only
    return list(StratifiedGroupKFold(FOLDS, shuffle=True, random_state=SEED).split(pool.features, pool.y,
                                                                                   pool.species))


def cross_fit(pool: Pool, val: Pool, fit, splits) -> tuple[np.ndarray, np.ndarray]:
    """Held-out (N, G) probabilities of every pool photo, and of each val photo from the fold without its species.

    `fit(features, probs, y)` returns a function `(features, probs) -> (N, G)`.
    """
    oof = np.full((len(pool.y), len(GROUPS)), np.nan)
    oof_val = np.full((len(val.y), len(GROUPS)), np.nan)
    for train, test in splits:
        predict = fit(*pool.take(train), pool.y[train])
        oof[test] = predict(*pool.take(test))
        held = np.isin(val.species, np.unique(pool.species[test]))
        if held.any():
            oof_val[held] = predict(*val.take(held))
    return oof, oof_val


# -- the alternatives measured with --compare ---------------------------------------------------
def _with(c, boost):
    def fit(f, p, y):
        return fit_router(f, p, y, c, boost).probabilities
    return fit


def _starter_masses(f, p, y):
    return lambda f2, p2: starter_group_masses(p2)


def _features_only(f, p, y):
    mean, scale = f.mean(0), np.where(f.std(0) < 1e-12, 1.0, f.std(0))
    lr = _logreg((f - mean) / scale, y, C)
    return lambda f2, p2: lr.predict_proba((f2 - mean) / scale)


def _factorised_scope(f, p, y):
    # P(not_organism) = the starter's 1 - scope; P(group | organism) from the features.
    org = y != NOT_ORGANISM
    mean, scale = f.mean(0), np.where(f.std(0) < 1e-12, 1.0, f.std(0))
    lr = _logreg((f[org] - mean) / scale, y[org], C)

    def predict(f2, p2):
        scope = 1.0 - starter_group_masses(p2)[:, NOT_ORGANISM]
        return np.column_stack([scope[:, None] * lr.predict_proba((f2 - mean) / scale), 1.0 - scope])
    return predict


ALTERNATIVES = {
    "starter group masses alone (no fit)": _starter_masses,
    "LR on the 1280 features alone": _features_only,
    "LR on features + starter inputs, same penalty (boost 1)": _with(C, 1.0),
    "factorised: P(not) = 1 - starter scope, LR P(group | organism)": _factorised_scope,
    f"chosen: LR on features + starter inputs, boost {BOOST:g}": _with(C, BOOST),
}


# -- calibration --------------------------------------------------------------------------------
def scaled(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities re-scaled by a temperature: softmax(log(probs) / T), as `Router.probabilities` applies it."""
    z = np.log(np.clip(probs, 1e-300, 1.0)) / temperature
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def nested_temperature(oof: np.ndarray, y: np.ndarray, splits) -> tuple[np.ndarray, list[float]]:
    """Each fold's held-out predictions scaled by the temperature fitted on the other folds' held-out predictions,
    so the calibrated figures are measured on photos the temperature never saw either; and those temperatures."""
    logits = np.log(np.clip(oof, 1e-300, 1.0))
    out, temps = np.empty_like(oof), []
    for train, test in splits:
        temps.append(fit_temperature(logits[train], y[train]))
        out[test] = scaled(oof[test], temps[-1])
    return out, temps


def calibration_figures(p: np.ndarray, y: np.ndarray, collection: np.ndarray, names) -> dict:
    """ECE of the top group's probability (15 bins), overall and per collection, and how sure the wrong routes are."""
    top, hit = p.max(1), p.argmax(1) == y
    wrong = ~hit
    return {"ece": expected_calibration_error(top, hit),
            "ece_per_collection": {n: expected_calibration_error(top[collection == n], hit[collection == n])
                                   for n in names},
            "mean_confidence": float(top.mean()), "accuracy": float(hit.mean()),
            "wrong": int(wrong.sum()),
            "wrong_mean_confidence": float(top[wrong].mean()) if wrong.any() else None,
            "wrong_at_0.9_or_more": int(np.sum(top[wrong] >= 0.9))}


def subsets(pool: Pool) -> dict[str, np.ndarray]:
    """The photo sets reported on their own: each collection, and `others` split into mushrooms and primates."""
    out = {n: pool.collection == n for n in pool.names}
    if "others" in pool.names:
        out["others: mushrooms"] = (pool.collection == "others") & (pool.y == GROUPS.index("fungi"))
        out["others: primates"] = (pool.collection == "others") & (pool.y != GROUPS.index("fungi"))
    return out


def routed(p: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Share of the photos in `mask` whose top group is each group."""
    pred = p[mask].argmax(1)
    return {g: float(np.mean(pred == i)) for i, g in enumerate(GROUPS)}


def mushroom_figures(pool: Pool, oof: np.ndarray) -> dict:
    """Held-out: where the others' mushrooms (kingdom Fungi) are routed, overall and by species, and how sure."""
    mask = subsets(pool).get("others: mushrooms")
    if mask is None or not mask.any():
        return {}
    fungi, plants = GROUPS.index("fungi"), GROUPS.index("plants")
    return {"n": int(mask.sum()), "routed": routed(oof, mask),
            "mean_p_fungi": float(oof[mask, fungi].mean()), "mean_p_plants": float(oof[mask, plants].mean()),
            "by_species": {sp.split(":", 1)[1]: routed(oof, pool.species == sp)["fungi"]
                           for sp in sorted(set(pool.species[mask]))}}


# -- figures ------------------------------------------------------------------------------------
def figures(pool: Pool, val: Pool, oof: np.ndarray, oof_val: np.ndarray, final_val: np.ndarray) -> dict:
    """Group accuracy per collection, ImageNet scope recall/rejection, confusion matrix; all held out."""
    pred = oof.argmax(1)
    acc = {n: float(np.mean(pred[m] == pool.y[m])) for n, m in subsets(pool).items()}
    acc[HELD_OUT] = float(np.mean(final_val.argmax(1) == val.y))
    acc[HELD_OUT + " (species unseen)"] = float(np.mean(oof_val.argmax(1) == val.y))
    inet = pool.collection == "imagenet"
    organism = pool.y != NOT_ORGANISM
    p_org = 1.0 - oof[:, NOT_ORGANISM]
    scope = 1.0 - starter_group_masses(pool.probs)[:, NOT_ORGANISM]

    def recall_rejection(score, t):
        return {"recall": float(np.mean(score[inet & organism] >= t)),
                "rejection": float(np.mean(score[inet & ~organism] < t))}
    confusion = np.zeros((len(GROUPS), len(GROUPS)), dtype=int)
    np.add.at(confusion, (pool.y, pred), 1)
    np.add.at(confusion, (val.y, final_val.argmax(1)), 1)
    org_inet = inet & organism
    return {
        "group_accuracy": acc,
        "imagenet_in_scope": {"router": recall_rejection(p_org, 0.5), "starter": recall_rejection(scope, 0.5),
                              "n_organism": int(org_inet.sum()), "n_not_organism": int((inet & ~organism).sum())},
        "imagenet_organism_group_accuracy": float(np.mean(pred[org_inet] == pool.y[org_inet])),
        # in scope = P(organism) >= t: ImageNet recall/rejection, and the recall on each organism collection
        "in_scope_sweep": {f"{t:.1f}": {**recall_rejection(p_org, t), **{
            f"recall {n}": float(np.mean(p_org[pool.collection == n] >= t)) for n in pool.names if n != "imagenet"},
            f"recall {HELD_OUT}": float(np.mean(1.0 - final_val[:, NOT_ORGANISM] >= t))} for t in THRESHOLDS},
        "confusion": {"rows_truth_cols_predicted": list(GROUPS), "matrix": confusion.tolist(),
                      "photos": "held-out predictions of the training pool (cross-fitted) + plants47 val (shipped router)"},
    }


def imagenet_mistakes(pool: Pool, oof: np.ndarray, data: Path) -> list[str]:
    """'name: truth → predicted (P)' for every misrouted imagenet-samples photo."""
    import csv
    with open(data / "imagenet-samples" / "labels.csv", newline="", encoding="utf-8") as f:
        names = [r["name"] for r in csv.DictReader(f)]
    idx = np.flatnonzero(pool.collection == "imagenet")
    out = []
    for k, i in enumerate(idx):
        g = int(oof[i].argmax())
        if g != pool.y[i]:
            out.append(f"{names[k]}: {GROUPS[pool.y[i]]} → {GROUPS[g]} ({oof[i, g]:.2f})")
    return out


def comparison_row(pool, val, fit, splits) -> dict:
    oof, oof_val = cross_fit(pool, val, fit, splits)
    final_val = fit(pool.features, pool.probs, pool.y)(val.features, val.probs)
    f = figures(pool, val, oof, oof_val, final_val)
    return {**f["group_accuracy"], "imagenet organisms' group": f["imagenet_organism_group_accuracy"],
            "imagenet organism recall": f["imagenet_in_scope"]["router"]["recall"],
            "imagenet rejection": f["imagenet_in_scope"]["router"]["rejection"]}


def print_table(rows: dict) -> None:
    cols = list(next(iter(rows.values())))
    print("| variant | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for name, r in rows.items():
        print(f"| {name} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + " |")


# -- writing ------------------------------------------------------------------------------------
def write_router(router: Router, info: dict, weights: Path = WEIGHTS_FILE, sidecar: Path = JSON_FILE) -> None:
    """Write the safetensors weights, then the JSON sidecar stamped with their sha256."""
    from safetensors.numpy import save_file
    save_file(router.tensors(), str(weights), metadata={"format": FORMAT, "version": str(VERSION)})
    info = {**info, "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}
    sidecar.write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="feature cache folder, outside the repo")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads for feature extraction")
    ap.add_argument("--extract-only", action="store_true", help="compute and cache the features, fit nothing")
    ap.add_argument("--compare", action="store_true", help="also measure the alternative designs (slower)")
    ap.add_argument("--sweep", action="store_true", help="measure a grid of C and boost (9 cross-fits, long), write nothing")
    ap.add_argument("--dry-run", action="store_true", help="measure and print, write no file")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"error: no data folder at {args.data}", file=sys.stderr)
        return 1
    try:
        import sklearn  # fail before the long feature extraction
    except ImportError:
        print("error: training the router needs scikit-learn (pip install scikit-learn)", file=sys.stderr)
        return 1
    import torch  # keeps torch out of --help
    torch.set_num_threads(args.threads)
    model_box: list = []
    sets = {name: cached_features(args.data, args.cache, name, model_box) for name in COLLECTIONS}
    if args.extract_only:
        for name, (photos, f, p) in sets.items():
            print(f"{name}: {len(photos)} photos, features {f.shape}, probs {p.shape}")
        return 0
    pool, val = Pool(sets, POOL), Pool(sets, [HELD_OUT])
    splits = folds(pool)
    if args.sweep:
        print_table({f"C {c:g}, boost {b:g}": comparison_row(pool, val, _with(c, b), splits)
                     for c in (0.03, 0.1, 1.0) for b in (1.0, 10.0, 50.0)})
        return 0

    raw, raw_val = cross_fit(pool, val, _with(C, BOOST), splits)
    # The temperature the router ships with: fitted on every held-out prediction of the pool.
    temperature = round(fit_temperature(np.log(np.clip(raw, 1e-300, 1.0)), pool.y), 4)
    oof, fold_temperatures = nested_temperature(raw, pool.y, splits)
    oof_val = scaled(raw_val, temperature)
    router = fit_router(pool.features, pool.probs, pool.y)
    router = dataclasses.replace(router, calibration={"method": "temperature", "temperature": temperature})
    final_val = router.probabilities(val.features, val.probs)
    figs = figures(pool, val, oof, oof_val, final_val)
    figs["calibration"] = {
        "temperature": temperature, "fold_temperatures": [round(t, 4) for t in fold_temperatures],
        "photos": "held-out predictions of the training pool (cross-fitted by species); 'after' scales each fold "
                  "by the temperature fitted on the other folds' held-out predictions",
        "before": calibration_figures(raw, pool.y, pool.collection, pool.names),
        "after": calibration_figures(oof, pool.y, pool.collection, pool.names)}
    figs["mushrooms"] = mushroom_figures(pool, oof)
    figs["imagenet_mistakes"] = imagenet_mistakes(pool, oof, args.data)
    if args.compare:
        rows = {name: comparison_row(pool, val, fit, splits) for name, fit in ALTERNATIVES.items()}
        figs["alternatives"] = rows
        print_table(rows)
    counts = {n: dict(Counter(p.group for p in sets[n][0])) for n in COLLECTIONS}
    info = {
        "format": FORMAT, "version": VERSION, "groups": list(GROUPS),
        "inputs": {"features": f"{FEATURE_DIM} floats: starter forward_head(forward_features(x), pre_logits=True)",
                   "starter": list(EXTRA_NAMES),
                   "contract": "inat/naturalist/router_features.py (one starter forward pass on LITE0_PREPROCESS input, "
                               "photos opened with open_image(draft_size=512))",
                   "spec": FEATURE_SPEC},
        "model": {"kind": "class-balanced multinomial logistic regression (sklearn lbfgs, L2)", "C": C,
                  "starter_input_boost": BOOST, "scikit_learn": sklearn.__version__},
        "calibration": router.calibration,
        "data": {"trained_on": list(POOL), "held_out": HELD_OUT, "photos": counts,
                 "source": "../shared/data (plants47 = inat21-plants47, imagenet = imagenet-samples with "
                           "assets/starter_taxonomy.tsv deciding each class's group)"},
        "held_out": f"{FOLDS}-fold cross-fitting over the training pool with whole species held out "
                    f"(StratifiedGroupKFold, seed {SEED}; imagenet: one photo a class, so each class is held out "
                    f"once); {HELD_OUT} is never trained on (measured by the shipped router, and by the fold "
                    "routers that never saw its species); calibrated figures use a temperature fitted on other folds",
        "figures": figs,
        "command": "python scripts/train_router.py " + shlex.join(sys.argv[1:]),
        "date": _dt.date.today().isoformat(),
    }
    g = figs["group_accuracy"]
    s = figs["imagenet_in_scope"]
    print("held-out group accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in g.items()))
    print(f"imagenet organism vs not: router recall {s['router']['recall']:.3f} rejection {s['router']['rejection']:.3f}"
          f" (starter {s['starter']['recall']:.3f} / {s['starter']['rejection']:.3f})")
    c = figs["calibration"]
    print(f"temperature {temperature:g} (folds {c['fold_temperatures']}); held-out ECE of the top group "
          f"{c['before']['ece']:.3f} -> {c['after']['ece']:.3f}; wrongly routed {c['before']['wrong']}, mean confidence "
          f"{c['before']['wrong_mean_confidence']:.3f} -> {c['after']['wrong_mean_confidence']:.3f}, at >= 0.9: "
          f"{c['before']['wrong_at_0.9_or_more']} -> {c['after']['wrong_at_0.9_or_more']}")
    if figs["mushrooms"]:
        m = figs["mushrooms"]
        print(f"mushrooms (held out, {m['n']}): routed to fungi {m['routed']['fungi']:.3f}, plants "
              f"{m['routed']['plants']:.3f}, other_organism {m['routed']['other_organism']:.3f}")
    print("confusion (rows truth, cols predicted; " + ", ".join(GROUPS) + "):")
    for name, row in zip(GROUPS, figs["confusion"]["matrix"]):
        print(f"  {name:15s} " + " ".join(f"{v:5d}" for v in row))
    if args.dry_run:
        return 0
    write_router(router, info)
    write_results(RESULTS, {k: info[k] for k in ("figures", "held_out", "data", "model", "calibration", "command", "date")})
    print(f"wrote {WEIGHTS_FILE.relative_to(REPO)}, {JSON_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
