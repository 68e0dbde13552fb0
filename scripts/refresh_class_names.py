"""Refresh a bundle's class names from its dataset's annotation JSON, without touching the weights.

    python scripts/refresh_class_names.py weights/plants47 --categories ../shared/data/inat21-plants47/val.json

Classes are matched by their dataset category id (`class_id`); the common and scientific names are
copied exactly as the JSON spells them (never re-cased), the taxonomy is left as it is, and a line in
the bundle's provenance records what changed and from which file. Only bundle.json is rewritten
(atomically); the weights and their `weights_id` are unchanged, so exports stay valid.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path

from inat.core.taxonomy import from_inat_json  # noqa: E402
from inat.models.bundle import JSON_NAME, load_bundle, write_json_atomic  # noqa: E402


def refresh(folder: Path, categories: Path) -> list[tuple[str, str]]:
    """Rewrite `folder`'s bundle.json with the names of `categories`; returns the (old, new) names changed."""
    load_bundle(folder)  # refuses anything that is not a readable bundle
    meta = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    names = {t.class_id: t for t in from_inat_json(categories)}
    changed = []
    for c in meta["classes"]:
        t = names.get(c["class_id"])
        if t is None:
            raise SystemExit(f"{categories}: no category {c['class_id']} ({c['scientific_name']})")
        for key, new in (("common_name", t.common_name), ("scientific_name", t.scientific_name)):
            if c.get(key) != new:
                changed.append((str(c.get(key)), str(new)))
                c[key] = new
    if changed:
        meta.setdefault("provenance", {})["names"] = (
            f"{len(changed)} class names refreshed from {categories} on {_dt.date.today().isoformat()} "
            f"by scripts/refresh_class_names.py (weights unchanged)")
        write_json_atomic(folder / JSON_NAME, meta)
    return changed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", type=Path, help="bundle folder")
    ap.add_argument("--categories", type=Path, required=True, help="iNat 2021 annotation JSON (train_mini.json, val.json)")
    args = ap.parse_args(argv)
    changed = refresh(args.bundle, args.categories)
    for old, new in changed:
        print(f"{old!r} -> {new!r}")
    print(f"{len(changed)} names changed in {args.bundle / JSON_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
