"""The groups: what kind of thing a photo shows, as far as `naturalist` acts on it. One table, one home.

    >>> group_of({"kingdom": "Fungi", "class": "Agaricomycetes"})
    'fungi'
    >>> GROUPS
    ('plants', 'birds', 'insects', 'fungi', 'other_organism', 'not_organism')

Each organism group is one row of `TABLE`: its name, its lineage down to the rank that defines it
(birds: kingdom Animalia, phylum Chordata, class Aves — the class decides), and the everyday word the
app uses for it. The lineage is also the group's unnamed member in `naturalist` ("a bird, not one any
model names": class Aves) and what a bundle's declared scope is matched against (`inat.naturalist.scope`).
`other_organism` is every organism no other row claims (mammals, fish, spiders, molluscs…): it has no
lineage, so its unnamed members follow the starter's classes (`inat.naturalist.ensemble`). `not_organism` (objects,
scenes) is the last group and no row: it has no taxonomy. The router (`inat.naturalist.router`), scope, naturalist,
the priors script and the app all read this table; adding a row is adding a group (and retraining the
router: scripts/train_router.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core.taxonomy import RANKS


@dataclass(frozen=True)
class Group:
    name: str
    lineage: dict = field(default_factory=dict)  # rank → name, top-down; its last rank defines the group
    word: str = "an organism"                     # everyday word: "a bird"

    def __post_init__(self):
        if list(self.lineage) != [r for r in RANKS if r in self.lineage]:
            raise ValueError(f"group {self.name}: lineage ranks must be among {RANKS}, top-down, not {list(self.lineage)}")

    @property
    def defined_by(self) -> tuple[str, str] | None:
        """(rank, name) that decides membership, e.g. ("class", "Aves"); None for other_organism."""
        return next(reversed(self.lineage.items())) if self.lineage else None


TABLE = (
    Group("plants", {"kingdom": "Plantae"}, "a plant"),
    Group("birds", {"kingdom": "Animalia", "phylum": "Chordata", "class": "Aves"}, "a bird"),
    Group("insects", {"kingdom": "Animalia", "phylum": "Arthropoda", "class": "Insecta"}, "an insect"),
    Group("fungi", {"kingdom": "Fungi"}, "a fungus"),
    Group("other_organism", {}, "an organism"),   # every organism the rows above do not claim
)
OTHER = "other_organism"
NOT_ORGANISM_NAME = "not_organism"
GROUPS = tuple(g.name for g in TABLE) + (NOT_ORGANISM_NAME,)
NOT_ORGANISM = GROUPS.index(NOT_ORGANISM_NAME)
ORGANISM_GROUPS = GROUPS[:NOT_ORGANISM]
DEFINED = {g.name: dict(g.lineage) for g in TABLE if g.lineage}    # the groups a lineage decides
UNNAMED = {g.name: dict(g.lineage) for g in TABLE}                  # naturalist's unnamed member of each group
WORDS = {g.name: g.word for g in TABLE}


def group_of(taxonomy: dict | None) -> str:
    """The group of an organism with this taxonomy ({kingdom, class, ...}, partial is fine); None → not_organism."""
    if taxonomy is None:
        return NOT_ORGANISM_NAME
    for g in TABLE:
        if g.lineage:
            rank, name = g.defined_by
            if taxonomy.get(rank) == name:
                return g.name
    return OTHER

