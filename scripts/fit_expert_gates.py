"""How far `naturalist` may trust an expert's species: P(the photo shows a species the expert knows | photo).

    python scripts/fit_expert_gates.py            # needs ../shared/data and the installed experts

An expert names one of its species for every photo of its group, and is as sure of a bird it has never
seen as of one it knows: on BIRDS-525 the iNat 2017 bird expert's "pretty sure" taxon was wrong for 14 %
of the photos, nearly all of species it does not have. So naturalist gives an expert's species
P(group) x g(x) x P_E(s | not background), where the gate g(x) = sigmoid(a + b * logit(max_s P_E(s))) is
the probability that the photo shows a species the expert knows, fitted by logistic regression on the
expert's (calibrated) top probability over a labelled collection of its group where some species are
known to it and some are not. The rest of the group's probability, 1 - g(x), goes where it goes for a
group without an expert: the starter's classes of the group times alpha, the rest to the group itself.

The gate's prior is the collection's share of known-species photos (BIRDS-525: 43 %); the figures are
measured on the photos it was fitted on (2 parameters) and, to show how it generalises to species
never seen in fitting, cross-fitted: fitted on half of the species and measured on the other half.
The same file holds the gate on the starter's own classes inside the birds and insects groups (`starter`):
P(the photo falls under the starter's first class of the group), from that class's share of the starter's
group probability and its coverage (assets/naturalist_priors.json), fitted on the same collections. It
replaces the flat prior alpha there: on BIRDS-525 the starter's first bird class is right for 21 % of the
photos (73 % when its share is above 0.99), not the 1.6 % that alpha, a share of species, assumes.
Writes assets/expert_gates.json (committed; read at run time).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import shlex
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inat.calibration import photo_logits  # noqa: E402
from inat.probability import calibrated, logit, sigmoid  # noqa: E402
from inat.evaluate import claim_wrong, known_species, species_names  # noqa: E402
from inat.hub import resolve  # noqa: E402
from inat.labelled import read_labelled, read_names  # noqa: E402
from inat.naturalist import DEFAULT_COVERAGE, UNNAMED, known_species_gate, starter_class_gate  # noqa: E402
from inat.rollup import TaxonTree  # noqa: E402
from inat.taxonomy import Taxon  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
GATES_FILE = "assets/expert_gates.json"
# expert → (group, collection, names file, whether every photo of the collection shows one species). BUTTERFLIES-100
# names its species by common name only; the 49 that scripts/match_datasets_to_experts.py found among the insect
# expert's species are in the names file, and the other 51 count as species the expert does not know.
COLLECTIONS = {"inat2017-birds": ("birds", "birds525", "assets/experts/birds525-inat2017-birds.tsv", False),
               "inat2017-insects": ("insects", "butterflies100", "assets/experts/butterflies100-inat2017-insects.tsv",
                                    True)}


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> tuple[float, float]:
    """(a, b) of sigmoid(a + b x) by Newton's method on the log-likelihood (a tiny ridge keeps it finite)."""
    a, b = fit_logistic_n(x[:, None], y, l2)
    return a, b


