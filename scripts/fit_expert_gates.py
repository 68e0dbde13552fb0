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
Since 2026-12-06 every expert naturalist uses is fitted the same way, whatever it is (a downloaded iNat 2017
expert or any bundle whose scope names a group, plants47 among them): on the labelled photos of its group in
PHOTOS that it never trained on, a photo counting as "known" when its species is one of the expert's. The
starter's gate is fitted on its first class of every group, over every organism collection (birds525,
butterflies100, flowers102, plants47 val, others, the ImageNet organism photos). Folds are by species
(`inat.training.evaluate.species_fold`); each gate is also fitted once per fold without that fold's species
(`cross_fitted`), so benchmarks/open_world.py can measure naturalist on species its gates never saw.
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

from inat.core.probability import calibrated, logit, sigmoid  # noqa: E402
from inat.core.rollup import TaxonTree  # noqa: E402
from inat.core.taxonomy import Taxon  # noqa: E402
from inat.naturalist.assemble import naturalist  # noqa: E402
from inat.naturalist.ensemble import DEFAULT_COVERAGE, UNNAMED, first_taxon, known_species_gate, starter_class_gate
from inat.naturalist.router_groups import group_of  # noqa: E402
from inat.training.calibration import photo_logits  # noqa: E402
from inat.training.evaluate import claim_wrong, known_species, species_fold, species_names  # noqa: E402
from inat.training.labelled import read_imagenet_samples, read_inat_split, read_labels_csv, read_names  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
GATES_FILE = "assets/expert_gates.json"
# The labelled photos the gates are fitted on: collection → (names file or None, whether every photo of it is known
# to show one species). BUTTERFLIES-100 names its species by common name only; the 49 that
# scripts/match_datasets_to_experts.py found among the insect expert's species are in the names file, and the other
# 51 count as species the expert does not know. plants47 is its val split (its train_mini trained plants47).
PHOTOS = {"birds525": ("assets/experts/birds525-inat2017-birds.tsv", False),
          "butterflies100": ("assets/experts/butterflies100-inat2017-insects.tsv", True),
          "flowers102": (None, False), "plants47": (None, True), "others": (None, True), "imagenet-samples": (None, True)}
FOLDS = 2
MIN_GENUS_PHOTOS = 50   # a genus gate needs this many photos of genera the expert knows and of genera it does not


def labelled_photos(data: Path) -> list[tuple[str, object, bool]]:
    """(collection, LabelledPhoto, one species throughout) for every organism photo of PHOTOS that is present."""
    out = []
    for name, (names_file, all_species) in PHOTOS.items():
        folder = data / ("inat21-plants47" if name == "plants47" else name)
        if not folder.is_dir():
            print(f"{folder}: absent, skipped", file=sys.stderr)
            continue
        if name == "plants47":
            photos = read_inat_split(folder, "val")
        elif name == "imagenet-samples":
            photos = read_imagenet_samples(folder)[0]
        else:
            photos = read_labels_csv(folder, read_names(REPO / names_file) if names_file else None)
        out += [(name, t, all_species) for t in photos if t.organism]
    return out


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
    """claims / wrong_claims / useful claims of the expert alone, its species scaled by the gate `g` and the rest
    given to its group ("a bird"), as naturalist's roll-up counts them."""
    unnamed = UNNAMED[group]
    rank = next(r for r in ("class", "phylum", "kingdom") if r in unnamed)
    taxa = list(bundle.classes) + [Taxon(-1, unnamed[rank], None, rank, dict(unnamed))]
    tree = TaxonTree(taxa)
    known = known_species(bundle.classes)
    made = wrong = useful = 0
    for i, t in enumerate(truths):
        probs = np.append(g[i] * q[i], 1 - g[i])
        a = tree.ancestor(probs)
        if a is None:
            continue
        made += 1
        verdict = claim_wrong(a, t, known)
        wrong += bool(verdict)
        useful += verdict is False and a["rank"] in ("genus", "species")
    n = len(truths)
    return {"claims": round(made / n, 4), "wrong_claims": round(wrong / n, 4), "useful": round(useful / n, 4)}


