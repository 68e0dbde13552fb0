"""inat.training.dataset_report: the thesis's table of a dataset by kingdom and phylum, and its command."""
import json

import pytest
from conftest import shared

from inat.cli.main import main
from inat.training.data import DatasetError
from inat.training.dataset_report import dataset_table, format_table


def test_table_from_either_layout(tiny_inat, tiny_inat_torchvision):
    for root in (tiny_inat, tiny_inat_torchvision):
        t = dataset_table(root)
        assert (t["train_split"], t["val_split"]) == ("train_mini", "val")
        assert t["total"] == {"species": 4, "train_images": 24, "val_images": 12}
        assert [(r["kingdom"], r["phylum"], r["species"], r["train_images"], r["val_images"]) for r in t["rows"]] == [
            ("Animalia", "Arthropoda", 1, 6, 3), ("Animalia", "Chordata", 1, 6, 3),
            ("Fungi", "Basidiomycota", 1, 6, 3), ("Plantae", "Tracheophyta", 1, 6, 3)]
        assert t["kingdoms"][0] == {"kingdom": "Animalia", "species": 2, "train_images": 12, "val_images": 6}


def test_text_table_indents_phyla_under_kingdoms(tiny_inat):
    lines = format_table(dataset_table(tiny_inat)).splitlines()
    assert lines[0] == f"{tiny_inat}  (train = train_mini, val = val)"
    animalia = lines.index(next(l for l in lines if l.startswith("Animalia")))
    assert lines[animalia + 1].startswith("  Arthropoda") and lines[animalia + 2].startswith("  Chordata")
    assert lines[-1].split() == ["total", "4", "24", "12"]


def test_a_missing_split_counts_nothing_and_no_split_is_an_error(tiny_inat, tmp_path):
    t = dataset_table(tiny_inat, val_split="test")
    assert t["total"] == {"species": 4, "train_images": 24, "val_images": 0}
    with pytest.raises(DatasetError, match="neither a training split"):
        dataset_table(tmp_path)


def test_command(tiny_inat, capsys):
    assert main(["dataset-report", "--data", str(tiny_inat), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["species"] == 4
    assert main(["dataset-report", "--data", str(tiny_inat)]) == 0
    assert "Basidiomycota" in capsys.readouterr().out


@pytest.mark.shared
def test_plants47():
    assert dataset_table(shared("data/inat21-plants47"))["rows"] == [
        {"kingdom": "Plantae", "phylum": "Tracheophyta", "species": 47, "train_images": 1395, "val_images": 470}]
