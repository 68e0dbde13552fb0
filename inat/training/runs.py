"""Recorded training runs: every bundle's history plus the run records in a runs folder.

A run record is a bundle.json (weights optional: the comparison runs keep only their record), so
`python -m inat runs` and the Compare tab read one format:
    {"name", "arch", "init", "dataset", "img_size", "epochs", "best_epoch", "history": [...], ...}
where each history item has epoch, train_loss, train_top1, val_loss, val_top1, val_top5, lr,
seconds, images_per_s.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..core.paths import RUNS
from ..models.bundle import JSON_NAME
from ..models.registry import weights_dir

HISTORY_KEYS = ("epoch", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "lr", "seconds",
                "images_per_s")


def runs_dir() -> Path:
    """Where run records live: $INAT_RUNS, else the `runs/` folder of this repository."""
    env = os.environ.get("INAT_RUNS")
    return Path(env) if env else RUNS


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def valid_history(history) -> bool:
    """A list of epoch records whose present metrics are numbers, epochs 1, 2, 3..."""
    return (isinstance(history, list) and all(isinstance(h, dict) for h in history)
            and all(h.get(k) is None or _number(h.get(k)) for h in history for k in HISTORY_KEYS)
            and [h.get("epoch") for h in history] == list(range(1, len(history) + 1)))


def run_record(meta: dict, source: Path) -> dict:
    """The run view of a bundle.json: contract keys first, then what the table needs."""
    run = meta.get("run") if isinstance(meta.get("run"), dict) else {}
    history = list(meta.get("history") or [])
    best = run.get("best_epoch")
    if best is None and history:
        best = max(history, key=lambda h: h.get("val_top1") or 0).get("epoch")
    return {
        "name": meta.get("name") or source.parent.name, "arch": meta.get("arch"), "init": run.get("init"),
        "dataset": run.get("dataset"), "img_size": run.get("img_size") or (meta.get("preprocess") or {}).get("input_size"),
        # epochs run so far: a run still in progress (or killed) shows what it has done
        "epochs": len(history), "epochs_planned": run.get("epochs", len(history)),
        "best_epoch": best, "history": history,
        "seconds": run.get("seconds") or sum(h.get("seconds") or 0 for h in history) or None,
        "device": run.get("device"), "command": run.get("command"), "source": str(source),
        # classes it learnt: chance level on its data set is 1 in this many (the Compare tab draws it)
        "num_classes": len(meta["classes"]) if isinstance(meta.get("classes"), list) and meta["classes"] else None,
    }


def list_runs(weights: Path | None = None, runs: Path | None = None) -> list[dict]:
    """Every recorded run with a history, from the weights folder and the runs folder, by name."""
    out, seen = [], set()
    for folder in (weights or weights_dir(), runs or runs_dir()):
        if not folder.is_dir():
            continue
        for meta_file in sorted(folder.glob(f"*/{JSON_NAME}")):
            try:
                meta = json.loads(meta_file.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):
                continue
            # A hand-edited or hostile record is skipped, not a crash of `runs` and the Compare tab.
            if not isinstance(meta, dict) or not valid_history(meta.get("history")):
                continue
            rec = run_record(meta, meta_file)
            if not isinstance(rec["name"], str):
                continue
            if rec["history"] and rec["name"] not in seen:
                seen.add(rec["name"])
                out.append(rec)
    return out
