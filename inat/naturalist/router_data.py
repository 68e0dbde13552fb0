"""The router's labelled photos: each collection of ../shared/data as (file, group, species) rows.

    plants47_train   inat21-plants47 train_mini        plants    species = iNat 2021 category id
    plants47_val     inat21-plants47 val (held out)     plants
    flowers102       flowers102/labels.csv              plants    species = the flower kind (folder)
    birds525         birds525/labels.csv                birds     species = scientific name
    butterflies100   butterflies100/labels.csv          insects   species = common name
    imagenet         imagenet-samples/labels.csv        the starter taxonomy's group of the ImageNet
                                                        class, not_organism outside it; species = class
    others           others/labels.csv                  fungi (7 mushrooms) and other_organism (10
                                                        primates), by their lineage; species = scientific name

`species` is what held-out folds keep together, so a measured photo's species was never trained on.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from ..models.starter import starter_classes
from .router_groups import group_of

COLLECTIONS = ("plants47_train", "plants47_val", "flowers102", "birds525", "butterflies100", "imagenet", "others")
TAXONOMY_KEYS = ("kingdom", "phylum", "class", "order", "family", "genus")


@dataclass(frozen=True)
class Photo:
    file: Path
    group: str
    species: str   # collection-qualified, so two collections never share a fold key by accident


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _inat_split(root: Path, split: str, name: str) -> list[Photo]:
    meta = json.loads((root / f"{split}.json").read_text(encoding="utf-8"))
    cats = {c["id"]: c for c in meta["categories"]}
    label = {a["image_id"]: a["category_id"] for a in meta["annotations"]}
    return [Photo(root / im["file_name"], group_of(cats[label[im["id"]]]), f"{name}:{label[im['id']]}")
            for im in meta["images"]]


def _labels_csv(root: Path, name: str, species_of) -> list[Photo]:
    return [Photo(root / r["file"], group_of({k: r.get(k) or None for k in TAXONOMY_KEYS}),
                  f"{name}:{species_of(r)}") for r in _read_csv(root / "labels.csv")]


def _imagenet(root: Path) -> list[Photo]:
    taxa = {t.class_id: t.taxonomy for t in starter_classes()}
    return [Photo(root / r["file"], group_of(taxa.get(int(r["index"]))), f"imagenet:{int(r['index'])}")
            for r in _read_csv(root / "labels.csv")]


def load_collection(data: Path, name: str) -> list[Photo]:
    """The labelled photos of one collection under `data` (../shared/data); ValueError if it is missing."""
    data = Path(data)
    readers = {
        "plants47_train": lambda: _inat_split(data / "inat21-plants47", "train_mini", "plants47"),
        "plants47_val": lambda: _inat_split(data / "inat21-plants47", "val", "plants47"),
        "flowers102": lambda: _labels_csv(data / "flowers102", "flowers102", lambda r: Path(r["file"]).parent.name),
        "birds525": lambda: _labels_csv(data / "birds525", "birds525",
                                        lambda r: r["scientific_name"] or r["common_name"]),
        "butterflies100": lambda: _labels_csv(data / "butterflies100", "butterflies100", lambda r: r["common_name"]),
        "imagenet": lambda: _imagenet(data / "imagenet-samples"),
        "others": lambda: _labels_csv(data / "others", "others", lambda r: r["scientific_name"]),
    }
    if name not in readers:
        raise ValueError(f"unknown collection {name!r}; choose from {', '.join(COLLECTIONS)}")
    try:
        return readers[name]()
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(f"{name}: cannot read its labels under {data} ({e.__class__.__name__}: {e})") from None
