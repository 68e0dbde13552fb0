"""iNaturalist 2021 datasets on disk, in both layouts we meet.

    official release                      torchvision's `INaturalist(version="2021_*")`
    DIR/train_mini.json + train_mini/...  DIR/2021_train_mini/<folder>/<image>.jpg
    DIR/val.json        + val/...         DIR/2021_valid/<folder>/<image>.jpg
    DIR/train.json      + train/...       DIR/2021_train/<folder>/<image>.jpg

A split is named the official way ("train_mini", "val", "train"); `SPLIT_FOLDERS` maps the name to
torchvision's folder. Category ids may be sparse (a subset of the 10,000 classes): classes are
indexed contiguously in id order, and the real ids travel in each `Taxon.class_id`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..core.images import open_image
from ..core.taxonomy import Taxon, from_folder_names, from_inat_json

# Official split name → torchvision's folder name for it.
SPLIT_FOLDERS = {"train_mini": "2021_train_mini", "val": "2021_valid", "train": "2021_train"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


class DatasetError(ValueError):
    """A dataset folder we cannot read; the message is one line naming what is missing."""


@dataclass
class Split:
    """One split of a dataset: labelled image paths and the taxa its labels index into."""

    name: str
    root: Path
    layout: str                       # "json" (official release) or "folders" (torchvision)
    samples: list[tuple[Path, int]]   # (image path, contiguous class index)
    taxa: list[Taxon]                 # class index → taxon (class_id is the dataset's category id)

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def targets(self) -> list[int]:
        return [t for _, t in self.samples]


def split_source(data_dir, split: str) -> tuple[str, Path]:
    """Where `split` lives in `data_dir`: ("json", DIR/split.json) or ("folders", DIR/2021_xxx).

    The annotation file wins when both exist. Raises DatasetError naming what was looked for.
    """
    data_dir = Path(data_dir)
    ann = data_dir / f"{split}.json"
    if ann.is_file():
        return "json", ann
    folder = data_dir / SPLIT_FOLDERS.get(split, split)
    if folder.is_dir():
        return "folders", folder
    raise DatasetError(f"{data_dir}: no split {split!r} (looked for {ann.name} and {folder.name}/)")


def split_taxa(data_dir, split: str) -> list[Taxon]:
    """The taxa of one split, sorted by category id (cheap: reads categories or folder names only)."""
    layout, src = split_source(data_dir, split)
    if layout == "json":
        return from_inat_json(src)
    return from_folder_names(p.name for p in src.iterdir() if p.is_dir())


def load_split(data_dir, split: str, taxa: list[Taxon] | None = None) -> Split:
    """The labelled images of `split`.

    `taxa` fixes the class index order (pass the training split's taxa when loading validation, so
    both agree); by default it is the split's own categories. An image whose category is not among
    `taxa` raises DatasetError: silently dropping it would inflate accuracy.
    """
    data_dir = Path(data_dir)
    layout, src = split_source(data_dir, split)
    own = split_taxa(data_dir, split)
    taxa = list(taxa) if taxa is not None else own
    index = {t.class_id: i for i, t in enumerate(taxa)}
    if layout == "json":
        ann = json.loads(src.read_text(encoding="utf-8"))
        files = {im["id"]: im["file_name"] for im in ann["images"]}
        pairs = [(data_dir / files[a["image_id"]], int(a["category_id"])) for a in ann["annotations"]]
    else:
        pairs = []
        for folder in (p for p in src.iterdir() if p.is_dir()):
            cid = int(folder.name.split("_", 1)[0])
            pairs += [(f, cid) for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES]
    unknown = sorted({cid for _, cid in pairs if cid not in index})
    if unknown:
        raise DatasetError(f"{src}: {len(unknown)} categories not among the model's classes (e.g. id {unknown[0]})")
    samples = sorted(((p, index[cid]) for p, cid in pairs), key=lambda s: str(s[0]))
    return Split(split, data_dir, layout, samples, taxa)


class ImageDataset:
    """A torch-style dataset over a Split: (transformed image, class index) pairs.

    Photos are read with `open_image` (EXIF orientation, any mode → RGB) and, for JPEGs, decoded at a
    reduced scale no smaller than `draft_size` when given; training loses nothing by it since the
    transform resizes further anyway.
    """

    def __init__(self, split: Split, transform, draft_size: int | None = None):
        self.split, self.transform, self.draft_size = split, transform, draft_size

    def __len__(self) -> int:
        return len(self.split.samples)

    def __getitem__(self, i: int):
        path, target = self.split.samples[i]
        return self.transform(open_image(path, draft_size=self.draft_size)), target
