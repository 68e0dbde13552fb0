"""inat.naturalist.ensemble: the merged class list and the arithmetic that combines starter, router and experts."""
from __future__ import annotations

import numpy as np
import pytest

from inat.core.preprocess import Preprocess
from inat.core.taxonomy import Taxon
from inat.models.bundle import Bundle
from inat.naturalist.ensemble import Ensemble, Mixture
from inat.naturalist.router_groups import GROUPS

G = {g: i for i, g in enumerate(GROUPS)}


def taxon(class_id, sci, common, kingdom, klass, rank="species"):
    genus, _, epithet = sci.partition(" ")
    return Taxon(class_id, sci, common, rank, {"kingdom": kingdom, "phylum": "P", "class": klass, "order": "O",
                                               "family": "F", "genus": genus, "specific_epithet": epithet or None})


# The starter: 3 classes among 5 outputs (outputs 3 and 4 are objects); its robin is also a bird-expert species.
STARTER = Bundle("starter", "efficientnet_lite0", [taxon(0, "Turdus migratorius", "Robin", "Animalia", "Aves"),
                                                    taxon(1, "Quercus robur", "Oak", "Plantae", "Magnoliopsida"),
                                                    taxon(2, "Vulpes vulpes", "Red fox", "Animalia", "Mammalia")],
                 Preprocess(), num_outputs=5, output_index=[0, 1, 2], in_scope_threshold=0.5)
BIRDS = Bundle("birds", "mobilenet_v2_tf", [taxon(0, "Turdus migratorius", "American Robin", "Animalia", "Aves"),
                                            taxon(1, "Cyanocitta cristata", "Blue Jay", "Animalia", "Aves")],
               Preprocess(), num_outputs=3, output_index=[0, 1], in_scope_threshold=0.5, expert=True)


def groups(**p):
    out = np.zeros((1, len(GROUPS)))
    for g, v in p.items():
        out[0, G[g]] = v
    return out


def test_a_species_two_models_know_is_one_taxon_with_the_experts_record():
    m = Mixture(STARTER, {"birds": BIRDS})
    names = [t.scientific_name for t in m.taxa]
    assert names.count("Turdus migratorius") == 1 and len(m.taxa) == 4
    robin = m.taxa[names.index("Turdus migratorius")]
    assert robin.common_name == "American Robin"  # the expert's record wins
    assert Ensemble(STARTER, {"birds": BIRDS}).classes == m.taxa


def named(m, merged):
    """{scientific name: probability} of the classes, and {unnamed member: probability} of the groups."""
    n = len(m.taxa)
    return ({t.scientific_name: v for t, v in zip(m.taxa, merged[:n])},
            {t.scientific_name: v for t, v in zip(m.unnamed, merged[n:])})


def test_the_expert_takes_its_groups_mass_and_the_starter_keeps_its_own_probabilities():
    m = Mixture(STARTER, {"birds": BIRDS})
    starter = np.array([[0.5, 0.2, 0.1, 0.1, 0.1]])
    expert = np.array([[0.2, 0.6, 0.2]])          # robin, jay, background
    merged = m.combine(starter, groups(birds=0.6, plants=0.1, other_organism=0.3, not_organism=0.0),
                       {"birds": expert})[0]
    p, unnamed = named(m, merged)
    assert p["Cyanocitta cristata"] == pytest.approx(0.6 * 0.6 / 0.8)   # P(birds) × P_E(jay | not background)
    assert p["Turdus migratorius"] == pytest.approx(0.6 * 0.2 / 0.8)
    assert unnamed["Aves"] == 0.0                       # the expert names every bird it is given
    # Groups without an expert keep the starter's classes, sharing the router's probability as the starter
    # does (alpha 1 by default): its only plant and its only other organism take their group whole.
    assert p["Quercus robur"] == pytest.approx(0.1) and unnamed["Plantae"] == pytest.approx(0.0)
    assert p["Vulpes vulpes"] == pytest.approx(0.3) and unnamed["Mammalia"] == pytest.approx(0.0)  # the fox's class
    assert merged.sum() == pytest.approx(1.0)
    ran = {"birds": True}
    assert m.source(list(p).index("Cyanocitta cristata"), ran) == "birds"
    assert m.source(list(p).index("Quercus robur"), ran) == "starter"


