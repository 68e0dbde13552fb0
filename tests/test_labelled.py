"""inat.training.labelled: photos with the truth about them, from labels.csv folders or iNat 2021 splits."""
import pytest

from inat.training.data import DatasetError
from inat.training.labelled import (LabelledPhoto, read_inat_split, read_labelled, read_labels_csv, read_names,
                                    truth_lineage)


@pytest.mark.parametrize("name, ranks, lineage", [
    ("Danaus plexippus", {"kingdom": "Animalia", "order": "Lepidoptera"},
     {"kingdom": "Animalia", "order": "Lepidoptera", "genus": "Danaus", "species": "Danaus plexippus"}),
    ("Junco hyemalis oreganus", {}, {"genus": "Junco", "species": "Junco hyemalis"}),  # a subspecies: its species
    ("Papilionidae", {"kingdom": "Animalia", "family": " Papilionidae "}, {"kingdom": "Animalia", "family": "Papilionidae"}),
    ("rose", {"kingdom": "Plantae", "phylum": ""}, {"kingdom": "Plantae"}),  # not a binomial: no species
    (None, {}, {}),
])
def test_truth_lineage(name, ranks, lineage):
    assert truth_lineage(name, ranks) == lineage


def test_labels_csv(tmp_path):
    (tmp_path / "labels.csv").write_text("file,common_name,scientific_name,kingdom,phylum,class,order,family,genus\n"
                                         "b/1.jpg,Monarch,Danaus plexippus,Animalia,Arthropoda,Insecta,,,\n"
                                         "t.jpg,Eiffel tower,,,,,,,\n")
    monarch, tower = read_labels_csv(tmp_path)
    assert monarch == LabelledPhoto(tmp_path / "b" / "1.jpg", "Danaus plexippus", "Monarch",
                                    {"kingdom": "Animalia", "phylum": "Arthropoda", "class": "Insecta",
                                     "genus": "Danaus", "species": "Danaus plexippus"})
    assert monarch.species == "Danaus plexippus" and tower.species is None and tower.lineage == {}
    assert read_labelled(tmp_path) == [monarch, tower]  # labels.csv wins over any split


def test_a_names_map_gives_or_corrects_the_species(tmp_path):
    (tmp_path / "labels.csv").write_text("file,common_name,scientific_name,kingdom\n1.jpg,Monarch,,Animalia\n"
                                         "2.jpg,Banded Peacock,Anartia fatima,Animalia\n3.jpg,Julia,,Animalia\n")
    (tmp_path / "names.tsv").write_text("common_name\tscientific_name\tmethod\nMonarch\tDanaus plexippus\tby_hand\n"
                                        "Banded Peacock\tPapilio palinurus\tby_hand\nJulia\t\tnone\n")
    names = read_names(tmp_path / "names.tsv")
    assert names == {"Monarch": "Danaus plexippus", "Banded Peacock": "Papilio palinurus"}  # empty names dropped
    monarch, peacock, julia = read_labels_csv(tmp_path, names)
    assert monarch.species == "Danaus plexippus" and monarch.lineage["genus"] == "Danaus"
    assert peacock.scientific_name == "Papilio palinurus"  # the dataset's own name corrected
    assert julia.species is None
    (tmp_path / "bad.tsv").write_text("name\tspecies\nx\ty\n")
    with pytest.raises(DatasetError, match="expected tab-separated columns common_name and scientific_name"):
        read_names(tmp_path / "bad.tsv")


def test_labels_csv_errors(tmp_path):
    with pytest.raises(DatasetError, match="no labels.csv"):
        read_labels_csv(tmp_path)
    (tmp_path / "labels.csv").write_text("path,name\nx.jpg,y\n")
    with pytest.raises(DatasetError, match="no 'file' column"):
        read_labels_csv(tmp_path)


def test_an_inat_split_carries_the_full_lineage(tiny_inat):
    photos = read_labelled(tiny_inat, "val")
    assert photos == read_inat_split(tiny_inat, "val") and len(photos) == 12
    rose = next(p for p in photos if p.scientific_name == "Rosa californica")
    assert rose.common_name == "California Wild Rose" and rose.organism
    assert rose.lineage == {"kingdom": "Plantae", "phylum": "Tracheophyta", "class": "Magnoliopsida",
                            "order": "Rosales", "family": "Rosaceae", "genus": "Rosa", "species": "Rosa californica"}


def test_imagenet_samples_take_the_starters_taxonomy_or_no_organism(tmp_path):
    from inat.training.labelled import read_imagenet_samples
    (tmp_path / "labels.csv").write_text("index,wnid,name,file\n291,n02129165,lion,a.jpg\n"
                                         "900,n04548280,water tower,b.jpg\n", encoding="utf-8")
    photos, classes = read_imagenet_samples(tmp_path)
    lion, tower = photos
    assert (lion.species, lion.lineage["genus"], lion.lineage["kingdom"]) == ("Panthera leo", "Panthera", "Animalia")
    assert classes[0].common_name == "Lion" and classes[1] is None
    assert not tower.organism and tower.path == tmp_path / "b.jpg"