def cross_fit(fit_one, x: np.ndarray, y: np.ndarray, folds: np.ndarray, usable: np.ndarray) -> dict[str, list]:
    """fold → the parameters fitted without that fold's species (applied to that fold's photos)."""
    return {str(f): [round(v, 4) for v in fit_one(x[usable & (folds != f)], y[usable & (folds != f)])]
            for f in range(FOLDS)}


def fit(group: str, bundle, photos) -> dict:
    """The known-species gate of `bundle`, the expert of `group`, on the photos of that group in `photos`."""
    rows = [(c, t, one) for c, t, one in photos if group_of(t.lineage) == group]
    truths = [t for _, t, _ in rows]
    logits, kept = photo_logits(bundle, [t.path for t in truths])
    rows, truths = [rows[i] for i in kept], [truths[i] for i in kept]
    q = calibrated(logits, bundle.calibration)[:, bundle.output_index]
    q = q / q.sum(axis=1, keepdims=True)                                   # P_E(s | not background)
    top = q.max(axis=1)
    x = logit(top)                      # the gate's input, as known_species_gate reads it
    known_names = set().union(*(species_names(t) for t in bundle.classes))
    known_genera = {n.split()[0] for n in known_names}
    y = np.asarray([t.species in known_names for t in truths], dtype=float)
    # A truth above species is neither known nor not, unless the collection is of one species throughout, or its
    # genus holds none of the expert's species.
    sure = np.asarray([bool(one or t.species is not None or (t.lineage.get("genus") and t.lineage["genus"] not in
                                                              known_genera)) for _, t, one in rows])
    a, b = fit_logistic(x[sure], y[sure])
    folds = np.asarray([species_fold(t, FOLDS) for t in truths])
    crossed = cross_fit(fit_logistic, x, y, folds, sure)
    g_cross = np.zeros(len(truths))
    for f, (af, bf) in crossed.items():
        g_cross[folds == int(f)] = known_species_gate(top[folds == int(f)], af, bf)
    g_in = known_species_gate(top, a, b)
    top1 = q.argmax(axis=1)
    right = np.asarray([t.species in species_names(bundle.classes[j]) for t, j in zip(truths, top1)])
    collections = sorted({c for c, _, _ in rows})
    return {
        "group": group, "a": round(a, 4), "b": round(b, 4), "temperature": bundle.temperature,
        "cross_fitted": crossed, **({"genus": genus} if (genus := fit_genus(bundle, q, truths, folds)) else {}),
        "fitted_on": f"{', '.join(collections)}: {int(sure.sum())} photos of the group whose species is known to us, "
                     f"{int(y.sum())} of species {bundle.name} knows", "known_share": round(float(y[sure].mean()), 4),
        "figures": {
            "no_gate": claims(bundle, group, q, np.ones(len(truths)), truths),
            "gate_same_photos": claims(bundle, group, q, g_in, truths),
            "gate_cross_fitted_by_species": claims(bundle, group, q, g_cross, truths),
            "known_top1": round(float(right[y == 1].mean()), 4) if y.any() else None,
            "mean_gate_of_unknown_species_cross_fitted": round(float(g_cross[sure & (y == 0)].mean()), 4),
            "mean_gate_of_known_species_cross_fitted": round(float(g_cross[y == 1].mean()), 4) if y.any() else None},
    }


