"""inat.core.rollup: class probabilities summed up the tree of life, the lineage, the "pretty sure" ancestor."""
import random

import numpy as np
import pytest
from conftest import TAXA

from inat.core.rollup import ANCESTOR_THRESHOLD, TaxonTree
from inat.core.taxonomy import RANKS, Taxon

CORVUS = ("Animalia", "Chordata", "Aves", "Passeriformes", "Corvidae", "Corvus")


def test_rollup_sums_each_rank():
    tree = TaxonTree(TAXA)
    sums = tree.rollup(np.array([0.1, 0.35, 0.45, 0.1]))
    assert list(sums) == list(RANKS)
    assert sums["genus"][CORVUS] == pytest.approx(0.8)
    assert sums["kingdom"] == {("Animalia",): pytest.approx(0.9), ("Plantae",): pytest.approx(0.1)}
    assert sums["species"][CORVUS + ("Corvus corax",)] == pytest.approx(0.35)
    assert len(tree) == 4


def test_lineage_of_a_class_kingdom_first():
    probs = np.array([0.1, 0.35, 0.45, 0.1])
    lineage = TaxonTree(TAXA).lineage(probs, 2)
    assert [r for r, _, _ in lineage] == list(RANKS)
    assert [n for _, n, _ in lineage][-2:] == ["Corvus", "Corvus brachyrhynchos"]
    assert [p for _, _, p in lineage] == pytest.approx([0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.45])


def test_ancestor_is_the_deepest_taxon_over_the_threshold():
    tree = TaxonTree(TAXA)
    # No species reaches 0.7, their genus Corvus does.
    assert tree.ancestor(np.array([0.1, 0.35, 0.45, 0.1])) == \
        {"rank": "genus", "name": "Corvus", "probability": pytest.approx(0.8)}
    # A confident species is its own answer.
    assert tree.ancestor(np.array([0.0, 0.9, 0.05, 0.05]))["name"] == "Corvus corax"
    # The default threshold is iNaturalist's "pretty sure" level: reached exactly counts.
    assert tree.ancestor(np.array([0.0, ANCESTOR_THRESHOLD, 0.2, 0.1]))["rank"] == "species"
    assert tree.ancestor(np.array([0.0, ANCESTOR_THRESHOLD - 0.1, 0.15, 0.25]))["rank"] == "genus"
    # Spread over kingdoms: only the threshold decides.
    assert tree.ancestor(np.array([0.3, 0.2, 0.2, 0.3]), threshold=0.7)["rank"] == "kingdom"
    assert tree.ancestor(np.array([0.25, 0.25, 0.2, 0.3]), threshold=0.95) is None


def test_ancestor_of_a_breed_is_its_species():
    # Classes below species (breeds, cultivars) are not taxa: their probability counts for the species,
    # and the answer's rank and name always belong together.
    tax = {"kingdom": "Animalia", "phylum": "Chordata", "class": "Mammalia", "order": "Carnivora",
           "family": "Canidae", "genus": "Canis", "specific_epithet": "familiaris"}
    taxa = [Taxon.from_dict({"class_id": i, "scientific_name": "Canis familiaris", "common_name": c,
                             "rank": "breed", "taxonomy": tax}) for i, c in enumerate(["Beagle", "Basset"])]
    taxa.append(Taxon.from_dict({"class_id": 2, "scientific_name": "Canis lupus", "rank": "species",
                                 "taxonomy": {**tax, "specific_epithet": "lupus"}}))
    tree = TaxonTree(taxa)
    assert tree.ancestor(np.array([0.8, 0.1, 0.1])) == \
        {"rank": "species", "name": "Canis familiaris", "probability": pytest.approx(0.9)}
    assert tree.ancestor(np.array([0.4, 0.35, 0.25])) == \
        {"rank": "species", "name": "Canis familiaris", "probability": pytest.approx(0.75)}
    assert tree.ancestor(np.array([0.3, 0.2, 0.5]))["rank"] == "genus"


def test_homonyms_in_different_kingdoms_stay_apart():
    # "Morus" is a genus of gannets (birds) and of mulberries (plants).
    bird = Taxon(1, "Morus bassanus", taxonomy={"kingdom": "Animalia", "genus": "Morus", "specific_epithet": "bassanus"})
    tree_ = Taxon(2, "Morus alba", taxonomy={"kingdom": "Plantae", "genus": "Morus", "specific_epithet": "alba"})
    tree = TaxonTree([bird, tree_])
    genus = tree.rollup([0.5, 0.5])["genus"]
    assert genus == {("Animalia", "Morus"): 0.5, ("Plantae", "Morus"): 0.5}
    assert tree.ancestor([0.5, 0.5], threshold=0.6) is None


def test_shared_ranks_say_nothing_new():
    assert TaxonTree(TAXA).shared() == []  # two kingdoms
    corvids = TaxonTree(TAXA[1:3])
    assert corvids.shared() == [("kingdom", "Animalia"), ("phylum", "Chordata"), ("class", "Aves"),
                                ("order", "Passeriformes"), ("family", "Corvidae"), ("genus", "Corvus")]
    # A class that leaves a rank empty stops the shared path there.
    gap = Taxon(9, "Corvus sp", taxonomy={"kingdom": "Animalia", "phylum": "Chordata", "genus": "Corvus"})
    assert TaxonTree(TAXA[1:3] + [gap]).shared() == [("kingdom", "Animalia"), ("phylum", "Chordata")]


def test_vectorised_sums_equal_the_plain_sum_over_lineages():
    # The sums are one np.bincount per rank; the reference is the definition, summed taxon by taxon.
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
    tree = TaxonTree(taxa)
    got = tree.rollup(probs)
    assert {r for r in got if got[r]} == set(want)
    for rank in want:
        assert got[rank] == pytest.approx(want[rank], rel=1e-12, abs=1e-15)
    for threshold in (0.05, 0.3, 0.6, 0.95):
        best = None
        for rank in reversed(RANKS):
            if want.get(rank):
                key, p = max(want[rank].items(), key=lambda kv: kv[1])
                if p >= threshold:
                    best = {"rank": rank, "name": key[-1], "probability": pytest.approx(p)}
                    break
        assert tree.ancestor(probs, threshold) == best
    i = int(np.argmax(probs))
    assert [(r, n) for r, n, _ in tree.lineage(probs, i)] == taxa[i].lineage()