def test_an_expert_that_did_not_run_leaves_its_group_to_the_starter():
    m = Mixture(STARTER, {"birds": BIRDS})
    starter = np.array([[0.5, 0.2, 0.1, 0.1, 0.1]])
    not_run = np.full((1, 3), np.nan)
    p, unnamed = named(m, m.combine(starter, groups(birds=0.01, plants=0.99), {"birds": not_run})[0])
    assert p["Turdus migratorius"] == pytest.approx(0.01)   # the starter's robin, scaled to the router's 0.01
    assert p["Cyanocitta cristata"] == 0.0
    assert m.source(list(p).index("Turdus migratorius"), {"birds": False}) == "starter"


def test_an_animal_the_starter_cannot_name_keeps_the_starters_class_rank():
    from inat.core.rollup import TaxonTree
    m = Mixture(STARTER, {}, {"other_organism": 0.05})
    merged = m.combine(np.array([[0.0, 0.0, 0.9, 0.05, 0.05]]), groups(other_organism=1.0), {})[0]
    p, unnamed = named(m, merged)
    assert p["Vulpes vulpes"] == pytest.approx(0.05)
    assert TaxonTree(m.tree_taxa).ancestor(merged)["rank"] == "class"   # the fox's class, not its species
    assert merged.sum() == pytest.approx(1.0)


def test_a_plant_the_starter_cannot_name_is_a_plant_and_no_species():
    from inat.core.rollup import TaxonTree
    # Only 1 % of the plants people photograph are species the starter knows (alpha): even when it is sure
    # of its oak, the photo is "a plant", not a claim about a species.
    m = Mixture(STARTER, {}, {"plants": 0.01})
    merged = m.combine(np.array([[0.0, 0.9, 0.0, 0.05, 0.05]]), groups(plants=0.95, not_organism=0.05), {})[0]
    p, unnamed = named(m, merged)
    assert p["Quercus robur"] == pytest.approx(0.95 * 0.01) and unnamed["Plantae"] == pytest.approx(0.95 * 0.99)
    ancestor = TaxonTree(m.tree_taxa).ancestor(merged)
    assert ancestor["rank"] == "kingdom" and ancestor["name"] == "Plantae"   # "a plant — I can't tell which"


def test_a_mushroom_the_starter_cannot_name_reads_a_fungus_never_a_plant():
    from inat.app.views import heading
    from inat.core.record import identify
    from inat.core.rollup import TaxonTree
    # The starter is half sure of its oak, but the router says fungi: the photo is "a fungus — kingdom Fungi".
    m = Mixture(STARTER, {}, {"plants": 0.01})
    merged = m.combine(np.array([[0.0, 0.5, 0.0, 0.25, 0.25]]), groups(fungi=0.9, plants=0.05, not_organism=0.05),
                       {})[0]
    _, unnamed = named(m, merged)
    assert unnamed["Fungi"] == pytest.approx(0.9) and unnamed["Plantae"] == pytest.approx(0.05 * 0.99)
    r = identify(TaxonTree(m.tree_taxa), merged, "photo", "naturalist", 5, ranked=len(m.taxa))
    assert r.ancestor["rank"] == "kingdom" and r.ancestor["name"] == "Fungi"
    assert heading(r) == "A fungus — kingdom Fungi, 90\u00a0%"


