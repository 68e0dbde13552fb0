"""The Compare tab's figure as a PNG file: drawn once per distinct input, for showing and downloading."""
from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path

from ..plots import plot_runs, save_png

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


def compare_png(runs: list[dict], metric: str, names=None) -> str:
    """Path of a PNG of `inat.plots.plot_runs(runs, metric, names)`.

    Each file sits in its own folder, named `inat-runs-METRIC.png`, so two users never overwrite each
    other's download.
    """
    key = hashlib.sha1(json.dumps([metric, sorted(names) if names is not None else None, runs],
                                  sort_keys=True, default=str).encode()).hexdigest()
    with _lock:
        path = _pngs.get(key)
    if path and Path(path).is_file():
        return path
    path = str(save_png(plot_runs(runs, metric, names), _new_folder() / f"inat-runs-{metric}.png"))
    with _lock:
        _pngs[key] = path
        while len(_pngs) > MAX_KEPT:
            _pngs.popitem(last=False)
    return path
