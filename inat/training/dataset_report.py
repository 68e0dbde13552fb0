"""`python -m inat dataset-report`: the thesis's table of a dataset by kingdom and phylum.

    python -m inat dataset-report --data ../shared/data/inat21-plants47

One row per phylum (grouped by kingdom) with its species and its training and validation photos,
then per-kingdom subtotals and the total. Reads annotation files or folder listings only.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from .data import DatasetError, load_split, split_source

TRAIN_SPLITS = ("train_mini", "train")  # the first one present is "the training split"


def _has_split(data_dir, split: str) -> bool:
    try:
        split_source(data_dir, split)
        return True
    except DatasetError:
        return False


def dataset_table(data_dir, train_split: str | None = None, val_split: str = "val") -> dict:
    """Species and photo counts by kingdom and phylum.

    Returns {"data", "train_split", "val_split", "rows": [{"kingdom", "phylum", "species",
    "train_images", "val_images"}], "kingdoms": [same keys but phylum], "total": {...}}; a split
    that is absent counts 0 photos. Rows are sorted by kingdom, then phylum.
    """
    train_split = train_split or next((s for s in TRAIN_SPLITS if _has_split(data_dir, s)), None)
    splits = [s for s in (train_split, val_split) if s and _has_split(data_dir, s)]
    if not splits:
        raise DatasetError(f"{data_dir}: neither a training split ({' or '.join(TRAIN_SPLITS)}) nor {val_split!r}")
    species: dict[tuple, set] = {}
    counts = {"train_images": Counter(), "val_images": Counter()}
    for split in splits:
        data = load_split(data_dir, split)
        key = "train_images" if split == train_split else "val_images"
        for t in data.taxa:
            species.setdefault(_group(t), set()).add(t.class_id)
        for _, target in data.samples:
            counts[key][_group(data.taxa[target])] += 1
    rows = [{"kingdom": k, "phylum": p, "species": len(ids), "train_images": counts["train_images"][(k, p)],
             "val_images": counts["val_images"][(k, p)]} for (k, p), ids in sorted(species.items())]
    kingdoms: dict[str, dict] = {}
    for r in rows:
        k = kingdoms.setdefault(r["kingdom"], {"kingdom": r["kingdom"], "species": 0, "train_images": 0,
                                               "val_images": 0})
        for key in ("species", "train_images", "val_images"):
            k[key] += r[key]
    total = {key: sum(r[key] for r in rows) for key in ("species", "train_images", "val_images")}
    return {"data": str(Path(data_dir)), "train_split": train_split, "val_split": val_split, "rows": rows,
            "kingdoms": list(kingdoms.values()), "total": total}


def _group(taxon) -> tuple[str, str]:
    return (taxon.taxonomy.get("kingdom") or "?", taxon.taxonomy.get("phylum") or "?")


def format_table(t: dict) -> str:
    """The table as text, kingdoms with their phyla indented below them."""
    head = f"{'kingdom / phylum':<30} {'species':>8} {'train':>9} {'val':>8}"
    lines = [f"{t['data']}  (train = {t['train_split']}, val = {t['val_split']})", head, "-" * len(head)]
    for k in t["kingdoms"]:
        lines.append(f"{k['kingdom']:<30} {k['species']:>8,} {k['train_images']:>9,} {k['val_images']:>8,}")
        for r in (r for r in t["rows"] if r["kingdom"] == k["kingdom"]):
            lines.append(f"  {r['phylum']:<28} {r['species']:>8,} {r['train_images']:>9,} {r['val_images']:>8,}")
    tot = t["total"]
    lines += ["-" * len(head), f"{'total':<30} {tot['species']:>8,} {tot['train_images']:>9,} {tot['val_images']:>8,}"]
    return "\n".join(lines)
