"""inat.training.data: both iNat 2021 layouts, sparse ids, split names, and the dataset of model inputs."""
import json

import pytest
import torch
from conftest import SPECIES
from PIL import Image

from inat.core.preprocess import Preprocess, eval_transform
from inat.training.data import DatasetError, ImageDataset, load_split, split_source, split_taxa


def test_split_names_map_to_either_layout(tiny_inat, tiny_inat_torchvision):
    assert split_source(tiny_inat, "val") == ("json", tiny_inat / "val.json")
    assert split_source(tiny_inat_torchvision, "val") == ("folders", tiny_inat_torchvision / "2021_valid")
    assert split_source(tiny_inat_torchvision, "train_mini")[1].name == "2021_train_mini"
    with pytest.raises(DatasetError, match="train.json"):
        split_source(tiny_inat, "train")


@pytest.mark.parametrize("layout", ["official", "torchvision"])
def test_sparse_ids_become_contiguous_indices_in_id_order(layout, tiny_inat, tiny_inat_torchvision):
    root = tiny_inat if layout == "official" else tiny_inat_torchvision
    split = load_split(root, "train_mini")
    assert [t.class_id for t in split.taxa] == sorted(s[0] for s in SPECIES)  # 143, 2780, 5411, 9947
    assert len(split) == 6 * len(SPECIES)
    assert sorted(set(split.targets)) == list(range(len(SPECIES)))
    for path, target in split.samples:  # each photo lies in its own species' folder
        assert path.is_file()
        assert path.parent.name.startswith(f"{split.taxa[target].class_id:05d}_")
    rose = split.taxa[3]
    assert (rose.scientific_name, rose.taxonomy["kingdom"], rose.taxonomy["family"]) == \
        ("Rosa californica", "Plantae", "Rosaceae")


def test_both_layouts_agree(tiny_inat, tiny_inat_torchvision):
    a, b = load_split(tiny_inat, "val"), load_split(tiny_inat_torchvision, "val")
    assert [t.class_id for t in a.taxa] == [t.class_id for t in b.taxa]
    assert [t.scientific_name for t in a.taxa] == [t.scientific_name for t in b.taxa]
    assert sorted((p.name, t) for p, t in a.samples) == sorted((p.name, t) for p, t in b.samples)
    assert a.taxa[0].common_name == "Monarch" and b.taxa[0].common_name is None  # folders carry no common names


def test_validation_uses_the_training_class_order(tiny_inat, tmp_path):
    taxa = split_taxa(tiny_inat, "train_mini")
    assert load_split(tiny_inat, "val", taxa).taxa == taxa
    # A val image of a species the model was not trained on is an error, never silently dropped.
    with pytest.raises(DatasetError, match="not among"):
        load_split(tiny_inat, "val", taxa[:3])


def test_the_tiny_dataset_labels_every_species(tiny_inat):
    # Every training test relies on it: a photo's category is the species whose folder holds it.
    for split in ("train_mini", "val"):
        ann = json.loads((tiny_inat / f"{split}.json").read_text())
        folder_id = {c["image_dir_name"]: c["id"] for c in ann["categories"]}
        by_image = {a["image_id"]: a["category_id"] for a in ann["annotations"]}
        assert all(by_image[im["id"]] == folder_id[im["file_name"].split("/")[1]] for im in ann["images"]), split
        assert len(set(by_image.values())) == len(SPECIES)


def test_file_names_are_relative_to_the_data_dir(tiny_inat):
    ann = json.loads((tiny_inat / "val.json").read_text())
    first = ann["images"][0]["file_name"]
    assert first.startswith("val/")
    split = load_split(tiny_inat, "val")
    assert tiny_inat / first in {p for p, _ in split.samples}


def test_image_dataset_yields_model_inputs(tiny_inat):
    pre = Preprocess(input_size=32)
    ds = ImageDataset(load_split(tiny_inat, "val"), eval_transform(pre))
    x, y = ds[0]
    assert isinstance(x, torch.Tensor) and x.shape == (3, 32, 32) and isinstance(y, int)
    assert len(ds) == 12


def test_image_dataset_decodes_jpegs_at_a_reduced_scale(tiny_inat):
    seen = []
    ds = ImageDataset(load_split(tiny_inat, "val"), lambda im: seen.append(im.size) or im.size, draft_size=16)
    ds[0]
    # The tiny photos are 40-80 px: JPEG draft decoding shrinks them, never below 16 px a side.
    w, h = seen[0]
    original = Image.open(ds.split.samples[0][0]).size
    assert (w, h) != original and min(w, h) >= 16


@pytest.mark.shared
def test_plants47(plants47):
    taxa = split_taxa(plants47, "train_mini")
    ids = [t.class_id for t in taxa]
    assert len(taxa) == 47 and ids == sorted(ids) and (ids[0], ids[-1]) == (5889, 9947)
    assert len(load_split(plants47, "train_mini", taxa)) == 1395
    assert len(load_split(plants47, "val", taxa)) == 470