def fit_genus(bundle, q: np.ndarray, truths, folds: np.ndarray) -> dict:
    """The expert's genus gate: P(the expert's first genus is the photo's), from that genus's probability (its
    species' probabilities summed by genus), fitted like the species gate on the photos whose genus is known to
    us. naturalist gives the expert's genera the gap between this gate and the species gate ("a Haliaeetus")."""
    genera = [t.taxonomy.get("genus") for t in bundle.classes]
    cols = {g: i for i, g in enumerate(dict.fromkeys(g for g in genera if g))}
    matrix = np.zeros((len(genera), len(cols)))
    for i, g in enumerate(genera):
        if g:
            matrix[i, cols[g]] = 1.0
    qg = q @ matrix
    top, first = qg.max(axis=1), qg.argmax(axis=1)
    x = logit(top)
    # The names a genus goes by: the expert's (iNaturalist's current) and its species' binomials' (BIRDS-525 labels
    # the Snowy Plover Charadrius, iNaturalist Anarhynchus).
    names = {i: {g} for g, i in cols.items()}
    for t, g in zip(bundle.classes, genera):
        if g:
            names[cols[g]] |= {n.split()[0] for n in species_names(t)}
    # y: the expert's first genus is the photo's: what a "pretty sure" genus claims.
    y = np.asarray([t.lineage.get("genus") in names[j] for t, j in zip(truths, first)], dtype=float)
    sure = np.asarray([bool(t.lineage.get("genus")) for t in truths])
    if min(y[sure].sum(), (1 - y[sure]).sum()) < MIN_GENUS_PHOTOS:
        # butterflies100 knows the genus only of the species the insect expert has: a gate fitted on known genera
        # alone would trust every genus it names. No genus gate is better than that one.
        return None
    a, b = fit_logistic(x[sure], y[sure])
    return {"a": round(a, 4), "b": round(b, 4), "cross_fitted": cross_fit(fit_logistic, x, y, folds, sure),
            "fitted_on": f"{int(sure.sum())} photos whose genus is known to us, {bundle.name}'s first genus right for "
                         f"{int(y[sure].sum())}", "right_share": round(float(y[sure].mean()), 4)}


def under(taxon, t) -> bool:
    """Whether the photo `t` shows something inside the starter class `taxon`'s taxon (unknown counts as no)."""
    if taxon.rank == "species":
        return t.species is not None and t.species in species_names(taxon)
    return bool(t.lineage.get(taxon.rank)) and t.lineage.get(taxon.rank) == taxon.scientific_name


