"""inat.training.evaluate: the numbers of a model whose answer is known, checked against a hand computation."""
import json
import math
import shutil

import pytest
from conftest import make_bundle, make_inat_dataset

from inat.cli.main import main
from inat.core.taxonomy import from_inat_json
from inat.training.data import DatasetError
from inat.training.evaluate import evaluate, evaluate_bundle, format_evaluation, metrics, open_world

SIX = [
    (143, "Animalia_Arthropoda_Insecta_Lepidoptera_Nymphalidae_Danaus_plexippus", "Monarch", (230, 120, 20)),
    (2780, "Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_corax", "Common Raven", (20, 20, 30)),
    (3001, "Animalia_Chordata_Mammalia_Carnivora_Felidae_Lynx_rufus", "Bobcat", (150, 120, 90)),
    (5411, "Fungi_Basidiomycota_Agaricomycetes_Agaricales_Amanitaceae_Amanita_muscaria", "Fly Agaric", (200, 30, 30)),
    (7002, "Plantae_Bryophyta_Bryopsida_Polytrichales_Polytrichaceae_Polytrichum_juniperinum", "Juniper Haircap",
     (40, 120, 40)),
    (9947, "Plantae_Tracheophyta_Magnoliopsida_Rosales_Rosaceae_Rosa_californica", "California Wild Rose",
     (230, 150, 200)),
]
# The fixed model gives every photo these probabilities (by class, in id order).
PROBS = [0.05, 0.5, 0.2, 0.1, 0.08, 0.07]


@pytest.fixture(scope="module")
def six(tmp_path_factory):
    return make_inat_dataset(tmp_path_factory.mktemp("six"), "official", species=SIX,
                             splits={"val": ("val", "2021_valid", 2)})


def constant_bundle(taxa, probs, out):
    """A real efficientnet_b0 bundle whose head ignores the image: logits = log(probs)."""
    make_bundle(out, arch="efficientnet_b0", classes=taxa, probs=probs, name="constant")
    return out


def test_numbers_match_a_hand_computation(six, tmp_path):
    taxa = from_inat_json(six / "val.json")
    r = evaluate_bundle(constant_bundle(taxa, PROBS, tmp_path / "m"), six, "val")
    # Every photo is called a raven (p = 0.5): right for the 2 raven photos of 12.
    assert r["n"] == 12 and r["errors"] == 0
    assert r["top1"] == pytest.approx(2 / 12)
    # Top five = every class but the monarch (p = 0.05, the lowest).
    assert r["top5"] == pytest.approx(10 / 12)
    # All confidences are 0.5, in one bin whose accuracy is 1/6.
    assert r["ece"] == pytest.approx(abs(2 / 12 - 0.5))
    assert r["per_kingdom"] == {
        "Animalia": {"n": 6, "top1": pytest.approx(2 / 6), "top5": pytest.approx(4 / 6)},
        "Fungi": {"n": 2, "top1": 0.0, "top5": 1.0},
        "Plantae": {"n": 4, "top1": 0.0, "top5": 1.0}}
    assert r["per_phylum"] == {
        "Arthropoda": {"kingdom": "Animalia", "n": 2, "top1": 0.0, "top5": 0.0},
        "Chordata": {"kingdom": "Animalia", "n": 4, "top1": 0.5, "top5": 1.0},
        "Basidiomycota": {"kingdom": "Fungi", "n": 2, "top1": 0.0, "top5": 1.0},
        "Bryophyta": {"kingdom": "Plantae", "n": 2, "top1": 0.0, "top5": 1.0},
        "Tracheophyta": {"kingdom": "Plantae", "n": 2, "top1": 0.0, "top5": 1.0}}
    pairs = [(c["true"]["class_id"], c["predicted"]["class_id"], c["count"]) for c in r["confused_pairs"]]
    assert pairs == [(143, 2780, 2), (3001, 2780, 2), (5411, 2780, 2), (7002, 2780, 2), (9947, 2780, 2)]


@pytest.mark.integration
def test_dataset_ids_are_matched_to_bundle_classes_by_class_id(six, tmp_path):
    # The bundle lists its classes in another order than the dataset: the figures must not change.
    taxa = from_inat_json(six / "val.json")
    order = [3, 5, 0, 4, 1, 2]
    path = constant_bundle([taxa[i] for i in order], [PROBS[i] for i in order], tmp_path / "shuffled")
    r = evaluate_bundle(path, six, "val")
    assert (r["top1"], r["top5"]) == (pytest.approx(2 / 12), pytest.approx(10 / 12))


