"""Taxon records, the one display-name formatter, and the readers for the category formats we meet.

Three sources describe the classes of a model:
  (a) an iNat 2021 annotation JSON (`train_mini.json`, `val.json`, ...): its `categories` list;
  (b) iNat 2021 folder names (`00000_Animalia_Annelida_..._Lumbricus_terrestris`);
  (c) the thesis's tab-separated categories file (header `common_name kingdom phylum class order
      family genus specific_epithet`, row index = class index).
All of them become a list of `Taxon`, one per model class, in class-index order. Summing
probabilities up the tree is `inat.core.rollup`'s job.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .paths import ASSETS

# The Linnaean path stored with every class, top-down (the iNat 2021 category fields).
TAXONOMY_KEYS = ("kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet")
# Ranks we roll probabilities up to; "species" is genus + specific_epithet.
RANKS = ("kingdom", "phylum", "class", "order", "family", "genus", "species")
THESIS_TSV_HEADER = ("common_name",) + TAXONOMY_KEYS
# iNaturalist's id and English name of the taxa above species the shipped models' classes sit in
# (scripts/build_higher_taxa.py).
HIGHER_TAXA_TSV = ASSETS / "higher_taxa.tsv"


class TaxonomyError(ValueError):
    """A categories file we cannot read; the message is one line naming the file."""


def display_name(common_name: str | None, scientific_name: str) -> str:
    """'Common name (Scientific name)', or the scientific name alone when there is no distinct common name.

    Names are shown exactly as the source spells them: nothing here (or anywhere in inat) re-cases a name.
    """
    if common_name and common_name != scientific_name:
        return f"{common_name} ({scientific_name})"
    return scientific_name


@dataclass(frozen=True)
class Taxon:
    """One model class: the dataset's own category id, names, rank, Linnaean path and iNat taxon id."""

    class_id: int
    scientific_name: str
    common_name: str | None = None
    rank: str = "species"
    taxonomy: dict = field(default_factory=dict)
    taxon_id: int | None = None    # iNaturalist's taxon id, when known (the card links to its page)

    def to_dict(self) -> dict:
        """The record as the JSON contract spells it (all taxonomy keys present, None when unknown;
        `taxon_id` only when known)."""
        out = {
            "class_id": self.class_id,
            "scientific_name": self.scientific_name,
            "common_name": self.common_name,
            "rank": self.rank,
            "taxonomy": {k: self.taxonomy.get(k) or None for k in TAXONOMY_KEYS},
        }
        if self.taxon_id is not None:
            out["taxon_id"] = self.taxon_id
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Taxon":
        tax = d.get("taxonomy") or {}
        if not isinstance(tax, dict):
            raise ValueError(f"class {d.get('class_id')!r}: taxonomy must be an object")
        for key, value in [("scientific_name", d["scientific_name"]), ("common_name", d.get("common_name")),
                           ("rank", d.get("rank")), *tax.items()]:
            if value is not None and not isinstance(value, (str, int, float)):  # a list would break roll-up later
                raise ValueError(f"class {d.get('class_id')!r}: {key} must be text, not {type(value).__name__}")
        common, taxon_id = d.get("common_name"), d.get("taxon_id")
        if taxon_id is not None and (isinstance(taxon_id, bool) or not isinstance(taxon_id, int)):
            raise ValueError(f"class {d.get('class_id')!r}: taxon_id must be an integer, not {taxon_id!r}")
        return cls(
            class_id=int(d["class_id"]),
            scientific_name=str(d["scientific_name"]),
            common_name=str(common) if common else None,
            rank=str(d.get("rank") or "species"),
            taxonomy={k: str(tax[k]) if tax.get(k) else None for k in TAXONOMY_KEYS},
            taxon_id=taxon_id,
        )

    def lineage(self) -> list[tuple[str, str]]:
        """[(rank, name)] from kingdom down to species, skipping ranks the record leaves empty."""
        out = []
        for rank in RANKS:
            if rank == "species":
                genus, epithet = self.taxonomy.get("genus"), self.taxonomy.get("specific_epithet")
                name = f"{genus} {epithet}" if genus and epithet else None
            else:
                name = self.taxonomy.get(rank)
            if name:
                out.append((rank, name))
        return out

    @property
    def label(self) -> str:
        """`display_name` of this taxon: unique even when two classes share a common name."""
        return display_name(self.common_name, self.scientific_name)


