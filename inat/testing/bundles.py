"""Fake bundles for tests and benchmarks: real architectures with tiny heads and inputs, saved like any bundle.

    make_bundle(folder, ...)   a saved bundle; `probs=` makes its output the same for every photo
    copy_bundle(src, dst)      a copy of a bundle folder, its exports left out on request
    app_weights(root)          weights/ and runs/ folders the app's tests and benchmarks serve
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from ..core.taxonomy import Taxon, parse_folder_name

# -- the fake bundle -------------------------------------------------------------------------------
FOLDERS = [
    "00000_Animalia_Annelida_Clitellata_Haplotaxida_Lumbricidae_Lumbricus_terrestris",
    "03111_Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_corax",
    "03112_Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_brachyrhynchos",
    "05889_Plantae_Tracheophyta_Liliopsida_Asparagales_Asparagaceae_Chlorogalum_pomeridianum",
]
TAXA = [parse_folder_name(f) for f in FOLDERS]  # the default classes of make_bundle


def _felid(class_id, sci, common, kingdom, phylum, klass, order, family, taxon_id=None):
    genus, epithet = sci.split()
    return Taxon(class_id, sci, common, "species", {
        "kingdom": kingdom, "phylum": phylum, "class": klass, "order": order, "family": family,
        "genus": genus, "specific_epithet": epithet}, taxon_id)


# The app's test classes; with FELID_PROBS every number on its card is known in advance: the top species
# is below 70 %, genus Panthera reaches 75 %, so "We're pretty sure this is in genus Panthera".
FELIDS = [
    _felid(101, "Panthera leo", "Lion", "Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae", 41964),
    _felid(102, "Panthera pardus", "Leopard", "Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae"),
    _felid(103, "Felis catus", "Domestic cat", "Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae"),
    _felid(200, "Quercus robur", "English oak", "Plantae", "Tracheophyta", "Magnoliopsida", "Fagales", "Fagaceae"),
]
FELID_PROBS = [0.40, 0.35, 0.20, 0.05]


def make_bundle(folder, *, arch: str = "efficientnet_lite0", classes=None, size: int = 32, seed: int = 0,
                probs=None, preprocess=None, half: bool | None = None, **fields):
    """Save a bundle with a real `arch` into `folder` and return it (its `path` set).

    Random weights (seeded) over `classes` (default TAXA) at a `size`-pixel input. With `probs`, the head's
    weights are zero and its biases log(probs): the softmax is `probs` whatever the photo, and outputs
    beyond the classes are out-of-scope ones (pass in_scope_threshold=). Weights are fp16 on disk like
    every saved bundle, fp32 when `probs` is given (so its probabilities are exact). `fields` go to Bundle.
    """
    import torch

    from inat.core.preprocess import Preprocess
    from inat.models.architectures import get_spec
    from inat.models.bundle import Bundle, save_bundle
    classes = list(TAXA if classes is None else classes)
    outputs = len(probs) if probs is not None else len(classes)
    state = dict(_random_state(arch, outputs, seed))
    if probs is not None:
        head = get_spec(arch).head
        state[f"{head}.weight"] = torch.zeros_like(state[f"{head}.weight"])
        state[f"{head}.bias"] = torch.log(torch.tensor(probs, dtype=torch.float32))
    bundle = Bundle(name=fields.pop("name", Path(folder).name), arch=arch, classes=classes,
                    preprocess=preprocess or Preprocess(input_size=size), num_outputs=outputs, **fields)
    save_bundle(bundle, folder, state, half=(probs is None) if half is None else half)
    return bundle


@functools.lru_cache(maxsize=16)
def _random_state(arch: str, outputs: int, seed: int) -> dict:
    """The state dict of a freshly made `arch` (seeded): made once per session, saved by many bundles."""
    import torch

    from inat.models.architectures import create_model
    torch.manual_seed(seed)
    return create_model(arch, outputs).state_dict()


def copy_bundle(src, dst, *, exports: bool = True) -> Path:
    """A copy of bundle folder `src` at `dst` (its ONNX exports left out unless `exports`); returns `dst`."""
    import shutil
    shutil.copytree(src, dst, ignore=None if exports else shutil.ignore_patterns("*.onnx"))
    return Path(dst)


HISTORY = [
    {"epoch": e, "train_loss": 3.0 - 0.5 * e, "train_top1": 0.2 * e, "val_loss": 3.2 - 0.4 * e,
     "val_top1": 0.15 * e, "val_top5": 0.3 * e, "lr": 0.01, "seconds": 60.0, "images_per_s": 100.0}
    for e in (1, 2, 3)]


def app_weights(root: Path) -> tuple[Path, Path]:
    """weights/ with `felids` (the default, FELID_PROBS) and `scoped` (the felids plus one out-of-scope output
    holding 90 %), and runs/ with one weights-less run record. Returns (weights, runs)."""
    root = Path(root)
    weights, runs = root / "weights", root / "runs"
    common = dict(classes=FELIDS, run={"init": "imagenet", "dataset": "test", "img_size": 32, "epochs": 3},
                  provenance={"made_by": "inat/testing/bundles.py"}, metrics={"val_top1": 0.5})
    make_bundle(weights / "felids", probs=FELID_PROBS, default=True, history=list(HISTORY), **common)
    make_bundle(weights / "scoped", probs=[p * 0.1 for p in FELID_PROBS] + [0.9], in_scope_threshold=0.5, **common)
    (runs / "resnet_run").mkdir(parents=True)
    (runs / "resnet_run" / "bundle.json").write_text(json.dumps({
        "format": "inat-bundle", "name": "resnet_run", "arch": "resnet50", "run": {"init": "scratch",
        "img_size": 160, "epochs": 3, "seconds": 5400}, "history": [
            {**h, "train_top1": h["train_top1"] / 3, "val_top1": h["val_top1"] / 2} for h in HISTORY]}))
    return weights, runs