def test_an_unsure_expert_gives_its_group_the_rest_and_a_sure_one_names_the_species():
    from inat.core.rollup import TaxonTree
    # gate = sigmoid(0 + 1 * logit(top)): the gate equals the expert's top probability here
    m = Mixture(STARTER, {"birds": BIRDS}, {"birds": 0.0}, gates={"birds": (0.0, 1.0)})
    starter = np.array([[0.5, 0.0, 0.0, 0.25, 0.25]])
    unsure = np.array([[0.3, 0.5, 0.2]])                      # robin 3/8, jay 5/8 of the non-background
    p, unnamed = named(m, m.combine(starter, groups(birds=1.0), {"birds": unsure})[0])
    assert p["Cyanocitta cristata"] == pytest.approx(5 / 8 * 5 / 8)
    assert p["Turdus migratorius"] == pytest.approx(5 / 8 * 3 / 8)
    assert unnamed["Aves"] == pytest.approx(3 / 8)            # "a bird, maybe one the expert does not know"
    sure = np.array([[0.0, 0.98, 0.02]])
    merged = m.combine(starter, groups(birds=1.0), {"birds": sure})[0]
    assert named(m, merged)[0]["Cyanocitta cristata"] > 0.99 and merged.sum() == pytest.approx(1.0)
    assert TaxonTree(m.tree_taxa).ancestor(merged)["rank"] == "species"
    # a gate for a group without an expert is ignored
    assert Mixture(STARTER, {}, gates={"birds": (0.0, 1.0)}).gates == {}


def test_the_starter_class_gate_by_hand():
    from inat.naturalist.ensemble import starter_class_gate
    # w0 + w1 * logit(0.8) + w2 * ln(0.5) with logit(0.8) = ln 4
    z = -1.0 + 0.5 * np.log(4.0) + 0.25 * np.log(0.5)
    assert starter_class_gate(np.array([0.8]), np.array([0.5]), (-1.0, 0.5, 0.25))[0] == pytest.approx(1 / (1 + np.exp(-z)))


# A bird starter with a species class (robin, one species of 1,000) and a family class (jays, a tenth of the birds).
JAYS = Taxon(7, "Corvidae", "Jay family", "family", {"kingdom": "Animalia", "phylum": "P", "class": "Aves",
                                                     "order": "O", "family": "Corvidae"})
BIRD_STARTER = Bundle("starter", "efficientnet_lite0", [STARTER.classes[0], JAYS, STARTER.classes[1]], Preprocess(),
                      num_outputs=4, output_index=[0, 1, 2], in_scope_threshold=0.5)
GATE = {"weights": [-2.0, 0.5, 0.2], "groups": ["birds"]}
COVERAGE = {"0": 0.001, "7": 0.1}


def test_the_starter_gate_trusts_a_class_by_its_share_and_its_coverage():
    from inat.naturalist.ensemble import starter_class_gate
    m = Mixture(BIRD_STARTER, {}, {"birds": 0.0, "plants": 0.0}, starter_gate=GATE, coverage=COVERAGE)
    for probs, j, cov in (([0.9, 0.1, 0.0, 0.0], 0, 0.001), ([0.1, 0.9, 0.0, 0.0], 1, 0.1)):
        merged = m.combine(np.array([probs]), groups(birds=1.0), {})[0]
        p, unnamed = named(m, merged)
        trust = starter_class_gate(np.array([0.9]), np.array([cov]), GATE["weights"])[0]
        assert p[BIRD_STARTER.classes[j].scientific_name] == pytest.approx(trust * 0.9)
        assert p[BIRD_STARTER.classes[1 - j].scientific_name] == pytest.approx(trust * 0.1)
        assert unnamed["Aves"] == pytest.approx(1 - trust) and merged.sum() == pytest.approx(1.0)
    # As sure of either: the family (a tenth of the birds) is trusted more than the species (one in a thousand).
    robin = m.combine(np.array([[0.9, 0.1, 0, 0]]), groups(birds=1.0), {})[0]
    jays = m.combine(np.array([[0.1, 0.9, 0, 0]]), groups(birds=1.0), {})[0]
    assert named(m, jays)[0]["Corvidae"] > named(m, robin)[0]["Turdus migratorius"]
    # A group the gate was not fitted for keeps the flat alpha (0 here): the oak gives the plant to Plantae.
    plant = named(m, m.combine(np.array([[0, 0, 0.9, 0.1]]), groups(plants=1.0), {})[0])
    assert plant[0]["Quercus robur"] == 0.0 and plant[1]["Plantae"] == pytest.approx(1.0)


