"""Photos with the truth about them, for measuring a model in the open world.

Two layouts are read into one list of `LabelledPhoto`:
  - a folder with `labels.csv`: `file, common_name, scientific_name, kingdom, phylum, class, order, family,
    genus` (file relative to the folder; any field but `file` may be empty), the layout of the birds,
    butterflies and flowers collections;
  - a split of an iNat 2021 dataset (`inat.training.data`), whose categories carry the full lineage.
The truth may stop above species (butterflies known to order only, flowers to phylum) or be "not an
organism" (a photo of a building): the measures count a claim only where the truth's rank is known.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ..core.taxonomy import RANKS
from .data import DatasetError, load_split

LABELS_CSV = "labels.csv"
LINEAGE = ("kingdom", "phylum", "class", "order", "family", "genus")


@dataclass(frozen=True)
class LabelledPhoto:
    """One photo and what it shows: names and the lineage as far as it is known (rank → name)."""

    path: Path
    scientific_name: str | None = None
    common_name: str | None = None
    lineage: dict = field(default_factory=dict)   # rank (kingdom … species) → name; absent ranks are unknown
    organism: bool = True                         # False: the photo shows no organism (a tower, a car)

    @property
    def species(self) -> str | None:
        """The binomial 'Genus epithet' (a subspecies counts as its species), or None above species."""
        return self.lineage.get("species")


def truth_lineage(scientific_name: str | None, ranks: dict) -> dict:
    """rank → name from kingdom to genus as given, plus species from a binomial (or trinomial) name."""
    out = {r: str(ranks[r]).strip() for r in LINEAGE if ranks.get(r) and str(ranks[r]).strip()}
    words = (scientific_name or "").split()
    if len(words) >= 2 and words[0][:1].isupper() and words[1][:1].islower():
        out["species"] = f"{words[0]} {words[1]}"
        out.setdefault("genus", words[0])
    return out


def read_names(path: str | Path) -> dict[str, str]:
    """common name → scientific name from a tab-separated file with those two columns (others ignored)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows or not {"common_name", "scientific_name"} <= set(rows[0]):
        raise DatasetError(f"{path}: expected tab-separated columns common_name and scientific_name")
    return {r["common_name"].strip(): r["scientific_name"].strip() for r in rows if r["scientific_name"].strip()}


def read_labels_csv(folder: str | Path, names: dict[str, str] | None = None) -> list[LabelledPhoto]:
    """The photos listed in `folder/labels.csv`, in file order; DatasetError for a missing or malformed file.

    `names` (common name → scientific name, e.g. `read_names(...)`) gives or corrects the scientific name of
    the photos with that common name: a collection known by common names only, matched by hand to a model.
    """
    folder = Path(folder)
    names = names or {}
    f = folder / LABELS_CSV
    if not f.is_file():
        raise DatasetError(f"{folder}: no {LABELS_CSV} (columns file, common_name, scientific_name, kingdom … genus)")
    with open(f, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "file" not in rows[0]:
        raise DatasetError(f"{f}: no 'file' column")
    out = []
    for r in rows:
        common = (r.get("common_name") or "").strip() or None
        scientific = names.get(common or "") or (r.get("scientific_name") or "").strip() or None
        out.append(LabelledPhoto(folder / r["file"], scientific, common, truth_lineage(scientific, r)))
    return out


def read_inat_split(data_dir: str | Path, split: str) -> list[LabelledPhoto]:
    """The photos of one split of an iNat 2021 dataset, each with its category's full lineage."""
    data = load_split(data_dir, split)
    out = []
    for path, target in data.samples:
        t = data.taxa[target]
        out.append(LabelledPhoto(path, t.scientific_name, t.common_name,
                                 {r: n for r, n in t.lineage() if r in RANKS}))
    return out


def read_imagenet_samples(folder: str | Path) -> tuple[list[LabelledPhoto], list]:
    """A folder of ImageNet photos with `labels.csv` (index, wnid, name, file): (photos, the starter's class of
    each or None). An organism class gets the starter's taxonomy as its truth, any other is "no organism"."""
    from ..models.starter import starter_classes  # the starter's taxonomy of ImageNet's classes
    folder = Path(folder)
    taxa = {t.class_id: t for t in starter_classes()}
    out, classes = [], []
    with open(folder / LABELS_CSV, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            t = taxa.get(int(r["index"]))
            classes.append(t)
            if t is None:
                out.append(LabelledPhoto(folder / r["file"], organism=False))
            else:
                out.append(LabelledPhoto(folder / r["file"], t.scientific_name, t.common_name, dict(t.lineage())))
    return out, classes


def read_labelled(data_dir: str | Path, split: str = "val", names: dict[str, str] | None = None) -> list[LabelledPhoto]:
    """`labels.csv` when the folder has one (with `names`, see read_labels_csv), else `split` of an iNat 2021 dataset."""
    data_dir = Path(data_dir)
    if (data_dir / LABELS_CSV).is_file():
        return read_labels_csv(data_dir, names)
    return read_inat_split(data_dir, split)
