"""The app's matplotlib figures as PNG files (the About tab's reliability diagram): drawn once per distinct input.

The Compare tab draws its curves in the browser (gr.LinePlot), so they fit any screen; a reliability
diagram is a fixed figure, drawn here at the size it is shown.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path

from ..training.plots import plot_reliability, save_png

MAX_KEPT = 64        # PNGs remembered (older ones are drawn again when asked for)
MAX_AGE_S = 3600     # PNG files older than this are deleted from the temp folder

_folder: Path | None = None
_pngs: OrderedDict[str, str] = OrderedDict()   # drawing inputs → PNG path
_lock = threading.Lock()


def _new_folder() -> Path:
    """A fresh sub-folder of this process's temp folder; PNGs older than MAX_AGE_S are removed."""
    global _folder
    if _folder is None or not _folder.is_dir():
        _folder = Path(tempfile.mkdtemp(prefix="inat-app-plots-"))
    cutoff = time.time() - MAX_AGE_S
    for old in _folder.glob("*/*.png"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
            try:
                old.parent.rmdir()
            except OSError:
                pass
    return Path(tempfile.mkdtemp(dir=_folder))


def reliability_png(bins: list[dict], before: list[dict] | None, title: str) -> str:
    """Path of a PNG of `inat.training.plots.plot_reliability(bins, before, title=title)`.

    Each file sits in its own folder, so two users never overwrite each other's file."""
    key = hashlib.sha1(json.dumps([bins, before, title], sort_keys=True, default=str).encode()).hexdigest()
    with _lock:
        path = _pngs.get(key)
    if path and Path(path).is_file():
        return path
    # Small in inches, many pixels: its text stays readable when a phone shrinks it to 330 px.
    fig = plot_reliability(bins, before, title=title, width=4.4, height=3.8)
    path = str(save_png(fig, _new_folder() / "reliability.png", dpi=150))
    with _lock:
        _pngs[key] = path
        while len(_pngs) > MAX_KEPT:
            _pngs.popitem(last=False)
    return path