def test_unknown_species_in_the_split_is_an_error(six, tmp_path):
    # A model that lacks the rose cannot be scored on photos of it (dropping them would flatter it).
    taxa = from_inat_json(six / "val.json")
    path = constant_bundle(taxa[:5], [p / sum(PROBS[:5]) for p in PROBS[:5]], tmp_path / "five")
    with pytest.raises(DatasetError, match="not among"):
        evaluate_bundle(path, six, "val")


@pytest.mark.integration
def test_cli_json(six, tmp_path, capsys):
    taxa = from_inat_json(six / "val.json")
    path = constant_bundle(taxa, PROBS, tmp_path / "m")
    assert main(["evaluate", "--model", str(path), "--data", str(six), "--split", "val", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert {"top1", "top5", "n", "ece", "per_kingdom", "per_phylum", "confused_pairs"} <= set(r)
    assert math.isclose(r["top1"], 2 / 12)
    assert main(["evaluate", "--model", str(path), "--data", str(six), "--split", "val"]) == 0
    text = capsys.readouterr().out
    assert "top-1  16.7 %" in text and "Danaus plexippus → Corvus corax" in text


def test_metrics_of_hand_made_rankings():
    taxa = from_inat_json({"categories": [
        {"id": i, "kingdom": k, "phylum": p, "genus": g, "specific_epithet": "x"}
        for i, (k, p, g) in enumerate([("Animalia", "Chordata", "A"), ("Animalia", "Mollusca", "B"),
                                       ("Plantae", "Tracheophyta", "C")])]})
    m = metrics(taxa, targets=[0, 0, 1, 2], ranked=[[0, 1], [1, 0], [0, 2], []], confidence=[0.9, 0.6, 0.5, 0.0])
    assert (m["n"], m["top1"], m["top5"]) == (4, 0.25, 0.5)  # a photo with no ranking counts as wrong
    assert m["per_kingdom"] == {"Animalia": {"n": 3, "top1": pytest.approx(1 / 3), "top5": pytest.approx(2 / 3)},
                                "Plantae": {"n": 1, "top1": 0.0, "top5": 0.0}}
    assert [(c["true"]["class_id"], c["predicted"]["class_id"], c["count"]) for c in m["confused_pairs"]] == \
        [(0, 1, 1), (1, 0, 1)]
    empty = metrics(taxa, [], [], [])
    assert (empty["n"], empty["top1"], empty["top5"], empty["ece"]) == (0, 0.0, 0.0, 0.0)


def test_format_evaluation_names_unreadable_photos():
    r = {"model": "m", "data": "d", "split": "val", "n": 3, "errors": 2, "top1": 1 / 3, "top5": 1.0, "ece": 0.25,
         "claims": 0.5, "wrong_claims": None,
         "per_kingdom": {"Fungi": {"n": 3, "top1": 1 / 3, "top5": 1.0}},
         "per_phylum": {"Basidiomycota": {"kingdom": "Fungi", "n": 3, "top1": 1 / 3, "top5": 1.0}},
         "confused_pairs": []}
    text = format_evaluation(r)
    assert text.splitlines()[0] == "m on d (val): 3 photos, 2 unreadable"
    assert "    Basidiomycota" in text and "most confused" not in text


@pytest.mark.integration
def test_unreadable_photos_are_counted_apart(tmp_path):
    data = make_inat_dataset(tmp_path / "d", "official", species=SIX, splits={"val": ("val", "2021_valid", 1)})
    next((data / "val").rglob("*.jpg")).write_bytes(b"not a photo")
    taxa = from_inat_json(data / "val.json")
    r = evaluate_bundle(constant_bundle(taxa, PROBS, tmp_path / "m"), data, "val")
    assert (r["n"], r["errors"]) == (5, 1)


def test_open_world_figures_by_hand(six):
    import numpy as np

    from inat.core.record import Identification, identify
    from inat.core.rollup import TaxonTree
    from inat.training.labelled import LabelledPhoto
    tree = TaxonTree(from_inat_json(six / "val.json"))  # monarch, raven, bobcat, fly agaric, haircap, rose
    raven = identify(tree, np.array([0.0, 0.9, 0.1, 0, 0, 0]), "a", "m")   # pretty sure: Corvus corax
    beast = identify(tree, np.array([0.0, 0.45, 0.45, 0.1, 0, 0]), "b", "m")  # pretty sure: phylum Chordata
    assert (raven.ancestor["name"], beast.ancestor["name"]) == ("Corvus corax", "Chordata")
    truths = [LabelledPhoto("a", "Corvus corax", lineage={"kingdom": "Animalia", "class": "Aves",
                                                        "species": "Corvus corax"}),
              LabelledPhoto("b", None, organism=False),
              LabelledPhoto("c", "Rosa californica", lineage={"kingdom": "Plantae", "species": "Rosa californica"})]
    records = [raven, beast, Identification("c", "m", error="c: no such file")]
    w = open_world(records, truths, known={"Corvus corax": None})
    assert w["n"] == 2 and w["kingdom_ok"] == 1.0          # the unreadable photo is left out
    assert w["claims"] == 1.0 and w["wrong_claims"] == 0.5  # any claim about a tower is wrong
    assert (w["n_known"], w["top1"], w["top5"], w["group_acc"]) == (1, 1.0, 1.0, None)
    # Useful: a right claim at genus or species. "phylum Chordata" about a raven is right, and of no use.
    assert w["useful"] == 0.5
    truths[1] = LabelledPhoto("b", "Corvus corax", lineage={"kingdom": "Animalia", "phylum": "Chordata",
                                                            "species": "Corvus corax"})
    assert open_world(records, truths, known={})["useful"] == 0.5 and \
        open_world(records, truths, known={})["wrong_claims"] == 0.0


def test_species_folds_keep_a_species_together_and_do_not_move():
    from inat.training.evaluate import species_fold
    from inat.training.labelled import LabelledPhoto
    a = [LabelledPhoto(f"{i}.jpg", "Corvus corax", lineage={"species": "Corvus corax"}) for i in range(5)]
    assert {species_fold(p) for p in a} == {species_fold(a[0])}
    names = [f"Genus{i} epithet" for i in range(200)]
    folds = [species_fold(LabelledPhoto("x", n, lineage={"species": n})) for n in names]
    assert 70 < sum(folds) < 130                       # about half each
    assert species_fold(LabelledPhoto("x", "Corvus corax", lineage={"species": "Corvus corax"})) == 1  # sha1, fixed
    assert species_fold(LabelledPhoto("x", None, "dragonfly", {"order": "Odonata"})) == \
        species_fold(LabelledPhoto("y", None, "dragonfly", {"order": "Odonata"}))


def test_a_claim_in_the_models_newer_taxonomy_is_not_a_wrong_claim():
    import numpy as np

    from inat.core.record import identify
    from inat.core.rollup import TaxonTree
    from inat.core.taxonomy import Taxon
    from inat.training.evaluate import known_species
    from inat.training.labelled import LabelledPhoto
    birds = {"kingdom": "Animalia", "phylum": "Chordata", "class": "Aves", "order": "Charadriiformes",
             "family": "Charadriidae"}
    # The expert's class keeps its 2017 name; iNaturalist has since moved the species to Anarhynchus.
    plover = Taxon(0, "Charadrius nivosus", "Snowy Plover", "species",
                   {**birds, "genus": "Anarhynchus", "specific_epithet": "nivosus"})
    killdeer = Taxon(1, "Charadrius vociferus", "Killdeer", "species",
                     {**birds, "genus": "Charadrius", "specific_epithet": "vociferus"})
    tree = TaxonTree([plover, killdeer])
    sure = identify(tree, np.array([0.95, 0.05]), "a", "m")
    assert (sure.ancestor["rank"], sure.ancestor["name"]) == ("species", "Anarhynchus nivosus")
    # The photos' labels use the older names throughout, genus included.
    old = {**birds, "genus": "Charadrius"}
    truths = [LabelledPhoto("a", "Charadrius nivosus", lineage={**old, "species": "Charadrius nivosus"}),
              LabelledPhoto("b", "Charadrius vociferus", lineage={**old, "species": "Charadrius vociferus"})]
    known = known_species([plover, killdeer])
    assert known["Charadrius nivosus"]["species"] == "Anarhynchus nivosus"
    w = open_world([sure, sure], truths, known)
    assert w["claims"] == 1.0 and w["wrong_claims"] == 0.5       # the plover is right; the killdeer is not
    assert open_world([sure], truths[:1], dict.fromkeys(known))["wrong_claims"] == 1.0   # names alone: wrong


@pytest.mark.integration
def test_photos_the_model_was_not_trained_on_get_the_open_world_figures(six, tmp_path):
    # A labels.csv folder (the birds, butterflies and flowers collections' layout): no per-phylum table.
    taxa = from_inat_json(six / "val.json")
    model = constant_bundle(taxa, PROBS, tmp_path / "m")
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, p in enumerate(sorted((six / "val").rglob("*.jpg"))[:2]):
        shutil.copy(p, folder / f"{i}.jpg")
    (folder / "labels.csv").write_text("file,common_name,scientific_name,kingdom\n0.jpg,,Corvus corax,Animalia\n"
                                       "1.jpg,,Quercus robur,Plantae\n")
    r = evaluate(model, folder)
    assert r["split"] is None and r["n"] == 2 and "per_kingdom" not in r
    assert (r["n_known"], r["top1"], r["kingdom_ok"]) == (1, 1.0, 0.5)  # everything is called a raven
    assert "species the model knows: 1 photos" in format_evaluation(r)
