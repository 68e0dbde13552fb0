"""inat.app.figures: the Compare tab's PNG, drawn once per distinct input, each in its own folder."""
import os
import time
from pathlib import Path

import inat.app.figures as figures
from conftest import HISTORY

RUNS = [{"name": "a", "arch": "resnet50", "init": "scratch", "history": HISTORY},
        {"name": "b", "arch": "efficientnet_b0", "init": "imagenet", "history": HISTORY[:2]}]


def test_one_png_per_distinct_drawing():
    first = Path(figures.compare_png(RUNS, "top-1", ["a", "b"]))
    assert first.name == "inat-runs-top-1.png" and first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figures.compare_png(RUNS, "top-1", ["b", "a"]) == str(first)  # the same selection, drawn once
    # Another metric, another selection, other runs: each drawn anew, each file in a folder of its own
    # (one user's download never overwrites another's).
    others = {figures.compare_png(RUNS, "loss", ["a", "b"]), figures.compare_png(RUNS, "top-1", ["a"]),
              figures.compare_png(RUNS[:1], "top-1", ["a", "b"])}
    assert len({Path(p).parent for p in others | {str(first)}}) == 4


def test_old_pngs_are_removed_drawn_again_when_asked_and_few_are_remembered(monkeypatch):
    old = Path(figures.compare_png(RUNS, "loss", ["b"]))
    hour_ago = time.time() - figures.MAX_AGE_S - 10
    os.utime(old, (hour_ago, hour_ago))
    monkeypatch.setattr(figures, "MAX_KEPT", 1)
    figures.compare_png(RUNS, "loss", ["a"])  # drawing a new one cleans up
    assert not old.exists() and not old.parent.exists()
    assert len(figures._pngs) == 1
    again = Path(figures.compare_png(RUNS, "loss", ["b"]))  # its file is gone: drawn again
    assert again.is_file() and again != old