def _taxon_from_fields(class_id: int, fields: dict, common_name=None, scientific_name=None) -> Taxon:
    tax = {k: (str(fields[k]).strip() or None) if fields.get(k) is not None else None for k in TAXONOMY_KEYS}
    if not scientific_name:
        if tax["genus"] and tax["specific_epithet"]:
            scientific_name = f"{tax['genus']} {tax['specific_epithet']}"
        else:  # the deepest rank that is filled names the taxon
            scientific_name = next((tax[k] for k in reversed(TAXONOMY_KEYS[:-1]) if tax[k]), str(class_id))
    rank = "species" if tax["specific_epithet"] else next(
        (k for k in reversed(TAXONOMY_KEYS[:-1]) if tax[k]), "species")
    return Taxon(class_id, scientific_name, (common_name or None), rank, tax)


def from_inat_json(source) -> list[Taxon]:
    """Taxa from an iNat 2021 annotation JSON (path or parsed dict), sorted by category id.

    Sorting by id is the class-index order torchvision and the 2021 release use (folder names start
    with the zero-padded id); ids may be sparse when the dataset is a subset.
    """
    path = None
    if not isinstance(source, dict):
        path = Path(source)
        try:
            source = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise TaxonomyError(f"{path}: not a readable iNat JSON file ({e.__class__.__name__})") from None
    cats = source.get("categories") if isinstance(source, dict) else None
    if not cats:
        raise TaxonomyError(f"{path or 'annotation'}: no 'categories' list (is it an iNat 2021 JSON?)")
    taxa = [_taxon_from_fields(int(c["id"]), c, c.get("common_name"), c.get("name")) for c in cats]
    return sorted(taxa, key=lambda t: t.class_id)


def parse_folder_name(name: str) -> Taxon:
    """Taxon from an iNat 2021 folder name `00000_Kingdom_Phylum_Class_Order_Family_Genus_epithet`."""
    parts = name.split("_")
    if len(parts) < 8 or not parts[0].isdigit():
        raise TaxonomyError(f"{name!r} is not an iNat 2021 folder name (id_Kingdom_..._Genus_epithet)")
    # The epithet itself may contain underscores-free hyphens; extra parts belong to it.
    fields = dict(zip(TAXONOMY_KEYS[:-1], parts[1:7]))
    fields["specific_epithet"] = " ".join(parts[7:])
    return _taxon_from_fields(int(parts[0]), fields)


def from_folder_names(names) -> list[Taxon]:
    """Taxa from iNat 2021 folder names, sorted by id."""
    return sorted((parse_folder_name(n) for n in names), key=lambda t: t.class_id)


def from_thesis_tsv(path) -> list[Taxon]:
    """Taxa from the thesis's categories file; the row index is the class index and class id."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TaxonomyError(f"{path}: cannot read categories file ({e.__class__.__name__})") from None
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    if not rows or tuple(c.strip() for c in rows[0]) != THESIS_TSV_HEADER:
        raise TaxonomyError(f"{path}: header must be the tab-separated columns {' '.join(THESIS_TSV_HEADER)}")
    taxa = []
    for i, row in enumerate(rows[1:]):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(THESIS_TSV_HEADER):
            raise TaxonomyError(f"{path}: row {i + 2} has {len(row)} columns, expected {len(THESIS_TSV_HEADER)}")
        rec = dict(zip(THESIS_TSV_HEADER, row))
        taxa.append(_taxon_from_fields(len(taxa), rec, rec["common_name"].strip()))
    return taxa


def load_categories(path) -> list[Taxon]:
    """Taxa from a categories file of any supported kind (iNat JSON, or the thesis TSV)."""
    path = Path(path)
    if not path.is_file():
        raise TaxonomyError(f"{path}: no such categories file")
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    return from_inat_json(path) if head.startswith(b"{") else from_thesis_tsv(path)


@lru_cache(maxsize=1)
def _higher_taxa() -> dict[tuple[str, str], tuple[int, str | None]]:
    try:
        with open(HIGHER_TAXA_TSV, encoding="utf-8", newline="") as f:
            return {(r["rank"], r["scientific_name"]): (int(r["taxon_id"]), r["common_name"] or None)
                    for r in csv.DictReader(f, delimiter="\t")}
    except (OSError, ValueError, KeyError):
        return {}


def higher_taxon(rank: str, name: str) -> tuple[int | None, str | None]:
    """(iNaturalist taxon id, English common name) of a taxon above species ("class", "Mammalia") → (40151,
    "Mammals"); None for what assets/higher_taxa.tsv does not hold."""
    return _higher_taxa().get((rank, name), (None, None))
