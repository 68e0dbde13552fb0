"""inat.core.taxonomy: Taxon records, the display-name formatter and the three category formats."""
import json

import pytest
from conftest import FOLDERS, TAXA, shared

from inat.core.taxonomy import (RANKS, TAXONOMY_KEYS, Taxon, TaxonomyError, display_name, from_folder_names,
                                from_inat_json, from_thesis_tsv, load_categories, parse_folder_name)


def test_folder_name_parsed_into_full_lineage():
    t = parse_folder_name(FOLDERS[0])
    assert t.class_id == 0 and t.scientific_name == "Lumbricus terrestris" and t.rank == "species"
    assert t.taxonomy["phylum"] == "Annelida" and t.taxonomy["specific_epithet"] == "terrestris"
    assert t.lineage() == [("kingdom", "Animalia"), ("phylum", "Annelida"), ("class", "Clitellata"),
                           ("order", "Haplotaxida"), ("family", "Lumbricidae"), ("genus", "Lumbricus"),
                           ("species", "Lumbricus terrestris")]


@pytest.mark.parametrize("bad", ["Lumbricus_terrestris", "abc_Animalia_A_B_C_D_E_f", ""])
def test_bad_folder_name_is_a_clear_error(bad):
    with pytest.raises(TaxonomyError, match="not an iNat 2021 folder name"):
        parse_folder_name(bad)


def test_folder_names_sorted_by_id():
    assert [t.class_id for t in from_folder_names(reversed(FOLDERS))] == [0, 3111, 3112, 5889]


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
    assert from_inat_json({"categories": cats}) == taxa


def test_a_category_above_species_is_named_by_its_deepest_rank():
    [t] = from_inat_json({"categories": [{"id": 7, "kingdom": "Fungi", "phylum": "Basidiomycota",
                                          "class": "Agaricomycetes", "order": "Boletales", "family": "Boletaceae"}]})
    assert (t.scientific_name, t.rank) == ("Boletaceae", "family")
    assert t.lineage()[-1] == ("family", "Boletaceae")


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
    h = tmp_path / "short.txt"
    h.write_text("\t".join(("common_name",) + TAXONOMY_KEYS) + "\nLion\tAnimalia\n")
    with pytest.raises(TaxonomyError, match="row 2 has 2 columns"):
        load_categories(h)
    with pytest.raises(TaxonomyError, match="no such"):
        load_categories(tmp_path / "missing.txt")
    (tmp_path / "nocats.json").write_text('{"images": []}')
    with pytest.raises(TaxonomyError, match="no 'categories' list"):
        load_categories(tmp_path / "nocats.json")


@pytest.mark.parametrize("common, scientific, shown", [
    ("Lion", "Panthera leo", "Lion (Panthera leo)"),
    (None, "Panthera leo", "Panthera leo"),
    ("", "Panthera leo", "Panthera leo"),
    ("Equus", "Equus", "Equus"),                     # no distinct common name: not "Equus (Equus)"
    ("wild rose", "Rosa californica", "wild rose (Rosa californica)"),  # names are never re-cased
])
def test_display_name(common, scientific, shown):
    assert display_name(common, scientific) == shown
    assert Taxon(1, scientific, common).label == shown


def test_taxon_dict_round_trip():
    t = TAXA[1]
    d = t.to_dict()
    assert list(d) == ["class_id", "scientific_name", "common_name", "rank", "taxonomy"]  # no taxon_id when unknown
    assert list(d["taxonomy"]) == list(TAXONOMY_KEYS)
    assert Taxon.from_dict(d) == t


def test_taxon_id_is_kept_when_known():
    t = Taxon(291, "Panthera leo", "Lion", "species", {"genus": "Panthera", "specific_epithet": "leo"}, 41964)
    d = t.to_dict()
    assert list(d)[-1] == "taxon_id" and d["taxon_id"] == 41964
    assert d["taxonomy"]["kingdom"] is None  # every taxonomy key present
    back = Taxon.from_dict(d)
    assert back.taxon_id == 41964 and back.to_dict() == d
    for bad in ("41964", 4.5, True):
        with pytest.raises(ValueError, match="taxon_id must be an integer"):
            Taxon.from_dict({**d, "taxon_id": bad})


@pytest.mark.parametrize("key, value", [("scientific_name", ["A", "b"]), ("common_name", {"x": 1}),
                                        ("rank", [1])])
def test_taxon_fields_that_are_not_text_are_refused(key, value):
    d = {**TAXA[0].to_dict(), key: value}
    with pytest.raises(ValueError, match=f"{key} must be text"):
        Taxon.from_dict(d)
    with pytest.raises(ValueError, match="order must be text"):
        Taxon.from_dict({**TAXA[0].to_dict(), "taxonomy": {"order": [1, 2]}})


def test_lineage_skips_empty_ranks():
    t = Taxon(1, "Corvus corax", taxonomy={"kingdom": "Animalia", "genus": "Corvus", "specific_epithet": "corax"})
    assert [r for r, _ in t.lineage()] == ["kingdom", "genus", "species"]
    assert set(r for r, _ in TAXA[0].lineage()) == set(RANKS)


@pytest.mark.shared
def test_real_plants47_json_and_folders_agree():
    root = shared("data/inat21-plants47")
    taxa = from_inat_json(root / "train_mini.json")
    assert len(taxa) == 47 and taxa[0].class_id == 5889
    folders = from_folder_names(p.name for p in (root / "train_mini").iterdir())
    assert [(t.class_id, t.scientific_name, t.taxonomy) for t in folders] == \
        [(t.class_id, t.scientific_name, t.taxonomy) for t in taxa]
