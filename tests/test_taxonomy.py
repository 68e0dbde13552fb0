import json

import numpy as np
import pytest

from inat.taxonomy import (Taxon, TaxonomyError, common_ancestor, from_folder_names, from_inat_json,
                           from_thesis_tsv, load_categories, parse_folder_name, rank_probabilities, rollup)
from util import FOLDERS, SHARED, TAXA


def test_folder_name_parsed_into_full_lineage():
    t = parse_folder_name(FOLDERS[0])
    assert t.class_id == 0 and t.scientific_name == "Lumbricus terrestris" and t.rank == "species"
    assert t.taxonomy["phylum"] == "Annelida" and t.taxonomy["specific_epithet"] == "terrestris"
    assert t.lineage()[-1] == ("species", "Lumbricus terrestris")


@pytest.mark.parametrize("bad", ["Lumbricus_terrestris", "abc_Animalia_A_B_C_D_E_f", ""])
def test_bad_folder_name_is_a_clear_error(bad):
    with pytest.raises(TaxonomyError, match="not an iNat 2021 folder name"):
        parse_folder_name(bad)


def test_inat_json_sparse_ids_sorted(tmp_path):
    cats = [{"id": 9947, "name": "Zz yy", "common_name": "Z", "kingdom": "Plantae", "phylum": "Tracheophyta",
             "class": "Magnoliopsida", "order": "O", "family": "F", "genus": "Zz", "specific_epithet": "yy"},
            {"id": 5889, "name": "Chlorogalum pomeridianum", "common_name": "Wavy-Leafed Soap Plant",
             "kingdom": "Plantae", "phylum": "Tracheophyta", "class": "Liliopsida", "order": "Asparagales",
             "family": "Asparagaceae", "genus": "Chlorogalum", "specific_epithet": "pomeridianum"}]
    f = tmp_path / "val.json"
    f.write_text(json.dumps({"images": [], "annotations": [], "categories": cats}))
    taxa = load_categories(f)
    assert [t.class_id for t in taxa] == [5889, 9947]
    assert taxa[0].common_name == "Wavy-Leafed Soap Plant" and taxa[0].taxonomy["class"] == "Liliopsida"


def test_thesis_tsv_row_index_is_class_index(tmp_path):
    f = tmp_path / "categorias_iNat2021.txt"
    f.write_text("common_name\tkingdom\tphylum\tclass\torder\tfamily\tgenus\tspecific_epithet\n"
                 "Common Earthworm\tAnimalia\tAnnelida\tClitellata\tHaplotaxida\tLumbricidae\tLumbricus\tterrestris\n"
                 "\tAnimalia\tChordata\tAves\tPasseriformes\tCorvidae\tCorvus\tcorax\n")
    taxa = from_thesis_tsv(f)
    assert [t.class_id for t in taxa] == [0, 1]
    assert taxa[0].label == "Common Earthworm (Lumbricus terrestris)"
    assert taxa[1].common_name is None and taxa[1].label == "Corvus corax"
    assert load_categories(f) == taxa


