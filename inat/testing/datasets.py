"""Tiny iNat 2021 datasets on disk, in both layouts we meet, for tests and benchmarks."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np

# (id, folder-name taxonomy, common name, RGB colour of its photos)
SPECIES = [
    (143, "Animalia_Arthropoda_Insecta_Lepidoptera_Nymphalidae_Danaus_plexippus", "Monarch", (230, 120, 20)),
    (2780, "Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_corax", "Common Raven", (20, 20, 30)),
    (5411, "Fungi_Basidiomycota_Agaricomycetes_Agaricales_Amanitaceae_Amanita_muscaria", "Fly Agaric", (200, 30, 30)),
    (9947, "Plantae_Tracheophyta_Magnoliopsida_Rosales_Rosaceae_Rosa_californica", "California Wild Rose",
     (230, 150, 200)),
]
RANK_KEYS = ("kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet")
# split → (official folder, torchvision folder, photos per species)
SPLITS = {"train_mini": ("train_mini", "2021_train_mini", 6), "val": ("val", "2021_valid", 3)}


def _photo(colour, rng, size):
    from PIL import Image
    w, h = size
    base = np.array(colour, dtype=np.float32)
    pixels = base + rng.normal(0, 25, (h, w, 3))
    pixels[h // 3: 2 * h // 3, w // 3: 2 * w // 3] = 255 - base  # a centred "subject"
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def make_inat_dataset(root, layout: str = "official", species=SPECIES, splits=SPLITS, seed: int = 0) -> Path:
    """Write a tiny iNat 2021 dataset under `root` and return `root`.

    A few JPEGs per species, sparse category ids, real-looking folder names spanning three kingdoms, each
    species its own colour (so even a one-epoch model learns a bit). layout "official": `train_mini/`,
    `val/` with `train_mini.json`, `val.json` (file_name relative to root); "torchvision":
    `2021_train_mini/`, `2021_valid/` folders only.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    categories = []
    for cid, names, common, _ in species:
        ranks = names.split("_")
        categories.append({"id": cid, "name": f"{ranks[5]} {ranks[6]}", "common_name": common,
                           "supercategory": ranks[0], **dict(zip(RANK_KEYS, ranks)),
                           "image_dir_name": f"{cid:05d}_{names}"})
    image_id = 0
    for split, (official, tv_folder, per_species) in splits.items():
        images, annotations = [], []
        for (_, _, _, colour), cat in zip(species, categories):
            folder = root / (official if layout == "official" else tv_folder) / cat["image_dir_name"]
            folder.mkdir(parents=True, exist_ok=True)
            for _ in range(per_species):
                size = (int(rng.integers(40, 80)), int(rng.integers(40, 80)))
                name = f"{uuid.UUID(int=int(rng.integers(0, 2**62)))}.jpg"
                _photo(colour, rng, size).save(folder / name, quality=90)
                images.append({"id": image_id, "width": size[0], "height": size[1],
                               "file_name": f"{official}/{cat['image_dir_name']}/{name}"})
                annotations.append({"id": image_id, "image_id": image_id, "category_id": cat["id"]})
                image_id += 1
        if layout == "official":
            ann = {"info": {"description": f"synthetic iNat 2021-format test set, split {split}"},
                   "images": images, "annotations": annotations, "categories": categories}
            (root / f"{split}.json").write_text(json.dumps(ann), encoding="utf-8")
    return root
