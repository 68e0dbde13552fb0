"""The project's folders, in one place: `assets/` (what ships with the code: taxonomy files, calibrations,
gates, the router, example photos) and the default `weights/` and `runs/` folders, all beside the `inat`
package in the repository (an editable install, `pip install -e .`, keeps them there)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
WEIGHTS = ROOT / "weights"   # $INAT_WEIGHTS overrides it (inat.models.registry.weights_dir)
RUNS = ROOT / "runs"         # $INAT_RUNS overrides it (inat.training.runs.runs_dir)
