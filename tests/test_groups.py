"""inat.naturalist.groups: the one table of groups, and that every other module reads it rather than keeping its own."""
from __future__ import annotations

import re

import pytest
from conftest import REPO

from inat.naturalist.groups import DEFINED, GROUPS, NOT_ORGANISM, TABLE, UNNAMED, WORDS, Group, group_of


@pytest.mark.parametrize("lineage, group", [
    ({"kingdom": "Plantae", "phylum": "Tracheophyta", "class": "Magnoliopsida"}, "plants"),
    ({"kingdom": "Animalia", "phylum": "Chordata", "class": "Aves", "order": "Strigiformes"}, "birds"),
    ({"class": "Aves"}, "birds"),                                        # a partial lineage is enough
    ({"kingdom": "Animalia", "phylum": "Arthropoda", "class": "Insecta"}, "insects"),
    ({"kingdom": "Fungi", "phylum": "Basidiomycota", "class": "Agaricomycetes", "genus": "Amanita"}, "fungi"),
    ({"kingdom": "Fungi"}, "fungi"),                                     # a mushroom is never a plant
    ({"kingdom": "Animalia", "phylum": "Chordata", "class": "Mammalia", "order": "Primates"}, "other_organism"),
    ({"kingdom": "Animalia", "phylum": "Arthropoda", "class": "Arachnida"}, "other_organism"),
    ({}, "other_organism"),
    (None, "not_organism"),
])
def test_group_of_follows_the_table(lineage, group):
    assert group_of(lineage) == group


def test_the_table_gives_names_lineages_and_words():
    assert GROUPS == ("plants", "birds", "insects", "fungi", "other_organism", "not_organism")
    assert GROUPS[NOT_ORGANISM] == "not_organism" and NOT_ORGANISM == len(GROUPS) - 1
    assert DEFINED["fungi"] == {"kingdom": "Fungi"} and "other_organism" not in DEFINED
    assert UNNAMED["birds"] == {"kingdom": "Animalia", "phylum": "Chordata", "class": "Aves"}
    assert UNNAMED["other_organism"] == {}
    assert WORDS == {"plants": "a plant", "birds": "a bird", "insects": "an insect", "fungi": "a fungus",
                     "other_organism": "an organism"}
    assert [g.defined_by for g in TABLE] == [("kingdom", "Plantae"), ("class", "Aves"), ("class", "Insecta"),
                                             ("kingdom", "Fungi"), None]


def test_a_row_with_ranks_out_of_order_is_refused():
    with pytest.raises(ValueError, match="top-down"):
        Group("odd", {"class": "Aves", "kingdom": "Animalia"})
    with pytest.raises(ValueError, match="lineage ranks"):
        Group("odd", {"realm": "x"})


def test_every_reader_uses_the_one_table():
    from inat.app import views
    from inat.naturalist import ensemble as naturalist
    from inat.naturalist import router, router_groups, scope
    assert router_groups.group_of is group_of and router_groups.GROUPS is GROUPS
    assert naturalist.UNNAMED is UNNAMED and scope.DEFINED is DEFINED
    assert router.EXTRA_NAMES[1:] == tuple(f"log_mass_{g}" for g in GROUPS[:NOT_ORGANISM])
    assert all(views.everyday(g.defined_by[1]) == g.word for g in TABLE if g.lineage)
    # no module or script keeps a group list, a group → lineage map or an if-chain on a group's taxon of its own
    # (the four places that once did would all match; the table itself is written as Group rows)
    pattern = re.compile(r'GROUPS = \(|"(plants|birds|insects|fungi|other_organism)": \{("kingdom"|\})'
                         r'|return "(plants|birds|insects|fungi|other_organism)"')
    sources = [*REPO.glob("inat/**/*.py"), *REPO.glob("scripts/*.py"), *REPO.glob("benchmarks/*.py")]
    assert {p.relative_to(REPO).as_posix() for p in sources if pattern.search(p.read_text(encoding="utf-8"))} \
        == set()