def test_the_starter_gate_sums_the_classes_of_one_taxon_and_reads_how_sure_the_starter_is():
    from inat.naturalist.ensemble import starter_class_gate
    dog = {"kingdom": "Animalia", "phylum": "Chordata", "class": "Mammalia", "order": "Carnivora",
           "family": "Canidae", "genus": "Canis", "specific_epithet": "familiaris"}
    breeds = [Taxon(i, "Canis familiaris", name, "species", dog) for i, name in enumerate(("Beagle", "Basset"))]
    lion = Taxon(2, "Panthera leo", "Lion", "species", {**dog, "family": "Felidae", "genus": "Panthera",
                                                         "specific_epithet": "leo"})
    starter = Bundle("starter", "efficientnet_lite0", [*breeds, lion], Preprocess(), num_outputs=4,
                     output_index=[0, 1, 2], in_scope_threshold=0.5)
    weights = [-1.0, 0.5, 0.2, 0.3]
    gate = {"weights": [0.0, 0.0, 0.0, 0.0], "by_group": {"other_organism": weights}, "groups": ["other_organism"]}
    m = Mixture(starter, {}, {}, starter_gate=gate, coverage={"0": 1e-3, "1": 1e-3, "2": 1e-3})
    # Two breeds at 0.4 each and the lion at 0.1 (0.1 of the starter's probability on objects): the first taxon is
    # the dog, a share of 0.8 / 0.9 of the group, 0.8 of all the starter's outputs; the group's own weights apply.
    merged = m.combine(np.array([[0.4, 0.4, 0.1, 0.1]]), groups(other_organism=1.0), {})[0]
    trust = starter_class_gate(np.array([0.8 / 0.9]), np.array([1e-3]), weights, np.array([0.8]))[0]
    assert merged[m.starter_map[:2]].sum() == pytest.approx(trust * 0.8 / 0.9)   # the two breeds together
    assert trust != starter_class_gate(np.array([0.4 / 0.9]), np.array([1e-3]), weights, np.array([0.4]))[0]


def test_the_shipped_naturalist_reads_its_starter_gate_and_coverage():
    from inat.naturalist.assemble import naturalist
    e = naturalist()
    m = e.mixture()
    assert m.starter_gated == {"birds", "fungi", "insects", "other_organism", "plants"} and len(m.starter_gate) == 4
    assert set(m.starter_gate_of) == m.starter_gated   # one gate a group
    dragonfly = next(i for i, t in enumerate(e.starter.classes) if t.common_name == "Dragonfly")
    monarch = next(i for i, t in enumerate(e.starter.classes) if t.common_name == "Monarch butterfly")
    assert m.coverage[dragonfly] > 50 * m.coverage[monarch]   # an order against one species


def test_an_expert_installed_before_its_calibration_shipped_gets_the_shipped_one(monkeypatch):
    # The gates were fitted on calibrated probabilities: naturalist must not feed them an uncalibrated expert.
    import dataclasses

    from inat.models.starter import shipped_calibration
    from inat.naturalist import assemble
    old = dataclasses.replace(BIRDS, name="inat2017-birds", calibration={})
    monkeypatch.setattr(assemble, "list_bundles", lambda folder=None: [old])
    e = assemble.naturalist()
    assert shipped_calibration("inat2017-birds")["temperature"] < 1.0
    assert e.experts["birds"].calibration == shipped_calibration("inat2017-birds")
    assert e.experts["birds"].temperature == shipped_calibration("inat2017-birds")["temperature"]


def test_any_bundle_whose_scope_names_a_group_is_that_groups_expert(monkeypatch, caplog):
    # No special case: a user's regional plant model (scope Plantae) joins naturalist as plants47 does.
    import dataclasses
    import logging

    from inat.naturalist import assemble
    plants = [taxon(0, "Trillium ovatum", "Pacific trillium", "Plantae", "Liliopsida"),
              taxon(1, "Iris douglasiana", "Douglas iris", "Plantae", "Liliopsida")]
    regional = Bundle("my-plants", "efficientnet_lite0", plants, Preprocess(), num_outputs=2,
                      scope={"rank": "kingdom", "name": "Plantae", "description": "two plants"})
    unscoped = dataclasses.replace(regional, name="no-scope", scope=None)
    birds = dataclasses.replace(BIRDS, name="inat2017-birds")
    monkeypatch.setattr(assemble, "list_bundles", lambda folder=None: [unscoped, regional, birds])
    with caplog.at_level(logging.WARNING, logger="inat"):
        e = assemble.naturalist()
    assert {g: b.name for g, b in e.experts.items()} == {"plants": "my-plants", "birds": "inat2017-birds"}
    # Never fitted: the most conservative of the fitted gates, said once in the log and kept in `unmeasured`.
    fitted = assemble.load_parameters().gates
    assert e.gates["plants"] == assemble.default_gate({k: v for k, v in fitted.items() if k != "my-plants"})
    assert e.unmeasured == ["my-plants"] and "inat2017-birds" not in e.unmeasured
    assert [r.getMessage() for r in caplog.records if "my-plants" in r.getMessage()] == [
        "my-plants joins naturalist with a default known-species gate: its figures there are unmeasured "
        "(scripts/fit_expert_gates.py fits one on labelled photos)"]


