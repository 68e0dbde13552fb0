"""`python -m inat evaluate`: how well a model names what is in real photos.

    python -m inat evaluate --model plants47 --data ../shared/data/inat21-plants47 --split val
    python -m inat evaluate --model inat2017-birds --data ../shared/data/birds525

On a split of the dataset a bundle was trained on (its category ids are the bundle's classes): top-1 /
top-5, accuracy per kingdom and phylum, the expected calibration error (15 equal bins of confidence)
and the species most often mistaken for one another. On any other labelled photos (`labels.csv`, or an
iNat split of species the model may not know): the open-world figures of `open_world`. Photos go
through the `Predictor`, so evaluation sees exactly what `predict` and the app see.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np

from ..core.record import Identification
from ..core.taxonomy import RANKS
from ..identify.predict import Predictor
from ..models.bundle import Bundle
from ..naturalist.router_groups import group_of
from .calibration import expected_calibration_error, reliability
from .data import DatasetError, load_split
from .labelled import LABELS_CSV, LabelledPhoto, read_labelled

TOP_CONFUSED = 10


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
        "reliability": reliability(confidence, top1),
        "per_kingdom": _group_accuracy(kingdoms, top1, top5),
        "per_phylum": {ph: {"kingdom": k, **v} for (k, ph), v in per_phylum.items()},
        "confused_pairs": [{"true": _species(taxa[t]), "predicted": _species(taxa[p]), "count": c}
                           for (t, p), c in confused[:top]],
    }


def _binomial(name: str | None) -> str | None:
    words = (name or "").split()
    return f"{words[0]} {words[1]}" if len(words) >= 2 else None


def species_names(taxon) -> set[str]:
    """The binomials a class answers to: its scientific name's and its lineage's (a breed → its species)."""
    lineage = dict(taxon.lineage())
    return {n for n in (_binomial(taxon.scientific_name) if taxon.rank in ("species", "subspecies") else None,
                        lineage.get("species")) if n}


def known_species(classes) -> dict[str, dict | None]:
    """Each binomial a model's classes answer to (`species_names`) → that class's lineage in the model's taxonomy
    (None when two classes answering to it disagree). A photo labelled with an older name of a species the model
    knows ("Charadrius nivosus", now "Anarhynchus nivosus") is judged in both taxonomies by `open_world`."""
    out: dict[str, dict | None] = {}
    for t in classes:
        lineage = dict(t.lineage())
        for name in species_names(t):
            out[name] = lineage if out.get(name, lineage) == lineage else None
    return out


def species_fold(photo: LabelledPhoto, folds: int = 2) -> int:
    """The fold of a photo when fitting is cross-fitted by species: every photo of one species (else of one common
    name, else of one deepest known taxon) lands in the same fold, the same on every machine and run."""
    key = photo.species or photo.common_name or next((photo.lineage[r] for r in reversed(RANKS) if
                                                      photo.lineage.get(r)), "") or ""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % folds


USEFUL_RANKS = ("genus", "species")   # a "pretty sure" taxon this deep names the organism


def claim_wrong(ancestor: dict, photo: LabelledPhoto, known: dict[str, dict | None]) -> bool | None:
    """Whether a "pretty sure" taxon (a record's `ancestor`) is wrong for `photo`: any claim about a photo of no
    organism is; one about an organism is right when it names the truth's taxon at that rank in the photo's
    labels or, for a species in `known` (`known_species`), in the model's taxonomy. None: the truth's rank is unknown."""
    if not photo.organism:
        return True
    theirs = known.get(photo.species) if photo.species else None
    truth = {photo.lineage.get(ancestor["rank"]), (theirs or {}).get(ancestor["rank"])} - {None}
    return ancestor["name"] not in truth if truth else None


def truth_group(photo: LabelledPhoto) -> str:
    """The router group a photo belongs to (inat.naturalist.groups: plants, birds, insects, fungi, other_organism, not_organism)."""
    return group_of(photo.lineage) if photo.organism else "not_organism"


def open_world(records: list[Identification], truths: list[LabelledPhoto], known: dict[str, dict | None]) -> dict:
    """What a naturalist judges, over photos the model may or may not know.

    `known`: the species binomials the model has, with its lineage of each (`known_species`; a claim in the
    model's taxonomy about a species it knows is not wrong because the photo's labels use an older name). Returns
      n             photos measured (unreadable ones left out)
      kingdom_ok    share of organism photos with a known kingdom whose top-1 is in that kingdom
      claims        share of photos with an ancestor (iNat's "pretty sure" taxon)
      wrong_claims  share of photos whose ancestor is not the truth's taxon at that rank, counted where the
                    truth's rank is known (`claim_wrong`)
      useful        share of photos whose ancestor is at genus or species rank and right: a name a naturalist
                    can use (the other side of wrong_claims: saying "a plant" for everything makes none)
      n_known, top1, top5, ece   over the photos whose species the model has
      group_acc     share of photos routed to their group (None for a model without a router)
    """
    pairs = [(r, t) for r, t in zip(records, truths) if not r.error]
    n = len(pairs)
    with_kingdom = [(r, t) for r, t in pairs if t.organism and t.lineage.get("kingdom")]
    kingdom_ok = sum(r.top.taxon.taxonomy.get("kingdom") == t.lineage["kingdom"] for r, t in with_kingdom)
    claims = wrong = useful = 0
    for r, t in pairs:
        a = r.ancestor
        if a is None:
            continue
        claims += 1
        verdict = claim_wrong(a, t, known)
        wrong += bool(verdict)
        useful += verdict is False and a["rank"] in USEFUL_RANKS
    hits1, hits5, conf = [], [], []
    for r, t in pairs:
        if t.species is None or t.species not in known:
            continue
        names = [species_names(p.taxon) for p in r.predictions]
        hits1.append(t.species in names[0])
        hits5.append(any(t.species in x for x in names[:5]))
        conf.append(r.top.probability)
    routed = [(r, t) for r, t in pairs if r.groups]
    return {
        "n": n,
        "kingdom_ok": kingdom_ok / len(with_kingdom) if with_kingdom else None,
        "claims": claims / n if n else 0.0,
        "wrong_claims": wrong / n if n else 0.0,
        "useful": useful / n if n else 0.0,
        "n_known": len(hits1),
        "top1": float(np.mean(hits1)) if hits1 else None,
        "top5": float(np.mean(hits5)) if hits5 else None,
        "ece": expected_calibration_error(conf, hits1) if hits1 else None,
        "reliability": reliability(conf, hits1) if hits1 else [],
        "group_acc": (sum(max(r.groups, key=r.groups.get) == truth_group(t) for r, t in routed) / len(routed)
                      if routed else None),
    }


def evaluate_labelled(model, data_dir, split: str = "val", batch_size: int = 32, predictor=None,
                      truths: list[LabelledPhoto] | None = None, names: dict[str, str] | None = None) -> dict:
    """Open-world figures (`open_world`) of a model on labelled photos (`labels.csv` or an iNat split)."""
    predictor = predictor or Predictor(model)
    truths = truths if truths is not None else read_labelled(data_dir, split, names)
    records = predictor.predict([str(t.path) for t in truths], k=5, batch_size=batch_size)
    known = known_species(predictor.classes)
    out = {"model": predictor.name, "data": str(data_dir), "split": None if (Path(data_dir) / LABELS_CSV).is_file()
           else split}
    out.update(open_world(records, truths, known))
    out["errors"] = sum(1 for r in records if r.error)
    return out


def evaluate_bundle(model, data_dir, split: str, batch_size: int = 32, predictor=None) -> dict:
    """Evaluate a bundle (name, path or Bundle) on `split` of the iNat 2021 dataset it was trained on.

    Returns `metrics(...)` plus the open-world figures (`open_world`: kingdom_ok, claims, wrong_claims,
    group_acc), "model", "data", "split" and "errors" (photos that could not be read, left out of n).
    Raises DatasetError when the split has species the model does not know.
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
    truths = [LabelledPhoto(path, split_data.taxa[t].scientific_name, split_data.taxa[t].common_name,
                            dict(split_data.taxa[t].lineage())) for path, t in split_data.samples]
    world = open_world(results, truths, {})
    out.update({k: world[k] for k in ("kingdom_ok", "claims", "wrong_claims", "group_acc")})
    out["errors"] = errors
    return out


def evaluate(model, data_dir, split: str = "val", batch_size: int = 32, predictor=None,
             names: dict[str, str] | None = None) -> dict:
    """`evaluate_bundle` on a split of the model's own dataset, else `evaluate_labelled`."""
    predictor = predictor or Predictor(model)
    if not (Path(data_dir) / LABELS_CSV).is_file() and isinstance(predictor.bundle, Bundle):
        try:
            return evaluate_bundle(model, data_dir, split, batch_size, predictor)
        except DatasetError as e:
            if "categories not among" not in str(e):
                raise
    return evaluate_labelled(model, data_dir, split, batch_size, predictor, names=names)


def _pct(x) -> str:
    return "   —  " if x is None else f"{100 * x:5.1f} %"


def format_evaluation(r: dict) -> str:
    """The evaluation as a readable table."""
    head = f"{r['model']} on {r['data']}" + (f" ({r['split']})" if r.get("split") else "") + f": {r['n']} photos"
    lines = [head + (f", {r['errors']} unreadable" if r.get("errors") else "")]
    if "per_kingdom" not in r:  # open world
        ece = "—" if r["ece"] is None else f"{r['ece']:.3f}"
        lines += [f"  species the model knows: {r['n_known']} photos   top-1 {_pct(r['top1'])}   top-5 {_pct(r['top5'])}"
                  f"   ECE {ece}",
                  f"  top-1 in the right kingdom {_pct(r['kingdom_ok'])}   'pretty sure' claims {_pct(r['claims'])}"
                  f"   wrong claims {_pct(r['wrong_claims'])}   router group {_pct(r['group_acc'])}"]
        return "\n".join(lines)
    lines += [f"  top-1 {100 * r['top1']:5.1f} %   top-5 {100 * r['top5']:5.1f} %   ECE {r['ece']:.3f}   "
              f"'pretty sure' claims {_pct(r['claims'])}   wrong claims {_pct(r['wrong_claims'])}", "",
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
