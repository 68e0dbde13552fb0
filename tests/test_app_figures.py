"""inat.app.figures: the About tab's reliability diagram, drawn once per distinct input, each in its own folder."""
import os
import time
from pathlib import Path

import inat.app.figures as figures

BINS = [{"lo": 0.6, "hi": 0.67, "n": 10, "confidence": 0.63, "accuracy": 0.6},
        {"lo": 0.93, "hi": 1.0, "n": 40, "confidence": 0.97, "accuracy": 0.95}]


def test_one_png_per_distinct_drawing():
    first = Path(figures.reliability_png(BINS, None, "a"))
    assert first.name == "reliability.png" and first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figures.reliability_png(BINS, None, "a") == str(first)  # the same diagram, drawn once
    others = {figures.reliability_png(BINS, BINS[:1], "a"), figures.reliability_png(BINS, None, "b")}
    assert len({Path(p).parent for p in others | {str(first)}}) == 3  # each in a folder of its own
    first.unlink()  # deleted (by the hourly clean-up): drawn again
    again = Path(figures.reliability_png(BINS, None, "a"))
    assert again.is_file() and again != first


def test_old_pngs_are_removed_and_few_are_remembered(monkeypatch):
    old = Path(figures.reliability_png(BINS, None, "old"))
    hour_ago = time.time() - figures.MAX_AGE_S - 10
    os.utime(old, (hour_ago, hour_ago))
    figures.reliability_png(BINS, None, "new")  # drawing a new one cleans up
    assert not old.exists() and not old.parent.exists()
    monkeypatch.setattr(figures, "MAX_KEPT", 1)
    figures.reliability_png(BINS, None, "newer")
    assert len(figures._pngs) == 1