def test_the_default_gate_trusts_a_sure_answer_least_of_the_fitted_ones():
    from inat.naturalist.ensemble import known_species_gate
    from inat.naturalist.manifest import DEFAULT_GATE, default_gate
    fitted = {"a": (-0.9, 0.9), "b": (-1.0, 0.7), "c": (0.5, 1.0)}
    gate = default_gate(fitted)
    assert gate == (-1.0, 0.7)
    assert known_species_gate(np.array([0.9]), *gate)[0] == min(known_species_gate(np.array([0.9]), a, b)[0]
                                                                for a, b in fitted.values())
    assert default_gate({}) == DEFAULT_GATE


def test_an_expert_names_the_genus_it_knows_when_the_species_is_unsure():
    from inat.core.record import identify
    from inat.core.rollup import TaxonTree
    eagles = Bundle("eagles", "mobilenet_v2_tf", [taxon(0, "Haliaeetus leucocephalus", "Bald Eagle", "Animalia", "Aves"),
                                                  taxon(1, "Haliaeetus albicilla", "Sea Eagle", "Animalia", "Aves"),
                                                  taxon(2, "Corvus corax", "Raven", "Animalia", "Aves")],
                    Preprocess(), num_outputs=4, output_index=[0, 1, 2], in_scope_threshold=0.5, expert=True)
    # Species gate: 12 % whatever the expert says; genus gate: the top genus's probability itself.
    m = Mixture(STARTER, {"birds": eagles}, {"birds": 0.0}, gates={"birds": (-2.0, 0.0)},
                genus_gates={"birds": (0.0, 1.0)})
    expert = np.array([[0.45, 0.45, 0.05, 0.05]])                  # unsure which eagle, sure it is an eagle
    merged = m.combine(np.array([[0.0, 0.0, 0.0, 0.5, 0.5]]), groups(birds=1.0), {"birds": expert})[0]
    species, unnamed = named(m, merged)
    q = np.array([0.45, 0.45, 0.05]) / 0.95
    known, genus = 1 / (1 + np.exp(2.0)), q[:2].sum()
    assert species["Haliaeetus leucocephalus"] == pytest.approx(known * q[0])
    assert unnamed["Haliaeetus"] == pytest.approx((genus - known) * q[:2].sum())   # "an eagle it has no species for"
    assert unnamed["Aves"] == pytest.approx(1 - genus) and merged.sum() == pytest.approx(1.0)
    r = identify(TaxonTree(m.tree_taxa), merged, "x", "naturalist", 3, ranked=len(m.taxa))
    assert (r.ancestor["rank"], r.ancestor["name"]) == ("genus", "Haliaeetus")      # named as far as it is likely
    assert all(p.taxon.rank == "species" for p in r.predictions)                    # a genus member is never ranked
    # Without a genus gate the same photo stays "a bird".
    plain = Mixture(STARTER, {"birds": eagles}, {"birds": 0.0}, gates={"birds": (-2.0, 0.0)})
    merged = plain.combine(np.array([[0.0, 0.0, 0.0, 0.5, 0.5]]), groups(birds=1.0), {"birds": expert})[0]
    assert identify(TaxonTree(plain.tree_taxa), merged, "x", "naturalist", 3, ranked=len(plain.taxa)).ancestor["rank"] \
        != "genus"