def test_bad_categories_files(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("name\tkingdom\n")
    with pytest.raises(TaxonomyError, match="header"):
        load_categories(f)
    g = tmp_path / "c.json"
    g.write_text("{not json")
    with pytest.raises(TaxonomyError, match="c.json"):
        load_categories(g)
    with pytest.raises(TaxonomyError, match="no such"):
        load_categories(tmp_path / "missing.txt")


def test_rollup_sums_each_rank():
    probs = np.array([0.1, 0.35, 0.45, 0.1])
    sums = rollup(TAXA, probs)
    assert sums["genus"][("Animalia", "Chordata", "Aves", "Passeriformes", "Corvidae", "Corvus")] == pytest.approx(0.8)
    assert sums["kingdom"][("Animalia",)] == pytest.approx(0.9)
    ranks = rank_probabilities(TAXA, probs, TAXA[2])
    assert [r for r, _, _ in ranks] == ["kingdom", "phylum", "class", "order", "family", "genus", "species"]
    assert ranks[-1][2] == pytest.approx(0.45) and ranks[-2][2] == pytest.approx(0.8)


def test_common_ancestor_is_deepest_taxon_over_threshold():
    # No species reaches 0.7, their genus Corvus does.
    assert common_ancestor(TAXA, np.array([0.1, 0.35, 0.45, 0.1])) == \
        {"rank": "genus", "name": "Corvus", "probability": pytest.approx(0.8)}
    # A confident species is its own answer.
    assert common_ancestor(TAXA, np.array([0.0, 0.9, 0.05, 0.05]))["name"] == "Corvus corax"
    # Spread over kingdoms: only the threshold decides.
    assert common_ancestor(TAXA, np.array([0.3, 0.2, 0.2, 0.3]), threshold=0.7)["rank"] == "kingdom"
    assert common_ancestor(TAXA, np.array([0.25, 0.25, 0.2, 0.3]), threshold=0.95) is None


def test_common_ancestor_of_a_breed_is_its_species():
    # Classes below species (breeds, cultivars) are not taxa: their probability counts for the species,
    # and the answer's rank and name always belong together.
    tax = {"kingdom": "Animalia", "phylum": "Chordata", "class": "Mammalia", "order": "Carnivora",
           "family": "Canidae", "genus": "Canis", "specific_epithet": "familiaris"}
    taxa = [Taxon.from_dict({"class_id": i, "scientific_name": "Canis familiaris", "common_name": c,
                             "rank": "breed", "taxonomy": tax}) for i, c in enumerate(["Beagle", "Basset"])]
    taxa.append(Taxon.from_dict({"class_id": 2, "scientific_name": "Canis lupus", "rank": "species",
                                 "taxonomy": {**tax, "specific_epithet": "lupus"}}))
    assert common_ancestor(taxa, np.array([0.8, 0.1, 0.1])) == \
        {"rank": "species", "name": "Canis familiaris", "probability": pytest.approx(0.9)}
    assert common_ancestor(taxa, np.array([0.4, 0.35, 0.25])) == \
        {"rank": "species", "name": "Canis familiaris", "probability": pytest.approx(0.75)}
    assert common_ancestor(taxa, np.array([0.3, 0.2, 0.5]))["rank"] == "genus"


def test_taxon_dict_round_trip():
    t = TAXA[1]
    d = t.to_dict()
    assert set(d) == {"class_id", "scientific_name", "common_name", "rank", "taxonomy"}
    assert set(d["taxonomy"]) == {"kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet"}
    assert Taxon.from_dict(d) == t


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
def test_real_plants47_json_and_folders_agree():
    root = SHARED / "inat21-plants47"
    taxa = from_inat_json(root / "train_mini.json")
    assert len(taxa) == 47 and taxa[0].class_id == 5889
    folders = from_folder_names(p.name for p in (root / "train_mini").iterdir())
    assert [(t.class_id, t.scientific_name, t.taxonomy) for t in folders] == \
        [(t.class_id, t.scientific_name, t.taxonomy) for t in taxa]


def test_vectorised_rollup_equals_the_plain_sum_over_lineages():
    # rollup is one np.bincount per rank; the reference is the definition, summed taxon by taxon.
    import random
    import numpy as np
    from inat.taxonomy import Taxon, common_ancestor, rollup
    rng = random.Random(1)
    taxa = []
    for i in range(600):
        tax = {"kingdom": rng.choice(["Animalia", "Plantae"]), "phylum": f"P{rng.randrange(3)}",
               "class": f"C{rng.randrange(6)}", "order": f"O{rng.randrange(12)}", "family": f"F{rng.randrange(30)}",
               "genus": f"G{rng.randrange(80)}", "specific_epithet": f"s{i}"}
        if i % 7 == 0:
            tax["order"] = None  # a record that skips a rank
        taxa.append(Taxon.from_dict({"class_id": i, "scientific_name": f"{tax['genus']} s{i}", "taxonomy": tax}))
    probs = np.random.default_rng(0).dirichlet(np.full(len(taxa), 0.05))
    want: dict = {}
    for t, p in zip(taxa, probs):
        key = ()
        for rank, name in t.lineage():
            key += (name,)
            want.setdefault(rank, {})
            want[rank][key] = want[rank].get(key, 0.0) + float(p)
    got = rollup(taxa, probs)
    assert {r: d for r, d in got.items() if d} == want
    for threshold in (0.05, 0.3, 0.6, 0.95):
        best = None
        for rank in reversed(list(got)):
            if got[rank]:
                key, p = max(got[rank].items(), key=lambda kv: kv[1])
                if p >= threshold:
                    best = {"rank": rank, "name": key[-1], "probability": p}
                    break
        assert common_ancestor(taxa, probs, threshold) == best