def fit_logistic_n(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> list[float]:
    """[w0, w1, …] of sigmoid(w0 + x @ w[1:]) for x of shape (N, k), as fit_logistic."""
    X = np.concatenate([np.ones((len(x), 1)), x], axis=1)
    w = np.zeros(X.shape[1])
    for _ in range(100):
        p = sigmoid(X @ w)
        grad = X.T @ (p - y) + l2 * w
        hess = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return [float(v) for v in w]


def claims(bundle, group: str, q: np.ndarray, g: np.ndarray, truths) -> dict:
    """claims / wrong_claims / known-species claims of the expert alone, its species scaled by the gate `g`
    and the rest given to its group ("a bird"), as naturalist's roll-up counts them."""
    taxa = list(bundle.classes) + [Taxon(-1, UNNAMED[group]["class"], None, "class", dict(UNNAMED[group]))]
    tree = TaxonTree(taxa)
    known = known_species(bundle.classes)
    made = wrong = 0
    for i, t in enumerate(truths):
        probs = np.append(g[i] * q[i], 1 - g[i])
        a = tree.ancestor(probs)
        if a is None:
            continue
        made += 1
        wrong += bool(claim_wrong(a, t, known))
    n = len(truths)
    return {"claims": round(made / n, 4), "wrong_claims": round(wrong / n, 4)}


def fit(name: str, data: Path) -> dict:
    group, collection, names_file, all_species = COLLECTIONS[name]
    bundle = resolve(name)
    truths = [t for t in read_labelled(data / collection, names=read_names(REPO / names_file)) if t.organism]
    logits, kept = photo_logits(bundle, [t.path for t in truths])
    truths = [truths[i] for i in kept]
    q = calibrated(logits, bundle.calibration)[:, bundle.output_index]
    q = q / q.sum(axis=1, keepdims=True)                                   # P_E(s | not background)
    top = q.max(axis=1)
    x = logit(top)                      # the gate's input, as known_species_gate reads it
    known_names = set().union(*(species_names(t) for t in bundle.classes))
    y = np.asarray([t.species in known_names for t in truths], dtype=float)
    # a truth above species is neither known nor not, unless the collection is of species throughout
    sure = np.asarray([all_species or t.species is not None for t in truths])
    a, b = fit_logistic(x[sure], y[sure])
    # Cross-fitted by species: each half's gate is fitted on the other half's species.
    def key(t):
        return t.species or t.common_name or ""
    species = sorted({key(t) for t in truths})
    rng = np.random.default_rng(0)
    half = set(rng.permutation(species)[: len(species) // 2].tolist())
    fold = np.asarray([key(t) in half for t in truths])
    g_cross = np.zeros(len(truths))
    for f in (True, False):
        train = (fold != f) & sure
        af, bf = fit_logistic(x[train], y[train])
        g_cross[fold == f] = known_species_gate(top[fold == f], af, bf)
    g_in = known_species_gate(top, a, b)
    top1 = q.argmax(axis=1)
    right = np.asarray([t.species in species_names(bundle.classes[j]) for t, j in zip(truths, top1)])
    return {
        "group": group, "a": round(a, 4), "b": round(b, 4), "temperature": bundle.temperature,
        "fitted_on": f"{collection}: {int(sure.sum())} photos whose species is known to us, {int(y.sum())} of species "
                     f"{name} knows", "known_share": round(float(y[sure].mean()), 4),
        "figures": {
            "no_gate": claims(bundle, group, q, np.ones(len(truths)), truths),
            "gate_same_photos": claims(bundle, group, q, g_in, truths),
            "gate_cross_fitted_by_species": claims(bundle, group, q, g_cross, truths),
            "known_top1": round(float(right[y == 1].mean()), 4),
            "mean_gate_of_unknown_species_cross_fitted": round(float(g_cross[sure & (y == 0)].mean()), 4),
            "mean_gate_of_known_species_cross_fitted": round(float(g_cross[y == 1].mean()), 4),
            "mean_gate_known": round(float(g_in[y == 1].mean()), 4),
            "mean_gate_unknown": round(float(g_in[sure & (y == 0)].mean()), 4)},
    }


# The starter's gate: group → the collection it is fitted on (the same photos as the experts' gates).
STARTER_COLLECTIONS = {"birds": "birds525", "insects": "butterflies100"}


def starter_truths(data: Path) -> list[tuple[str, object]]:
    """(group, LabelledPhoto) of the organism photos the starter's gate is fitted on."""
    out = []
    for group, collection in STARTER_COLLECTIONS.items():
        names_file = next(c[2] for c in COLLECTIONS.values() if c[1] == collection)
        out += [(group, t) for t in read_labelled(data / collection, names=read_names(REPO / names_file)) if t.organism]
    return out


def under(taxon, t) -> bool:
    """Whether the photo `t` shows something inside the starter class `taxon`'s taxon (unknown counts as no)."""
    if taxon.rank == "species":
        return t.species is not None and t.species in species_names(taxon)
    return bool(t.lineage.get(taxon.rank)) and t.lineage.get(taxon.rank) == taxon.scientific_name


def fit_starter(data: Path) -> dict:
    """naturalist's gate on the starter's classes inside a group: P(the photo falls under the starter's first
    class of the group), from that class's share of the starter's group probability and its coverage."""
    from inat.router_groups import group_of
    from inat.starter import starter_bundle
    bundle = starter_bundle()
    coverage = json.loads((REPO / "assets" / "naturalist_priors.json").read_text(encoding="utf-8"))["coverage"]
    pairs = starter_truths(data)
    logits, kept = photo_logits(bundle, [t.path for _, t in pairs])
    pairs = [pairs[i] for i in kept]
    probs = calibrated(logits, bundle.calibration)[:, bundle.output_index]
    group_of_class = np.asarray([group_of(c.taxonomy) for c in bundle.classes])
    share_top, cov_top, y, species = [], [], [], []
    for (group, t), p in zip(pairs, probs):
        cls = np.flatnonzero(group_of_class == group)
        within = p[cls] / max(p[cls].sum(), 1e-12)
        j = cls[within.argmax()]
        share_top.append(within.max())
        cov_top.append(float(coverage.get(str(bundle.classes[j].class_id), DEFAULT_COVERAGE)))
        y.append(under(bundle.classes[j], t))
        species.append(t.species or t.common_name or "")
    share_top, cov_top, y = np.asarray(share_top), np.asarray(cov_top), np.asarray(y, dtype=float)
    groups = np.asarray([g for g, _ in pairs])
    x = np.stack([logit(share_top), np.log(cov_top)], axis=1)
    w = fit_logistic_n(x, y)
    # Cross-fitted by species, as the experts' gates.
    names = sorted(set(species))
    half = set(np.random.default_rng(0).permutation(names)[: len(names) // 2].tolist())
    fold = np.asarray([s in half for s in species])
    g_cross = np.zeros(len(y))
    for f in (True, False):
        wf = fit_logistic_n(x[fold != f], y[fold != f])
        g_cross[fold == f] = starter_class_gate(share_top[fold == f], cov_top[fold == f], wf)
    g_in = starter_class_gate(share_top, cov_top, w)
    by_group = {g: {"photos": int((groups == g).sum()), "right_share": round(float(y[groups == g].mean()), 4),
                    "right_share_when_share_above_0.99": round(float(y[(groups == g) & (share_top > 0.99)].mean()), 4)}
                for g in STARTER_COLLECTIONS}
    return {
        "about": "sigmoid(w0 + w1 * logit(share) + w2 * ln(coverage)) = P(the photo falls under the starter's first "
                 "class of its group); share: that class's part of the starter's probability for the group; "
                 "coverage: assets/naturalist_priors.json",
        "weights": [round(v, 4) for v in w], "groups": sorted(STARTER_COLLECTIONS),
        "fitted_on": ", ".join(f"{c} ({g})" for g, c in STARTER_COLLECTIONS.items()) + f": {len(y)} photos, the "
                     f"starter's first class right for {int(y.sum())}",
        "figures": {"right_share": round(float(y.mean()), 4), "by_group": by_group,
                    "mean_gate_right_same_photos": round(float(g_in[y == 1].mean()), 4),
                    "mean_gate_wrong_same_photos": round(float(g_in[y == 0].mean()), 4),
                    "mean_gate_right_cross_fitted_by_species": round(float(g_cross[y == 1].mean()), 4),
                    "mean_gate_wrong_cross_fitted_by_species": round(float(g_cross[y == 0].mean()), 4),
                    "alpha_it_replaces": "birds 0.0163, insects 0.0004 (assets/naturalist_priors.json)"},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--dry-run", action="store_true", help="print, write nothing")
    args = ap.parse_args()
    out = {"about": "naturalist's gate on each expert: sigmoid(a + b * logit(top probability)) = P(a species "
                    "the expert knows), and on the starter's classes of a group (starter); "
                    "scripts/fit_expert_gates.py", "date": _dt.date.today().isoformat(),
           "command": "python " + " ".join(shlex.quote(a) for a in sys.argv), "gates": {}}
    for name in COLLECTIONS:
        try:
            resolve(name, names_only=True)
        except Exception as e:  # not installed: nothing to fit
            print(f"{name}: skipped ({e})", file=sys.stderr)
            continue
        r = fit(name, args.data)
        out["gates"][name] = r
        print(name, json.dumps(r, indent=1))
    out["starter"] = fit_starter(args.data)
    print("starter", json.dumps(out["starter"], indent=1))
    if not args.dry_run:
        (REPO / GATES_FILE).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {GATES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
