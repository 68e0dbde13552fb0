"""A day's photos as observations: which files, one table row per photo, and the CSV file.

The row adapts one `predict --json` record plus what EXIF says (exif.photo_metadata) and the place
name (places.place_guess); nothing is recomputed. Column names follow iNaturalist's observation
export where it has one, so tools that read iNat exports read this file.

What the taxon columns name: the taxon the model is sure of, as an iNaturalist identifier would
record it — the record's `ancestor`, the deepest taxon whose summed probability reaches the
"pretty sure" level (a species when the model is sure of the species, else a genus, a family...),
and `probability` is that taxon's summed probability. The model's single best class is kept too,
in `species_guess` (iNat's field for the name the observer typed), with its own probability. When
the model is not sure even of a kingdom, the taxon columns stay empty and only the guess is given.
"""
from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from ..core.taxonomy import higher_taxon
from .exif import PhotoMetadata, photo_metadata
from .places import place_guess

# The CSV contract of `predict PATH... --csv OUT.csv`, in this order; extra columns follow.
COLUMNS = ("file", "observed_on", "time_observed_at", "latitude", "longitude", "place_guess",
           "scientific_name", "common_name", "taxon_rank", "taxon_id", "probability", "ancestor",
           "in_scope", "iconic_taxon_name", "model", "error")
EXTRA_COLUMNS = ("observed_on_string", "positional_accuracy", "species_guess", "species_guess_common_name",
                 "species_guess_probability")
ALL_COLUMNS = COLUMNS + EXTRA_COLUMNS

# Folders are walked for these (lower-case) suffixes: what phones, cameras and Pillow produce and
# read. RAW formats are left out (Pillow cannot decode them); a file named explicitly is always kept.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif", ".tif", ".tiff",
                            ".bmp", ".gif"})

# iNaturalist's iconic taxa by the rank at which each sits; the deepest match in a lineage wins
# (Insecta before Animalia), as on iNat.
ICONIC_CLASSES = ("Aves", "Amphibia", "Reptilia", "Mammalia", "Actinopterygii", "Arachnida", "Insecta")
ICONIC_PHYLA = ("Mollusca",)
ICONIC_KINGDOMS = ("Plantae", "Fungi", "Animalia", "Protozoa", "Chromista")
_RANK_ORDER = ("kingdom", "phylum", "class", "order", "family", "genus", "species")


def image_files(paths) -> list[str]:
    """The files to identify, in a stable order: each path as given, or for a folder the images in
    it and its sub-folders (by IMAGE_SUFFIXES, hidden files and folders skipped, symlinked folders
    not followed), sorted by their path inside the folder. A path that does not exist, and a folder
    with no photo in it, are kept so that their rows can say so."""
    out = []
    for p in paths:
        root = Path(p)
        if not root.is_dir():
            out.append(str(p))
            continue
        found = []
        for folder, dirs, files in os.walk(root):  # followlinks=False: no loops through symlinks
            dirs[:] = [d for d in dirs if not d.startswith(".")]  # .thumbnails, .Trashes, ...
            for name in files:
                # "._IMG_1.jpg" files are macOS metadata, not images.
                if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES:
                    found.append(Path(folder, name))
        # A folder with no photo is kept as itself, so that its row (or --json line) says so in input order.
        out.extend([str(f) for f in sorted(found, key=lambda f: f.relative_to(root).parts)] or [str(p)])
    return out


