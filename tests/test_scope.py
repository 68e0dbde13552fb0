"""inat.naturalist.scope: which router groups a bundle's declared world covers, and the guard on real photos."""
from __future__ import annotations

import pytest
from conftest import REPO, shared

from inat.models.bundle import load_bundle
from inat.naturalist.router_groups import GROUPS
from inat.naturalist.scope import expert_group, scope_groups, scope_lineage


def names(indices):
    return [GROUPS[i] for i in indices]


@pytest.mark.parametrize("lineage, groups", [
    ({"kingdom": "Plantae"}, ["plants"]),
    ({"kingdom": "Plantae", "phylum": "Tracheophyta"}, ["plants"]),
    ({"kingdom": "Animalia"}, ["birds", "insects", "other_organism"]),
    ({"kingdom": "Animalia", "phylum": "Chordata"}, ["birds", "other_organism"]),
    ({"kingdom": "Animalia", "phylum": "Chordata", "class": "Aves"}, ["birds"]),
    ({"kingdom": "Animalia", "phylum": "Arthropoda", "class": "Insecta", "order": "Lepidoptera"}, ["insects"]),
    ({"kingdom": "Fungi"}, ["fungi"]),
    ({"kingdom": "Fungi", "phylum": "Basidiomycota"}, ["fungi"]),
    ({}, ["plants", "birds", "insects", "fungi", "other_organism"]),
])
def test_a_scope_covers_the_groups_it_overlaps(lineage, groups):
    assert names(scope_groups(lineage)) == groups


def test_scope_lineage_and_expert_group_come_from_the_classes():
    plants47 = load_bundle(REPO / "weights" / "plants47")
    assert scope_lineage(plants47.scope, plants47.classes) == {"kingdom": "Plantae"}
    assert expert_group(plants47) == "plants"


@pytest.mark.integration
@pytest.mark.shared
def test_a_closed_set_bundle_says_a_bird_is_outside_its_world():
    from inat.identify.predict import Predictor
    robin = shared("data/birds525/photos/AMERICAN_ROBIN/1.jpg")
    r = Predictor("plants47").predict([robin])[0]
    assert r.in_scope is False and r.ancestor is None and r.scope["name"] == "Plantae"
    assert r.groups["birds"] > 0.9 and r.scope_probability < 0.1