def fit_starter(photos) -> dict:
    """naturalist's gate on the starter's classes inside a group: P(the photo falls under the starter's first
    class of the group), from that class's share of the starter's group probability and its coverage; fitted over
    the organism photos of every group (each photo in its true group)."""
    from inat.models.starter import starter_bundle
    bundle = starter_bundle()
    coverage = json.loads((REPO / "assets" / "naturalist_priors.json").read_text(encoding="utf-8"))["coverage"]
    rows = [(c, t) for c, t, _ in photos if group_of(t.lineage) in UNNAMED]
    logits, kept = photo_logits(bundle, [t.path for _, t in rows])
    rows = [rows[i] for i in kept]
    probs = calibrated(logits, bundle.calibration)[:, bundle.output_index]
    group_of_class = np.asarray([group_of(c.taxonomy) for c in bundle.classes])
    names: dict = {}
    taxon = np.asarray([names.setdefault(c.scientific_name, len(names)) for c in bundle.classes])
    cover = np.asarray([float(coverage.get(str(c.class_id), DEFAULT_COVERAGE)) for c in bundle.classes])
    share_top, cov_top, prob_top, y = [], [], [], []
    for (_, t), p in zip(rows, probs):
        cls = np.flatnonzero(group_of_class == group_of(t.lineage))
        within = p[cls][None, :]
        share = within / max(within.sum(), 1e-12)
        s_, c_, p_, first = first_taxon(share, within, taxon[cls], cover[cls])    # as naturalist computes them
        j = cls[first[0]]
        share_top.append(s_[0])
        cov_top.append(c_[0])
        prob_top.append(p_[0])
        y.append(under(bundle.classes[j], t))
    share_top, cov_top, prob_top = np.asarray(share_top), np.asarray(cov_top), np.asarray(prob_top)
    y = np.asarray(y, dtype=float)
    groups = np.asarray([group_of(t.lineage) for _, t in rows])
    x = np.stack([logit(share_top), np.log(cov_top), logit(prob_top)], axis=1)
    fitted_groups = sorted(set(groups))
    folds = np.asarray([species_fold(t, FOLDS) for _, t in rows])
    everyone = np.ones(len(y), bool)
    # One gate per group: how often the starter's first class is right differs by an order of magnitude between
    # groups (2 % of plants, 64 % of other organisms) at the same share and coverage, so one pooled gate
    # under-trusts its mammals and over-trusts its plants. The pooled gate stays as the fallback of a new group.
    w = fit_logistic_n(x, y)
    weights_of = {g: fit_logistic_n(x[groups == g], y[groups == g]) for g in fitted_groups}
    crossed = {str(f): {"weights": [round(v, 4) for v in fit_logistic_n(x[folds != f], y[folds != f])],
                        "by_group": {g: cross_fit(fit_logistic_n, x, y, folds, everyone & (groups == g))[str(f)]
                                     for g in fitted_groups}} for f in range(FOLDS)}
    g_cross, g_in = np.zeros(len(y)), np.zeros(len(y))
    for g in fitted_groups:
        for f in range(FOLDS):
            m = (groups == g) & (folds == f)
            g_cross[m] = starter_class_gate(share_top[m], cov_top[m], crossed[str(f)]["by_group"][g], prob_top[m])
        m = groups == g
        g_in[m] = starter_class_gate(share_top[m], cov_top[m], weights_of[g], prob_top[m])
    by_group = {g: {"photos": int((groups == g).sum()), "right_share": round(float(y[groups == g].mean()), 4),
                    "right_share_when_share_above_0.99": round(float(y[(groups == g) & (share_top > 0.99)].mean()), 4)
                    if ((groups == g) & (share_top > 0.99)).any() else None,
                    "mean_gate_right_cross_fitted": round(float(g_cross[(groups == g) & (y == 1)].mean()), 4)
                    if ((groups == g) & (y == 1)).any() else None,
                    "mean_gate_wrong_cross_fitted": round(float(g_cross[(groups == g) & (y == 0)].mean()), 4)}
                for g in fitted_groups}
    collections = sorted({c for c, _ in rows})
    return {
        "about": "sigmoid(w0 + w1 * logit(share) + w2 * ln(coverage)) = P(the photo falls under the starter's first "
                 "class of its group), with the weights of its group (by_group; weights: pooled, for a group without "
                 "its own); share: that class's part of the starter's probability for the group; "
                 "coverage: assets/naturalist_priors.json",
        "weights": [round(v, 4) for v in w], "groups": fitted_groups,
        "by_group": {g: [round(v, 4) for v in wg] for g, wg in weights_of.items()}, "cross_fitted": crossed,
        "fitted_on": f"{', '.join(collections)}: {len(y)} organism photos, the starter's first class of their group "
                     f"right for {int(y.sum())}",
        "figures": {"right_share": round(float(y.mean()), 4), "by_group": by_group,
                    "mean_gate_right_same_photos": round(float(g_in[y == 1].mean()), 4),
                    "mean_gate_wrong_same_photos": round(float(g_in[y == 0].mean()), 4),
                    "mean_gate_right_cross_fitted_by_species": round(float(g_cross[y == 1].mean()), 4),
                    "mean_gate_wrong_cross_fitted_by_species": round(float(g_cross[y == 0].mean()), 4)},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--dry-run", action="store_true", help="print, write nothing")
    args = ap.parse_args()
    if not (args.data / "birds525").is_dir():
        print(f"{args.data}: the real photos of ../shared/data are needed", file=sys.stderr)
        return 2
    out = {"about": "naturalist's gate on each expert: sigmoid(a + b * logit(top probability)) = P(a species "
                    "the expert knows), and on the starter's classes of a group (starter); cross_fitted: the same "
                    "fitted without the species of one fold (inat.training.evaluate.species_fold); scripts/fit_expert_gates.py",
           "date": _dt.date.today().isoformat(),
           "command": "python " + " ".join(shlex.quote(a) for a in sys.argv), "folds": FOLDS, "gates": {}}
    photos = labelled_photos(args.data)
    for group, bundle in naturalist().experts.items():   # every expert naturalist would use, whatever its origin
        r = fit(group, bundle, photos)
        out["gates"][bundle.name] = r
        print(bundle.name, json.dumps(r, indent=1), flush=True)
    out["starter"] = fit_starter(photos)
    print("starter", json.dumps(out["starter"], indent=1))
    if not args.dry_run:
        (REPO / GATES_FILE).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {GATES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