def observation_row(file: str, record: dict, metadata: PhotoMetadata | None = None,
                    place: str | None = None) -> dict:
    """One table row (ALL_COLUMNS → value; None where empty) for a file, its prediction record,
    its EXIF metadata and place name. A record with an error gives the row with `error` filled and
    no prediction fields; the date and place are kept when known."""
    m = metadata or PhotoMetadata()
    row = dict.fromkeys(ALL_COLUMNS)
    row.update(file=str(file), observed_on=m.observed_on, time_observed_at=m.time_observed_at,
               latitude=m.latitude, longitude=m.longitude, place_guess=place,
               observed_on_string=m.observed_on_string, positional_accuracy=m.positional_accuracy,
               model=record.get("model"), error=record.get("error") or None)
    predictions = record.get("predictions") or []
    if row["error"] or not predictions:
        return row
    top = predictions[0]
    row.update(species_guess=top.get("scientific_name"), species_guess_common_name=top.get("common_name"),
               species_guess_probability=_round(top.get("probability")), in_scope=record.get("in_scope"))
    ancestor = record.get("ancestor")
    if not ancestor:
        return row
    rank, name = ancestor.get("rank"), ancestor.get("name")
    member = _member(predictions, rank, name)  # a ranked class inside the named taxon, if any
    lineage = _lineage(member, rank) if member else {rank: name}
    at_class = member if member and rank == "species" and _species(member) == name else None
    group_id, group_name = higher_taxon(rank, name) if rank != "species" else (None, None)
    row.update(scientific_name=name, taxon_rank=rank, probability=_round(ancestor.get("probability")),
               common_name=ancestor.get("common_name") or (at_class or {}).get("common_name") or group_name,
               taxon_id=ancestor.get("taxon_id") or (at_class or {}).get("taxon_id") or group_id,
               ancestor=f"{rank} {name}", iconic_taxon_name=iconic_taxon(lineage))
    return row


def observation_rows(records) -> list[dict]:
    """Rows for `Predictor.predict` records of files: EXIF and place name read for each `image`."""
    rows = []
    for r in records:
        meta = photo_metadata(r["image"])
        rows.append(observation_row(r["image"], r, meta, place_guess(meta.latitude, meta.longitude)))
    return rows


def iconic_taxon(lineage: dict) -> str | None:
    """iNaturalist's iconic taxon for a lineage {rank: name} (e.g. "Aves", "Plantae"), or None."""
    if lineage.get("class") in ICONIC_CLASSES:
        return lineage["class"]
    if lineage.get("phylum") in ICONIC_PHYLA:
        return lineage["phylum"]
    if lineage.get("kingdom") in ICONIC_KINGDOMS:
        return lineage["kingdom"]
    return None


def write_csv(rows, path) -> Path:
    """Write rows to `path` as UTF-8 CSV (header always, even with no rows; ALL_COLUMNS first, then
    any other keys the rows carry), atomically: a reader never sees half a file. Returns the path."""
    rows = list(rows)
    columns = list(ALL_COLUMNS) + [k for k in dict.fromkeys(k for r in rows for k in r) if k not in ALL_COLUMNS]
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, columns, lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({k: _cell(r.get(k)) for k in columns})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- helpers ------------------------------------------------------------------------------------
def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as iNat's export writes booleans
    return str(value)


def _round(p):
    return None if p is None else round(float(p), 4)


def _species(pred: dict) -> str | None:
    tax = pred.get("taxonomy") or {}
    return f"{tax['genus']} {tax['specific_epithet']}" if tax.get("genus") and tax.get("specific_epithet") else None


def _member(predictions, rank, name) -> dict | None:
    """The best-ranked prediction whose lineage holds (rank, name)."""
    for p in predictions:
        value = _species(p) if rank == "species" else (p.get("taxonomy") or {}).get(rank)
        if value == name:
            return p
    return None


def _lineage(pred: dict, rank: str) -> dict:
    """A prediction's lineage {rank: name} cut at `rank` (the named taxon's ancestors and itself)."""
    tax = pred.get("taxonomy") or {}
    full = {r: (_species(pred) if r == "species" else tax.get(r)) for r in _RANK_ORDER}
    keep = _RANK_ORDER[: _RANK_ORDER.index(rank) + 1] if rank in _RANK_ORDER else _RANK_ORDER
    return {r: full[r] for r in keep if full[r]}
